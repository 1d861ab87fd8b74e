// Bad arguments that only a node-building method can see (an axis given as -5, a stride of 0,
// an index past the table) are reported like a shape mismatch: they stop the program with a
// message naming the op, the argument and the operands' shapes, except inside
// `throwingShapeErrors`, where the scope throws that message as a `ShapeError`. The methods
// check before they build, and hand a failed check to `Graph.rejecting`, which applies an op
// whose shape check fails with that error: `apply` then does what it does for any mismatch
// (stops, or makes a placeholder and lets the scope throw), in one place.

extension Graph {
  /// A node for an op whose arguments do not fit its operands: stops with `error`'s message,
  /// or, inside `throwingShapeErrors`, returns a placeholder and the scope throws `error`. On
  /// an operand that is already a placeholder it is a placeholder too (one mistake, one
  /// error).
  func rejecting(_ error: ShapeError, operands: [Node<Scalar>]) -> Node<Scalar> {
    apply(RejectedArguments(error: error), operands)
  }
}

extension Node {
  /// This node as it appears in an error message: its label and shape.
  var operand: ShapeError.Operand { ShapeError.Operand(name: label, shape: shape) }

  /// `axis` (negative counts from the end) resolved against this node's rank, or `nil` when
  /// it is not one of its axes.
  func resolvedAxis(_ axis: Int) -> Int? {
    let rank = shape.count
    return axis >= -rank && axis < rank ? (axis < 0 ? axis + rank : axis) : nil
  }

  /// A node rejecting this one as the operand of `op`: `ShapeError.invalid(op:…)` with
  /// `requirement` (see `Graph.rejecting`).
  func rejected(by op: String, _ requirement: String, operands: [Node]? = nil) -> Node {
    graph.rejecting(
      ShapeError.invalid(op: op, operand, requirement), operands: operands ?? [self])
  }

  /// The error for an axis that this node does not have, phrased as the ops' own shape
  /// checks phrase it (`shapeAlongAxis`, `requireAxis`): the shape beside it gives the rank.
  func noAxisRequirement(_ axis: Int) -> String { "has no axis \(axis)" }

  /// What is wrong with reducing this node over `axes` (negative counts from the end): an
  /// axis it lacks, or one given twice; `nil` when they are distinct axes of it.
  func reductionAxesProblem(_ axes: [Int]) -> String? {
    for axis in axes where resolvedAxis(axis) == nil { return noAxisRequirement(axis) }
    let resolved = axes.compactMap(resolvedAxis)
    return Set(resolved).count == resolved.count ? nil : "cannot reduce axes \(axes): one repeats"
  }
}

/// The op behind `Graph.rejecting`: its shape check always throws the error it carries, so it
/// is never evaluated and never stays in a graph.
struct RejectedArguments: DifferentiableOperation {
  /// The error the shape check throws.
  let error: ShapeError
  /// The op the error names (the text before its first colon).
  var name: String { String(error.description.prefix { $0 != ":" }) }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] { throw error }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    requirementFailure(error.description)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    requirementFailure(error.description)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "" }
}
