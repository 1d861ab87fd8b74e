import Foundation
import Synchronization
import Testing

@testable import ChainRule

/// Random DAGs from every op of the catalog; every drawn node's gradient checked against
/// central differences in Double (one graph in four is built in Float), with a count of what
/// was really checked (`FuzzCoverage`).
@Suite("Random-graph fuzz")
struct FuzzTests {
  static let generator = RandomGraphGenerator()
  static let batches = 8
  static let graphsPerBatch = 256  // 2,048 graphs per run

  /// atol and rtol for a Double graph: a central difference with ε = 1e-6 in Double is good
  /// to about 10⁻¹⁰·|L| plus ε²·f‴/6, and the largest error over the fuzz's Double graphs is
  /// 3·10⁻⁸·|n| once atol = 1e-7 absorbs the absolute part. rtol = 1e-6 leaves a margin of
  /// 30 and resolves a 0.2 % error in a share of an operand's gradient wherever the share is
  /// above 5·10⁻⁵ and at least 1/2000 of the whole gradient (the mutation tests rely on it).
  static let doubleTolerance = (absolute: 1e-7, relative: 1e-6)
  /// A Float graph's analytic side carries Float rounding: the check's defaults.
  static let floatTolerance = (absolute: 1e-5, relative: 1e-3)

  /// Each batch's coverage, merged; the batch that completes the run prints and checks the
  /// totals (whichever it is: the totals do not depend on the order).
  static let runCoverage = Mutex((batches: 0, coverage: FuzzCoverage()))

  static func seeds(ofBatch batch: Int) -> Range<UInt64> {
    UInt64(batch * graphsPerBatch)..<UInt64((batch + 1) * graphsPerBatch)
  }

  @Test(arguments: 0..<batches)
  func everyGradientOfRandomGraphsMatchesCentralDifferences(batch: Int) {
    var coverage = FuzzCoverage()
    for seed in Self.seeds(ofBatch: batch) {
      let isFloat = seed % 4 == 3
      let (report, failure) =
        isFloat
        ? Self.run(seed: seed, Float.self, coverage: &coverage)
        : Self.run(seed: seed, Double.self, coverage: &coverage)
      if let listing = failure {
        Issue.record(
          """
          random graph seed \(seed) (\(isFloat ? "Float" : "Double")) failed; reproduce with \
          RandomGraphGenerator().makeRandomGraph(seed: \(seed), as: \(isFloat ? "Float" : "Double").self)
          \(report)
          graph:
          \(listing)
          """)
      }
      // A graph whose every checked gradient is within atol of 0 checked nothing.
      #expect(report.liveElements > 0, "random graph seed \(seed) has no live element:\n\(report)")
    }
    let total = Self.runCoverage.withLock { run -> FuzzCoverage? in
      run.batches += 1
      run.coverage.merge(coverage)
      return run.batches == Self.batches ? run.coverage : nil
    }
    if let total { Self.expectLiveCoverage(total) }
  }

