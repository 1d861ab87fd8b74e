/// Two-dimensional max pooling (PyTorch's `max_pool2d`), NCHW, with kernel, stride and
/// padding.
///
/// x: [N, C, H, W], y: [N, C, OH, OW] with `OH = ⌊(H + 2·padH − kH) / strideH⌋ + 1` (OW
/// likewise; no ceil mode, no dilation): `y[n, c, i, j] = max x[n, c, window(i, j)]`, the
/// window rows `i·sH − pH ..< i·sH − pH + kH` (columns likewise). Padding is −∞, as in
/// PyTorch, so it never wins; the padding must be at most half the kernel (PyTorch's rule),
/// which keeps every window on at least one pixel.
///
/// ∂y[q]/∂x[p] = 1 where p is the argmax of window q, else 0; so `x̄[p] = Σ_{q: argmax q = p} ȳ[q]`
/// (overlapping windows that pick one pixel add up) and the JVP is `ẏ[q] = ẋ[argmax q]`.
/// Ties: the argmax is the FIRST maximum in the window in row-major order, as PyTorch's CPU
/// kernel (it replaces the running maximum only on a strictly greater value); a NaN in the
/// window is the maximum (the first NaN), so NaN propagates as in PyTorch. At a tie the
/// function has no derivative; the gradient goes wholly to the first maximum.
public struct MaxPool2D: CatalogedOperation {
  /// kH × kW of the window.
  public let kernelSize: Size2D
  /// Steps between windows (PyTorch's default: the kernel size, windows that do not overlap).
  public let stride: Size2D
  /// −∞ rows and columns added on each side.
  public let padding: Size2D

  public var name: String { MaxPool2D.name(kernelSize, stride, padding) }

  /// `maxPool2d(kernel: 2)`, with the stride when it is not the kernel and any padding.
  static func name(_ kernelSize: Size2D, _ stride: Size2D, _ padding: Size2D) -> String {
    var options = ["kernel: \(kernelSize)"]
    if stride != kernelSize { options.append("stride: \(stride)") }
    if padding != 0 { options.append("padding: \(padding)") }
    return "maxPool2d(" + options.joined(separator: ", ") + ")"
  }

