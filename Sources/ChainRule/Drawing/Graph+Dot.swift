extension Graph {
  /// The graph as a Graphviz DOT document, byte-for-byte the same for the same graph, values
  /// and options.
  ///
  /// Inputs are blue rounded boxes, constants grey notes, parameters amber 3-D boxes, ops
  /// white ellipses and the loss a red double octagon. Each node's label gives its name, its
  /// op (or kind) and shape and, for tensors of at most `options.maximumElementsShown`
  /// elements, its value and its gradient from the last backward pass (rounded to
  /// `options.significantDigits` significant digits). Scopes (`withScope("layer1") { … }`)
  /// become clusters, nested scopes nested clusters. Edges run operand → result, labelled with
  /// the local derivative ∂result/∂operand (see `DotOptions.EdgeLabels`).
  /// - Parameters:
  ///   - output: the loss; only the nodes it is computed from are drawn. `nil` draws every
  ///     node and takes the last one as the loss.
  ///   - options: what to show and in which direction.
  /// - Returns: the DOT text, ending in a newline.
  public func dot(reaching output: Node<Scalar>? = nil, options: DotOptions = DotOptions())
    -> String
  {
    if let output { require(output.graph === self, "dot: output node from another graph") }
    require(nodeCount > 0, "dot: the graph has no nodes")
    let loss = output?.id ?? nodeCount - 1
    var drawing = DotDrawing(
      graph: self, nodes: output == nil ? Array(records.indices) : ancestors(of: loss),
      loss: loss, options: options)
    drawing.gradients = gradients
    return drawing.render()
  }

  /// The nodes `id` is computed from, itself included, in creation order.
  func ancestors(of id: Int) -> [Int] {
    var reaches = [Bool](repeating: false, count: id + 1)
    reaches[id] = true
    for node in stride(from: id, through: 0, by: -1) where reaches[node] {
      for input in records[node].inputs { reaches[input] = true }
    }
    return reaches.indices.filter { reaches[$0] }
  }
}

/// One DOT document of a graph: which nodes, which gradients are known, what is highlighted.
/// Shared by `Graph.dot` and the backward frames.
struct DotDrawing<Scalar: TensorScalar> {
  let graph: Graph<Scalar>
  /// The drawn node ids, in creation order.
  let nodes: [Int]
  /// The node drawn as the loss.
  let loss: Int
  let options: DotOptions
  /// The gradients shown, by node id (`nil`: not known, not shown).
  var gradients: [Tensor<Scalar>?] = []
  /// The node drawn with a thick red outline.
  var highlighted: Int?
  /// Edges (operand, result) drawn thick and red.
  var highlightedEdges: Set<[Int]> = []
  /// A caption above the drawing.
  var title: String?

  init(graph: Graph<Scalar>, nodes: [Int], loss: Int, options: DotOptions) {
    self.graph = graph
    self.nodes = nodes
    self.loss = loss
    self.options = options
  }

