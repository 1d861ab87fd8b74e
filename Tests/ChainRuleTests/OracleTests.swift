import Foundation
import Testing
import _Differentiation

@testable import ChainRule

// An independent oracle: the same composite functions written as plain Swift over `[Double]`
// and differentiated by the compiler (`_Differentiation`, reverse mode), compared with the
// library's graph gradients to 1e-10. Matrices are row-major arrays; batches are rows.

/// The element-wise activations used below.
enum OracleActivation {
  case identity, sigmoid, tanh, relu
}

@differentiable(reverse)
func oracleSigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

@differentiable(reverse)
func oracleActivate(_ z: Double, _ activation: OracleActivation) -> Double {
  switch activation {
  case .identity: return z
  case .sigmoid: return oracleSigmoid(z)
  case .tanh: return tanh(z)
  case .relu: return z > 0 ? z : 0
  }
}

/// f(X·W + b) for a batch X: [rows, inputs], W: [inputs, outputs], b: [outputs].
@differentiable(reverse)
func oracleDense(
  _ x: [Double], _ w: [Double], _ b: [Double], rows: Int, inputs: Int, outputs: Int,
  _ activation: OracleActivation
) -> [Double] {
  var out: [Double] = []
  for row in 0..<rows {
    for j in 0..<outputs {
      var z = b[j]
      for i in 0..<inputs { z += x[row * inputs + i] * w[i * outputs + j] }
      out.append(oracleActivate(z, activation))
    }
  }
  return out
}

/// Σᵢ (aᵢ − yᵢ)² / n.
@differentiable(reverse)
func oracleSquaredError(_ a: [Double], _ y: [Double], dividedBy n: Double) -> Double {
  var total = 0.0
  for i in 0..<withoutDerivative(at: a.count) {
    let d = a[i] - y[i]
    total += d * d
  }
  return total / n
}

/// One dense layer's parameters.
struct OracleLayer: Differentiable {
  var weight: [Double]
  var bias: [Double]

  init(_ weight: Tensor<Double>, _ bias: Tensor<Double>) {
    self.weight = weight.scalars
    self.bias = bias.scalars
  }
}

/// Up to three layers' parameters and the input batch, all differentiated at once.
struct OracleNetwork: Differentiable {
  var x: [Double]
  var layers: [OracleLayer]
}

/// −(1/n) Σᵢ Σⱼ yᵢⱼ log(e^zᵢⱼ / Σₖ e^zᵢₖ) for logits z: [rows, classes].
@differentiable(reverse)
func oracleSoftmaxCrossEntropy(_ z: [Double], _ y: [Double], rows: Int, classes: Int) -> Double {
  var total = 0.0
  for row in 0..<rows {
    var normalizer = 0.0
    for k in 0..<classes { normalizer += exp(z[row * classes + k]) }
    for j in 0..<classes {
      total += y[row * classes + j] * log(exp(z[row * classes + j]) / normalizer)
    }
  }
  return -total / Double(rows)
}

/// Row-wise softmax e^zᵢⱼ / Σₖ e^zᵢₖ of logits z: [rows, classes], by the definition.
@differentiable(reverse)
func oracleSoftmax(_ z: [Double], rows: Int, classes: Int) -> [Double] {
  var out: [Double] = []
  for row in 0..<rows {
    var normalizer = 0.0
    for k in 0..<classes { normalizer += exp(z[row * classes + k]) }
    for j in 0..<classes { out.append(exp(z[row * classes + j]) / normalizer) }
  }
  return out
}

/// Σᵢ wᵢ aᵢ: a scalar that weighs every element of `a`, so its gradient is the full VJP.
@differentiable(reverse)
func oracleWeighted(_ a: [Double], _ w: [Double]) -> Double {
  var total = 0.0
  for i in 0..<withoutDerivative(at: a.count) { total += a[i] * w[i] }
  return total
}

