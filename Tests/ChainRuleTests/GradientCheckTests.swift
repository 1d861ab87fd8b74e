import Foundation
import Testing

@testable import ChainRule

/// A deliberately wrong op for the failing-check tests: y = x², but its VJP claims 3x.
private struct WrongSquare: UnaryElementwise {
  var name: String { "wrong-square" }
  func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { x * x }
  func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 3 * x }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "3x" }
}

@Suite("Gradient check")
struct GradientCheckTests {
  /// The seed 000 network (FORMULAS.md): 2 → 1 tanh → 1 sigmoid, binary cross-entropy.
  static func seed000<S: TensorScalar>(_: S.Type) -> (Graph<S>, loss: Node<S>) {
    let graph = Graph<S>()
    let x = graph.input(Tensor([[0.5, -1.0]]), name: "x")
    let y = graph.input(Tensor([[1.0]]), name: "y")
    let w1 = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
    let b1 = graph.parameter(Tensor([0.1]), name: "b1")
    let w2 = graph.parameter(Tensor([[0.7]]), name: "w2")
    let b2 = graph.parameter(Tensor([-0.4]), name: "b2")
    let a1 = (x.matmul(w1) + b1).tanh().named("a1")
    let a2 = (a1.matmul(w2) + b2).sigmoid().named("a2")
    let loss = (-(y * a2.log() + (1 - y) * (1 - a2).log())).sum().named("loss")
    return (graph, loss)
  }

  @Test func seed000NetworkPassesForEveryParameter() {
    let (graph, loss) = Self.seed000(Double.self)
    let report = graph.checkGradients(of: loss)
    #expect(report.passed, "\(report)")
    #expect(report.entries.map(\.label) == ["w1", "b1", "w2", "b2"])
    // The numeric side is an independent central difference: compare it with the test helper
    // and the analytic side with the hand-derived dL/dw[2] = a[1]·(a[2] − y).
    let nodes = graph.nodes.filter { $0.kind == .parameter }
    for (entry, node) in zip(report.entries, nodes) {
      expectClose(
        entry.numeric, centralDifference(of: loss, withRespectTo: node), relative: 1e-9,
        absolute: 1e-12, "numeric \(node.label)")
    }
    let a1 = graph.nodes.first { $0.name == "a1" }!.value.scalar
    let a2 = graph.nodes.first { $0.name == "a2" }!.value.scalar
    expectClose(report.entries[2].analytic.scalar, a1 * (a2 - 1), relative: 1e-12)
    for entry in report.entries {
      #expect(entry.maxAbsoluteError < 1e-8)
      #expect(entry.worstIndex != nil)
    }
  }

  @Test func floatGraphIsCheckedAgainstDoubleDifferences() {
    let (graph, loss) = Self.seed000(Float.self)
    let report = graph.checkGradients(of: loss)
    #expect(report.dtypeName == "F32")
    #expect(report.passed, "\(report)")
    // The analytic side is the Float backward pass: within Float rounding of the Double one.
    let (double, doubleLoss) = Self.seed000(Double.self)
    let reference = double.checkGradients(of: doubleLoss)
    for (entry, expected) in zip(report.entries, reference.entries) {
      expectClose(entry.analytic, expected.analytic, relative: 1e-5, absolute: 1e-7, entry.label)
      // The numeric side re-ran the same ops in Double on the Float leaves' values.
      expectClose(entry.numeric, expected.numeric, relative: 1e-5, absolute: 1e-7, entry.label)
    }
  }

