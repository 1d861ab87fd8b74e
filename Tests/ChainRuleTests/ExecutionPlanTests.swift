import Testing

@testable import ChainRule

/// The compiled execution plan (what `forward()` and `backward(from:)` run) against the
/// definitions: backward's plain reverse loop (`gradientsByDefinition`) and each op's own
/// in-place forward, bit for bit, in Float and Double — on every catalog check, on random
/// graphs, and on the cases where buffer bookkeeping could go wrong (fan-out, x · x, frozen
/// parameters, inputs without gradient, new batch sizes, a seed, a user op the plan does not
/// know).
@Suite("Execution plan vs the plain loop")
struct ExecutionPlanTests {
  /// Whether two tensors hold the same bits (NaN payloads and signed zeros included).
  static func identical<Scalar: TensorScalar>(_ a: Tensor<Scalar>?, _ b: Tensor<Scalar>?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a.shape == b.shape
      && zip(a.scalars, b.scalars).allSatisfy { x, y in
        withUnsafeBytes(of: x) { bx in withUnsafeBytes(of: y) { by in bx.elementsEqual(by) } }
      }
  }

  /// Runs the planned backward and the definition on `graph` and expects the same gradients,
  /// node by node and in the parameters (which the planned pass added into).
  static func expectPlanMatchesDefinition<Scalar: TensorScalar>(
    _ graph: Graph<Scalar>, from output: Node<Scalar>, seed: Tensor<Scalar>? = nil,
    _ context: String
  ) {
    let before = graph.parameters.map(\.gradient)
    graph.backward(from: output, seed: seed)
    let planned = graph.gradients
    let reference = graph.gradientsByDefinition(from: output.id, seed: seed)
    #expect(planned.count == reference.count)
    for id in reference.indices where !identical(planned[id], reference[id]) {
      Issue.record("\(context): gradient of \(graph.label(of: id)) differs from the definition")
    }
    // Each parameter received its node's gradient once, added to what it held.
    for (index, parameter) in graph.parameters.enumerated() {
      var expected = before[index]
      for id in reference.indices where graph.records[id].parameter === parameter {
        if let gradient = reference[id] { expected += gradient }
      }
      #expect(identical(parameter.gradient, expected), "\(context): \(parameter.name)")
    }
  }

  /// The planned forward against each op's in-place forward on fresh outputs, node by node.
  static func expectForwardMatchesOps<Scalar: TensorScalar>(
    _ graph: Graph<Scalar>, _ context: String
  ) {
    graph.forward()
    for node in graph.nodes {
      guard let operation = node.operation else { continue }
      var output = Tensor<Scalar>.zeros(node.shape)
      operation.forward(node.inputs.map(\.value), into: &output)
      #expect(identical(node.value, output), "\(context): value of \(node.label)")
    }
  }

  static let checkCases: [(String, OperationCheck)] = OperationCatalog.all.flatMap { op in
    op.checks.map { ("\(op): \($0.description)", $0) }
  }

  @Test(arguments: checkCases.map(\.0))
  func catalogChecks(_ name: String) {
    let check = Self.checkCases.first { $0.0 == name }!.1
    var generator = SplitMix64(seed: 7)
    let graph = Graph<Double>()
    // Every other operand a parameter, the rest inputs with and without a gradient.
    let leaves = check.inputShapes.enumerated().map { index, shape in
      let value = randomTensor(shape, domain: check.domain, using: &generator)
      return index % 2 == 0
        ? graph.parameter(value, name: "p\(index)")
        : graph.input(value, name: "x\(index)", requiresGradient: index % 4 == 1)
    }
    let node = check.build(graph, leaves)
    Self.expectForwardMatchesOps(graph, name)
    let seed = randomTensor(node.shape, using: &generator)
    Self.expectPlanMatchesDefinition(graph, from: node, seed: seed, name)
    Self.expectPlanMatchesDefinition(graph, from: node.sum(), name + ", summed")
  }

  @Test(arguments: 0..<60)
  func randomGraphs(_ seed: Int) {
    randomGraph(seed, as: Double.self)
    randomGraph(seed, as: Float.self)
  }

