import ChainRule

/// Conv: a small CNN on 28 × 28 single-channel images — conv 1→16 (3×3, padding 1, ReLU),
/// max pool 2, conv 16→32 (3×3, padding 1, ReLU), max pool 2, flatten (32·7·7 = 1,568),
/// dense 1,568→10 — softmax cross-entropy on a random batch of 64 with integer labels, one
/// SGD step (lr 0.01) on a graph built once; the same network as `nn.Conv2d` in peers.py.
func convolutionWorkload(quick: Bool) -> Measurement {
  var generator = Xoshiro256StarStar(seed: 6)
  let batch = 64
  let model = Sequential<Float>([
    Conv2d(
      inputChannels: 1, outputChannels: 16, kernelSize: 3, padding: 1, activation: .relu,
      using: &generator),
    MaxPool2d(kernelSize: 2),
    Conv2d(
      inputChannels: 16, outputChannels: 32, kernelSize: 3, padding: 1, activation: .relu,
      using: &generator),
    MaxPool2d(kernelSize: 2),
    Flatten(),
    Dense(inputSize: 32 * 7 * 7, outputSize: 10, using: &generator),
  ])
  let images = Tensor<Float>(
    shape: [batch, 1, 28, 28],
    scalars: (0..<batch * 28 * 28).map { _ in Float(generator.nextNormal()) })
  let labels = Tensor<Float>(
    shape: [batch], scalars: (0..<batch).map { _ in Float(generator.nextInt(below: 10)) })
  let graph = Graph<Float>()
  let x = graph.input(images, name: "x", requiresGradient: false)
  let labelNode = graph.input(labels, name: "labels", requiresGradient: false)
  let loss = model(x).softmaxCrossEntropy(labels: labelNode)
  let optimizer = SGD(parameters: model.parameters, learningRate: 0.01)
  return measure(
    "Conv CNN 28×28, conv16-pool-conv32-pool-dense, batch 64", warmup: quick ? 1 : 10,
    iterations: quick ? 3 : 50, minimumSeconds: quick ? 0 : 1
  ) {
    trainingStep(graph, loss: loss, optimizer: optimizer)
  }
}

/// Conv-layers: the other new layers' training steps on a built graph — dropout, layer
/// normalisation and an embedding lookup — so that their allocations per step are measured
/// (a sequence of 16 token ids → embedding 100×32 → LayerNorm → dropout 0.1 → dense 32→10,
/// batch 8 sequences, softmax cross-entropy per token, SGD).
func toolboxLayersWorkload(quick: Bool) -> Measurement {
  var generator = Xoshiro256StarStar(seed: 7)
  let (sequences, length, vocabulary) = (8, 16, 100)
  let embedding = Embedding<Float>(count: vocabulary, dimension: 32, using: &generator)
  let model = Sequential<Float>([
    LayerNorm(size: 32),
    Dropout(probability: 0.1, seed: 8),
    Dense(inputSize: 32, outputSize: 10, using: &generator),
  ])
  let tokens = Tensor<Float>(
    shape: [sequences * length],
    scalars: (0..<sequences * length).map { _ in Float(generator.nextInt(below: vocabulary)) })
  let labels = Tensor<Float>(
    shape: [sequences * length],
    scalars: (0..<sequences * length).map { _ in Float(generator.nextInt(below: 10)) })
  let graph = Graph<Float>()
  let ids = graph.input(tokens, name: "tokens", requiresGradient: false)
  let labelNode = graph.input(labels, name: "labels", requiresGradient: false)
  let loss = model(embedding(ids)).softmaxCrossEntropy(labels: labelNode)
  let optimizer = SGD(parameters: embedding.parameters + model.parameters, learningRate: 0.01)
  return measure(
    "Conv-layers embed-LayerNorm-dropout-dense", warmup: quick ? 1 : 10,
    iterations: quick ? 3 : 200, minimumSeconds: quick ? 0 : 0.5
  ) {
    trainingStep(graph, loss: loss, optimizer: optimizer)
  }
}
