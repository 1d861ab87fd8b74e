import Foundation
import Testing

@testable import ChainRule

/// The reason every test that needs Graphviz gives when it is skipped.
let needsGraphviz: Comment = "needs Graphviz: `dot` is not on PATH (apt-get install graphviz)"

/// Runs the real Graphviz on `dot` (`dot -Tsvg`) and expects an SVG. Only for tests marked
/// `.enabled(if: Graphviz.isInstalled, needsGraphviz)`: without `dot` it records an issue
/// rather than passing without having rendered anything.
func expectGraphvizAccepts(
  _ dot: String, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  guard Graphviz.isInstalled else {
    Issue.record(
      "\(what): Graphviz is not installed; mark the test .enabled(if: Graphviz.isInstalled)",
      sourceLocation: sourceLocation)
    return
  }
  do {
    let svg = try Graphviz.render(dot, format: .svg)
    #expect(
      String(decoding: svg, as: UTF8.self).contains("<svg"), "\(what): no SVG",
      sourceLocation: sourceLocation)
  } catch {
    Issue.record(
      "\(what): Graphviz rejected the document: \(error)", sourceLocation: sourceLocation)
  }
}

/// The seed 000 network after one backward pass.
func seed000AfterBackward() -> Examples.Seed000 {
  let network = Examples.seed000()
  network.graph.backward(from: network.loss)
  return network
}

@Suite struct DotTests {
  static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Snapshots")

  /// Compares `text` with the golden file, or rewrites it when CHAINRULE_RECORD_SNAPSHOTS=1.
  func expectSnapshot(_ text: String, named name: String) throws {
    let url = Self.snapshots.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["CHAINRULE_RECORD_SNAPSHOTS"] == "1" {
      try DotFile.write(text, to: url)
      return
    }
    let golden = try String(contentsOf: url, encoding: .utf8)
    #expect(text == golden, "\(name) differs; re-record with CHAINRULE_RECORD_SNAPSHOTS=1")
  }

