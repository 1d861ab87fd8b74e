/// Element-wise power of two tensors, a tensor to a tensor power, with NumPy broadcasting.
///
/// y = aᵇ;  ∂y/∂a = b·aᵇ⁻¹,  ∂y/∂b = aᵇ·ln a = y·ln a;  ā = ȳ · b·aᵇ⁻¹,  b̄ = ȳ · y·ln a.
/// Differentiable in both operands for a > 0. Conventions, as PyTorch's
/// `pow(Tensor, Tensor)`: where b = 0 the derivative in a is 0 (also at a = 0); where a = 0 and
/// b ≥ 0 the derivative in b is 0 (the limit of aᵇ·ln a as a → 0⁺, instead of 0·(−∞) = NaN).
/// A negative a gives NaN for b̄ (ln a), and for y unless b is a whole number.
public struct Power: BinaryElementwise, CatalogedOperation, CarefulVJP {
  public var name: String { "pow" }
  /// The op; it has no settings.
  public init() {}

  public func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { Scalar.pow(a, b) }
  public func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (
    Scalar, Scalar
  ) {
    let da = b == 0 ? 0 : b * Scalar.pow(a, b - 1)
    let db = a == 0 && b >= 0 ? 0 : y * Scalar.log(a)
    return (da, db)
  }
  /// (ā, b̄) = (ȳ·b·aᵇ⁻¹, ȳ·y·ln a); where the factor aᵇ⁻¹ alone overflows but ā need not
  /// (a = b = 10⁻⁴⁵ in Float: ā ≈ ȳ), ā is formed as (ȳ·h)·(b·h) with h = a^((b−1)/2).
  public func inputGradients<Scalar: TensorScalar>(
    _ a: Scalar, _ b: Scalar, y: Scalar, gradient: Scalar
  ) -> (Scalar, Scalar) {
    var da: Scalar = 0
    if b != 0 {
      let factor = Scalar.pow(a, b - 1)
      let h = Scalar.pow(a, (b - 1) / 2)
      da = factor.isFinite ? gradient * (b * factor) : (gradient * h) * (b * h)
    }
    let db = a == 0 && b >= 0 ? 0 : gradient * (y * Scalar.log(a))
    return (da, db)
  }

  /// ā and b̄ as `VJPShare` nodes: the numbers of `inputGradients` above, PyTorch's
  /// conventions at a = 0 and b = 0 and the overflow guard included, differentiated again
  /// through the plain formula below.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    shareNodes(inputs, output: output, gradient: gradient, needs: needs)
  }
  /// The plain formula, for the second order: ā = ȳ · (b · a^(b − 1)), b̄ = ȳ · (y · ln a), y
  /// the output node. Without the conventions at a = 0, so a second derivative there is NaN
  /// where 0·∞ arises.
  func plainGradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (a, b) = (inputs[0], inputs[1])
    return [
      needs[0] ? gradient * (b * a.pow(b - 1)) : nil,
      needs[1] ? gradient * (output * a.log()) : nil,
    ]
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0
      ? "\(operands[1])·\(operands[0])^(\(operands[1]) − 1)" : "\(output)·ln \(operands[0])"
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]], domain: .positive) { _, x in
      x[0].pow(x[1])
    },
    OperationCheck("by row [3, 4] ^ [4]", [[3, 4], [4]], domain: .positive) { _, x in
      x[0].pow(x[1])
    },
    OperationCheck("scalar base [] ^ [2, 3]", [[], [2, 3]], domain: .positive) { _, x in
      x[0].pow(x[1])
    },
    OperationCheck("fan-out x ^ x", [[2, 3]], domain: .positive) { _, x in x[0].pow(x[0]) },
  ]
}

extension Node {
  /// Element-wise `self` to the power `exponent`, broadcasting like NumPy.
  public func pow(_ exponent: Node) -> Node { graph.apply(Power(), [self, exponent]) }
}
