/// Element-wise Heaviside step, the perceptron's activation.
///
/// y = 1 if x > 0, else 0 (so step(0) = 0, matching the course's "w·x + b > 0").
/// Its derivative is 0 wherever it exists (every x ≠ 0) and undefined at 0, where ChainRule
/// also returns 0: **no gradient flows through a step**. The library does not invent a
/// surrogate (a straight-through estimator would be a different op); use sigmoid to train.
/// Numerics: exact; x̄ = 0 even where ȳ is ∞ or NaN.
public struct Step: UnaryElementwise, CatalogedOperation {
  public var name: String { "step" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { x > 0 ? 1 : 0 }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 0 }
  /// f″ = 0 (convention: also at x = 0, where step jumps; f′ = 0 there too).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    nil
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "0" }

  public static let checks = [
    OperationCheck("matrix [2, 3], away from 0", [[2, 3]], domain: .awayFromZero) { _, x in
      x[0].step()
    }
  ]
}

extension Node {
  /// Element-wise step: 1 where x > 0, else 0. Its gradient is zero everywhere.
  public func step() -> Node { graph.apply(Step(), [self]) }
}
