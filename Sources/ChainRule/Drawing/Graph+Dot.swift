extension Graph {
  /// The graph as a Graphviz DOT document, byte-for-byte the same for the same graph, values
  /// and options.
  ///
  /// Each node is a small table: its name (the user's, qualified by scope where two nodes
  /// share it, or the op's expression such as `x·w1`), its op or kind and shape, and its value
  /// and gradient as aligned grids (large tensors as shape and min / mean / max). Inputs are
  /// blue, parameters amber 3-D boxes, constants grey notes, ops white and the loss red with a
  /// double border; constants, gradient-free inputs and class labels show no gradient, since
  /// they have none. Scopes (`withScope("layer1") { … }`) become clusters, by default laid out
  /// side by side as columns (see `DotOptions.Direction`); `options.collapse` draws a scope as
  /// one node. Edges run operand → result, labelled with the local derivative or the
  /// vector–Jacobian product (see `DotOptions.EdgeLabels`).
  /// - Parameters:
  ///   - output: the loss; only the nodes it is computed from are drawn. `nil` draws every
  ///     node and takes the last one as the loss.
  ///   - options: what to show and how to lay it out.
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

  /// ∂output/∂operand through the nodes of `members` only (a collapsed scope), when both hold
  /// one element: the scope's own backward pass from a seed of 1, summed over every path.
  func scopeDerivative(output: Int, operand: Int, members: Set<Int>) -> Double? {
    guard values[output].count == 1, values[operand].count == 1 else { return nil }
    var shares: [Int: Tensor<Scalar>] = [output: .ones(values[output].shape)]
    for id in stride(from: output, to: operand, by: -1) where members.contains(id) {
      guard let gradient = shares[id], let operation = records[id].operation else { continue }
      let inputs = records[id].inputs
      let pieces = operation.vjp(inputs.map { values[$0] }, output: values[id], gradient: gradient)
      for (input, piece) in zip(inputs, pieces) where members.contains(input) || input == operand {
        let reduced = piece.summed(toShape: values[input].shape)
        if shares[input] == nil { shares[input] = reduced } else { shares[input]! += reduced }
      }
    }
    return Double(shares[operand]?.scalars[0] ?? 0)
  }
}

/// One DOT document of a graph: which nodes, which gradients are known, what is highlighted.
/// Shared by `Graph.dot` and the backward frames.
struct DotDrawing<Scalar: TensorScalar> {
  let graph: Graph<Scalar>
  /// The drawn node ids, in creation order (collapsed scopes' members included).
  let nodes: [Int]
  /// The node drawn as the loss.
  let loss: Int
  let options: DotOptions
  let names: NodeNames
  /// For each drawn node, the node it is drawn as: itself, or its collapsed scope's last node.
  let representative: [Int: Int]
  /// The members of each collapsed scope, by representative, and the scope's name.
  let collapsed: [Int: (members: Set<Int>, scope: String)]
  /// The drawn nodes with a gradient row (see `hasGradient`).
  let receivesGradient: Set<Int>
  /// The gradients shown, by node id (`nil`: not known, not shown).
  var gradients: [Tensor<Scalar>?] = []
  /// Whether a gradient not known yet shows as `…` (frames: the layout stays put).
  var showsPendingGradients = false
  /// Forward-mode tangents shown, by node id (`nil`: none); see `Graph+Tangents.swift`.
  var tangents: [Tensor<Scalar>?] = []
  /// The node drawn with a thick red outline.
  var highlighted: Int?
  /// Edges (operand, result), between drawn representatives, drawn thick and red.
  var highlightedEdges: Set<[Int]> = []
  /// A caption above the drawing.
  var title: String?
  /// Fill colours by drawn node (verdicts), overriding the kind's colour, and a line for the
  /// label.
  var verdicts: [Int: (color: String, line: String)] = [:]
  /// Attributes by drawn node and by edge [operand, result], each replacing the attribute of
  /// the same name (the gradient graph's colours by derivative order).
  var nodeStyles: [Int: [String]] = [:]
  var edgeStyles: [[Int]: [String]] = [:]
  /// The scope path a node is drawn in, in place of its own (gradient nodes in their cluster).
  var scopeOverrides: [Int: [String]] = [:]
  /// Rows of HTML-like text that replace the note on edge labels under the drawing.
  var legend: [String]?

