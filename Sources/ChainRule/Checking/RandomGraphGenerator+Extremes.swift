/// The "extreme values" family of random graphs: the catalog's ops applied to operands at the
/// edges of floating point, for checking a Float graph's gradients against the same graph in
/// Double.
///
/// Finite differences say nothing where a value is 1e-40 or 1000 (a step of 1e-6 is either
/// all of x or lost in it), so this family is checked differently: every leaf value is a
/// Float, the same graph is built in Float and in Double, and the Double gradients are the
/// reference for the Float ones. Each element of a fresh operand is, by the op's domain,
///
/// - anywhere: ordinary (|x| ≤ 2), a logit of ±1000, a large logit (±15 to ±60), huge
///   (±1e15 to ±1e19, whose square nears Float's 3.4e38) or tiny (±1e-30), or 0;
/// - positive (log): ordinary, subnormal (1e-45 to 1e-39), tiny (1e-30) or huge (1e30);
/// - away from zero (divide, relu, step): ordinary, ±1e20, ±1e-20, ±1e-25 or subnormal ±1e-40;
/// - probability (binary cross-entropy): ordinary, 0, 1, 1 − 2⁻²⁴, 2⁻²⁴, 1e-7 or 1e-30.
///
/// A step is kept only when its Float values are finite and at most 1e36 in magnitude, so the
/// Float forward pass never overflows and the two graphs see the same values. The loss
/// Σₛ sum(s ⊙ Rₛ) draws its weights Rₛ with exact zeros and tiny values (1e-30) among them, so
/// that ȳ = 0 meets a derivative that overflows (0 · ∞) and a tiny ȳ meets a huge one
/// (ȳ · (1/x) against ȳ/x). The same seed gives the same graph in either scalar type.
extension RandomGraphGenerator {
  /// A random graph of the extreme-values family with a scalar loss, fixed by `seed`; built
  /// with `Float` and with `Double` it holds the same values and the same structure.
  /// - Parameters:
  ///   - seed: Fixes every choice; print it to reproduce a failure.
  ///   - steps: How many op steps to take.
  ///   - scalar: The graph's scalar type, `Float` or `Double`.
  /// - Returns: The graph and its loss node.
  public func makeExtremeGraph<Scalar: TensorScalar>(
    seed: UInt64, steps: ClosedRange<Int> = 2...6, as scalar: Scalar.Type = Scalar.self
  ) -> (graph: Graph<Scalar>, loss: Node<Scalar>) {
    ExtremeRecipe(templates: templates, seed: seed, steps: steps).build(as: Scalar.self)
  }
}

/// A graph written down as steps (leaves and ops on earlier steps), chosen by evaluating
/// them in Float, and then built in any scalar type.
private struct ExtremeRecipe {
  enum LeafKind { case input, constant, parameter }
  enum Step {
    case leaf(Tensor<Float>, LeafKind)
    case operation(any DifferentiableOperation, [Int])
  }

  var steps: [Step] = []
  /// The Float value of each step.
  var values: [Tensor<Float>] = []

  init(templates: [RandomGraphGenerator.Template], seed: UInt64, steps stepCount: ClosedRange<Int>)
  {
    var generator = SplitMix64(seed: seed)
    var pool: [Int] = []  // steps that later ones may use as operands
    for _ in 0..<Int.random(in: 1...2, using: &generator) {
      let shape = RandomGraphGenerator.randomShape(using: &generator)
      pool.append(leaf(Self.extreme(shape, in: .anywhere, using: &generator), using: &generator))
    }
    var applied = 0
    for _ in 0..<Int.random(in: stepCount, using: &generator) {
      let template = templates.randomElement(using: &generator)!
      for _ in 0..<8 {  // redraw operands a few times before giving up on this step
        if let index = step(template, pool: &pool, using: &generator) {
          pool.append(index)
          applied += 1
          break
        }
      }
    }
    if applied == 0 {  // at least one op: a sigmoid of logits ±1000 always fits
      let x = leaf(Tensor<Float>([1000, -1000, 0.5]), using: &generator)
      _ = append(.operation(Sigmoid(), [x]), value: Sigmoid().forward([values[x]]))
    }

    // Reduce every op nobody consumes to one scalar: Σₛ sum(s ⊙ Rₛ).
    var consumed = Set<Int>()
    for case .operation(_, let operands) in steps { consumed.formUnion(operands) }
    let sinks = steps.indices.filter { index in
      if case .operation = steps[index] { return !consumed.contains(index) }
      return false
    }
    var terms: [Int] = []
    for sink in sinks {
      let weights = Self.weights(values[sink].shape, using: &generator)
      let r = append(.leaf(weights, .constant), value: weights)
      terms.append(apply(Sum(), [apply(Multiply(), [sink, r])]))
    }
    for index in terms.indices.dropFirst() {  // ((t₀ + t₁) + t₂) + …: the last step is the loss
      terms[index] = apply(Add(), [terms[index - 1], terms[index]])
    }
  }

