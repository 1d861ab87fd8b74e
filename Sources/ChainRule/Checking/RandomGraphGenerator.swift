/// Random computational graphs built from the op catalog, for fuzzing the chain rule.
///
/// The generator knows no op by name. It builds each catalog op's gradient-check cases
/// (`OperationCheck`) once and keeps the op instance, its operand shapes and its domain as a
/// template. A graph then grows step by step: each step applies one template to operands that
/// are existing nodes (so nodes fan out and chains get deep) or fresh leaves, with
///
/// - the template's own operand shapes;
/// - any shape for element-wise unary ops, and random broadcast-compatible shape pairs
///   (`[3, 4]` with `[4]`, `[3, 1]`, `[]`, `[2, 3, 4]`, …) for element-wise binary ops;
/// - any existing nodes whose shapes the op accepts (`outputShape` decides), e.g. a
///   transpose of any matrix;
/// - now and then a chain of 6–30 element-wise ops on one node.
///
/// Operands respect the template's domain with a margin (positive: ≥ 0.1; away from zero:
/// |x| ≥ 0.05), so the graphs avoid the points where an op has no derivative (relu and step
/// at 0, log at x ≤ 0, division by ≈ 0); a step whose values would exceed 100 in magnitude is
/// redrawn. Finally every unused op node (a sink) is reduced to the scalar loss
/// `L = Σₛ sum(s ⊙ Rₛ)` with random constants |Rₛ| ≥ 0.2. The same seed gives the same graph.
///
/// **Live gradients.** A check can only fail where a gradient is above its tolerance, so the
/// generator keeps gradients from being zeroed or vanishing on the way up. Before applying
/// an op it computes the op's local derivatives at the drawn operands (the VJP of a probe
/// gradient; the generator still knows no op by name), and:
/// - an op that passes back zero for some element of an operand (step everywhere, relu
///   where x < 0, a product with step's zeros) takes that operand only if an op already
///   consumes it, so its gradient keeps flowing through that op and the zero is added to
///   it, or if the operand is a leaf (nothing upstream) and not all its elements are zeroed;
/// - a chain, which hands every element's gradient through all its ops, takes only ops with
///   |f′| ≥ 0.05 at every element and stops an element's product of derivatives from
///   falling below 10⁻³: deep chains without dead or vanished elements;
/// - the first leaf is a parameter, and a graph whose ops work on constants alone gets a
///   chain on it, so that every graph has a gradient to check.
///
/// Over the 2,048 graphs of the fuzz this leaves 0.2 % of the checked elements vacuous
/// (both sides within atol of 0), against 47 % before these rules.
public struct RandomGraphGenerator: Sendable {
  /// One way of applying an op, harvested from a catalog check.
  struct Template: Sendable {
    enum Kind: Sendable { case unaryElementwise, binaryElementwise, other }
    /// The op the graphs apply: the catalog's, or what `substituting(_:)` put in its place.
    var operation: any DifferentiableOperation
    /// The catalog's own op, which decides every draw (kinds, domains, previews), so that a
    /// substituted op changes no choice of the generator.
    var original: any DifferentiableOperation
    var inputShapes: [[Int]]
    var domain: CheckDomain
    var kind: Kind
    /// Per operand, the value of a constant the check itself built (class labels, say): such
    /// an operand is not a differentiable quantity, so the generator keeps it as it is.
    var fixedOperands: [Tensor<Double>?]
  }

  /// What a step is about to apply: existing nodes, or values for fresh leaves.
  private enum Operand<Scalar: TensorScalar> {
    case node(Node<Scalar>)
    case fresh(Tensor<Scalar>)
    case fixed(Tensor<Scalar>)

    var value: Tensor<Scalar> {
      switch self {
      case .node(let node): node.value
      case .fresh(let value), .fixed(let value): value
      }
    }

    /// Whether two slots hold one operand (a node, or fresh values that become one leaf).
    func isSame(as other: Self) -> Bool {
      switch (self, other) {
      case (.node(let a), .node(let b)): a == b
      case (.fresh(let a), .fresh(let b)): a == b
      default: false
      }
    }
  }

