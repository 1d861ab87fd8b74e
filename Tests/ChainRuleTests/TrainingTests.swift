import Foundation
import Testing

@testable import ChainRule

/// Training end to end: the networks of the course notes, trained with the library's layers,
/// losses and optimizers. The tests named "Smoke test" check an outcome (accuracy, a falling
/// cost), which a gradient off by a few per cent still reaches: they show that training
/// works, not that the gradients are exact (the formula, oracle, fuzz and mutation tests do).
@Suite("Training")
struct TrainingTests {
  static let xorInputs = Tensor<Double>([[0, 0], [0, 1], [1, 0], [1, 1]])
  static let xorTargets = Tensor<Double>([[0], [1], [1], [0]])

  static func xorModel(seed: UInt64) -> Sequential<Double> {
    var generator = Xoshiro256StarStar(seed: seed)
    return Sequential([
      Dense(inputSize: 2, outputSize: 2, activation: .tanh, using: &generator),
      Dense(inputSize: 2, outputSize: 1, activation: .sigmoid, using: &generator),
    ])
  }

  /// XOR trained with a fresh graph per step (PyTorch style).
  static func trainXORFreshGraphs(seed: UInt64, steps: Int) -> Sequential<Double> {
    let model = xorModel(seed: seed)
    let optimizer = SGD(parameters: model.parameters, learningRate: 0.5, momentum: 0.9)
    for _ in 0..<steps {
      let graph = Graph<Double>()
      let output = model(graph.input(xorInputs, name: "x"))
      let loss = output.binaryCrossEntropy(graph.input(xorTargets, name: "y"))
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
    }
    return model
  }

  /// XOR trained in one graph built once and re-run with `forward()`.
  static func trainXOROneGraph(seed: UInt64, steps: Int) -> Sequential<Double> {
    let model = xorModel(seed: seed)
    let optimizer = SGD(parameters: model.parameters, learningRate: 0.5, momentum: 0.9)
    let graph = Graph<Double>()
    let x = graph.input(Tensor.zeros([4, 2]), name: "x")
    let y = graph.input(Tensor.zeros([4, 1]), name: "y")
    let loss = model(x).binaryCrossEntropy(y)
    for _ in 0..<steps {
      x.value = xorInputs
      y.value = xorTargets
      graph.forward()
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
    }
    return model
  }

  @Test("Smoke test: XOR reaches full accuracy (an outcome, not evidence of exact gradients)")
  func xorReachesFullAccuracy() {
    // 2 → 2 → 1 is the smallest net that can solve XOR, and it has a well-known plateau where
    // two inputs are misclassified (loss ≈ 0.35); with these settings 12 of seeds 0–19 reach
    // loss < 0.05 in 500 steps. Seed 2 is one of them, fixed so the result is reproducible.
    let model = Self.trainXOROneGraph(seed: 2, steps: 500)
    let graph = Graph<Double>()
    let output = model(graph.input(Self.xorInputs)).value
    for row in 0..<4 {
      #expect((output[row, 0] > 0.5 ? 1.0 : 0.0) == Self.xorTargets[row, 0], "row \(row)")
    }
    let loss = graph.input(output).binaryCrossEntropy(graph.input(Self.xorTargets))
    #expect(loss.value.scalar < 0.05)
  }

  @Test func freshGraphsAndOneReusedGraphTrainBitwiseIdentically() {
    let fresh = Self.trainXORFreshGraphs(seed: 1, steps: 200)
    let reused = Self.trainXOROneGraph(seed: 1, steps: 200)
    #expect(fresh.parameters.map(\.value) == reused.parameters.map(\.value))
  }

  @Test func sameSeedTrainsToBitwiseIdenticalWeights() {
    let first = Self.trainXORFreshGraphs(seed: 3, steps: 100).parameters.map(\.value)
    let second = Self.trainXORFreshGraphs(seed: 3, steps: 100).parameters.map(\.value)
    let other = Self.trainXORFreshGraphs(seed: 4, steps: 100).parameters.map(\.value)
    #expect(first == second)
    #expect(first != other)
  }

  @Test func seed002LinearRegressionReachesTheLeastSquaresLine() {
    // y = 3x + 2 plus noise, 50 points; the closed form: w = cov(x, y)/var(x), b = ȳ − w x̄.
    var generator = Xoshiro256StarStar(seed: 2)
    let xs = (0..<50).map { _ in generator.nextDouble(in: 0...2) }
    let ys = xs.map { 3 * $0 + 2 + 0.3 * generator.nextNormal() }
    let meanX = xs.reduce(0, +) / 50
    let meanY = ys.reduce(0, +) / 50
    let covariance = zip(xs, ys).map { ($0 - meanX) * ($1 - meanY) }.reduce(0, +)
    let variance = xs.map { ($0 - meanX) * ($0 - meanX) }.reduce(0, +)
    let w = covariance / variance
    let b = meanY - w * meanX

    let line = Dense(weight: Tensor([[0.0]]), bias: Tensor([0.0]))
    let optimizer = SGD(parameters: line.parameters, learningRate: 0.2)
    let graph = Graph<Double>()
    let x = graph.input(Tensor(shape: [50, 1], scalars: xs), name: "x")
    let y = graph.input(Tensor(shape: [50, 1], scalars: ys), name: "y")
    let mse = line(x).meanSquaredError(y)  // (1/N) Σ (ŷ − y)²
    for _ in 0..<1500 {
      graph.forward()
      optimizer.zeroGradients()
      graph.backward(from: mse)
      optimizer.step()
    }
    #expect(abs(line.weight.value.scalars[0] - w) < 1e-3, "w \(line.weight.value) vs \(w)")
    #expect(abs(line.bias.value.scalars[0] - b) < 1e-3, "b \(line.bias.value) vs \(b)")
  }

