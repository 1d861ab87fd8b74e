/// The element-wise ops' allocation-free training path: `forward(_:into:)` and
/// `accumulateVJP` for every `UnaryElementwise` and `BinaryElementwise` op, written once.
///
/// Speed needs the loop compiled for the concrete op *and* scalar type, so that the op's
/// scalar rule is inlined (no witness-table call per element, ~50× faster). `@_specialize`
/// lists those pairs here, in one place: a call with a listed op and scalar jumps to its
/// specialised body at run time. An op missing from the list still works, generically.

extension UnaryElementwise {
  /// y = f(x), element by element, into the storage of `output`.
  @_specialize(where Self == Tanh, Scalar == Float)
  @_specialize(where Self == Tanh, Scalar == Double)
  @_specialize(where Self == Sigmoid, Scalar == Float)
  @_specialize(where Self == Sigmoid, Scalar == Double)
  @_specialize(where Self == ReLU, Scalar == Float)
  @_specialize(where Self == ReLU, Scalar == Double)
  @_specialize(where Self == Exp, Scalar == Float) @_specialize(where Self == Exp, Scalar == Double)
  @_specialize(where Self == Log, Scalar == Float) @_specialize(where Self == Log, Scalar == Double)
  @_specialize(where Self == Square, Scalar == Float)
  @_specialize(where Self == Square, Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    inputs[0].scalars.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        forward(x.baseAddress, into: y.baseAddress, count: x.count)
      }
    }
  }

  /// y = f(x) over `count` elements of raw buffers: the loop of `forward(_:into:)`, shared
  /// with the execution plan (`Graph+Plan`), so both compute the same numbers.
  @inline(__always)
  func forward<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>?, into y: UnsafeMutablePointer<Scalar>?, count: Int
  ) {
    guard count > 0, let x, let y else { return }
    for i in 0..<count { y[i] = apply(x[i]) }
  }

  /// x̄ += ȳ · f'(x, y) over `count` elements of raw buffers: the loop of `accumulateVJP`.
  /// With `overwriting` (x̄ holds nothing yet in this pass, as the execution plan knows), x̄ is
  /// set to ȳ · f'(x, y) + 0 instead, without reading it: the same bits as adding into zeros
  /// (0 + c = c + 0, and adding +0 turns −0 into +0; the compiler keeps x + 0 for floats).
  @inline(__always)
  func accumulateVJP<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>?, output y: UnsafePointer<Scalar>?,
    gradient g: UnsafePointer<Scalar>?, into dx: UnsafeMutablePointer<Scalar>?, count: Int,
    overwriting: Bool = false
  ) {
    guard count > 0, let x, let y, let g, let dx else { return }
    if overwriting {
      for i in 0..<count { dx[i] = inputGradient(x: x[i], y: y[i], gradient: g[i]) + 0 }
    } else {
      for i in 0..<count { dx[i] += inputGradient(x: x[i], y: y[i], gradient: g[i]) }
    }
  }

  /// x̄ += ȳ · f'(x, y) (as `inputGradient` forms it), element by element, into the storage of
  /// the operand's gradient.
  @_specialize(where Self == Tanh, Scalar == Float)
  @_specialize(where Self == Tanh, Scalar == Double)
  @_specialize(where Self == Sigmoid, Scalar == Float)
  @_specialize(where Self == Sigmoid, Scalar == Double)
  @_specialize(where Self == ReLU, Scalar == Float)
  @_specialize(where Self == ReLU, Scalar == Double)
  @_specialize(where Self == Exp, Scalar == Float) @_specialize(where Self == Exp, Scalar == Double)
  @_specialize(where Self == Log, Scalar == Float) @_specialize(where Self == Log, Scalar == Double)
  @_specialize(where Self == Square, Scalar == Float)
  @_specialize(where Self == Square, Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }
    inputs[0].scalars.withUnsafeBufferPointer { x in
      output.scalars.withUnsafeBufferPointer { y in
        gradient.scalars.withUnsafeBufferPointer { g in
          gradients[0].withUnsafeMutableBufferPointer { dx in
            accumulateVJP(
              x.baseAddress, output: y.baseAddress, gradient: g.baseAddress,
              into: dx.baseAddress, count: x.count)
          }
        }
      }
    }
  }
}

/// How an operand's elements line up with the elements of a broadcast result, for the
/// layouts that training meets; anything else takes the general (allocating) path.
enum BroadcastLayout {
  /// Same shape as the result: element i is element i.
  case full
  /// One element, repeated.
  case scalar
  /// A suffix of the result's shape (a bias row [n] or [1, n] on [m, n]): element i mod count.
  case suffix(Int)
  /// A prefix of the result's shape followed by ones (a column [m, 1] on [m, n]):
  /// element i / inner, where inner is the product of the broadcast trailing dimensions.
  case prefix(Int)

