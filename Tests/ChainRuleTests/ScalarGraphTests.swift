import Foundation
import Testing

@testable import ChainRule

@Suite("Scalar graph")
struct ScalarGraphTests {
  /// A composite that uses every primitive: u = ln(a·b + 3) − tanh(a)/b,
  /// y = 1.5·(σ(u) + e^(0.3a) + relu(b − 0.2) + u²).
  static func expression(_ g: ScalarGraph, _ a: ScalarNode, _ b: ScalarNode) -> ScalarNode {
    let u = (a * b + 3).log() - a.tanh() / b
    return (u.sigmoid() + (0.3 * a).exp() + (b - 0.2).relu() + u.power(2)) * 1.5
  }

  @Test func everyPrimitiveMatchesCentralDifferences() {
    func f(_ a: Double, _ b: Double) -> Double {
      let g = ScalarGraph()
      return Self.expression(g, g.leaf(a), g.leaf(b)).value
    }
    for (a, b) in [(0.7, 1.3), (-0.4, 0.9), (1.1, -2.0)] {
      let g = ScalarGraph()
      let (x, y) = (g.leaf(a), g.leaf(b))
      let out = Self.expression(g, x, y)
      g.backward(from: out)
      let h = 1e-6
      expectClose(x.gradient, (f(a + h, b) - f(a - h, b)) / (2 * h), relative: 1e-7, "∂/∂a")
      expectClose(y.gradient, (f(a, b + h) - f(a, b - h)) / (2 * h), relative: 1e-7, "∂/∂b")
    }
  }

  /// The graph's own storage: a graph rebuilt after `removeAll()` (storage kept) and one grown
  /// from the smallest capacity node by node give the bits of a fresh graph sized ahead; the
  /// first nodes keep their values while the storage moves.
  @Test func storageKeptAndGrownGivesTheSameBits() {
    func build(_ g: ScalarGraph, repeats: Int) -> (first: ScalarNode, gradients: [Double]) {
      let (a, b) = (g.leaf(0.7), g.leaf(1.3))
      var out = Self.expression(g, a, b)
      for _ in 1..<repeats { out = out + Self.expression(g, a, b) * 0.5 }
      g.backward(from: out)
      return (a, [a.gradient, b.gradient, out.value])
    }
    let sized = ScalarGraph(capacity: 4096)
    let reference = build(sized, repeats: 40).gradients
    let grown = ScalarGraph()
    let (first, gradients) = build(grown, repeats: 40)
    #expect(grown.count == sized.count && grown.count > 1000)
    #expect(gradients == reference, "grown from 16 nodes")
    #expect(first.value == 0.7, "the first node after the storage moved")
    grown.removeAll()
    #expect(grown.count == 0)
    #expect(build(grown, repeats: 40).gradients == reference, "rebuilt after removeAll()")
  }

