import Foundation
import Testing

@testable import ChainRule

/// Seed 001: the chain rule with sigmoid units and squared error `C0 = (a(L) − y)²` (no ½),
/// σ' = a(1 − a). Every formula recomputed in plain Swift from the forward values.
@Suite("Seed 001 formulas")
struct Seed001FormulaTests {
  /// A chain of one unit per layer: a(L−2) → [w(L−1), b(L−1), σ] → a(L−1) → [w(L), b(L), σ] → a(L).
  struct Chain {
    let graph = Graph<Double>()
    let aLm2: Double, y: Double
    let wLm1: Node<Double>, bLm1: Node<Double>, aLm1: Node<Double>
    let wL: Node<Double>, bL: Node<Double>, aL: Node<Double>

    init(
      aLm2: Double = 0.35, wLm1: Double = 0.8, bLm1: Double = -0.3, wL: Double = -1.2,
      bL: Double = 0.45, y: Double = 0.9
    ) {
      (self.aLm2, self.y) = (aLm2, y)
      let input = graph.input(Tensor(aLm2), name: "a(L-2)")
      self.wLm1 = graph.parameter(Tensor(wLm1), name: "w(L-1)")
      self.bLm1 = graph.parameter(Tensor(bLm1), name: "b(L-1)")
      self.wL = graph.parameter(Tensor(wL), name: "w(L)")
      self.bL = graph.parameter(Tensor(bL), name: "b(L)")
      aLm1 = (self.wLm1 * input + self.bLm1).sigmoid().named("a(L-1)")
      aL = (self.wL * aLm1 + self.bL).sigmoid().named("a(L)")
      let cost = (aL - graph.constant(Tensor(y), name: "y")).squared().named("C0")
      graph.backward(from: cost)
    }

    var a: Double { aL.value.scalar }
    var aPrevious: Double { aLm1.value.scalar }
    /// σ'(z(L)) from the forward value: a(L)(1 − a(L)).
    var sigmaPrimeL: Double { a * (1 - a) }
    var sigmaPrimeLm1: Double { aPrevious * (1 - aPrevious) }
  }

  // dC0/dw(L) = ∂z(L)/∂w(L) · ∂a(L)/∂z(L) · ∂C0/∂a(L) = a(L−1) · σ'(z(L)) · 2(a(L) − y)
  @Test func seed001_dC0_dwL_equals_aLm1_times_sigmaPrime_zL_times_2_aL_minus_y() {
    let c = Chain()
    expectClose(c.wL.gradient.scalar, c.aPrevious * c.sigmaPrimeL * 2 * (c.a - c.y))
  }

  // dC0/db(L) = 1 · σ'(z(L)) · 2(a(L) − y)
  @Test func seed001_dC0_dbL_equals_sigmaPrime_zL_times_2_aL_minus_y() {
    let c = Chain()
    expectClose(c.bL.gradient.scalar, c.sigmaPrimeL * 2 * (c.a - c.y))
  }

  // dC0/da(L−1) = w(L) · σ'(z(L)) · 2(a(L) − y)
  @Test func seed001_dC0_daLm1_equals_wL_times_sigmaPrime_zL_times_2_aL_minus_y() {
    let c = Chain()
    expectClose(c.aLm1.gradient.scalar, c.wL.value.scalar * c.sigmaPrimeL * 2 * (c.a - c.y))
  }

  // One layer earlier, the same pattern with dC/da(L−1) in place of 2(a(L) − y)·σ'…:
  // dC/dw(L−1) = a(L−2) · σ'(z(L−1)) · dC/da(L−1), dC/db(L−1) = σ'(z(L−1)) · dC/da(L−1).
  @Test func seed001_previousLayer_dC_dwLm1_equals_aLm2_times_sigmaPrime_zLm1_times_dC_daLm1() {
    let c = Chain()
    let dCdaLm1 = c.wL.value.scalar * c.sigmaPrimeL * 2 * (c.a - c.y)
    expectClose(c.wLm1.gradient.scalar, c.aLm2 * c.sigmaPrimeLm1 * dCdaLm1, "dw(L-1)")
    expectClose(c.bLm1.gradient.scalar, c.sigmaPrimeLm1 * dCdaLm1, "db(L-1)")
  }

