import Foundation
import Testing

@testable import ChainRule

/// The interactive page (`Graph.html`) driven in a real headless Chromium: Selenium, through
/// Debian's `chromedriver`, clicks the step buttons, moves the slider, clicks nodes and
/// chooses an element to explain (Tests/Browser/drive_page.py); after each action the script
/// records what the DOM shows, and the checks here compare it with numbers computed from the
/// network's forward values — never with numbers copied from the page.
///
/// The Python with Selenium is `CHAINRULE_BROWSER_PYTHON` (set by `.ci/run`, which makes the
/// environment), else `.build/browser-venv/bin/python` when it exists. Without it, or without
/// `chromium`, `chromedriver` or Graphviz, the driven tests are skipped by name; CI installs
/// all four and fails when it cannot (unless CHAINRULE_ALLOW_MISSING_TOOLS=1).
@Suite struct PageBrowserTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let driver = root.appendingPathComponent("Tests/Browser/drive_page.py")

  /// The Python that imports selenium, or `nil`.
  static let python: URL? = {
    if let chosen = ProcessInfo.processInfo.environment["CHAINRULE_BROWSER_PYTHON"] {
      return URL(fileURLWithPath: chosen)
    }
    let local = root.appendingPathComponent(".build/browser-venv/bin/python")
    return FileManager.default.isExecutableFile(atPath: local.path) ? local : nil
  }()

  static let chromedriver = URL(fileURLWithPath: "/usr/bin/chromedriver")

  /// Whether everything the driven tests need is here.
  static let canDrive =
    Graphviz.isInstalled && RenderTests.chromium != nil && python != nil
    && FileManager.default.isExecutableFile(atPath: chromedriver.path)

  static let skipReason: Comment = """
    SKIPPED (driven page tests): needs Graphviz `dot`, Debian's `chromium` and \
    `chromium-driver`, and a Python with selenium (CHAINRULE_BROWSER_PYTHON or \
    .build/browser-venv); .ci/run installs them
    """

  /// What the DOM showed after one action (see drive_page.py's OBSERVE).
  struct Observation: Decodable {
    struct Edge: Decodable {
      var from: String
      var label: String
      var numbers: String
    }
    var action: String
    var fragment: String
    var visibleFrames: [Int]
    var slider: Int
    var stepLabel: String
    var stepTitle: String
    var detailsShown: Bool
    var name: String
    var op: String
    var operands: String
    var verdict: String
    var verdictClass: String
    var value: String
    var gradStatus: String
    var grad: String
    var edges: [Edge]
    var pathShown: Bool
    var pathText: String
    var pathSummary: String
    var pathChoice: String
    var highlightedNodes: [String]
    var highlightedEdges: [String]
    var selectedNodes: [String]
  }

  /// Writes `page`, runs the driver with `actions` and returns one observation per action.
  static func drive(_ page: String, _ actions: [[String: Any]]) throws -> [Observation] {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-page-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let html = folder.appendingPathComponent("page.html")
    try DotFile.write(page, to: html)
    let actionsURL = folder.appendingPathComponent("actions.json")
    try JSONSerialization.data(withJSONObject: actions).write(to: actionsURL)
    let output = folder.appendingPathComponent("observations.json")
    let run = try runChildProcess(
      python!, [driver.path, html.absoluteString, actionsURL.path, output.path], in: folder)
    try #require(run.status == 0 && !run.signalled, "drive_page.py failed: \(run.error)")
    return try JSONDecoder().decode([Observation].self, from: Data(contentsOf: output))
  }

  /// Seed 000 with the loss collapsed, as notebook 1 and the README show it.
  static func seed000Page() throws -> (page: String, network: Examples.Seed000) {
    let network = Examples.seed000()
    var options = DotOptions()
    options.collapse = ["loss"]
    return (try network.graph.html(from: network.loss, options: options), network)
  }

  static func n(_ value: Double) -> String { DotText.number(value, digits: 3) }

  // Steps and clicks change what the DOM shows. The numbers: a2 = σ(z2), and for binary
  // cross-entropy after a sigmoid ∂L/∂z2 = a2 − y = a2 − 1; ∂a2/∂z2 = a2(1 − a2);
  // ∂L/∂a2 = (a2 − 1)/(a2(1 − a2)); ∂a1/∂z1 = 1 − a1²; ∂L/∂a1 = ∂L/∂z2 · w2.
  @Test(.enabled(if: canDrive, skipReason))
  func stepsClicksAndPathsChangeTheDOM() throws {
    let (page, network) = try Self.seed000Page()
    let graph = network.graph
    let (a1, a2, w2) = (network.a1.value.scalar, network.a2.value.scalar, network.w2.value.scalar)
    let dz2 = a2 - 1
    let (x0, x1) = (network.x.value.scalars[0], network.x.value.scalars[1])
    let n = { Self.n($0) }
    let matmul1 = graph.records[network.z1.id].inputs[0]  // x·w1
    let matmul2 = graph.records[network.z2.id].inputs[0]  // a1·w2
    let names = NodeNames(graph)
    #expect(names[matmul1] == "x·w1" && names[matmul2] == "a1·w2")
    let o = try Self.drive(
      page,
      [
        ["do": "load"],
        ["do": "next"], ["do": "next"], ["do": "next"],
        ["do": "clickNode", "name": "z2"],
        ["do": "previous"],
        ["do": "clickNode", "name": "a1"],
        ["do": "slider", "keys": 10],
        ["do": "choosePath", "value": "w1[0,0]"],
        ["do": "load", "fragment": "#step=5&node=a2&path=w1[1,0]"],
        ["do": "clickNode", "name": "w1"],
        ["do": "slider", "keys": 7],
        ["do": "clickNode", "name": "x·w1"],
        ["do": "load", "fragment": "#step=1&node=L"],
      ])
    try #require(o.count == 14)
    // Loaded without a fragment: the overview, no node chosen, the fragment written.
    #expect(o[0].stepLabel == "after backward" && o[0].visibleFrames == [0])
    #expect(!o[0].detailsShown && o[0].fragment == "#step=0" && !o[0].pathShown)
    // Three clicks on ▶: step 3 completes ∂L/∂z2, and its frame alone is on screen.
    #expect(o[1].stepLabel == "Step 1 of 12" && o[1].fragment == "#step=1")
    #expect(o[3].stepLabel == "Step 3 of 12" && o[3].visibleFrames == [3] && o[3].slider == 3)
    #expect(
      o[3].stepTitle
        == "Step 3 of 12\n∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2\n= \(n(dz2 / (a2 * (1 - a2)))) · "
        + "\(n(a2 * (1 - a2))) = \(n(dz2))")
    // A click on z2: its op, shapes, value, gradient, and the two edges into it with the
    // share each hands back.
    let z2 = o[4]
    #expect(z2.detailsShown && z2.name == "z2" && z2.fragment == "#step=3&node=z2")
    #expect(z2.op == "op add  [1, 1]" && z2.operands == "from a1·w2 [1, 1], b2 [1]")
    #expect(z2.value == n(network.z2.value.scalar))
    #expect(z2.grad == n(dz2) && z2.gradStatus == "complete since step 3")
    #expect(z2.selectedNodes == ["n\(network.z2.id)"])
    try #require(z2.edges.count == 2)
    #expect(z2.edges[0].from == "from a1·w2" && z2.edges[0].label == "∂z2/∂(a1·w2) = 1")
    #expect(z2.edges[0].numbers == "share = ȳ · local = \(n(dz2)) · 1 = \(n(dz2))")
    #expect(z2.edges[1].from == "from b2" && z2.edges[1].label == "b̄2 = Σ_batch ȳ")
    #expect(z2.edges[1].numbers == "share = ȳ · local = \(n(dz2)) · 1 = \(n(dz2))")
    // ◀: step 2, where ∂L/∂z2 is not complete yet; the details say so.
    #expect(o[5].stepLabel == "Step 2 of 12" && o[5].fragment == "#step=2&node=z2")
    #expect(o[5].grad == "…" && o[5].gradStatus == "not complete yet: step 3 completes it")
    // a1 at step 2: tanh's local derivative 1 − a1² with its number.
    let a1Step = o[6]
    #expect(a1Step.name == "a1" && a1Step.op == "op tanh  [1, 1]" && a1Step.grad == "…")
    #expect(a1Step.edges.map(\.label) == ["∂a1/∂z1 = 1 − a1² = \(n(1 - a1 * a1))"])
    // ∂L/∂a1 is not known at step 2, so neither is the share it hands back.
    #expect(a1Step.edges[0].numbers.hasPrefix("(numbers once step "))
    // The slider, ten presses of →: the last step; a1's gradient is complete now.
    let end = o[7]
    #expect(end.stepLabel == "Step 12 of 12" && end.slider == 12 && end.visibleFrames == [12])
    #expect(end.fragment == "#step=12&node=a1" && end.grad == n(dz2 * w2))
    #expect(
      end.edges[0].numbers
        == "share = ȳ · local = \(n(dz2 * w2)) · \(n(1 - a1 * a1)) = "
        + "\(n(dz2 * w2 * (1 - a1 * a1)))")
    // Explaining w1[0, 0]: its one path is highlighted, node by node and edge by edge.
    let path = o[8]
    #expect(path.fragment == "#step=12&node=a1&path=w1[0,0]" && path.pathShown)
    #expect(path.pathText.hasPrefix("∂L/∂w1[0, 0] by the chain rule: 2 paths from w1[0, 0] to L"))
    #expect(
      path.pathText.contains("factored: ∂L/∂w1[0, 0] = (a2 − y) · w2 · (1 − a1²) · x[0, 0]"))
    #expect(
      path.pathText.contains("= \(DotText.number(x0 * dz2 * w2 * (1 - a1 * a1), digits: 4))\n"))
    let onPath = [
      network.w1.id, matmul1, network.z1.id, network.a1.id, matmul2, network.z2.id,
      network.a2.id, network.loss.id,
    ]
    #expect(path.highlightedNodes.sorted() == onPath.map { "n\($0)" }.sorted())
    let onPathEdges = zip(onPath, onPath.dropFirst()).map { "n\($0)->n\($1)" }
    #expect(path.highlightedEdges.sorted() == onPathEdges.sorted())
    #expect(path.pathSummary == "8 nodes, 7 edges on its paths")
    // A fresh load of a linked view: the state comes from the fragment.
    let linked = o[9]
    #expect(linked.stepLabel == "Step 5 of 12" && linked.name == "a2")
    #expect(linked.pathChoice == "w1[1,0]" && linked.fragment == "#step=5&node=a2&path=w1[1,0]")
    #expect(linked.pathText.contains("x[0, 1]"))
    // w1 at step 5: pending; seven presses of → later, ∂L/∂w1 = xᵀ·∂L/∂z1 as a column.
    #expect(o[10].name == "w1" && o[10].op == "parameter  [2, 1]" && o[10].edges.isEmpty)
    #expect(o[10].grad == "…" && o[10].fragment == "#step=5&node=w1&path=w1[1,0]")
    let dz1 = dz2 * w2 * (1 - a1 * a1)
    // A column of two rows, right-aligned.
    let column = o[11].grad.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(o[11].stepLabel == "Step 12 of 12" && column == [n(x0 * dz1), n(x1 * dz1)])
    // x·w1: a matmul's VJP, x̄ = ȳ·w1ᵀ, with ȳ, w1ᵀ and the product in numbers.
    let product = o[12]
    #expect(product.name == "x·w1" && product.fragment.hasPrefix("#step=12&node=x%C2%B7w1"))
    try #require(product.edges.count == 2)
    #expect(product.edges[0].from == "from x" && product.edges[0].label == "x̄ = ȳ·w1ᵀ")
    let (w10, w11) = (network.w1.value.scalars[0], network.w1.value.scalars[1])
    let words = product.edges[0].numbers.split(whereSeparator: \.isWhitespace).joined(
      separator: " ")
    #expect(
      words
        == "ȳ = ∂L/∂(x·w1) = \(n(dz1)) w1ᵀ = \(n(w10)) \(n(w11)) x̄ = ȳ·w1ᵀ = "
        + "\(n(dz1 * w10)) \(n(dz1 * w11))")
    // The collapsed loss: one node, its edges the derivatives through the whole scope, here
    // ∂L/∂a2 = −(y/a2 − (1 − y)/(1 − a2)) = −1/a2 for y = 1.
    let loss = o[13]
    #expect(loss.name == "L" && loss.op.hasPrefix("scope loss: 11 nodes, ending in "))
    #expect(loss.grad == "1" && loss.gradStatus == "complete since step 1")
    let fromA2 = loss.edges.first { $0.from == "from a2" }
    #expect(fromA2?.label == "∂L/∂a2 = \(n(-1 / a2)) (through loss)")
    #expect(fromA2?.numbers == "share = ∂L/∂L · ∂L/∂a2 = 1 · (\(n(-1 / a2))) = \(n(-1 / a2))")
    // y is inside the loss scope, so a2 is the one operand from outside.
    #expect(loss.edges.count == 1, "\(loss.edges.map(\.label))")
  }

  // Hand-derived gradients attached: the page colours the nodes and says why in the details.
  // db1 is written without its w2 (a typical slip), dw1 correctly: ∂L/∂b1 = (a2 − 1)·w2·(1 − a1²)
  // and ∂L/∂w1 = xᵀ·∂L/∂b1.
  @Test(.enabled(if: canDrive, skipReason))
  func verdictsShowOnThePage() throws {
    let network = Examples.seed000()
    let (a1, a2, w2) = (network.a1.value.scalar, network.a2.value.scalar, network.w2.value.scalar)
    let db1 = (a2 - 1) * w2 * (1 - a1 * a1)
    let x = network.x.value.scalars
    let page = try network.graph.html(
      from: network.loss,
      expected: [
        network.b1: Tensor([(a2 - 1) * (1 - a1 * a1)]),
        network.w1: Tensor(shape: [2, 1], scalars: [x[0] * db1, x[1] * db1]),
      ])
    let o = try Self.drive(
      page,
      [["do": "load"], ["do": "clickNode", "name": "b1"], ["do": "clickNode", "name": "w1"]])
    #expect(o[1].name == "b1" && o[1].verdictClass == "failed")
    #expect(o[1].verdict.hasPrefix("✗ FAIL · worst [0]:\n\(Self.n(db1)) vs"))
    #expect(o[2].name == "w1" && o[2].verdictClass == "passed")
    #expect(o[2].verdict.hasPrefix("✓ ok · worst"))
  }

  // A gradient check attached: every checked node carries the report's verdict, drawn green
  // in every step's SVG, and the legend explains the colours.
  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func checkedPageCarriesTheReportsVerdicts() throws {
    let network = seed000AfterBackward()
    let report = network.graph.checkGradients(of: network.loss)
    let page = try network.graph.html(from: network.loss, checked: report)
    #expect(page.contains("<div id=\"verdict-legend\">"))
    for entry in report.entries {
      #expect(page.contains("\"n\(entry.node)\": {\"name\": \"\(entry.label)\""))
    }
    #expect(page.components(separatedBy: "\"verdict\": {\"outcome\": \"passed\"").count - 1 == 4)
    let frames = page.components(separatedBy: "<div class=\"frame\"").count - 1
    // Each checked node is filled green in the overview and in every frame.
    #expect(page.components(separatedBy: "fill=\"#bbf7d0\"").count - 1 >= 4 * frames)
  }

  // Screenshots of the seed 000 page at three steps for the README, re-recorded with
  // CHAINRULE_RECORD_SNAPSHOTS=1 (then look at them).
  @Test(
    .enabled(
      if: canDrive && ProcessInfo.processInfo.environment["CHAINRULE_RECORD_SNAPSHOTS"] == "1",
      "SKIPPED pageScreenshots: only with CHAINRULE_RECORD_SNAPSHOTS=1"))
  func pageScreenshots() throws {
    let (page, _) = try Self.seed000Page()
    var actions: [[String: Any]] = []
    for (fragment, file) in [
      ("#step=0&path=w1[0,0]", "page-step0.png"), ("#step=3&node=z2", "page-step3.png"),
      ("#step=12&node=x%C2%B7w1", "page-step12.png"),
    ] {
      actions.append(["do": "load", "fragment": fragment])
      actions.append(["do": "screenshot", "path": DotTests.docs.appendingPathComponent(file).path])
    }
    let o = try Self.drive(page, actions)
    #expect(o.count == 6)
  }
}
