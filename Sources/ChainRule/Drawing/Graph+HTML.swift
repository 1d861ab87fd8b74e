import Foundation

extension Graph {
  /// One self-contained HTML page that steps through back-propagation: no network, no
  /// external files, so it works from `file://`.
  ///
  /// The page holds the drawing after the backward pass (step 0) and every backward frame
  /// (steps 1…n, see `backwardSteps`), each rendered by Graphviz to inline SVG; buttons and a
  /// slider move between steps, and the step's chain-rule product is shown above the drawing.
  /// Clicking a node shows its op, shape, value and gradient as grids and the local
  /// derivatives or VJPs of the edges into it. The state lives in the URL fragment
  /// (`#step=5&node=a2`, a node given by its drawn name), so a view can be linked and tested.
  /// - Parameters:
  ///   - output: the loss the backward pass starts from (a one-element node unless `seed`).
  ///   - seed: ∂L/∂output; `nil` means ones.
  ///   - options: the drawing options of every step.
  ///   - title: the page's heading.
  /// - Returns: the HTML text.
  /// - Throws: `DrawingError` when Graphviz `dot` is missing or fails.
  public func html(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil, options: DotOptions = DotOptions(),
    title: String = "Back-propagation, step by step"
  ) throws(DrawingError) -> String {
    let steps = backwardSteps(from: output, seed: seed, options: options)
    // Step 0 shows every gradient of a whole backward pass; the graph's own are kept.
    let drawn = ancestors(of: output.id)
    var overview = DotDrawing(graph: self, nodes: drawn, loss: output.id, options: options)
    overview.gradients = finalGradients(from: output, seed: seed)
    var frames = [try Self.inlineSVG(overview.render())]
    for step in steps { frames.append(try Self.inlineSVG(step.dot)) }
    let titles = ["The graph after the backward pass"] + steps.map(\.title)
    let data = nodeData(drawing: overview, options: options)
    var page = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>\(DotLabel.escaped(title))</title>
      <style>
      body { font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #111827; }
      #controls { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
      #controls button { font-size: 16px; padding: 2px 10px; }
      #slider { width: 320px; }
      #step-title { white-space: pre-line; font-weight: bold; min-height: 3.6em; display: none; }
      #layout { display: flex; gap: 16px; align-items: flex-start; }
      #frames { flex: 1 1 auto; min-width: 0; }
      h1 { font-size: 20px; margin: 0 0 8px 0; }
      #frames svg { max-width: 100%; max-height: calc(100vh - 170px); width: auto; height: auto; }
      #details { flex: 0 0 300px; border: 1px solid #d1d5db; border-radius: 6px; padding: 8px;
        font-size: 14px; white-space: pre-wrap; font-family: Menlo, monospace; }
      g.node { cursor: pointer; }
      </style></head><body>
      <h1>\(DotLabel.escaped(title))</h1>
      <div id="controls"><button id="previous">◀</button>
      <input id="slider" type="range" min="0" max="\(steps.count)" value="0">
      <button id="next">▶</button> <span id="step-label"></span></div>
      <div id="step-title"></div>
      <div id="layout"><div id="frames">

      """
    for (index, svg) in frames.enumerated() {
      page += "<div class=\"frame\" data-step=\"\(index)\" hidden>\n\(svg)\n</div>\n"
    }
    page += """
      </div><div id="details">Click a node to see its value, gradient and local derivatives.</div></div>
      <script type="application/json" id="titles">\(Self.scriptJSON(Self.json(titles)))</script>
      <script type="application/json" id="nodes">\(Self.scriptJSON(data))</script>
      <script>
      const titles = JSON.parse(document.getElementById('titles').textContent);
      const nodes = JSON.parse(document.getElementById('nodes').textContent);
      const last = titles.length - 1;
      const state = { step: 0, node: null };
      function idOf(name) {
        for (const id in nodes) { if (nodes[id].name === name) return id; }
        return null;
      }
      function show() {
        document.querySelectorAll('.frame').forEach(frame => {
          frame.hidden = Number(frame.dataset.step) !== state.step;
        });
        document.getElementById('slider').value = state.step;
        document.getElementById('step-label').textContent =
          state.step === 0 ? 'after backward' : 'Step ' + state.step + ' of ' + last;
        document.getElementById('step-title').textContent = titles[state.step];
        const details = document.getElementById('details');
        const id = state.node === null ? null : idOf(state.node);
        if (id !== null) {
          const node = nodes[id];
          details.textContent = node.name + '\\n' + node.kind + '  ' + node.shape +
            '\\n\\nvalue\\n' + node.value + (node.gradient ? '\\n\\ngrad\\n' + node.gradient : '') +
            (node.edges.length ? '\\n\\nedges in\\n' + node.edges.join('\\n') : '');
        }
        const fragment = '#step=' + state.step +
          (state.node === null ? '' : '&node=' + encodeURIComponent(state.node));
        if (location.hash !== fragment) history.replaceState(null, '', fragment);
      }
      function read() {
        const parts = new URLSearchParams(location.hash.slice(1));
        const step = Number(parts.get('step'));
        state.step = Number.isInteger(step) && step >= 0 && step <= last ? step : 0;
        state.node = parts.get('node');
        show();
      }
      document.getElementById('previous').onclick = () => { state.step = Math.max(0, state.step - 1); show(); };
      document.getElementById('next').onclick = () => { state.step = Math.min(last, state.step + 1); show(); };
      document.getElementById('slider').oninput = event => { state.step = Number(event.target.value); show(); };
      document.querySelectorAll('g.node').forEach(group => {
        group.addEventListener('click', () => {
          const id = group.querySelector('title').textContent;
          if (nodes[id]) { state.node = nodes[id].name; show(); }
        });
      });
      window.addEventListener('hashchange', read);
      read();
      </script></body></html>

      """
    return page
  }

  /// The gradients of a whole backward pass from `output`, without touching the graph's.
  private func finalGradients(from output: Node<Scalar>, seed: Tensor<Scalar>?)
    -> [Tensor<Scalar>?]
  {
    let saved = gradients
    defer { gradients = saved }
    // The reverse walk of `backward` (see `replayBackward`), kept to the end.
    gradients = Array(repeating: nil, count: nodeCount)
    gradients[output.id] = seed ?? Tensor.ones(values[output.id].shape)
    for id in stride(from: output.id, through: 0, by: -1) {
      guard let gradient = gradients[id] else { continue }
      pullback(id, gradient: gradient)
    }
    return gradients
  }

  /// Per drawn node: name, kind, shape, value and gradient as aligned text grids, and the
  /// labels of the edges into it, as a JSON object keyed by the DOT node id (`n3`).
  private func nodeData(drawing: DotDrawing<Scalar>, options: DotOptions) -> String {
    var entries: [String] = []
    for id in drawing.visible {
      let record = records[id]
      let kind: String
      switch record.kind {
      case .input: kind = "input"
      case .constant: kind = "constant"
      case .parameter: kind = "parameter"
      case .operation: kind = record.operation!.name
      }
      var edges: [String] = []
      for (slot, _) in record.inputs.enumerated() {
        if let label = edgeLabel(
          node: id, operand: slot, style: .formulasAndNumbers,
          digits: options.significantDigits, names: drawing.names)
        {
          edges.append(label)
        }
      }
      let gradient =
        drawing.hasGradient(id) ? drawing.gradients[id].map { Self.grid($0, options) } : nil
      let fields = [
        "\"name\": " + Self.json(drawing.names[id]), "\"kind\": " + Self.json(kind),
        "\"shape\": " + Self.json(DotText.shape(values[id].shape)),
        "\"value\": " + Self.json(Self.grid(values[id], options)),
        "\"gradient\": " + (gradient.map { Self.json($0) } ?? "null"),
        "\"edges\": [" + edges.map { Self.json($0) }.joined(separator: ", ") + "]",
      ]
      entries.append("\"n\(id)\": {" + fields.joined(separator: ", ") + "}")
    }
    return "{" + entries.joined(separator: ",\n") + "}"
  }

  /// A tensor as text rows with right-aligned columns (rank ≤ 2, up to 64 elements), else its
  /// min / mean / max.
  static func grid(_ tensor: Tensor<Scalar>, _ options: DotOptions) -> String {
    let digits = options.significantDigits
    guard tensor.rank <= 2, tensor.count <= 64, tensor.count > 0 else {
      return DotLabel.summary(tensor, digits: digits)
    }
    let columns = tensor.rank == 0 ? 1 : tensor.shape[tensor.rank - 1]
    let texts = tensor.scalars.map { DotText.number(Double($0), digits: digits) }
    let width = texts.map(\.count).max() ?? 0
    return stride(from: 0, to: texts.count, by: columns).map { start in
      texts[start..<(start + columns)].map {
        String(repeating: " ", count: width - $0.count) + $0
      }.joined(separator: " ")
    }.joined(separator: "\n")
  }

  /// Renders DOT to SVG and drops the XML prolog, for embedding in HTML.
  static func inlineSVG(_ dot: String) throws(DrawingError) -> String {
    let svg = String(decoding: try Graphviz.render(dot, format: .svg), as: UTF8.self)
    guard let start = svg.range(of: "<svg") else { return svg }
    return String(svg[start.lowerBound...])
  }

  /// A JSON string literal.
  static func json(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      default:
        if scalar.value < 0x20 {
          result += String(format: "\\u%04x", scalar.value)
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }

  /// A JSON array of strings.
  static func json(_ texts: [String]) -> String {
    "[" + texts.map { json($0) }.joined(separator: ", ") + "]"
  }

  /// JSON made safe inside a `<script>` element: `</` cannot end it early.
  static func scriptJSON(_ json: String) -> String {
    json.replacingOccurrences(of: "</", with: "<\\/")
  }
}
