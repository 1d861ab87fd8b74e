import Foundation

/// One frame of the backward pass: the node whose gradient it completes, its title and its
/// drawing.
public struct BackwardStep: Sendable, Equatable {
  /// The node's name as drawn, e.g. `z2`.
  public var node: String
  /// The chain-rule step in plain text, three lines: `Step 3 of 12`,
  /// `∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2`, `= -2.11 · 0.249 = -0.526`.
  public var title: String
  /// The frame as a DOT document.
  public var dot: String
}

extension Graph {
  /// The backward pass as a flip-book: one DOT document per node whose gradient the reverse
  /// walk completes.
  ///
  /// Frame k highlights the node whose gradient ∂L/∂node was just completed, draws red the
  /// edges it arrived along (from the node's consumers), and is titled with the chain-rule
  /// sum it just computed, with its numbers where they are single numbers:
  /// `∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2 = -2.11 · 0.249 = -0.526`. Gradients completed so far are
  /// shown, the others as `…`. Nodes without a gradient (constants, gradient-free inputs,
  /// class labels) get no frame, and a collapsed scope (`options.collapse`) one frame. The
  /// first frame is the seed ∂L/∂L = 1. The graph's gradients are left as they were.
  /// `renderFrames` writes the frames as SVG through Graphviz.
  /// - Parameters:
  ///   - output: the loss the backward pass starts from.
  ///   - seed: ∂L/∂output; `nil` means ones, for a one-element output.
  ///   - options: the drawing options of every frame.
  /// - Returns: the DOT documents, in the order the reverse walk completes the gradients.
  public func backwardFrames(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil, options: DotOptions = DotOptions()
  ) -> [String] {
    backwardSteps(from: output, seed: seed, options: options).map(\.dot)
  }

  /// The backward frames of `backwardFrames(from:seed:options:)` with their titles as plain
  /// text, for printing the walk step by step.
  public func backwardSteps(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil, options: DotOptions = DotOptions()
  ) -> [BackwardStep] {
    numberedSteps(from: output, seed: seed, options: options, verdicts: [:]).map(\.step)
  }

  /// The steps of `backwardSteps` with the id of the node each completes, every frame with
  /// the verdict colours of `verdicts` (the interactive page's frames).
  func numberedSteps(
    from output: Node<Scalar>, seed: Tensor<Scalar>?, options: DotOptions,
    verdicts: [Int: (color: String, line: String)]
  ) -> [(id: Int, step: BackwardStep)] {
    // The replay checks `output` too; check it here first, before it indexes the graph.
    require(output.graph === self, "backward frames: output node from another graph")
    let drawn = ancestors(of: output.id)
    let base = DotDrawing(graph: self, nodes: drawn, loss: output.id, options: options)
    var steps: [(id: Int, gradients: [Tensor<Scalar>?])] = []
    replayBackward(from: output, seed: seed) { id, gradients in
      guard base.representative[id] == id, base.hasGradient(id) else { return }
      // Only gradients of nodes at or after `id` are complete; earlier ones may be partial.
      steps.append((id, gradients.indices.map { $0 >= id ? gradients[$0] : nil }))
    }
    return steps.enumerated().map { step, entry -> (id: Int, step: BackwardStep) in
      var drawing = base
      drawing.verdicts = verdicts
      drawing.gradients = entry.gradients
      drawing.showsPendingGradients = true
      drawing.highlighted = entry.id
      let feeding = feeders(of: entry.id, in: base)
      drawing.highlightedEdges = Set(feeding.map { [entry.id, $0.consumer] })
      let title =
        "Step \(step + 1) of \(steps.count)\n"
        + chainRuleTitle(
          entry.id, output: output.id, feeding: feeding, gradients: entry.gradients,
          drawing: base)
      drawing.title = title
      return (
        entry.id, BackwardStep(node: base.names[entry.id], title: title, dot: drawing.render())
      )
    }
  }

