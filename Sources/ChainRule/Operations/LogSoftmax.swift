/// Log-softmax along the last axis: the log-probabilities of a softmax, computed stably.
///
/// yᵢ = xᵢ − m − log Σⱼ e^(xⱼ − m) with m = maxⱼ xⱼ;  ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ;
/// VJP: x̄ = ȳ − softmax(x) · Σⱼ ȳⱼ (per row), with softmax(x) = e^y.
///
/// Numerics: no exponent is positive, so logits of ±1000 give finite values ((xᵢ − m) is
/// formed before log Σ is subtracted, keeping the digits of both). The VJP is PyTorch's; its
/// difference has an absolute error of about ε·|Σⱼ ȳⱼ|, which is the whole of x̄ where it
/// cancels (a uniform row under ȳ = 1).
public struct LogSoftmax: CatalogedOperation {
  public var name: String { "logSoftmax" }
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
      for i in start..<start + width { y[i] = (y[i] - m) - logSum }
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
      var total: Scalar = 0
      for i in start..<start + width { total += g[i] }
      for i in start..<start + width { result[i] = g[i] - Scalar.exp(y[i]) * total }
    }
    return [Tensor(shape: output.shape, scalars: result)]
  }

  /// x̄ = ȳ − e^y · Σⱼ ȳⱼ, the sum per row, with y the output node.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    let total = gradient.sum(alongAxis: -1).reshaped(keptLastAxis(output.shape))
    return [gradient - output.exp() * total]
  }

  /// ẏ = ẋ − Σⱼ softmax(x)ⱼ ẋⱼ per row, with softmax(x) = e^y: J = I − 1·softmaxᵀ applied
  /// to ẋ (the VJP applies Jᵀ = I − softmax·1ᵀ).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let (y, t) = (output.scalars, tangent.scalars)
    let width = output.shape.last!
    var result = [Scalar](repeating: 0, count: y.count)
    for start in stride(from: 0, to: y.count, by: width) {
      var mean: Scalar = 0
      for i in start..<start + width { mean += Scalar.exp(y[i]) * t[i] }
      for i in start..<start + width { result[i] = t[i] - mean }
    }
    return Tensor(shape: output.shape, scalars: result)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "δᵢⱼ − softmax(\(operands[0]))ⱼ"
  }

  public static let checks = [
    OperationCheck("rows of [3, 4]", [[3, 4]]) { _, x in x[0].logSoftmax() },
    OperationCheck("last axis of [2, 2, 3]", [[2, 2, 3]]) { _, x in x[0].logSoftmax() },
  ]
}

extension Node {
  /// Log-softmax along the last axis: x − max − log Σ e^(x − max), row by row.
  public func logSoftmax() -> Node { graph.apply(LogSoftmax(), [self]) }
}