  @Test func wrongDerivativeFailsAndTheReportNamesTheWorstElement() {
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([[1.0, -2.0, 0.5]]), name: "x")
    let z = graph.parameter(Tensor([4.0]), name: "z")
    let loss = (graph.apply(WrongSquare(), [x]) + z).sum()
    let report = graph.checkGradients(of: loss)
    #expect(!report.passed)
    #expect(report.failures.map(\.label) == ["x"])
    let entry = report.entries[0]
    // ∂L/∂x claimed 3x, true 2x: the worst element is the largest |x|, x = −2 at [0, 1].
    #expect(entry.worstIndex == [0, 1])
    expectClose(entry.worstAnalytic, -6, relative: 1e-15)
    expectClose(entry.worstNumeric, -4, relative: 1e-8)
    expectClose(entry.maxAbsoluteError, 2, relative: 1e-8)
    expectClose(entry.maxRelativeError, 0.5, relative: 1e-8)
    #expect(report.entries[1].passed)
    let text = report.description
    #expect(text.contains("FAIL"))
    #expect(text.contains("FAILED: 1 of 2 nodes"))
    #expect(text.contains("[0, 1]"))
  }

  @Test func toleranceAndStepAreSettable() {
    let (graph, loss) = Self.seed000(Float.self)
    // With no tolerance at all, Float rounding of the analytic side cannot pass.
    let strict = graph.checkGradients(of: loss, absoluteTolerance: 0, relativeTolerance: 0)
    #expect(!strict.passed)
    #expect(strict.absoluteTolerance == 0 && strict.relativeTolerance == 0)
    // A coarse step ε = 0.1 has a truncation error ~ε²·f‴/6, far above the default rtol.
    let coarse = graph.checkGradients(of: loss, epsilon: 0.1, relativeTolerance: 1e-6)
    #expect(!coarse.passed)
    #expect(coarse.epsilon == 0.1)
  }

  @Test func leavesTheGraphExactlyAsItFoundIt() {
    let (graph, loss) = Self.seed000(Float.self)
    // Accumulated gradients from two earlier passes, and node gradients from the last one.
    graph.backward(from: loss)
    graph.backward(from: loss)
    let values = graph.nodes.map(\.value)
    let gradients = graph.gradients
    let parameters = graph.parameters
    let parameterValues = parameters.map(\.value)
    let parameterGradients = parameters.map(\.gradient)
    let a1 = graph.nodes.first { $0.name == "a1" }!
    _ = graph.checkGradients(of: loss, withRespectTo: graph.nodes.filter(\.requiresGradient))
    _ = graph.checkGradients(of: loss, withRespectTo: [a1])
    #expect(graph.nodes.map(\.value) == values)
    #expect(graph.gradients == gradients)
    #expect(parameters.map(\.value) == parameterValues)
    #expect(parameters.map(\.gradient) == parameterGradients)
  }

  @Test func checksIntermediateNodesAndNonScalarOutputsWithASeed() {
    var generator = SplitMix64(seed: 5)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([3, 4], using: &generator), name: "x")
    let w = graph.parameter(randomTensor([4, 2], using: &generator), name: "w")
    let h = x.matmul(w).tanh().named("h")
    let y = (h * h + h).named("y")  // fan-out of h
    let seed = randomTensor([3, 2], using: &generator)
    let report = graph.checkGradients(of: y, withRespectTo: [x, w, h], seed: seed)
    #expect(report.passed, "\(report)")
    // ∂L/∂h = seed ⊙ (2h + 1), derived by hand.
    let expected = Tensor.zipBroadcast(seed, h.value) { s, h in s * (2 * h + 1) }
    expectClose(report.entries[2].analytic, expected, relative: 1e-12)
    expectClose(report.entries[2].numeric, expected, relative: 1e-8, absolute: 1e-10)
  }

  @Test func nodesTheOutputDoesNotReachHaveZeroGradients() {
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([1.0, 2.0]), name: "x")
    let unused = graph.parameter(Tensor([3.0]), name: "unused")
    let loss = x.squared().sum()
    let later = (loss * 2).named("later")
    let report = graph.checkGradients(of: loss, withRespectTo: [unused, later, x])
    #expect(report.passed, "\(report)")
    #expect(report.entries[0].numeric == Tensor([0.0]))
    #expect(report.entries[1].numeric == Tensor(0.0))
  }

  @Test func liveAndVacuousElementsAreCountedAndAllVacuousNodesMarked() {
    // L = Σ step(x) + Σ y²: ∂L/∂x = 0 everywhere, so x checks nothing (vacuous);
    // ∂L/∂y = 2y = (0, 6, −4): two live elements and one vacuous one (y = 0).
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([0.5, -1.0]), name: "x")
    let y = graph.parameter(Tensor([0.0, 3.0, -2.0]), name: "y")
    let report = graph.checkGradients(of: x.step().sum() + y.squared().sum())
    #expect(report.entries.map(\.status) == [.vacuous, .passed])
    #expect(report.entries.map(\.liveElements) == [0, 2])
    #expect(report.entries.map(\.vacuousElements) == [2, 1])
    #expect(!report.entries[0].passed)
    #expect(report.liveElements == 2 && report.vacuousElements == 3)
    // Live elements elsewhere: the report passes, and names the vacuous node.
    #expect(report.status == .passed && report.passed)
    #expect(report.vacuous.map(\.label) == ["x"])
    #expect(report.failures.isEmpty)
    let rows = report.description.split(separator: "\n")
    #expect(rows.contains { $0.hasPrefix("x ") && $0.hasSuffix("vacuous") })
    #expect(rows.contains { $0.hasPrefix("y ") && $0.hasSuffix("ok") })
    #expect(
      rows.last == "passed: 1 of 2 nodes; 1 vacuous (every element within atol of 0 on both sides)")
  }

  @Test func aCheckWithoutALiveElementDoesNotPass() {
    // Only ∂L/∂x = 0 is checked: nothing could have failed, so nothing passed.
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([0.5, -1.0]), name: "x")
    let report = graph.checkGradients(of: x.step().sum())
    #expect(report.status == .vacuous)
    #expect(!report.passed)
    #expect(report.failures.isEmpty)
    #expect(report.description.contains("VACUOUS: nothing checked"))
    // No node at all is vacuous too.
    #expect(graph.checkGradients(of: x.sum(), withRespectTo: []).status == .vacuous)
  }

  @Test func aWrongDerivativeWithinAtolOfZeroIsVacuousNotCaught() {
    // WrongSquare claims 3x for 2x. At x = 10⁻⁷ both sides (3·10⁻⁷ and 2·10⁻⁷) are below the
    // default atol 1e-5: the error cannot show, and the report says so instead of "ok".
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([1e-7]), name: "x")
    let loss = graph.apply(WrongSquare(), [x]).sum()
    #expect(graph.checkGradients(of: loss).status == .vacuous)
    // With atol below the values the element is live, and it fails.
    let tight = graph.checkGradients(of: loss, absoluteTolerance: 1e-9)
    #expect(tight.status == .failed)
    #expect(tight.entries[0].liveElements == 1)
  }

  @Test func aNaNElementIsLiveAndFails() {
    // log(−1) = NaN: the numeric side is NaN, which is never within tolerance.
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([-1.0, 2.0]), name: "x")
    let report = graph.checkGradients(of: x.log().sum())
    #expect(report.status == .failed)
    #expect(report.entries[0].liveElements == 2)
  }

  @Test func aGraphWithoutParametersSaysNothingWasChecked() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1.0, 2.0]), name: "x")
    let report = graph.checkGradients(of: x.sum())
    #expect(report.entries.isEmpty)
    #expect(report.description.contains("no nodes checked"))
  }
}