  private(set) var templates: [Template]

  /// A generator applying the ops of `operations` (default: the whole catalog), through the
  /// op instances that their `checks` build.
  public init(operations: [any CatalogedOperation.Type] = OperationCatalog.all) {
    var templates: [Template] = []
    var generator = SplitMix64(seed: 0)
    for type in operations {
      for check in type.checks {
        let graph = Graph<Double>()
        let inputs = check.inputShapes.map {
          graph.input(Self.random($0, in: check.domain, using: &generator))
        }
        let output = check.build(graph, inputs)
        guard let operation = output.operation else { continue }
        let kind: Template.Kind =
          operation is any UnaryElementwise
          ? .unaryElementwise : operation is any BinaryElementwise ? .binaryElementwise : .other
        let checkInputs = Set(inputs.map(\.id))
        let fixed = output.inputs.map { operand in
          operand.kind == .constant && !checkInputs.contains(operand.id) ? operand.value : nil
        }
        templates.append(
          Template(
            operation: operation, original: operation, inputShapes: output.inputs.map(\.shape),
            domain: check.domain, kind: kind, fixedOperands: fixed))
      }
    }
    require(!templates.isEmpty, "RandomGraphGenerator: no op with a usable check")
    self.templates = templates
  }

  /// The same generator with some ops replaced: `replace` sees every op instance the
  /// catalog's checks built (`Sum(axis: 1)`, `MatMul()`, …) and returns its replacement, or
  /// `nil` to keep it.
  ///
  /// Every draw is still made for the original op (its kind, domain, shapes and forward
  /// previews), so `makeGraph(seed:)` builds the same graph as before, node for node, with
  /// the replacement applied where the original was. A replacement must therefore accept the
  /// same operands and compute the same forward values; what it may change is the backward
  /// pass. That is what mutation tests need: wrap an op in one whose VJP is slightly wrong
  /// and count the graphs whose gradient check fails.
  public func substituting(
    _ replace: (any DifferentiableOperation) -> (any DifferentiableOperation)?
  ) -> Self {
    var copy = self
    copy.templates = templates.map { template in
      var template = template
      template.operation = replace(template.original) ?? template.original
      return template
    }
    return copy
  }

  /// The names of the op types the generator can apply (`"Add"`, `"MatMul"`, …).
  public var operationTypeNames: Set<String> {
    Set(templates.map { String(describing: type(of: $0.operation)) })
  }

  /// A random graph with a scalar loss, fixed by `seed`.
  /// - Parameters:
  ///   - seed: Fixes every choice; print it to reproduce a failure.
  ///   - steps: How many op steps to take (a chain counts as one step).
  ///   - scalar: The graph's scalar type, `Float` or `Double`.
  /// - Returns: The graph and its loss node.
  public func makeGraph<Scalar: TensorScalar>(
    seed: UInt64, steps: ClosedRange<Int> = 3...10, as scalar: Scalar.Type = Scalar.self
  ) -> (graph: Graph<Scalar>, loss: Node<Scalar>) {
    let drawn = makeRandomGraph(seed: seed, steps: steps, as: Scalar.self)
    return (drawn.graph, drawn.loss)
  }

