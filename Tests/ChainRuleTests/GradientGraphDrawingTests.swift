import Foundation
import Testing

@testable import ChainRule

/// The gradient graph drawn (`Graph.gradientGraphDot`): every gradient node present and
/// coloured by its derivative order, forward nodes in their own colours, edges by order,
/// stable bytes, rendered by the real `dot` legibly; and the README's second-derivative
/// example, run, its printed lines compared with the README's and its drawing with
/// Docs/gradient-graph.svg.
@Suite("Gradient graph drawing")
struct GradientGraphDrawingTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The README's example: the code between the markers is the README's block, line for line.
  static func readmeExample() -> (dot: String, printed: [String]) {
    var printed: [String] = []
    func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }
    // BEGIN second-derivative-example
    let graph = Graph<Double>()
    let x = graph.input(Tensor(0.5), name: "x")
    let w = graph.parameter(Tensor(1.5), name: "w")
    let y = (w * x).tanh().named("y")

    // The gradient, built as nodes of the same graph; then the gradient of that gradient.
    let first = graph.gradients(of: y, withRespectTo: [w, x])  // x·(1 − y²), w·(1 − y²)
    let dw = first[0]
    let d2w = graph.gradients(of: dw, withRespectTo: [w])[0].named("∂²y/∂w²")  // −2x²·y·(1 − y²)
    print(dw.label, dw.value.scalar, "order", dw.derivativeOrder)
    print(d2w.label, d2w.value.scalar, "order", d2w.derivativeOrder)
    let dot = graph.gradientGraphDot(of: y, gradients: [dw, d2w])  // Docs/gradient-graph.svg

    // H·v over (w, x) with v = (1, 0), reusing ∇y, without forming H: (∂²y/∂w², ∂²y/∂x∂w).
    let hv = graph.hessianVectorProduct(
      of: y, withRespectTo: [w, x], vector: [Tensor(1.0), Tensor(0.0)], gradients: first)
    print("H·v", hv[0].value.scalar, hv[1].value.scalar)

    let t = y.value.scalar  // the formulas, from the forward value alone
    print("formulas", 0.5 * (1 - t * t), -0.5 * t * (1 - t * t), (1 - t * t) * (1 - 1.5 * t))
    // END second-derivative-example
    return (dot, printed)
  }

  /// The lines between the markers of `name` in this file, without the function's 4 spaces.
  static func markedRegion(_ name: String) throws -> [String] {
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let lines = source.components(separatedBy: "\n")
    let begin = try #require(lines.firstIndex { $0.hasSuffix("// BEGIN \(name)") })
    let end = try #require(lines.firstIndex { $0.hasSuffix("// END \(name)") })
    return lines[(begin + 1)..<end].map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : $0 }
  }

  // ∂y/∂w = x(1 − y²); ∂²y/∂w² = x·(−2y)·(∂y/∂w) = −2x²y(1 − y²); ∂²y/∂x∂w = ∂/∂x[x(1 − y²)]
  // = (1 − y²) + x·(−2y)(1 − y²)·w = (1 − y²)(1 − 2wxy), which is (1 − y²)(1 − 1.5y) at
  // w = 1.5, x = 0.5. The graph's numbers against the formulas, then the README against both.
  @Test func readmeExampleRunsAndPrintsWhatTheReadmeShows() throws {
    let (_, printed) = Self.readmeExample()
    try #require(printed.count == 4)
    let numbers = printed.map { $0.split(separator: " ").compactMap { Double($0) } }
    let formulas = numbers[3]
    expectClose(numbers[0][0], formulas[0], "∂y/∂w")
    expectClose(numbers[1][0], formulas[1], "∂²y/∂w²")
    expectClose(numbers[2][0], formulas[1], "(H·v)_w")
    expectClose(numbers[2][1], formulas[2], "(H·v)_x")
    #expect(printed[0].hasPrefix("∂y/∂w ") && printed[0].hasSuffix("order 1"))
    #expect(printed[1].hasPrefix("∂²y/∂w² ") && printed[1].hasSuffix("order 2"))

    let readme = try String(
      contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
    let code = ReadmeTests.blocks(readme, language: "swift").first {
      $0.contains("gradientGraphDot")
    }
    let shown = try #require(code, "README has no swift block with gradientGraphDot")
    #expect(
      shown.components(separatedBy: "\n") == ["import ChainRule", ""]
        + (try Self.markedRegion("second-derivative-example")))
    let text = ReadmeTests.blocks(readme, language: "text").first { $0.hasPrefix("∂y/∂w ") }
    #expect(
      text == printed.joined(separator: "\n"),
      "README's printed output is stale; it prints:\n\(printed.joined(separator: "\n"))")
  }

  /// The lines of `dot` that draw node `id`, and the edge `from` → `to`.
  static func nodeLine(_ dot: String, _ id: Int) -> String {
    dot.components(separatedBy: "\n").first {
      $0.trimmingCharacters(in: .whitespaces).hasPrefix("n\(id) [")
    } ?? ""
  }
  static func edgeLine(_ dot: String, _ from: Int, _ to: Int) -> String {
    dot.components(separatedBy: "\n").first {
      $0.trimmingCharacters(in: .whitespaces).hasPrefix("n\(from) -> n\(to)")
    } ?? ""
  }

  /// The seed 000 loss, its gradient nodes for the four parameters, and their second order
  /// along w2.
  static func seed000Gradients() -> (Examples.Seed000, [Node<Double>], Node<Double>) {
    let net = Examples.seed000()
    let first = net.graph.gradients(of: net.loss, withRespectTo: [net.w1, net.b1, net.w2, net.b2])
    let second = net.graph.gradients(of: first[2], withRespectTo: [net.w2])[0]
    return (net, first, second)
  }

  @Test func everyGradientNodeIsDrawnInItsOrdersColours() {
    let (net, first, second) = Self.seed000Gradients()
    let graph = net.graph
    let dot = graph.gradientGraphDot(of: net.loss, gradients: first + [second])
    let violet = "fillcolor=\"#ddd6fe\""
    let green = "fillcolor=\"#a7f3d0\""
    var reached = Set(graph.ancestors(of: second.id))
    for node in first { reached.formUnion(graph.ancestors(of: node.id)) }
    reached.formUnion(graph.ancestors(of: net.loss.id))
    var counts = [0, 0, 0]
    for id in 0..<graph.nodeCount {
      let line = Self.nodeLine(dot, id)
      guard reached.contains(id) else {
        #expect(line.isEmpty, "node \(id) reaches none of the gradients but is drawn")
        continue
      }
      let order = graph.nodes[id].derivativeOrder
      counts[order] += 1
      #expect(!line.isEmpty, "node \(id) (order \(order)) is missing")
      #expect(line.contains(violet) == (order == 1), "node \(id), order \(order): \(line)")
      #expect(line.contains(green) == (order == 2), "node \(id), order \(order): \(line)")
    }
    #expect(counts[0] > 10 && counts[1] > 10 && counts[2] > 10, "\(counts)")
    // The requested gradients: double border, named ∂L/∂w; the forward loss keeps its red.
    for node in first + [second] {
      #expect(Self.nodeLine(dot, node.id).contains("peripheries=2"))
    }
    #expect(Self.nodeLine(dot, first[0].id).contains("<B>∂L/∂w1</B>"))
    #expect(Self.nodeLine(dot, net.loss.id).contains("fillcolor=\"#fecaca\""))
    // Edges: solid within an order, dashed from a lower one, in the consumer's colour.
    for id in reached where graph.nodes[id].derivativeOrder > 0 {
      for input in graph.nodes[id].inputs {
        let line = Self.edgeLine(dot, input.id, id)
        let lower = input.derivativeOrder < graph.nodes[id].derivativeOrder
        #expect(line.contains(lower ? "style=dashed" : "style=solid"), "\(line)")
        let color = graph.nodes[id].derivativeOrder == 2 ? "#047857" : "#6d28d9"
        #expect(line.contains("color=\"\(color)\""), "\(line)")
      }
    }
    #expect(Self.edgeLine(dot, net.z1.id, net.a1.id) == "  n\(net.z1.id) -> n\(net.a1.id);")
    // Each order is its own column, under a legend naming the orders drawn.
    #expect(dot.contains("label=\"gradient (order 1)\";"))
    #expect(dot.contains("label=\"gradient of the gradient (order 2)\";"))
    #expect(dot.contains("gradient nodes ∂L/∂x (order 1)") && dot.contains("■</FONT> order 2"))
    expectGraphvizAcceptsIfInstalled(dot, "gradient graph of seed 000")
  }

  // Alone: the gradient nodes and only the forward values they read, greyed; the forward
  // nodes no gradient node reads (the loss L, its log terms) are left out.
  @Test func gradientNodesAloneShowOnlyTheForwardValuesTheyRead() {
    let (net, first, _) = Self.seed000Gradients()
    let graph = net.graph
    let dot = graph.gradientGraphDot(of: net.loss, gradients: first, includingForwardGraph: false)
    var read = Set<Int>()
    var gradientNodes = Set<Int>()
    for node in first {
      for id in graph.ancestors(of: node.id) where graph.nodes[id].derivativeOrder == 1 {
        gradientNodes.insert(id)
        for input in graph.nodes[id].inputs where input.derivativeOrder == 0 {
          read.insert(input.id)
        }
      }
    }
    for id in 0..<graph.nodeCount {
      let line = Self.nodeLine(dot, id)
      if gradientNodes.contains(id) {
        #expect(line.contains("fillcolor=\"#ddd6fe\""), "\(line)")
      } else if read.contains(id) {
        #expect(line.contains("fillcolor=\"#f3f4f6\"") && line.contains("dashed"), "\(line)")
      } else {
        #expect(line.isEmpty, "node \(id) is drawn but no gradient node reads it")
      }
    }
    #expect(!read.contains(net.loss.id) && Self.nodeLine(dot, net.loss.id).isEmpty)
    #expect(dot.contains("label=\"forward values read\";"))
    expectGraphvizAcceptsIfInstalled(dot, "gradient nodes alone")
  }

  @Test func drawingIsByteForByteStable() {
    let a = Self.seed000Gradients()
    let b = Self.seed000Gradients()
    let one = a.0.graph.gradientGraphDot(of: a.0.loss, gradients: a.1 + [a.2])
    let two = b.0.graph.gradientGraphDot(of: b.0.loss, gradients: b.1 + [b.2])
    #expect(one == two)
    #expect(one == a.0.graph.gradientGraphDot(of: a.0.loss, gradients: a.1 + [a.2]))
    #expect(Self.readmeExample().dot == Self.readmeExample().dot)
  }

  // Docs/gradient-graph.svg is the README example's drawing, re-rendered with
  // CHAINRULE_RECORD_SNAPSHOTS=1: legible at 1,280 px, between 1 : 1 and 2 : 1, and holding
  // every node title of the current DOT (a stale figure fails).
  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED committedGradientGraphIsLegible: Graphviz `dot` is not on PATH"))
  func committedGradientGraphIsLegibleAndCurrent() throws {
    let dot = Self.readmeExample().dot
    let url = Self.root.appendingPathComponent("Docs/gradient-graph.svg")
    if ProcessInfo.processInfo.environment["CHAINRULE_RECORD_SNAPSHOTS"] == "1" {
      try Graphviz.render(dot, format: .svg, to: url)
    }
    let svg = try String(contentsOf: url, encoding: .utf8)
      .replacingOccurrences(of: "&#45;", with: "-")  // Graphviz writes a minus sign as &#45;
    let measure = try SVGMeasure(svg)
    let shown = measure.displayedFontSize(atWidth: 1280)
    print(
      "Docs/gradient-graph.svg: \(Int(measure.width))×\(Int(measure.height)) pt, aspect "
        + "\(DotText.number(measure.aspect)), smallest text \(DotText.number(shown)) px at 1280 px")
    #expect(shown >= 10)
    #expect(measure.aspect >= 1 && measure.aspect <= 2, "\(measure.aspect)")
    let titles = dot.components(separatedBy: "<B>").dropFirst().map {
      String($0.prefix { $0 != "<" })
    }
    // The forward pass (x, w, w·x, y: 4), ∂y/∂w (ones, tanh′, its product with x: 3) and
    // ∂²y/∂w² (tanh″'s 6 nodes on y, x·tanh″, and its product with x: 8; its seed of ones
    // is multiplied into nothing, so no drawn node reads it).
    #expect(titles.count == 15)
    for title in titles {
      #expect(
        svg.contains(">\(title)</text>"), "Docs/gradient-graph.svg lacks \(title): re-record it")
    }
  }
}