  func randomGraph<Scalar: TensorScalar>(_ seed: Int, as _: Scalar.Type) {
    let drawn = RandomGraphGenerator().makeRandomGraph(
      seed: UInt64(seed), steps: 3...12, as: Scalar.self)
    let context = "seed \(seed), \(Scalar.self)"
    Self.expectForwardMatchesOps(drawn.graph, context)
    Self.expectPlanMatchesDefinition(drawn.graph, from: drawn.loss, context)
    // Again after the parameters moved, on the reused buffers.
    for parameter in drawn.graph.parameters {
      parameter.value = parameter.value.map { $0 * Scalar(0.75) + Scalar(0.125) }
    }
    Self.expectForwardMatchesOps(drawn.graph, context + ", re-run")
    Self.expectPlanMatchesDefinition(drawn.graph, from: drawn.loss, context + ", re-run")
  }

  /// A small MLP with every case at once: inputs without a gradient, a frozen weight, a
  /// hidden layer used twice (fan-out) and by x · x (h ⊙ h), an op the plan does not
  /// specialise (mean, a user op), and new batch sizes fed between runs.
  func mlp<Scalar: TensorScalar>(as _: Scalar.Type) {
    var generator = SplitMix64(seed: 3)
    func random(_ shape: [Int]) -> Tensor<Scalar> {
      randomTensor(shape, using: &generator).converted()
    }
    let graph = Graph<Scalar>()
    let x = graph.input(random([4, 3]), name: "x", requiresGradient: false)
    let w1 = graph.parameter(random([3, 5]), name: "w1")
    let b1 = graph.parameter(random([5]), name: "b1")
    let w2 = graph.parameter(random([5, 2]), name: "w2")
    let c = graph.input(random([2]), name: "c")
    w2.parameter!.isFrozen = true
    let h = (x.matmul(w1) + b1).tanh()
    let y = h.matmul(w2) * c - h.sum(alongAxis: 1).sum()
    let cube = graph.apply(UserCube(), [y])
    let loss = (cube.sigmoid() + (h * h).mean() + y.relu()).mean()
    for batch in [4, 4, 7, 1, 7] {
      x.value = random([batch, 3])
      Self.expectForwardMatchesOps(graph, "batch \(batch), \(Scalar.self)")
      Self.expectPlanMatchesDefinition(graph, from: loss, "batch \(batch), \(Scalar.self)")
      #expect(w2.parameter!.hasGradient == false, "a frozen parameter gets no gradient")
      // From an inner node with a seed, and from a node that reaches only part of the graph.
      Self.expectPlanMatchesDefinition(
        graph, from: y, seed: random(y.shape), "seeded, batch \(batch), \(Scalar.self)")
      Self.expectPlanMatchesDefinition(graph, from: h.sum(), "partial, batch \(batch)")
    }
    // Unfreezing changes which products run; the plan follows.
    w2.parameter!.isFrozen = false
    graph.forward()
    Self.expectPlanMatchesDefinition(graph, from: loss, "unfrozen, \(Scalar.self)")
    #expect(w2.parameter!.hasGradient)
  }

  @Test func mlpInBothPrecisions() {
    mlp(as: Float.self)
    mlp(as: Double.self)
  }

