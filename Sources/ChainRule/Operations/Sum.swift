/// Sum of all elements, or over one or several axes (removed, as in NumPy and PyTorch, unless
/// `keepingDimension` keeps each with length 1: PyTorch's `keepdim=True`).
///
/// y = Σᵢ xᵢ (over the reduced axes);  ∂y/∂xᵢ = 1;  x̄ = ȳ broadcast back to the shape of x.
/// Numerics: summed in order, one axis after another (error ≤ (n − 1)·ε·Σ|xᵢ|); a sum beyond
/// the range is ±∞, as it is mathematically; the VJP copies ȳ exactly.
public struct Sum: CatalogedOperation {
  /// The axes summed over (negative counts from the end); `nil` sums everything.
  public let axes: [Int]?
  /// Whether each reduced axis is kept with length 1 (a `nil` `axes` then gives all ones).
  public let keepingDimension: Bool
  public var name: String { reductionName("sum", axes: axes, keepingDimension: keepingDimension) }
  /// Sums along `axis`, or everything when `axis` is nil.
  public init(axis: Int? = nil, keepingDimension: Bool = false) {
    self.init(axes: axis.map { [$0] }, keepingDimension: keepingDimension)
  }
  /// Sums over `axes` (all when nil).
  public init(axes: [Int]?, keepingDimension: Bool = false) {
    self.axes = axes
    self.keepingDimension = keepingDimension
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try reducedShape(operands[0], op: name, axes: axes, keepingDimension: keepingDimension)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].sum(alongAxes: axes, keepingDimension: keepingDimension)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [expandReduced(gradient, to: inputs[0].shape, axes: axes)]
  }

  /// x̄ = ȳ broadcast back over the summed axes (`BroadcastTo`).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? expandedReduction(gradient, to: inputs[0].shape, axes: axes) : nil]
  }

  /// ẏ = Σᵢ ẋᵢ (over the axes): the op is linear, so its JVP is the op applied to the tangent.
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
    OperationCheck("axes [0, 2] of [2, 3, 2]", [[2, 3, 2]]) { _, x in
      x[0].sum(alongAxes: [0, 2])
    },
    OperationCheck("axes [−1, 1] of [2, 3, 2], kept", [[2, 3, 2]]) { _, x in
      x[0].sum(alongAxes: [-1, 1], keepingDimension: true)
    },
    OperationCheck("axis 1 of [3, 4], kept", [[3, 4]]) { _, x in
      x[0].sum(alongAxis: 1, keepingDimension: true)
    },
  ]
}

/// A reduction's name: `sum`, `sum(axis: 1)`, `sum(axes: [0, 2], kept)`.
func reductionName(_ base: String, axes: [Int]?, keepingDimension: Bool) -> String {
  let kept = keepingDimension ? ", kept" : ""
  guard let axes else { return keepingDimension ? "\(base)(kept)" : base }
  return axes.count == 1 ? "\(base)(axis: \(axes[0])\(kept))" : "\(base)(axes: \(axes)\(kept))"
}

/// The reduced axes resolved against `rank`: every axis when `axes` is nil, negative ones
/// counted from the end, in increasing order. - Precondition: valid (see `reducedShape`).
func resolvedAxes(_ axes: [Int]?, rank: Int) -> [Int] {
  guard let axes else { return Array(0..<rank) }
  return axes.map { normalizedAxis($0, rank: rank) }.sorted()
}

/// The shape left after reducing `axes` of `operand` (everything when nil): removed, or kept
/// with length 1.
func reducedShape(
  _ operand: ShapeError.Operand, op: String, axes: [Int]?, keepingDimension: Bool = false
) throws(ShapeError) -> [Int] {
  let rank = operand.shape.count
  for axis in axes ?? [] where normalizedAxis(axis, rank: rank) < 0 || axis >= rank {
    throw ShapeError.invalid(op: op, operand, "has no axis \(axis)")
  }
  let resolved = resolvedAxes(axes, rank: rank)
  guard Set(resolved).count == resolved.count else {
    throw ShapeError.invalid(op: op, operand, "cannot reduce axes \(axes ?? []): one repeats")
  }
  return reducedShape(operand.shape, axes: resolved, keepingDimension: keepingDimension)
}

/// `shape` with the (resolved) `axes` removed, or set to 1 when `keepingDimension`.
func reducedShape(_ shape: [Int], axes: [Int], keepingDimension: Bool) -> [Int] {
  var result = shape
  for axis in axes.reversed() {
    if keepingDimension { result[axis] = 1 } else { result.remove(at: axis) }
  }
  return result
}

/// Broadcasts the gradient of a reduction back over the reduced axes.
func expandReduced<Scalar>(_ gradient: Tensor<Scalar>, to shape: [Int], axes: [Int]?) -> Tensor<
  Scalar
> {
  guard axes != nil || gradient.count != 1 else {
    return Tensor(shape: shape, repeating: gradient.scalars[0])
  }
  let kept = reducedShape(
    shape, axes: resolvedAxes(axes, rank: shape.count), keepingDimension: true)
  return gradient.reshaped(kept).broadcasted(to: shape)
}

/// `expandReduced` as nodes: the gradient of a reduction broadcast back over the reduced axes.
func expandedReduction<Scalar>(_ gradient: Node<Scalar>, to shape: [Int], axes: [Int]?) -> Node<
  Scalar
> {
  guard axes != nil || gradient.shape.count != 0 else { return gradient.broadcasted(to: shape) }
  let kept = reducedShape(
    shape, axes: resolvedAxes(axes, rank: shape.count), keepingDimension: true)
  return (gradient.shape == kept ? gradient : gradient.reshaped(kept)).broadcasted(to: shape)
}

/// A NumPy-style axis (negative counts from the end) as a non-negative one.
func normalizedAxis(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }

extension Node {
  /// The sum of all elements, as a rank-0 node.
  public func sum() -> Node { graph.apply(Sum(), [self]) }
  /// The sum along `axis` (negative counts from the end), which is removed unless
  /// `keepingDimension` keeps it with length 1.
  public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Node {
    guard let resolved = resolvedAxis(axis) else {
      let name = reductionName("sum", axes: [axis], keepingDimension: keepingDimension)
      return rejected(by: name, noAxisRequirement(axis))
    }
    return graph.apply(Sum(axis: resolved, keepingDimension: keepingDimension), [self])
  }
  /// The sum over several `axes` (negative counts from the end; PyTorch's `sum(dim: (…))`),
  /// each removed unless `keepingDimension` keeps it with length 1.
  public func sum(alongAxes axes: [Int], keepingDimension: Bool = false) -> Node {
    if let problem = reductionAxesProblem(axes) {
      let name = reductionName("sum", axes: axes, keepingDimension: keepingDimension)
      return rejected(by: name, problem)
    }
    return graph.apply(
      Sum(
        axes: axes.map { normalizedAxis($0, rank: shape.count) },
        keepingDimension: keepingDimension),
      [self])
  }
}
