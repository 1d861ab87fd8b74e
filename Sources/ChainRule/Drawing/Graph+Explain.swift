extension Graph {
  /// Explains ∂loss/∂node[index] by the chain rule, element by element (see
  /// `ChainRuleExplanation`), with the values of the current forward pass.
  ///
  /// Paths run over single elements (so `w1[0, 0]` meets `x[0, 0]`, not the matrix `x`); each
  /// edge's factor is the op's local derivative, its formula from `derivativeFormula` written
  /// in element names and its number from the op's VJP. Factoring keeps the elements every
  /// path passes through (in order) and sums the paths between two of them into one factor.
  /// Known adjacent pairs are then simplified when the result is exact: binary cross-entropy
  /// written with primitives, `−(t·log p + (1 − t)·log(1 − p))`, has ∂L/∂p =
  /// (p − t)/(p(1 − p)), and right after `p = σ(z)` the two factors multiply to `p − t`.
  /// - Parameters:
  ///   - loss: a one-element node.
  ///   - node: the node differentiated against (a parameter, an input, any node).
  ///   - index: the element's multi-index; may be empty for a one-element node.
  ///   - maximumPaths: the most paths enumerated before giving up.
  /// - Throws: `ExplanationError` for a loss with several elements, an index that does not fit,
  ///   or too many paths.
  public func explain(
    _ loss: Node<Scalar>, withRespectTo node: Node<Scalar>, at index: [Int] = [],
    maximumPaths: Int = 10_000
  ) throws(ExplanationError) -> ChainRuleExplanation {
    require(loss.graph === self && node.graph === self, "explain: node from another graph")
    guard values[loss.id].count == 1 else {
      throw .lossNotScalar(loss: label(of: loss.id), shape: values[loss.id].shape)
    }
    let shape = values[node.id].shape
    let fits =
      (index.isEmpty && values[node.id].count == 1)
      || (index.count == shape.count && zip(index, shape).allSatisfy { $0 >= 0 && $0 < $1 })
    guard fits else { throw .indexOutOfRange(node: label(of: node.id), shape: shape, index: index) }
    let target = ElementKey(
      id: node.id, index: index.isEmpty ? 0 : values[node.id].offset(of: index))
    let walk = ElementWalk(graph: self, loss: ElementKey(id: loss.id, index: 0), target: target)
    let name = elementName(target.id, target.index)
    let lossName = elementName(loss.id, 0)
    guard walk.total > 0 else {
      return ChainRuleExplanation(
        loss: lossName, element: name, paths: [], sum: 0, factors: [], notes: [])
    }
    guard walk.total <= Double(maximumPaths) else {
      throw .tooManyPaths(element: name, count: walk.total, limit: maximumPaths)
    }
    return walk.explanation(lossName: lossName, elementName: name)
  }

  /// The node-level edges (operand, result) that some path of `explain(loss, withRespectTo:
  /// node, at: index)` runs along: the drawing's view of the explanation, for highlighting.
  /// Empty when no path leads from the element to the loss.
  func explainedEdges(_ loss: Node<Scalar>, withRespectTo node: Node<Scalar>, at index: [Int])
    -> Set<[Int]>
  {
    let target = ElementKey(
      id: node.id, index: index.isEmpty ? 0 : values[node.id].offset(of: index))
    let walk = ElementWalk(graph: self, loss: ElementKey(id: loss.id, index: 0), target: target)
    return walk.total > 0 ? walk.nodeEdges : []
  }
}

/// One element of one node.
struct ElementKey: Hashable, Comparable {
  var id: Int
  var index: Int
  static func < (a: ElementKey, b: ElementKey) -> Bool { (a.id, a.index) < (b.id, b.index) }
}