  /// The reduced binary cross-entropy with logits runs on its own plan kernel (not the generic
  /// path), and its value and gradients equal the op's allocating `forward` and `vjp` — loops
  /// written separately from the kernel's — for logits of both signs and soft targets, with
  /// and without a gradient for the targets, in both precisions.
  func crossEntropyKernel<Scalar: TensorScalar>(
    _ reduction: LossReduction, targetsNeedGradient: Bool, as _: Scalar.Type
  ) {
    let context = "\(reduction), targets with gradient \(targetsNeedGradient), \(Scalar.self)"
    let graph = Graph<Scalar>()
    let z = graph.parameter(Tensor<Scalar>([[3.5, -0.25], [0, -21], [20, 0.75]]), name: "z")
    let y = graph.input(
      Tensor<Scalar>([[1, 0.25], [0.5, 0], [1, 0.875]]), name: "y",
      requiresGradient: targetsNeedGradient)
    let loss = z.binaryCrossEntropyWithLogits(y, reduction: reduction)
    graph.forward()
    let step = graph.execution.plan!.steps.first { $0.node == loss.id }!
    let onKernel: Bool
    if case .crossEntropyWithLogits = step.kernel { onKernel = true } else { onKernel = false }
    #expect(onKernel == (reduction != .none), "\(context): the kernel the plan chose")
    let operation = BinaryCrossEntropyWithLogits(reduction: reduction)
    #expect(Self.identical(loss.value, operation.forward([z.value, y.value])), "\(context)")
    let seed = Tensor<Scalar>(shape: loss.shape, repeating: Scalar(0.375))
    Self.expectPlanMatchesDefinition(graph, from: loss, seed: seed, context)
    let shares = operation.vjp([z.value, y.value], output: loss.value, gradient: seed)
    #expect(z.gradient == shares[0], "\(context): z̄ against the allocating VJP")
    #expect(graph.gradients[y.id] == (targetsNeedGradient ? shares[1] : nil), "\(context): ȳ")
  }

  @Test(arguments: [LossReduction.mean, .sum, .none])
  func crossEntropyWithLogitsKernel(_ reduction: LossReduction) {
    for targetsNeedGradient in [false, true] {
      crossEntropyKernel(reduction, targetsNeedGradient: targetsNeedGradient, as: Float.self)
      crossEntropyKernel(reduction, targetsNeedGradient: targetsNeedGradient, as: Double.self)
    }
  }

