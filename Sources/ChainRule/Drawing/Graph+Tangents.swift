/// Forward mode drawn on the forward graph: every node labelled with its tangent ẏ.

/// The colour of a tangent row (blue, beside the gradient's red).
let tangentColor = "#1d4ed8"

extension Graph {
  /// The graph drawn as `dot(reaching:options:)` does, each node that the moved nodes reach
  /// labelled with its forward-mode tangent: a blue `tangent` row under its value (and its
  /// gradient, when `options.showsGradients` and a backward pass left one).
  ///
  /// The tangents are those of `jvp(of:withRespectTo:tangents:)`: with the given nodes moved
  /// along `tangents`, a node's tangent is ẏ = d/dε y(x + ε·v) at ε = 0, formed from its
  /// operands' tangents by its op's JVP rule in creation order — the same local derivatives
  /// the edge labels show, now multiplied forward: ẏ = Σᵢ ∂y/∂xᵢ · ẋᵢ. Nodes that do not
  /// depend on a moved node have tangent 0 and show none. A title above the drawing names
  /// the moved nodes. Byte-for-byte the same for the same graph, values, tangents and options.
  /// - Parameters:
  ///   - output: the node whose ancestors are drawn; `nil` draws every node and takes the
  ///     last one as the loss.
  ///   - options: what to show and how to lay it out, as for `dot(reaching:options:)`.
  ///   - nodes: the nodes moved, each once.
  ///   - tangents: one tangent per moved node, in its shape.
  /// - Returns: the DOT text, ending in a newline.
  public func dot(
    reaching output: Node<Scalar>? = nil, options: DotOptions = DotOptions(),
    movingAlong nodes: [Node<Scalar>], tangents: [Tensor<Scalar>]
  ) -> String {
    if let output { require(output.graph === self, "dot: output node from another graph") }
    require(nodeCount > 0, "dot: the graph has no nodes")
    let last = output ?? Node(graph: self, id: nodeCount - 1)
    var drawing = DotDrawing(
      graph: self, nodes: output == nil ? Array(records.indices) : ancestors(of: last.id),
      loss: last.id, options: options)
    drawing.gradients = gradients
    drawing.tangents = forwardTangents(
      of: last, withRespectTo: nodes, tangents: tangents, pass: "dot(movingAlong:)")
    let moved = nodes.map { drawing.names[$0.id] }.joined(separator: ", ")
    drawing.title = "Forward mode: tangents ẏ = J·v with \(moved) moved along v"
    return drawing.render()
  }
}