  /// Renders every backward frame to SVG with Graphviz and writes them into `folder`
  /// (created if missing) as `<baseName>-01.svg`, `<baseName>-02.svg`, …, each atomically.
  /// - Parameters:
  ///   - output: the loss the backward pass starts from.
  ///   - seed: ∂L/∂output; `nil` means ones, for a one-element output.
  ///   - options: the drawing options of every frame.
  ///   - folder: where the SVG files go.
  ///   - baseName: the files' common prefix.
  /// - Returns: the files written, in step order.
  /// - Throws: `DrawingError` when `dot` is missing or fails, or a file cannot be written.
  @discardableResult
  public func renderFrames(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil, options: DotOptions = DotOptions(),
    to folder: URL, baseName: String = "step"
  ) throws(DrawingError) -> [URL] {
    let frames = backwardFrames(from: output, seed: seed, options: options)
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw .writeFailed(path: folder.path, reason: "\(error.localizedDescription)")
    }
    let digits = max(2, String(frames.count).count)
    var urls: [URL] = []
    for (index, frame) in frames.enumerated() {
      let number = String(index + 1)
      let padded = String(repeating: "0", count: digits - number.count) + number
      let url = folder.appendingPathComponent("\(baseName)-\(padded).svg")
      try Graphviz.render(frame, format: .svg, to: url)
      urls.append(url)
    }
    return urls
  }

  /// The drawn consumers that hand node `id` a share of its gradient: (the node drawn, the
  /// consumer node, the operand slots); a collapsed scope once, with its member consumers.
  private func feeders(of id: Int, in drawing: DotDrawing<Scalar>)
    -> [(consumer: Int, members: [(node: Int, slot: Int)])]
  {
    var result: [(consumer: Int, members: [(node: Int, slot: Int)])] = []
    for node in drawing.nodes where node > id {
      for (slot, input) in records[node].inputs.enumerated()
      where input == id && carriesGradient(node: node, operand: slot) {
        let shown = drawing.representative[node]!
        if let index = result.firstIndex(where: { $0.consumer == shown }) {
          result[index].members.append((node, slot))
        } else {
          result.append((shown, [(node, slot)]))
        }
      }
    }
    return result
  }

  /// `∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2` and on a second line `= -2.11 · 0.249 = -0.526`, or for a
  /// tensor `∂L/∂w1 = xᵀ·∂L/∂(x·w1)` and `= [[-0.151], [0.303]]`.
  private func chainRuleTitle(
    _ id: Int, output: Int, feeding: [(consumer: Int, members: [(node: Int, slot: Int)])],
    gradients: [Tensor<Scalar>?], drawing: DotDrawing<Scalar>
  ) -> String {
    let names = drawing.names
    let digits = drawing.options.significantDigits
    let loss = names[output]
    let grad = { (node: Int) in "∂\(Self.atom(loss))/∂\(Self.atom(names[node]))" }
    let value = gradients[id]!
    let shown =
      value.count == 1
      ? DotText.number(Double(value.scalars[0]), digits: digits)
      : value.count <= 6
        ? DotText.tensor(value, digits: digits) : DotLabel.summary(value, digits: digits)
    if feeding.isEmpty { return "\(grad(id)) = \(shown) (the seed)" }
    var terms: [String] = []
    var numbers: [String] = []
    var allNumbers = true
    for (consumer, members) in feeding {
      let upstream = gradients[consumer]!
      var local: Double?
      if let (set, _) = drawing.collapsed[consumer],
        members.contains(where: { $0.node != consumer })
      {
        local = scopeDerivative(output: consumer, operand: id, members: set)
        terms.append(
          "\(grad(consumer)) · ∂\(Self.atom(names[consumer]))/∂" + Self.atom(names[id]))
      } else {
        let parts = members.map { scalarDerivativeIfLocal(node: $0.node, operand: $0.slot) }
        local = parts.contains(nil) ? nil : parts.map { $0! }.reduce(0, +)
        if local != nil {
          terms.append(
            "\(grad(consumer)) · ∂\(Self.atom(names[consumer]))/∂" + Self.atom(names[id]))
        } else {
          for (node, slot) in members {
            let operands = records[node].inputs.map { ChainText.grouped(names[$0]) }
            let formula = vjpText(node: node, slot: slot, operands: operands, names: names)
            let upstreamName = ChainText.grouped(grad(consumer))
            terms.append(formula.replacingOccurrences(of: "ȳ", with: upstreamName))
          }
        }
      }
      if let local, upstream.count == 1 {
        numbers.append(
          Self.factor(Double(upstream.scalars[0]), digits: digits, first: numbers.isEmpty)
            + " · " + Self.factor(local, digits: digits, first: false))
      } else {
        allNumbers = false
      }
    }
    var title = "\(grad(id)) = " + terms.joined(separator: " + ") + "\n"
    if allNumbers && value.count == 1 { title += "= " + numbers.joined(separator: " + ") + " " }
    return title + "= " + shown
  }

  /// ∂y/∂x as one number when the edge has a local derivative that is one (both hold one
  /// element, no broadcasting), else `nil`.
  private func scalarDerivativeIfLocal(node: Int, operand slot: Int) -> Double? {
    let input = records[node].inputs[slot]
    guard values[node].count == 1, values[input].count == 1 else { return nil }
    return scalarDerivative(node: node, operand: slot)
  }

  /// The VJP of one edge as a formula in ȳ: element-wise ops `ȳ ⊙ f′` (or the sum over the
  /// batch for a broadcast operand), other ops as `vjpFormula`.
  private func vjpText(node: Int, slot: Int, operands: [String], names: NodeNames) -> String {
    let operation = records[node].operation!
    let input = records[node].inputs[slot]
    let result = ChainText.grouped(names[node])
    guard operation is any UnaryElementwise || operation is any BinaryElementwise else {
      return vjpFormula(node: node, operand: slot, operands: operands, result: result)
    }
    let formula = operation.derivativeFormula(input: slot, operands: operands, output: result)
    let product = formula == "1" ? "ȳ" : "ȳ ⊙ " + ChainText.grouped(formula)
    guard values[input].shape != values[node].shape else { return product }
    let batch = Self.broadcastIsOverBatch(values[input].shape, values[node].shape)
    return (batch ? "Σ_batch " : "Σ_broadcast ") + ChainText.grouped(product)
  }

  /// A number as a factor of a product: negative ones in parentheses after the first.
  private static func factor(_ value: Double, digits: Int, first: Bool) -> String {
    let text = DotText.number(value, digits: digits)
    return value < 0 && !first ? "(\(text))" : text
  }
}