  /// Max pooling over windows of `kernelSize`, `stride` apart (default: `kernelSize`).
  /// - Precondition: kernel and stride at least 1; 0 ≤ padding ≤ kernel / 2 on each axis.
  public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
    let stride = stride ?? kernelSize
    if let problem = MaxPool2D.problem(kernelSize: kernelSize, stride: stride, padding: padding) {
      requirementFailure("maxPool2d: \(problem)")
    }
    (self.kernelSize, self.stride, self.padding) = (kernelSize, stride, padding)
  }

  /// What the initialiser refuses, as a phrase, or `nil` when the settings are valid.
  static func problem(kernelSize: Size2D, stride: Size2D, padding: Size2D) -> String? {
    if let problem = WindowGeometry.problem(
      kernel: kernelSize, stride: stride, padding: padding, dilation: 1)
    {
      return problem
    }
    guard padding.height <= kernelSize.height / 2 && padding.width <= kernelSize.width / 2 else {
      return "padding \(padding) must be at most half the kernel size \(kernelSize)"
    }
    return nil
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let g = try poolingGeometry(op: name, operands[0], kernelSize, stride, padding)
    return [g.batch, g.channels, g.outputHeight, g.outputWidth]
  }

  func geometry(_ shape: [Int]) -> WindowGeometry {
    WindowGeometry(
      input: shape, kernel: kernelSize, stride: stride, padding: padding, dilation: 1)!
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let g = geometry(inputs[0].shape)
    var y = Tensor<Scalar>.zeros([g.batch, g.channels, g.outputHeight, g.outputWidth])
    forward(inputs, into: &y)
    return y
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    inputs[0].scalars.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in geometry(inputs[0].shape).maxima(x, into: y) }
    }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var shares = [Tensor<Scalar>.zeros(inputs[0].shape)]
    accumulateVJP(inputs, output: output, gradient: gradient, into: &shares, needs: [true])
    return shares
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }
    inputs[0].scalars.withUnsafeBufferPointer { x in
      gradient.scalars.withUnsafeBufferPointer { ybar in
        gradients[0].withUnsafeMutableBufferPointer { xbar in
          geometry(inputs[0].shape).scatterAdding(ybar, along: x, into: xbar)
        }
      }
    }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [
      needs[0]
        ? inputs[0].graph.apply(
          MaxPool2DRoute(
            direction: .scatter, kernelSize: kernelSize, stride: stride, padding: padding),
          [inputs[0], gradient]) : nil
    ]
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let dx = tangents[0] else { return Tensor.zeros(output.shape) }
    return MaxPool2DRoute(
      direction: .gather, kernelSize: kernelSize, stride: stride, padding: padding
    ).forward([inputs[0], dx])
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "[\(operands[0]) = argmax of its window]"
  }

  public static let checks = [
    OperationCheck("2×2 windows of [2, 2, 4, 4]", [[2, 2, 4, 4]], domain: .distinct) { _, x in
      x[0].maxPool2d(kernelSize: 2)
    },
    OperationCheck(
      "overlapping 3×3, stride 2, padding 1 on [1, 2, 5, 4]", [[1, 2, 5, 4]], domain: .distinct
    ) { _, x in
      x[0].maxPool2d(kernelSize: 3, stride: 2, padding: 1)
    },
    OperationCheck("2×1 windows, stride 1×2 on [1, 1, 3, 4]", [[1, 1, 3, 4]], domain: .distinct) {
      _, x in
      x[0].maxPool2d(
        kernelSize: Size2D(height: 2, width: 1), stride: Size2D(height: 1, width: 2))
    },
  ]
}

/// The geometry of a pooling of x [N, C, H, W].
/// - Throws: `ShapeError` when x is not rank 4 or smaller than the window.
func poolingGeometry(
  op: String, _ x: ShapeError.Operand, _ kernel: Size2D, _ stride: Size2D, _ padding: Size2D
) throws(ShapeError) -> WindowGeometry {
  guard x.shape.count == 4 else {
    throw ShapeError.invalid(op: op, x, "must be [batch, channels, height, width] (NCHW)")
  }
  guard
    let g = WindowGeometry(
      input: x.shape, kernel: kernel, stride: stride, padding: padding, dilation: 1)
  else {
    throw ShapeError.invalid(
      op: op, x, "is smaller than the window \(kernel) with padding \(padding)")
  }
  return g
}

extension WindowGeometry {
  /// Calls `body(q, p)` for every output element q (flat index into [N, C, OH, OW]) with p,
  /// the flat index into x of its window's first maximum (a NaN counts as the maximum).
  @inline(__always)
  func forEachWindowMaximum<Scalar: TensorScalar>(
    _ x: UnsafeBufferPointer<Scalar>, _ body: (Int, Int) -> Void
  ) {
    if kernel == 2 && stride == 2 && padding == 0 {
      forEachPairMaximum(x, body)
      return
    }
    var q = 0
    for plane in 0..<(batch * channels) {
      let base = plane * height * width
      for i in 0..<outputHeight {
        let top = i * stride.height - padding.height
        let rows = Swift.max(top, 0)..<Swift.min(top + kernel.height, height)
        for j in 0..<outputWidth {
          let left = j * stride.width - padding.width
          let columns = Swift.max(left, 0)..<Swift.min(left + kernel.width, width)
          var best = base + rows.lowerBound * width + columns.lowerBound
          scan: for r in rows {
            for c in columns {
              let p = base + r * width + c
              if x[best].isNaN { break scan }
              if x[p] > x[best] || x[p].isNaN { best = p }
            }
          }
          body(q, best)
          q += 1
        }
      }
    }
  }
}

