import Foundation
import Testing

@testable import ChainRule

/// The layers of the convolutional toolbox: values against hand formulas, gradients against
/// central differences in Double.
@Suite("Conv2d, MaxPool2d, Flatten, Dropout, LayerNorm, Embedding")
struct ConvolutionLayerTests {
  /// Every gradient of `loss` with respect to `nodes` against a central difference.
  func expectGradientsMatchCentralDifferences(
    _ loss: Node<Double>, _ nodes: [Node<Double>], _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    loss.graph.zeroGradients()
    loss.graph.backward(from: loss)
    for node in nodes {
      expectClose(
        node.gradient, centralDifference(of: loss, withRespectTo: node), relative: 1e-7,
        absolute: 1e-8, "\(what) ∂L/∂\(node.label)", sourceLocation: sourceLocation)
    }
  }

  @Test func conv2dIsReluOfConvolutionPlusBiasAndItsGradientsCheck() {
    var generator = Xoshiro256StarStar(seed: 3)
    let layer = Conv2d<Double>(
      inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1,
      activation: .relu, biasInitializer: .uniform(lower: -0.5, upper: 0.5), using: &generator)
    #expect(layer.weight.value.shape == [3, 2, 3, 3])
    #expect(layer.bias.value.shape == [3, 1, 1])
    // He uniform: |w| ≤ √(6 / fanIn), fanIn = C·kH·kW = 18.
    #expect(layer.weight.value.scalars.allSatisfy { abs($0) <= (6.0 / 18).squareRoot() })
    var values = SplitMix64(seed: 4)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([2, 2, 5, 5], using: &values), name: "x")
    let a = layer(x)
    let convolved = ConvolutionOpTests.directConvolution(
      x.value, layer.weight.value, stride: 2, padding: 1, dilation: 1)
    #expect(a.shape == [2, 3, 3, 3])
    for i in 0..<a.value.count {
      let channel = (i / 9) % 3
      expectClose(
        a.value.scalars[i], max(convolved.scalars[i] + layer.bias.value[channel, 0, 0], 0))
    }
    let r = graph.constant(randomTensor(a.shape, using: &values))
    let weight = graph.nodes.first { $0.name == "conv.weight" }!
    let bias = graph.nodes.first { $0.name == "conv.bias" }!
    expectGradientsMatchCentralDifferences((a * r).sum(), [x, weight, bias], "conv2d")
  }

  @Test func aSmallCNNInSequentialChecksEndToEnd() {
    var generator = Xoshiro256StarStar(seed: 5)
    let model = Sequential<Double>([
      Conv2d(
        inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1, activation: .tanh,
        using: &generator),
      MaxPool2d(kernelSize: 2),
      LayerNorm(size: 3),
      Flatten(),
      Dropout(probability: 0.25, seed: 9),
      Dense(inputSize: 2 * 3 * 3, outputSize: 4, using: &generator),
    ])
    #expect(
      model.parameters.map(\.name) == [
        "layer0.weight", "layer0.bias", "layer2.weight", "layer2.bias", "layer5.weight",
        "layer5.bias",
      ])
    let dropout = model.layers[4] as! Dropout<Double>
    var values = SplitMix64(seed: 6)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([2, 1, 6, 6], using: &values), name: "x")
    let output = model(x)
    #expect(output.shape == [2, 4])
    let loss = (output * graph.constant(randomTensor([2, 4], using: &values))).sum()
    // Hold the mask fixed across the finite differences: every forward redraws it from the
    // generator, so restore the generator before each one.
    let start = dropout.generator
    let parameters = graph.nodes.filter { $0.kind == .parameter }
    loss.graph.zeroGradients()
    dropout.generator = start
    graph.forward()
    graph.backward(from: loss)
    for node in [x] + parameters {
      var numeric = Tensor<Double>.zeros(node.shape)
      let original = node.value
      for i in 0..<original.count {
        var sides = [0.0, 0.0]
        for (side, step) in [1e-6, -1e-6].enumerated() {
          var moved = original
          moved.scalars[i] += step
          node.value = moved
          dropout.generator = start
          graph.forward()
          sides[side] = loss.value.scalar
        }
        numeric.scalars[i] = (sides[0] - sides[1]) / 2e-6
      }
      node.value = original
      expectClose(node.gradient, numeric, relative: 1e-7, absolute: 1e-8, "∂L/∂\(node.label)")
    }
  }

  @Test func maxPoolAndFlattenLayersPoolAndReshape() {
    let graph = Graph<Double>()
    let x = graph.input(
      Tensor(shape: [1, 2, 2, 4], scalars: (0..<16).map { Double(($0 * 7) % 16) }), name: "x")
    let pooled = MaxPool2d<Double>(kernelSize: 2)(x)
    // Channel 0: 0 7 14 5 / 12 3 10 1 → 12, 14; channel 1: 8 15 6 13 / 4 11 2 9 → 15, 13.
    #expect(pooled.value.scalars == [12, 14, 15, 13])
    let flat = Flatten<Double>()(pooled)
    #expect(flat.shape == [1, 4])
    #expect(flat.value.scalars == pooled.value.scalars)
    #expect(MaxPool2d<Double>(kernelSize: 2).parameters.isEmpty)
  }

  @Test func dropoutZeroesAboutPAndScalesTheRestInTrainingOnly() {
    let dropout = Dropout<Double>(probability: 0.3, seed: 42)
    #expect(dropout.isTraining)
    let graph = Graph<Double>()
    let x = graph.input(Tensor(shape: [100, 100], repeating: 2), name: "x")
    let a = dropout(x)
    let kept = a.value.scalars.filter { $0 != 0 }
    // Survivors are x / (1 − p); the kept fraction is Binomial(10⁴, 0.7)/10⁴: sd 0.0046, so
    // ±0.02 is more than 4 sd.
    #expect(kept.allSatisfy { abs($0 - 2 / 0.7) < 1e-12 })
    #expect(abs(Double(kept.count) / 10_000 - 0.7) < 0.02)
    // The gradient is the mask: ∂(Σ a)/∂x = m.
    graph.backward(from: a.sum())
    #expect(x.gradient.scalars == a.value.scalars.map { $0 / 2 })
    // A new forward draws a new mask.
    let first = a.value
    graph.forward()
    #expect(a.value != first)
    // Evaluation: the identity, switched through Sequential on the built graph.
    let model = Sequential<Double>([dropout])
    model.setTraining(false)
    #expect(!dropout.isTraining)
    graph.forward()
    #expect(a.value == x.value)
    model.setTraining(true)
    graph.forward()
    #expect(a.value != x.value)
    // The same seed draws the same masks.
    let again = Dropout<Double>(probability: 0.3, seed: 42)
    #expect(again(Graph<Double>().input(x.value)).value == first)
  }

  @Test func layerNormMatchesItsFormulaAndItsGradientsCheck() {
    // Row (1, 2, 3, 6): μ = 3, σ² = (4 + 1 + 0 + 9)/4 = 3.5, x̂ = (x − 3)/√(3.5 + ε).
    let layer = LayerNorm<Double>(size: 4)
    layer.gain.value = Tensor([1, 2, 0.5, -1])
    layer.shift.value = Tensor([0, 0.1, 0.2, 0.3])
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[1, 2, 3, 6], [0, 0, 1, -1]]), name: "x")
    let a = layer(x)
    let s = 1 / (3.5 + 1e-5).squareRoot()
    let row0 = [-2 * s * 1, -1 * s * 2 + 0.1, 0 * 0.5 + 0.2, 3 * s * -1 + 0.3]
    // Row (0, 0, 1, −1): μ = 0, σ² = 0.5.
    let t = 1 / (0.5 + 1e-5).squareRoot()
    let row1 = [0, 0.1, t * 0.5 + 0.2, t + 0.3]
    expectClose(a.value, Tensor([row0, row1]), relative: 1e-14, absolute: 1e-15)
    var values = SplitMix64(seed: 7)
    let loss = (a * graph.constant(randomTensor([2, 4], using: &values))).sum()
    let parameters = graph.nodes.filter { $0.kind == .parameter }
    #expect(parameters.map(\.label) == ["layerNorm.weight", "layerNorm.bias"])
    expectGradientsMatchCentralDifferences(loss, [x] + parameters, "layerNorm")
  }

  @Test func embeddingPicksRowsAndAddsTheGradientsOfRepeatedIndices() {
    let layer = Embedding<Double>(table: Tensor([[1, 2], [3, 4], [5, 6]]))
    let graph = Graph<Double>()
    let indices = graph.input(Tensor([[2, 0], [2, 1]]), name: "k", requiresGradient: false)
    let a = layer(indices)
    #expect(a.shape == [2, 2, 2])
    #expect(a.value.scalars == [5, 6, 1, 2, 5, 6, 3, 4])
    graph.backward(from: (a * graph.constant(Tensor(shape: [2, 2, 2], repeating: 1))).sum())
    // Row 2 is picked twice: Ē[2] = 1 + 1.
    #expect(layer.table.gradient == Tensor([[1, 1], [1, 1], [2, 2]]))
    var generator = Xoshiro256StarStar(seed: 1)
    let drawn = Embedding<Double>(count: 5, dimension: 3, using: &generator)
    #expect(drawn.table.value.shape == [5, 3])
    #expect(drawn.parameters.map(\.name) == ["embedding.weight"])
  }
}