  @Test("Smoke test: the seed 002 perceptron computes logical AND")
  func seed002PerceptronComputesLogicalAnd() {
    // "Epic Saturday night": w = (5, 4), b = −6, step activation.
    let perceptron = Dense(weight: Tensor([[5.0], [4.0]]), bias: Tensor([-6.0]), activation: .step)
    let graph = Graph<Double>()
    let output = perceptron(graph.input(Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])))
    let sums = output.inputs[0]  // the pre-activation z
    #expect(sums.name == "z")
    #expect(sums.value == Tensor([[-6], [-2], [-1], [3]]))
    #expect(output.value == Tensor([[0], [0], [0], [1]]))
    // The step function's derivative is 0: no gradient reaches the weights.
    graph.backward(from: output.sum())
    #expect(perceptron.weight.gradient == Tensor.zeros([2, 1]))
  }

  @Test("Smoke test: the seed 001 sigmoid network lowers its cost")
  func seed001SigmoidNetworkLowersItsCost() {
    // 3 → 4 → 2 sigmoid network, batch of 100, C = mean over examples of Σⱼ (aⱼ − yⱼ)².
    var generator = Xoshiro256StarStar(seed: 1)
    let inputs = (0..<300).map { _ in generator.nextDouble(in: -1...1) }
    let x = Tensor(shape: [100, 3], scalars: inputs)
    var targets = [Double]()
    for row in 0..<100 {
      targets.append(x[row, 0] > 0 ? 1 : 0)
      targets.append(x[row, 1] + x[row, 2] > 0 ? 1 : 0)
    }
    let model = Sequential<Double>([
      Dense(inputSize: 3, outputSize: 4, activation: .sigmoid, using: &generator),
      Dense(inputSize: 4, outputSize: 2, activation: .sigmoid, using: &generator),
    ])
    let optimizer = SGD(parameters: model.parameters, learningRate: 2)
    let graph = Graph<Double>()
    let a = model(graph.input(x, name: "x"))
    let y = graph.input(Tensor(shape: [100, 2], scalars: targets), name: "y")
    let cost = (a - y).squared().sum(alongAxis: 1).mean()
    var costs = [Double]()
    for _ in 0..<300 {
      graph.forward()
      costs.append(cost.value.scalar)
      optimizer.zeroGradients()
      graph.backward(from: cost)
      optimizer.step()
    }
    #expect(costs[1] < costs[0])
    #expect(costs.last! < 0.5 * costs[0], "cost \(costs[0]) → \(costs.last!)")
  }

  @Test(arguments: [false, true])
  func seed000SingleSGDStepMatchesTheWorkedExample(withLogits: Bool) {
    // FORMULAS.md seed 000: x = (0.5, −1), w[1] = (0.3, −0.2), b[1] = 0.1, w[2] = 0.7,
    // b[2] = −0.4, y = 1, η = 0.5; BCE from probabilities, or the same from the logit.
    let model = Sequential<Double>([
      Dense(weight: Tensor([[0.3], [-0.2]]), bias: Tensor([0.1]), activation: .tanh),
      Dense(
        weight: Tensor([[0.7]]), bias: Tensor([-0.4]), activation: withLogits ? .none : .sigmoid),
    ])
    let graph = Graph<Double>()
    let output = model(graph.input(Tensor([[0.5, -1.0]]), name: "x"))
    let y = graph.constant(Tensor([[1.0]]), name: "y")
    let loss = withLogits ? output.binaryCrossEntropyWithLogits(y) : output.binaryCrossEntropy(y)
    expectClose(loss.value.scalar, 0.7468513983407549, relative: 1e-12)
    let optimizer = SGD(parameters: model.parameters, learningRate: 0.5)
    optimizer.zeroGradients()
    graph.backward(from: loss)
    let (layer0, layer1) = (model.parameters[0...1], model.parameters[2...3])
    expectClose(layer1[2].gradient.scalars[0], -0.22197954973660933, relative: 1e-12)
    expectClose(layer1[3].gradient.scalars[0], -0.5261438092395341, relative: 1e-12)
    optimizer.step()
    expectClose(layer1[2].value.scalars[0], 0.8109897748683046, relative: 1e-12)
    expectClose(layer1[3].value.scalars[0], -0.13692809538023298, relative: 1e-12)
    expectClose(
      layer0[0].value, Tensor([[0.3756859001534674], [-0.35137180030693493]]), relative: 1e-12)
    expectClose(layer0[1].value.scalars[0], 0.2513718003069349, relative: 1e-12)
  }
}
