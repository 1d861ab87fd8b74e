/// Element-wise quotient with NumPy broadcasting.
///
/// y = a / b;  ∂y/∂a = 1/b, ∂y/∂b = −a/b²;  ā = ȳ / b, b̄ = −ȳ · a / b².
public struct Divide: BinaryElementwise, CatalogedOperation {
  public var name: String { "div" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { a / b }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    (1 / b, -a / (b * b))
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "1/\(operands[1])" : "−\(operands[0])/\(operands[1])²"
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]], domain: .awayFromZero) { _, x in
      x[0] / x[1]
    },
    OperationCheck("by row [3, 4] / [4]", [[3, 4], [4]], domain: .awayFromZero) { _, x in
      x[0] / x[1]
    },
    OperationCheck("by scalar [3, 4] / []", [[3, 4], []], domain: .awayFromZero) { _, x in
      x[0] / x[1]
    },
  ]
}

extension Node {
  /// Element-wise quotient, broadcasting like NumPy.
  public static func / (a: Node, b: Node) -> Node { a.graph.apply(Divide(), [a, b]) }
  /// Every element divided by a number.
  public static func / (a: Node, b: Scalar) -> Node { a / a.constant(b) }
  /// A number divided by every element.
  public static func / (a: Scalar, b: Node) -> Node { b.constant(a) / b }
}
