/// Element-wise difference with NumPy broadcasting.
///
/// y = a − b;  ∂y/∂a = 1, ∂y/∂b = −1;  ā = ȳ, b̄ = −ȳ.
/// Numerics: one rounding in the forward pass (the cancellation of a − b is the data's, not
/// the op's); the VJP is exact.
public struct Subtract: BinaryElementwise, CatalogedOperation {
  public var name: String { "sub" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { a - b }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    (1, -1)
  }

  /// ā = ȳ, b̄ = −ȳ.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient : nil, needs[1] ? -gradient : nil]
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "1" : "−1"
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]]) { _, x in x[0] - x[1] },
    OperationCheck("row vector [3, 4] − [1, 4]", [[3, 4], [1, 4]]) { _, x in x[0] - x[1] },
    OperationCheck("scalar minus matrix [] − [2, 2]", [[], [2, 2]]) { _, x in x[0] - x[1] },
  ]
}

extension Node {
  /// Element-wise difference, broadcasting like NumPy.
  public static func - (a: Node, b: Node) -> Node { a.graph.apply(Subtract(), [a, b]) }
  /// Subtracts a number from every element.
  public static func - (a: Node, b: Scalar) -> Node { a - a.constant(b) }
  /// A number minus every element.
  public static func - (a: Scalar, b: Node) -> Node { b.constant(a) - b }
}
