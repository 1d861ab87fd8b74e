import Foundation
import Testing

@testable import ChainRule

/// Softmax and the softmax cross-entropies against their hand-derived gradients, computed in
/// plain Swift from the logits alone (the test's own exp, sums and Jacobian); no library
/// value or gradient enters an expectation.
@Suite("Softmax formulas")
struct SoftmaxFormulaTests {
  /// Row-wise softmax by the definition: pᵢⱼ = e^zᵢⱼ / Σₖ e^zᵢₖ (logits here are moderate,
  /// so no shift is needed).
  static func softmax(_ z: [[Double]]) -> [[Double]] {
    z.map { row in
      let e = row.map { Foundation.exp($0) }
      let total = e.reduce(0, +)
      return e.map { $0 / total }
    }
  }

  static func draw(_ rows: Int, _ columns: Int, seed: UInt64) -> [[Double]] {
    var generator = SplitMix64(seed: seed)
    return PlainMatrix(randomTensor([rows, columns], using: &generator)).rows
  }

  /// Two cases: 3 rows of 4 classes, and 2 rows of 5 away from them.
  static let shapes: [(rows: Int, classes: Int, seed: UInt64)] = [(3, 4, 31), (2, 5, 57)]

  // y = softmax(z) row by row; ∂yᵢ/∂zⱼ = yᵢ(δᵢⱼ − yⱼ) (the Jacobian, written out), so for a
  // seed ȳ: z̄ⱼ = Σᵢ ȳᵢ yᵢ (δᵢⱼ − yⱼ), summed here over the full Jacobian.
  @Test(arguments: shapes.indices)
  func softmaxGradientIsTheJacobianTransposedTimesTheSeed(_ index: Int) {
    let (rows, classes, seed) = Self.shapes[index]
    let z = Self.draw(rows, classes, seed: seed)
    let seedGradient = Self.draw(rows, classes, seed: seed + 1)
    let y = Self.softmax(z)
    var expected = Array(repeating: Array(repeating: 0.0, count: classes), count: rows)
    for r in 0..<rows {
      for j in 0..<classes {
        for i in 0..<classes {
          let jacobian: Double = y[r][i] * ((i == j ? 1 : 0) - y[r][j])
          expected[r][j] += seedGradient[r][i] * jacobian
        }
      }
    }
    let graph = Graph<Double>()
    let logits = graph.parameter(Tensor(z), name: "z")
    let output = logits.softmax()
    graph.backward(from: output, seed: Tensor(seedGradient))
    expectClose(output.value, Tensor(y), "softmax(z)")
    expectClose(logits.gradient, Tensor(expected), relative: 1e-12, absolute: 1e-15, "z̄")
  }

