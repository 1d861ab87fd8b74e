/// Element-wise square.
///
/// y = x²;  dy/dx = 2x;  x̄ = 2 · ȳ · x.
///
/// x̄ is formed as (ȳ · x) · 2, not ȳ · (2x): doubling is exact, so the two agree bit for bit
/// except where 2x overflows (|x| ≥ 1.7e38 in Float, 9e307 in Double) and ȳ·x does not —
/// mean(x²) at x = 2e38 has x̄ = x/2 = 1e38, though x² itself is ∞.
public struct Square: UnaryElementwise, CatalogedOperation {
  public var name: String { "square" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { x * x }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 2 * x }
  /// f″ = 2.
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    x.constant(2)
  }
  public func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar) -> Scalar
  {
    (gradient * x) * 2
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "2·\(operands[0])"
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].squared() }]
}

extension Node {
  /// Element-wise x².
  public func squared() -> Node { graph.apply(Square(), [self]) }
}
