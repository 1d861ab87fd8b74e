/// In-place loops behind the element-wise ops' allocation-free `forward(_:into:)` and
/// `accumulateVJP`. They are generic and always inlined, so that an op which calls them from
/// a method specialised for `Float` and `Double` gets a tight loop over raw buffers with its
/// own scalar rule inlined — no closure, no witness-table call per element.

extension UnaryElementwise {
  /// y = f(x), element by element, into the storage of `output`.
  @inline(__always)
  func forwardElementwise<Scalar: TensorScalar>(
    _ input: Tensor<Scalar>, into output: inout Tensor<Scalar>
  ) {
    input.scalars.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        for i in 0..<x.count { y[i] = apply(x[i]) }
      }
    }
  }

  /// x̄ += ȳ · f'(x, y), element by element, into the storage of `inputGradient`.
  @inline(__always)
  func accumulateElementwise<Scalar: TensorScalar>(
    _ input: Tensor<Scalar>, output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into inputGradient: inout Tensor<Scalar>
  ) {
    input.scalars.withUnsafeBufferPointer { x in
      output.scalars.withUnsafeBufferPointer { y in
        gradient.scalars.withUnsafeBufferPointer { g in
          inputGradient.withUnsafeMutableBufferPointer { dx in
            for i in 0..<x.count { dx[i] += g[i] * derivative(x: x[i], y: y[i]) }
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

extension BinaryElementwise {
  /// y = f(a, b) with broadcasting, into the storage of `output`; `false` when a layout is
  /// not one `BroadcastLayout` covers (the caller then takes the general path).
  @inline(__always)
  func forwardBroadcasting<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) -> Bool {
    guard let layoutA = BroadcastLayout(inputs[0].shape, in: output.shape),
      let layoutB = BroadcastLayout(inputs[1].shape, in: output.shape)
    else { return false }
    inputs[0].scalars.withUnsafeBufferPointer { a in
      inputs[1].scalars.withUnsafeBufferPointer { b in
        output.withUnsafeMutableBufferPointer { y in
          if case .full = layoutA, case .full = layoutB {
            for i in 0..<y.count { y[i] = apply(a[i], b[i]) }
          } else {
            for i in 0..<y.count { y[i] = apply(a[layoutA.index(i)], b[layoutB.index(i)]) }
          }
        }
      }
    }
    return true
  }

  /// ā += ȳ · ∂y/∂a and b̄ += ȳ · ∂y/∂b (for the operands that need it), summing over
  /// broadcast elements as it goes; `false` when a layout is not covered.
  @inline(__always)
  func accumulateBroadcasting<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) -> Bool {
    guard let layoutA = BroadcastLayout(inputs[0].shape, in: output.shape),
      let layoutB = BroadcastLayout(inputs[1].shape, in: output.shape)
    else { return false }
    inputs[0].scalars.withUnsafeBufferPointer { a in
      inputs[1].scalars.withUnsafeBufferPointer { b in
        output.scalars.withUnsafeBufferPointer { y in
          gradient.scalars.withUnsafeBufferPointer { g in
            for slot in 0..<2 where needs[slot] {
              let layout = slot == 0 ? layoutA : layoutB
              gradients[slot].withUnsafeMutableBufferPointer { d in
                for i in 0..<y.count {
                  let (ia, ib) = (layoutA.index(i), layoutB.index(i))
                  let (da, db) = partials(a[ia], b[ib], y: y[i])
                  d[layout.index(i)] += g[i] * (slot == 0 ? da : db)
                }
              }
            }
          }
        }
      }
    }
    return true
  }
}
