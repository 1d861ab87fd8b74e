import Foundation

extension ScalarGraph {
  /// The graph as a Graphviz DOT document in micrograd's `draw_dot` style: every value a box
  /// `name | data 0.5 | grad 0.3`, every op a small bubble (`+`, `×`, `tanh`) between its
  /// operands and its result, left to right by default.
  ///
  /// The same `DotOptions` as `Graph.dot`: `direction` (`.scopeColumns` means left to right
  /// here: a scalar graph has no scopes), `showsValues`, `showsGradients` (from the last
  /// `backward(from:)`), `edgeLabels` (the local derivative on each operand → op edge, e.g.
  /// `∂/∂a = 1 − y²` for tanh, with its number), `significantDigits` and `showsLegend`.
  /// An exponent is drawn in its bubble (`^2`), not as a node of its own.
  /// - Parameters:
  ///   - output: only the nodes it is computed from are drawn.
  ///   - options: what to show.
  /// - Returns: the DOT text, ending in a newline; the same for the same graph and values.
  public func dot(reaching output: ScalarNode, options: DotOptions = DotOptions()) -> String {
    require(output.graph === self, "dot: output from another scalar graph")
    _ = row(output)  // stops on a node from before removeAll()
    let end = Int(output.index)
    // The nodes `output` is computed from: one reverse pass, exponents left out.
    var reaches = [Bool](repeating: false, count: end + 1)
    reaches[end] = true
    for i in stride(from: end, through: 0, by: -1) where reaches[i] {
      let row = rows[i]
      if row.lhs >= 0 { reaches[Int(row.lhs)] = true }
      if row.rhs >= 0 && row.op != .power { reaches[Int(row.rhs)] = true }
    }
    let digits = options.significantDigits
    let number = { (value: Double) in DotLabel.escaped(DotText.number(value, digits: digits)) }
    let direction = options.direction == .topToBottom ? "TB" : "LR"
    var lines = [
      "digraph ScalarGraph {", "  rankdir=\(direction);", "  nodesep=0.25;", "  ranksep=0.35;",
      "  graph [fontname=\"Helvetica\"];", "  node [fontname=\"Helvetica\", fontsize=14];",
      "  edge [fontname=\"Helvetica\", fontsize=12, color=\"#374151\"];",
    ]
    if options.showsLegend && options.edgeLabels != .none {
      lines.append("  labelloc=b;")
      lines.append(
        "  label=<<FONT POINT-SIZE=\"12\" COLOR=\"#4b5563\">boxes: data and grad = "
          + "∂\(DotLabel.escaped(name(of: end)))/∂node · edges: local derivative of the op "
          + "with respect to that operand</FONT>>;")
    }
    for i in 0...end where reaches[i] {
      let row = rows[i]
      var cells = ["<TD><B>\(DotLabel.escaped(name(of: i)))</B></TD>"]
      if options.showsValues { cells.append("<TD>data \(number(row.value))</TD>") }
      if options.showsGradients {
        cells.append("<TD><FONT COLOR=\"#b91c1c\">grad \(number(row.gradient))</FONT></TD>")
      }
      let fill = i == end ? "#fecaca" : row.op == .leaf ? "#dbeafe" : "#ffffff"
      lines.append(
        "  v\(i) [shape=plain, label=<<TABLE BORDER=\"1\" CELLBORDER=\"1\" CELLSPACING=\"0\" "
          + "CELLPADDING=\"4\" BGCOLOR=\"\(fill)\"><TR>\(cells.joined())</TR></TABLE>>];")
      guard row.op != .leaf else { continue }
      lines.append(
        "  op\(i) [shape=circle, style=filled, fillcolor=\"#e5e7eb\", margin=0.02, "
          + "label=\(DotText.quoted(symbol(of: i)))];")
      lines.append("  op\(i) -> v\(i);")
      let operands = row.op == .power || row.rhs < 0 ? [row.lhs] : [row.lhs, row.rhs]
      for (slot, operand) in operands.enumerated() {
        var attributes: [String] = []
        if options.edgeLabels != .none {
          let (formula, value) = localDerivative(of: i, slot: slot)
          let text: String
          switch options.edgeLabels {
          case .none, .numbers: text = DotText.number(value, digits: digits)
          case .formulas: text = formula
          case .formulasAndNumbers:
            let shown = DotText.number(value, digits: digits)
            text = formula == shown ? shown : "\(formula) = \(shown)"
          }
          attributes.append("label=" + DotText.quoted(text))
        }
        let list = attributes.isEmpty ? "" : " [" + attributes.joined(separator: ", ") + "]"
        lines.append("  v\(operand) -> op\(i)\(list);")
      }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// A node's name: the one given with `named(_:)`, else `v<index>`.
  func name(of index: Int) -> String { names[Int32(index)] ?? "v\(index)" }

  /// What an op's bubble shows: `+`, `×`, `−` (negation), `^2`, `exp`, `log`, `tanh`, `σ`,
  /// `relu`.
  func symbol(of index: Int) -> String {
    let row = rows[index]
    switch row.op {
    case .leaf: return ""
    case .add: return "+"
    case .multiply: return "×"
    case .negate: return "−"
    case .power: return "^" + DotText.shortest(rows[Int(row.rhs)].value)
    case .exp: return "exp"
    case .log: return "log"
    case .tanh: return "tanh"
    case .sigmoid: return "σ"
    case .relu: return "relu"
    }
  }

  /// ∂y/∂operand of node `index` as (formula, number), the rules of `backward(from:)`:
  /// a + b → 1; a · b → b, a; −a → −1; aⁿ → n·aⁿ⁻¹; eᵃ → y; ln a → 1/a; tanh → 1 − y²;
  /// σ → y(1 − y); relu → [a > 0].
  func localDerivative(of index: Int, slot: Int) -> (formula: String, value: Double) {
    let row = rows[index]
    let a = rows[Int(row.lhs)].value
    let y = row.value
    switch row.op {
    case .leaf: return ("", 0)
    case .add: return ("1", 1)
    case .multiply:
      let other = Int(slot == 0 ? row.rhs : row.lhs)
      return (name(of: other), rows[other].value)
    case .negate: return ("−1", -1)
    case .power:
      let n = rows[Int(row.rhs)].value
      return ("\(DotText.shortest(n))·a^\(DotText.shortest(n - 1))", n * Foundation.pow(a, n - 1))
    case .exp: return ("y", y)
    case .log: return ("1/a", 1 / a)
    case .tanh: return ("1 − y²", 1 - y * y)
    case .sigmoid: return ("y(1 − y)", y * (1 - y))
    case .relu: return ("[a > 0]", a > 0 ? 1 : 0)
    }
  }
}

extension ScalarNode {
  /// Gives the node a name for drawings and returns it, for chaining: `(a * b).named("e")`.
  @discardableResult
  public func named(_ name: String) -> ScalarNode {
    graph.names[index] = name
    return self
  }

  /// The name given with `named(_:)`, if any.
  public var name: String? { graph.names[index] }
}
