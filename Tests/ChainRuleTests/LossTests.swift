import Foundation
import Testing

@testable import ChainRule

@Suite("Losses")
struct LossTests {
  func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

  @Test func binaryCrossEntropyMatchesItsDefinition() {
    let p = [0.9, 0.2, 0.6, 0.05]
    let y = [1.0, 0.0, 0.0, 1.0]
    let graph = Graph<Double>()
    let pNode = graph.input(Tensor(shape: [4, 1], scalars: p))
    let loss = pNode.binaryCrossEntropy(graph.constant(Tensor(shape: [4, 1], scalars: y)))
    graph.backward(from: loss)
    let terms = zip(p, y).map { p, y in -(y * log(p) + (1 - y) * log(1 - p)) }
    expectClose(loss.value.scalar, terms.reduce(0, +) / 4)
    // ∂L/∂p = (p − y)/(p(1 − p) n).
    let expected = zip(p, y).map { p, y in (p - y) / (p * (1 - p) * 4) }
    expectClose(pNode.gradient, Tensor(shape: [4, 1], scalars: expected))
  }

  @Test func binaryCrossEntropyOfCertainWrongAnswerIsLargeButFinite() {
    let graph = Graph<Double>()
    let loss = graph.input(Tensor([0.0, 1.0])).binaryCrossEntropy(graph.constant(Tensor([1, 0])))
    // Each log is clamped at −100, as in PyTorch.
    #expect(loss.value.scalar == 100)
  }