  /// The steps as a graph of `Scalar`; its last node is the loss.
  func build<Scalar: TensorScalar>(as _: Scalar.Type) -> (graph: Graph<Scalar>, loss: Node<Scalar>)
  {
    let graph = Graph<Scalar>()
    var nodes: [Node<Scalar>] = []
    for step in steps {
      switch step {
      case .leaf(let value, let kind):
        let converted = value.converted(to: Scalar.self)
        switch kind {
        case .input: nodes.append(graph.input(converted))
        case .constant: nodes.append(graph.constant(converted))
        case .parameter: nodes.append(graph.parameter(converted, name: "p\(nodes.count)"))
        }
      case .operation(let operation, let operands):
        nodes.append(graph.apply(operation, operands.map { nodes[$0] }))
      }
    }
    return (graph, nodes[nodes.count - 1].named("loss"))
  }

  // MARK: Steps

  /// Tries to apply `template` once; the new step's index, or `nil` when the drawn operands
  /// do not fit or the values leave the range.
  private mutating func step(
    _ template: RandomGraphGenerator.Template, pool: inout [Int],
    using generator: inout SplitMix64
  ) -> Int? {
    let domain = template.domain
    var operands: [Int] = []
    switch template.kind {
    case .unaryElementwise:
      let shape = RandomGraphGenerator.randomShape(using: &generator)
      operands = [pick(shape: nil, orFresh: shape, in: domain, pool: &pool, using: &generator)]
    case .binaryElementwise where template.inputShapes.count == 2:
      let first = pick(
        shape: nil, orFresh: RandomGraphGenerator.randomShape(using: &generator), in: domain,
        pool: &pool, using: &generator)
      let partner = RandomGraphGenerator.broadcastPartner(
        of: values[first].shape, using: &generator)
      let second = pick(
        shape: partner, orFresh: partner, in: domain, pool: &pool, using: &generator)
      operands = generator.next() % 2 == 0 ? [first, second] : [second, first]
    default:
      for (shape, fixed) in zip(template.inputShapes, template.fixedOperands) {
        if let fixed {  // class labels and the like stay as the check built them
          let value = fixed.converted(to: Float.self)
          operands.append(append(.leaf(value, .constant), value: value))
        } else {
          operands.append(
            pick(shape: shape, orFresh: shape, in: domain, pool: &pool, using: &generator))
        }
      }
    }
    let inputs = operands.map { values[$0] }
    let shapes = inputs.enumerated().map { ShapeError.Operand(name: "x\($0)", shape: $1.shape) }
    guard (try? template.operation.outputShape(shapes)) != nil else { return nil }
    let value = template.operation.forward(inputs)
    guard value.scalars.allSatisfy({ $0.isFinite && abs($0) <= 1e36 }) else { return nil }
    return append(.operation(template.operation, operands), value: value)
  }

  /// An existing step of the wanted shape (any shape when `nil`) whose values lie in the
  /// domain, most of the time when there is one; otherwise a fresh leaf of extreme values.
  private mutating func pick(
    shape: [Int]?, orFresh freshShape: [Int], in domain: CheckDomain, pool: inout [Int],
    using generator: inout SplitMix64
  ) -> Int {
    if generator.nextUnitDouble() < 0.5 {
      let candidates = pool.filter { index in
        (shape == nil || values[index].shape == shape!) && Self.fits(values[index], domain)
      }
      if let index = candidates.randomElement(using: &generator) { return index }
    }
    let index = leaf(Self.extreme(freshShape, in: domain, using: &generator), using: &generator)
    pool.append(index)
    return index
  }

