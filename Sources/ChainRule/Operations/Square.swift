/// Element-wise square.
///
/// y = x²;  dy/dx = 2x;  x̄ = 2 · ȳ · x.
public struct Square: UnaryElementwise, CatalogedOperation {
  public var name: String { "square" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { x * x }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 2 * x }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "2·\(operands[0])"
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].squared() }]
}

extension Node {
  /// Element-wise x².
  public func squared() -> Node { graph.apply(Square(), [self]) }
}
