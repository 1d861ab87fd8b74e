/// Sum of all elements, or along one axis (which is removed, as in NumPy).
///
/// y = Σᵢ xᵢ;  ∂y/∂xᵢ = 1;  x̄ = ȳ broadcast back to the shape of x.
/// Numerics: summed in order (error ≤ (n − 1)·ε·Σ|xᵢ|); a sum beyond the range is ±∞, as
/// it is mathematically; the VJP copies ȳ exactly.
public struct Sum: CatalogedOperation {
  /// The axis summed over; `nil` sums everything into a rank-0 tensor.
  public let axis: Int?
  public var name: String { axis.map { "sum(axis: \($0))" } ?? "sum" }
  public init(axis: Int? = nil) { self.axis = axis }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try reducedShape(operands[0], op: name, axis: axis)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    axis.map { inputs[0].sum(alongAxis: $0) } ?? inputs[0].sum()
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [expandReduced(gradient, to: inputs[0].shape, axis: axis)]
  }

  /// x̄ = ȳ broadcast back over the summed axis (`BroadcastTo`).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? expandedReduction(gradient, to: inputs[0].shape, axis: axis) : nil]
  }

  /// ẏ = Σᵢ ẋᵢ (along the axis): the op is linear, so its JVP is the op applied to the tangent.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0]) } ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "1" }

  public static let checks = [
    OperationCheck("all of [3, 4]", [[3, 4]]) { _, x in x[0].sum() },
    OperationCheck("axis 0 of [3, 4]", [[3, 4]]) { _, x in x[0].sum(alongAxis: 0) },
    OperationCheck("axis 1 of [3, 4]", [[3, 4]]) { _, x in x[0].sum(alongAxis: 1) },
    OperationCheck("axis -1 of [2, 3, 2]", [[2, 3, 2]]) { _, x in x[0].sum(alongAxis: -1) },
  ]
}

/// The shape left after reducing `axis` of `operand` (everything when `axis` is nil).
func reducedShape(_ operand: ShapeError.Operand, op: String, axis: Int?) throws(ShapeError) -> [Int]
{
  guard let axis else { return [] }
  guard axis >= 0 && axis < operand.shape.count else {
    throw ShapeError.invalid(op: op, operand, "has no axis \(axis)")
  }
  var shape = operand.shape
  shape.remove(at: axis)
  return shape
}

/// Broadcasts the gradient of a reduction back over the reduced axis.
func expandReduced<Scalar>(_ gradient: Tensor<Scalar>, to shape: [Int], axis: Int?) -> Tensor<
  Scalar
> {
  guard let axis else { return Tensor(shape: shape, repeating: gradient.scalar) }
  var kept = shape
  kept[axis] = 1
  return gradient.reshaped(kept).broadcasted(to: shape)
}

/// `expandReduced` as nodes: the gradient of a reduction broadcast back over the reduced axis.
func expandedReduction<Scalar>(_ gradient: Node<Scalar>, to shape: [Int], axis: Int?) -> Node<
  Scalar
> {
  guard let axis else { return gradient.broadcasted(to: shape) }
  var kept = shape
  kept[axis] = 1
  return gradient.reshaped(kept).broadcasted(to: shape)
}

/// A NumPy-style axis (negative counts from the end) as a non-negative one.
func normalizedAxis(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }

extension Node {
  /// The sum of all elements, as a rank-0 node.
  public func sum() -> Node { graph.apply(Sum(), [self]) }
  /// The sum along `axis` (negative counts from the end), which is removed.
  public func sum(alongAxis axis: Int) -> Node {
    graph.apply(Sum(axis: normalizedAxis(axis, rank: shape.count)), [self])
  }
}
