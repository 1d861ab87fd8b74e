import CMallocCounter
import ChainRule
import Dispatch

/// One training step on a graph built once: re-evaluate, clear gradients, back-propagate,
/// update — the step definition shared with the peers (forward + backward + update).
func trainingStep(_ graph: Graph<Float>, loss: Node<Float>, optimizer: some Optimizer<Float>) {
  graph.forward()
  optimizer.zeroGradients()
  graph.backward(from: loss)
  optimizer.step()
}

/// W1: the seed network 2 → 2 tanh → 1 sigmoid on the 4 XOR points, binary cross-entropy
/// (from logits, as the peers do), one SGD step.
func seedNetworkWorkload(quick: Bool) -> Measurement {
  var generator = Xoshiro256StarStar(seed: 1)
  let model = Sequential<Float>([
    Dense(inputSize: 2, outputSize: 2, activation: .tanh, using: &generator),
    Dense(inputSize: 2, outputSize: 1, using: &generator),
  ])
  let graph = Graph<Float>()
  // Data needs no gradient, as in the peers (PyTorch tensors without requires_grad).
  let x = graph.input(
    Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), name: "x", requiresGradient: false)
  let y = graph.input(Tensor([[0], [1], [1], [0]]), name: "y", requiresGradient: false)
  let loss = model(x).binaryCrossEntropyWithLogits(y)
  let optimizer = SGD(parameters: model.parameters, learningRate: 0.5)
  return measure(
    "W1 seed net 2→2→1, XOR, SGD step", warmup: quick ? 10 : 1000,
    iterations: quick ? 20 : 20_000, minimumSeconds: quick ? 0 : 0.5
  ) {
    trainingStep(graph, loss: loss, optimizer: optimizer)
  }
}

/// The update rule of a training workload: SGD (lr 0.01) or Adam with PyTorch's defaults.
enum WorkloadOptimizer {
  case sgd, adam
}

/// W2 and W3: a ReLU MLP with softmax cross-entropy on a random batch with integer labels.
func mlpWorkload(
  _ name: String, sizes: [Int], batch: Int, optimizer rule: WorkloadOptimizer = .sgd,
  quick: Bool
) -> Measurement {
  let step = mlpTrainingStep(sizes: sizes, batch: batch, optimizer: rule)
  return measure(
    name, warmup: quick ? 1 : 20, iterations: quick ? 3 : 100, minimumSeconds: quick ? 0 : 1,
    step)
}

/// W2 with SGD and W2 with Adam measured together, their steps alternating in blocks of ten,
/// so that both see the same minutes of a noisy host: the medians of each, and Adam's over
/// SGD's (the goal: at most 1.15). The separate W2 and W2-Adam workloads run seconds apart.
func pairedOptimizerWorkload(quick: Bool) -> (sgd: Measurement, adam: Measurement) {
  let sgd = mlpTrainingStep(sizes: [784, 128, 10], batch: 64, optimizer: .sgd)
  let adam = mlpTrainingStep(sizes: [784, 128, 10], batch: 64, optimizer: .adam)
  for _ in 0..<(quick ? 1 : 20) {
    sgd()
    adam()
  }
  let blocks = quick ? 1 : 60
  var sgdSamples: [Double] = []
  var adamSamples: [Double] = []
  sgdSamples.reserveCapacity(blocks * 10)
  adamSamples.reserveCapacity(blocks * 10)
  func timed(_ step: () -> Void, into samples: inout [Double]) {
    for _ in 0..<10 {
      let t0 = DispatchTime.now().uptimeNanoseconds
      step()
      samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
  }
  let allocationsBefore = cr_allocation_count()
  for _ in 0..<blocks {
    timed(sgd, into: &sgdSamples)
    timed(adam, into: &adamSamples)
  }
  // Both workloads' steps together (the sample buffers' capacity was reserved above).
  let allocations = Double(cr_allocation_count() - allocationsBefore) / Double(blocks * 20)
  func median(_ samples: [Double]) -> Double { samples.sorted()[samples.count / 2] }
  return (
    Measurement(
      workload: "W2-paired-SGD W2 with SGD, alternating with Adam",
      medianSeconds: median(sgdSamples), allocationsPerStep: allocations),
    Measurement(
      workload: "W2-paired-Adam W2 with Adam, alternating with SGD",
      medianSeconds: median(adamSamples), allocationsPerStep: allocations)
  )
}

/// One training step of a ReLU MLP with softmax cross-entropy on a random batch with integer
/// labels (W2, W3), on a graph built once.
func mlpTrainingStep(sizes: [Int], batch: Int, optimizer rule: WorkloadOptimizer) -> () -> Void {
  var generator = Xoshiro256StarStar(seed: 2)
  let layers = (1..<sizes.count).map { i in
    Dense<Float>(
      inputSize: sizes[i - 1], outputSize: sizes[i],
      activation: i < sizes.count - 1 ? .relu : .none, using: &generator)
  }
  let model = Sequential<Float>(layers)
  let features = Tensor<Float>(
    shape: [batch, sizes[0]],
    scalars: (0..<batch * sizes[0]).map { _ in Float(generator.nextNormal()) })
  let labels = Tensor<Float>(
    shape: [batch], scalars: (0..<batch).map { _ in Float(generator.nextInt(below: sizes.last!)) })
  let graph = Graph<Float>()
  let x = graph.input(features, name: "x", requiresGradient: false)
  let labelNode = graph.input(labels, name: "labels", requiresGradient: false)
  let loss = model(x).softmaxCrossEntropy(labels: labelNode)
  let optimizer: any Optimizer<Float> =
    switch rule {
    case .sgd: SGD(parameters: model.parameters, learningRate: 0.01)
    case .adam: Adam(parameters: model.parameters)
    }
  return { trainingStep(graph, loss: loss, optimizer: optimizer) }
}
