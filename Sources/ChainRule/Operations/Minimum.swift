/// Element-wise minimum of two tensors, with NumPy broadcasting (PyTorch's `minimum`).
///
/// y = min(a, b);  ∂y/∂a = [a < b],  ∂y/∂b = [b < a];  ā = ȳ · [a < b],  b̄ = ȳ · [b < a].
/// At a tie (a = b) the gradient is split evenly, ā = b̄ = ȳ/2, as PyTorch does; a NaN
/// operand gives NaN (see `Maximum`).
public struct Minimum: BinaryElementwise, CatalogedOperation {
  public var name: String { "minimum" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
    a < b ? a : b < a ? b : a == b ? a : a + b  // a NaN operand: a + b = NaN
  }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    a < b ? (1, 0) : b < a ? (0, 1) : (0.5, 0.5)
  }

  /// ā = ȳ·w, b̄ = ȳ·(1 − w) with w = ½ + ½·(step(b − a) − step(a − b)): 1 where a < b, 0
  /// where b < a, ½ at a tie (and for NaN), as `partials`; held by a stop-gradient node (see
  /// `Maximum`).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (a, b) = (inputs[0], inputs[1])
    let w = (0.5 + 0.5 * ((b - a).step() - (a - b).step())).stopGradient()
    return [needs[0] ? gradient * w : nil, needs[1] ? gradient * (1 - w) : nil]
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "[\(operands[0]) < \(operands[1])]" : "[\(operands[1]) < \(operands[0])]"
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]]) { _, x in x[0].minimum(x[1]) },
    OperationCheck("by column [3, 4] and [3, 1]", [[3, 4], [3, 1]]) { _, x in
      x[0].minimum(x[1])
    },
    OperationCheck("a tie: minimum(x, x)", [[2, 3]]) { _, x in x[0].minimum(x[0]) },
  ]
}

extension Node {
  /// Element-wise min(self, other), broadcasting like NumPy; a tie splits the gradient evenly.
  public func minimum(_ other: Node) -> Node { graph.apply(Minimum(), [self, other]) }
  /// Element-wise min(self, value).
  public func minimum(_ value: Scalar) -> Node { minimum(constant(value)) }
}
