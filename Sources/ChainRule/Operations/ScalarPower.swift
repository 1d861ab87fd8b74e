/// Element-wise power with a fixed exponent: a tensor to a scalar power.
///
/// y = xᵖ;  dy/dx = p·xᵖ⁻¹;  x̄ = ȳ · p·xᵖ⁻¹.
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
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let p = DotText.shortest(exponent)
    return "\(p)·\(operands[0])^\(DotText.shortest(exponent - 1))"
  }

  public static let checks = [
    OperationCheck("cube of [2, 3]", [[2, 3]]) { _, x in x[0].pow(3) },
    OperationCheck("square root of positive [2, 3]", [[2, 3]], domain: .positive) { _, x in
      x[0].pow(0.5)
    },
    OperationCheck("power −1.5 of positive [4]", [[4]], domain: .positive) { _, x in
      x[0].pow(-1.5)
    },
    OperationCheck("reciprocal of [3, 2], away from 0", [[3, 2]], domain: .awayFromZero) {
      _, x in x[0].pow(-1)
    },
  ]
}

extension Node {
  /// Element-wise `self` to the power `exponent`, as the C library's `pow` defines it.
  public func pow(_ exponent: Double) -> Node {
    graph.apply(ScalarPower(exponent: exponent), [self])
  }
}
