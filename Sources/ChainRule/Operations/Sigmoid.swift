/// Element-wise logistic sigmoid.
///
/// y = σ(x) = 1 / (1 + e⁻ˣ);  dy/dx = σ(x)(1 − σ(x)) = y(1 − y);  x̄ = ȳ · y(1 − y).
/// Evaluated as eˣ / (1 + eˣ) for x < 0 so that no intermediate overflows.
///
/// For x > 2 the derivative is formed from x, as e·y² with e = e⁻ˣ (σ(−x) = e·σ(x), so
/// σ′ = σ(x)σ(−x) = e·y²): 1 − y cancels there, losing about log₂ eˣ bits of y(1 − y), and once y
/// rounds to 1 (x > 16.6 in Float, 36.7 in Double) it gave σ′ = 0 — σ′(20) is 2.06e-9, which
/// Float holds. Up to x = 2, where y(1 − y) is within a few ulps, it is y(1 − y) bit for bit.
public struct Sigmoid: UnaryElementwise, CatalogedOperation {
  public var name: String { "sigmoid" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    if x >= 0 { return 1 / (1 + Scalar.exp(-x)) }
    let e = Scalar.exp(x)
    return e / (1 + e)
  }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { y * (1 - y) }
  /// f″ = σ(1 − σ)(1 − 2σ) = y(1 − y)(1 − 2y).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    y * (1 - y) * (1 - 2 * y)
  }
  public func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar) -> Scalar
  {
    guard x > 2 else { return gradient * (y * (1 - y)) }
    return gradient * ((Scalar.exp(-x) * y) * y)
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "\(output)(1 − \(output))"
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].sigmoid() }]
}

extension Node {
  /// Element-wise logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).
  public func sigmoid() -> Node { graph.apply(Sigmoid(), [self]) }
}
