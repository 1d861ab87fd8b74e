/// Element-wise natural logarithm.
///
/// y = ln x;  dy/dx = 1/x;  x̄ = ȳ / x. Defined for x > 0; log 0 = −∞ and log of a negative
/// number is NaN, as in IEEE arithmetic (anomaly detection reports where that happened).
///
/// x̄ is one division ȳ/x, as in PyTorch, never ȳ · (1/x): 1/x overflows to ∞ for subnormal x
/// (below 2.9e-39 in Float, 5.6e-309 in Double) where ȳ/x is finite — mean(log x) at
/// x = 4e-309 has x̄ = 0.25/x = 6.25e307 — and ȳ = 0 then gave 0 · ∞ = NaN instead of 0.
/// This is what a hand-written −Σ t·log softmax(z) meets when a probability underflows.
public struct Log: UnaryElementwise, CatalogedOperation {
  public var name: String { "log" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.log(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 / x }
  /// f″ = −1/x².
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    -1 / x.squared()
  }
  public func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar) -> Scalar
  {
    gradient / x
  }
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