  /// Every op of the catalog must have fed at least 200 live elements in the run.
  static func expectLiveCoverage(_ total: FuzzCoverage) {
    print(total.summary)
    let unjudged = Self.unjudged.withLock { $0 }
    print("fuzz: \(unjudged.count) failed graphs could not judge the rules: \(unjudged)")
    #expect(unjudged.count * 100 <= total.graphs, "more than 1 % of the graphs cannot judge")
    #expect(total.graphs == batches * graphsPerBatch)
    #expect(total.graphsWithoutLiveElements.isEmpty)
    for op in OperationCatalog.all {
      let name = String(describing: op)
      #expect(
        total.opLiveElements[name, default: 0] >= 200,
        "\(name) fed only \(total.opLiveElements[name, default: 0]) live elements")
    }
  }

  /// Checks the gradient of every drawn node of the graph of `seed` that has one; returns the
  /// report and, on a failure that stands (see `unjudgeable`), a listing of the graph with
  /// every value, enough to rebuild it.
  static func run<Scalar: TensorScalar>(
    seed: UInt64, _: Scalar.Type, coverage: inout FuzzCoverage
  ) -> (GradientCheckReport, failure: String?) {
    let drawn = generator.makeRandomGraph(seed: seed, as: Scalar.self)
    let tolerance = Scalar.self == Double.self ? doubleTolerance : floatTolerance
    let report = drawn.graph.checkGradients(
      of: drawn.loss, withRespectTo: drawn.checkedNodes, absoluteTolerance: tolerance.absolute,
      relativeTolerance: tolerance.relative)
    coverage.add(report, of: drawn, seed: seed)
    guard report.status == .failed else { return (report, nil) }
    if let reason = unjudgeable(drawn, report) {
      unjudged.withLock { $0.append("seed \(seed): \(reason)") }
      return (report, nil)
    }
    return (report, drawn.graph.listing())
  }

  /// The same graph in Double with the same leaves (inputs keep their gradients, constants
  /// stay constants), its values those of `graph` converted.
  static func doubleTwin<Scalar: TensorScalar>(of graph: Graph<Scalar>) -> Graph<Double> {
    let twin = Graph<Double>()
    for node in graph.nodes {
      let value = node.value.converted(to: Double.self)
      switch node.kind {
      case .operation:
        _ = twin.apply(node.operation!, node.inputs.map { twin.nodes[$0.id] }, name: node.name)
      case .constant: _ = twin.constant(value, name: node.name)
      case .input, .parameter:
        _ = twin.input(value, name: node.name, requiresGradient: node.requiresGradient)
      }
    }
    return twin
  }

  /// Graphs whose failure is not the rules' doing, as "seed: reason", for the run's summary.
  static let unjudged = Mutex([String]())

  /// Why a failed check cannot judge the graph's rules, or nil when the failure stands:
  /// - a Float graph whose Double twin (the same ops on the same values) passes at the Double
  ///   tolerance: every rule is right, and the Float backward pass's own rounding (an
  ///   absolute error of about ε_Float times the largest gradient it carried) is what failed;
  /// - a failed element whose central difference moves by more than the tolerance when ε is
  ///   doubled: the reference has not converged there (a huge higher derivative, or rounding
  ///   of a huge loss), so it cannot tell right from wrong. A wrong rule moves no reference.
  static func unjudgeable<Scalar: TensorScalar>(
    _ drawn: RandomGraph<Scalar>, _ report: GradientCheckReport
  ) -> String? {
    let failed = report.failures.map { drawn.graph.nodes[$0.node] }
    if Scalar.self == Float.self {
      let twin = Self.doubleTwin(of: drawn.graph)
      let check = twin.checkGradients(
        of: twin.nodes[drawn.loss.id], withRespectTo: failed.map { twin.nodes[$0.id] },
        absoluteTolerance: doubleTolerance.absolute, relativeTolerance: doubleTolerance.relative)
      return check.status == .failed ? nil : "Float rounding (the Double twin passes)"
    }
    let wider = drawn.graph.checkGradients(
      of: drawn.loss, withRespectTo: failed, epsilon: 2 * report.epsilon,
      absoluteTolerance: doubleTolerance.absolute, relativeTolerance: doubleTolerance.relative)
    for (entry, moved) in zip(report.failures, wider.entries) {
      guard let index = entry.worstIndex else { continue }
      let flat = index.indices.reduce(0) { $0 * entry.shape[$1] + index[$1] }
      let shift = abs(moved.numeric.scalars[flat] - entry.numeric.scalars[flat])
      guard shift <= report.absoluteTolerance + report.relativeTolerance * abs(entry.worstNumeric)
      else { continue }
      return nil  // a converged reference disagrees with backward: a real failure
    }
    return "the central difference moves by more than the tolerance when ε doubles"
  }

  @Test func theFuzzCoversEveryCatalogOpAndItsShapes() {
    var counts: [String: Int] = [:]
    var broadcasts = 0
    var fanOuts = 0
    var deepest = 0
    var nodes = 0
    var elements = 0
    for seed in 0..<UInt64(Self.batches * Self.graphsPerBatch) {
      let drawn = Self.generator.makeRandomGraph(seed: seed, as: Double.self)
      let graph = drawn.graph
      var uses = Array(repeating: 0, count: graph.nodeCount)
      var depth = Array(repeating: 0, count: graph.nodeCount)
      // The loss's reduction (from the first weight constant Rₛ on) is not the fuzz's doing.
      for node in graph.nodes.prefix(drawn.reductionStart) {
        for input in node.inputs { uses[input.id] += 1 }
        guard let operation = node.operation else { continue }
        counts[String(describing: type(of: operation)), default: 0] += 1
        depth[node.id] = 1 + node.inputs.map { depth[$0.id] }.max()!
        if operation is any BinaryElementwise, Set(node.inputs.map(\.shape)).count == 2 {
          broadcasts += 1
        }
      }
      fanOuts += uses.filter { $0 > 1 }.count
      deepest = max(deepest, depth.max()!)
      let checked = drawn.checkedNodes
      nodes += checked.count
      elements += checked.map(\.value.count).reduce(0, +)
    }
    print(
      "fuzz: \(Self.batches * Self.graphsPerBatch) graphs, \(nodes) nodes and \(elements) "
        + "elements checked (drawn nodes with a gradient); \(broadcasts) broadcasting ops, "
        + "\(fanOuts) fan-outs, deepest chain \(deepest); ops: "
        + "\(counts.sorted { $0.key < $1.key })")
    for op in OperationCatalog.all {
      #expect(counts[String(describing: op), default: 0] >= 50, "\(op) is rarely fuzzed: \(counts)")
    }
    #expect(broadcasts >= 1000)
    #expect(fanOuts >= 1000)
    #expect(deepest >= 20)
  }

  @Test func theSameSeedGivesTheSameGraph() {
    for seed: UInt64 in [0, 7, 12345] {
      let first = Self.generator.makeGraph(seed: seed, as: Double.self).graph.listing()
      let second = Self.generator.makeGraph(seed: seed, as: Double.self).graph.listing()
      #expect(first == second)
    }
  }

  @Test func aSubstitutedOpChangesNoDrawOfTheGenerator() {
    // An op with tanh's forward and a wrong backward in tanh's place: the same graph, node
    // for node and value for value, with the substitute wherever tanh was.
    let replaced = Self.generator.substituting {
      $0 is Tanh ? Mutant(base: $0, fault: .scaled(0.5)) : nil
    }
    var substituted = 0
    for seed: UInt64 in 0..<20 {
      let original = Self.generator.makeRandomGraph(seed: seed, as: Double.self)
      let other = replaced.makeRandomGraph(seed: seed, as: Double.self)
      #expect(original.graph.listing() == other.graph.listing())
      #expect(original.reductionStart == other.reductionStart)
      for (a, b) in zip(original.graph.nodes, other.graph.nodes) {
        #expect(a.operation is Tanh == (b.operation is Mutant))
        if b.operation is Mutant { substituted += 1 }
      }
    }
    #expect(substituted > 0)
  }

  @Test func zeroDerivativeOpsDoNotBlankWhatIsUpstream() {
    // Every step node's operand is consumed by another op too (its gradient flows on), and
    // no chain op has a zero derivative: the generator's placement rule, seen from outside.
    for seed: UInt64 in 0..<512 {
      let drawn = Self.generator.makeRandomGraph(seed: seed, as: Double.self)
      let nodes = drawn.graph.nodes.prefix(drawn.reductionStart)
      for node in nodes where node.operation is Step {
        let operand = node.inputs[0]
        let consumers = nodes.filter { $0.inputs.contains(operand) }
        #expect(
          consumers.count >= 2,
          "seed \(seed): \(node.label) alone consumes \(operand.label)")
      }
    }
  }

  @Test func theListingShowsOpsOperandsShapesAndExactValues() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.1, -1.0]]), name: "x")
    let w = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
    graph.withScope("layer0") { _ = x.matmul(w).tanh() }
    #expect(
      graph.listing() == """
        #0 x = input [1, 2] = [0.1, -1.0]
        #1 w1 = parameter [2, 1] = [0.3, -0.2]
        #2 matmul#2 = matmul(#0 x, #1 w1) [1, 1] in layer0 = [\(0.1 * 0.3 + -1.0 * -0.2)]
        #3 tanh#3 = tanh(#2 matmul#2) [1, 1] in layer0 = [\(Foundation.tanh(0.1 * 0.3 + 0.2))]
        """)
  }
}