  @Test func seed000MatchesTheGoldenFile() throws {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.loss)
    try expectSnapshot(dot, named: "seed000.dot")
  }

  @Test func outputIsDeterministic() {
    // Two separately built networks draw byte for byte the same.
    let first = seed000AfterBackward()
    let second = seed000AfterBackward()
    #expect(first.graph.dot() == second.graph.dot())
  }

  @Test func seed000DrawsKindsScopesAndDerivatives() {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.loss)
    // Clusters for the three scopes, in order of first appearance.
    #expect(dot.contains("subgraph cluster_0 {\n    label=\"layer1\";"))
    #expect(dot.contains("subgraph cluster_1 {\n    label=\"layer2\";"))
    #expect(dot.contains("subgraph cluster_2 {\n    label=\"loss\";"))
    // Distinct shapes per kind; the loss is the output.
    #expect(dot.contains("n0 [label=\"x\\ninput [1, 2]\\nvalue = [[0.5, -1]]"))
    #expect(dot.contains("shape=box3d"))
    #expect(dot.contains("shape=note"))
    #expect(dot.contains("n21 [label=\"L\\nneg (loss) [1, 1]"))
    #expect(dot.contains("shape=doubleoctagon"))
    // Edge numbers are the local derivatives from the forward values:
    // ∂a1/∂z1 = 1 − a1², ∂a2/∂z2 = a2(1 − a2), ∂(a1·w2)/∂a1 = w2.
    let a1 = network.a1.value.scalar
    let a2 = network.a2.value.scalar
    #expect(dot.contains("∂a1/∂z1 = \(DotText.number(1 - a1 * a1))\""))
    #expect(dot.contains("∂a2/∂z2 = \(DotText.number(a2 * (1 - a2)))\""))
    #expect(dot.contains("∂matmul#8/∂a1 = 0.7\""))
    // Tensor edges fall back to the op's formula.
    #expect(dot.contains("∂matmul#3/∂w1 = xᵀ·ȳ"))
    // Gradients agree with backward, rounded to 4 significant digits.
    #expect(dot.contains("grad = [[-0.1514], [0.3027]]"))
  }

  @Test func optionsChangeDirectionLabelsAndContent() {
    let network = seed000AfterBackward()
    var options = DotOptions()
    options.direction = .topToBottom
    options.showsValues = false
    options.showsGradients = false
    options.showsShapes = false
    options.edgeLabels = .formulas
    let dot = network.graph.dot(reaching: network.loss, options: options)
    #expect(dot.contains("rankdir=TB;"))
    #expect(!dot.contains("value ="))
    #expect(!dot.contains("grad ="))
    #expect(!dot.contains("[1, 2]"))
    #expect(dot.contains("∂a1/∂z1 = 1 − a1²"))
    #expect(dot.contains("∂a2/∂z2 = a2(1 − a2)"))

    options.edgeLabels = .formulasAndNumbers
    let both = network.graph.dot(reaching: network.loss, options: options)
    let a1 = network.a1.value.scalar
    #expect(both.contains("∂a1/∂z1 = 1 − a1² = \(DotText.number(1 - a1 * a1))\""))

    options.edgeLabels = .none
    #expect(!network.graph.dot(options: options).contains("label=\"∂"))
  }

  @Test func partReachingANodeOnly() {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.z1)
    // z1 is computed from x, w1, b1 and their matmul; nothing later is drawn.
    for id in [0, 1, 2, 3, 4] { #expect(dot.contains("  n\(id) [")) }
    for id in 5...21 { #expect(!dot.contains("n\(id) [")) }
    #expect(dot.contains("n4 [label=\"z1\\nadd (loss) [1, 1]"))
  }

  @Test func largeTensorsShowNoValuesAndNestedScopesNest() {
    let graph = Graph<Double>()
    let x = graph.input(.ones([3, 4]), name: "batch")
    let out = graph.withScope("model") {
      graph.withScope("layer0") {
        x.matmul(graph.parameter(.ones([4, 2]), name: "w")).relu()
      }
    }
    let loss = out.sum().named("total")
    graph.backward(from: loss)
    let dot = graph.dot()
    #expect(dot.contains("n0 [label=\"batch\\ninput [3, 4]\", shape=box"))
    #expect(
      dot.contains(
        "  subgraph cluster_0 {\n    label=\"model\";\n    style=\"rounded,dashed\";\n"
          + "    color=\"#6b7280\";\n    subgraph cluster_1 {\n      label=\"layer0\";"))
    #expect(dot.contains("∂relu#3/∂matmul#2 = [matmul#2 > 0]"))
  }

  @Test(arguments: [
    ("a\"b", "a\\\"b"), ("c\\d", "c\\\\d"), ("<x>", "<x>"), ("line\nbreak", "line\\nbreak"),
    ("cr\r\nlf", "cr\\nlf"),
  ])
  func hostileNamesAreEscaped(name: String, escaped: String) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(2.0), name: name)
    let y = graph.withScope(name) { (x * x).named(name + "²") }
    graph.backward(from: y)
    let dot = graph.dot()
    #expect(dot.contains("n0 [label=\"\(escaped)\\ninput []"))
    #expect(dot.contains("label=\"\(escaped)\";"))  // the cluster
    #expect(dot.contains("label=\"∂\(escaped)²/∂\(escaped) = 2\""))  // edge: ∂(x·x)/∂x = x
    // Outside the labels' quotes nothing of the name leaks: every line still parses as DOT.
    #expect(dot.split(separator: "\n").count == 15)
  }

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func escapedLabelsRoundTripThroughGraphviz() throws {
    let graph = Graph<Double>()
    _ = graph.input(Tensor(1.0), name: "a\"b c\\d <x> &")
    let svg = String(decoding: try Graphviz.render(graph.dot(), format: .svg), as: UTF8.self)
    #expect(svg.contains("a&quot;b c\\d &lt;x&gt; &amp;"))
  }

  /// Every kind of document the tests above check as text, built the same way, for Graphviz.
  static let documents: [String: @Sendable () -> String] = [
    "seed 000 (the golden file)": {
      let network = seed000AfterBackward()
      return network.graph.dot(reaching: network.loss)
    },
    "seed 000, whole graph": { seed000AfterBackward().graph.dot() },
    "seed 000, reaching a1": {
      let network = seed000AfterBackward()
      return network.graph.dot(reaching: network.a1)
    },
    "seed 000, reaching z1": {
      let network = seed000AfterBackward()
      return network.graph.dot(reaching: network.z1)
    },
    "top to bottom, formulas": {
      let network = seed000AfterBackward()
      var options = DotOptions()
      options.direction = .topToBottom
      options.showsValues = false
      options.showsGradients = false
      options.showsShapes = false
      options.edgeLabels = .formulas
      return network.graph.dot(reaching: network.loss, options: options)
    },
    "formulas and numbers": {
      let network = seed000AfterBackward()
      var options = DotOptions()
      options.edgeLabels = .formulasAndNumbers
      return network.graph.dot(reaching: network.loss, options: options)
    },
    "nested scopes": {
      let graph = Graph<Double>()
      let x = graph.input(.ones([3, 4]), name: "batch")
      let out = graph.withScope("model") {
        graph.withScope("layer0") {
          x.matmul(graph.parameter(.ones([4, 2]), name: "w")).relu()
        }
      }
      graph.backward(from: out.sum())
      return graph.dot()
    },
    "hostile names": {
      let graph = Graph<Double>()
      for name in ["a\"b", "c\\d", "<x>", "line\nbreak", "cr\r\nlf"] {
        let x = graph.input(Tensor(2.0), name: name)
        _ = graph.withScope(name) { (x * x).named(name + "²") }
      }
      return graph.dot()
    },
  ]

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz), arguments: documents.keys.sorted())
  func graphvizRendersTheDocument(_ name: String) {
    expectGraphvizAccepts(Self.documents[name]!(), name)
  }

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func graphvizRendersEveryBackwardFrame() {
    let network = Examples.seed000()
    for (index, frame) in network.graph.backwardFrames(from: network.loss).enumerated() {
      expectGraphvizAccepts(frame, "frame \(index)")
    }
  }
}
