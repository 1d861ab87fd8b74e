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

/// The plan's overwriting first shares (no zeroed buffers) and its direct writes into cleared
/// parameters' gradients, against the definition, bit for bit: −0 shares (which 0 + share
/// turns into +0), broadcast sums, fan-out, x · x, generic ops, frozen and unreached
/// parameters, one parameter in two nodes, kept copies, and passes that accumulate.
@Suite("Execution plan: first shares and direct parameter writes")
struct ExecutionPlanFirstShareTests {
  typealias Plan = ExecutionPlanTests

  /// Whether x is −0.
  static func isNegativeZero<Scalar: TensorScalar>(_ x: Scalar) -> Bool {
    x == 0 && x.sign == .minus
  }

  /// A training pass: every parameter cleared (lazily, without reading its gradient), then
  /// the planned backward, then each node's gradient and each parameter's against the
  /// definition — the parameter's being 0 + its nodes' gradients, in node order, and
  /// `hasGradient` exactly when a node of it was reached.
  static func expectTrainingPassMatchesDefinition<Scalar: TensorScalar>(
    _ graph: Graph<Scalar>, from output: Node<Scalar>, seed: Tensor<Scalar>? = nil,
    _ context: String
  ) {
    for parameter in graph.parameters { parameter.zeroGradient() }
    graph.backward(from: output, seed: seed)
    let planned = graph.gradients
    let reference = graph.gradientsByDefinition(from: output.id, seed: seed)
    for id in reference.indices where !Plan.identical(planned[id], reference[id]) {
      Issue.record("\(context): gradient of \(graph.label(of: id)) differs from the definition")
    }
    for parameter in graph.parameters {
      var expected = Tensor<Scalar>.zeros(parameter.value.shape)
      var reached = false
      for id in reference.indices where graph.records[id].parameter === parameter {
        if let gradient = reference[id] {
          expected += gradient
          reached = true
        }
      }
      #expect(parameter.hasGradient == reached, "\(context): \(parameter.name) has a gradient")
      #expect(Plan.identical(parameter.gradient, expected), "\(context): \(parameter.name)")
    }
  }

