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
/// - now and then a chain of 6–30 element-wise ops, deep enough for values and gradients to
///   vanish (a sigmoid chain shrinks gradients by about 4 per step).
///
/// Operands respect the template's domain with a margin (positive: ≥ 0.1; away from zero:
/// |x| ≥ 0.05), so the graphs avoid the points where an op has no derivative (relu and step
/// at 0, log at x ≤ 0, division by ≈ 0); a step whose values would exceed 100 in magnitude is
/// redrawn. Finally every unused op node (a sink) is reduced to the scalar loss
/// `L = Σₛ sum(s ⊙ Rₛ)` with random constants Rₛ. The same seed gives the same graph.
public struct RandomGraphGenerator: Sendable {
  /// One way of applying an op, harvested from a catalog check.
  struct Template: Sendable {
    enum Kind: Sendable { case unaryElementwise, binaryElementwise, other }
    var operation: any Operation
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
  }

  let templates: [Template]

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
            operation: operation, inputShapes: output.inputs.map(\.shape), domain: check.domain,
            kind: kind, fixedOperands: fixed))
      }
    }
    precondition(!templates.isEmpty, "RandomGraphGenerator: no op with a usable check")
    self.templates = templates
  }

  /// The names of the op types the generator can apply (`"Add"`, `"MatMul"`, …).
  public var operationTypeNames: Set<String> {
    Set(templates.map { String(describing: type(of: $0.operation)) })
  }

  /// A random graph with a scalar loss, fixed by `seed`.
  /// - Parameters:
  ///   - seed: Fixes every choice; print it to reproduce a failure.
  ///   - steps: How many op steps to take (a chain counts as one step).
  /// - Returns: The graph and its loss node.
  public func makeGraph<Scalar: TensorScalar>(
    seed: UInt64, steps: ClosedRange<Int> = 3...10, as _: Scalar.Type = Scalar.self
  ) -> (graph: Graph<Scalar>, loss: Node<Scalar>) {
    var generator = SplitMix64(seed: seed)
    let graph = Graph<Scalar>()
    var pool: [Node<Scalar>] = []
    for _ in 0..<Int.random(in: 1...3, using: &generator) {
      let shape = Self.randomShape(using: &generator)
      pool.append(
        freshLeaf(
          Self.random(shape, in: .anywhere, using: &generator).converted(), in: graph,
          using: &generator))
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
    if applied == 0 { _ = chain(in: graph, pool: &pool, using: &generator) }

    // Reduce every op node nobody consumes to one scalar.
    var consumed = Set<Int>()
    for node in graph.nodes { consumed.formUnion(node.inputs.map(\.id)) }
    let sinks = graph.nodes.filter { $0.kind == .operation && !consumed.contains($0.id) }
    let terms = sinks.map { sink in
      let weights = Self.random(sink.shape, in: .anywhere, using: &generator)
      return (sink * graph.constant(weights.converted(), name: "R\(sink.id)")).sum()
    }
    let loss = terms.dropFirst().reduce(terms[0], +).named("loss")
    return (graph, loss)
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
    return apply(template.operation, operands, in: graph, pool: &pool, using: &generator)
  }

  /// A chain of element-wise unary ops on one node; returns how many ops it applied.
  private func chain<Scalar: TensorScalar>(
    in graph: Graph<Scalar>, pool: inout [Node<Scalar>], using generator: inout SplitMix64
  ) -> Int {
    let unary = templates.filter { $0.kind == .unaryElementwise }
    guard !unary.isEmpty else { return 0 }
    var current = pool.randomElement(using: &generator)!
    let length = Int.random(in: 6...30, using: &generator)
    var applied = 0
    for _ in 0..<length * 3 where applied < length {
      let template = unary.randomElement(using: &generator)!
      guard fits(current.value, template.domain) else { continue }
      guard
        let next = apply(
          template.operation, [.node(current)], in: graph, pool: &pool,
          using: &generator)
      else { continue }
      current = next
      applied += 1
    }
    if applied > 0 { pool.append(current) }
    return applied
  }

  /// Applies `operation` when the shapes fit and its values stay finite and moderate.
  private func apply<Scalar: TensorScalar>(
    _ operation: any Operation, _ operands: [Operand<Scalar>], in graph: Graph<Scalar>,
    pool: inout [Node<Scalar>], using generator: inout SplitMix64
  ) -> Node<Scalar>? {
    let values = operands.map(\.value)
    let shapes = values.enumerated().map { ShapeError.Operand(name: "x\($0)", shape: $1.shape) }
    guard (try? operation.outputShape(shapes)) != nil else { return nil }
    let preview = operation.forward(values)
    guard preview.scalars.allSatisfy({ $0.isFinite && abs($0) <= 100 }) else { return nil }
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
    return graph.apply(operation, nodes)
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
      case .distinct: return generator.nextDouble(in: -2...2)
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