  private mutating func leaf(_ value: Tensor<Float>, using generator: inout SplitMix64) -> Int {
    let kinds: [LeafKind] = [.input, .constant, .parameter]
    return append(.leaf(value, kinds[Int(generator.next() % 3)]), value: value)
  }

  private mutating func apply(_ operation: any DifferentiableOperation, _ operands: [Int]) -> Int {
    append(.operation(operation, operands), value: operation.forward(operands.map { values[$0] }))
  }

  private mutating func append(_ step: Step, value: Tensor<Float>) -> Int {
    steps.append(step)
    values.append(value)
    return steps.count - 1
  }

  // MARK: Extreme values

  /// Whether an existing value may stand for an operand of `domain`.
  private static func fits(_ value: Tensor<Float>, _ domain: CheckDomain) -> Bool {
    switch domain {
    // Kinks and ties (clamp's bounds, max's ties) are no trouble here: Float and Double take
    // the same convention at them.
    case .anywhere, .avoiding, .distinct: true
    case .moderate: value.scalars.allSatisfy { abs($0) <= 100 }
    case .positive: value.scalars.allSatisfy { $0 > 0 }
    case .awayFromZero: value.scalars.allSatisfy { $0 != 0 }
    case .probability: value.scalars.allSatisfy { $0 >= 0 && $0 <= 1 }
    }
  }

  /// Values of `shape` for `domain`, each ordinary or extreme (see the family's description).
  static func extreme(_ shape: [Int], in domain: CheckDomain, using generator: inout SplitMix64)
    -> Tensor<Float>
  {
    let count = shape.reduce(1, *)
    let scalars = (0..<count).map { _ -> Float in
      let sign: Float = generator.next() % 2 == 0 ? 1 : -1
      let choice = generator.next() % 8
      func magnitude(_ decades: ClosedRange<Double>) -> Float {  // 10^d, d uniform in decades
        Float(Double.exp(generator.nextDouble(in: decades) * 2.302_585_092_994_046))
      }
      switch domain {
      case .moderate:  // ordinary, tiny or 0: no huge argument for sin and cos
        switch choice {
        case 0, 1, 2, 3, 4: return Float(generator.nextDouble(in: -2...2))
        case 5, 6: return sign * 1e-30
        default: return 0
        }
      case .anywhere, .avoiding, .distinct:
        switch choice {
        case 0, 1, 2: return Float(generator.nextDouble(in: -2...2))
        case 3: return sign * 1000
        case 4: return sign * Float(generator.nextDouble(in: 15...60))
        case 5: return sign * magnitude(15...19)
        case 6: return sign * 1e-30
        default: return 0
        }
      case .positive:
        switch choice {
        case 0, 1, 2: return Float(generator.nextDouble(in: 0.2...3))
        case 3, 4: return magnitude(-44.8 ... -38.6)  // subnormal
        case 5: return 1e-30
        case 6: return 1e30
        default: return .leastNonzeroMagnitude
        }
      case .awayFromZero:
        switch choice {
        case 0, 1, 2: return sign * Float(generator.nextDouble(in: 0.2...2))
        case 3: return sign * 1e20
        case 4: return sign * 1e-20
        case 5: return sign * 1e-25
        default: return sign * magnitude(-40.5 ... -39.5)  // subnormal
        }
      case .probability:
        switch choice {
        case 0, 1: return Float(generator.nextDouble(in: 0.05...0.95))
        case 2: return 0
        case 3: return 1
        case 4: return (1 as Float).nextDown  // 1 − 2⁻²⁴
        case 5: return 0x1p-24
        case 6: return 1e-7
        default: return 1e-30
        }
      }
    }
    return Tensor(shape: shape, scalars: scalars)
  }

  /// Loss weights: mostly in [−2, 2], with exact zeros and tiny values among them.
  static func weights(_ shape: [Int], using generator: inout SplitMix64) -> Tensor<Float> {
    let scalars = (0..<shape.reduce(1, *)).map { _ -> Float in
      switch generator.next() % 8 {
      case 0: 0
      case 1: generator.next() % 2 == 0 ? 1e-30 : -1e-30
      default: Float(generator.nextDouble(in: -2...2))
      }
    }
    return Tensor(shape: shape, scalars: scalars)
  }
}