  init(graph: Graph<Scalar>, nodes: [Int], loss: Int, options: DotOptions) {
    self.graph = graph
    self.nodes = nodes
    self.loss = loss
    self.options = options
    self.names = NodeNames(graph)
    self.receivesGradient = Self.receivingGradient(graph: graph, nodes: nodes, loss: loss)
    var representative: [Int: Int] = [:]
    var groups: [String: [Int]] = [:]
    var order: [String] = []
    for id in nodes {
      guard let scope = Self.collapsedScope(graph.records[id].scope, options.collapse) else {
        representative[id] = id
        continue
      }
      if groups[scope] == nil { order.append(scope) }
      groups[scope, default: []].append(id)
    }
    var collapsed: [Int: (members: Set<Int>, scope: String)] = [:]
    for scope in order {
      let members = groups[scope]!
      let last = members.max()!
      for id in members { representative[id] = last }
      collapsed[last] = (Set(members), scope)
    }
    self.representative = representative
    self.collapsed = collapsed
  }

  /// The collapsed scope (as a dotted path) a node with scope path `scope` belongs to.
  static func collapsedScope(_ scope: [String], _ collapse: [String]) -> String? {
    guard !collapse.isEmpty else { return nil }
    for end in scope.indices {
      let path = scope[...end].joined(separator: ".")
      if collapse.contains(path) || collapse.contains(scope[end]) { return path }
    }
    return nil
  }

  /// The drawn nodes, each collapsed scope once (as its last node).
  var visible: [Int] { nodes.filter { representative[$0] == $0 } }

  /// The scope path a visible node is drawn in: a collapsed scope's node sits in the scope
  /// around it.
  func drawnScope(_ id: Int) -> [String] {
    let scope = scopeOverrides[id] ?? graph.records[id].scope
    guard let (_, path) = collapsed[id] else { return scope }
    return Array(scope.prefix(path.split(separator: ".").count - 1))
  }

