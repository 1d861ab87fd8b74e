/// The backward pass drawn as the graph it is: the nodes `gradients(of:withRespectTo:seed:)`
/// builds, coloured by derivative order, beside the forward graph they read from.
///
/// A drawing of the forward graph shows gradients as numbers in its labels; once the gradient
/// is itself built of nodes (to differentiate it again), those nodes are a graph in their own
/// right, and this drawing shows it: the forward pass in its usual colours, every node of
/// order 1 (the gradient) in violet, order 2 (the gradient of the gradient) in green, order 3
/// in orange, each order in its own column. A solid edge joins two nodes of one order; a
/// dashed edge is a gradient node reading a value of a lower order, such as `1 − y²` reading
/// the forward value y. The requested gradients, named `∂L/∂w`, have a double border.
extension Graph {
  /// The gradient graph of `gradients`, built by `gradients(of:withRespectTo:seed:)` (or
  /// `hessianVectorProduct`) from `output`, as a Graphviz DOT document, byte-for-byte the same
  /// for the same graph, values and options.
  ///
  /// - Parameters:
  ///   - output: the node that was differentiated (drawn as the loss, red).
  ///   - gradients: the gradient nodes to draw, and everything they are computed from.
  ///   - includingForwardGraph: `true` draws the forward graph of `output` too, as a column of
  ///     its own; `false` draws the gradient nodes alone, with only the forward values they read,
  ///     greyed and dashed.
  ///   - options: what to show; `DotOptions.gradientGraph` by default (values, no gradient rows
  ///     from `backward`, no edge labels, scope columns).
  /// - Returns: the DOT text, ending in a newline.
  public func gradientGraphDot(
    of output: Node<Scalar>, gradients: [Node<Scalar>], includingForwardGraph: Bool = true,
    options: DotOptions = .gradientGraph
  ) -> String {
    require(
      output.graph === self, "gradientGraphDot: the output \(output.label) is from another graph")
    require(!gradients.isEmpty, "gradientGraphDot: no gradient nodes given")
    for node in gradients {
      require(
        node.graph === self, "gradientGraphDot: the gradient \(node.label) is from another graph")
      require(
        records[node.id].derivativeOrder > 0,
        "gradientGraphDot: \(node.label) is a node of the forward pass (derivative order 0), not "
          + "a gradient node; pass the nodes that gradients(of:withRespectTo:) returned")
    }
    let order = { (id: Int) in self.records[id].derivativeOrder }
    var drawn = Set(gradients.flatMap { ancestors(of: $0.id) })
    var faded = Set<Int>()
    if includingForwardGraph {
      drawn.formUnion(ancestors(of: output.id))
    } else {
      let gradientNodes = drawn.filter { order($0) > 0 }
      for id in gradientNodes {
        for input in records[id].inputs where order(input) == 0 { faded.insert(input) }
      }
      drawn = gradientNodes.union(faded)
    }
    let nodes = drawn.sorted()
    var drawing = DotDrawing(graph: self, nodes: nodes, loss: output.id, options: options)
    drawing.gradients = self.gradients
    let results = Set(gradients.map(\.id))
    var orders = Set<Int>()
    for id in nodes {
      let record = records[id]
      let k = record.derivativeOrder
      if k == 0 {
        drawing.scopeOverrides[id] = [Self.forwardColumn(faded: !faded.isEmpty)] + record.scope
        if faded.contains(id) { drawing.nodeStyles[id] = Self.fadedStyle(record.kind) }
        continue
      }
      orders.insert(k)
      let colors = Self.orderColors(k)
      drawing.scopeOverrides[id] = [Self.orderColumn(k)]
      var style = [
        "fillcolor=\"\(colors.fill)\"", "color=\"\(colors.line)\"",
        "style=\"\(record.kind == .operation ? "rounded,filled" : "filled")\"",
      ]
      if results.contains(id) { style += ["peripheries=2", "penwidth=2"] }
      drawing.nodeStyles[id] = style
      for input in record.inputs where drawn.contains(input) {
        let lower = order(input) < k
        drawing.edgeStyles[[input, id]] = [
          "color=\"\(colors.line)\"", "style=\(lower ? "dashed" : "solid")",
          "penwidth=\(lower ? "1" : "1.6")",
        ]
      }
    }
    drawing.legend = options.showsLegend ? Self.gradientLegend(orders: orders.sorted()) : []
    return drawing.render()
  }

  /// The column of the forward nodes.
  static func forwardColumn(faded: Bool) -> String {
    faded ? "forward values read" : "forward pass"
  }

  /// The column of the nodes of derivative order `k` ≥ 1.
  static func orderColumn(_ k: Int) -> String {
    switch k {
    case 1: "gradient (order 1)"
    case 2: "gradient of the gradient (order 2)"
    default: "order \(k)"
    }
  }

  /// Fill and line colour of derivative order `k` ≥ 1: violet, green, orange, then again.
  static func orderColors(_ k: Int) -> (fill: String, line: String) {
    let palette = [("#ddd6fe", "#6d28d9"), ("#a7f3d0", "#047857"), ("#fed7aa", "#c2410c")]
    let (fill, line) = palette[(k - 1) % palette.count]
    return (fill, line)
  }

  /// A forward node drawn only because a gradient node reads it: grey and dashed.
  static func fadedStyle(_ kind: Kind) -> [String] {
    let shape: String =
      switch kind {
      case .operation, .input: "rounded,filled,dashed"
      case .constant, .parameter: "filled,dashed"
      }
    return [
      "fillcolor=\"#f3f4f6\"", "color=\"#9ca3af\"", "fontcolor=\"#4b5563\"", "style=\"\(shape)\"",
    ]
  }

  /// The note under the drawing: one coloured swatch per order drawn, and what edges mean.
  static func gradientLegend(orders: [Int]) -> [String] {
    var parts = ["forward pass (order 0)"]
    for k in orders {
      let colors = orderColors(k)
      parts.append(
        "<FONT COLOR=\"\(colors.line)\">■</FONT> "
          + (k == 1 ? "gradient nodes ∂L/∂x (order 1)" : "order \(k)"))
    }
    return [
      "<FONT POINT-SIZE=\"12\" COLOR=\"#4b5563\">" + parts.joined(separator: " · ") + "</FONT>",
      "<FONT POINT-SIZE=\"12\" COLOR=\"#4b5563\">solid: within one order · dashed: reads a "
        + "lower order · double border: requested</FONT>",
    ]
  }
}

extension DotOptions {
  /// The options of a gradient-graph drawing (`Graph.gradientGraphDot`): values shown, no
  /// gradient rows from `backward` (the gradient nodes' values are the gradients), no edge
  /// labels (a gradient node's op says what it computes), scope columns.
  public static var gradientGraph: DotOptions {
    var options = DotOptions()
    options.showsGradients = false
    options.edgeLabels = .none
    return options
  }
}
