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

/// `expectGraphvizAccepts` inside a test whose other checks need no Graphviz: without `dot`
/// the rendering part is skipped, and says so by name on the test output.
func expectGraphvizAcceptsIfInstalled(
  _ dot: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  guard Graphviz.isInstalled else {
    print("SKIPPED (rendering part of \(what)): \(needsGraphviz)")
    return
  }
  expectGraphvizAccepts(dot, what, sourceLocation: sourceLocation)
}

/// The seed 000 network after one backward pass.
func seed000AfterBackward() -> Examples.Seed000 {
  let network = Examples.seed000()
  network.graph.backward(from: network.loss)
  return network
}

/// A 2 → 3 → 1 network (tanh, then sigmoid, binary cross-entropy) on a batch of four rows,
/// after one backward pass: the "small network of one's own" of issue 14.
func network231() -> (graph: Graph<Double>, loss: Node<Double>) {
  var generator = SplitMix64(seed: 231)
  let model = Sequential<Double>([
    Dense(inputSize: 2, outputSize: 3, activation: .tanh, using: &generator),
    Dense(inputSize: 3, outputSize: 1, activation: .sigmoid, using: &generator),
  ])
  let graph = Graph<Double>()
  let x = graph.input(
    Tensor(shape: [4, 2], scalars: [0.5, -1, 1.5, 0.2, -0.3, 0.8, 0, -2]), name: "x",
    requiresGradient: false)
  let y = graph.input(Tensor([[1.0], [0], [1], [0]]), name: "y", requiresGradient: false)
  let loss = model(x).binaryCrossEntropy(y).named("L")
  graph.backward(from: loss)
  return (graph, loss)
}

/// The digits model of the CLI (64 → 32 relu → 10, softmax cross-entropy over class indices)
/// on a batch of eight random rows, after one backward pass.
func digitsNetwork() -> (graph: Graph<Double>, loss: Node<Double>) {
  var generator = SplitMix64(seed: 64)
  let model = Sequential<Double>([
    Dense(inputSize: 64, outputSize: 32, activation: .relu, using: &generator),
    Dense(inputSize: 32, outputSize: 10, using: &generator),
  ])
  let graph = Graph<Double>()
  let x = graph.input(randomTensor([8, 64], using: &generator), name: "x", requiresGradient: false)
  let labels = graph.input(Tensor([3, 1, 4, 1, 5, 9, 2, 6]), name: "y")
  let loss = model(x).softmaxCrossEntropy(labels: labels).named("loss")
  graph.backward(from: loss)
  return (graph, loss)
}

/// What a rendered SVG looks like on a slide: its size, and its smallest text's height when
/// the SVG is shown `displayWidth` pixels wide.
///
/// How it is measured: Graphviz writes `<svg width="Wpt" height="Hpt" viewBox="0 0 w h">`
/// and one `<g … transform="scale(s s) …">`, and every `<text>` carries `font-size="f"` in
/// user units. Shown `displayWidth` px wide, one user unit is `displayWidth / w` px, so a
/// text's displayed font size is `f · s · displayWidth / w` px.
struct SVGMeasure {
  var width: Double
  var height: Double
  var smallestFontSize: Double
  var textCount: Int
  var aspect: Double { width / height }
  func displayedFontSize(atWidth displayWidth: Double) -> Double {
    smallestFontSize * displayWidth / width
  }