/// The network's output: its layers applied in turn to the batch `network.x`.
@differentiable(reverse)
func oracleForward(
  _ network: OracleNetwork, sizes: [Int], rows: Int, activations: [OracleActivation]
) -> [Double] {
  var a = network.x
  for index in 0..<withoutDerivative(at: activations.count) {
    a = oracleDense(
      a, network.layers[index].weight, network.layers[index].bias, rows: rows,
      inputs: sizes[index], outputs: sizes[index + 1], activations[index])
  }
  return a
}

@Suite("Library gradients vs _Differentiation")
struct OracleTests {
  /// Builds `graph` nodes for the layers and compares every parameter's and the input's
  /// gradient with the oracle's.
  private func compare(
    graph: Graph<Double>, loss: Node<Double>, x: Node<Double>,
    weights: [(Node<Double>, Node<Double>)],
    oracle: OracleNetwork.TangentVector, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    graph.backward(from: loss)
    expectClose(
      x.gradient.scalars, oracle.x.base, "∂L/∂x", sourceLocation: sourceLocation)
    for (index, (w, b)) in weights.enumerated() {
      let layer = oracle.layers.base[index]
      expectClose(
        w.gradient.scalars, layer.weight.base, "∂L/∂W\(index)", sourceLocation: sourceLocation)
      expectClose(
        b.gradient.scalars, layer.bias.base, "∂L/∂b\(index)", sourceLocation: sourceLocation)
    }
  }