extension WindowGeometry {
  /// 1 for true, 0 for false, without a branch.
  @inline(__always)
  static func bit(_ value: Bool) -> Int { Int(unsafeBitCast(value, to: UInt8.self)) }

  /// `forEachWindowMaximum` for 2×2 windows, stride 2, no padding (every window inside the
  /// image; an odd last row or column is read by none), by `pairArgmax`.
  @inline(__always)
  func forEachPairMaximum<Scalar: TensorScalar>(
    _ x: UnsafeBufferPointer<Scalar>, _ body: (Int, Int) -> Void
  ) {
    guard let x = x.baseAddress else { return }
    var q = 0
    forEachPairRow { top, _ in
      for j in 0..<outputWidth {
        body(q, Self.pairArgmax(x, first: top + 2 * j, width: width))
        q += 1
      }
    }
  }

  /// Calls `body(top, q)` for each row of 2×2 stride-2 windows: `top`, the flat index into x
  /// of the first window's top-left pixel, and `q`, the flat index of its output.
  @inline(__always)
  func forEachPairRow(_ body: (_ top: Int, _ q: Int) -> Void) {
    guard outputHeight > 0, outputWidth > 0 else { return }
    for plane in 0..<(batch * channels) {
      for i in 0..<outputHeight {
        body((plane * height + 2 * i) * width, (plane * outputHeight + i) * outputWidth)
      }
    }
  }

  /// The flat index of the first maximum of the 2×2 window whose top-left pixel is `first`:
  /// the four taps unrolled, with the rule of the general scan — the first NaN, else the first
  /// maximum in row-major order. A later value v replaces an earlier m exactly when m is not
  /// NaN and `!(v <= m)` (v greater, or v NaN), so the rule can be applied to the two rows and
  /// then to their winners.
  @inline(__always)
  static func pairArgmax<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, first: Int, width: Int
  ) -> Int {
    let (a, b, c, d) = (x[first], x[first + 1], x[first + width], x[first + width + 1])
    // The choices as 0/1 arithmetic, not branches: on real data they are coin flips.
    let right = !(a != a || b <= a)
    let (upper, u) = (first &+ bit(right), right ? b : a)
    let lowerRight = !(c != c || d <= c)
    let (lower, l) = (first &+ width &+ bit(lowerRight), lowerRight ? d : c)
    return upper &+ (lower &- upper) &* bit(!(u != u || l <= u))
  }

  /// Whether the windows are 2×2, stride 2, without padding: the case with vector loops.
  var isPairPooling: Bool { kernel == 2 && stride == 2 && padding == 0 }

  /// y[q] = x[argmax q] for every window q: the max pooling of x [N, C, H, W].
  @inline(__always)
  func maxima<Scalar: TensorScalar>(
    _ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>
  ) {
    if isPairPooling, let source = x.baseAddress, let target = y.baseAddress {
      if Scalar.self == Float.self {
        return pairMaxima(rebound(source, Float.self), rebound(target, Float.self))
      } else if Scalar.self == Double.self {
        return pairMaxima(rebound(source, Double.self), rebound(target, Double.self))
      }
    }
    forEachWindowMaximum(x) { q, p in y[q] = x[p] }
  }

  /// r[argmax q] += v[q] for every window q, in the order of q: max pooling's VJP onto
  /// r [N, C, H, W] for v [N, C, OH, OW], with the routes of x.
  @inline(__always)
  func scatterAdding<Scalar: TensorScalar>(
    _ v: UnsafeBufferPointer<Scalar>, along x: UnsafeBufferPointer<Scalar>,
    into r: UnsafeMutableBufferPointer<Scalar>
  ) {
    if isPairPooling, let x = x.baseAddress, let v = v.baseAddress, let r = r.baseAddress {
      if Scalar.self == Float.self {
        return pairScatter(rebound(x, Float.self), rebound(v, Float.self), rebound(r, Float.self))
      } else if Scalar.self == Double.self {
        return pairScatter(
          rebound(x, Double.self), rebound(v, Double.self), rebound(r, Double.self))
      }
    }
    forEachWindowMaximum(x) { q, p in r[p] += v[q] }
  }

  /// `maxima` for 2×2 stride-2 windows in a concrete scalar type S (Scalar is S): 4 windows
  /// at a time (`S.pairMaxima4`), the last 4 of a row again when its length is not a multiple
  /// of 4 (writing the same values twice), rows shorter than 4 one window at a time.
  @_specialize(where S == Float) @_specialize(where S == Double)
  func pairMaxima<S: PairPoolingScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>) {
    let (outputWidth, width) = (self.outputWidth, self.width)
    forEachPairRow { top, q in
      guard outputWidth >= 4 else {
        for j in 0..<outputWidth {
          y[q + j] = x[Self.pairArgmax(x, first: top + 2 * j, width: width)]
        }
        return
      }
      var j = 0
      while j + 4 <= outputWidth {
        S.pairMaxima4(x + top + 2 * j, width: width, into: y + q + j)
        j += 4
      }
      if j < outputWidth {
        let last = outputWidth - 4
        S.pairMaxima4(x + top + 2 * last, width: width, into: y + q + last)
      }
    }
  }

  /// `scatterAdding` for 2×2 stride-2 windows in a concrete scalar type S (Scalar is S), as
  /// `pairMaxima`; the repeated last step adds only for the windows not done before.
  @_specialize(where S == Float) @_specialize(where S == Double)
  func pairScatter<S: PairPoolingScalar>(
    _ x: UnsafePointer<S>, _ v: UnsafePointer<S>, _ r: UnsafeMutablePointer<S>
  ) {
    let (outputWidth, width) = (self.outputWidth, self.width)
    forEachPairRow { top, q in
      guard outputWidth >= 4 else {
        for j in 0..<outputWidth {
          r[Self.pairArgmax(x, first: top + 2 * j, width: width)] += v[q + j]
        }
        return
      }
      var j = 0
      while j + 4 <= outputWidth {
        S.pairScatter4(x + top + 2 * j, width: width, v + q + j, into: r + top + 2 * j, from: 0)
        j += 4
      }
      if j < outputWidth {
        let last = outputWidth - 4
        S.pairScatter4(
          x + top + 2 * last, width: width, v + q + last, into: r + top + 2 * last,
          from: j - last)
      }
    }
  }
}

