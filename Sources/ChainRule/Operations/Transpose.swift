/// Transpose of a rank-2 tensor.
///
/// Y = Xᵀ;  X̄ = Ȳᵀ. Numerics: no arithmetic, exact both ways.
public struct Transpose: CatalogedOperation {
  public var name: String { "transpose" }
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let x = operands[0]
    guard x.shape.count == 2 else {
      throw ShapeError.invalid(op: name, x, "is not a matrix (rank \(x.shape.count), needs 2)")
    }
    return [x.shape[1], x.shape[0]]
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].transposed()
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [gradient.transposed()]
  }

  /// X̄ = Ȳᵀ.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.transposed() : nil]
  }

  /// Ẏ = Ẋᵀ: the op is linear, so its JVP is the op applied to the tangent.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0]?.transposed() ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "ȳᵀ" }

  public static let checks = [
    OperationCheck("[2, 3]ᵀ", [[2, 3]]) { _, x in x[0].transposed() }
  ]
}

extension Node {
  /// The transpose of a rank-2 node.
  public func transposed() -> Node { graph.apply(Transpose(), [self]) }
}
