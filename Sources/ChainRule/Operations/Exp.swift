/// Element-wise exponential.
///
/// y = eˣ;  dy/dx = eˣ = y;  x̄ = ȳ · y.
///
/// y overflows to ∞ for x > 88.7 (Float) or 709.8 (Double), but eˣ is finite for every finite
/// x, so ȳ = 0 (a masked or clamped branch downstream) gives x̄ = 0 there, not 0 · ∞ = NaN.
/// Everywhere else x̄ is the product ȳ · y, bit for bit.
public struct Exp: UnaryElementwise, CatalogedOperation {
  public var name: String { "exp" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.exp(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { y }
  /// f″ = eˣ = y.
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    y
  }
  public func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar) -> Scalar
  {
    gradient == 0 && x.isFinite ? gradient : gradient * y
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { output }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].exp() }]
}

extension Node {
  /// Element-wise eˣ.
  public func exp() -> Node { graph.apply(Exp(), [self]) }
}
