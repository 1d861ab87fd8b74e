// The data the interactive page's script reads (see `Graph.html`): per drawn node its op,
// shapes, value and gradient as grids, the step that completes its gradient, its verdict, and
// per operand edge the local derivative or VJP with its numbers; per parameter element the
// `explain` text and the drawn nodes and edges its paths run along. Written as JSON by hand,
// like `HeaderJSON`: a few string-keyed objects of strings, where an encoder would add a
// Codable type per object and nothing else.

extension Graph {
  /// The parameter elements the page offers for `explain`: at most this many in all…
  static var pageMaximumPathChoices: Int { 256 }
  /// …and only parameters with at most this many elements…
  static var pageMaximumElementsPerParameter: Int { 64 }
  /// …and only in drawings of at most this many elements in all: `explain` walks the graph
  /// element by element, which for the digits model (about 6,000) takes a second per choice.
  static var pageMaximumExplainedElements: Int { 4096 }

  /// Per drawn node, keyed by its DOT id (`n3`), as a JSON object.
  func pageNodeData(
    drawing: DotDrawing<Scalar>, gradients: [Tensor<Scalar>?], completedAt: [Int: Int],
    verdicts: [Int: (outcome: String, line: String)]
  ) -> String {
    let options = drawing.options
    var entries: [String] = []
    for id in drawing.visible {
      let record = records[id]
      var kind: String
      switch record.kind {
      case .input: kind = "input"
      case .constant: kind = "constant"
      case .parameter: kind = "parameter"
      case .operation: kind = "op " + record.operation!.name
      }
      let operands = pageOperands(of: id, drawing: drawing)
      if let (members, scope) = drawing.collapsed[id] {
        kind = "scope \(scope): \(members.count) nodes, ending in " + record.operation!.name
      }
      let gradient =
        drawing.hasGradient(id) ? gradients[id].map { Self.grid($0, options) } : nil
      var fields = [
        "\"name\": " + Self.json(drawing.names[id]), "\"kind\": " + Self.json(kind),
        "\"shape\": " + Self.json(DotText.shape(values[id].shape)),
        "\"gradientName\": "
          + Self.json("∂\(Self.atom(drawing.names[drawing.loss]))/∂\(Self.atom(drawing.names[id]))"),
        "\"operands\": "
          + Self.json(
            operands.map { drawing.names[$0] + " " + DotText.shape(values[$0].shape) }),
        "\"value\": " + Self.json(Self.grid(values[id], options)),
        "\"gradient\": " + (gradient.map { Self.json($0) } ?? "null"),
        "\"completedAt\": " + (completedAt[id].map(String.init) ?? "null"),
        "\"edges\": ["
          + pageEdges(into: id, drawing: drawing, gradients: gradients).joined(separator: ", ")
          + "]",
      ]
      if let verdict = verdicts[id] {
        fields.append(
          "\"verdict\": {\"outcome\": \(Self.json(verdict.outcome)), \"line\": "
            + "\(Self.json(verdict.line))}")
      }
      entries.append("\"n\(id)\": {" + fields.joined(separator: ", ") + "}")
    }
    return "{" + entries.joined(separator: ",\n") + "}"
  }

  /// The drawn nodes whose values node `id` is computed from directly: its operands, or for
  /// a collapsed scope the nodes outside it that feed its members, in creation order.
  private func pageOperands(of id: Int, drawing: DotDrawing<Scalar>) -> [Int] {
    guard let (members, _) = drawing.collapsed[id] else { return records[id].inputs }
    var result: [Int] = []
    for member in members.sorted() {
      for input in records[member].inputs where !members.contains(input) {
        if !result.contains(input) { result.append(input) }
      }
    }
    return result
  }