  /// The graph of `makeGraph(seed:steps:as:)` with the place where its loss reduction
  /// starts, so that a check can tell the drawn nodes from the scaffolding of the loss.
  /// - Parameters:
  ///   - seed: Fixes every choice; print it to reproduce a failure.
  ///   - steps: How many op steps to take (a chain counts as one step).
  ///   - scalar: The graph's scalar type, `Float` or `Double`.
  /// - Returns: The graph, its loss and the id of the first node of the loss reduction.
  public func makeRandomGraph<Scalar: TensorScalar>(
    seed: UInt64, steps: ClosedRange<Int> = 3...10, as scalar: Scalar.Type = Scalar.self
  ) -> RandomGraph<Scalar> {
    var generator = SplitMix64(seed: seed)
    let graph = Graph<Scalar>()
    var pool: [Node<Scalar>] = []
    for index in 0..<Int.random(in: 1...3, using: &generator) {
      let shape = Self.randomShape(using: &generator)
      let value: Tensor<Scalar> = Self.random(shape, in: .anywhere, using: &generator).converted()
      // The first leaf is always a parameter, so that no graph lacks a gradient to check.
      pool.append(
        index == 0
          ? graph.parameter(value, name: "p0")
          : freshLeaf(value, in: graph, using: &generator))
    }
    var applied = 0
    for _ in 0..<Int.random(in: steps, using: &generator) {
      if generator.nextUnitDouble() < 0.15 {
        applied += chain(in: graph, pool: &pool, using: &generator)
      } else {
        let template = templates.randomElement(using: &generator)!
        for _ in 0..<8 {  // redraw operands a few times before giving up on this step
          if let node = step(template, in: graph, pool: &pool, using: &generator) {
            pool.append(node)
            applied += 1
            break
          }
        }
      }
    }
    // A graph whose ops all work on constants would check nothing: then a chain on p0.
    func checksSomething() -> Bool {
      graph.nodes.contains { $0.kind == .operation && $0.requiresGradient }
    }
    for _ in 0..<10 where applied == 0 || !checksSomething() {
      applied += chain(from: pool[0], in: graph, pool: &pool, using: &generator)
    }
    require(applied > 0, "RandomGraphGenerator: no op applied; give it an element-wise one")

    // Reduce every op node nobody consumes to one scalar.
    var consumed = Set<Int>()
    for node in graph.nodes { consumed.formUnion(node.inputs.map(\.id)) }
    let sinks = graph.nodes.filter { $0.kind == .operation && !consumed.contains($0.id) }
    let reductionStart = graph.nodeCount
    let terms = sinks.map { sink in
      // |Rₛ| ≥ 0.2: a weight near 0 would shrink everything upstream of its sink.
      let weights = Self.random(sink.shape, in: .awayFromZero, using: &generator)
      return (sink * graph.constant(weights.converted(), name: "R\(sink.id)")).sum()
    }
    let loss = terms.dropFirst().reduce(terms[0], +).named("loss")
    return RandomGraph(graph: graph, loss: loss, reductionStart: reductionStart)
  }

  // MARK: Steps

  /// Tries to apply `template` once; `nil` when the drawn operands do not fit.
  private func step<Scalar: TensorScalar>(
    _ template: Template, in graph: Graph<Scalar>, pool: inout [Node<Scalar>],
    using generator: inout SplitMix64
  ) -> Node<Scalar>? {
    let domain = template.domain
    var operands: [Operand<Scalar>]
    switch template.kind {
    case .unaryElementwise:
      let shape = Self.randomShape(using: &generator)
      operands = [pick(shape: nil, orFresh: shape, in: domain, from: pool, using: &generator)]
    case .binaryElementwise where template.inputShapes.count == 2:
      let first = pick(
        shape: nil, orFresh: Self.randomShape(using: &generator), in: domain, from: pool,
        using: &generator)
      let partner = Self.broadcastPartner(of: first.value.shape, using: &generator)
      let second = pick(
        shape: partner, orFresh: partner, in: domain, from: pool, using: &generator)
      operands = generator.next() % 2 == 0 ? [first, second] : [second, first]
    default:
      if template.fixedOperands.contains(where: { $0 != nil }) {
        // The template's shapes, its fixed operands kept, the others drawn.
        operands = zip(template.inputShapes, template.fixedOperands).map { shape, fixed in
          fixed.map { .fixed($0.converted()) }
            ?? pick(shape: shape, orFresh: shape, in: domain, from: pool, using: &generator)
        }
      } else if generator.nextUnitDouble() < 0.4 {  // existing nodes of any shape the op accepts
        operands = template.inputShapes.map { _ in
          pick(shape: nil, orFresh: [], in: domain, from: pool, using: &generator)
        }
      } else {  // the template's shapes
        operands = template.inputShapes.map {
          pick(shape: $0, orFresh: $0, in: domain, from: pool, using: &generator)
        }
      }
      // A fan-out template (x + x, X·X) uses one node twice: keep that.
      if template.inputShapes.count == 2, generator.next() % 4 == 0,
        template.inputShapes[0] == template.inputShapes[1]
      {
        operands[1] = operands[0]
      }
    }
    guard let preview = preview(template, operands.map(\.value), using: &generator) else {
      return nil
    }
    // Zero-derivative ops (step everywhere, relu where x < 0, a product with step's zeros)
    // would blank everything upstream of an operand whose gradient they alone carry. Such an
    // operand must be a node some op already consumes: its gradient flows on through that
    // op, and the zeros are added to it, so a wrong "zero" still shows. A leaf, with nothing
    // upstream, may also take some zeros, but not only zeros: a fresh leaf or unused node
    // whose whole gradient is zero would be checked with nothing to check.
    for (slot, operand) in operands.enumerated() {
      let share = Self.combinedShare(of: slot, operands, preview.shares)
      let dead = share.scalars.filter { abs(Double($0)) <= 1e-6 }.count
      guard dead > 0 else { continue }
      switch operand {
      case .fixed: break
      case .fresh: if dead == share.count { return nil }
      case .node(let node):
        let isLeaf = node.kind != .operation
        guard isConsumed(node, in: graph) || (isLeaf && dead < share.count) else { return nil }
      }
    }
    return apply(template, operands, in: graph, pool: &pool, using: &generator)
  }

