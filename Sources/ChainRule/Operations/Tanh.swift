/// Element-wise hyperbolic tangent.
///
/// y = tanh x;  dy/dx = 1 − tanh²x = 1 − y²;  x̄ = ȳ · (1 − y²).
public struct Tanh: UnaryElementwise, CatalogedOperation {
  public var name: String { "tanh" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.tanh(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 - y * y }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1 − \(output)²"
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].tanh() }]
}

extension Node {
  /// Element-wise hyperbolic tangent.
  public func tanh() -> Node { graph.apply(Tanh(), [self]) }
}
