/// Element-wise maximum of two tensors, with NumPy broadcasting (PyTorch's `maximum`).
///
/// y = max(a, b);  ∂y/∂a = [a > b],  ∂y/∂b = [b > a];  ā = ȳ · [a > b],  b̄ = ȳ · [b > a].
/// At a tie (a = b) the derivative does not exist; ChainRule splits the gradient evenly,
/// ā = b̄ = ȳ/2, as PyTorch does — so `maximum(x, x)` passes ȳ back to x whole, and the split
/// is what a central difference sees when one side moves. A NaN operand gives NaN, as in
/// PyTorch (not the other operand, as `Swift.max` might).
public struct Maximum: BinaryElementwise, CatalogedOperation {
  public var name: String { "maximum" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
    a > b ? a : b > a ? b : a == b ? a : a + b  // a NaN operand: a + b = NaN
  }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    a > b ? (1, 0) : b > a ? (0, 1) : (0.5, 0.5)
  }

  /// ā = ȳ·w, b̄ = ȳ·(1 − w) with w = ½ + ½·(step(a − b) − step(b − a)): 1 where a > b, 0
  /// where b > a, ½ at a tie (and for NaN), as `partials`. w is piecewise constant (its
  /// derivative is 0 away from ties), so it is held by a stop-gradient node.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (a, b) = (inputs[0], inputs[1])
    let w = (0.5 + 0.5 * ((a - b).step() - (b - a).step())).stopGradient()
    return [needs[0] ? gradient * w : nil, needs[1] ? gradient * (1 - w) : nil]
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
