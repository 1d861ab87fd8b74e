import Foundation
import Testing

@testable import ChainRule

@Suite("Dense and Sequential")
struct LayerTests {
  @Test func denseComputesActivationOfXWPlusB() {
    // Batches as rows: x [2, 3] · W [3, 2] + b [2], then tanh, compared element by element.
    let layer = Dense(
      weight: Tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]), bias: Tensor([0.05, -0.05]),
      activation: .tanh)
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[1, 2, 3], [-1, 0, 0.5]]), name: "x")
    let a = layer(x)
    for row in 0..<2 {
      for column in 0..<2 {
        var z = layer.bias.value[column]
        for k in 0..<3 { z += x.value[row, k] * layer.weight.value[k, column] }
        expectClose(a.value[row, column], Foundation.tanh(z))
      }
    }
  }

  @Test(arguments: Activation.allCases)
  func everyActivationMatchesItsScalarFunction(_ activation: Activation) {
    let layer = Dense(
      weight: Tensor([[1.0, -2.0]]), bias: Tensor([0.5, 0.25]), activation: activation)
    let graph = Graph<Double>()
    let a = layer(graph.input(Tensor([[0.75]])))
    let z = [0.75 + 0.5, -1.5 + 0.25]
    let expected = z.map { z -> Double in
      switch activation {
      case .none: z
      case .sigmoid: 1 / (1 + Foundation.exp(-z))
      case .tanh: Foundation.tanh(z)
      case .relu: max(z, 0)
      case .step: z > 0 ? 1 : 0
      }
    }
    expectClose(a.value, Tensor([expected]), relative: 1e-15)
  }

  @Test func sequentialNamesParametersAndScopes() {
    var generator = Xoshiro256StarStar(seed: 1)
    let model = Sequential<Double>([
      Dense(inputSize: 3, outputSize: 4, activation: .relu, using: &generator),
      Dense(inputSize: 4, outputSize: 2, using: &generator),
    ])
    #expect(
      model.parameters.map(\.name) == [
        "layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias",
      ])
    #expect(model.parameters.map(\.value.shape) == [[3, 4], [4], [4, 2], [2]])
    #expect(model.namedParameters["layer1.weight"] === model.parameters[2])

    let graph = Graph<Double>()
    let output = model(graph.input(Tensor.zeros([5, 3]), name: "x"))
    #expect(output.shape == [5, 2])
    let layer0 = graph.nodes.filter { $0.scope == ["layer0"] }
    #expect(layer0.compactMap(\.name) == ["layer0.weight", "layer0.bias", "z", "a"])
    let layer1 = graph.nodes.filter { $0.scope == ["layer1"] }
    #expect(layer1.compactMap(\.name) == ["layer1.weight", "layer1.bias", "z"])
    #expect(graph.parameters.map(\.name) == model.parameters.map(\.name))
  }

  @Test func nestedSequentialPrefixesNames() {
    var generator = Xoshiro256StarStar(seed: 2)
    let block = Sequential<Float>([Dense(inputSize: 2, outputSize: 2, using: &generator)])
    let model = Sequential<Float>([block, Dense(inputSize: 2, outputSize: 1, using: &generator)])
    #expect(
      model.parameters.map(\.name) == [
        "layer0.layer0.weight", "layer0.layer0.bias", "layer1.weight", "layer1.bias",
      ])
  }

  @Test func sameSeedGivesTheSameModel() {
    func make(_ seed: UInt64) -> [Tensor<Float>] {
      var generator = Xoshiro256StarStar(seed: seed)
      return Dense<Float>(
        inputSize: 4, outputSize: 3, weightInitializer: .heNormal,
        biasInitializer: .uniform(lower: -0.1, upper: 0.1), using: &generator
      ).parameters.map(\.value)
    }
    #expect(make(4) == make(4))
    #expect(make(4) != make(5))
  }

  @Test func parametersBelongToTheModelNotTheGraph() {
    // Two graphs over one layer both add into the same Parameter.gradient.
    let layer = Dense(weight: Tensor([[2.0]]), bias: Tensor([0.0]))
    for _ in 0..<2 {
      let graph = Graph<Double>()
      graph.backward(from: layer(graph.input(Tensor([[3.0]]))).sum())
    }
    // d(x·w + b)/dw = x = 3 per graph, accumulated twice.
    #expect(layer.weight.gradient == Tensor([[6.0]]))
    #expect(layer.bias.gradient == Tensor([2.0]))
  }
}
