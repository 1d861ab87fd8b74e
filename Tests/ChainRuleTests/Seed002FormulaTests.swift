import Foundation
import Testing

@testable import ChainRule

/// Seed 002: linear regression by gradient descent, the perceptron, and the δ form of
/// back-propagation. Every formula recomputed in plain Swift from the forward values.
@Suite("Seed 002 formulas")
struct Seed002FormulaTests {
  static let xs = [1.0, 2.0, 3.0, 4.0, 5.0]
  static let ys = [2.2, 2.8, 4.5, 3.7, 5.5]

  /// ŷ = w·x + b and MSE = (1/N) Σ (yᵢ − ŷᵢ)², built with the library.
  static func regression(w: Double, b: Double) -> (Node<Double>, Node<Double>, Node<Double>) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(xs), name: "x")
    let y = graph.input(Tensor(ys), name: "y")
    let weight = graph.parameter(Tensor(w), name: "w")
    let bias = graph.parameter(Tensor(b), name: "b")
    let prediction = weight * x + bias
    let mse = (y - prediction).squared().mean().named("MSE")
    graph.backward(from: mse)
    return (weight, bias, prediction)
  }

  // dMSE/dw = −(2/N) Σ xᵢ (yᵢ − ŷᵢ)
  @Test func seed002_linearRegression_dMSE_dw_equals_minus_2_over_N_sum_x_times_residual() {
    let (weight, _, prediction) = Self.regression(w: 0.4, b: 0.1)
    let n = Double(Self.xs.count)
    let expected =
      -2 / n
      * (0..<Self.xs.count).reduce(0) { $0 + Self.xs[$1] * (Self.ys[$1] - prediction.value[$1]) }
    expectClose(weight.gradient.scalar, expected)
  }

  // dMSE/db = −(2/N) Σ (yᵢ − ŷᵢ)
  @Test func seed002_linearRegression_dMSE_db_equals_minus_2_over_N_sum_residual() {
    let (_, bias, prediction) = Self.regression(w: 0.4, b: 0.1)
    let n = Double(Self.xs.count)
    let expected =
      -2 / n * (0..<Self.xs.count).reduce(0) { $0 + Self.ys[$1] - prediction.value[$1] }
    expectClose(bias.gradient.scalar, expected)
  }

  // "Epic Saturday night": w = (5, 4), b = −6, step activation. Sums −6, −2, −1, 3 and
  // outputs 0, 0, 0, 1 (logical AND); the step passes no gradient back (its derivative is 0).
  @Test func seed002_perceptron_sums_outputs_and_zero_step_derivative() {
    let graph = Graph<Double>()
    let inputs = graph.input(Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), name: "X")
    let weights = graph.parameter(Tensor([[5], [4]]), name: "w")
    let bias = graph.parameter(Tensor([-6]), name: "b")
    let sums = inputs.matmul(weights) + bias
    let outputs = sums.step()
    #expect(sums.value == Tensor([[-6], [-2], [-1], [3]]))
    #expect(outputs.value == Tensor([[0], [0], [0], [1]]))
    graph.backward(from: outputs.sum())
    #expect(weights.gradient == Tensor.zeros([2, 1]))
    #expect(bias.gradient == Tensor.zeros([1]))
  }

  /// Two sigmoid layers in the course's column layout: z = W·a + b.
  struct DeltaNetwork {
    let graph = Graph<Double>()
    let a0: Tensor<Double>, y: PlainMatrix
    let w1: Node<Double>, b1: Node<Double>, a1: Node<Double>
    let w2: Node<Double>, b2: Node<Double>, a2: Node<Double>

    init() {
      var generator = SplitMix64(seed: 2)
      a0 = randomTensor([3, 1], using: &generator)
      y = PlainMatrix([[0.2], [0.9]])
      let input = graph.input(a0, name: "a(L-2)")
      w1 = graph.parameter(randomTensor([4, 3], using: &generator), name: "W(L-1)")
      b1 = graph.parameter(randomTensor([4, 1], using: &generator), name: "b(L-1)")
      w2 = graph.parameter(randomTensor([2, 4], using: &generator), name: "W(L)")
      b2 = graph.parameter(randomTensor([2, 1], using: &generator), name: "b(L)")
      a1 = (w1.matmul(input) + b1).sigmoid()
      a2 = (w2.matmul(a1) + b2).sigmoid()
      // C = ½ Σⱼ (yⱼ − aⱼ)²
      let cost = ((graph.constant(y.tensor, name: "y") - a2).squared() * 0.5).sum()
      graph.backward(from: cost)
    }

    /// δ(L) = (a(L) − y) ⊙ a(L)(1 − a(L))
    var deltaL: PlainMatrix {
      let a = PlainMatrix(a2.value)
      return a.zip(y) { $0 - $1 }.zip(a) { $0 * $1 * (1 - $1) }
    }
    /// δ(L−1) = (W(L)ᵀ δ(L)) ⊙ f'(z(L−1)), with f' = a(1 − a) for the sigmoid.
    var deltaLm1: PlainMatrix {
      (PlainMatrix(w2.value).transposed • deltaL).zip(PlainMatrix(a1.value)) { $0 * $1 * (1 - $1) }
    }
  }

  // dC/dW(L) = δ(L) · a(L−1)ᵀ
  @Test func seed002_dC_dWL_equals_deltaL_times_aLm1_transposed() {
    let n = DeltaNetwork()
    expectClose(n.w2.gradient, (n.deltaL • PlainMatrix(n.a1.value).transposed).tensor)
  }

  // dC/db(L) = δ(L)
  @Test func seed002_dC_dbL_equals_deltaL() {
    let n = DeltaNetwork()
    expectClose(n.b2.gradient, n.deltaL.tensor)
  }

  // dC/dW(L−1) = δ(L−1) · a(L−2)ᵀ
  @Test func seed002_dC_dWLm1_equals_deltaLm1_times_aLm2_transposed() {
    let n = DeltaNetwork()
    expectClose(n.w1.gradient, (n.deltaLm1 • PlainMatrix(n.a0).transposed).tensor)
  }

  // dC/db(L−1) = δ(L−1)
  @Test func seed002_dC_dbLm1_equals_deltaLm1() {
    let n = DeltaNetwork()
    expectClose(n.b1.gradient, n.deltaLm1.tensor)
  }
}
