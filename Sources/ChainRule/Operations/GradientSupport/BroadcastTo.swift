/// Broadcasting to a fixed shape, as a node: a support op of node-built gradients (the
/// gradient of a sum or mean spreads ȳ back over the summed axes).
///
/// Y = broadcast(X, shape): every element of X repeated along the axes where X has size 1 (or
/// that X lacks), as NumPy broadcasts; ∂Yₚ/∂X_q = [p maps to q], so X̄ = Ȳ summed back to the
/// shape of X — `SumToShape`, whose own VJP is this op again. Linear, so every higher
/// derivative is built from the pair. Numerics: copies, exact.
struct BroadcastTo: DifferentiableOperation {
  /// The output shape.
  let shape: [Int]
  var name: String { "broadcast\(shape)" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard Broadcast.shape(operands[0].shape, shape) == shape else {
      throw ShapeError.invalid(op: name, operands[0], "does not broadcast to \(shape)")
    }
    return shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].broadcasted(to: shape)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [gradient.summed(toShape: inputs[0].shape)]
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.summed(toShape: inputs[0].shape) : nil]
  }

  /// Ẏ = broadcast(Ẋ): the op is linear.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0]?.broadcasted(to: shape) ?? Tensor.zeros(shape)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "sum back(ȳ)"
  }
}

extension Node {
  /// This node broadcast to `shape` (itself when it already has that shape; a seed of ones
  /// of that shape when it is one).
  func broadcasted(to shape: [Int]) -> Node {
    if self.shape == shape { return self }
    if isOnes { return graph.apply(Ones(shape: shape), []) }
    return graph.apply(BroadcastTo(shape: shape), [self])
  }
}