/// A scalar type with vector loops for 2×2 stride-2 max pooling, 4 windows at a time (one
/// SSE register of Float, the baseline x86-64 vector width).
///
/// The two conformances, Float and Double, have the same text: Swift's SIMD comparisons
/// compile to vector instructions only on concrete lane types (in generic code, even
/// specialised, they are loops over the lanes), so the bodies cannot be shared.
protocol PairPoolingScalar: TensorScalar {
  /// y[0..<4] = the maxima of the 4 windows side by side whose first top-left pixel is
  /// `top` (rows `width` apart), by `pairArgmax`'s rule: the first NaN, else the first
  /// maximum in row-major order.
  static func pairMaxima4(
    _ top: UnsafePointer<Self>, width: Int, into y: UnsafeMutablePointer<Self>)
  /// r[argmax k] += v[k] for the windows k in `first..<4` of the same 4, r pointing at the
  /// first one's top-left pixel; every other pixel of r keeps its bits (a select, not `+ 0`,
  /// which would turn −0 into +0).
  static func pairScatter4(
    _ top: UnsafePointer<Self>, width: Int, _ v: UnsafePointer<Self>,
    into r: UnsafeMutablePointer<Self>, from first: Int)
}

extension Float: PairPoolingScalar {
  @inline(__always)
  static func pairMaxima4(
    _ top: UnsafePointer<Float>, width: Int, into y: UnsafeMutablePointer<Float>
  ) {
    let upperRow = UnsafeRawPointer(top).loadUnaligned(as: SIMD8<Float>.self)
    let lowerRow = UnsafeRawPointer(top + width).loadUnaligned(as: SIMD8<Float>.self)
    let (a, b) = (upperRow.evenHalf, upperRow.oddHalf)
    let (c, d) = (lowerRow.evenHalf, lowerRow.oddHalf)
    // A later v replaces an earlier m where m == m (not NaN) and !(v <= m).
    let u = a.replacing(with: b, where: (a .== a) .& .!(b .<= a))
    let l = c.replacing(with: d, where: (c .== c) .& .!(d .<= c))
    let best = u.replacing(with: l, where: (u .== u) .& .!(l .<= u))
    UnsafeMutableRawPointer(y).storeBytes(of: best, as: SIMD4<Float>.self)
  }

