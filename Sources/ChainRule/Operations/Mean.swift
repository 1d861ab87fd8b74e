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
  /// Over `axis`, or over every element when `axis` is nil.
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
