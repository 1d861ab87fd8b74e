import Foundation
import Testing

@testable import ChainRule

@Suite struct FramesTests {
  /// The title block of a frame (its `label=<…>` line).
  func title(_ frame: String) -> String {
    frame.split(separator: "\n").first { $0.hasPrefix("  label=<") }.map(String.init) ?? ""
  }

  @Test func oneFramePerNodeWithAGradientInReverseOrder() {
    let network = Examples.seed000()
    let frames = network.graph.backwardFrames(from: network.loss)
    // Every node of seed 000 reaches L; the two constants (the 1s of 1 − y and 1 − a2) have no
    // gradient and get no frame.
    let withGradient = network.graph.nodes.filter(\.requiresGradient)
    #expect(withGradient.count == 20)
    #expect(frames.count == withGradient.count)
    #expect(title(frames[0]).contains("<B>Step 1 of 20<BR/>∂L/∂L = 1 (the seed)</B>"))
    for (index, frame) in frames.enumerated() {
      // Exactly one node highlighted, and never a constant.
      #expect(frame.components(separatedBy: "penwidth=3").count == 2, "frame \(index)")
      for constant in [14, 16] {
        let line = frame.split(separator: "\n").first { $0.contains("  n\(constant) [") }!
        #expect(!line.contains("penwidth=3"), "frame \(index) highlights a constant")
      }
    }
    // The reverse walk: node ids of the highlighted nodes decrease from frame to frame.
    let highlighted = frames.map { frame in
      let line = frame.split(separator: "\n").first { $0.contains("penwidth=3") }!
      return Int(line.drop { $0 == " " }.dropFirst().prefix { $0.isNumber })!
    }
    #expect(highlighted == highlighted.sorted(by: >))
    #expect(highlighted.first == 21 && highlighted.last == 0)
  }

  // The course's chain rule at z2, with numbers from the forward values:
  // ∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2 = (a2 − y)/(a2(1 − a2)) · a2(1 − a2) = a2 − y.
  @Test func titlesShowTheChainRuleProductWithItsNumbers() {
    let network = Examples.seed000()
    let frames = network.graph.backwardFrames(from: network.loss)
    let a2 = network.a2.value.scalar
    let (upstream, local) = ((a2 - 1) / (a2 * (1 - a2)), a2 * (1 - a2))
    let n = { (value: Double) in DotText.number(value, digits: 3) }
    let z2 = frames.first { title($0).contains("∂L/∂z2 = ") }!
    #expect(
      title(z2).contains(
        "∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2<BR/>= \(n(upstream)) · \(n(local)) = \(n(a2 - 1))</B>"))
    // The edge it came along, a2's, is red; no other edge is.
    #expect(z2.contains("n9 -> n10 [label=\"∂a2/∂z2 = \(n(local))\", color=\"#dc2626\""))
    #expect(z2.components(separatedBy: "color=\"#dc2626\", fontcolor").count == 2)
    // a2 is used twice, by log(a2) and 1 − a2: a sum of two products, both edges red.
    // ∂L/∂log(a2) = −y = −1, ∂log(a2)/∂a2 = 1/a2; ∂L/∂(1 − a2) = −(1 − y)/(1 − a2) = 0.
    let frameA2 = frames.first { title($0).contains("∂L/∂a2 = ") }!
    #expect(
      title(frameA2).contains(
        "∂L/∂a2 = ∂L/∂log(a2) · ∂log(a2)/∂a2 + ∂L/∂(1 − a2) · ∂(1 − a2)/∂a2<BR/>"
          + "= -1 · \(n(1 / a2)) + 0 · (-1) = \(n(upstream))"))
    #expect(frameA2.components(separatedBy: "color=\"#dc2626\", fontcolor").count == 3)
    // A tensor's step names the VJP: ∂L/∂w1 = xᵀ·∂L/∂(x·w1) = (0.5, −1)ᵀ·δ1.
    let w1 = frames.first { title($0).contains("∂L/∂w1 = ") }!
    let delta1 = (a2 - 1) * 0.7 * (1 - pow(network.a1.value.scalar, 2))
    #expect(
      title(w1).contains(
        "∂L/∂w1 = xᵀ·∂L/∂(x·w1)<BR/>= [[\(n(0.5 * delta1))], [\(n(-1 * delta1))]]"))
  }

  @Test func aCollapsedLossIsOneFrame() {
    let network = Examples.seed000()
    var options = DotOptions()
    options.collapse = ["loss"]
    let frames = network.graph.backwardFrames(from: network.loss, options: options)
    // L, then the 11 nodes of the two layers and x: the loss scope's internals get no frames.
    #expect(frames.count == 12)
    let a2 = network.a2.value.scalar
    #expect(
      title(frames[1]).contains(
        "∂L/∂a2 = ∂L/∂L · ∂L/∂a2<BR/>= 1 · (\(DotText.number((a2 - 1) / (a2 * (1 - a2)), digits: 3)))"
      ))
    for frame in frames { #expect(!frame.contains("  n12 [")) }
  }

  @Test func lastFrameShowsBackwardsGradientsAndLeavesTheGraphAlone() {
    let network = Examples.seed000()
    let frames = network.graph.backwardFrames(from: network.loss)
    // No side effects: no node gradient, no parameter gradient was touched.
    #expect(network.graph.gradients.allSatisfy { $0 == nil })
    #expect(network.w1.parameter!.gradient == .zeros([2, 1]))
    // The last frame shows what a real backward pass computes, for every node with one.
    network.graph.backward(from: network.loss)
    let last = frames.last!
    for node in network.graph.nodes where node.requiresGradient {
      let grid = DotLabel.tensor(node.gradient, maximum: 12, digits: 3)
      #expect(last.contains(grid), "\(node.label)")
    }
    #expect(!last.contains(">…<"))  // nothing pending at the end
    #expect(frames[0].components(separatedBy: ">…<").count == 20)  // all but L pending
  }

  @Test func framesWithASeedAndWrittenToAFolder() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1.0, 2.0]), name: "x")
    let y = (x * x).named("y")
    _ = graph.constant(Tensor(5.0), name: "unrelated")  // after y: not drawn
    let frames = graph.backwardFrames(from: y, seed: Tensor([1.0, 0.5]))
    #expect(frames.count == 2)
    // ∂y/∂x = ȳ ⊙ x + ȳ ⊙ x = 2x ⊙ seed = (2, 2).
    #expect(title(frames[1]).contains("∂y/∂x = ∂y/∂y ⊙ x + ∂y/∂y ⊙ x<BR/>= [2, 2]"))
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

  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED renderFramesWritesOneSVGPerStep: Graphviz `dot` is not on PATH"))
  func renderFramesWritesOneSVGPerStep() throws {
    let network = Examples.seed000()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-frames-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: folder) }
    var options = DotOptions()
    options.collapse = ["loss"]
    let urls = try network.graph.renderFrames(from: network.loss, options: options, to: folder)
    #expect(urls.map(\.lastPathComponent) == (1...12).map { String(format: "step-%02d.svg", $0) })
    let svg = try String(contentsOf: urls[2], encoding: .utf8)
    #expect(svg.contains("<svg") && svg.contains("Step 3 of 12"))
    let measure = try SVGMeasure(svg)
    #expect(measure.displayedFontSize(atWidth: 1280) >= 10, "\(measure)")
  }
}
