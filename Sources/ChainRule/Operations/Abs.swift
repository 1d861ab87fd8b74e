/// Element-wise absolute value.
///
/// y = |x|;  dy/dx = sign x = 1 for x > 0, −1 for x < 0;  x̄ = ȳ · sign x.
/// At x = 0 the derivative does not exist; ChainRule returns 0 there (sign 0 = 0), as
/// PyTorch (`grad * self.sgn()`) and JAX do.
public struct Abs: UnaryElementwise, CatalogedOperation {
  public var name: String { "abs" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.abs(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar {
    x > 0 ? 1 : x < 0 ? -1 : 0
  }
  /// f″ = 0 (convention: also at the kink x = 0, where sign x jumps).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    nil
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "sign(\(operands[0]))"
  }

  public static let checks = [
    OperationCheck("matrix [3, 4], away from the kink", [[3, 4]], domain: .awayFromZero) { _, x in
      x[0].abs()
    }
  ]
}

extension Node {
  /// Element-wise |x|; its derivative at 0 is taken to be 0.
  public func abs() -> Node { graph.apply(Abs(), [self]) }
}