  /// The W4 network (2 → 16 → 16 → 1 tanh neurons) built from scalars, compared with the same
  /// network built from rank-0 tensors in `Graph` — an independent implementation.
  @Test func neuronNetworkMatchesTheTensorGraph() {
    var generator = SplitMix64(seed: 4)
    let sizes = [2, 16, 16, 1]
    let weights = (1..<sizes.count).map { l in
      (0..<sizes[l]).map { _ in (0..<sizes[l - 1]).map { _ in generator.nextDouble(in: -1...1) } }
    }
    let scalar = ScalarGraph()
    let tensor = Graph<Double>()
    var h = [scalar.leaf(0.5), scalar.leaf(-1.0)]
    var t = [tensor.input(Tensor(0.5)), tensor.input(Tensor(-1.0))]
    var scalarWeights: [ScalarNode] = []
    var tensorWeights: [Node<Double>] = []
    for layer in weights {
      h = layer.map { row in
        var sum = scalar.leaf(0.1)
        for (w, x) in zip(row, h) {
          let wNode = scalar.leaf(w)
          scalarWeights.append(wNode)
          sum = sum + wNode * x
        }
        return sum.tanh()
      }
      t = layer.map { row in
        var sum = tensor.constant(Tensor(0.1))
        for (w, x) in zip(row, t) {
          let wNode = tensor.parameter(Tensor(w), name: "w")
          tensorWeights.append(wNode)
          sum = sum + wNode * x
        }
        return sum.tanh()
      }
    }
    #expect(scalar.count == 980)
    scalar.backward(from: h[0])
    tensor.backward(from: t[0])
    expectClose(h[0].value, t[0].value.scalar, "output")
    for (s, w) in zip(scalarWeights, tensorWeights) {
      expectClose(s.gradient, w.gradient.scalar, relative: 1e-12, absolute: 1e-15, "∂y/∂w")
    }
  }
  // micrograd's example: L = (a·b + c)·f with a = 2, b = −3, c = 10, f = −2. By hand:
  // e = a·b = −6, d = e + c = 4, L = −8; dL/dd = f = −2, dL/df = d = 4, dL/de = dL/dc = −2,
  // dL/da = b·(−2) = 6, dL/db = a·(−2) = −4.
  @Test func drawnInMicrogradsStyle() throws {
    let g = ScalarGraph()
    let a = g.leaf(2).named("a")
    let b = g.leaf(-3).named("b")
    let c = g.leaf(10).named("c")
    let e = (a * b).named("e")
    let d = (e + c).named("d")
    let f = g.leaf(-2).named("f")
    let loss = (d * f).named("L")
    _ = g.leaf(99).named("unused")
    g.backward(from: loss)
    let dot = g.dot(reaching: loss)
    let expected: [(String, Double, Double)] = [
      ("a", 2, 6), ("b", -3, -4), ("c", 10, -2), ("e", -6, -2), ("d", 4, -2), ("f", -2, 4),
      ("L", -8, 1),
    ]
    for (name, value, gradient) in expected {
      #expect(
        dot.contains(
          "<TD><B>\(name)</B></TD><TD>data \(DotText.number(value, digits: 3))</TD>"
            + "<TD><FONT COLOR=\"#b91c1c\">grad \(DotText.number(gradient, digits: 3))</FONT></TD>"),
        "\(name)")
    }
    #expect(!dot.contains("unused"))
    // Op bubbles between values: e = a × b, d = e + c, L = d × f.
    #expect(dot.contains("  op3 [shape=circle") && dot.contains("label=\"×\"];"))
    #expect(dot.contains("  v0 -> op3 [label=\"-3\"];"))  // ∂(a·b)/∂a = b
    #expect(dot.contains("  v1 -> op3 [label=\"2\"];"))  // ∂(a·b)/∂b = a
    #expect(dot.contains("  v3 -> op4 [label=\"1\"];") && dot.contains("  op4 -> v4;"))
    #expect(dot.contains("rankdir=LR;"))
    expectGraphvizAcceptsIfInstalled(dot, "micrograd example")
    // Formulas instead of numbers; an exponent sits in its bubble, not in a node.
    let h = ScalarGraph()
    let x = h.leaf(0.5).named("x")
    let y = (x.power(2) + 1).tanh().named("y")
    h.backward(from: y)
    var options = DotOptions()
    options.edgeLabels = .formulasAndNumbers
    let text = h.dot(reaching: y, options: options)
    let inner = 0.5 * 0.5 + 1
    #expect(text.contains("label=\"^2\""))
    #expect(text.contains("label=\"2·a^1 = 1\""))  // d(x²)/dx = 2x = 1
    #expect(
      text.contains("label=\"1 − y² = \(DotText.number(1 - pow(tanh(inner), 2), digits: 3))\""))
    #expect(!text.contains("<B>v1</B>"))  // the exponent's leaf is not drawn
  }

  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED scalarDrawingIsLegible: Graphviz `dot` is not on PATH"))
  func scalarDrawingIsLegible() throws {
    // A 2-input neuron, micrograd's: o = tanh(x1·w1 + x2·w2 + b).
    let g = ScalarGraph()
    let (x1, x2) = (g.leaf(2).named("x1"), g.leaf(0).named("x2"))
    let (w1, w2) = (g.leaf(-3).named("w1"), g.leaf(1).named("w2"))
    let b = g.leaf(6.881_373_587_019_543).named("b")
    let n = ((x1 * w1).named("x1w1") + (x2 * w2).named("x2w2") + b).named("n")
    let o = n.tanh().named("o")
    g.backward(from: o)
    let dot = g.dot(reaching: o)
    let svg = String(decoding: try Graphviz.render(dot, format: .svg), as: UTF8.self)
    if ProcessInfo.processInfo.environment["CHAINRULE_RECORD_SNAPSHOTS"] == "1" {
      try DotFile.write(svg, to: DotTests.docs.appendingPathComponent("scalar-neuron.svg"))
    }
    let measure = try SVGMeasure(svg)
    #expect(measure.displayedFontSize(atWidth: 1280) >= 10, "\(measure)")
    // dL/dw1 = x1·(1 − o²) = 2·0.5 = 1 (o = tanh(0.8814) = 1/√2), as micrograd prints.
    expectClose(w1.gradient, 2 * (1 - o.value * o.value), relative: 1e-12, "dw1")
    #expect(
      dot.contains("<TD><B>w1</B></TD><TD>data -3</TD><TD><FONT COLOR=\"#b91c1c\">grad 1</FONT>"))
  }
}
