/// Softmax along one axis (the last by default): each slice along it becomes a probability
/// vector (PyTorch's `softmax(dim:)`; a negative axis counts from the end).
///
/// yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m) with m = maxⱼ xⱼ (the shift changes nothing
/// mathematically and keeps every exponent ≤ 0, so nothing overflows);
/// ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ);  VJP: x̄ = y ⊙ (ȳ − Σⱼ ȳⱼ yⱼ), the sum taken per row.
///
/// Numerics: the VJP is PyTorch's and keeps each ȳⱼ yⱼ as one product, so the huge ȳ that
/// `log` hands back for a tiny (even subnormal) yⱼ — ȳ/yⱼ — comes out as ≈ ȳ again: the
/// hand-written −Σ t·log softmax(z) gives softmax(z) − t down to yⱼ = 1.5e-42 in Float.
/// Where a probability underflows to 0 (a logit gap beyond 87 in Float, 745 in Double) its
/// log is −∞ and the loss is already lost; `logSoftmax` and the fused cross-entropies never
/// form that 0.
public struct Softmax: CatalogedOperation {
  /// The axis normalised over, as given: −1 (the default) is the last, whatever the rank.
  public let axis: Int
  public var name: String { axis == -1 ? "softmax" : "softmax(axis: \(axis))" }
  /// Normalises along `axis` (negative counts from the end; default the last).
  public init(axis: Int = -1) { self.axis = axis }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try requireAxis(operands[0], axis, op: name)
    return operands[0].shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    var y = x.scalars
    for slice in AxisSlices(x.shape, axis: axis) {
      let (m, logSum) = shiftedLogSumExp(
        y, start: slice.start, width: slice.width, stride: slice.stride)
      for i in slice.offsets { y[i] = Scalar.exp((y[i] - m) - logSum) }
    }
    return Tensor(shape: x.shape, scalars: y)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (y, g) = (output.scalars, gradient.scalars)
    var result = [Scalar](repeating: 0, count: y.count)
    for slice in AxisSlices(output.shape, axis: axis) {
      var dot: Scalar = 0
      for i in slice.offsets { dot += g[i] * y[i] }
      for i in slice.offsets { result[i] = y[i] * (g[i] - dot) }
    }
    return [Tensor(shape: output.shape, scalars: result)]
  }

  /// x̄ = y ⊙ (ȳ − Σⱼ ȳⱼ yⱼ), the sum per slice along the axis, with y the output node.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    let dot = (gradient * output).sum(alongAxis: axis, keepingDimension: true)
    return [output * (gradient - dot)]
  }

  /// ẏ = y ⊙ (ẋ − Σⱼ yⱼ ẋⱼ) per row: Jẋ with J = diag(y) − y yᵀ, the transpose of the VJP's
  /// y ⊙ (ȳ − Σⱼ ȳⱼ yⱼ) (J is symmetric), formed the same way.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let (y, t) = (output.scalars, tangent.scalars)
    var result = [Scalar](repeating: 0, count: y.count)
    for slice in AxisSlices(output.shape, axis: axis) {
      var dot: Scalar = 0
      for i in slice.offsets { dot += t[i] * y[i] }
      for i in slice.offsets { result[i] = y[i] * (t[i] - dot) }
    }
    return Tensor(shape: output.shape, scalars: result)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "\(output)ᵢ(δᵢⱼ − \(output)ⱼ)"
  }

  public static let checks = [
    OperationCheck("rows of [3, 4]", [[3, 4]]) { _, x in x[0].softmax() },
    OperationCheck("vector [5]", [[5]]) { _, x in x[0].softmax() },
    OperationCheck("last axis of [2, 2, 3]", [[2, 2, 3]]) { _, x in x[0].softmax() },
    OperationCheck("axis 0 of [3, 4]", [[3, 4]]) { _, x in x[0].softmax(alongAxis: 0) },
    OperationCheck("axis 1 of [2, 3, 2]", [[2, 3, 2]]) { _, x in x[0].softmax(alongAxis: 1) },
    OperationCheck("axis −3 of [2, 2, 3]", [[2, 2, 3]]) { _, x in x[0].softmax(alongAxis: -3) },
  ]
}

/// The slice maximum m and log Σⱼ e^(xⱼ − m) over the `width` elements `x[start + j·stride]`
/// (`stride` 1: a row); callers form (xᵢ − m) − log Σ, never xᵢ − (m + log Σ), which would
/// lose the digits of log Σ when |m| is large.
func shiftedLogSumExp<Scalar: TensorScalar>(
  _ x: [Scalar], start: Int, width: Int, stride: Int = 1
) -> (max: Scalar, logSum: Scalar) {
  if stride == 1 {  // a row: the plain loops of the training path
    var m = x[start]
    for i in start..<start + width { m = max(m, x[i]) }
    var sum: Scalar = 0
    for i in start..<start + width { sum += Scalar.exp(x[i] - m) }
    return (m, Scalar.log(sum))
  }
  let end = start + width * stride
  var m = x[start]
  for i in Swift.stride(from: start, to: end, by: stride) { m = max(m, x[i]) }
  var sum: Scalar = 0
  for i in Swift.stride(from: start, to: end, by: stride) { sum += Scalar.exp(x[i] - m) }
  return (m, Scalar.log(sum))
}

/// The slices of a tensor of `shape` along `axis` (negative counts from the end): one per
/// position of the other axes, each `width` elements `stride` apart from `start`. For the
/// last axis the slices are the rows, in order.
struct AxisSlices: Sequence, IteratorProtocol {
  /// One slice: the flat offsets `start`, `start + stride`, … (`width` of them).
  struct Slice {
    var start: Int
    var width: Int
    var stride: Int
    var offsets: StrideTo<Int> { Swift.stride(from: start, to: start + width * stride, by: stride) }
  }
  private let outer: Int
  private let width: Int
  private let inner: Int
  private var index = 0

  init(_ shape: [Int], axis: Int) {
    let layout = layoutAroundAxis(shape, axis: normalizedAxis(axis, rank: shape.count))
    (outer, width, inner) = (layout.outer, layout.length, layout.inner)
  }

  mutating func next() -> Slice? {
    guard index < outer * inner else { return nil }
    defer { index += 1 }
    let (o, j) = index.quotientAndRemainder(dividingBy: inner)
    return Slice(start: o * width * inner + j, width: width, stride: inner)
  }
}

/// Checks that an op working along `axis` (negative counts from the end) has it, of non-zero
/// length.
func requireAxis(_ operand: ShapeError.Operand, _ axis: Int, op: String) throws(ShapeError) {
  let rank = operand.shape.count
  let resolved = normalizedAxis(axis, rank: rank)
  guard resolved >= 0 && resolved < rank else {
    throw ShapeError.invalid(
      op: op, operand, rank == 0 ? "has no axis \(axis) (rank 0)" : "has no axis \(axis)")
  }
  guard operand.shape[resolved] > 0 else {
    throw ShapeError.invalid(op: op, operand, "is empty along axis \(axis)")
  }
}

extension Node {
  /// Softmax along `axis` (default the last; negative counts from the end, as in PyTorch's
  /// `softmax(dim:)`): e^(xᵢ − max) / Σⱼ e^(xⱼ − max) over each slice along the axis.
  public func softmax(alongAxis axis: Int = -1) -> Node { graph.apply(Softmax(axis: axis), [self]) }
}