  /// The training step as it runs (planned forward and backward, `zeroGradients`, the
  /// optimizer's in-place step) against the same steps on the definition — gradients from
  /// `gradientsByDefinition`, the update p ← p − η·v written out from SGD's formula, with
  /// v ← μv + g (v = g at first) — parameter by parameter, bit for bit, over several steps.
  func trainingSteps<Scalar: TensorScalar>(momentum: Scalar, as _: Scalar.Type) {
    func seedNetwork() -> (Graph<Scalar>, Node<Scalar>, [Parameter<Scalar>]) {
      var generator = Xoshiro256StarStar(seed: 1)
      let model = Sequential<Scalar>([
        Dense(inputSize: 2, outputSize: 2, activation: .tanh, using: &generator),
        Dense(inputSize: 2, outputSize: 1, using: &generator),
      ])
      let graph = Graph<Scalar>()
      let x = graph.input(
        Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), name: "x", requiresGradient: false)
      let y = graph.input(Tensor([[0], [1], [1], [0]]), name: "y", requiresGradient: false)
      return (graph, model(x).binaryCrossEntropyWithLogits(y), model.parameters)
    }
    let (graph, loss, parameters) = seedNetwork()
    let (referenceGraph, referenceLoss, referenceParameters) = seedNetwork()
    let eta = Scalar(0.5)
    let optimizer = SGD(parameters: parameters, learningRate: eta, momentum: momentum)
    var velocities = [Tensor<Scalar>?](repeating: nil, count: parameters.count)
    for step in 0..<5 {
      graph.forward()
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()

      referenceGraph.forward()
      let gradients = referenceGraph.gradientsByDefinition(from: referenceLoss.id, seed: nil)
      for (index, parameter) in referenceParameters.enumerated() {
        let id = referenceGraph.records.indices.first {
          referenceGraph.records[$0].parameter === parameter
        }!
        let g = gradients[id]!
        // v ← μv + g, v = g at the first step (and always without momentum).
        var v = g
        if momentum != 0, let previous = velocities[index] {
          v = Tensor(
            shape: g.shape, scalars: zip(previous.scalars, g.scalars).map { $0 * momentum + $1 })
        }
        velocities[index] = v
        parameter.value = Tensor(
          shape: v.shape, scalars: zip(parameter.value.scalars, v.scalars).map { $0 + $1 * -eta })
      }
      for (planned, reference) in zip(parameters, referenceParameters) {
        #expect(
          Self.identical(planned.value, reference.value),
          "step \(step), μ = \(momentum), \(Scalar.self): \(planned.name)")
      }
    }
  }

  @Test func trainingStepsMatchTheDefinition() {
    trainingSteps(momentum: 0, as: Float.self)
    trainingSteps(momentum: 0.9, as: Float.self)
    trainingSteps(momentum: 0, as: Double.self)
    trainingSteps(momentum: 0.9, as: Double.self)
  }

  /// A gradient read from `node.gradient` stays what it was when later passes reuse the
  /// buffers it came from (they are handed over, not copied, between passes), and a pass on
  /// the plan after one on the definition (a hook routes backward there) starts clean.
  @Test func publishedGradientsOutliveThePass() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0], [0.25, 2.0]]), name: "x", requiresGradient: false)
    let w = graph.parameter(Tensor([[0.3, -0.1], [-0.2, 0.4]]), name: "w")
    let z = x.matmul(w)
    let h = z.tanh()
    let loss = h.sum()
    graph.forward()
    graph.backward(from: loss)
    let kept = (z.gradient, w.gradient)
    let keptCopy = (kept.0.map { $0 }, kept.1.map { $0 })  // new storage, the same bits
    w.value = Tensor([[1.5, 0.5], [-0.5, 1.0]])
    graph.forward()
    w.parameter!.zeroGradient()
    graph.backward(from: loss)
    #expect(Self.identical(kept.0, keptCopy.0), "a kept node gradient is not overwritten")
    #expect(Self.identical(kept.1, keptCopy.1), "a kept parameter gradient is not overwritten")
    #expect(z.gradient != kept.0, "the second pass has its own gradients")
    // Clearing the graph's gradients keeps the buffers for the next pass (no allocation).
    graph.zeroGradients()
    #expect(graph.gradients.allSatisfy { $0 == nil }, "zeroGradients clears node.gradient")
    #expect(graph.execution.gradientBuffers[z.id] != nil, "the buffer is kept for reuse")
    #expect(w.gradient == Tensor.zeros([2, 2]))
    Self.expectPlanMatchesDefinition(graph, from: loss, "after zeroGradients")
    h.registerHook { $0 }
    Self.expectPlanMatchesDefinition(graph, from: loss, "through the definition")
    h.removeHooks()
    Self.expectPlanMatchesDefinition(graph, from: loss, "on the plan after the definition")
    Self.expectPlanMatchesDefinition(graph, from: h.sum(alongAxis: 0).sum(), "another output")
  }

  /// The planned gradients are the right ones, not only equal to the definition's: the
  /// seed network's weight gradient against a central difference.
  @Test func plannedGradientMatchesFiniteDifference() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0], [0.25, 2.0]]), name: "x", requiresGradient: false)
    let w = graph.parameter(Tensor([[0.3, -0.1], [-0.2, 0.4]]), name: "w")
    let b = graph.parameter(Tensor([0.05, -0.02]), name: "b")
    let loss = (x.matmul(w) + b).tanh().sum()
    graph.forward()
    graph.backward(from: loss)
    let analytic = w.gradient
    let h = 1e-6
    for i in 0..<2 {
      for j in 0..<2 {
        let start = w.value
        var plus = start
        plus[i, j] += h
        w.value = plus
        graph.forward()
        let up = loss.value.scalar
        var minus = start
        minus[i, j] -= h
        w.value = minus
        graph.forward()
        let down = loss.value.scalar
        w.value = start
        expectClose(analytic[i, j], (up - down) / (2 * h), relative: 1e-7, absolute: 1e-9)
      }
    }
  }
}

/// A user op the plan knows nothing about: y = x³, x̄ = 3x²·ȳ, with only the required methods.
struct UserCube: DifferentiableOperation {
  var name: String { "cube" }
  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].map { $0 * $0 * $0 }
  }
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [
      Tensor(
        shape: gradient.shape,
        scalars: zip(inputs[0].scalars, gradient.scalars).map { x, g in 3 * x * x * g })
    ]
  }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "3·\(operands[0])²"
  }
}
