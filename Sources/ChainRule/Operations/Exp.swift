/// Element-wise exponential.
///
/// y = eˣ;  dy/dx = eˣ = y;  x̄ = ȳ · y.
public struct Exp: UnaryElementwise, CatalogedOperation {
  public var name: String { "exp" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.exp(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { y }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { output }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].exp() }]
}

extension Node {
  /// Element-wise eˣ.
  public func exp() -> Node { graph.apply(Exp(), [self]) }
}
