/// Element-wise rectified linear unit.
///
/// y = max(0, x);  dy/dx = 1 for x > 0, 0 for x < 0;  x̄ = ȳ · [x > 0].
/// At x = 0 the derivative does not exist; ChainRule returns 0 there, as PyTorch and JAX do
/// (the subgradient that keeps a dead unit dead). Numerics: exact both ways; x̄ is 0 (not
/// NaN) for x = NaN, as in PyTorch, since NaN > 0 is false.
public struct ReLU: UnaryElementwise, CatalogedOperation {
  public var name: String { "relu" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { x > 0 ? x : 0 }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { x > 0 ? 1 : 0 }
  /// f″ = 0 (convention: also at the kink x = 0, where f′ jumps and f″ does not exist).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    nil
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "[\(operands[0]) > 0]"
  }

  public static let checks = [
    OperationCheck("matrix [3, 4], away from the kink", [[3, 4]], domain: .awayFromZero) { _, x in
      x[0].relu()
    }
  ]
}

extension Node {
  /// Element-wise max(0, x); its derivative at 0 is taken to be 0.
  public func relu() -> Node { graph.apply(ReLU(), [self]) }
}
