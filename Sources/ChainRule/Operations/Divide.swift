/// Element-wise quotient with NumPy broadcasting.
///
/// y = a / b;  ∂y/∂a = 1/b, ∂y/∂b = −a/b² = −y/b;  ā = ȳ / b, b̄ = −ȳ · y / b.
///
/// Formed so that no intermediate overflows or underflows where the gradient does not:
/// ā = ȳ/b is one division (1/b overflows for subnormal b); b̄ = −(ȳ·y)/b, or −ȳ·(y/b) when
/// ȳ·y is not a normal number (it over- or underflowed), never −a/b², whose b² overflows
/// for |b| > 1.8e19 in Float (1.3e154 in Double) and underflows for |b| < 1e-19 (1.5e-154):
/// a = 1e30, b = 1e20 has b̄ = −1e-10, not −0; a = 1e-30, b = 1e-25 has b̄ = −1e20·ȳ, not −∞;
/// and ȳ = 0 gives b̄ = 0 rather than 0 · ∞ = NaN. (PyTorch forms −ȳ·((a/b)/b).)
public struct Divide: BinaryElementwise, CatalogedOperation, CarefulVJP {
  public var name: String { "div" }
  /// The op; it has no settings.
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { a / b }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    (1 / b, -(y / b))
  }
  public func inputGradients<Scalar: TensorScalar>(
    _ a: Scalar, _ b: Scalar, y: Scalar, gradient: Scalar
  ) -> (Scalar, Scalar) {
    let scaled = gradient * y
    let gradientB =
      scaled.isNormal || gradient == 0 || y == 0 ? -scaled / b : -(gradient * (y / b))
    return (gradient / b, gradientB)
  }

  /// ā and b̄ as `VJPShare` nodes: the numbers of `inputGradients` above, fallback included,
  /// differentiated again through the plain formula below.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    shareNodes(inputs, output: output, gradient: gradient, needs: needs)
  }
  /// The plain formula, for the second order: ā = ȳ / b, b̄ = −(ȳ·y)/b with y the output node
  /// (so the second order also flows through y). Without the fallback −ȳ·(y/b).
  func plainGradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let b = inputs[1]
    return [needs[0] ? gradient / b : nil, needs[1] ? -((gradient * output) / b) : nil]
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