  /// The share of ∂L/∂operand an op passes back to operand `slot`, adding the shares of the
  /// other slots that hold the same operand (x + x, X·X).
  private static func combinedShare<Scalar: TensorScalar>(
    of slot: Int, _ operands: [Operand<Scalar>], _ shares: [Tensor<Scalar>]
  ) -> Tensor<Scalar> {
    var share = shares[slot]
    for other in operands.indices where other != slot && operands[other].isSame(as: operands[slot])
    {
      share += shares[other]
    }
    return share
  }

  /// Whether an op node already consumes `node`.
  private func isConsumed<Scalar: TensorScalar>(_ node: Node<Scalar>, in graph: Graph<Scalar>)
    -> Bool
  {
    graph.nodes[(node.id + 1)...].contains { $0.inputs.contains(node) }
  }

  /// A chain of element-wise unary ops on one node (`start`, or one from the pool); returns
  /// how many ops it applied.
  private func chain<Scalar: TensorScalar>(
    from start: Node<Scalar>? = nil, in graph: Graph<Scalar>, pool: inout [Node<Scalar>],
    using generator: inout SplitMix64
  ) -> Int {
    let unary = templates.filter { $0.kind == .unaryElementwise }
    guard !unary.isEmpty else { return 0 }
    var current = start ?? pool.randomElement(using: &generator)!
    let length = Int.random(in: 6...30, using: &generator)
    var applied = 0
    // |∂(chain so far)/∂(its start)| per element: the product of the local derivatives.
    var gain = [Double](repeating: 1, count: current.value.count)
    for _ in 0..<length * 3 where applied < length {
      let template = unary.randomElement(using: &generator)!
      guard fits(current.value, template.domain),
        let preview = preview(template, [current.value], using: &generator)
      else { continue }
      // A chain carries every element's gradient through all its ops, so one zero or tiny
      // derivative (step, relu below 0, a saturated sigmoid) would blank that element of
      // everything before it, and a product of many small ones makes it vanish below any
      // tolerance. Each op must have |f′| ≥ 0.05 at every element, and the chain's gain
      // must stay ≥ 10⁻³: deep chains, but live ones.
      let derivative = preview.shares[0].scalars.map { abs(Double($0)) }
      let next = zip(gain, derivative).map { $0 * $1 }
      guard derivative.allSatisfy({ $0 >= 0.05 }), next.allSatisfy({ $0 >= 1e-3 }) else {
        continue
      }
      gain = next
      current = apply(template, [.node(current)], in: graph, pool: &pool, using: &generator)
      applied += 1
    }
    if applied > 0 { pool.append(current) }
    return applied
  }

