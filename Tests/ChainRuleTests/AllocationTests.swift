import CMallocCounter
import Testing

@testable import ChainRule

/// Heap allocations of a training step on a built graph — forward, zeroing, backward, an SGD
/// step — counted on the test's own thread by the malloc counter (`CMallocCounter`, linked
/// into the test bundle; under a sanitizer, whose runtime owns malloc, nothing is counted and
/// the suite is skipped, saying so).
///
/// In an optimised build (`swift build -c release`, as `.ci/run` runs this suite) every layer's
/// step allocates nothing after warm-up, as Dense's does. A debug build allocates in generic,
/// unspecialised code of the whole step (Dense alone, too), so there the suite holds each op's
/// own fast paths — in-place forward and accumulating VJP, called directly — to none.
@Suite(
  "allocations per training step",
  .enabled(
    if: cr_allocation_counting_available() == 1,
    "no malloc counter in this build (a sanitizer, or not glibc)"))
struct AllocationTests {
  /// Allocations on this thread while `body` runs.
  static func allocations(_ body: () -> Void) -> UInt64 {
    let before = cr_thread_allocation_count()
    body()
    return cr_thread_allocation_count() - before
  }

  /// Allocations per step of `steps` training steps after 3 warm-up steps.
  static func allocationsPerStep(
    _ graph: Graph<Float>, loss: Node<Float>, parameters: [Parameter<Float>], steps: Int = 4
  ) -> UInt64 {
    let optimizer = SGD(parameters: parameters, learningRate: 0.01)
    func step() {
      graph.forward()
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
    }
    for _ in 0..<3 { step() }
    return allocations { for _ in 0..<steps { step() } } / UInt64(steps)
  }

  /// Each layer's training graph: the layer, then a Dense head and a softmax cross-entropy on
  /// integer labels. The layers' ops are the ones issue 15 added.
  static let layers = [
    "Dense", "Embedding", "Conv2d", "MaxPool2d", "Flatten", "Dropout", "LayerNorm",
  ]

  /// The graph of `layer`'s training step, its loss, and every parameter.
  static func trainingGraph(_ layer: String) -> (Graph<Float>, Node<Float>, [Parameter<Float>]) {
    var generator = SplitMix64(seed: 15)
    let graph = Graph<Float>()
    let batch = 8
    func input(_ shape: [Int]) -> Node<Float> {
      let count = shape.reduce(1, *)
      return graph.input(
        Tensor(shape: shape, scalars: (0..<count).map { _ in Float(generator.nextNormal()) }),
        name: "x", requiresGradient: false)
    }
    var body: [any Layer<Float>] = []
    let x: Node<Float>
    switch layer {
    case "Dense":
      x = input([batch, 32])
    case "Embedding":
      // 8 ids with repeats, so that a row collects two gradients.
      x = graph.input(Tensor([3, 7, 3, 0, 11, 7, 3, 5]), name: "ids", requiresGradient: false)
      body = [Embedding<Float>(count: 12, dimension: 32, using: &generator)]
    case "Conv2d":
      x = input([batch, 2, 4, 4])
      body = [
        Conv2d<Float>(
          inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, activation: .relu,
          using: &generator),
        Flatten<Float>(),
      ]
    case "MaxPool2d":
      x = input([batch, 2, 8, 8])
      body = [
        Conv2d<Float>(
          inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, using: &generator),
        MaxPool2d<Float>(kernelSize: 2), Flatten<Float>(),
      ]
    case "Flatten":
      x = input([batch, 2, 4, 4])
      body = [Flatten<Float>()]
    case "Dropout":
      x = input([batch, 32])
      body = [
        Dense<Float>(inputSize: 32, outputSize: 32, using: &generator),
        Dropout<Float>(probability: 0.25, seed: 3),
      ]
    case "LayerNorm":
      x = input([batch, 32])
      body = [
        Dense<Float>(inputSize: 32, outputSize: 32, using: &generator), LayerNorm<Float>(size: 32),
      ]
    default:
      fatalError("no training graph for \(layer)")
    }
    let head = Dense<Float>(inputSize: 32, outputSize: 10, using: &generator)
    let model = Sequential<Float>(body + [head])
    let labels = graph.input(
      Tensor(shape: [batch], scalars: (0..<batch).map { Float($0 % 10) }), name: "labels",
      requiresGradient: false)
    let loss = model(x).softmaxCrossEntropy(labels: labels)
    return (graph, loss, model.parameters)
  }