  // Each row of softmax sums to 1, so a seed constant along a row (ȳ = c·1) has
  // z̄ = y ⊙ (c − Σᵢ c yᵢ) = 0: the gradient of Σⱼ yⱼ is zero. A diagonal-only Jacobian
  // yᵢ(1 − yᵢ) would give c·y(1 − y) ≠ 0 instead.
  @Test func softmaxOfAConstantSeedHasZeroGradient() {
    let z = Self.draw(2, 3, seed: 8)
    let graph = Graph<Double>()
    let logits = graph.parameter(Tensor(z), name: "z")
    graph.backward(from: logits.softmax(), seed: Tensor(shape: [2, 3], repeating: 2.5))
    for value in logits.gradient.scalars { #expect(abs(value) < 1e-15) }
  }

  // L = −(1/B) Σ_b Σ_c y_bc log p_bc with one-hot y: ∂L/∂z = (p − y)/B. With soft targets t:
  // ∂L/∂z_bc = (p_bc Σ_k t_bk − t_bc)/B and ∂L/∂t_bc = −log p_bc / B. `.sum` drops the 1/B.
  @Test(arguments: shapes.indices)
  func softmaxCrossEntropyGradientIsPMinusY(_ index: Int) {
    let (rows, classes, seed) = Self.shapes[index]
    let z = Self.draw(rows, classes, seed: seed)
    let p = Self.softmax(z)
    let labels = (0..<rows).map { ($0 * 3 + 1) % classes }
    let oneHot = labels.map { k in (0..<classes).map { $0 == k ? 1.0 : 0.0 } }
    let b = Double(rows)
    for (reduction, scale) in [(LossReduction.mean, 1 / b), (.sum, 1.0)] {
      let graph = Graph<Double>()
      let logits = graph.parameter(Tensor(z), name: "z")
      let loss = logits.softmaxCrossEntropy(
        targets: graph.constant(Tensor(oneHot)), reduction: reduction)
      graph.backward(from: loss)
      let expectedLoss = -scale * (0..<rows).map { Foundation.log(p[$0][labels[$0]]) }.reduce(0, +)
      expectClose(loss.value.scalar, expectedLoss, "L (\(reduction))")
      let expected = (0..<rows).map { r in (0..<classes).map { (p[r][$0] - oneHot[r][$0]) * scale }
      }
      expectClose(logits.gradient, Tensor(expected), relative: 1e-12, absolute: 1e-16, "∂L/∂z")

      // The same loss with class indices: the sparse op, the same p − y.
      let sparse = Graph<Double>()
      let sparseLogits = sparse.parameter(Tensor(z), name: "z")
      let sparseLoss = sparseLogits.softmaxCrossEntropy(
        labels: sparse.constant(Tensor(labels.map(Double.init))), reduction: reduction)
      sparse.backward(from: sparseLoss)
      expectClose(sparseLoss.value.scalar, expectedLoss, "sparse L (\(reduction))")
      expectClose(
        sparseLogits.gradient, Tensor(expected), relative: 1e-12, absolute: 1e-16, "sparse ∂L/∂z")
    }

    // Soft targets (rows that need not sum to 1), both gradients.
    let t = Self.draw(rows, classes, seed: seed + 2).map { $0.map { abs($0) / 2 } }
    let graph = Graph<Double>()
    let logits = graph.parameter(Tensor(z), name: "z")
    let targets = graph.parameter(Tensor(t), name: "t")
    graph.backward(from: logits.softmaxCrossEntropy(targets: targets))
    let expectedZ = (0..<rows).map { r in
      (0..<classes).map { c in (p[r][c] * t[r].reduce(0, +) - t[r][c]) / b }
    }
    let expectedT = p.map { $0.map { -Foundation.log($0) / b } }
    expectClose(logits.gradient, Tensor(expectedZ), relative: 1e-12, absolute: 1e-16, "∂L/∂z")
    expectClose(targets.gradient, Tensor(expectedT), relative: 1e-12, absolute: 1e-16, "∂L/∂t")
  }

  // log-softmax ℓ = z − log Σ e^z row by row; ∂ℓᵢ/∂zⱼ = δᵢⱼ − pⱼ, so z̄ⱼ = ȳⱼ − pⱼ Σᵢ ȳᵢ.
  @Test(arguments: shapes.indices)
  func logSoftmaxGradientIsSeedMinusPTimesItsSum(_ index: Int) {
    let (rows, classes, seed) = Self.shapes[index]
    let z = Self.draw(rows, classes, seed: seed)
    let seedGradient = Self.draw(rows, classes, seed: seed + 3)
    let p = Self.softmax(z)
    let expected = (0..<rows).map { r in
      (0..<classes).map { j in seedGradient[r][j] - p[r][j] * seedGradient[r].reduce(0, +) }
    }
    let graph = Graph<Double>()
    let logits = graph.parameter(Tensor(z), name: "z")
    let output = logits.logSoftmax()
    graph.backward(from: output, seed: Tensor(seedGradient))
    expectClose(output.value, Tensor(p.map { $0.map { Foundation.log($0) } }), "log p")
    expectClose(logits.gradient, Tensor(expected), relative: 1e-12, absolute: 1e-15, "z̄")
  }
}
