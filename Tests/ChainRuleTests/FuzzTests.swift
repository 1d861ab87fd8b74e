import Foundation
import Testing

@testable import ChainRule

/// A deliberately wrong op, to show the fuzz catches a bad VJP: y = x², VJP claims 2x + 0.1.
private struct BrokenSquare: UnaryElementwise, CatalogedOperation {
  var name: String { "broken-square" }
  func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { x * x }
  func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 2 * x + 0.1 }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "2x" }
  static let checks = [
    OperationCheck("[2, 3]", [[2, 3]]) { graph, x in
      graph.apply(BrokenSquare(), [x[0]])
    }
  ]
}

/// Random DAGs from every op of the catalog; every node's gradient checked against central
/// differences in Double (one graph in four is built in Float).
@Suite("Random-graph fuzz")
struct FuzzTests {
  static let generator = RandomGraphGenerator()
  static let batches = 8
  static let graphsPerBatch = 256  // 2,048 graphs per run

  static func seeds(ofBatch batch: Int) -> Range<UInt64> {
    UInt64(batch * graphsPerBatch)..<UInt64((batch + 1) * graphsPerBatch)
  }

  @Test(arguments: 0..<batches)
  func everyGradientOfRandomGraphsMatchesCentralDifferences(batch: Int) {
    for seed in Self.seeds(ofBatch: batch) {
      let isFloat = seed % 4 == 3
      let (report, listing) =
        isFloat ? Self.run(seed: seed, Float.self) : Self.run(seed: seed, Double.self)
      if !report.passed {
        Issue.record(
          """
          random graph seed \(seed) (\(isFloat ? "Float" : "Double")) failed; reproduce with \
          RandomGraphGenerator().makeGraph(seed: \(seed), as: \(isFloat ? "Float" : "Double").self)
          \(report)
          graph:
          \(listing)
          """)
      }
    }
  }

  /// Checks the gradient of every node of the graph of `seed`; returns the report and, on a
  /// failure, a listing of the graph with every value, enough to rebuild it.
  static func run<Scalar: TensorScalar>(seed: UInt64, _: Scalar.Type) -> (
    GradientCheckReport, String
  ) {
    let (graph, loss) = generator.makeGraph(seed: seed, as: Scalar.self)
    // Every node that has a gradient (constants and ops on constants alone have none).
    let checked = graph.nodes.filter(\.requiresGradient)
    let report = graph.checkGradients(of: loss, withRespectTo: checked)
    return (report, report.passed ? "" : graph.listing())
  }

  @Test func theFuzzCoversEveryCatalogOpAndItsShapes() {
    var counts: [String: Int] = [:]
    var broadcasts = 0
    var fanOuts = 0
    var deepest = 0
    var nodes = 0
    var elements = 0
    for seed in 0..<UInt64(Self.batches * Self.graphsPerBatch) {
      let (graph, _) = Self.generator.makeGraph(seed: seed, as: Double.self)
      let scaffold = graph.nodes.first { $0.name?.hasPrefix("R") == true }!.id
      var uses = Array(repeating: 0, count: graph.nodeCount)
      var depth = Array(repeating: 0, count: graph.nodeCount)
      for node in graph.nodes {
        for input in node.inputs { uses[input.id] += 1 }
        // The loss's reduction (after the first weight constant Rₛ) is not the fuzz's doing.
        guard let operation = node.operation, node.id < scaffold else { continue }
        counts[String(describing: type(of: operation)), default: 0] += 1
        depth[node.id] = 1 + node.inputs.map { depth[$0.id] }.max()!
        if operation is any BinaryElementwise, Set(node.inputs.map(\.shape)).count == 2 {
          broadcasts += 1
        }
      }
      fanOuts += uses.filter { $0 > 1 }.count
      deepest = max(deepest, depth.max()!)
      nodes += graph.nodeCount
      elements += graph.nodes.map(\.value.count).reduce(0, +)
    }
    print(
      "fuzz: \(Self.batches * Self.graphsPerBatch) graphs, \(nodes) nodes, \(elements) elements "
        + "checked; \(broadcasts) broadcasting ops, \(fanOuts) fan-outs, deepest chain "
        + "\(deepest); ops: \(counts.sorted { $0.key < $1.key })")
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

  @Test func theFuzzCatchesAWrongDerivative() {
    let generator = RandomGraphGenerator(operations: [BrokenSquare.self, Add.self, Tanh.self])
    let failures = (0..<UInt64(50)).filter { seed in
      let (graph, loss) = generator.makeGraph(seed: seed, as: Double.self)
      let usesBroken = graph.nodes.contains { $0.operation is BrokenSquare }
      // Every node that has a gradient (constants and ops on constants alone have none).
      let checked = graph.nodes.filter(\.requiresGradient)
      let report = graph.checkGradients(of: loss, withRespectTo: checked)
      #expect(usesBroken || report.passed)
      return !report.passed
    }
    #expect(failures.count >= 25)
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