  @Test(arguments: layers)
  func aBuiltGraphsTrainingStepAllocatesNothing(_ layer: String) {
    let (graph, loss, parameters) = Self.trainingGraph(layer)
    let perStep = Self.allocationsPerStep(graph, loss: loss, parameters: parameters)
    #if DEBUG
      // Unspecialised generic code allocates in a debug build; the count is printed only.
      print("\(layer): \(perStep) allocations per step (debug build)")
    #else
      #expect(perStep == 0, "\(layer): \(perStep) allocations per training step")
    #endif
  }

  /// The count is not vacuous: the same step through an op that has no in-place forward or
  /// accumulating VJP (`Concat`, which allocates its result and each share) counts its
  /// allocations, in every build.
  @Test func aStepThroughAnOpWithoutFastPathsIsCounted() {
    var generator = SplitMix64(seed: 16)
    let graph = Graph<Float>()
    let x = graph.input(Tensor<Float>.zeros([8, 16]), name: "x", requiresGradient: false)
    let dense = Dense<Float>(inputSize: 16, outputSize: 16, name: "hidden", using: &generator)
    let head = Dense<Float>(inputSize: 32, outputSize: 10, name: "head", using: &generator)
    let hidden = dense(x)
    let labels = graph.input(Tensor<Float>.zeros([8]), name: "labels", requiresGradient: false)
    let loss = head(graph.concat([hidden, hidden], alongAxis: 1)).softmaxCrossEntropy(
      labels: labels)
    let perStep = Self.allocationsPerStep(
      graph, loss: loss, parameters: dense.parameters + head.parameters)
    #expect(perStep > 0)
  }

  /// Gather's in-place forward and accumulating VJP, called as the plan calls them on reused
  /// buffers: no allocation, in a debug build too (the default paths, `forward(_:)` and `vjp`,
  /// allocate a result per call).
  @Test func gathersFastPathsAllocateNothing() {
    let table = Tensor<Float>(shape: [5, 3], scalars: (0..<15).map { Float($0) })
    let inputs = [table, Tensor<Float>([[4, 0], [4, 2]])]
    var output = Tensor<Float>.zeros([2, 2, 3])
    let gradient = Tensor<Float>(shape: [2, 2, 3], repeating: 1)
    var shares = [Tensor<Float>.zeros([5, 3]), Tensor<Float>.zeros([2, 2])]
    let operation = Gather()
    let needs = [true, false]
    Gather().forward(inputs, into: &output)  // warm-up: any lazy set-up is not counted
    let count = Self.allocations {
      for _ in 0..<10 {
        operation.forward(inputs, into: &output)
        operation.accumulateVJP(
          inputs, output: output, gradient: gradient, into: &shares, needs: needs)
      }
    }
    #expect(count == 0)
    // Ten VJPs of Ȳ = 1 with the indices [[4, 0], [4, 2]]: row 4 collects 2 per call, rows
    // 0 and 2 collect 1, rows 1 and 3 nothing; the output holds rows 4, 0, 4, 2 (T[r, j] = 3r + j).
    #expect(shares[0].scalars == [10, 10, 10, 0, 0, 0, 10, 10, 10, 0, 0, 0, 20, 20, 20])
    #expect(output.scalars == [12, 13, 14, 0, 1, 2, 12, 13, 14, 6, 7, 8])
  }
}
