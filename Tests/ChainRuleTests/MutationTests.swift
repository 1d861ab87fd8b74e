import Foundation
import Testing

@testable import ChainRule

/// An op that computes exactly what `base` computes but passes back a deliberately wrong
/// VJP: a planted bug, written through the public `DifferentiableOperation` protocol from outside the
/// library (the library has no switch for it).
struct Mutant: DifferentiableOperation {
  /// The planted error.
  enum Fault: Sendable, CustomStringConvertible {
    /// Every share of the VJP times (1 + δ): x̄ᵢ = (1 + δ)·ȳ·∂y/∂xᵢ.
    case scaled(Double)
    /// For an op whose VJP is zero (step): x̄ = δ·ȳ instead of 0, a tiny leak.
    case leak(Double)
    /// The share of operand `k` is not summed back over the axes it was broadcast along: the
    /// gradient of the first broadcast copy stands for the sum of all copies.
    case noSumBack(operand: Int)
    /// The share of operand `k` comes out transposed: x̄ₖᵀ's numbers laid out in x̄ₖ's shape
    /// (a transposition in the wrong place, e.g. B̄ = Ȳᵀ·A stored where B̄ = Aᵀ·Ȳ belongs).
    case transposed(operand: Int)

    var description: String {
      switch self {
      case .scaled(let delta): "VJP × (1 + \(delta))"
      case .leak(let delta): "VJP leaks \(delta)·ȳ"
      case .noSumBack(let k): "no sum-back for operand \(k)"
      case .transposed(let k): "operand \(k)'s gradient transposed"
      }
    }
  }

  let base: any DifferentiableOperation
  let fault: Fault

  var name: String { base.name }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try base.outputShape(operands)
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    base.forward(inputs)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var shares = base.vjp(inputs, output: output, gradient: gradient)
    switch fault {
    case .scaled(let delta):
      shares = shares.map { $0 * Scalar(1 + delta) }
    case .leak(let delta):
      shares = shares.map { $0 + gradient.summed(toShape: $0.shape) * Scalar(delta) }
    case .noSumBack(let k):
      shares[k] = Self.firstCopy(of: shares[k], as: inputs[k].shape)
    case .transposed(let k):
      shares[k] = shares[k].summed(toShape: inputs[k].shape).transposed()
        .reshaped(inputs[k].shape)
    }
    return shares
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    base.derivativeFormula(input: input, operands: operands, output: output)
  }

  /// The element of `share` (in the broadcast shape) at index 0 along every axis that
  /// `shape` broadcast along, for each element of `shape`: what a forgotten sum-back keeps.
  static func firstCopy<Scalar>(of share: Tensor<Scalar>, as shape: [Int]) -> Tensor<Scalar> {
    let outer = share.shape
    let lead = outer.count - shape.count
    var scalars: [Scalar] = []
    for offset in 0..<shape.reduce(1, *) {
      var rest = offset
      var index = Array(repeating: 0, count: outer.count)  // leading axes: copy 0
      for axis in shape.indices.reversed() {
        index[lead + axis] = shape[axis] == 1 ? 0 : rest % shape[axis]
        rest /= shape[axis]
      }
      var flat = 0
      for axis in outer.indices { flat = flat * outer[axis] + index[axis] }
      scalars.append(share.scalars[flat])
    }
    return Tensor(shape: shape, scalars: scalars)
  }
}

/// Mutation tests of the gradient check: every op of the catalog gets planted VJP errors of
/// 0.2 % (or a sum-back dropped, or a transposition swapped), and the fuzz's generator,
/// with the mutant substituted for the op, must catch at least 95 % of the graphs that
/// contain it, among those that pass with the real op (at most 5 % may fail even so).
///
/// The graphs are the fuzz generator's (seeds 0..<4096, enough for the rarest op), built in
/// Double and checked with the fuzz's Double tolerance. A graph *contains* a mutant when backward calls the mutated VJP for an
/// operand where the fault changes something: a mutated node that has a gradient; for a
/// dropped sum-back, an operand with a gradient that was broadcast; for a transposition, an
/// operand with a gradient that is a matrix, not a vector (a vector's transpose is its
/// reshape, so that mutant is equivalent there). Only the nodes upstream of a mutated node
/// are checked: a fault cannot change any other gradient.
@Suite("Mutation tests: the fuzz catches 0.2 % errors in every op")
struct MutationTests {
  static let delta = 2e-3
  static let seeds: Range<UInt64> = 0..<4096
  /// Graphs per mutant: the first this many seeds whose graph contains it.
  static let graphsPerMutant = 100
  static let requiredScore = 0.95

  struct Case: Sendable, CustomTestStringConvertible {
    var op: any CatalogedOperation.Type
    var fault: Mutant.Fault
    var testDescription: String { "\(op): \(fault)" }
  }