  /// One JSON object per operand edge into node `id`: `from` (the operand's name), `label`
  /// (the local derivative or the VJP, as the drawing writes it with formula and number) and
  /// `numbers` (the share of the gradient it hands back, with the numbers).
  private func pageEdges(into id: Int, drawing: DotDrawing<Scalar>, gradients: [Tensor<Scalar>?])
    -> [String]
  {
    let options = drawing.options
    let digits = options.significantDigits
    let n = { (value: Double) in DotText.number(value, digits: digits) }
    let names = drawing.names
    let upstream = id < gradients.count ? gradients[id] : nil
    let upstreamName = "∂\(Self.atom(names[drawing.loss]))/∂\(Self.atom(names[id]))"
    func object(from operand: Int, label: String, numbers: String) -> String {
      "{\"from\": \(Self.json(names[operand])), \"label\": \(Self.json(label)), "
        + "\"numbers\": \(Self.json(numbers))}"
    }
    if let (members, scope) = drawing.collapsed[id] {
      return pageOperands(of: id, drawing: drawing).map { operand in
        guard requiresGradient(operand) else {
          return object(
            from: operand, label: "no gradient: \(names[operand]) has none", numbers: "")
        }
        let derivative =
          "∂\(ChainText.grouped(names[id]))/∂\(ChainText.grouped(names[operand]))"
        guard let local = scopeDerivative(output: id, operand: operand, members: members) else {
          return object(
            from: operand, label: "\(Self.bar(names[operand])) = VJP through \(scope)",
            numbers: "")
        }
        var numbers = ""
        if let upstream, upstream.count == 1 {
          let share = Double(upstream.scalars[0]) * local
          numbers =
            "share = \(upstreamName) · \(derivative) = \(n(Double(upstream.scalars[0]))) · "
            + "\(Self.parenthesized(local, digits)) = \(n(share))"
        }
        return object(
          from: operand, label: "\(derivative) = \(n(local)) (through \(scope))", numbers: numbers)
      }
    }
    let record = records[id]
    guard let operation = record.operation else { return [] }
    let inputs = record.inputs.map { values[$0] }
    var shares: [Tensor<Scalar>]?
    if let upstream { shares = operation.vjp(inputs, output: values[id], gradient: upstream) }
    return record.inputs.enumerated().map { slot, operand in
      guard
        let label = edgeLabel(
          node: id, operand: slot, style: .formulasAndNumbers, digits: digits, names: names)
      else {
        return object(from: operand, label: "no gradient: \(names[operand]) has none", numbers: "")
      }
      guard let upstream, let shares else {
        return object(from: operand, label: label, numbers: "")
      }
      let share = shares[slot].summed(toShape: values[operand].shape)
      if let local = scalarDerivative(node: id, operand: slot), upstream.count == 1 {
        let numbers =
          "share = ȳ · local = \(n(Double(upstream.scalars[0]))) · "
          + "\(Self.parenthesized(local, digits)) = \(n(Double(share.scalars[0])))"
        return object(from: operand, label: label, numbers: numbers)
      }
      // A product's VJP multiplies ȳ by the other operand, transposed: show its numbers too.
      var partner = ""
      var formula = ""
      if operation is MatMul {
        let other = record.inputs[1 - slot]
        let name = ChainText.grouped(names[other]) + "ᵀ"
        partner = "\(name) =\n\(Self.grid(values[other].transposed(), options))\n"
        formula = slot == 0 ? " = ȳ·\(name)" : " = \(name)·ȳ"
      }
      let numbers =
        "ȳ = \(upstreamName) =\n\(Self.grid(upstream, options))\n" + partner
        + "\(Self.bar(names[operand]))\(formula) =\n\(Self.grid(share, options))"
      return object(from: operand, label: label, numbers: numbers)
    }
  }

  /// A number as the second factor of a product: negative ones in parentheses.
  private static func parenthesized(_ value: Double, _ digits: Int) -> String {
    let text = DotText.number(value, digits: digits)
    return value < 0 ? "(\(text))" : text
  }

  /// Per parameter element offered by the page, keyed as the URL writes it (`w1[0,1]`, or
  /// `w2` for a one-element parameter): its label, its `explain` text, and the drawn nodes
  /// and edges (`n3->n5`) its paths run along, as a JSON object; and the keys in order. None
  /// for a drawing over `pageMaximumExplainedElements`.
  func pagePathData(output: Node<Scalar>, drawing: DotDrawing<Scalar>) -> (String, [String]) {
    var entries: [String] = []
    var keys: [String] = []
    let elements = drawing.nodes.map { values[$0].count }.reduce(0, +)
    guard elements <= Self.pageMaximumExplainedElements else { return ("{}", []) }
    for id in drawing.nodes where records[id].kind == .parameter && requiresGradient(id) {
      let value = values[id]
      guard value.count <= Self.pageMaximumElementsPerParameter else { continue }
      for element in 0..<value.count where keys.count < Self.pageMaximumPathChoices {
        let index = value.count == 1 ? [] : rowMajorIndex(element, shape: value.shape)
        let name = drawing.names[id]
        let key =
          index.isEmpty ? name : name + "[" + index.map(String.init).joined(separator: ",") + "]"
        let label = index.isEmpty ? name : name + DotText.shape(index)
        let node = Node(graph: self, id: id)
        let text: String
        var edges: Set<[Int]> = []
        do {
          text = try explain(output, withRespectTo: node, at: index).description
          edges = explainedEdges(output, withRespectTo: node, at: index)
        } catch {
          text = error.description
        }
        // The drawing's view: edges between the nodes drawn (a collapsed scope as one).
        var drawnEdges: Set<[Int]> = []
        var drawnNodes: Set<Int> = []
        for edge in edges {
          guard let from = drawing.representative[edge[0]], let to = drawing.representative[edge[1]]
          else { continue }
          drawnNodes.formUnion([from, to])
          if from != to { drawnEdges.insert([from, to]) }
        }
        let nodeIDs = drawnNodes.sorted().map { "n\($0)" }
        let edgeIDs = drawnEdges.sorted { $0.lexicographicallyPrecedes($1) }.map {
          "n\($0[0])->n\($0[1])"
        }
        keys.append(key)
        entries.append(
          Self.json(key) + ": {\"label\": \(Self.json(label)), \"text\": \(Self.json(text)), "
            + "\"nodes\": \(Self.json(nodeIDs)), \"edges\": \(Self.json(edgeIDs))}")
      }
    }
    return ("{" + entries.joined(separator: ",\n") + "}", keys)
  }
}
