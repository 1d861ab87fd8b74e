/// Element-wise sine (radians).
///
/// y = sin x;  dy/dx = cos x;  x̄ = ȳ · cos x. Smooth everywhere.
public struct Sin: UnaryElementwise, CatalogedOperation {
  public var name: String { "sin" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.sin(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { Scalar.cos(x) }
  /// f″ = −sin x = −y.
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    -y
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "cos(\(operands[0]))"
  }

  public static let checks = [
    OperationCheck("matrix [2, 3]", [[2, 3]], domain: .moderate) { _, x in x[0].sin() }
  ]
}

extension Node {
  /// Element-wise sine (radians).
  public func sin() -> Node { graph.apply(Sin(), [self]) }
}