  func render() -> String {
    var lines = ["digraph ChainRule {"]
    let columns = columnKeys()
    let direction = options.direction == .leftToRight ? "LR" : "TB"
    lines.append("  rankdir=\(direction);")
    if columns != nil { lines.append("  newrank=true;") }
    lines.append("  nodesep=0.2;")
    lines.append("  ranksep=0.3;")
    if let label = graphLabel() {
      lines.append("  labelloc=\(title == nil ? "b" : "t");")
      lines.append("  label=\(label);")
    }
    lines.append("  graph [fontname=\"Helvetica\", fontsize=14];")
    lines.append(
      "  node [fontname=\"Helvetica\", fontsize=14, shape=box, style=\"rounded,filled\", "
        + "fillcolor=\"#ffffff\", margin=\"0.08,0.04\"];")
    lines.append("  edge [fontname=\"Helvetica\", fontsize=12, color=\"#374151\"];")
    var clusterCount = 0
    let tree = ScopeTree(ids: visible, scope: drawnScope)
    render(scope: tree, depth: 1, into: &lines, clusters: &clusterCount)
    lines += edges(columns: columns).map { "  " + $0 }
    if let columns {
      // An invisible point above each column, in column order on one rank: the columns stand
      // side by side in order (Graphviz keeps the order of flat edges between nodes outside
      // clusters, not between clusters). Each point holds its column's first node and the
      // unscoped leaves feeding it, such as the input x.
      var heads: [String: Int] = [:]
      var order: [String] = []
      for id in visible {
        if let key = columns[id], heads[key] == nil {
          heads[key] = id
          order.append(key)
        }
      }
      let points = order.indices.map { "column\($0)" }
      lines.append(
        "  { rank=same; "
          + points.map { "\($0) [shape=point, style=invis, width=0]; " }.joined()
          + points.joined(separator: " -> ") + " [style=invis]; }")
      // Nodes outside the columns join the column of their first operand that has one (ops)
      // or of their first consumer (leaves such as the input x).
      var attached: [Int: String] = [:]
      for id in visible where columns[id] == nil && !graph.records[id].inputs.isEmpty {
        let keys = graph.records[id].inputs.compactMap { input -> String? in
          let shown = representative[input]!
          return columns[shown] ?? attached[shown]
        }
        if let key = keys.first { attached[id] = key }
      }
      for id in visible where columns[id] == nil && graph.records[id].inputs.isEmpty {
        if let consumer = visible.first(where: { consumer in
          nodes.contains { representative[$0] == consumer && graph.records[$0].inputs.contains(id) }
        }) {
          if let key = columns[consumer] ?? attached[consumer] { attached[id] = key }
        }
      }
      for (index, key) in order.enumerated() {
        var held = [heads[key]!]
        held += visible.filter { attached[$0] == key }
        for id in held {
          lines.append("  \(points[index]) -> n\(id) [style=invis, weight=100];")
        }
      }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// The column of each visible node in `.scopeColumns`: its scope at the first level where
  /// the drawing has two or more scopes (`nil` for nodes outside them); `nil` when the
  /// drawing is not laid out in columns.
  func columnKeys() -> [Int: String]? {
    guard options.direction == .scopeColumns else { return nil }
    let ids = visible
    var level = 0
    while true {
      let keys = Set(
        ids.compactMap { id -> String? in
          let scope = drawnScope(id)
          return scope.count > level ? scope[level] : nil
        })
      if keys.count >= 2 { break }
      if keys.isEmpty { return nil }
      level += 1
    }
    var result: [Int: String] = [:]
    for id in ids {
      let scope = drawnScope(id)
      if scope.count > level { result[id] = scope[...level].joined(separator: ".") }
    }
    return result
  }

  /// The title (frames) and the legend, as one HTML-like label.
  private func graphLabel() -> String? {
    var rows: [String] = []
    if let title { rows.append("<B>" + DotLabel.escaped(title) + "</B>") }
    if let legend {
      rows += legend
    } else if options.showsLegend && options.edgeLabels != .none {
      rows.append(
        "<FONT POINT-SIZE=\"12\" COLOR=\"#4b5563\">edges: ∂y/∂x local derivative · "
          + "x̄ = … vector–Jacobian product (ȳ = ∂L/∂result, x̄ = ∂L/∂operand)</FONT>")
    }
    guard !rows.isEmpty else { return nil }
    return "<" + rows.joined(separator: "<BR/>") + ">"
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

  /// Whether node `id`'s label has a gradient row: it needs a gradient and one flows into it
  /// along a drawn edge (or it is the loss).
  func hasGradient(_ id: Int) -> Bool { receivesGradient.contains(id) }

  /// The drawn nodes a gradient flows into: the loss, and every operand along whose edge one
  /// flows (see `Graph.carriesGradient`).
  static func receivingGradient(graph: Graph<Scalar>, nodes: [Int], loss: Int) -> Set<Int> {
    var result: Set<Int> = graph.requiresGradient(loss) ? [loss] : []
    for consumer in nodes {
      for (slot, input) in graph.records[consumer].inputs.enumerated()
      where graph.carriesGradient(node: consumer, operand: slot) {
        result.insert(input)
      }
    }
    return result
  }

  private func node(_ id: Int) -> String {
    let record = graph.records[id]
    let value = graph.values[id]
    let digits = options.significantDigits
    let maximum = options.maximumElementsShown
    var kind: String
    switch record.kind {
    case .input: kind = "input"
    case .constant: kind = "constant"
    case .parameter: kind = "parameter"
    case .operation: kind = record.operation!.name
    }
    if let (members, scope) = collapsed[id] {
      kind = "scope \(scope): \(members.count) nodes"
    }
    if options.showsShapes && !(record.kind == .constant && value.rank == 0) {
      kind += "  " + DotText.shape(value.shape)
    }
    if id == loss { kind += "  (loss)" }
    var rows = [
      DotLabel.row("<B>" + DotLabel.escaped(names[id]) + "</B>"),
      DotLabel.row("<FONT POINT-SIZE=\"12\" COLOR=\"#4b5563\">\(DotLabel.escaped(kind))</FONT>"),
    ]
    let valueIsName =
      record.kind == .constant && record.name == nil && value.count == 1
    var cells: [(caption: String, html: String, color: String?)] = []
    if options.showsValues && !valueIsName {
      cells.append(("value", DotLabel.tensor(value, maximum: maximum, digits: digits), nil))
    }
    if options.showsGradients && hasGradient(id) {
      if id < gradients.count, let gradient = gradients[id] {
        cells.append(
          ("grad", DotLabel.tensor(gradient, maximum: maximum, digits: digits), "#b91c1c"))
      } else if showsPendingGradients {
        cells.append(("grad", "…", "#9ca3af"))
      }
    }
    if id < tangents.count, let tangent = tangents[id] {
      cells.append(
        ("tangent", DotLabel.tensor(tangent, maximum: maximum, digits: digits), tangentColor))
    }
    // A matrix of several rows puts value and gradient side by side, so the node stays low.
    let tall =
      value.rank == 2 && value.shape[0] > 1 && value.count <= maximum
      && value.shape[1] <= 6
    if tall && cells.count == 2 {
      rows.append(DotLabel.row(pair: cells[0], cells[1]))
    } else {
      rows += cells.map { DotLabel.row(caption: $0.caption, $0.html, color: $0.color) }
    }
    if let verdict = verdicts[id] {
      rows.append(DotLabel.row("<FONT POINT-SIZE=\"12\">\(DotLabel.escaped(verdict.line))</FONT>"))
    }
    var attributes = ["label=" + DotLabel.table(rows)]
    switch (id == loss, record.kind) {
    case (true, _):
      attributes += ["peripheries=2", "fillcolor=\"#fecaca\""]
    case (false, .input):
      attributes += ["fillcolor=\"#dbeafe\""]
    case (false, .constant):
      attributes += ["shape=note", "style=filled", "fillcolor=\"#e5e7eb\""]
    case (false, .parameter):
      attributes += ["shape=box3d", "style=filled", "fillcolor=\"#fde68a\""]
    case (false, .operation):
      if collapsed[id] != nil { attributes += ["fillcolor=\"#f3f4f6\"", "peripheries=2"] }
    }
    if let verdict = verdicts[id] {
      attributes = attributes.filter { !$0.hasPrefix("fillcolor=") }
      attributes.append("fillcolor=\"\(verdict.color)\"")
    }
    if id == highlighted { attributes += ["color=\"#dc2626\"", "penwidth=3"] }
    return "n\(id) [" + Self.replacing(attributes, with: nodeStyles[id]).joined(separator: ", ")
      + "];"
  }

  /// The edges between drawn nodes, in creation order of their results: one per operand
  /// slot, and one per operand into a collapsed scope (labelled with the derivative through
  /// the scope). An edge between two columns does not constrain the ranks.
  private func edges(columns: [Int: String]?) -> [String] {
    let drawn = Set(nodes)
    var lines: [String] = []
    var intoCollapsed: Set<[Int]> = []
    for id in nodes {
      let to = representative[id]!
      for (slot, input) in graph.records[id].inputs.enumerated() where drawn.contains(input) {
        let from = representative[input]!
        guard from != to else { continue }
        var label: String?
        if let (members, scope) = collapsed[to], to != id {
          guard intoCollapsed.insert([from, to]).inserted else { continue }
          label = collapsedLabel(scope: scope, members: members, output: to, operand: input)
        } else {
          label = graph.edgeLabel(
            node: id, operand: slot, style: options.edgeLabels,
            digits: options.significantDigits, names: names)
        }
        var attributes: [String] = []
        if let label { attributes.append("label=" + DotText.quoted(label)) }
        if let columns, let a = columns[from], let b = columns[to], a != b {
          attributes.append("constraint=false")
        }
        if !graph.requiresGradient(input) || !graph.carriesGradient(node: id, operand: slot) {
          attributes.append("style=dashed")
        }
        if highlightedEdges.contains([from, to]) {
          attributes += ["color=\"#dc2626\"", "fontcolor=\"#dc2626\"", "penwidth=2.5"]
        }
        attributes = Self.replacing(attributes, with: edgeStyles[[from, to]])
        let list = attributes.isEmpty ? "" : " [" + attributes.joined(separator: ", ") + "]"
        lines.append("n\(from) -> n\(to)\(list);")
      }
    }
    return lines
  }

  /// An edge into a collapsed scope: the derivative of the scope's output through the whole
  /// scope, `∂L/∂a2 = -2.11`, or the VJP's name when it is not one number.
  private func collapsedLabel(scope: String, members: Set<Int>, output: Int, operand: Int)
    -> String?
  {
    guard options.edgeLabels != .none, graph.requiresGradient(operand) else { return nil }
    let derivative =
      "∂\(ChainText.grouped(names[output]))/∂\(ChainText.grouped(names[operand]))"
    let number = graph.scopeDerivative(output: output, operand: operand, members: members)
    if let number, options.edgeLabels != .formulas {
      return "\(derivative) = \(DotText.number(number, digits: options.significantDigits))"
    }
    return "\(Graph<Scalar>.bar(names[operand])) = VJP through \(scope)"
  }
}

extension DotDrawing {
  /// `attributes` with each of `styles` (`name=value`) in place of the one of the same name.
  static func replacing(_ attributes: [String], with styles: [String]?) -> [String] {
    guard let styles else { return attributes }
    let names = Set(styles.map { $0.prefix { $0 != "=" } })
    return attributes.filter { !names.contains($0.prefix { $0 != "=" }) } + styles
  }
}

/// Nodes grouped by scope path: the nodes directly in a scope, then its sub-scopes, both in
/// order of first appearance (so the drawing is deterministic).
struct ScopeTree {
  var name: String
  var nodes: [Int] = []
  var children: [ScopeTree] = []

  init(name: String) { self.name = name }

  init(ids: [Int], scope: (Int) -> [String]) {
    self.init(name: "")
    for id in ids { insert(id, path: scope(id)[...]) }
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
