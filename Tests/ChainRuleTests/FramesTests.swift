import Foundation
import Testing

@testable import ChainRule

@Suite struct FramesTests {
  @Test func oneFramePerNodeReachedInReverseOrder() {
    let network = Examples.seed000()
    let frames = network.graph.backwardFrames(from: network.loss)
    // Every node of seed 000 reaches L, so the walk completes all 22 gradients.
    #expect(frames.count == network.graph.nodeCount)
    #expect(frames[0].contains("label=\"Backward step 1 of 22: ∂L/∂L = [[1]] (the seed)\";"))
    #expect(
      frames[0].contains("n21 [label=\"L\\nneg (loss) [1, 1]\\nvalue = [[0.7469]]\\ngrad = [[1]]\"")
    )
    // Step 1 knows only ∂L/∂L: no other node shows a gradient yet.
    #expect(frames[0].components(separatedBy: "grad = ").count == 2)
    // Step 2 completes ∂L/∂add#20 = −1, arriving from L along a red edge.
    #expect(frames[1].contains("∂L/∂add#20 = [[-1]] (from L)"))
    #expect(frames[1].contains("n20 -> n21 [label=\"∂L/∂add#20 = -1\", color=\"#dc2626\""))
    #expect(frames[1].components(separatedBy: "grad = ").count == 3)
    for (index, frame) in frames.enumerated() {
      #expect(frame.components(separatedBy: "penwidth=3").count == 2, "frame \(index)")
    }
  }

  @Test func lastFrameShowsBackwardsGradientsAndLeavesTheGraphAlone() {
    let network = Examples.seed000()
    let frames = network.graph.backwardFrames(from: network.loss)
    // No side effects: no node gradient, no parameter gradient was touched.
    #expect(network.graph.gradients.allSatisfy { $0 == nil })
    #expect(network.w1.parameter!.gradient == .zeros([2, 1]))
    // The last frame shows what a real backward pass computes, for every node.
    network.graph.backward(from: network.loss)
    var options = DotOptions()
    options.edgeLabels = .none
    let last = network.graph.backwardFrames(from: network.loss, options: options).last!
    for node in network.graph.nodes {
      #expect(last.contains("grad = \(DotText.tensor(node.gradient))"), "\(node.label)")
    }
    #expect(frames.last!.contains("∂L/∂x = "))  // x, node 0, is completed last
  }

  @Test func framesWithASeedAndWrittenToAFolder() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1.0, 2.0]), name: "x")
    let y = (x * x).named("y")
    _ = graph.constant(Tensor(5.0), name: "unrelated")  // after y: not drawn
    let frames = graph.backwardFrames(from: y, seed: Tensor([1.0, 0.5]))
    #expect(frames.count == 2)
    #expect(frames[1].contains("∂y/∂x = [2, 2] (from y)"))  // 2x ⊙ seed = (2, 2)
    #expect(!frames[0].contains("unrelated"))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-frames-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: folder) }
    let urls = try DotFile.write(frames: frames, to: folder)
    #expect(urls.map(\.lastPathComponent) == ["step-000.dot", "step-001.dot"])
    #expect(try String(contentsOf: urls[1], encoding: .utf8) == frames[1])
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(leftovers.sorted() == ["step-000.dot", "step-001.dot"])  // no temporary files
  }
}
