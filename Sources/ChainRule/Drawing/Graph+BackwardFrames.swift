import Foundation

extension Graph {
  /// The backward pass as a flip-book: one DOT document per step of the reverse walk.
  ///
  /// Step k highlights the node whose gradient ∂L/∂node was just completed and shows every
  /// gradient complete so far (nodes later in creation order); the edges along which that
  /// gradient arrived (from the node's consumers) are drawn red. The first frame is the seed
  /// ∂L/∂L = 1, the last the earliest leaf reached. The drawing is the part of the graph that
  /// reaches `output`, as `dot(reaching:)` draws it; the graph's gradients are left as they
  /// were. Write the frames with `DotFile.write(frames:to:)` and render them with
  /// `Graphviz.render` to flip through them or make an animation.
  /// - Parameters:
  ///   - output: the loss the backward pass starts from.
  ///   - seed: ∂L/∂output; `nil` means ones, for a one-element output.
  ///   - options: the drawing options of every frame.
  /// - Returns: the DOT documents, in the order the reverse walk completes the gradients.
  public func backwardFrames(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil, options: DotOptions = DotOptions()
  ) -> [String] {
    var steps: [(id: Int, gradients: [Tensor<Scalar>?])] = []
    replayBackward(from: output, seed: seed) { id, gradients in
      // Only gradients of nodes at or after `id` are complete; earlier ones may be partial.
      let complete = gradients.indices.map { $0 >= id ? gradients[$0] : nil }
      steps.append((id, complete))
    }
    let drawn = ancestors(of: output.id)  // after the replay, which checks `output`
    return steps.enumerated().map { step, entry in
      var drawing = DotDrawing(graph: self, nodes: drawn, loss: output.id, options: options)
      drawing.gradients = entry.gradients
      drawing.highlighted = entry.id
      let consumers = drawn.filter { records[$0].inputs.contains(entry.id) }
      drawing.highlightedEdges = Set(consumers.map { [entry.id, $0] })
      let gradient = entry.gradients[entry.id]!
      let shown =
        gradient.count <= options.maximumElementsShown
        ? DotText.tensor(gradient, digits: options.significantDigits)
        : "a tensor of shape " + DotText.shape(gradient.shape)
      let via =
        consumers.isEmpty
        ? " (the seed)" : " (from " + consumers.map { label(of: $0) }.joined(separator: ", ") + ")"
      drawing.title =
        "Backward step \(step + 1) of \(steps.count): ∂\(label(of: output.id))/∂"
        + "\(label(of: entry.id)) = \(shown)\(via)"
      return drawing.render()
    }
  }
}