  @inline(__always)
  static func pairScatter4(
    _ top: UnsafePointer<Float>, width: Int, _ v: UnsafePointer<Float>,
    into r: UnsafeMutablePointer<Float>, from first: Int
  ) {
    let upperRow = UnsafeRawPointer(top).loadUnaligned(as: SIMD8<Float>.self)
    let lowerRow = UnsafeRawPointer(top + width).loadUnaligned(as: SIMD8<Float>.self)
    let (a, b) = (upperRow.evenHalf, upperRow.oddHalf)
    let (c, d) = (lowerRow.evenHalf, lowerRow.oddHalf)
    let right = (a .== a) .& .!(b .<= a)
    let lowerRight = (c .== c) .& .!(d .<= c)
    let u = a.replacing(with: b, where: right)
    let l = c.replacing(with: d, where: lowerRight)
    let lower = (u .== u) .& .!(l .<= u)
    let taken = SIMD4<Int32>(0, 1, 2, 3) .>= SIMD4(repeating: Int32(first))
    let (upper, lowerTaken) = (taken .& .!lower, taken .& lower)
    let g = UnsafeRawPointer(v).loadUnaligned(as: SIMD4<Float>.self)
    // row[2k] += g[k] where window k's winner is the left pixel of this row, row[2k + 1]
    // where it is the right one; the other lanes keep their bits.
    let upperOld = UnsafeRawPointer(r).loadUnaligned(as: SIMD8<Float>.self)
    let (ue, uo) = (upperOld.evenHalf, upperOld.oddHalf)
    UnsafeMutableRawPointer(r).storeBytes(
      of: interleaved(
        ue.replacing(with: ue + g, where: upper .& .!right),
        uo.replacing(with: uo + g, where: upper .& right)),
      as: SIMD8<Float>.self)
    let lowerOld = UnsafeRawPointer(r + width).loadUnaligned(as: SIMD8<Float>.self)
    let (le, lo) = (lowerOld.evenHalf, lowerOld.oddHalf)
    UnsafeMutableRawPointer(r + width).storeBytes(
      of: interleaved(
        le.replacing(with: le + g, where: lowerTaken .& .!lowerRight),
        lo.replacing(with: lo + g, where: lowerTaken .& lowerRight)),
      as: SIMD8<Float>.self)
  }
}

extension Double: PairPoolingScalar {
  @inline(__always)
  static func pairMaxima4(
    _ top: UnsafePointer<Double>, width: Int, into y: UnsafeMutablePointer<Double>
  ) {
    let upperRow = UnsafeRawPointer(top).loadUnaligned(as: SIMD8<Double>.self)
    let lowerRow = UnsafeRawPointer(top + width).loadUnaligned(as: SIMD8<Double>.self)
    let (a, b) = (upperRow.evenHalf, upperRow.oddHalf)
    let (c, d) = (lowerRow.evenHalf, lowerRow.oddHalf)
    // A later v replaces an earlier m where m == m (not NaN) and !(v <= m).
    let u = a.replacing(with: b, where: (a .== a) .& .!(b .<= a))
    let l = c.replacing(with: d, where: (c .== c) .& .!(d .<= c))
    let best = u.replacing(with: l, where: (u .== u) .& .!(l .<= u))
    UnsafeMutableRawPointer(y).storeBytes(of: best, as: SIMD4<Double>.self)
  }