/// The element-level graph between a loss element and a target element: edges, path counts,
/// the elements every path passes through, and the paths between them.
struct ElementWalk<Scalar: TensorScalar> {
  let graph: Graph<Scalar>
  let loss: ElementKey
  let target: ElementKey
  /// Edges from each element to the operand elements it depends on and that lie on a path
  /// to the target, in the op's operand order.
  private var edges: [ElementKey: [Graph<Scalar>.ElementEdge]] = [:]
  /// Paths from the loss to each element, and from each element to the target.
  private var fromLoss: [ElementKey: Double] = [:]
  private var toTarget: [ElementKey: Double] = [:]
  /// The number of paths from the loss to the target.
  private(set) var total: Double = 0

  init(graph: Graph<Scalar>, loss: ElementKey, target: ElementKey) {
    self.graph = graph
    self.loss = loss
    self.target = target
    // Backwards from the loss, in reverse creation order, never below the target's node.
    var pending: [Int: Set<Int>] = [loss.id: [loss.index]]
    var all: [ElementKey: [Graph<Scalar>.ElementEdge]] = [:]
    for id in stride(from: loss.id, to: target.id, by: -1) {
      for index in (pending[id] ?? []).sorted() {
        let found = graph.elementEdges(node: id, element: index).filter { $0.input >= target.id }
        all[ElementKey(id: id, index: index)] = found
        for edge in found { pending[edge.input, default: []].insert(edge.index) }
      }
    }
    // Forwards from the target: paths to it, keeping only edges that lead to it.
    toTarget[target] = 1
    for key in all.keys.sorted() {
      let kept = all[key]!.filter { toTarget[ElementKey(id: $0.input, index: $0.index)] != nil }
      guard !kept.isEmpty else { continue }
      edges[key] = kept
      toTarget[key] = kept.map { toTarget[ElementKey(id: $0.input, index: $0.index)]! }
        .reduce(0, +)
    }
    total = loss == target ? 1 : toTarget[loss] ?? 0
    guard total > 0 else { return }
    fromLoss[loss] = 1
    for key in edges.keys.sorted(by: >) {
      for edge in edges[key]! {
        fromLoss[ElementKey(id: edge.input, index: edge.index), default: 0] += fromLoss[key] ?? 0
      }
    }
  }

  /// Every edge between elements kept here lies on a path from the loss to the target (it
  /// was reached from the loss and leads to the target); these are their nodes' edges.
  var nodeEdges: Set<[Int]> {
    var result: Set<[Int]> = []
    for (key, found) in edges {
      for edge in found { result.insert([edge.input, key.id]) }
    }
    return result
  }

  /// The elements on every path, from the loss to the target.
  private var dominators: [ElementKey] {
    let onAll = toTarget.keys.filter { key in
      (fromLoss[key] ?? 0) * (toTarget[key] ?? 0) == total
    }
    return onAll.sorted(by: >)
  }

  /// One edge as a factor.
  private func factor(from consumer: ElementKey, _ edge: Graph<Scalar>.ElementEdge)
    -> ChainRuleExplanation.Factor
  {
    ChainRuleExplanation.Factor(
      derivative: "∂\(graph.elementName(consumer.id, consumer.index))/∂"
        + graph.elementName(edge.input, edge.index),
      formula: edge.formula, value: edge.value)
  }

  /// The paths from `start` to `end`, each as (elements after `start`, factors), depth first
  /// in operand order, without recursion.
  private func paths(from start: ElementKey, to end: ElementKey)
    -> [(elements: [ElementKey], factors: [ChainRuleExplanation.Factor])]
  {
    var result: [(elements: [ElementKey], factors: [ChainRuleExplanation.Factor])] = []
    var stack: [(at: ElementKey, elements: [ElementKey], factors: [ChainRuleExplanation.Factor])] =
      [(start, [], [])]
    while let (at, elements, factors) = stack.popLast() {
      if at == end {
        result.append((elements, factors))
        continue
      }
      for edge in (edges[at] ?? []).reversed() {
        let next = ElementKey(id: edge.input, index: edge.index)
        stack.append((next, elements + [next], factors + [factor(from: at, edge)]))
      }
    }
    return result
  }