  @Test func withLogitsEqualsBCEOfSigmoidAndItsGradientIsAMinusY() {
    let z = [-3.0, -0.5, 0.0, 0.7, 4.0, 1.5]
    let y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.3]
    let graph = Graph<Double>()
    let zNode = graph.input(Tensor(shape: [3, 2], scalars: z))
    let yNode = graph.constant(Tensor(shape: [3, 2], scalars: y))
    let loss = zNode.binaryCrossEntropyWithLogits(yNode)
    let reference = zNode.sigmoid().binaryCrossEntropy(yNode)
    expectClose(loss.value.scalar, reference.value.scalar, relative: 1e-14)
    graph.backward(from: loss)
    // The course's a − y, averaged: z̄ = (σ(z) − y)/n.
    let expected = zip(z, y).map { z, y in (sigmoid(z) - y) / 6 }
    expectClose(zNode.gradient, Tensor(shape: [3, 2], scalars: expected), relative: 1e-14)
    let formula = BinaryCrossEntropyWithLogits().derivativeFormula(
      input: 0, operands: ["z", "y"], output: "L")
    #expect(formula == "(σ(z) − y)/n")
  }

  @Test func withLogitsIsStableForHugeLogits() {
    let graph = Graph<Double>()
    let z = graph.input(Tensor([1000, -1000, 1000, -1000]))
    let loss = z.binaryCrossEntropyWithLogits(graph.constant(Tensor([0, 1, 1, 0])))
    graph.backward(from: loss)
    // Wrong by 1000 twice (loss 1000 each), right twice (loss e^−1000 ≈ 0): mean 500.
    #expect(loss.value.scalar == 500)
    #expect(z.gradient == Tensor([0.25, -0.25, 0, 0]))
  }

  @Test func softmaxRowsAreProbabilitiesAndLogSoftmaxIsTheirLog() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[1, 2, 3], [1000, -1000, 999]]))
    let s = x.softmax()
    let l = x.logSoftmax()
    #expect(s.value.isFinite && l.value.isFinite)
    for row in 0..<2 {
      expectClose((0..<3).map { s.value[row, $0] }.reduce(0, +), 1, relative: 1e-15)
    }
    let e = [1, 2, 3].map { Foundation.exp(Double($0)) }
    expectClose(s.value[0, 2], e[2] / e.reduce(0, +), relative: 1e-15)
    // Row 2: softmax = (1/(1 + e⁻¹), 0, e⁻¹/(1 + e⁻¹)), log-softmax = (−log1p(e⁻¹), −2000 − …).
    expectClose(l.value[1, 0], -log1p(Foundation.exp(-1)), relative: 1e-14)
    expectClose(l.value[1, 1], -2000 - log1p(Foundation.exp(-1)), relative: 1e-14)
    expectClose(l.value[0, 1], log(s.value[0, 1]), relative: 1e-14)
  }

  @Test func softmaxCrossEntropyWithLabelsAndOneHotAgree() {
    let logits = Tensor<Double>([[2, -1, 0.5], [0.1, 0.2, 0.3], [-2, 3, 1]])
    let labels = [0, 2, 1]
    let graph = Graph<Double>()
    let z = graph.input(logits)
    let sparse = z.softmaxCrossEntropy(labels: graph.input(Tensor(labels.map(Double.init))))
    let oneHot = Tensor<Double>(labels.map { k in (0..<3).map { $0 == k ? 1.0 : 0 } })
    let dense = z.softmaxCrossEntropy(targets: graph.input(oneHot))
    // L = −(1/3) Σ_b log softmax(z_b)[k_b].
    var expected = 0.0
    for (row, k) in labels.enumerated() {
      let e = (0..<3).map { Foundation.exp(logits[row, $0]) }
      expected -= log(e[k] / e.reduce(0, +)) / 3
    }
    expectClose(sparse.value.scalar, expected, relative: 1e-14)
    expectClose(dense.value.scalar, expected, relative: 1e-14)
    graph.backward(from: sparse)
    let sparseGradient = z.gradient
    graph.backward(from: dense)
    expectClose(sparseGradient, z.gradient, relative: 1e-14)
    // (softmax − onehot)/B.
    let softmax = z.softmax().value
    expectClose(sparseGradient, (softmax - oneHot) * (1.0 / 3), relative: 1e-14)
  }

  @Test func softmaxCrossEntropyHasNoNaNForLogitsOfAThousand() {
    let graph = Graph<Double>()
    let z = graph.input(Tensor([[1000, -1000], [-1000, 1000], [1000, -1000]]))
    let loss = z.softmaxCrossEntropy(labels: graph.constant(Tensor([1, 1, 0])))
    graph.backward(from: loss)
    // Row 0 is wrong by 2000 (log-softmax −2000), rows 1 and 2 right: L = 2000/3;
    // gradients (softmax − onehot)/3 = ±1/3 in row 0, 0 elsewhere.
    expectClose(loss.value.scalar, 2000.0 / 3)
    #expect(z.gradient == Tensor([[1.0 / 3, -1.0 / 3], [0, 0], [0, 0]]))
    let dense = z.softmaxCrossEntropy(targets: graph.constant(Tensor([[0, 1], [0, 1], [1, 0]])))
    graph.backward(from: dense)
    expectClose(dense.value.scalar, 2000.0 / 3)
    #expect(z.gradient.isFinite)
  }

  @Test func sumReductionIsBatchTimesMean() {
    let graph = Graph<Float>()
    let z = graph.input(Tensor([[0.5, -0.5, 2], [1, 1, 1]]))
    let labels = graph.constant(Tensor([2, 0]))
    let mean = z.softmaxCrossEntropy(labels: labels).value.scalar
    let sum = z.softmaxCrossEntropy(labels: labels, reduction: .sum).value.scalar
    #expect(abs(sum - 2 * mean) < 1e-6)
  }

  @Test func mismatchedShapesAreNamedInTheError() {
    let operands = [
      ShapeError.Operand(name: "a", shape: [4, 1]), ShapeError.Operand(name: "y", shape: [4]),
    ]
    #expect(
      throws: ShapeError(
        #"binaryCrossEntropy: prediction "a" [4, 1] and target "y" [4] differ in shape"#)
    ) {
      try BinaryCrossEntropy().outputShape(operands)
    }
    let labels = [
      ShapeError.Operand(name: "logits", shape: [4, 10]),
      ShapeError.Operand(name: "labels", shape: [4, 10]),
    ]
    #expect(throws: ShapeError.self) { try SparseSoftmaxCrossEntropy().outputShape(labels) }
  }
}