  @inline(__always)
  static func pairScatter4(
    _ top: UnsafePointer<Double>, width: Int, _ v: UnsafePointer<Double>,
    into r: UnsafeMutablePointer<Double>, from first: Int
  ) {
    let upperRow = UnsafeRawPointer(top).loadUnaligned(as: SIMD8<Double>.self)
    let lowerRow = UnsafeRawPointer(top + width).loadUnaligned(as: SIMD8<Double>.self)
    let (a, b) = (upperRow.evenHalf, upperRow.oddHalf)
    let (c, d) = (lowerRow.evenHalf, lowerRow.oddHalf)
    let right = (a .== a) .& .!(b .<= a)
    let lowerRight = (c .== c) .& .!(d .<= c)
    let u = a.replacing(with: b, where: right)
    let l = c.replacing(with: d, where: lowerRight)
    let lower = (u .== u) .& .!(l .<= u)
    let taken = SIMD4<Int64>(0, 1, 2, 3) .>= SIMD4(repeating: Int64(first))
    let (upper, lowerTaken) = (taken .& .!lower, taken .& lower)
    let g = UnsafeRawPointer(v).loadUnaligned(as: SIMD4<Double>.self)
    // row[2k] += g[k] where window k's winner is the left pixel of this row, row[2k + 1]
    // where it is the right one; the other lanes keep their bits.
    let upperOld = UnsafeRawPointer(r).loadUnaligned(as: SIMD8<Double>.self)
    let (ue, uo) = (upperOld.evenHalf, upperOld.oddHalf)
    UnsafeMutableRawPointer(r).storeBytes(
      of: interleaved(
        ue.replacing(with: ue + g, where: upper .& .!right),
        uo.replacing(with: uo + g, where: upper .& right)),
      as: SIMD8<Double>.self)
    let lowerOld = UnsafeRawPointer(r + width).loadUnaligned(as: SIMD8<Double>.self)
    let (le, lo) = (lowerOld.evenHalf, lowerOld.oddHalf)
    UnsafeMutableRawPointer(r + width).storeBytes(
      of: interleaved(
        le.replacing(with: le + g, where: lowerTaken .& .!lowerRight),
        lo.replacing(with: lo + g, where: lowerTaken .& lowerRight)),
      as: SIMD8<Double>.self)
  }
}

/// `p` as a pointer to S, for generic code that has checked that its Scalar is S.
@inline(__always)
func rebound<Scalar, S>(_ p: UnsafePointer<Scalar>, _: S.Type) -> UnsafePointer<S> {
  UnsafeRawPointer(p).assumingMemoryBound(to: S.self)
}

/// `p` as a pointer to S, for generic code that has checked that its Scalar is S.
@inline(__always)
func rebound<Scalar, S>(_ p: UnsafeMutablePointer<Scalar>, _: S.Type) -> UnsafeMutablePointer<S> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: S.self)
}

/// (e[0], o[0], e[1], o[1], …): the inverse of `evenHalf` and `oddHalf`.
@inline(__always)
func interleaved<S: SIMDScalar>(_ e: SIMD4<S>, _ o: SIMD4<S>) -> SIMD8<S> {
  SIMD8(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3])
}

extension Node {
  /// Max pooling of this NCHW node over windows of `kernelSize`, `stride` apart (default:
  /// `kernelSize`) with −∞ `padding`: [N, C, OH, OW]. The gradient goes to the first maximum
  /// of each window.
  public func maxPool2d(
    kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0
  ) -> Node {
    let stride = stride ?? kernelSize
    if let problem = MaxPool2D.problem(kernelSize: kernelSize, stride: stride, padding: padding) {
      return rejected(
        by: MaxPool2D.name(kernelSize, stride, padding), "cannot be pooled: \(problem)")
    }
    return graph.apply(
      MaxPool2D(kernelSize: kernelSize, stride: stride, padding: padding), [self])
  }
}
