import Foundation

extension Graph {
  /// One self-contained HTML page that steps through back-propagation: no network, no
  /// external files, so it works from `file://`.
  ///
  /// The page holds the drawing after the backward pass (step 0) and every backward frame
  /// (steps 1…n, see `backwardSteps`), each rendered by Graphviz to inline SVG; buttons and a
  /// slider move between steps, and the step's chain-rule product is shown above the drawing.
  /// Clicking a node shows its op, its and its operands' shapes, its value and gradient as
  /// grids (the gradient `…` on steps before the one that completes it), and for every edge
  /// into it the local derivative or VJP with the share of the gradient it hands back, in
  /// numbers. Choosing a parameter element (`w1[0, 1]`) highlights every path of its
  /// `explain` on the drawing and shows the explanation. With a gradient check report or
  /// hand-derived gradients attached, every drawing colours the checked nodes by verdict, as
  /// `dot(reaching:options:checked:)` does. The state lives in the URL fragment
  /// (`#step=5&node=a2&path=w1[0,1]`, a node given by its drawn name), read on load and
  /// written on every change, so a view can be linked and tested.
  /// - Parameters:
  ///   - output: the loss the backward pass starts from (a one-element node unless `seed`).
  ///   - seed: ∂L/∂output; `nil` means ones.
  ///   - options: the drawing options of every step.
  ///   - title: the page's heading.
  ///   - report: a `checkGradients` report whose verdicts colour the nodes; `nil` for none.
  ///   - expected: hand-derived gradients by node, compared with the page's backward pass.
  ///   - absoluteTolerance: atol in |a − e| ≤ atol + rtol·|e| for `expected`.
  ///   - relativeTolerance: rtol in the same test.
  /// - Returns: the HTML text.
  /// - Throws: `DrawingError` when Graphviz `dot` is missing or fails.
  public func html(
    from output: Node<Scalar>, seed: Tensor<Scalar>? = nil, options: DotOptions = DotOptions(),
    title: String = "Back-propagation, step by step", checked report: GradientCheckReport? = nil,
    expected: [Node<Scalar>: Tensor<Scalar>] = [:], absoluteTolerance: Double = 1e-10,
    relativeTolerance: Double = 1e-8
  ) throws(DrawingError) -> String {
    require(output.graph === self, "html: output node from another graph")
    // Step 0 shows every gradient of a whole backward pass; the graph's own are kept.
    let final = finalGradients(from: output, seed: seed)
    var verdicts = report.map { self.verdicts(checked: $0) } ?? [:]
    var references = verdicts.mapValues { _ in "numeric" }
    let compared = self.verdicts(
      expected: expected, gradients: final, absoluteTolerance: absoluteTolerance,
      relativeTolerance: relativeTolerance, caller: "html(expected:)")
    for (id, verdict) in compared {
      verdicts[id] = verdict
      references[id] = "expected"
    }
    let digits = options.significantDigits
    var lines: [Int: (color: String, line: String)] = [:]
    var pageVerdicts: [Int: (outcome: String, line: String)] = [:]
    for (id, verdict) in verdicts {
      let line = verdict.line(reference: references[id]!, digits: digits)
      lines[id] = (verdict.color, line)
      let outcome: String
      switch verdict.outcome {
      case .passed: outcome = "passed"
      case .failed: outcome = "failed"
      case .vacuous: outcome = "vacuous"
      }
      pageVerdicts[id] = (outcome, line)
    }
    let steps = numberedSteps(from: output, seed: seed, options: options, verdicts: lines)
    var overview = DotDrawing(
      graph: self, nodes: ancestors(of: output.id), loss: output.id, options: options)
    overview.gradients = final
    overview.verdicts = lines
    var frames = [try Self.inlineSVG(overview.render())]
    for step in steps { frames.append(try Self.inlineSVG(step.step.dot)) }
    let titles = ["The graph after the backward pass"] + steps.map(\.step.title)
    var completedAt: [Int: Int] = [:]
    for (index, step) in steps.enumerated() { completedAt[step.id] = index + 1 }
    let nodes = pageNodeData(
      drawing: overview, gradients: final, completedAt: completedAt, verdicts: pageVerdicts)
    let (paths, pathKeys) = pagePathData(output: output, drawing: overview)
    var page = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>\(DotLabel.escaped(title))</title>
      <style>
      \(Self.pageStyle)
      </style></head><body>
      <h1>\(DotLabel.escaped(title))</h1>
      <div id="controls"><button id="previous" title="previous step">◀</button>
      <input id="slider" type="range" min="0" max="\(steps.count)" value="0" aria-label="step">
      <button id="next" title="next step">▶</button> <span id="step-label"></span>
      <label for="path">explain ∂L/∂</label><select id="path"><option value="">\(pathKeys.isEmpty ? "(graph too large to explain element by element)" : "(choose a parameter element)")</option>

      """
    for key in pathKeys {
      page += "<option value=\"\(DotLabel.escaped(key))\">\(DotLabel.escaped(key))</option>\n"
    }
    page += "</select><span id=\"path-summary\"></span></div>\n"
    if !verdicts.isEmpty {
      page += """
        <div id="verdict-legend"><span class="swatch passed"></span> ok <span class="swatch failed"></span> FAIL
        <span class="swatch vacuous"></span> vacuous (gradient and reference both ≈ 0: nothing checked)</div>

        """
    }
    page += """
      <div id="step-title"></div>
      <div id="layout"><div id="frames">

      """
    for (index, svg) in frames.enumerated() {
      page += "<div class=\"frame\" data-step=\"\(index)\" hidden>\n\(svg)\n</div>\n"
    }
    page += """
      </div><div id="side"><div id="details"><div id="detail-hint">Click a node to see its op, value, gradient and local derivatives.</div>
      <div id="detail-body" hidden><h2 id="detail-name"></h2><div id="detail-op"></div>
      <div id="detail-operands"></div><div id="detail-verdict"></div>
      <h3>value</h3><pre id="detail-value"></pre>
      <h3 id="detail-grad-heading">gradient</h3><div id="detail-status"></div><pre id="detail-grad"></pre>
      <h3>edges in: local derivative or VJP</h3><div id="detail-edges"></div></div></div>
      <pre id="path-text" hidden></pre></div></div>
      <script type="application/json" id="titles">\(Self.scriptJSON(Self.json(titles)))</script>
      <script type="application/json" id="nodes">\(Self.scriptJSON(nodes))</script>
      <script type="application/json" id="paths">\(Self.scriptJSON(paths))</script>
      <script>
      \(Self.pageScript)
      </script></body></html>

      """
    return page
  }

  /// The page's style sheet: the drawing beside the details, the explained paths in blue.
  private static var pageStyle: String {
    #"""
    body { font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #111827; }
    h1 { font-size: 20px; margin: 0 0 8px 0; }
    #controls { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
    #controls button { font-size: 16px; padding: 2px 10px; }
    #slider { width: 280px; }
    #step-label { min-width: 8em; }
    #path-summary { color: #1d4ed8; }
    #step-title { white-space: pre-line; font-weight: bold; min-height: 3.6em; display: none; }
    #layout { display: flex; gap: 16px; align-items: flex-start; }
    #frames { flex: 1 1 auto; min-width: 0; }
    #frames svg { width: auto; height: auto; max-width: 100%; max-height: calc(100vh - 90px); }
    #side { flex: 0 0 330px; display: flex; flex-direction: column; gap: 8px; }
    #details, #path-text { border: 1px solid #d1d5db; border-radius: 6px; padding: 8px;
      font-size: 13px; }
    #path-text { white-space: pre-wrap; font-family: Menlo, monospace; margin: 0;
      border-color: #2563eb; max-height: 40vh; overflow: auto; }
    #details h2 { font-size: 16px; margin: 0 0 4px 0; font-family: Menlo, monospace; }
    #details h3 { font-size: 13px; margin: 8px 0 2px 0; color: #4b5563; }
    #details pre { margin: 0; font-family: Menlo, monospace; }
    #detail-grad { color: #b91c1c; }
    #detail-status { color: #4b5563; font-size: 12px; }
    .edge-detail { margin: 4px 0; font-family: Menlo, monospace; white-space: pre-wrap; }
    .edge-detail .from { color: #4b5563; }
    #detail-verdict.passed { background: #bbf7d0; } #detail-verdict.failed { background: #fca5a5; }
    #detail-verdict.vacuous { background: #fef9c3; }
    #detail-verdict { white-space: pre-wrap; margin-top: 4px; padding: 2px 4px; }
    #verdict-legend { font-size: 13px; margin-bottom: 4px; }
    .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #6b7280; }
    .swatch.passed { background: #bbf7d0; } .swatch.failed { background: #fca5a5; }
    .swatch.vacuous { background: #fef9c3; }
    g.node { cursor: pointer; }
    g.node.selected { filter: drop-shadow(0 0 3px #111827); }
    g.node.on-path { filter: drop-shadow(0 0 4px #2563eb) drop-shadow(0 0 2px #2563eb); }
    g.edge.on-path path { stroke: #2563eb; stroke-width: 3.5; }
    g.edge.on-path polygon { stroke: #2563eb; fill: #2563eb; }
    g.edge.on-path text { fill: #1d4ed8; }
    """#
  }

  /// The page's script: the state (step, node, path) from and to the URL fragment, and what
  /// the DOM shows for it.
  private static var pageScript: String {
    #"""
    const titles = JSON.parse(document.getElementById('titles').textContent);
    const nodes = JSON.parse(document.getElementById('nodes').textContent);
    const paths = JSON.parse(document.getElementById('paths').textContent);
    const last = titles.length - 1;
    const state = { step: 0, node: null, path: null };
    const byId = id => document.getElementById(id);
    function idOf(name) {
      for (const id in nodes) { if (nodes[id].name === name) return id; }
      return null;
    }
    function set(id, text) { byId(id).textContent = text; }
    function showDetails() {
      const id = state.node === null ? null : idOf(state.node);
      byId('detail-hint').hidden = id !== null;
      byId('detail-body').hidden = id === null;
      if (id === null) return;
      const node = nodes[id];
      set('detail-name', node.name);
      set('detail-op', node.kind + '  ' + node.shape);
      set('detail-operands', node.operands.length ? 'from ' + node.operands.join(', ') : '');
      const verdict = byId('detail-verdict');
      verdict.className = node.verdict ? node.verdict.outcome : '';
      verdict.textContent = node.verdict ? node.verdict.line : '';
      set('detail-value', node.value);
      set('detail-grad-heading', 'gradient ' + node.gradientName);
      let status = '', grad = '';
      if (node.gradient === null) {
        status = 'none: no gradient flows into ' + node.name;
      } else if (state.step === 0 || node.completedAt === null) {
        status = 'after the whole backward pass'; grad = node.gradient;
      } else if (state.step >= node.completedAt) {
        status = 'complete since step ' + node.completedAt; grad = node.gradient;
      } else {
        status = 'not complete yet: step ' + node.completedAt + ' completes it'; grad = '…';
      }
      set('detail-status', status);
      set('detail-grad', grad);
      const edges = byId('detail-edges');
      edges.replaceChildren();
      for (const edge of node.edges) {
        const item = document.createElement('div');
        item.className = 'edge-detail';
        const from = document.createElement('div');
        from.className = 'from';
        from.textContent = 'from ' + edge.from;
        const label = document.createElement('div');
        label.className = 'label';
        label.textContent = edge.label;
        item.append(from, label);
        if (edge.numbers) {
          // The share is ∂L/∂node times the local derivative: known once ∂L/∂node is complete.
          const numbers = document.createElement('div');
          numbers.className = 'numbers';
          numbers.textContent = grad === '…' ? '(numbers once step ' + node.completedAt +
            ' completes ' + node.gradientName + ')' : edge.numbers;
          item.append(numbers);
        }
        edges.append(item);
      }
      if (!node.edges.length) edges.textContent = '(a leaf: nothing flows further back)';
    }
    function showPath() {
      const path = state.path === null ? null : paths[state.path];
      document.querySelectorAll('.on-path').forEach(e => e.classList.remove('on-path'));
      byId('path').value = path ? state.path : '';
      byId('path-text').hidden = !path;
      set('path-text', path ? path.text : '');
      set('path-summary', path ?
        path.nodes.length + ' nodes, ' + path.edges.length + ' edges on its paths' : '');
      if (!path) return;
      document.querySelectorAll('g.node').forEach(group => {
        const title = group.querySelector('title');
        if (title && path.nodes.includes(title.textContent)) group.classList.add('on-path');
      });
      document.querySelectorAll('g.edge').forEach(group => {
        const title = group.querySelector('title');
        if (title && path.edges.includes(title.textContent)) group.classList.add('on-path');
      });
    }
    function fragment() {
      const encode = text => encodeURIComponent(text)
        .replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%2C/g, ',');
      return '#step=' + state.step +
        (state.node === null ? '' : '&node=' + encode(state.node)) +
        (state.path === null ? '' : '&path=' + encode(state.path));
    }
    function show() {
      document.querySelectorAll('.frame').forEach(frame => {
        frame.hidden = Number(frame.dataset.step) !== state.step;
      });
      byId('slider').value = state.step;
      set('step-label', state.step === 0 ? 'after backward' : 'Step ' + state.step + ' of ' + last);
      set('step-title', titles[state.step]);
      document.querySelectorAll('g.node.selected').forEach(g => g.classList.remove('selected'));
      const selected = state.node === null ? null : idOf(state.node);
      document.querySelectorAll('g.node').forEach(group => {
        const title = group.querySelector('title');
        if (title && title.textContent === selected) group.classList.add('selected');
      });
      showDetails();
      showPath();
      const wanted = fragment();
      if (location.hash !== wanted) history.replaceState(null, '', wanted);
    }
    function read() {
      const parts = new URLSearchParams(location.hash.slice(1));
      const step = Number(parts.get('step'));
      state.step = Number.isInteger(step) && step >= 0 && step <= last ? step : 0;
      const node = parts.get('node');
      state.node = node !== null && idOf(node) !== null ? node : null;
      const path = parts.get('path');
      state.path = path !== null && paths[path] ? path : null;
      show();
    }
    function go(step) { state.step = Math.max(0, Math.min(last, step)); show(); }
    byId('previous').onclick = () => go(state.step - 1);
    byId('next').onclick = () => go(state.step + 1);
    byId('slider').oninput = event => go(Number(event.target.value));
    byId('path').onchange = event => { state.path = event.target.value || null; show(); };
    document.querySelectorAll('g.node').forEach(group => {
      group.addEventListener('click', () => {
        const id = group.querySelector('title').textContent;
        if (nodes[id]) { state.node = nodes[id].name; show(); }
      });
    });
    window.addEventListener('hashchange', read);
    read();
    """#
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