  /// The original op's output on `values` when the shapes fit and the values stay finite and
  /// moderate, with its local derivatives: the VJP of a probe gradient, each share summed to
  /// its operand's shape. The probe is ones for element-wise ops (the shares are then the
  /// partial derivatives) and random otherwise (ones can lie in a VJP's null space: softmax
  /// maps them to zero).
  private func preview<Scalar: TensorScalar>(
    _ template: Template, _ values: [Tensor<Scalar>], using generator: inout SplitMix64
  ) -> (output: Tensor<Scalar>, shares: [Tensor<Scalar>])? {
    let operation = template.original
    let shapes = values.enumerated().map { ShapeError.Operand(name: "x\($0)", shape: $1.shape) }
    guard (try? operation.outputShape(shapes)) != nil else { return nil }
    let output = operation.forward(values)
    guard output.scalars.allSatisfy({ $0.isFinite && abs($0) <= 100 }) else { return nil }
    let probe: Tensor<Scalar> =
      template.kind == .other
      ? Self.random(output.shape, in: .awayFromZero, using: &generator).converted()
      : .ones(output.shape)
    let shares = operation.vjp(values, output: output, gradient: probe)
    return (output, zip(shares, values).map { $0.summed(toShape: $1.shape) })
  }

  /// Adds the node of `template`'s op (the substituted one, if any) on `operands`, making
  /// leaves of the fresh ones.
  private func apply<Scalar: TensorScalar>(
    _ template: Template, _ operands: [Operand<Scalar>], in graph: Graph<Scalar>,
    pool: inout [Node<Scalar>], using generator: inout SplitMix64
  ) -> Node<Scalar> {
    var nodes: [Node<Scalar>] = []
    var leaves: [(value: Tensor<Scalar>, node: Node<Scalar>)] = []
    for operand in operands {
      switch operand {
      case .node(let node): nodes.append(node)
      case .fixed(let value): nodes.append(graph.constant(value))
      case .fresh(let value):
        // A fresh operand drawn once and used twice (fan-out) becomes one leaf.
        if let earlier = leaves.first(where: { $0.value == value }) {
          nodes.append(earlier.node)
        } else {
          let leaf = freshLeaf(value, in: graph, using: &generator)
          pool.append(leaf)
          leaves.append((value, leaf))
          nodes.append(leaf)
        }
      }
    }
    return graph.apply(template.operation, nodes)
  }

  /// An existing node with the wanted shape (any shape when `nil`) in the domain, most of the
  /// time when there is one; otherwise values for a fresh leaf of shape `freshShape`.
  private func pick<Scalar: TensorScalar>(
    shape: [Int]?, orFresh freshShape: [Int], in domain: CheckDomain, from pool: [Node<Scalar>],
    using generator: inout SplitMix64
  ) -> Operand<Scalar> {
    if generator.nextUnitDouble() < 0.7 {
      let candidates = pool.filter {
        (shape == nil || $0.shape == shape!) && fits($0.value, domain)
      }
      if let node = candidates.randomElement(using: &generator) { return .node(node) }
    }
    return .fresh(Self.random(freshShape, in: domain, using: &generator).converted())
  }

  private func freshLeaf<Scalar: TensorScalar>(
    _ value: Tensor<Scalar>, in graph: Graph<Scalar>, using generator: inout SplitMix64
  ) -> Node<Scalar> {
    switch generator.next() % 3 {
    case 0: graph.input(value)
    case 1: graph.constant(value)
    default: graph.parameter(value, name: "p\(graph.nodeCount)")
    }
  }

  /// Whether every element lies in `domain`, with a margin from the points excluded.
  private func fits<Scalar: TensorScalar>(_ value: Tensor<Scalar>, _ domain: CheckDomain) -> Bool {
    switch domain {
    case .anywhere: true
    case .positive: value.scalars.allSatisfy { $0 >= 0.1 }
    case .awayFromZero: value.scalars.allSatisfy { abs($0) >= 0.05 }
    case .probability: value.scalars.allSatisfy { $0 >= 0.02 && $0 <= 0.98 }
    case .moderate:
      // sin and cos turn the rounding of their argument into an absolute error of the same
      // size: a Float argument that carries a few ulps of a long chain must stay small.
      value.scalars.allSatisfy { abs($0) <= (MemoryLayout<Scalar>.size == 4 ? 10 : 100) }
    case .avoiding(let points):
      value.scalars.allSatisfy { x in points.allSatisfy { abs(Double(x) - $0) >= 0.05 } }
    case .distinct:
      zip(value.scalars.sorted(), value.scalars.sorted().dropFirst()).allSatisfy { $1 - $0 >= 1e-4 }
    }
  }

