/// Softmax along the last axis: each row (last-axis slice) becomes a probability vector.
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
  public var name: String { "softmax" }
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try requireLastAxis(operands[0], op: name)
    return operands[0].shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    var y = x.scalars
    let width = x.shape.last!
    for start in stride(from: 0, to: y.count, by: width) {
      let (m, logSum) = shiftedLogSumExp(y, start: start, width: width)
      for i in start..<start + width { y[i] = Scalar.exp((y[i] - m) - logSum) }
    }
    return Tensor(shape: x.shape, scalars: y)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (y, g) = (output.scalars, gradient.scalars)
    let width = output.shape.last!
    var result = [Scalar](repeating: 0, count: y.count)
    for start in stride(from: 0, to: y.count, by: width) {
      var dot: Scalar = 0
      for i in start..<start + width { dot += g[i] * y[i] }
      for i in start..<start + width { result[i] = y[i] * (g[i] - dot) }
    }
    return [Tensor(shape: output.shape, scalars: result)]
  }

  /// x̄ = y ⊙ (ȳ − Σⱼ ȳⱼ yⱼ), the sum per row, with y the output node.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    let dot = (gradient * output).sum(alongAxis: -1).reshaped(keptLastAxis(output.shape))
    return [output * (gradient - dot)]
  }

  /// ẏ = y ⊙ (ẋ − Σⱼ yⱼ ẋⱼ) per row: Jẋ with J = diag(y) − y yᵀ, the transpose of the VJP's
  /// y ⊙ (ȳ − Σⱼ ȳⱼ yⱼ) (J is symmetric), formed the same way.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let (y, t) = (output.scalars, tangent.scalars)
    let width = output.shape.last!
    var result = [Scalar](repeating: 0, count: y.count)
    for start in stride(from: 0, to: y.count, by: width) {
      var dot: Scalar = 0
      for i in start..<start + width { dot += t[i] * y[i] }
      for i in start..<start + width { result[i] = y[i] * (t[i] - dot) }
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
  ]
}

/// The row maximum m and log Σⱼ e^(xⱼ − m) over `x[start..<start + width]`; callers form
/// (xᵢ − m) − log Σ, never xᵢ − (m + log Σ), which would lose the digits of log Σ when |m|
/// is large.
func shiftedLogSumExp<Scalar: TensorScalar>(
  _ x: [Scalar], start: Int, width: Int
) -> (max: Scalar, logSum: Scalar) {
  var m = x[start]
  for i in start..<start + width { m = max(m, x[i]) }
  var sum: Scalar = 0
  for i in start..<start + width { sum += Scalar.exp(x[i] - m) }
  return (m, Scalar.log(sum))
}

/// `shape` with its last axis of length 1: a per-row sum reshaped to broadcast against its rows.
func keptLastAxis(_ shape: [Int]) -> [Int] { shape.dropLast() + [1] }

/// Checks that an op working along the last axis has one, of non-zero length.
func requireLastAxis(_ operand: ShapeError.Operand, op: String) throws(ShapeError) {
  guard let width = operand.shape.last, width > 0 else {
    throw ShapeError.invalid(op: op, operand, "has no non-empty last axis")
  }
}

extension Node {
  /// Softmax along the last axis: e^(xᵢ − max) / Σⱼ e^(xⱼ − max), row by row.
  public func softmax() -> Node { graph.apply(Softmax(), [self]) }
}
