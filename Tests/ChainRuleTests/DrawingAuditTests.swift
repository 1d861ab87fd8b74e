import Foundation
import Testing

@testable import ChainRule

/// The drawings the other suites check only as text, built the same way and rendered here by
/// the real Graphviz, so that every kind of document the tests produce is one `dot` accepts:
/// frames with a collapsed scope, frames from a seed, the frames of the 2 → 3 → 1 network and
/// of the digits model, collapsed layers, a ScalarGraph with formulas, and every drawing of
/// the interactive page (each step's SVG is rendered by `html` itself, which throws otherwise).
@Suite struct DrawingAuditTests {
  static let documents: [String: @Sendable () -> [String]] = [
    "seed 000 frames, loss collapsed": {
      let network = Examples.seed000()
      var options = DotOptions()
      options.collapse = ["loss"]
      return network.graph.backwardFrames(from: network.loss, options: options)
    },
    "frames from a seed": {
      let graph = Graph<Double>()
      let x = graph.input(Tensor([1.0, 2.0]), name: "x")
      let y = (x * x).named("y")
      return graph.backwardFrames(from: y, seed: Tensor([1.0, 0.5]))
    },
    "2 → 3 → 1 network frames": {
      let (graph, loss) = network231()
      return graph.backwardFrames(from: loss)
    },
    "digits frames, first layer collapsed": {
      let (graph, loss) = digitsNetwork()
      var options = DotOptions()
      options.collapse = ["layer0"]
      return [graph.dot(reaching: loss, options: options)]
        + graph.backwardFrames(from: loss, options: options)
    },
    "ScalarGraph with formulas and numbers": {
      let h = ScalarGraph()
      let x = h.leaf(0.5).named("x")
      let y = (x.power(2) + 1).tanh().named("y")
      h.backward(from: y)
      var options = DotOptions()
      options.edgeLabels = .formulasAndNumbers
      return [h.dot(reaching: y, options: options)]
    },
    "seed 000 checked and compared": {
      let network = seed000AfterBackward()
      let report = network.graph.checkGradients(of: network.loss)
      return [
        network.graph.dot(reaching: network.loss, checked: report),
        network.graph.dot(reaching: network.loss, expected: [network.b2: Tensor([0.0])]),
      ]
    },
  ]

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz), arguments: documents.keys.sorted())
  func graphvizRendersEveryDocument(_ name: String) {
    let documents = Self.documents[name]!()
    #expect(!documents.isEmpty)
    for (index, dot) in documents.enumerated() {
      expectGraphvizAccepts(dot, "\(name) #\(index)")
    }
  }

  // The page of each network renders (Graphviz renders every step inside `html`), holds one
  // frame per step plus the overview, and offers every parameter element up to the limits.
  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func pagesOfEveryNetworkRender() throws {
    let (graph, loss) = network231()
    let page = try graph.html(from: loss)
    let steps = graph.backwardSteps(from: loss)
    #expect(page.components(separatedBy: "<div class=\"frame\"").count - 1 == steps.count + 1)
    // Parameters 2×3 + 3 + 3×1 + 1 = 13 elements, each one choice.
    #expect(page.components(separatedBy: "<option value=\"").count - 1 == 1 + 13)
    #expect(page.contains("<option value=\"layer0.weight[1,2]\">"))
    // A parameter over the per-parameter limit (65 > 64 elements) is not offered; a small
    // one beside it is.
    let small = Graph<Double>()
    let x = small.input(.ones([1, 5]), name: "x", requiresGradient: false)
    let w = small.parameter(
      Tensor(shape: [5, 13], scalars: (0..<65).map { Double($0) / 65 }), name: "w")
    let b = small.parameter(.zeros([13]), name: "b")
    let total = (x.matmul(w) + b).sum().named("L")
    let limited = try small.html(from: total)
    #expect(w.value.count > Graph<Double>.pageMaximumElementsPerParameter)
    #expect(!limited.contains("<option value=\"w[0,0]\">"))
    #expect(limited.contains("<option value=\"b[12]\">"))
    // A graph of over 4,096 elements offers none (explain would take seconds per element).
    let wide = Graph<Double>()
    let input = wide.input(.ones([1, 5000]), name: "x", requiresGradient: false)
    let bias = wide.parameter(.zeros([5000]), name: "b")
    let none = try wide.html(from: (input + bias).sum().named("L"))
    #expect(!none.contains("<option value=\"b[0]\">"))
    #expect(none.contains("(graph too large to explain element by element)"))
  }
}
