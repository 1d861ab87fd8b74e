/// Element-wise (Hadamard) product with NumPy broadcasting.
///
/// y = a ⊙ b;  ∂y/∂a = b, ∂y/∂b = a;  ā = ȳ ⊙ b, b̄ = ȳ ⊙ a.
/// Numerics: every value is one correctly rounded product, so nothing overflows unless the
/// result does, and 0 · ∞ arises only from an operand or ȳ that is already infinite.
public struct Multiply: BinaryElementwise, CatalogedOperation {
  public var name: String { "mul" }
  /// The op; it has no settings.
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { a * b }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    (b, a)
  }

  /// ā = ȳ ⊙ b, b̄ = ȳ ⊙ a.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient * inputs[1] : nil, needs[1] ? gradient * inputs[0] : nil]
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    operands[1 - input]
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]]) { _, x in x[0] * x[1] },
    OperationCheck("row scale [3, 4] ⊙ [4]", [[3, 4], [4]]) { _, x in x[0] * x[1] },
    OperationCheck("column scale [3, 4] ⊙ [3, 1]", [[3, 4], [3, 1]]) { _, x in x[0] * x[1] },
    OperationCheck("scalar [] ⊙ [3, 4]", [[], [3, 4]]) { _, x in x[0] * x[1] },
    OperationCheck("fan-out x ⊙ x", [[2, 3]]) { _, x in x[0] * x[0] },
  ]
}

extension Node {
  /// Element-wise product, broadcasting like NumPy. A product with a gradient builder's seed
  /// of ones is the other factor itself where that has the product's shape (no `1·x` node).
  public static func * (a: Node, b: Node) -> Node {
    productWithOnes(a, b) ?? a.graph.apply(Multiply(), [a, b])
  }
  /// Every element times a number.
  public static func * (a: Node, b: Scalar) -> Node { a * a.constant(b) }
  /// Every element times a number.
  public static func * (a: Scalar, b: Node) -> Node { b.constant(a) * b }
}