/// What the library returns where an op has no derivative or no finite value; the fuzz
/// avoids these points on purpose, so they are pinned down here.
@Suite("Non-differentiable and non-finite points")
struct NonDifferentiablePointTests {
  @Test func reluAndStepAtZero() {
    // relu'(0) = 0 (the subgradient PyTorch and JAX use); step'(x) = 0 everywhere, also at 0.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0, 0]), name: "x")
    let relu = x.relu()
    let step = x.step()
    graph.backward(from: relu.sum() + step.sum())
    #expect(relu.value == Tensor([0, 0]))
    #expect(step.value == Tensor([0, 0]))  // step(0) = 0: "w·x + b > 0"
    #expect(x.gradient == Tensor([0, 0]))
  }

  @Test func logAtZeroAndBelow() {
    // log 0 = −∞ and d log/dx = 1/0 = +∞; log of a negative number is NaN, so is its use.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0, -1]), name: "x")
    let y = x.log()
    graph.backward(from: y, seed: Tensor([1, 1]))
    #expect(y.value.scalars[0] == -.infinity)
    #expect(y.value.scalars[1].isNaN)
    #expect(x.gradient.scalars == [.infinity, -1])  // 1/x is still defined at x = −1
  }

  @Test func divisionByZero() {
    // 1/0 = +∞, 0/0 = NaN; ∂(a/b)/∂a = 1/b = +∞ and ∂(a/b)/∂b = −a/b² = NaN or −∞.
    let graph = Graph<Double>()
    let a = graph.input(Tensor([1, 0]), name: "a")
    let b = graph.input(Tensor([0, 0]), name: "b")
    let q = a / b
    graph.backward(from: q, seed: Tensor([1, 1]))
    #expect(q.value.scalars[0] == .infinity)
    #expect(q.value.scalars[1].isNaN)
    #expect(a.gradient.scalars == [.infinity, .infinity])
    #expect(b.gradient.scalars[0] == -.infinity)
    #expect(b.gradient.scalars[1].isNaN)
  }

  @Test func saturatingFunctionsStayFinite() {
    // exp overflows to +∞ past ln(max) ≈ 709.78; sigmoid and tanh saturate with derivative 0.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([-800, 800]), name: "x")
    let e = x.exp()
    let s = x.sigmoid()
    let t = x.tanh()
    graph.backward(from: s.sum() + t.sum())
    #expect(e.value.scalars == [0, .infinity])
    #expect(s.value == Tensor([0, 1]))
    #expect(t.value == Tensor([-1, 1]))
    #expect(x.gradient == Tensor([0, 0]))
  }
}
