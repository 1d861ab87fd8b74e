/// Summing back to a shape that broadcasts to the operand's, as a node: the adjoint of
/// broadcasting, which node-built gradients apply where a share has the broadcast output
/// shape (`Tensor.summed(toShape:)` on tensors).
///
/// Y = Σ over the broadcast axes of X, to `shape`; ∂Y_q/∂Xₚ = [p maps to q], so
/// X̄ = Ȳ broadcast to the shape of X — `BroadcastTo`, whose own VJP is this op again.
/// Numerics: the same sums, in the same order, as `Tensor.summed(toShape:)`.
struct SumToShape: DifferentiableOperation {
  /// The output shape; it broadcasts to the operand's shape.
  let shape: [Int]
  var name: String { "sumTo\(shape)" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard Broadcast.shape(shape, operands[0].shape) == operands[0].shape else {
      throw ShapeError.invalid(op: name, operands[0], "cannot be summed back to \(shape)")
    }
    return shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].summed(toShape: shape)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [gradient.broadcasted(to: inputs[0].shape)]
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.broadcasted(to: inputs[0].shape) : nil]
  }

  /// Ẏ = Ẋ summed back: the op is linear.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0]?.summed(toShape: shape) ?? Tensor.zeros(shape)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "broadcast(ȳ)"
  }
}

extension Node {
  /// This node summed back to `shape` (itself when it already has that shape).
  func summed(toShape shape: [Int]) -> Node {
    self.shape == shape ? self : graph.apply(SumToShape(shape: shape), [self])
  }
}