  /// The layout of `shape` inside `result`, when it is one of the four.
  init?(_ shape: [Int], in result: [Int]) {
    let count = shape.reduce(1, *)
    let total = result.reduce(1, *)
    let core = shape.drop { $0 == 1 }  // without leading ones
    var head = shape[...]
    while head.last == 1 { head = head.dropLast() }  // without trailing ones
    if shape == result || total == 0 {
      self = .full
    } else if count == 1 {
      self = .scalar
    } else if core.count <= result.count, core.elementsEqual(result.suffix(core.count)) {
      self = .suffix(count)
    } else if shape.count == result.count, result.starts(with: head) {
      self = .prefix(total / count)
    } else {
      return nil
    }
  }

  /// The operand's element count, in a result of `count` > 0 elements.
  func operandCount(in count: Int) -> Int {
    switch self {
    case .full: count
    case .scalar: 1
    case .suffix(let operandCount): operandCount
    case .prefix(let inner): count / inner
    }
  }

  /// The operand element that result element `i` reads.
  @inline(__always)
  func index(_ i: Int) -> Int {
    switch self {
    case .full: i
    case .scalar: 0
    case .suffix(let count): i % count
    case .prefix(let inner): i / inner
    }
  }
}

/// Calls `body(i, ia, ib)` for every result element i with the operand elements it reads,
/// with plain loops (no per-element switch) for the layouts of a bias add or a scaling. The
/// row loops add indices with `&+` (row + j < count cannot overflow): a checked addition's
/// trap is a second exit from the loop, which keeps LLVM from vectorising it.
@inline(__always)
func forEachBroadcastElement(
  count: Int, _ layoutA: BroadcastLayout, _ layoutB: BroadcastLayout,
  _ body: (_ i: Int, _ ia: Int, _ ib: Int) -> Void
) {
  switch (layoutA, layoutB) {
  case (.full, .full):
    for i in 0..<count { body(i, i, i) }
  case (.full, .scalar):
    for i in 0..<count { body(i, i, 0) }
  case (.scalar, .full):
    for i in 0..<count { body(i, 0, i) }
  case (.full, .suffix(let width)):
    for row in stride(from: 0, to: count, by: width) {
      for j in 0..<width { body(row &+ j, row &+ j, j) }
    }
  case (.suffix(let width), .full):
    for row in stride(from: 0, to: count, by: width) {
      for j in 0..<width { body(row &+ j, j, row &+ j) }
    }
  default:
    for i in 0..<count { body(i, layoutA.index(i), layoutB.index(i)) }
  }
}

extension BinaryElementwise {
  /// y = f(a, b) with broadcasting, into the storage of `output`; layouts that
  /// `BroadcastLayout` does not cover take the general (allocating) path.
  @_specialize(where Self == Add, Scalar == Float) @_specialize(where Self == Add, Scalar == Double)
  @_specialize(where Self == Subtract, Scalar == Float)
  @_specialize(where Self == Subtract, Scalar == Double)
  @_specialize(where Self == Multiply, Scalar == Float)
  @_specialize(where Self == Multiply, Scalar == Double)
  @_specialize(where Self == Divide, Scalar == Float)
  @_specialize(where Self == Divide, Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    guard let layoutA = BroadcastLayout(inputs[0].shape, in: output.shape),
      let layoutB = BroadcastLayout(inputs[1].shape, in: output.shape)
    else {
      output = forward(inputs)
      return
    }
    inputs[0].scalars.withUnsafeBufferPointer { a in
      inputs[1].scalars.withUnsafeBufferPointer { b in
        output.withUnsafeMutableBufferPointer { y in
          forward(
            a.baseAddress, layoutA, b.baseAddress, layoutB, into: y.baseAddress, count: y.count)
        }
      }
    }
  }

  /// y = f(a, b) over `count` result elements of raw buffers laid out as `layoutA` and
  /// `layoutB`: the loop of `forward(_:into:)`, shared with the execution plan.
  @inline(__always)
  func forward<Scalar: TensorScalar>(
    _ a: UnsafePointer<Scalar>?, _ layoutA: BroadcastLayout, _ b: UnsafePointer<Scalar>?,
    _ layoutB: BroadcastLayout, into y: UnsafeMutablePointer<Scalar>?, count: Int
  ) {
    guard count > 0, let a, let b, let y else { return }
    forEachBroadcastElement(count: count, layoutA, layoutB) { i, ia, ib in
      y[i] = apply(a[ia], b[ib])
    }
  }

