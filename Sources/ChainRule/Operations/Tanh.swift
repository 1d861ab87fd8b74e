/// Element-wise hyperbolic tangent.
///
/// y = tanh x;  dy/dx = 1 − tanh²x = 1 − y²;  x̄ = ȳ · (1 − y²).
///
/// For |x| > 1 the derivative is formed from x, as sech²x = e·(1 + |y|)² with e = e^−2|x|
/// (4e/(1 + e)², and 1 + |y| = 2/(1 + e)): 1 − y² cancels there, with an error of about
/// sinh²x ulps, and once |y| rounds to 1 (|x| > 9 in Float, 19.1 in Double) it gave 0 —
/// tanh′(9) is 6.1e-8, which Float holds. Up to |x| = 1 it is 1 − y² bit for bit.
public struct Tanh: UnaryElementwise, CatalogedOperation {
  public var name: String { "tanh" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.tanh(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 - y * y }
  /// f″ = −2·tanh x·(1 − tanh²x) = −2y(1 − y²).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    -2 * y * (1 - y.squared())
  }
  public func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar) -> Scalar
  {
    guard abs(x) > 1 else { return gradient * (1 - y * y) }
    let onePlus = 1 + abs(y)
    return gradient * (Scalar.exp(-2 * abs(x)) * (onePlus * onePlus))
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1 − \(output)²"
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].tanh() }]
}

extension Node {
  /// Element-wise hyperbolic tangent.
  public func tanh() -> Node { graph.apply(Tanh(), [self]) }
}