  func explanation(lossName: String, elementName: String) -> ChainRuleExplanation {
    let stops = dominators
    // Each segment between consecutive stops: its paths, and one factor for all of them.
    var segments: [Segment] = []
    for (start, end) in zip(stops, stops.dropFirst()) {
      let found = paths(from: start, to: end)
      let factor: ChainRuleExplanation.Factor
      if found.count == 1 && found[0].factors.count == 1 {
        factor = found[0].factors[0]
      } else {
        factor = ChainRuleExplanation.Factor(
          derivative: "∂\(graph.elementName(start.id, start.index))/∂"
            + graph.elementName(end.id, end.index),
          formula: found.map { ChainRuleExplanation.product($0.factors.map(\.formula)) }
            .joined(separator: " + "),
          value: found.map { $0.factors.map(\.value).reduce(1, *) }.reduce(0, +))
      }
      segments.append(Segment(start: start, end: end, paths: found, factor: factor))
    }
    // Every full path: one path through each segment.
    var full: [(elements: [ElementKey], factors: [ChainRuleExplanation.Factor])] = [([loss], [])]
    for segment in segments {
      full = full.flatMap { prefix in
        segment.paths.map { (prefix.elements + $0.elements, prefix.factors + $0.factors) }
      }
    }
    var paths: [ChainRuleExplanation.Path] = []
    for path in full {
      let written = ChainRuleExplanation.Path(
        elements: path.elements.reversed().map { graph.elementName($0.id, $0.index) },
        factors: path.factors, value: path.factors.map(\.value).reduce(1, *))
      // Paths that read the same (x·x reaches x twice) are listed once, counted.
      if let same = paths.firstIndex(where: {
        $0.elements == written.elements && $0.factors == written.factors
      }) {
        paths[same].multiplicity += 1
      } else {
        paths.append(written)
      }
    }
    let (factors, notes) = simplified(segments)
    return ChainRuleExplanation(
      loss: lossName, element: elementName, paths: paths,
      sum: paths.map { $0.value * Double($0.multiplicity) }.reduce(0, +), factors: factors,
      notes: notes)
  }

  /// A stretch between two elements every path passes through.
  private struct Segment {
    var start: ElementKey
    var end: ElementKey
    var paths: [(elements: [ElementKey], factors: [ChainRuleExplanation.Factor])]
    var factor: ChainRuleExplanation.Factor
  }

  /// The segments' factors with the known exact simplifications applied and unit factors
  /// (`1`) left out.
  private func simplified(_ segments: [Segment]) -> ([ChainRuleExplanation.Factor], [String]) {
    var factors: [ChainRuleExplanation.Factor] = []
    var notes: [String] = []
    var position = 0
    while position < segments.count {
      guard let (last, probability, truth) = binaryCrossEntropy(segments, from: position) else {
        factors.append(segments[position].factor)
        position += 1
        continue
      }
      // Segments position...last run from the loss term to p; their product is ∂ℓ/∂p.
      let start = segments[position].start
      let end = segments[last].end
      let value = segments[position...last].map(\.factor.value).reduce(1, *)
      let p = graph.elementName(end.id, end.index)
      let t = graph.elementName(
        truth,
        graph.broadcastSource(
          of: rowMajorIndex(end.index, shape: graph.values[probability].shape),
          in: graph.values[truth].shape))
      let (pg, tg) = (ChainText.grouped(p), ChainText.grouped(t))
      let bce = "(\(p) − \(tg))/(\(pg)(1 − \(pg)))"
      let loss = graph.elementName(start.id, start.index)
      if last + 1 < segments.count, segments[last + 1].paths.count == 1,
        segments[last + 1].paths[0].factors.count == 1,
        graph.records[probability].operation is Sigmoid
      {
        let next = segments[last + 1]
        let z = graph.elementName(next.end.id, next.end.index)
        factors.append(
          .init(
            derivative: "∂\(loss)/∂\(z)", formula: "\(p) − \(tg)",
            value: value * next.factor.value))
        notes.append(
          "∂\(loss)/∂\(p) · ∂\(p)/∂\(z) = \(bce) · \(pg)(1 − \(pg)) = \(p) − \(tg) "
            + "(binary cross-entropy after a sigmoid)")
        position = last + 2
      } else {
        factors.append(.init(derivative: "∂\(loss)/∂\(p)", formula: bce, value: value))
        notes.append(
          "∂\(loss)/∂\(p) = \(bce) (binary cross-entropy −(t·log p + (1 − t)·log(1 − p)))")
        position = last + 1
      }
    }
    return (factors.filter { !($0.formula == "1" && $0.value == 1) }, notes)
  }

