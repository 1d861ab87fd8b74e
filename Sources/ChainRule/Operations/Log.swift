/// Element-wise natural logarithm.
///
/// y = ln x;  dy/dx = 1/x;  x̄ = ȳ / x. Defined for x > 0; log 0 = −∞ and log of a negative
/// number is NaN, as in IEEE arithmetic (anomaly detection reports where that happened).
public struct Log: UnaryElementwise, CatalogedOperation {
  public var name: String { "log" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.log(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 / x }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1/\(operands[0])"
  }

  public static let checks = [
    OperationCheck("positive matrix [2, 3]", [[2, 3]], domain: .positive) { _, x in x[0].log() }
  ]
}

extension Node {
  /// Element-wise natural logarithm.
  public func log() -> Node { graph.apply(Log(), [self]) }
}
