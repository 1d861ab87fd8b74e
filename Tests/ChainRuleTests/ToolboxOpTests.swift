import Foundation
import Testing
import _Differentiation

@testable import ChainRule

// The experimenter's toolbox (issue 15): the elementary functions of `TensorScalar`, tensor
// arithmetic with the scalar on either side, and the new ops' forward values, conventions at
// kinks and ties, and cross-checks against `_Differentiation`. The ops' gradients are also
// checked against central differences through the catalog (`OperationGradientTests`) and the
// random-graph fuzz.

/// The elementary functions, once per float type, against identities and exact values.
@Suite("TensorScalar elementary functions")
struct TensorScalarFunctionTests {
  func identities<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    for x: Scalar in [-2.5, -0.3, 0, 0.7, 1.9] {
      // sin² + cos² = 1; tan = sin / cos.
      let (s, c) = (Scalar.sin(x), Scalar.cos(x))
      #expect(Swift.abs(s * s + c * c - 1) <= tolerance, "\(Scalar.self) sin²+cos² at \(x)")
      #expect(Swift.abs(Scalar.tan(x) - s / c) <= tolerance * 4, "\(Scalar.self) tan at \(x)")
      // |x|, √(x²) = |x|, (x²)^(1/2) = |x|, e^x − 1 = expm1 x.
      #expect(Scalar.abs(x) == (x < 0 ? -x : x))
      #expect(Swift.abs(Scalar.sqrt(x * x) - Scalar.abs(x)) <= tolerance)
      #expect(Swift.abs(Scalar.pow(x * x, 0.5) - Scalar.abs(x)) <= tolerance)
      #expect(Swift.abs(Scalar.expm1(x) - (Scalar.exp(x) - 1)) <= tolerance * 8)
    }
    // Exact values: sin 0 = 0, cos 0 = 1, √4 = 2, 2¹⁰ = 1024, (−2)³ = −8, 0⁰ = 1.
    #expect(Scalar.sin(0) == 0 && Scalar.cos(0) == 1 && Scalar.sqrt(4) == 2)
    #expect(Scalar.pow(2, 10) == 1024 && Scalar.pow(-2, 3) == -8 && Scalar.pow(0, 0) == 1)
    // The IEEE edge cases: √(−1) and (−8)^(1/3) are NaN; 0^(−1) = +∞.
    #expect(Scalar.sqrt(-1).isNaN && Scalar.pow(-8, 1 / 3).isNaN)
    #expect(Scalar.pow(0, -1) == .infinity)
    // expm1 keeps the digits that e^x − 1 loses: expm1 x / x = 1 + x/2 + x²/6 + … .
    let tiny: Scalar = 1e-10
    #expect(Swift.abs(Scalar.expm1(tiny) / tiny - (1 + tiny / 2)) <= tolerance)
    #expect(Swift.abs((Scalar.exp(tiny) - 1) / tiny - 1) > 1e-8)  // the naive form's error
  }

  @Test func floatAndDouble() {
    identities(Float.self, tolerance: 1e-6)
    identities(Double.self, tolerance: 1e-15)
  }
}

@Suite("Tensor arithmetic and functions")
struct TensorToolboxMathTests {
  @Test func scalarsOnEitherSide() {
    let t = Tensor<Double>([[1, 2], [4, -8]])
    #expect(2 * t == Tensor([[2, 4], [8, -16]]))
    #expect(t * 2 == 2 * t)
    #expect(1 - t == Tensor([[0, -1], [-3, 9]]))
    #expect(t - 1 == Tensor([[0, 1], [3, -9]]))
    #expect(1 + t == Tensor([[2, 3], [5, -7]]))
    #expect(t + 1 == 1 + t)
    #expect(1 / t == Tensor([[1, 0.5], [0.25, -0.125]]))
    #expect(t / 2 == Tensor([[0.5, 1], [2, -4]]))
  }

  @Test func elementwiseFunctions() {
    let t = Tensor<Double>([0, 1, 4])
    #expect(t.exp() == Tensor([1, M_E, Foundation.exp(4)]))
    #expect(t.exp().log() == Tensor([0, 1, 4]))
    #expect(t.sqrt() == Tensor([0, 1, 2]))
    #expect(t.squared() == Tensor([0, 1, 16]))
    #expect(t.pow(1.5) == Tensor([0, 1, 8]))
    #expect(t.sin() == Tensor([0, Foundation.sin(1), Foundation.sin(4)]))
    #expect(t.cos() == Tensor([1, Foundation.cos(1), Foundation.cos(4)]))
    #expect(t.tanh() == Tensor([0, Foundation.tanh(1), Foundation.tanh(4)]))
    // σ(0) = 1/2; σ(x) = 1/(1 + e^(−x)).
    let sigmoid: [Double] = [0.5, 1 / (1 + Foundation.exp(-1)), 1 / (1 + Foundation.exp(-4))]
    #expect(t.sigmoid() == Tensor(sigmoid))
    #expect(Tensor<Float>([4, 9]).sqrt() == Tensor([2, 3]))
  }
}