  // MARK: Random shapes and values

  /// Rank 0 to 3, each dimension 1 to 4.
  static func randomShape(using generator: inout SplitMix64) -> [Int] {
    (0..<Int.random(in: 0...3, using: &generator)).map { _ in
      Int.random(in: 1...4, using: &generator)
    }
  }

  /// A shape that broadcasts with `shape`: the same, a suffix, some dimensions set to 1, a
  /// scalar, or one with an extra leading dimension.
  static func broadcastPartner(of shape: [Int], using generator: inout SplitMix64) -> [Int] {
    var partner = shape
    switch generator.next() % 5 {
    case 0: break
    case 1: partner = Array(shape.dropFirst(Int.random(in: 0...shape.count, using: &generator)))
    case 2: partner = []
    case 3: partner = [Int.random(in: 1...3, using: &generator)] + shape
    default: break
    }
    for axis in partner.indices where generator.next() % 3 == 0 { partner[axis] = 1 }
    return partner
  }

  /// Values of `shape` drawn as the op checks draw them for `domain`.
  static func random(_ shape: [Int], in domain: CheckDomain, using generator: inout SplitMix64)
    -> Tensor<Double>
  {
    let count = shape.reduce(1, *)
    let scalars = (0..<count).map { _ -> Double in
      switch domain {
      case .anywhere: return generator.nextDouble(in: -2...2)
      case .positive: return generator.nextDouble(in: 0.2...3)
      case .awayFromZero:
        let magnitude = generator.nextDouble(in: 0.2...2)
        return generator.next() % 2 == 0 ? magnitude : -magnitude
      case .probability: return generator.nextDouble(in: 0.05...0.95)
      case .avoiding(let points):
        var x = generator.nextDouble(in: -2...2)
        while points.contains(where: { abs(x - $0) < 0.2 }) { x = generator.nextDouble(in: -2...2) }
        return x
      case .distinct, .moderate: return generator.nextDouble(in: -2...2)
      }
    }
    if case .distinct = domain { return Tensor(shape: shape, scalars: spreadApart(scalars)) }
    return Tensor(shape: shape, scalars: scalars)
  }

  /// The values nudged apart, keeping their order, until no two are closer than 1e−3.
  static func spreadApart(_ values: [Double]) -> [Double] {
    var result = values
    let order = values.indices.sorted { values[$0] < values[$1] }
    for (previous, index) in zip(order, order.dropFirst())
    where result[index] - result[previous] < 1e-3 {
      result[index] = result[previous] + 1e-3
    }
    return result
  }
}

/// A graph drawn by `RandomGraphGenerator.makeRandomGraph(seed:steps:as:)`.
///
/// Its nodes with ids below `reductionStart` are the drawn ones (leaves, ops, chains); from
/// `reductionStart` on come the random weights Rₛ and the reduction L = Σₛ sum(Rₛ ⊙ sinkₛ),
/// which only turn the graph into a scalar loss.
public struct RandomGraph<Scalar: TensorScalar> {
  /// The graph.
  public var graph: Graph<Scalar>
  /// Its scalar loss.
  public var loss: Node<Scalar>
  /// The id of the first node of the loss reduction (the first weight constant Rₛ).
  public var reductionStart: Int

  /// The drawn nodes that have a gradient and reach the loss: what a fuzz checks. Constants,
  /// ops on constants only, leaves no op consumes (their gradient is 0 by construction), the
  /// weights Rₛ and the reduction are left out.
  public var checkedNodes: [Node<Scalar>] {
    let drawn = graph.nodes.prefix(reductionStart)
    var consumed = Set<Int>()
    for node in drawn { consumed.formUnion(node.inputs.map(\.id)) }
    return drawn.filter {
      $0.requiresGradient && ($0.kind == .operation || consumed.contains($0.id))
    }
  }
}