  init(_ svg: String) throws {
    func number(after key: String, in text: Substring) -> [Double]? {
      guard let range = text.range(of: key + "=\"") else { return nil }
      let rest = text[range.upperBound...]
      guard let end = rest.firstIndex(of: "\"") else { return nil }
      return rest[..<end].split(whereSeparator: { $0 == " " || $0 == "," }).compactMap {
        Double($0.trimmingCharacters(in: .letters))
      }
    }
    let tag = svg[svg.range(of: "<svg")!.lowerBound...]
    let viewBox = try #require(number(after: "viewBox", in: tag))
    width = viewBox[2]
    height = viewBox[3]
    var scale = 1.0
    if let range = svg.range(of: "transform=\"scale(") {
      scale = Double(svg[range.upperBound...].prefix { $0 != " " && $0 != ")" }) ?? 1
    }
    var sizes: [Double] = []
    var rest = svg[...]
    while let range = rest.range(of: "<text") {
      rest = rest[range.upperBound...]
      let element = rest.prefix { $0 != ">" }
      if let size = number(after: "font-size", in: element)?.first { sizes.append(size * scale) }
    }
    textCount = sizes.count
    smallestFontSize = sizes.min() ?? 0
  }
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

  /// The three drawings issue 14 names, by name, with the options their figures use.
  static let slideDrawings: [String] = ["seed000", "network231", "digits", "seed000-collapsed"]

  static func slideDrawing(_ name: String) -> String {
    switch name {
    case "seed000":
      let network = seed000AfterBackward()
      return network.graph.dot(reaching: network.loss)
    case "seed000-collapsed":
      let network = seed000AfterBackward()
      var options = DotOptions()
      options.collapse = ["loss"]
      return network.graph.dot(reaching: network.loss, options: options)
    case "network231":
      let (graph, loss) = network231()
      return graph.dot(reaching: loss)
    default:
      let (graph, loss) = digitsNetwork()
      return graph.dot(reaching: loss)
    }
  }