  // Over n examples the cost is the mean: dC/dw = (1/n) Σₖ dCₖ/dw.
  @Test func seed001_meanOverExamples_dC_dw_equals_average_of_per_example_gradients() {
    let inputs = [0.35, -1.1, 0.7, 2.0]
    let targets = [0.9, 0.1, 0.5, 0.0]
    let (w, b) = (-1.2, 0.45)
    let graph = Graph<Double>()
    let x = graph.input(Tensor(inputs), name: "x")
    let weight = graph.parameter(Tensor(w), name: "w")
    let bias = graph.parameter(Tensor(b), name: "b")
    let a = (weight * x + bias).sigmoid()
    let cost = (a - graph.constant(Tensor(targets), name: "y")).squared().mean()
    graph.backward(from: cost)
    // Per example k: dCk/dw = x_k · σ'(z_k) · 2(a_k − y_k), with σ' from the forward value.
    var sumW = 0.0
    var sumB = 0.0
    for k in inputs.indices {
      let ak = a.value.scalars[k]
      let delta = ak * (1 - ak) * 2 * (ak - targets[k])
      sumW += inputs[k] * delta
      sumB += delta
    }
    expectClose(weight.gradient.scalar, sumW / Double(inputs.count), "dC/dw")
    expectClose(bias.gradient.scalar, sumB / Double(inputs.count), "dC/db")
  }

  // Several outputs: C0 = Σⱼ (aⱼ − yⱼ)², dC0/da_k(L−1) = Σⱼ w_jk · σ'(z_j) · 2(a_j − y_j).
  @Test func seed001_severalOutputs_dC0_dakLm1_equals_sum_j_wjk_sigmaPrime_zj_2_aj_minus_yj() {
    let graph = Graph<Double>()
    let previous = graph.input(Tensor([[0.2], [-0.6], [0.9]]), name: "a(L-1)")  // column
    let w = PlainMatrix([[0.5, -0.3, 0.8], [-1.1, 0.4, 0.25]])  // [outputs, inputs]
    let weight = graph.parameter(w.tensor, name: "W(L)")
    let bias = graph.parameter(Tensor([[0.1], [-0.2]]), name: "b(L)")
    let y = [0.3, 0.7]
    let a = (weight.matmul(previous) + bias).sigmoid()
    let cost = (a - graph.constant(Tensor([[y[0]], [y[1]]]), name: "y")).squared().sum()
    graph.backward(from: cost)
    for k in 0..<3 {
      let expected = (0..<2).reduce(0.0) { total, j in
        let aj = a.value[j, 0]
        return total + w.rows[j][k] * aj * (1 - aj) * 2 * (aj - y[j])
      }
      expectClose(previous.gradient[k, 0], expected, "dC0/da\(k)(L-1)")
    }
  }

  // The matrix example: 3 inputs → 4 sigmoid → 2 sigmoid, batch of 100, C = mean over
  // examples of Σⱼ (aⱼ − yⱼ)². Hand back-propagation with columns as examples:
  // δ2 = 2(A2 − Y) ⊙ A2(1 − A2) / n, dW2 = δ2 · A1ᵀ, db2 = Σ δ2;
  // δ1 = (W2ᵀ δ2) ⊙ A1(1 − A1), dW1 = δ1 · Xᵀ, db1 = Σ δ1.
  @Test func seed001_network_3_4_2_batch100_matches_hand_backpropagation() {
    var generator = SplitMix64(seed: 1)
    let n = 100
    let x = randomTensor([3, n], using: &generator)
    let y = randomTensor([2, n], domain: .positive, using: &generator).map { $0 / 3 }
    let graph = Graph<Double>()
    let input = graph.input(x, name: "X")
    let w1 = graph.parameter(randomTensor([4, 3], using: &generator), name: "W1")
    let b1 = graph.parameter(randomTensor([4, 1], using: &generator), name: "b1")
    let w2 = graph.parameter(randomTensor([2, 4], using: &generator), name: "W2")
    let b2 = graph.parameter(randomTensor([2, 1], using: &generator), name: "b2")
    let a1 = (w1.matmul(input) + b1).sigmoid()
    let a2 = (w2.matmul(a1) + b2).sigmoid()
    let cost = (a2 - graph.input(y, name: "Y")).squared().sum(alongAxis: 0).mean()
    graph.backward(from: cost)

    let (A1, A2, Y) = (PlainMatrix(a1.value), PlainMatrix(a2.value), PlainMatrix(y))
    let delta2 = A2.zip(Y) { 2 * ($0 - $1) / Double(n) }.zip(A2) { $0 * $1 * (1 - $1) }
    let delta1 = (PlainMatrix(w2.value).transposed • delta2).zip(A1) { $0 * $1 * (1 - $1) }
    expectClose(w2.gradient, (delta2 • A1.transposed).tensor, relative: 1e-12, "dW2")
    expectClose(b2.gradient, delta2.rowSums.tensor, relative: 1e-12, "db2")
    expectClose(w1.gradient, (delta1 • PlainMatrix(x).transposed).tensor, relative: 1e-12, "dW1")
    expectClose(b1.gradient, delta1.rowSums.tensor, relative: 1e-12, "db1")
  }
}
