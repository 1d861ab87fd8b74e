/// Element-wise power with a fixed exponent: a tensor to a scalar power.
///
/// y = xᵖ;  dy/dx = p·xᵖ⁻¹;  x̄ = ȳ · p·xᵖ⁻¹ (formed without overflow, see `inputGradient`).
/// Values follow the C library's `pow`: a negative x with a non-integer p is NaN. Conventions,
/// as PyTorch's `pow(Tensor, Scalar)`: for p = 0 the derivative is 0 everywhere (also at
/// x = 0, where 0⁰ = 1); at x = 0 with 0 < p < 1 it is +∞, and with p < 0 the value is +∞.
public struct ScalarPower: UnaryElementwise, CatalogedOperation {
  /// The exponent p.
  public let exponent: Double
  public var name: String { "pow(\(DotText.shortest(exponent)))" }
  public init(exponent: Double) { self.exponent = exponent }

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    Scalar.pow(x, Scalar(exponent))
  }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar {
    exponent == 0 ? 0 : Scalar(exponent) * Scalar.pow(x, Scalar(exponent - 1))
  }
  /// f″ = p(p − 1)·xᵖ⁻²; none for p = 0 or p = 1, where f is constant or linear.
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    guard exponent != 0 && exponent != 1 else { return nil }
    return Scalar(exponent * (exponent - 1)) * x.pow(exponent - 2)
  }
  /// x̄ = ȳ·p·xᵖ⁻¹; where the factor xᵖ⁻¹ alone overflows (Float: x = 10⁻⁴⁰, p = −0.5 gives
  /// 10⁶⁰) but x̄ need not, it is formed as (ȳ·h)·(p·h) with h = x^((p−1)/2).
  public func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar)
    -> Scalar
  {
    guard exponent != 0 else { return 0 }
    let p = Scalar(exponent)
    let factor = Scalar.pow(x, p - 1)
    if factor.isFinite { return gradient * (p * factor) }
    let h = Scalar.pow(x, Scalar((exponent - 1) / 2))
    return (gradient * h) * (p * h)
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let p = DotText.shortest(exponent)
    return "\(p)·\(operands[0])^\(DotText.shortest(exponent - 1))"
  }

  // Exponents whose compositions the fuzz can difference accurately: deep chains of x³, x⁻¹
  // or x^(−1.5) curve so fast that a central difference's O(ε²) error passes the fuzz's 10⁻⁶
  // tolerance. ToolboxOpTests checks those exponents against _Differentiation instead.
  public static let checks = [
    OperationCheck("power 1.5 of positive [2, 3]", [[2, 3]], domain: .positive) { _, x in
      x[0].pow(1.5)
    },
    OperationCheck("power 0.5 of positive [4]", [[4]], domain: .positive) { _, x in
      x[0].pow(0.5)
    },
  ]
}

extension Node {
  /// Element-wise `self` to the power `exponent`, as the C library's `pow` defines it.
  public func pow(_ exponent: Double) -> Node {
    graph.apply(ScalarPower(exponent: exponent), [self])
  }
}
