/// Element-wise square root.
///
/// y = √x;  dy/dx = 1/(2√x) = 1/(2y);  x̄ = ȳ / (2y).
/// Defined for x > 0. At x = 0 the derivative is +∞ (ȳ/0, NaN when ȳ = 0), and below 0 the
/// value and derivative are NaN — the IEEE results, and what PyTorch's `grad / (2 * result)`
/// gives.
public struct Sqrt: UnaryElementwise, CatalogedOperation {
  public var name: String { "sqrt" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.sqrt(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 / (2 * y) }
  /// f″ = −1/(4x^(3/2)) = −1/(4·x·y).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    -0.25 / (x * y)
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1/(2\(output))"
  }

  public static let checks = [
    OperationCheck("positive matrix [2, 3]", [[2, 3]], domain: .positive) { _, x in x[0].sqrt() }
  ]
}

extension Node {
  /// Element-wise square root (NaN below 0).
  public func sqrt() -> Node { graph.apply(Sqrt(), [self]) }
}
