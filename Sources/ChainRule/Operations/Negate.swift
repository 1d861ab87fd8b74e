/// Element-wise negation.
///
/// y = −x;  dy/dx = −1;  x̄ = −ȳ. Numerics: exact both ways.
public struct Negate: UnaryElementwise, CatalogedOperation {
  public var name: String { "neg" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { -x }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { -1 }
  /// f″ = 0: negation is linear.
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    nil
  }

  /// x̄ = −ȳ.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? -gradient : nil]
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "−1" }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in -x[0] }]
}

extension Node {
  /// Element-wise negation.
  public static prefix func - (x: Node) -> Node { x.graph.apply(Negate(), [x]) }
}