  /// `(last, p, t)` when segment `first` starts at a binary cross-entropy written with
  /// primitives, `−(t·log p + (1 − t)·log(1 − p))` (element-wise, operands in either order),
  /// and segment `last` ends at the same element of its probability operand `p`.
  private func binaryCrossEntropy(_ segments: [Segment], from first: Int) -> (Int, Int, Int)? {
    let start = segments[first].start
    guard let (p, t) = BinaryCrossEntropyPattern(graph: graph).match(start.id),
      graph.values[start.id].shape == graph.values[p].shape,
      let last = segments[first...].firstIndex(where: { $0.end.id == p }),
      segments[last].end.index == start.index
    else { return nil }
    return (last, p, t)
  }
}

/// Recognizes binary cross-entropy built from primitive ops:
/// `−(t·log p + (1 − t)·log(1 − p))` or `−t·log p − (1 − t)·log(1 − p)`.
struct BinaryCrossEntropyPattern<Scalar: TensorScalar> {
  let graph: Graph<Scalar>

  /// `(p, t)` when node `id` computes the pattern.
  func match(_ id: Int) -> (Int, Int)? {
    if let inner = unary(id, Negate.self), let (a, b) = binary(inner, Add.self) {
      return terms(a, b) ?? terms(b, a)
    }
    if let (left, right) = binary(id, Subtract.self), let a = unary(left, Negate.self) {
      return terms(a, right)
    }
    return nil
  }

  /// `a = t·log p` and `b = (1 − t)·log(1 − p)` with the same p and t.
  private func terms(_ a: Int, _ b: Int) -> (Int, Int)? {
    let logOperand = { (id: Int) in unary(id, Log.self) }
    guard let (t, p) = product(a, logOperand), let (oneMinusT, oneMinusP) = product(b, logOperand),
      complement(oneMinusT) == t, complement(oneMinusP) == p
    else { return nil }
    return (p, t)
  }

  /// For `id = u·v` (either order) where `inner(v)` exists: `(u, inner(v))`.
  private func product(_ id: Int, _ inner: (Int) -> Int?) -> (Int, Int)? {
    guard let (a, b) = binary(id, Multiply.self) else { return nil }
    if let v = inner(b) { return (a, v) }
    if let v = inner(a) { return (b, v) }
    return nil
  }

  /// `u` when `id = 1 − u` with a constant 1.
  private func complement(_ id: Int) -> Int? {
    guard let (one, u) = binary(id, Subtract.self), graph.records[one].kind == .constant,
      graph.values[one].scalars.allSatisfy({ $0 == 1 })
    else { return nil }
    return u
  }

  private func unary<Op: DifferentiableOperation>(_ id: Int, _ type: Op.Type) -> Int? {
    let record = graph.records[id]
    guard record.operation is Op, record.inputs.count == 1 else { return nil }
    return record.inputs[0]
  }

  private func binary<Op: DifferentiableOperation>(_ id: Int, _ type: Op.Type) -> (Int, Int)? {
    let record = graph.records[id]
    guard record.operation is Op, record.inputs.count == 2 else { return nil }
    return (record.inputs[0], record.inputs[1])
  }
}