  func render() -> String {
    var lines = ["digraph ChainRule {"]
    lines.append("  rankdir=\(options.direction == .leftToRight ? "LR" : "TB");")
    if let title {
      lines.append("  labelloc=t;")
      lines.append("  label=\(DotText.quoted(title));")
    }
    lines.append("  graph [fontname=\"Helvetica\", fontsize=12];")
    lines.append("  node [fontname=\"Helvetica\", fontsize=11];")
    lines.append("  edge [fontname=\"Helvetica\", fontsize=9];")
    var clusterCount = 0
    render(
      scope: ScopeTree(graph: graph, nodes: nodes), depth: 1, into: &lines, clusters: &clusterCount)
    let drawn = Set(nodes)
    for id in nodes {
      for (slot, input) in graph.records[id].inputs.enumerated() where drawn.contains(input) {
        lines.append("  " + edge(from: input, to: id, slot: slot))
      }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  private func render(scope: ScopeTree, depth: Int, into lines: inout [String], clusters: inout Int)
  {
    let indent = String(repeating: "  ", count: depth)
    for id in scope.nodes { lines.append(indent + node(id)) }
    for child in scope.children {
      lines.append(indent + "subgraph cluster_\(clusters) {")
      clusters += 1
      lines.append(indent + "  label=\(DotText.quoted(child.name));")
      lines.append(indent + "  style=\"rounded,dashed\";")
      lines.append(indent + "  color=\"#6b7280\";")
      render(scope: child, depth: depth + 1, into: &lines, clusters: &clusters)
      lines.append(indent + "}")
    }
  }

  private func node(_ id: Int) -> String {
    let record = graph.records[id]
    let value = graph.values[id]
    var lines = [graph.label(of: id)]
    var kind: String
    switch record.kind {
    case .input: kind = "input"
    case .constant: kind = "constant"
    case .parameter: kind = "parameter"
    case .operation: kind = record.operation!.name
    }
    if id == loss { kind += " (loss)" }
    if options.showsShapes { kind += " " + DotText.shape(value.shape) }
    if record.name != nil || record.kind != .operation || kind != record.operation!.name {
      lines.append(kind)
    }
    let small = value.count <= options.maximumElementsShown
    let digits = options.significantDigits
    if options.showsValues && small {
      lines.append("value = " + DotText.tensor(value, digits: digits))
    }
    if options.showsGradients, small, id < gradients.count, let gradient = gradients[id] {
      lines.append("grad = " + DotText.tensor(gradient, digits: digits))
    }
    var attributes = ["label=" + DotText.label(lines)]
    switch (id == loss, record.kind) {
    case (true, _):
      attributes += ["shape=doubleoctagon", "style=filled", "fillcolor=\"#fecaca\""]
    case (false, .input):
      attributes += ["shape=box", "style=\"rounded,filled\"", "fillcolor=\"#dbeafe\""]
    case (false, .constant):
      attributes += ["shape=note", "style=filled", "fillcolor=\"#e5e7eb\""]
    case (false, .parameter):
      attributes += ["shape=box3d", "style=filled", "fillcolor=\"#fde68a\""]
    case (false, .operation):
      attributes += ["shape=ellipse", "style=filled", "fillcolor=\"#ffffff\""]
    }
    if id == highlighted { attributes += ["color=\"#dc2626\"", "penwidth=3"] }
    return "n\(id) [" + attributes.joined(separator: ", ") + "];"
  }

  private func edge(from input: Int, to id: Int, slot: Int) -> String {
    var attributes: [String] = []
    if let label = graph.edgeLabel(
      node: id, operand: slot, style: options.edgeLabels, digits: options.significantDigits)
    {
      attributes.append("label=" + DotText.quoted(label))
    }
    if highlightedEdges.contains([input, id]) {
      attributes += ["color=\"#dc2626\"", "fontcolor=\"#dc2626\"", "penwidth=2.5"]
    }
    let list = attributes.isEmpty ? "" : " [" + attributes.joined(separator: ", ") + "]"
    return "n\(input) -> n\(id)\(list);"
  }
}

/// Nodes grouped by scope path: the nodes directly in a scope, then its sub-scopes, both in
/// order of first appearance (so the drawing is deterministic).
struct ScopeTree {
  var name: String
  var nodes: [Int] = []
  var children: [ScopeTree] = []

  init(name: String) { self.name = name }

  init<Scalar: TensorScalar>(graph: Graph<Scalar>, nodes: [Int]) {
    self.init(name: "")
    for id in nodes { insert(id, path: graph.records[id].scope[...]) }
  }

  private mutating func insert(_ id: Int, path: ArraySlice<String>) {
    guard let first = path.first else {
      nodes.append(id)
      return
    }
    if let index = children.firstIndex(where: { $0.name == first }) {
      children[index].insert(id, path: path.dropFirst())
    } else {
      var child = ScopeTree(name: first)
      child.insert(id, path: path.dropFirst())
      children.append(child)
    }
  }
}
