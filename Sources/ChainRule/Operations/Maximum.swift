/// Element-wise maximum of two tensors, with NumPy broadcasting (PyTorch's `maximum`).
///
/// y = max(a, b);  ∂y/∂a = [a > b],  ∂y/∂b = [b > a];  ā = ȳ · [a > b],  b̄ = ȳ · [b > a].
/// At a tie (a = b) the derivative does not exist; ChainRule splits the gradient evenly,
/// ā = b̄ = ȳ/2, as PyTorch does — so `maximum(x, x)` passes ȳ back to x whole, and the split
/// is what a central difference sees when one side moves. A NaN operand gives NaN, as in
/// PyTorch (not the other operand, as `Swift.max` might).
public struct Maximum: BinaryElementwise, CatalogedOperation {
  public var name: String { "maximum" }
  /// The op; it has no settings.
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
    a > b ? a : b > a ? b : a == b ? a : a + b  // a NaN operand: a + b = NaN
  }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    a > b ? (1, 0) : b > a ? (0, 1) : (0.5, 0.5)
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "[\(operands[0]) > \(operands[1])]" : "[\(operands[1]) > \(operands[0])]"
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]]) { _, x in x[0].maximum(x[1]) },
    OperationCheck("by row [3, 4] and [4]", [[3, 4], [4]]) { _, x in x[0].maximum(x[1]) },
    OperationCheck("with a scalar [3, 2] and []", [[3, 2], []]) { _, x in x[0].maximum(x[1]) },
    OperationCheck("a tie: maximum(x, x)", [[2, 3]]) { _, x in x[0].maximum(x[0]) },
  ]
}

extension Node {
  /// Element-wise max(self, other), broadcasting like NumPy; a tie splits the gradient evenly.
  public func maximum(_ other: Node) -> Node { graph.apply(Maximum(), [self, other]) }
  /// Element-wise max(self, value).
  public func maximum(_ value: Scalar) -> Node { maximum(constant(value)) }
}
