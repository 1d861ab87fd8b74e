/// Element-wise cosine (radians).
///
/// y = cos x;  dy/dx = −sin x;  x̄ = −ȳ · sin x. Smooth everywhere.
public struct Cos: UnaryElementwise, CatalogedOperation {
  public var name: String { "cos" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.cos(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { -Scalar.sin(x) }
  /// f″ = −cos x = −y.
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    -y
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "−sin(\(operands[0]))"
  }

  public static let checks = [
    OperationCheck("matrix [2, 3]", [[2, 3]], domain: .moderate) { _, x in x[0].cos() }
  ]
}

extension Node {
  /// Element-wise cosine (radians).
  public func cos() -> Node { graph.apply(Cos(), [self]) }
}