  /// ā += ȳ · ∂y/∂a (when `da` is given) and b̄ += ȳ · ∂y/∂b (when `db` is), summing over
  /// broadcast elements, on raw buffers: the loops of `accumulateVJP`.
  ///
  /// `overwritingA` / `overwritingB` say that ā / b̄ holds nothing yet in this pass (the
  /// execution plan knows): an operand of the result's shape is then set to its share + 0
  /// without being read (the bits of 0 + share: adding +0 turns −0 into +0), and a broadcast
  /// one, which sums several shares, is zeroed first and summed into as before, so that its
  /// order of summation, ((0 + s₀) + s₁) + …, stays the definition's. Needs `count` > 0 (an
  /// empty result writes nothing, so an overwritten operand would keep stale elements).
  @inline(__always)
  func accumulateVJP<Scalar: TensorScalar>(
    _ a: UnsafePointer<Scalar>?, _ layoutA: BroadcastLayout, _ b: UnsafePointer<Scalar>?,
    _ layoutB: BroadcastLayout, output y: UnsafePointer<Scalar>?,
    gradient g: UnsafePointer<Scalar>?, into da: UnsafeMutablePointer<Scalar>?,
    _ db: UnsafeMutablePointer<Scalar>?, count: Int, overwritingA: Bool = false,
    overwritingB: Bool = false
  ) {
    guard count > 0, let a, let b, let y, let g else { return }
    if let da {
      if overwritingA, case .full = layoutA {
        forEachBroadcastElement(count: count, layoutA, layoutB) { i, ia, ib in
          da[ia] = inputGradients(a[ia], b[ib], y: y[i], gradient: g[i]).0 + 0
        }
      } else {
        if overwritingA { da.update(repeating: 0, count: layoutA.operandCount(in: count)) }
        forEachBroadcastElement(count: count, layoutA, layoutB) { i, ia, ib in
          da[ia] += inputGradients(a[ia], b[ib], y: y[i], gradient: g[i]).0
        }
      }
    }
    if let db {
      if overwritingB, case .full = layoutB {
        forEachBroadcastElement(count: count, layoutA, layoutB) { i, ia, ib in
          db[ib] = inputGradients(a[ia], b[ib], y: y[i], gradient: g[i]).1 + 0
        }
      } else {
        if overwritingB { db.update(repeating: 0, count: layoutB.operandCount(in: count)) }
        forEachBroadcastElement(count: count, layoutA, layoutB) { i, ia, ib in
          db[ib] += inputGradients(a[ia], b[ib], y: y[i], gradient: g[i]).1
        }
      }
    }
  }

  /// ā += ȳ · ∂y/∂a and b̄ += ȳ · ∂y/∂b (as `inputGradients` forms them, for the operands
  /// that need it), summing over broadcast elements as it goes; uncovered layouts take the
  /// general path.
  @_specialize(where Self == Add, Scalar == Float) @_specialize(where Self == Add, Scalar == Double)
  @_specialize(where Self == Subtract, Scalar == Float)
  @_specialize(where Self == Subtract, Scalar == Double)
  @_specialize(where Self == Multiply, Scalar == Float)
  @_specialize(where Self == Multiply, Scalar == Double)
  @_specialize(where Self == Divide, Scalar == Float)
  @_specialize(where Self == Divide, Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard let layoutA = BroadcastLayout(inputs[0].shape, in: output.shape),
      let layoutB = BroadcastLayout(inputs[1].shape, in: output.shape)
    else {
      accumulateThroughVJP(
        inputs, output: output, gradient: gradient, into: &gradients, needs: needs)
      return
    }
    inputs[0].scalars.withUnsafeBufferPointer { a in
      inputs[1].scalars.withUnsafeBufferPointer { b in
        output.scalars.withUnsafeBufferPointer { y in
          gradient.scalars.withUnsafeBufferPointer { g in
            // Each operand's buffer is borrowed only when needed (an unneeded slot may hold
            // a placeholder of another shape).
            func run(_ da: UnsafeMutablePointer<Scalar>?, _ db: UnsafeMutablePointer<Scalar>?) {
              accumulateVJP(
                a.baseAddress, layoutA, b.baseAddress, layoutB, output: y.baseAddress,
                gradient: g.baseAddress, into: da, db, count: y.count)
            }
            if needs[0] {
              gradients[0].withUnsafeMutableBufferPointer { da in run(da.baseAddress, nil) }
            }
            if needs[1] {
              gradients[1].withUnsafeMutableBufferPointer { db in run(nil, db.baseAddress) }
            }
          }
        }
      }
    }
  }
}
