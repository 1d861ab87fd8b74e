/// The axes of a tensor reordered (PyTorch's `permute`; `transpose(dim0, dim1)` is the swap of
/// two axes, `transposed(_:_:)` here).
///
/// Y = permute(X, π): axis i of Y is axis π(i) of X;  X̄ = permute(Ȳ, π⁻¹). Numerics: no
/// arithmetic, exact both ways.
public struct Permute: CatalogedOperation {
  /// Axis i of the output is axis `permutation[i]` of the input.
  public let permutation: [Int]
  public var name: String { "permute\(permutation)" }
  /// Reorders the axes: output axis i is input axis `permutation[i]`.
  public init(_ permutation: [Int]) { self.permutation = permutation }

  /// π⁻¹: the permutation that puts the axes back.
  public var inverse: [Int] {
    var inverse = permutation
    for (i, axis) in permutation.enumerated() { inverse[axis] = i }
    return inverse
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let x = operands[0]
    guard permutation.sorted() == Array(0..<x.shape.count) else {
      throw ShapeError.invalid(
        op: name, x, "cannot be permuted by \(permutation): not each of its axes once")
    }
    return permutation.map { x.shape[$0] }
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].permuted(permutation)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [gradient.permuted(inverse)]
  }

  /// X̄ = permute(Ȳ, π⁻¹).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.permuted(inverse) : nil]
  }

  /// Ẏ = permute(Ẋ, π): the op is linear, so its JVP is the op applied to the tangent.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0]?.permuted(permutation) ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "permute(ȳ, \(inverse))"
  }

  public static let checks = [
    OperationCheck("[2, 3, 4] by [2, 0, 1]", [[2, 3, 4]]) { _, x in x[0].permuted([2, 0, 1]) },
    OperationCheck("axes 0 and 2 of [2, 3, 2]", [[2, 3, 2]]) { _, x in x[0].transposed(0, 2) },
    OperationCheck("last two axes of [2, 3, 4]", [[2, 3, 4]]) { _, x in
      x[0].transposed(-1, -2)
    },
  ]
}

extension Node {
  /// The node with its axes reordered: axis i of the result is axis `permutation[i]` of this.
  public func permuted(_ permutation: [Int]) -> Node {
    graph.apply(Permute(permutation), [self])
  }

  /// The node with axes `first` and `second` swapped (negative counts from the end), as
  /// PyTorch's `transpose(dim0, dim1)`. On a rank-2 node that is the `Transpose` op; on others,
  /// `Permute`. An axis the node lacks is a shape error (thrown inside `throwingShapeErrors`).
  public func transposed(_ first: Int, _ second: Int) -> Node {
    for axis in [first, second] where resolvedAxis(axis) == nil {
      return rejected(by: "transposed(\(first), \(second))", noAxisRequirement(axis))
    }
    let permutation = swappedAxes(rank: shape.count, first, second)
    if shape.count == 2 && permutation == [1, 0] { return transposed() }
    return permuted(permutation)
  }
}
