/// Mean of all elements, or along one axis (which is removed).
///
/// y = (1/n) Σᵢ xᵢ;  ∂y/∂xᵢ = 1/n;  x̄ = ȳ / n broadcast back to the shape of x.
/// A primitive rather than sum·(1/n) so that the drawing shows one node for one idea.
///
/// The sum can overflow where the mean does not (four Floats of 3e38 sum to ∞, their mean is
/// 3e38): an element whose Σx is ±∞ or NaN is formed again as Σ(x · (1/n)) — kept when that
/// is finite, so a mean of finite values is finite; ∞ and NaN inputs still give ∞ or NaN.
/// Every other element is Σx · (1/n) as before, bit for bit.
public struct Mean: CatalogedOperation {
  /// The axis averaged over; `nil` averages everything into a rank-0 tensor.
  public let axis: Int?
  public var name: String { axis.map { "mean(axis: \($0))" } ?? "mean" }
  public init(axis: Int? = nil) { self.axis = axis }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try reducedShape(operands[0], op: name, axis: axis)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    let n = axis.map { x.shape[$0] } ?? x.count
    let factor = 1 / Scalar(n)
    var mean = (axis.map { x.sum(alongAxis: $0) } ?? x.sum()) * factor
    if !mean.isFinite {  // Σx overflowed, or an input is ±∞ or NaN
      let scaled = x * factor
      let rescued = axis.map { scaled.sum(alongAxis: $0) } ?? scaled.sum()
      mean.withUnsafeMutableBufferPointer { m in
        for i in m.indices where !m[i].isFinite && rescued.scalars[i].isFinite {
          m[i] = rescued.scalars[i]
        }
      }
    }
    return mean
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0]
    let n = axis.map { x.shape[$0] } ?? x.count
    return [expandReduced(gradient, to: x.shape, axis: axis) * (1 / Scalar(n))]
  }

  /// x̄ = (ȳ broadcast back over the averaged axis) · 1/n.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    let n = axis.map { inputs[0].shape[$0] } ?? inputs[0].shape.reduce(1, *)
    return [expandedReduction(gradient, to: inputs[0].shape, axis: axis) * (1 / Scalar(n))]
  }

  /// ẏ = (1/n) Σᵢ ẋᵢ (along the axis): the op is linear, so its JVP is the op applied to the
  /// tangent (with the forward pass's guard against an overflowing sum).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0]) } ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1/n"
  }

  public static let checks = [
    OperationCheck("all of [3, 4]", [[3, 4]]) { _, x in x[0].mean() },
    OperationCheck("axis 0 of [3, 4]", [[3, 4]]) { _, x in x[0].mean(alongAxis: 0) },
    OperationCheck("axis 1 of [3, 4]", [[3, 4]]) { _, x in x[0].mean(alongAxis: 1) },
  ]
}

extension Node {
  /// The mean of all elements, as a rank-0 node.
  public func mean() -> Node { graph.apply(Mean(), [self]) }
  /// The mean along `axis` (negative counts from the end), which is removed.
  public func mean(alongAxis axis: Int) -> Node {
    graph.apply(Mean(axis: normalizedAxis(axis, rank: shape.count)), [self])
  }
}
