/// Element-wise negation.
///
/// y = −x;  dy/dx = −1;  x̄ = −ȳ. Numerics: exact both ways.
public struct Negate: UnaryElementwise, CatalogedOperation {
  public var name: String { "neg" }
  /// The op; it has no settings.
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { -x }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { -1 }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "−1" }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in -x[0] }]
}

extension Node {
  /// Element-wise negation.
  public static prefix func - (x: Node) -> Node { x.graph.apply(Negate(), [x]) }
}