/// The example of Docs/gradient-check.md, compiled and run; its printed report is compared
/// with the one in the document.
@Suite("Gradient check documentation")
struct GradientCheckDocumentationTests {
  static let document = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Docs/gradient-check.md")

  /// The cells of a table row, split at runs of two or more spaces.
  static func cells(_ line: Substring) -> [String] {
    line.split(separator: "  ", omittingEmptySubsequences: true).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
  }

  @Test func exampleReportMatchesTheDocument() throws {
    // --- the example, as in the document ---
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0]]), name: "x")
    let y = graph.input(Tensor([[1.0]]), name: "y")
    let w1 = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
    let b1 = graph.parameter(Tensor([0.1]), name: "b1")
    let w2 = graph.parameter(Tensor([[0.7]]), name: "w2")
    let b2 = graph.parameter(Tensor([-0.4]), name: "b2")
    let a1 = (x.matmul(w1) + b1).tanh().named("a1")
    let a2 = (a1.matmul(w2) + b2).sigmoid().named("a2")
    let loss = (-(y * a2.log() + (1 - y) * (1 - a2).log())).sum().named("loss")

    let report = graph.checkGradients(of: loss)
    print(report)
    // --- end of the example ---
    #expect(report.passed)

    let text = try String(contentsOf: Self.document, encoding: .utf8)
    let block = try #require(
      text.components(separatedBy: "```text\n").dropFirst().first?
        .components(separatedBy: "```").first)
    let documented = block.split(separator: "\n")
    let printed = report.description.split(separator: "\n")
    #expect(documented.count == printed.count)
    // Everything but the two error columns (their last digits depend on the platform's libm).
    for (doc, run) in zip(documented, printed) {
      var (doc, run) = (Self.cells(doc), Self.cells(run))
      if doc.count == 8 && run.count == 8 {
        doc.removeSubrange(2...3)
        run.removeSubrange(2...3)
      }
      #expect(doc == run)
    }
  }
}
