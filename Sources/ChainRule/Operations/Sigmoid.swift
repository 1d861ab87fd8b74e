/// Element-wise logistic sigmoid.
///
/// y = σ(x) = 1 / (1 + e⁻ˣ);  dy/dx = σ(x)(1 − σ(x)) = y(1 − y);  x̄ = ȳ · y(1 − y).
/// Evaluated as eˣ / (1 + eˣ) for x < 0 so that no intermediate overflows.
public struct Sigmoid: UnaryElementwise, CatalogedOperation {
  public var name: String { "sigmoid" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    if x >= 0 { return 1 / (1 + Scalar.exp(-x)) }
    let e = Scalar.exp(x)
    return e / (1 + e)
  }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { y * (1 - y) }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "\(output)(1 − \(output))"
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].sigmoid() }]
}

extension Node {
  /// Element-wise logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).
  public func sigmoid() -> Node { graph.apply(Sigmoid(), [self]) }
}
