/// The adjoint of slicing, as a node: a support op of `Slicing`'s node-built gradient.
///
/// Operand Ȳ with the shape of `x[indices]`; Z = zeros of `shape` with Z_{o(p)} = Ȳₚ at the
/// offsets o(p) the slice reads (`Slicing.offsets`), 0 elsewhere. Linear: ∂Z_{o(p)}/∂Ȳₚ = 1,
/// so its VJP is the slice again, Ū = Z̄[indices], and its JVP scatters the tangent.
struct SliceScatter: DifferentiableOperation {
  /// The slice whose gradient this scatters.
  let slicing: Slicing
  /// The shape of the sliced tensor, which is the output's.
  let shape: [Int]
  var name: String { "scatter\(slicing.name.dropFirst("slice".count))" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let sliced = try slicing.outputShape([ShapeError.Operand(name: "x", shape: shape)])
    guard operands[0].shape == sliced else {
      throw ShapeError.invalid(op: name, operands[0], "must have the slice's shape \(sliced)")
    }
    return shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    scatter(inputs[0], to: slicing.offsets(shape), shape: shape)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [slicing.forward([gradient])]
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.graph.apply(slicing, [gradient]) : nil]
  }

  /// Ż = the tangent scattered: the op is linear.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0]) } ?? Tensor.zeros(shape)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "1" }
}