  /// A tensor of `shape` cycling through −0, +0, negative and positive values.
  static func signedZeros<Scalar: TensorScalar>(_ shape: [Int], as _: Scalar.Type) -> Tensor<Scalar>
  {
    let cycle: [Scalar] = [-0.0, 0, -1.5, 0.75, -0.0, 2]
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map { cycle[$0 % cycle.count] })
  }

  /// Each specialised kernel as the output, seeded with −0s (and +0s), so that its operands'
  /// first shares include −0, which the definition's 0 + share makes +0. The operands are
  /// parameters (written directly into their cleared gradients) or inputs that require a
  /// gradient (the plan's own buffers); the op's allocating VJP is checked to give −0
  /// somewhere, so that the case is really met.
  func negativeZeroShares<Scalar: TensorScalar>(as _: Scalar.Type) {
    let positive = Tensor<Scalar>(shape: [2, 3], scalars: [0.5, 1, 2, 3, 0.25, 4])
    let wide = Tensor<Scalar>(shape: [2, 3], scalars: [-0.0, 1, -2, 30, 0, -4])
    typealias Build = (Node<Scalar>, Node<Scalar>) -> Node<Scalar>
    let unary: [(String, Tensor<Scalar>, Build)] = [
      ("tanh", wide, { x, _ in x.tanh() }), ("sigmoid", wide, { x, _ in x.sigmoid() }),
      ("relu", positive, { x, _ in x.relu() }), ("exp", wide, { x, _ in x.exp() }),
      ("log", positive, { x, _ in x.log() }), ("square", wide, { x, _ in x.squared() }),
    ]
    // (name, a, b, op): full/full, a bias row, a scalar and a column broadcast.
    let binary: [(String, Tensor<Scalar>, Tensor<Scalar>, Build)] = [
      ("a + b", wide, positive, { $0 + $1 }), ("a − b", wide, positive, { $0 - $1 }),
      ("a ⊙ b", wide, wide, { $0 * $1 }), ("a / b", wide, positive, { $0 / $1 }),
      ("a + row", wide, Tensor([0.5, -0.0, 2]), { $0 + $1 }),
      ("row − a", Tensor([0.5, -0.0, 2]), wide, { $0 - $1 }),
      ("a ⊙ scalar", wide, Tensor([-0.0]), { $0 * $1 }),
      ("a / column", wide, Tensor(shape: [2, 1], scalars: [2, 0.5]), { $0 / $1 }),
      (
        "a · b", wide, Tensor(shape: [3, 2], scalars: [0, -0.0, 1, -1, 0.5, 0]),
        {
          $0.matmul($1)
        }
      ),
    ]
    var cases: [(String, [Tensor<Scalar>], Build)] = unary.map { ($0.0, [$0.1], $0.2) }
    cases += binary.map { ($0.0, [$0.1, $0.2], $0.3) }
    for (name, operands, build) in cases {
      for asParameters in [true, false] {
        let context = "\(name), \(asParameters ? "parameters" : "inputs"), \(Scalar.self)"
        let graph = Graph<Scalar>()
        let leaves = operands.enumerated().map { index, value in
          asParameters
            ? graph.parameter(value, name: "p\(index)")
            : graph.input(value, name: "x\(index)", requiresGradient: true)
        }
        let y = build(leaves[0], leaves.count > 1 ? leaves[1] : leaves[0])
        graph.forward()
        let step = graph.execution.plan!.steps.first { $0.node == y.id }!
        #expect(!step.kernel.isGeneric, "\(context): on a specialised kernel")
        let seed = Self.signedZeros(y.shape, as: Scalar.self)
        // (A product's sums start at +0, so it gives no −0 share: there the case holds its
        // β = 0 against the definition's 0 + c.)
        let shares = y.operation!.vjp(operands, output: y.value, gradient: seed)
        #expect(
          shares.contains { $0.scalars.contains(where: Self.isNegativeZero) }
            || y.operation is MatMul,
          "\(context): the VJP gives a −0 share")
        Self.expectTrainingPassMatchesDefinition(graph, from: y, seed: seed, context)
        for leaf in leaves {
          #expect(
            !leaf.gradient.scalars.contains(where: Self.isNegativeZero),
            "\(context): 0 + share has no −0")
        }
      }
    }
  }

  /// The reduced binary cross-entropy with logits, seeded with −0 (z̄ = −0 · (σ(z) − y)) and
  /// with a positive seed (ȳ = −s · z is −0 at z = +0).
  func negativeZeroCrossEntropy<Scalar: TensorScalar>(as _: Scalar.Type) {
    for (seed, reduction) in [(Scalar(-0.0), LossReduction.mean), (0.5, .sum)] {
      let context = "cross-entropy, seed \(seed), \(reduction), \(Scalar.self)"
      let graph = Graph<Scalar>()
      let z = graph.parameter(Tensor<Scalar>([[0, 1.5], [-2, 0]]), name: "z")
      let y = graph.input(Tensor<Scalar>([[0.5, 1], [0, 0.25]]), name: "y")
      let loss = z.binaryCrossEntropyWithLogits(y, reduction: reduction)
      graph.forward()
      let operation = BinaryCrossEntropyWithLogits(reduction: reduction)
      let shares = operation.vjp([z.value, y.value], output: loss.value, gradient: Tensor(seed))
      #expect(
        shares.contains { $0.scalars.contains(where: Self.isNegativeZero) },
        "\(context): the VJP gives a −0 share")
      Self.expectTrainingPassMatchesDefinition(graph, from: loss, seed: Tensor(seed), context)
    }
  }

  @Test func negativeZeroFirstSharesBecomePositiveZeros() {
    negativeZeroShares(as: Float.self)
    negativeZeroShares(as: Double.self)
    negativeZeroCrossEntropy(as: Float.self)
    negativeZeroCrossEntropy(as: Double.self)
  }

  /// An MLP with every bookkeeping case: a weight used by two products (fan-out: the first
  /// share written, the second added, both in the parameter's storage), a bias broadcast over
  /// rows, x · x and a user op (generic: their operands zeroed first), a parameter in two
  /// nodes and one used by a generic op (both published by adding), a frozen weight, and
  /// outputs that leave parts of the graph unreached — over several training passes, some of
  /// which accumulate (no clearing in between), in both precisions.
  func bookkeeping<Scalar: TensorScalar>(as _: Scalar.Type) {
    var generator = SplitMix64(seed: 12)
    func random(_ shape: [Int]) -> Tensor<Scalar> {
      randomTensor(shape, using: &generator).converted()
    }
    let graph = Graph<Scalar>()
    let x = graph.input(random([4, 3]), name: "x", requiresGradient: false)
    let w = graph.parameter(random([3, 3]), name: "w")
    let b = graph.parameter(random([3]), name: "b")
    let shared = Parameter(random([3, 2]), name: "shared")
    let (s1, s2) = (graph.parameter(shared), graph.parameter(shared))
    let g = graph.parameter(random([2]), name: "g")
    let frozen = graph.parameter(random([2, 2]), name: "frozen")
    frozen.parameter!.isFrozen = true
    let h = (x.matmul(w) + b).tanh()
    let hh = h.matmul(w)  // w's second product
    let y = hh.matmul(s1) + h.matmul(s2)
    let z = graph.apply(UserCube(), [y]) * g + (g * g).sum() + y.matmul(frozen)
    let loss = (z.relu() + (hh * hh).mean()).mean()
    let plan = { graph.execution.plan! }
    graph.forward()
    #expect(plan().directParameters[w.id] != nil, "w may be written directly")
    #expect(plan().directParameters[b.id] != nil, "b may be written directly")
    #expect(plan().directParameters[s1.id] == nil, "a parameter in two nodes is not")
    #expect(plan().directParameters[g.id] == nil, "a parameter used by a generic op is not")
    for pass in 0..<4 {
      let context = "pass \(pass), \(Scalar.self)"
      Self.expectTrainingPassMatchesDefinition(graph, from: loss, context)
      #expect(plan().writesParameter[w.id], "\(context): w written in place")
      w.value = w.value.map { $0 * Scalar(0.75) + Scalar(0.125) }
      graph.forward()
      // A second pass without clearing adds into what the first left.
      let kept = graph.parameters.map(\.gradient)
      graph.backward(from: loss)
      let reference = graph.gradientsByDefinition(from: loss.id, seed: nil)
      #expect(!plan().writesParameter[w.id], "\(context): accumulating")
      for (index, parameter) in graph.parameters.enumerated() {
        var expected = kept[index]
        for id in reference.indices where graph.records[id].parameter === parameter {
          if let gradient = reference[id] { expected += gradient }
        }
        #expect(Plan.identical(parameter.gradient, expected), "\(context) + 1: \(parameter.name)")
      }
      for id in reference.indices where !Plan.identical(graph.gradients[id], reference[id]) {
        Issue.record("\(context) + 1: gradient of \(graph.label(of: id)) differs")
      }
    }
    // Outputs that reach only part of the graph: w, b reached; the rest stays cleared.
    Self.expectTrainingPassMatchesDefinition(graph, from: h.sum(), "from h")
    #expect(!shared.hasGradient && !g.parameter!.hasGradient, "unreached: no gradient")
    #expect(shared.gradient == Tensor.zeros([3, 2]), "unreached: reads as zeros")
    Self.expectTrainingPassMatchesDefinition(graph, from: hh, seed: random(hh.shape), "from hh")
    // From a parameter node itself: its gradient is the seed (0 + seed: −0 becomes +0).
    Self.expectTrainingPassMatchesDefinition(
      graph, from: b, seed: Self.signedZeros([3], as: Scalar.self), "from b")
    Self.expectTrainingPassMatchesDefinition(graph, from: loss, "the whole graph again")
  }

  @Test func bookkeepingInBothPrecisions() {
    bookkeeping(as: Float.self)
    bookkeeping(as: Double.self)
  }

  /// A directly written parameter gradient shares its storage with the node's published
  /// gradient, and both stay values: a copy kept from one pass is not overwritten by the
  /// next, changing the parameter's gradient in place (as clipping does) leaves the node's
  /// alone, and the next pass still writes the parameter's storage in place.
  @Test func directlyWrittenGradientsStayValues() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0], [0.25, 2.0]]), name: "x", requiresGradient: false)
    let w = graph.parameter(Tensor([[0.3, -0.1], [-0.2, 0.4]]), name: "w")
    let parameter = w.parameter!
    let loss = x.matmul(w).tanh().sum()
    func pass() {
      graph.forward()
      parameter.zeroGradient()
      graph.backward(from: loss)
    }
    func storage(_ tensor: Tensor<Double>?) -> UnsafePointer<Double>? {
      tensor?.scalars.withUnsafeBufferPointer { $0.baseAddress }
    }
    pass()
    #expect(graph.execution.plan!.writesParameter[w.id])
    #expect(storage(w.gradient) == storage(parameter.gradient), "published without a copy")
    let first = (node: w.gradient, parameter: parameter.gradient)
    let firstBits = first.node.map { $0 }  // new storage, the same bits
    w.value = Tensor([[1.5, 0.5], [-0.5, 1.0]])
    pass()
    #expect(Plan.identical(first.node, firstBits), "a kept node gradient is not overwritten")
    #expect(Plan.identical(first.parameter, firstBits), "a kept parameter gradient neither")
    #expect(parameter.gradient != firstBits, "the second pass has its own gradient")
    let second = parameter.gradient.map { $0 }
    parameter.gradient.withUnsafeMutableBufferPointer { g in
      for i in g.indices { g[i] *= 0.5 }
    }
    #expect(Plan.identical(w.gradient, second), "the node's gradient is not scaled with it")
    #expect(Plan.identical(parameter.gradient, second.map { $0 * 0.5 }))
    pass()
    let reference = graph.gradientsByDefinition(from: loss.id, seed: nil)
    #expect(Plan.identical(parameter.gradient, reference[w.id]), "written again after that")
    #expect(storage(w.gradient) == storage(parameter.gradient))
  }

  /// `zeroGradient()` is lazy but reads as zeros: +0 everywhere, once, and `hasGradient`
  /// false; adding into a cleared gradient gives 0 + g (−0 becomes +0) without reading the
  /// stale elements; setting it makes it current.
  @Test func lazyZeroGradientReadsAsZeros() {
    let parameter = Parameter(Tensor<Float>([1, 2, 3]), name: "p")
    parameter.gradient = Tensor([-0.0, 5, -7])
    #expect(parameter.hasGradient)
    parameter.zeroGradient()
    #expect(!parameter.hasGradient)
    #expect(Plan.identical(parameter.gradient, Tensor<Float>.zeros([3])))
    #expect(!parameter.hasGradient, "reading does not give it a gradient")
    parameter.gradient = Tensor([4, 4, 4])
    parameter.zeroGradient()
    let g: [Float] = [-0.0, -1, 2.5]
    g.withUnsafeBufferPointer { parameter.accumulateGradient($0.baseAddress!, shape: [3]) }
    #expect(parameter.hasGradient)
    #expect(Plan.identical(parameter.gradient, Tensor<Float>([0, -1, 2.5])))
    #expect(parameter.gradient.scalars[0].sign == .plus, "0 + (−0) is +0")
    g.withUnsafeBufferPointer { parameter.accumulateGradient($0.baseAddress!, shape: [3]) }
    #expect(Plan.identical(parameter.gradient, Tensor<Float>([0, -2, 5])), "then it adds")
    // Changed in place while cleared: from zeros.
    parameter.zeroGradient()
    parameter.gradient.withUnsafeMutableBufferPointer { $0[1] += 3 }
    #expect(parameter.hasGradient)
    #expect(Plan.identical(parameter.gradient, Tensor<Float>([0, 3, 0])))
    // A value of another shape: cleared to zeros of the new shape.
    parameter.value = Tensor([1, 2])
    parameter.zeroGradient()
    #expect(Plan.identical(parameter.gradient, Tensor<Float>.zeros([2])))
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
