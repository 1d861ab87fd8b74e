import Foundation
import Testing

@testable import ChainRule

/// Forward-mode tangents on the forward drawing, rendered by the real Graphviz.
@Suite("Forward mode drawn")
struct ForwardModeDrawingTests {
  /// x = 3 moved along v = 0.5; y = x², z = sin y, and w = c·2 on a constant c.
  static func graph() -> (Graph<Double>, x: Node<Double>, z: Node<Double>) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(3.0), name: "x")
    let c = graph.constant(Tensor([1.0, 2.0]), name: "c")
    let y = x.squared().named("y")
    let z = (y.sin().sum() + (c * 2.0).sum()).named("z")
    return (graph, x, z)
  }

  /// The DOT line of the node named `name`.
  static func line(of name: String, in dot: String) -> String? {
    dot.split(separator: "\n").first { $0.contains("<B>\(name)</B>") }.map(String.init)
  }

  @Test func everyReachedNodeShowsItsTangent() throws {
    // ẋ = v = 0.5;  ẏ = 2x·ẋ = 3;  ż = cos(y)·ẏ = 3·cos 9 = −2.73 (the constant's branch
    // adds 0). c and c·2 depend on no moved node: no tangent row.
    let (graph, x, z) = Self.graph()
    let dot = graph.dot(reaching: z, movingAlong: [x], tangents: [Tensor(0.5)])
    let xLine = try #require(Self.line(of: "x", in: dot))
    #expect(xLine.contains("tangent"))
    #expect(xLine.contains("0.5"))
    let yLine = try #require(Self.line(of: "y", in: dot))
    #expect(yLine.contains("<FONT COLOR=\"#1d4ed8\">tangent</FONT>"))
    #expect(yLine.contains(">3<"), "ẏ = 3:\n\(yLine)")
    let expected = DotText.number(3 * Foundation.cos(9.0), digits: 3)
    #expect(expected == "-2.73")
    let zLine = try #require(Self.line(of: "z", in: dot))
    #expect(zLine.contains(expected), "ż = 3·cos 9:\n\(zLine)")
    let cLine = try #require(Self.line(of: "c", in: dot))
    #expect(!cLine.contains("tangent"))
    #expect(dot.contains("Forward mode: tangents ẏ = J·v with x moved along v"))
    #expect(dot == graph.dot(reaching: z, movingAlong: [x], tangents: [Tensor(0.5)]))
  }

  @Test func theTangentsAreJVPs() {
    // The drawing's numbers are graph.jvp's: the drawn tangent of z equals jvp(of: z).
    let (graph, x, z) = Self.graph()
    let jvp = graph.jvp(of: z, withRespectTo: x, tangent: Tensor(0.5))
    let dot = graph.dot(reaching: z, movingAlong: [x], tangents: [Tensor(0.5)])
    #expect(Self.line(of: "z", in: dot)!.contains(DotText.number(jvp.scalar, digits: 3)))
  }

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func graphvizRendersTheTangentDrawing() {
    let (graph, x, z) = Self.graph()
    graph.backward(from: z)  // gradients and tangents side by side
    expectGraphvizAccepts(
      graph.dot(reaching: z, movingAlong: [x], tangents: [Tensor(0.5)]), "tangents")
    let network = seed000AfterBackward()
    let moved = network.graph.nodes.filter { $0.kind == .parameter }
    let tangents = moved.map { Tensor<Double>.ones($0.shape) }
    expectGraphvizAccepts(
      network.graph.dot(reaching: network.loss, movingAlong: moved, tangents: tangents),
      "seed 000 tangents")
  }
}
