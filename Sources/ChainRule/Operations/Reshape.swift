/// The same elements in row-major order, viewed with another shape.
///
/// Y = reshape(X, shape);  X̄ = reshape(Ȳ, shape of X). Numerics: no arithmetic, exact.
public struct Reshape: CatalogedOperation {
  /// The output shape.
  public let shape: [Int]
  public var name: String { "reshape" }
  public init(shape: [Int]) { self.shape = shape }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let x = operands[0]
    guard shape.allSatisfy({ $0 >= 0 }), x.shape.reduce(1, *) == shape.reduce(1, *) else {
      throw ShapeError.invalid(op: name, x, "cannot be reshaped to \(shape)")
    }
    return shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].reshaped(shape)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [gradient.reshaped(inputs[0].shape)]
  }

  /// X̄ = reshape(Ȳ, shape of X).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.reshaped(inputs[0].shape) : nil]
  }

  /// Ẏ = reshape(Ẋ, shape): the op is linear, so its JVP is the op applied to the tangent.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0]?.reshaped(shape) ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "reshape(ȳ)"
  }

  public static let checks = [
    OperationCheck("[2, 3] → [3, 2]", [[2, 3]]) { _, x in x[0].reshaped([3, 2]) },
    OperationCheck("[2, 3] → [6]", [[2, 3]]) { _, x in x[0].reshaped([6]) },
  ]
}

extension Node {
  /// The same elements viewed with another shape of equal element count.
  public func reshaped(_ shape: [Int]) -> Node { graph.apply(Reshape(shape: shape), [self]) }
}