  /// Per op: its VJP scaled by 1 + δ (a leak of δ·ȳ for an op whose VJP is zero, where
  /// scaling changes nothing); for broadcasting ops, the sum-back dropped for each operand;
  /// for matmul, each operand's gradient transposed.
  static let cases: [Case] = OperationCatalog.all.flatMap { op -> [Case] in
    let (probe, operands) = probeNode(op)
    let leak = passesNoGradient(probe, operands)
    var cases = [Case(op: op, fault: leak ? .leak(delta) : .scaled(delta))]
    if probe is any BinaryElementwise {
      cases += [0, 1].map { Case(op: op, fault: .noSumBack(operand: $0)) }
    }
    if ObjectIdentifier(op) == ObjectIdentifier(MatMul.self) {
      cases += [0, 1].map { Case(op: op, fault: .transposed(operand: $0)) }
    }
    return cases
  }

  /// The op instance and operand values of `op`'s first check.
  static func probeNode(_ op: any CatalogedOperation.Type) -> (
    any DifferentiableOperation, [Tensor<Double>]
  ) {
    let check = op.checks[0]
    let graph = Graph<Double>()
    var generator = SplitMix64(seed: 1)
    let inputs = check.inputShapes.map {
      graph.input(randomTensor($0, domain: check.domain, using: &generator))
    }
    let node = check.build(graph, inputs)
    return (node.operation!, node.inputs.map(\.value))
  }

  /// Whether the op's VJP is zero at `operands` for a random ȳ.
  static func passesNoGradient(
    _ operation: any DifferentiableOperation, _ operands: [Tensor<Double>]
  ) -> Bool {
    var generator = SplitMix64(seed: 2)
    let output = operation.forward(operands)
    let gradient = randomTensor(output.shape, using: &generator)
    return operation.vjp(operands, output: output, gradient: gradient).allSatisfy {
      $0.scalars.allSatisfy { $0 == 0 }
    }
  }

  /// The nodes of `drawn` built by an op of type `op` where `fault` changes the VJP.
  static func affectedNodes(
    _ drawn: RandomGraph<Double>, _ op: any CatalogedOperation.Type, _ fault: Mutant.Fault
  ) -> [Node<Double>] {
    drawn.graph.nodes.prefix(drawn.reductionStart).filter { node in
      guard let operation = node.operation, isOp(operation, op) || isMutant(operation, of: op)
      else { return false }
      switch fault {
      case .scaled, .leak: return node.requiresGradient
      case .noSumBack(let k):
        // Broadcast into more than one copy ([3] → [1, 3] is a copy of one).
        return node.inputs[k].requiresGradient && node.inputs[k].value.count < node.value.count
      case .transposed(let k):
        return node.inputs[k].requiresGradient && node.inputs[k].shape.allSatisfy { $0 > 1 }
      }
    }
  }

  static func isOp(_ operation: any DifferentiableOperation, _ op: any CatalogedOperation.Type)
    -> Bool
  {
    ObjectIdentifier(type(of: operation)) == ObjectIdentifier(op)
  }

  static func isMutant(_ operation: any DifferentiableOperation, of op: any CatalogedOperation.Type)
    -> Bool
  {
    (operation as? Mutant).map { isOp($0.base, op) } ?? false
  }

  /// The checked nodes a change at `nodes` can reach: the nodes themselves and everything
  /// upstream of them.
  static func upstream(of nodes: [Node<Double>], in drawn: RandomGraph<Double>) -> [Node<Double>] {
    var marked = Set(nodes.map(\.id))
    for node in drawn.graph.nodes.reversed() where marked.contains(node.id) {
      marked.formUnion(node.inputs.map(\.id))
    }
    return drawn.checkedNodes.filter { marked.contains($0.id) }
  }

  /// Per op type and fault condition, the seeds whose graph contains such a node; built once.
  static let seedsByCase: [String: [UInt64]] = {
    var found: [String: [UInt64]] = [:]
    let generator = FuzzTests.generator
    for seed in seeds {
      let drawn = generator.makeRandomGraph(seed: seed, as: Double.self)
      for item in cases where !affectedNodes(drawn, item.op, item.fault).isEmpty {
        found[item.testDescription, default: []].append(seed)
      }
    }
    return found
  }()

  static func check(
    _ drawn: RandomGraph<Double>, nodes: [Node<Double>]
  ) -> GradientCheckReport {
    drawn.graph.checkGradients(
      of: drawn.loss, withRespectTo: nodes,
      absoluteTolerance: FuzzTests.doubleTolerance.absolute,
      relativeTolerance: FuzzTests.doubleTolerance.relative)
  }

