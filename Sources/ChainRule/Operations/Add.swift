/// Element-wise sum with NumPy broadcasting.
///
/// y = a + b;  ∂y/∂a = 1, ∂y/∂b = 1;  ā = ȳ, b̄ = ȳ (each summed back to its operand's shape).
/// Numerics: one rounding in the forward pass; the VJP passes ȳ on exactly.
public struct Add: BinaryElementwise, CatalogedOperation {
  public var name: String { "add" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { a + b }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    (1, 1)
  }

  /// ā = ȳ, b̄ = ȳ (each summed back to its operand's shape by the caller).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient : nil, needs[1] ? gradient : nil]
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "1" }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]]) { _, x in x[0] + x[1] },
    OperationCheck("row bias [3, 4] + [4]", [[3, 4], [4]]) { _, x in x[0] + x[1] },
    OperationCheck("column bias [3, 4] + [3, 1]", [[3, 4], [3, 1]]) { _, x in x[0] + x[1] },
    OperationCheck("scalar [3, 4] + []", [[3, 4], []]) { _, x in x[0] + x[1] },
    OperationCheck("both broadcast [3, 1] + [1, 4]", [[3, 1], [1, 4]]) { _, x in x[0] + x[1] },
    OperationCheck("fan-out x + x", [[2, 3]]) { _, x in x[0] + x[0] },
  ]
}

extension Node {
  /// Element-wise sum, broadcasting like NumPy.
  public static func + (a: Node, b: Node) -> Node { a.graph.apply(Add(), [a, b]) }
  /// Adds a number to every element.
  public static func + (a: Node, b: Scalar) -> Node { a + a.constant(b) }
  /// Adds a number to every element.
  public static func + (a: Scalar, b: Node) -> Node { b.constant(a) + b }
}
