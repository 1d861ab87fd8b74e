/// Log-softmax along one axis (the last by default; negative counts from the end, as in
/// PyTorch's `log_softmax(dim:)`): the log-probabilities of a softmax, computed stably.
///
/// yᵢ = xᵢ − m − log Σⱼ e^(xⱼ − m) with m = maxⱼ xⱼ;  ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ;
/// VJP: x̄ = ȳ − softmax(x) · Σⱼ ȳⱼ (per slice along the axis), with softmax(x) = e^y.
///
/// Numerics: no exponent is positive, so logits of ±1000 give finite values ((xᵢ − m) is
/// formed before log Σ is subtracted, keeping the digits of both). The VJP is PyTorch's; its
/// difference has an absolute error of about ε·|Σⱼ ȳⱼ|, which is the whole of x̄ where it
/// cancels (a uniform row under ȳ = 1).
public struct LogSoftmax: CatalogedOperation {
  /// The axis normalised over, as given: −1 (the default) is the last, whatever the rank.
  public let axis: Int
  public var name: String { axis == -1 ? "logSoftmax" : "logSoftmax(axis: \(axis))" }
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
      for i in slice.offsets { y[i] = (y[i] - m) - logSum }
    }
    return Tensor(shape: x.shape, scalars: y)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (y, g) = (output.scalars, gradient.scalars)
    var result = [Scalar](repeating: 0, count: y.count)
    for slice in AxisSlices(output.shape, axis: axis) {
      var total: Scalar = 0
      for i in slice.offsets { total += g[i] }
      for i in slice.offsets { result[i] = g[i] - Scalar.exp(y[i]) * total }
    }
    return [Tensor(shape: output.shape, scalars: result)]
  }

  /// x̄ = ȳ − e^y · Σⱼ ȳⱼ, the sum per slice along the axis, with y the output node.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    let total = gradient.sum(alongAxis: axis, keepingDimension: true)
    return [gradient - output.exp() * total]
  }

  /// ẏ = ẋ − Σⱼ softmax(x)ⱼ ẋⱼ per row, with softmax(x) = e^y: J = I − 1·softmaxᵀ applied
  /// to ẋ (the VJP applies Jᵀ = I − softmax·1ᵀ).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let (y, t) = (output.scalars, tangent.scalars)
    var result = [Scalar](repeating: 0, count: y.count)
    for slice in AxisSlices(output.shape, axis: axis) {
      var mean: Scalar = 0
      for i in slice.offsets { mean += Scalar.exp(y[i]) * t[i] }
      for i in slice.offsets { result[i] = t[i] - mean }
    }
    return Tensor(shape: output.shape, scalars: result)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "δᵢⱼ − softmax(\(operands[0]))ⱼ"
  }

  public static let checks = [
    OperationCheck("rows of [3, 4]", [[3, 4]]) { _, x in x[0].logSoftmax() },
    OperationCheck("last axis of [2, 2, 3]", [[2, 2, 3]]) { _, x in x[0].logSoftmax() },
    OperationCheck("axis 0 of [3, 4]", [[3, 4]]) { _, x in x[0].logSoftmax(alongAxis: 0) },
    OperationCheck("axis −2 of [2, 3, 2]", [[2, 3, 2]]) { _, x in
      x[0].logSoftmax(alongAxis: -2)
    },
  ]
}

extension Node {
  /// Log-softmax along `axis` (default the last; negative counts from the end, as in
  /// PyTorch's `log_softmax(dim:)`): x − max − log Σ e^(x − max) over each slice.
  public func logSoftmax(alongAxis axis: Int = -1) -> Node {
    graph.apply(LogSoftmax(axis: axis), [self])
  }
}