  private func expectClose(
    _ actual: [Double], _ expected: [Double], _ what: String,
    sourceLocation: SourceLocation
  ) {
    #expect(actual.count == expected.count, "\(what): counts", sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
      ChainRuleTests.expectClose(
        a, e, relative: 1e-10, absolute: 1e-12, what, sourceLocation: sourceLocation)
    }
  }

  @Test func seed000TanhSigmoidWithBinaryCrossEntropy() {
    // FORMULAS.md seed 000: 2 → 1 tanh → 1 sigmoid, L = −(y log a2 + (1 − y) log(1 − a2)).
    let xValue = Tensor<Double>([[0.5, -1.0]])
    let y = 1.0
    let start = OracleNetwork(
      x: xValue.scalars,
      layers: [
        OracleLayer(Tensor([[0.3], [-0.2]]), Tensor([0.1])),
        OracleLayer(Tensor([[0.7]]), Tensor([-0.4])),
      ])
    let oracle = gradient(at: start) { p -> Double in
      let a1 = oracleDense(
        p.x, p.layers[0].weight, p.layers[0].bias, rows: 1, inputs: 2, outputs: 1, .tanh)
      let a2 = oracleDense(
        a1, p.layers[1].weight, p.layers[1].bias, rows: 1, inputs: 1, outputs: 1, .sigmoid)
      return -(y * log(a2[0]) + (1 - y) * log(1 - a2[0]))
    }

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let w1 = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
    let b1 = graph.parameter(Tensor([0.1]), name: "b1")
    let w2 = graph.parameter(Tensor([[0.7]]), name: "w2")
    let b2 = graph.parameter(Tensor([-0.4]), name: "b2")
    let a2 = ((x.matmul(w1) + b1).tanh().matmul(w2) + b2).sigmoid()
    let target = graph.input(Tensor([[y]]), name: "y")
    let loss = (-(target * a2.log() + (1 - target) * (1 - a2).log())).sum()
    compare(graph: graph, loss: loss, x: x, weights: [(w1, b1), (w2, b2)], oracle: oracle)
  }

  @Test func seed001SigmoidNetworkWithSquaredErrorOverABatch() {
    // FORMULAS.md seed 001: 3 → 4 → 2, sigmoid everywhere, C = (1/n) Σₖ Σⱼ (aⱼ − yⱼ)², n = 5.
    var generator = SplitMix64(seed: 1)
    let n = 5
    let xValue = randomTensor([n, 3], using: &generator)
    let yValue = randomTensor([n, 2], domain: .positive, using: &generator).map { $0 / 3 }
    let shapes = [([3, 4], [4]), ([4, 2], [2])]
    let values = shapes.map {
      (randomTensor($0.0, using: &generator), randomTensor($0.1, using: &generator))
    }
    let start = OracleNetwork(x: xValue.scalars, layers: values.map { OracleLayer($0.0, $0.1) })
    let oracle = gradient(at: start) { p -> Double in
      let a1 = oracleDense(
        p.x, p.layers[0].weight, p.layers[0].bias, rows: n, inputs: 3, outputs: 4, .sigmoid)
      let a2 = oracleDense(
        a1, p.layers[1].weight, p.layers[1].bias, rows: n, inputs: 4, outputs: 2, .sigmoid)
      return oracleSquaredError(a2, yValue.scalars, dividedBy: Double(n))
    }

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let y = graph.input(yValue, name: "y")
    let weights = values.enumerated().map { index, value in
      (graph.parameter(value.0, name: "W\(index)"), graph.parameter(value.1, name: "b\(index)"))
    }
    let a1 = (x.matmul(weights[0].0) + weights[0].1).sigmoid()
    let a2 = (a1.matmul(weights[1].0) + weights[1].1).sigmoid()
    let loss = (a2 - y).squared().sum(alongAxis: 1).mean()
    compare(graph: graph, loss: loss, x: x, weights: weights, oracle: oracle)
  }

  @Test func softmaxCrossEntropyFromPrimitives() {
    // Z = X·W + b, pᵢⱼ = e^zᵢⱼ / Σₖ e^zᵢₖ, L = −(1/n) Σᵢ Σⱼ yᵢⱼ log pᵢⱼ, one-hot y; n = 4, 3 classes.
    var generator = SplitMix64(seed: 2)
    let (n, features, classes) = (4, 3, 3)
    let xValue = randomTensor([n, features], using: &generator)
    let labels = [0, 2, 1, 2]
    var yValue = Tensor<Double>.zeros([n, classes])
    for (row, label) in labels.enumerated() { yValue[row, label] = 1 }
    let wValue = randomTensor([features, classes], using: &generator)
    let bValue = randomTensor([classes], using: &generator)
    let start = OracleNetwork(x: xValue.scalars, layers: [OracleLayer(wValue, bValue)])
    let oracle = gradient(at: start) { p -> Double in
      let z = oracleDense(
        p.x, p.layers[0].weight, p.layers[0].bias, rows: n, inputs: features, outputs: classes,
        .identity)
      return oracleSoftmaxCrossEntropy(z, yValue.scalars, rows: n, classes: classes)
    }

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let y = graph.input(yValue, name: "y")
    let w = graph.parameter(wValue, name: "W")
    let b = graph.parameter(bValue, name: "b")
    let e = (x.matmul(w) + b).exp()
    let p = e / e.sum(alongAxis: 1).reshaped([n, 1])
    let loss = -(y * p.log()).sum(alongAxis: 1).mean()
    compare(graph: graph, loss: loss, x: x, weights: [(w, b)], oracle: oracle)
  }

  @Test func threeLayerPerceptronWithTanhReluSigmoid() {
    // 4 → 5 tanh → 3 relu → 1 sigmoid, mean squared error over a batch of 6.
    var generator = SplitMix64(seed: 3)
    let n = 6
    let sizes = [4, 5, 3, 1]
    let activations: [OracleActivation] = [.tanh, .relu, .sigmoid]
    let xValue = randomTensor([n, sizes[0]], using: &generator)
    let yValue = randomTensor([n, 1], using: &generator)
    let values = (0..<3).map { index in
      (
        randomTensor([sizes[index], sizes[index + 1]], using: &generator),
        randomTensor([sizes[index + 1]], using: &generator)
      )
    }
    let start = OracleNetwork(x: xValue.scalars, layers: values.map { OracleLayer($0.0, $0.1) })
    let oracle = gradient(at: start) { p -> Double in
      let a = oracleForward(p, sizes: sizes, rows: n, activations: activations)
      return oracleSquaredError(a, yValue.scalars, dividedBy: Double(n))
    }

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let y = graph.input(yValue, name: "y")
    let weights = values.enumerated().map { index, value in
      (graph.parameter(value.0, name: "W\(index)"), graph.parameter(value.1, name: "b\(index)"))
    }
    var a = x
    var preActivations: [Node<Double>] = []
    for (index, (w, b)) in weights.enumerated() {
      let z = a.matmul(w) + b
      preActivations.append(z)
      a = [z.tanh(), z.relu(), z.sigmoid()][index]
    }
    let loss = (a - y).squared().mean()
    // The relu layer's pre-activations are away from the kink (where both sides take 0), and
    // some units are active and some not, so both branches are compared.
    let relu = preActivations[1].value.scalars
    #expect(relu.allSatisfy { abs($0) > 1e-3 })
    #expect(relu.contains { $0 > 0 } && relu.contains { $0 < 0 })
    compare(graph: graph, loss: loss, x: x, weights: weights, oracle: oracle)
  }

  @Test func softmaxOpWithAWeightedSum() {
    // L = Σ w ⊙ softmax(X·W + b): the library's fused softmax op (with its max shift) vs the
    // definition differentiated by the compiler; n = 4, 3 features, 5 classes.
    var generator = SplitMix64(seed: 6)
    let (n, features, classes) = (4, 3, 5)
    let xValue = randomTensor([n, features], using: &generator)
    let wValue = randomTensor([features, classes], using: &generator)
    let bValue = randomTensor([classes], using: &generator)
    let weights = randomTensor([n, classes], using: &generator)
    let start = OracleNetwork(x: xValue.scalars, layers: [OracleLayer(wValue, bValue)])
    let oracle = gradient(at: start) { p -> Double in
      let z = oracleDense(
        p.x, p.layers[0].weight, p.layers[0].bias, rows: n, inputs: features, outputs: classes,
        .identity)
      return oracleWeighted(oracleSoftmax(z, rows: n, classes: classes), weights.scalars)
    }

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let w = graph.parameter(wValue, name: "W")
    let b = graph.parameter(bValue, name: "b")
    let loss = ((x.matmul(w) + b).softmax() * graph.constant(weights)).sum()
    compare(graph: graph, loss: loss, x: x, weights: [(w, b)], oracle: oracle)
  }

  @Test(arguments: [false, true])
  func softmaxCrossEntropyOps(sparse: Bool) {
    // L = −(1/n) Σᵢ Σⱼ yᵢⱼ log softmax(X·W + b)ᵢⱼ with one-hot y: the fused
    // softmaxCrossEntropy op (targets) and its sparse form (class indices) vs the definition.
    var generator = SplitMix64(seed: 7)
    let (n, features, classes) = (5, 4, 3)
    let xValue = randomTensor([n, features], using: &generator)
    let labels = [2, 0, 1, 1, 0]
    var yValue = Tensor<Double>.zeros([n, classes])
    for (row, label) in labels.enumerated() { yValue[row, label] = 1 }
    let wValue = randomTensor([features, classes], using: &generator)
    let bValue = randomTensor([classes], using: &generator)
    let start = OracleNetwork(x: xValue.scalars, layers: [OracleLayer(wValue, bValue)])
    let oracle = gradient(at: start) { p -> Double in
      let z = oracleDense(
        p.x, p.layers[0].weight, p.layers[0].bias, rows: n, inputs: features, outputs: classes,
        .identity)
      return oracleSoftmaxCrossEntropy(z, yValue.scalars, rows: n, classes: classes)
    }

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let w = graph.parameter(wValue, name: "W")
    let b = graph.parameter(bValue, name: "b")
    let z = x.matmul(w) + b
    let loss =
      sparse
      ? z.softmaxCrossEntropy(labels: graph.input(Tensor(labels.map(Double.init)), name: "k"))
      : z.softmaxCrossEntropy(targets: graph.input(yValue, name: "y"))
    compare(graph: graph, loss: loss, x: x, weights: [(w, b)], oracle: oracle)
  }
}