  /// Whether the fault changes anything in `real` (the graph with the real op): at one of
  /// `nodes`, for an operand that has a gradient, the faulty VJP of the ȳ that reaches the
  /// node (summed back, and over the slots holding that operand) differs from the real one.
  /// Where it does not, the mutant is *equivalent* there and no check could catch it: x/x
  /// and x − x, whose two shares cancel exactly, scaled or not.
  static func faultShows(
    in real: RandomGraph<Double>, at nodes: [Node<Double>], _ fault: Mutant.Fault
  ) -> Bool {
    real.graph.backward(from: real.loss)
    for node in nodes {
      let operation = node.operation!
      let inputs = node.inputs.map(\.value)
      let (output, gradient) = (node.value, node.gradient)
      let right = operation.vjp(inputs, output: output, gradient: gradient)
      let wrong = Mutant(base: operation, fault: fault).vjp(
        inputs, output: output, gradient: gradient)
      for operand in Set(node.inputs) where operand.requiresGradient {
        let slots = node.inputs.indices.filter { node.inputs[$0] == operand }
        func total(_ shares: [Tensor<Double>]) -> Tensor<Double> {
          slots.map { shares[$0].summed(toShape: operand.shape) }.reduce(.zeros(operand.shape), +)
        }
        if total(right) != total(wrong) { return true }
      }
    }
    return false
  }

  @Test(arguments: cases)
  func theFuzzCatchesTheMutant(_ item: Case) {
    let mutated = FuzzTests.generator.substituting { operation in
      Self.isOp(operation, item.op) ? Mutant(base: operation, fault: item.fault) : nil
    }
    var chosen = 0
    var equivalent = 0
    var caught = 0
    var missed: [UInt64] = []
    var noisy: [UInt64] = []
    for seed in Self.seedsByCase[item.testDescription, default: []] {
      guard chosen < Self.graphsPerMutant else { break }
      let real = FuzzTests.generator.makeRandomGraph(seed: seed, as: Double.self)
      let drawn = mutated.makeRandomGraph(seed: seed, as: Double.self)
      let affected = Self.affectedNodes(drawn, item.op, item.fault)
      let nodes = Self.upstream(of: affected, in: drawn)
      // The control: the same graph with the real op passes on the same nodes.
      let inReal = { (nodes: [Node<Double>]) in nodes.map { Node(graph: real.graph, id: $0.id) } }
      // A graph that fails even so sits too close to a kink or a rounding limit for the
      // central difference to judge it: it cannot tell a mutant apart, so it is left out
      // and counted, and only a few may be.
      let control = Self.check(real, nodes: inReal(nodes))
      guard control.status != .failed else {
        noisy.append(seed)
        continue
      }
      guard Self.faultShows(in: real, at: inReal(affected), item.fault) else {
        equivalent += 1
        continue
      }
      chosen += 1
      if Self.check(drawn, nodes: nodes).status == .failed {
        caught += 1
      } else {
        missed.append(seed)
      }
    }
    #expect(chosen >= 50, "only \(chosen) graphs contain \(item.testDescription)")
    #expect(
      noisy.count * 20 <= chosen,
      "\(noisy.count) graphs fail without the mutant (more than 5 % of \(chosen)): seeds \(noisy)")
    let score = Double(caught) / Double(max(chosen, 1))
    print(
      "mutation score: \(item.testDescription): \(caught) of \(chosen) graphs caught "
        + String(format: "(%.1f %%)", 100 * score)
        + (equivalent == 0 ? "" : "; \(equivalent) graphs skipped where it is equivalent")
        + (missed.isEmpty ? "" : "; missed seeds \(missed.prefix(10))")
        + (noisy.isEmpty ? "" : "; left out, failing without the mutant: seeds \(noisy)"))
    #expect(score >= Self.requiredScore, "missed seeds: \(missed)")
  }

  @Test func aDroppedSumBackKeepsTheFirstCopy() {
    // [2, 3] broadcast from [3] (rows copied) and from [2, 1] (columns copied); the share
    // 1…6 laid out row-major.
    let share = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(Mutant.firstCopy(of: share, as: [3]) == Tensor([1, 2, 3]))
    #expect(Mutant.firstCopy(of: share, as: [2, 1]) == Tensor([[1], [4]]))
    #expect(Mutant.firstCopy(of: share, as: []) == Tensor(1))
    #expect(Mutant.firstCopy(of: share, as: [2, 3]) == share)
  }

  @Test func everyCatalogOpHasAMutant() {
    let mutated = Set(Self.cases.map { String(describing: $0.op) })
    #expect(mutated == Set(OperationCatalog.all.map { String(describing: $0) }))
    // Step and StopGradient are the ops whose VJP is zero; they get the leak.
    #expect(Self.cases.filter { if case .leak = $0.fault { true } else { false } }.count == 2)
  }
}