  // Legible on a 16 : 9 slide, measured on the SVG the real Graphviz renders (see
  // `SVGMeasure`): seed 000 and the 2 → 3 → 1 network between 1 : 1 and 2 : 1, every drawing's
  // smallest text at least 10 px high when the SVG is shown 1,280 px wide.
  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED legibleOnASlide: Graphviz `dot` is not on PATH, so the rendered size cannot be measured"
    ), arguments: slideDrawings)
  func legibleOnASlide(name: String) throws {
    let dot = Self.slideDrawing(name)
    let svg = String(decoding: try Graphviz.render(dot, format: .svg), as: UTF8.self)
    if let folder = ProcessInfo.processInfo.environment["CHAINRULE_FIGURES_OUT"] {
      let url = URL(fileURLWithPath: folder)
      try DotFile.write(svg, to: url.appendingPathComponent(name + ".svg"))
      try DotFile.write(dot, to: url.appendingPathComponent(name + ".dot"))
    }
    let measure = try SVGMeasure(svg)
    let shown = measure.displayedFontSize(atWidth: 1280)
    let summary =
      "\(name): \(Int(measure.width))×\(Int(measure.height)) pt, aspect "
      + "\(DotText.number(measure.aspect)), smallest text \(DotText.number(shown)) px at 1280 px"
    print(summary)
    #expect(measure.textCount > 10, "\(summary): no text found")
    #expect(shown >= 10, "\(summary)")
    if name != "digits" {
      #expect(measure.aspect >= 1 && measure.aspect <= 2, "\(summary)")
    } else {
      #expect(measure.aspect >= 1 && measure.aspect <= 16.0 / 9.0 * 1.5, "\(summary)")
    }
  }

  static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Docs")

  /// The figures committed under Docs/, each with the DOT it is rendered from.
  static func docsFigures() -> [(file: String, dot: String)] {
    let network = seed000AfterBackward()
    let fresh = Examples.seed000()
    let frames = fresh.graph.backwardFrames(from: fresh.loss)
    let z2 = frames.first { $0.contains("∂L/∂z2 = ∂L/∂a2") }!
    return [
      ("seed000.svg", network.graph.dot(reaching: network.loss)),
      ("seed000-backward-z2.svg", z2),
      ("network231.svg", slideDrawing("network231")),
      ("digits-graph.svg", slideDrawing("digits")),
    ]
  }

  // The committed figures, re-rendered by Graphviz with CHAINRULE_RECORD_SNAPSHOTS=1, are
  // measured as they are: legible at 1,280 px and drawn from the current labels.
  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED committedFiguresAreLegible: Graphviz `dot` is not on PATH, so Docs/*.svg cannot be re-recorded"
    ))
  func committedFiguresAreLegible() throws {
    for (file, dot) in Self.docsFigures() {
      let url = Self.docs.appendingPathComponent(file)
      if ProcessInfo.processInfo.environment["CHAINRULE_RECORD_SNAPSHOTS"] == "1" {
        try Graphviz.render(dot, format: .svg, to: url)
      }
      let svg = try String(contentsOf: url, encoding: .utf8)
      let measure = try SVGMeasure(svg)
      let shown = measure.displayedFontSize(atWidth: 1280)
      print(
        "Docs/\(file): \(Int(measure.width))×\(Int(measure.height)) pt, aspect "
          + "\(DotText.number(measure.aspect)), smallest text \(DotText.number(shown)) px")
      #expect(shown >= 10, "Docs/\(file): \(shown) px")
      #expect(measure.aspect >= 1 && measure.aspect <= 2.4, "Docs/\(file): \(measure.aspect)")
      // Stale figures fail: the figure holds every node title of the DOT it is drawn from.
      let titles = dot.components(separatedBy: "<B>").dropFirst().map {
        String($0.prefix { $0 != "<" })
      }
      for title in titles.prefix(40) {
        #expect(svg.contains(">\(title)</text>"), "Docs/\(file) lacks \(title): re-record it")
      }
    }
  }

  // Verdicts from checkGradients: every parameter of seed 000 passes; a weight behind a dead
  // ReLU has gradient 0 and finite difference 0, which passes vacuously.
  @Test func gradientCheckVerdictsColourTheNodes() {
    let network = seed000AfterBackward()
    let report = network.graph.checkGradients(of: network.loss)
    #expect(report.passed && report.entries.count == 4)
    let dot = network.graph.dot(reaching: network.loss, checked: report)
    for entry in report.entries {
      let line = nodeLine(dot, entry.node)
      #expect(line.contains("fillcolor=\"#bbf7d0\""), "\(entry.label) not green")
      let at = entry.worstIndex.map { $0.isEmpty ? "" : " " + DotText.shape($0) } ?? ""
      let worst =
        "✓ ok · worst\(at):<BR/>\(DotText.number(entry.worstAnalytic, digits: 3)) vs "
        + "\(DotText.number(entry.worstNumeric, digits: 3)) (numeric)"
      #expect(line.contains(worst), "\(entry.label): \(line)")
    }
    expectGraphvizAcceptsIfInstalled(dot, "verdicts")

    let graph = Graph<Double>()
    let x = graph.input(Tensor([[1.0, 2.0]]), name: "x")
    let w = graph.parameter(Tensor([[-1.0], [-1.0]]), name: "w")  // x·w = −3: ReLU is dead
    let v = graph.parameter(Tensor([[0.5], [0.25]]), name: "v")
    let loss = (x.matmul(w).relu() + x.matmul(v).tanh()).sum().named("L")
    graph.backward(from: loss)
    let check = graph.checkGradients(of: loss)
    #expect(check.passed)  // the report alone says w is fine
    let text = graph.dot(reaching: loss, checked: check)
    #expect(nodeLine(text, w.id).contains("fillcolor=\"#fef9c3\""))
    #expect(nodeLine(text, w.id).contains("○ vacuous: gradient and<BR/>numeric both ≈ 0"))
    #expect(nodeLine(text, v.id).contains("fillcolor=\"#bbf7d0\""))
  }

  @Test(arguments: [
    ([1e-6], [0.0], GradientVerdict.Outcome.vacuous),  // both within atol = 1e-5 of zero
    ([1e-4], [1e-4], .passed),  // agree, and large enough to mean something
    ([1e-6, 0.5], [0.0, 0.5], .passed),  // one element large enough
    ([2e-5], [-2e-5], .failed),  // |a − r| = 4e-5 > 1e-5 + 1e-3·2e-5
    ([Double.nan], [0.0], .failed),
  ])
  func verdictOutcomes(gradient: [Double], reference: [Double], outcome: GradientVerdict.Outcome) {
    let verdict = GradientVerdict(
      gradient: Tensor(shape: [gradient.count], scalars: gradient),
      reference: Tensor(shape: [reference.count], scalars: reference), absoluteTolerance: 1e-5,
      relativeTolerance: 1e-3)
    #expect(verdict.outcome == outcome)
  }

  // A hand comparison, Karpathy's cmp(): the course formulas for seed 000, one of them written
  // wrong on purpose. db2 = a2 − y and dw1 = (a2 − y)·w2·(1 − a1²)·xᵀ agree; "db1 = (a2 − y)·
  // (1 − a1²)" forgets w2 and fails, its worst element in the label.
  @Test func handDerivedGradientsAreComparedOnTheDrawing() throws {
    let network = seed000AfterBackward()
    let (a1, a2) = (network.a1.value.scalar, network.a2.value.scalar)
    let delta2 = a2 - 1
    let delta1 = delta2 * 0.7 * (1 - a1 * a1)
    let wrong = delta2 * (1 - a1 * a1)
    let dot = network.graph.dot(
      reaching: network.loss,
      expected: [
        network.b2: Tensor([delta2]), network.w1: Tensor([[0.5 * delta1], [-1 * delta1]]),
        network.b1: Tensor([wrong]), network.w2: Tensor([1.0, 2.0]),
      ])
    #expect(nodeLine(dot, network.b2.id).contains("fillcolor=\"#bbf7d0\""))
    #expect(nodeLine(dot, network.w1.id).contains("fillcolor=\"#bbf7d0\""))
    let b1 = nodeLine(dot, network.b1.id)
    #expect(b1.contains("fillcolor=\"#fca5a5\""))
    let n = { (value: Double) in DotText.number(value, digits: 3) }
    #expect(b1.contains("✗ FAIL · worst [0]:<BR/>\(n(delta1)) vs \(n(wrong)) (expected)"), "\(b1)")
    #expect(nodeLine(dot, network.w2.id).contains("✗ FAIL: gradient [1, 1]<BR/>vs expected [2]"))
    #expect(!nodeLine(dot, network.z1.id).contains("fillcolor=\"#bbf7d0\""))  // not compared
    expectGraphvizAcceptsIfInstalled(dot, "hand comparison")
    if Graphviz.isInstalled {
      if ProcessInfo.processInfo.environment["CHAINRULE_RECORD_SNAPSHOTS"] == "1" {
        try Graphviz.render(
          dot, format: .svg, to: Self.docs.appendingPathComponent("seed000-expected.svg"))
      }
      let svg = try String(
        contentsOf: Self.docs.appendingPathComponent("seed000-expected.svg"), encoding: .utf8)
      #expect(svg.contains("✗ FAIL · worst [0]:</text>"), "Docs/seed000-expected.svg is stale")
      let measure = try SVGMeasure(svg)
      #expect(measure.displayedFontSize(atWidth: 1280) >= 10, "\(measure)")
    }
  }

  @Test func outputIsDeterministic() {
    // Two separately built networks draw byte for byte the same.
    let first = seed000AfterBackward()
    let second = seed000AfterBackward()
    #expect(first.graph.dot() == second.graph.dot())
  }

  /// The DOT line that declares node `id`.
  func nodeLine(_ dot: String, _ id: Int) -> String {
    dot.split(separator: "\n").first {
      $0.trimmingCharacters(in: .whitespaces).hasPrefix("n\(id) [")
    }
    .map(String.init) ?? ""
  }

  /// The label of the edge `from` → `to`, or `nil` when there is no such edge or no label.
  func edgeLabel(_ dot: String, _ from: Int, _ to: Int) -> String? {
    guard
      let line = dot.split(separator: "\n").first(where: { $0.hasPrefix("  n\(from) -> n\(to)") })
    else { return nil }
    guard let range = line.range(of: "label=\"") else { return nil }
    return String(line[range.upperBound...].prefix { $0 != "\"" })
  }

  @Test func seed000NodesCarryTheNamesExplainUses() {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.loss)
    // Clusters for the three scopes, in order of first appearance.
    #expect(dot.contains("subgraph cluster_0 {\n    label=\"layer1\";"))
    #expect(dot.contains("subgraph cluster_1 {\n    label=\"layer2\";"))
    #expect(dot.contains("subgraph cluster_2 {\n    label=\"loss\";"))
    // Unnamed ops are named by their expression, as explain writes them; no generated names.
    for (id, name) in [
      (3, "x·w1"), (8, "a1·w2"), (12, "log(a2)"), (13, "y·log(a2)"), (14, "1"), (15, "1 − y"),
      (17, "1 − a2"), (18, "log(1 − a2)"), (19, "(1 − y)·log(1 − a2)"), (21, "L"),
    ] {
      #expect(nodeLine(dot, id).contains("<B>\(name)</B>"), "node \(id)")
    }
    let titles = dot.components(separatedBy: "<B>").dropFirst().map {
      $0.prefix { $0 != "<" }
    }
    #expect(titles.count == 22)
    #expect(titles.allSatisfy { !$0.contains("#") }, "a generated name such as matmul#3: \(titles)")
    // Kinds: the loss has a double border, parameters are 3-D boxes, constants notes.
    #expect(nodeLine(dot, 21).contains("peripheries=2"))
    #expect(nodeLine(dot, 21).contains("neg  [1, 1]  (loss)"))
    #expect(nodeLine(dot, 1).contains("shape=box3d"))
    #expect(nodeLine(dot, 14).contains("shape=note"))
  }

  @Test func namesSharedByLayersAreQualified() {
    let (graph, loss) = network231()
    let dot = graph.dot(reaching: loss)
    // Each Dense layer names its nodes z and a: both layers' are qualified by their scope.
    for name in ["layer0.z", "layer0.a", "layer1.z", "layer1.a", "layer0.weight"] {
      #expect(dot.contains("<B>\(name)</B>"), "\(name)")
    }
    #expect(!dot.contains("<B>z</B>") && !dot.contains("<B>a</B>"))
    // In the digits model only the first layer has an activation: its `a` is unambiguous.
    let (digits, digitsLoss) = digitsNetwork()
    let text = digits.dot(reaching: digitsLoss)
    #expect(text.contains("<B>a</B>") && text.contains("<B>layer0.z</B>"))
  }

  // The edge labels, each compared with the derivative computed from the forward values:
  // ∂a1/∂z1 = 1 − a1², ∂a2/∂z2 = a2(1 − a2), ∂(a1·w2)/∂a1 = w2, ∂(a1·w2)/∂w2 = a1;
  // matmul edges on vectors are VJPs, the biases sum over the batch.
  @Test func edgesShowTheDerivativeOrNameTheVJP() {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.loss)
    let a1 = network.a1.value.scalar
    let a2 = network.a2.value.scalar
    #expect(edgeLabel(dot, 4, 5) == "∂a1/∂z1 = \(DotText.number(1 - a1 * a1, digits: 3))")
    #expect(edgeLabel(dot, 9, 10) == "∂a2/∂z2 = \(DotText.number(a2 * (1 - a2), digits: 3))")
    #expect(edgeLabel(dot, 5, 8) == "∂(a1·w2)/∂a1 = 0.7")
    #expect(edgeLabel(dot, 6, 8) == "∂(a1·w2)/∂w2 = \(DotText.number(a1, digits: 3))")
    #expect(edgeLabel(dot, 0, 3) == "x̄ = ȳ·w1ᵀ")
    #expect(edgeLabel(dot, 1, 3) == "w̄1 = xᵀ·ȳ")
    #expect(edgeLabel(dot, 2, 4) == "b̄1 = Σ_batch ȳ")
    #expect(edgeLabel(dot, 7, 9) == "b̄2 = Σ_batch ȳ")
    // ∂log(1 − a2)/∂(1 − a2) = 1/(1 − a2): long names leave only the number.
    #expect(edgeLabel(dot, 17, 18) == DotText.number(1 / (1 - a2), digits: 3))
    // Constants carry no gradient: their edges are dashed and unlabelled.
    #expect(edgeLabel(dot, 14, 15) == nil)
    #expect(dot.contains("  n14 -> n15 [style=dashed];"))
    // The 2 → 3 → 1 network: a bias broadcast over four rows, and the fused loss's VJP.
    let (graph, loss) = network231()
    let text = graph.dot(reaching: loss)
    #expect(text.contains("label=\"∂L/∂layer0.bias = Σ_batch ȳ\""))
    #expect(text.contains("label=\"∂L/∂layer1.a = ȳ·(layer1.a − y) / (layer1.a(1 − layer1.a))/n\""))
    #expect(text.contains("label=\"∂L/∂layer0.a = ȳ·layer1.weightᵀ\""))
  }

  @Test func nodesWithoutAGradientShowNone() {
    // Constants never have one; gradient-free inputs and class labels neither.
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.loss)
    #expect(!nodeLine(dot, 14).contains(">grad<") && !nodeLine(dot, 16).contains(">grad<"))
    #expect(nodeLine(dot, 0).contains(">grad<"))  // x requires a gradient in seed 000
    let (graph, loss) = network231()
    let text = graph.dot(reaching: loss)
    let id = { (name: String) in graph.nodes.first { $0.name == name }!.id }
    #expect(!nodeLine(text, id("x")).contains(">grad<"))  // requiresGradient false
    #expect(!nodeLine(text, id("y")).contains(">grad<"))
    #expect(nodeLine(text, id("layer0.weight")).contains(">grad<"))
    let (digits, digitsLoss) = digitsNetwork()
    let drawing = digits.dot(reaching: digitsLoss)
    let labels = digits.nodes.first { $0.name == "y" }!
    #expect(!nodeLine(drawing, labels.id).contains(">grad<"))  // class indices
    #expect(edgeLabel(drawing, labels.id, digitsLoss.id) == nil)
    #expect(drawing.contains("  n\(labels.id) -> n\(digitsLoss.id) [style=dashed];"))
  }

  @Test func smallTensorsAreGridsAndLargeOnesSummaries() {
    let (graph, loss) = network231()
    let dot = graph.dot(reaching: loss)
    // layer0.weight [2, 3]: two rows of three right-aligned cells, value and gradient.
    let weight = graph.nodes.first { $0.name == "layer0.weight" }!
    let line = nodeLine(dot, weight.id)
    let cells = weight.value.scalars.map {
      "<TD ALIGN=\"RIGHT\">\(DotText.number($0, digits: 3))</TD>"
    }
    let row0 = "<TR>" + cells[0..<3].joined() + "</TR>"
    let row1 = "<TR>" + cells[3..<6].joined() + "</TR>"
    #expect(line.contains(row0 + row1))
    // The digits model's [64, 32] weight is too large: min, max and mean of its elements.
    let (digits, digitsLoss) = digitsNetwork()
    let text = digits.dot(reaching: digitsLoss)
    let big = digits.nodes.first { $0.name == "layer0.weight" }!
    let values = big.value.scalars
    let mean = values.reduce(0, +) / Double(values.count)
    let summary =
      "min \(DotText.number(values.min()!, digits: 3))  max "
      + "\(DotText.number(values.max()!, digits: 3))<BR/>mean \(DotText.number(mean, digits: 3))"
    #expect(nodeLine(text, big.id).contains(summary))
    // Never blank: every drawn node shows a value.
    for node in digits.nodes where text.contains("  n\(node.id) [") {
      #expect(nodeLine(text, node.id).contains(">value<"), "\(node.label)")
    }
  }

  // Collapsing the loss scope: one node for its 11 nodes, and the edge into it labelled with
  // ∂L/∂a2 through the whole scope, (a2 − y)/(a2(1 − a2)) for binary cross-entropy.
  @Test func aScopeCollapsesIntoOneNode() {
    let network = seed000AfterBackward()
    var options = DotOptions()
    options.collapse = ["loss"]
    let dot = network.graph.dot(reaching: network.loss, options: options)
    for id in 11...20 { #expect(!dot.contains("  n\(id) ["), "node \(id)") }
    #expect(nodeLine(dot, 21).contains("scope loss: 11 nodes"))
    #expect(!dot.contains("label=\"loss\""))  // no cluster left
    let a2 = network.a2.value.scalar
    let expected = (a2 - 1) / (a2 * (1 - a2))
    #expect(edgeLabel(dot, 10, 21) == "∂L/∂a2 = \(DotText.number(expected, digits: 3))")
    #expect(dot.components(separatedBy: " -> n21").count == 2)  // one edge into it
    expectGraphvizAcceptsIfInstalled(dot, "collapsed loss")
    // A nested path matches too.
    options.collapse = ["layer1"]
    let layer = network.graph.dot(reaching: network.loss, options: options)
    for id in 1...4 { #expect(!layer.contains("  n\(id) ["), "node \(id)") }
    #expect(nodeLine(layer, 5).contains("scope layer1: 5 nodes"))
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
    #expect(dot.contains("rankdir=TB;") && !dot.contains("newrank") && !dot.contains("column0"))
    #expect(!dot.contains(">value<"))
    #expect(!dot.contains(">grad<"))
    #expect(!dot.contains("[1, 2]"))
    #expect(dot.contains("∂a1/∂z1 = 1 − a1²"))
    #expect(dot.contains("∂a2/∂z2 = a2(1 − a2)"))

    options.edgeLabels = .formulasAndNumbers
    options.direction = .leftToRight
    let both = network.graph.dot(reaching: network.loss, options: options)
    let a1 = network.a1.value.scalar
    #expect(both.contains("rankdir=LR;"))
    #expect(both.contains("∂a1/∂z1 = 1 − a1² = \(DotText.number(1 - a1 * a1, digits: 3))\""))

    options.edgeLabels = .none
    let none = network.graph.dot(options: options)
    #expect(!none.contains("label=\"∂") && !none.contains("edges: "))
  }

  @Test func partReachingANodeOnly() {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.z1)
    // z1 is computed from x, w1, b1 and their matmul; nothing later is drawn.
    for id in [0, 1, 2, 3, 4] { #expect(dot.contains("  n\(id) [")) }
    for id in 5...21 { #expect(!dot.contains("n\(id) [")) }
    #expect(nodeLine(dot, 4).contains("add  [1, 1]  (loss)"))
  }

  @Test func nestedScopesNest() {
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
    #expect(
      dot.contains(
        "  subgraph cluster_0 {\n    label=\"model\";\n    style=\"rounded,dashed\";\n"
          + "    color=\"#6b7280\";\n    subgraph cluster_1 {\n      label=\"layer0\";"))
    #expect(dot.contains("label=\"[batch·w > 0]\""))  // ∂relu(u)/∂u, element-wise
    #expect(dot.contains("label=\"∂L/∂relu(batch·w) = ȳ broadcast to [3, 2]\""))
  }

  @Test(arguments: [
    ("a\"b", "a&quot;b"), ("c\\d", "c\\d"), ("<x>", "&lt;x&gt;"), ("line\nbreak", "line<BR/>break"),
    ("a&b", "a&amp;b"),
  ])
  func hostileNamesAreEscaped(name: String, escaped: String) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(2.0), name: name)
    let y = graph.withScope(name) { (x * x).named(name + "²") }
    graph.backward(from: y)
    let dot = graph.dot()
    #expect(dot.contains("<B>\(escaped)</B>"))
    #expect(dot.contains("label=\(DotText.quoted(name));"))  // the cluster, a quoted string
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
