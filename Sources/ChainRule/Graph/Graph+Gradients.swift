/// The backward pass built as graph nodes: gradients that can be drawn, computed on and
/// differentiated again, to any order (PyTorch's `torch.autograd.grad(create_graph=True)`,
/// JAX's `grad`).
///
/// `backward(from:)` computes gradients as numbers, on reused buffers; this builds the same
/// chain rule out of nodes. Each op node's VJP is asked for its gradient shares as nodes
/// (`DifferentiableOperation.gradientNodes`), which are themselves ordinary catalog ops with
/// their own VJPs — so the gradient of a gradient is built the same way again.
extension Graph {
  /// ∂output/∂node for every node of `nodes`, built as new nodes of this graph.
  ///
  /// The reverse loop of `backward(from:)`, with nodes in place of tensors: the output's
  /// gradient starts as `seed` (for a one-element output by default `Ones`, ∂L/∂L = 1, which
  /// no rule multiplies in: its product with x is x itself); then,
  /// in reverse creation order, every op node that depends on one of `nodes` and reaches the
  /// output hands its gradient node ȳ to its op's `gradientNodes`, and each share, summed back
  /// to its operand's shape with a node where the op broadcast, is added to the operand's
  /// gradient — one add node per extra use (fan-out). Only those nodes get gradient nodes; a
  /// node of `nodes` that does not reach the output gets a zeros constant.
  ///
  /// The result is a function of the graph's leaves like any other node: after new input
  /// values and `forward()` it holds the gradient at the new values (nothing is frozen into a
  /// constant but shapes, so the operand shapes must stay those it was built for). It can be
  /// fed into further ops, differentiated again by this method, or used in a loss that
  /// `backward(from:)` trains on (a gradient penalty). Every node created gets
  /// `derivativeOrder` n + 1, n the largest order among the nodes differentiated, and the
  /// final gradient of a named node `x` is named `∂L/∂x`, the output's label in place of L. A
  /// gradient may be an existing node (∂(w·x)/∂w is x itself); that keeps its name and order.
  /// Element-wise ops read their forward output node (tanh′ = 1 − y² reads y) instead of
  /// computing it again. Gradient hooks (`registerHook`) act in `backward(from:)` only: a
  /// hooked node on the path stops this with a message naming it (see `Graph+Hooks`).
  ///
  /// ```swift
  /// let x = graph.input(Tensor(0.5), name: "x")
  /// let y = x.tanh()
  /// let dy = graph.gradients(of: y, withRespectTo: [x])[0]   // 1 − tanh² x
  /// let d2y = graph.gradients(of: dy, withRespectTo: [x])[0] // −2 tanh x (1 − tanh² x)
  /// ```
  /// - Parameters:
  ///   - output: The node differentiated: one element, or pass `seed`.
  ///   - nodes: The nodes to differentiate with respect to (any nodes of the graph).
  ///   - seed: ∂L/∂output as a node of the output's shape (for a non-scalar output, the
  ///     vector of a vector-Jacobian product); default ones.
  /// - Returns: One gradient node per node of `nodes`, each of that node's shape.
  public func gradients(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], seed: Node<Scalar>? = nil
  ) -> [Node<Scalar>] {
    require(output.graph === self, "gradients: the output \(output.label) is from another graph")
    for node in nodes {
      require(node.graph === self, "gradients: the node \(node.label) is from another graph")
    }
    requireNoPlaceholders("gradients")
    let outputShape = values[output.id].shape
    if let seed {
      require(seed.graph === self, "gradients: the seed \(seed.label) is from another graph")
      require(
        values[seed.id].shape == outputShape,
        "gradients: the seed \(seed.label) has shape \(values[seed.id].shape), but the output "
          + "\(output.label) has \(outputShape)")
    } else {
      require(
        values[output.id].count == 1,
        "gradients: the output \(output.label) has shape \(outputShape), not one element; "
          + "pass a seed node of that shape")
    }
    let start = records.count
    var order = seed?.derivativeOrder ?? 0
    let built = gradientNodes(of: output, withRespectTo: nodes, seed: seed) { id in
      order = Swift.max(order, records[id].derivativeOrder)
      if let hooks = gradientHooks[id], !hooks.isEmpty {
        requirementFailure(
          "gradients: \(label(of: id)) has a gradient hook, which acts in backward(from:) "
            + "only; a gradient built as nodes would skip it, so remove it first (removeHooks)")
      }
    }
    let results = zip(nodes, built).map { node, gradient in
      gradient ?? constant(Tensor.zeros(values[node.id].shape))
    }
    setDerivativeOrder(order + 1, fromNode: start)
    var named = Set<Int>()
    for (node, result) in zip(nodes, results) {
      guard let name = node.name, result.id >= start, named.insert(result.id).inserted else {
        continue  // unnamed, an existing node (the seed, a forward value), or already named
      }
      rename(result.id, to: Self.derivativeName(of: output.label, withRespectTo: name))
    }
    return results
  }

  /// The reverse loop of `gradients(of:withRespectTo:seed:)`, without its checks, names and
  /// orders: ∂output/∂node for every node of `nodes` as nodes, `nil` where the output does
  /// not depend on the node. `visit` sees every node that gets a gradient, before its op's
  /// rule is asked for the shares.
  ///
  /// `stops` makes partial derivatives: the loop passes no gradient on from a node of
  /// `stops`, each an independent variable, so a node of `nodes` gets only what reaches it
  /// along paths through no node of `stops` (`VJPShare`'s second order, whose operands are
  /// a, b and the forward output y = f(a, b) beside them, needs exactly this).
  func gradientNodes(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], seed: Node<Scalar>?,
    stoppingAt stops: [Node<Scalar>] = [], visit: (Int) -> Void = { _ in }
  ) -> [Node<Scalar>?] {
    // Which nodes get a gradient: those that depend on a node of `nodes` (forward sweep) and
    // that the output depends on (backward sweep).
    let first = min(nodes.map(\.id).min() ?? output.id, output.id)
    var depends = [Bool](repeating: false, count: output.id + 1)
    var isStop = [Bool](repeating: false, count: output.id + 1)
    for node in nodes where node.id <= output.id { depends[node.id] = true }
    for node in stops where node.id <= output.id { isStop[node.id] = true }
    for id in first...output.id where !depends[id] {
      depends[id] = records[id].inputs.contains { depends[$0] }
    }
    var reaches = [Bool](repeating: false, count: output.id + 1)
    reaches[output.id] = true
    for id in stride(from: output.id, through: first, by: -1) where reaches[id] && depends[id] {
      visit(id)
      guard !isStop[id] else { continue }
      for input in records[id].inputs { reaches[input] = true }
    }
    func isRelevant(_ id: Int) -> Bool { depends[id] && reaches[id] }

    // The reverse loop: creation order is a topological order, so every consumer of a node
    // has added its share before the node passes its gradient on. The seed, when none is
    // given, is `Ones`: a rule's product with it is the other factor, no `1·x` node.
    var gradient = [Node<Scalar>?](repeating: nil, count: output.id + 1)
    if depends[output.id] {
      gradient[output.id] = seed ?? apply(Ones(shape: values[output.id].shape), [])
    }
    for id in stride(from: output.id, through: first, by: -1) where isRelevant(id) {
      guard let outputGradient = gradient[id], let operation = records[id].operation,
        !isStop[id]
      else { continue }
      let inputs = records[id].inputs
      let needs = inputs.map(isRelevant)
      guard needs.contains(true) else { continue }
      let shares: [Node<Scalar>?]
      do {
        shares = try operation.nodeBuiltVJP(
          inputs.map { Node(graph: self, id: $0) }, output: Node(graph: self, id: id),
          gradient: outputGradient, needs: needs)
      } catch {
        requirementFailure(error.description)
      }
      require(
        shares.count == inputs.count,
        "\(operation.name): gradientNodes returned \(shares.count) shares for \(inputs.count) "
          + "operands")
      for (slot, input) in inputs.enumerated() where needs[slot] {
        guard let share = shares[slot] else { continue }  // no gradient: zero
        let reduced = share.summed(toShape: values[input].shape)  // broadcasting summed back
        gradient[input] = gradient[input].map { $0 + reduced } ?? reduced  // fan-out
      }
    }
    return nodes.map { $0.id <= output.id ? gradient[$0.id] : nil }
  }

  /// `∂L/∂x`, and for a derivative of a derivative the usual notation: `∂²L/∂x²` from `∂L/∂x`,
  /// `∂²L/∂w∂x` from `∂L/∂w`, `∂³L/∂x³` from `∂²L/∂x²`.
  static func derivativeName(of output: String, withRespectTo name: String) -> String {
    let superscripts = Array("⁰¹²³⁴⁵⁶⁷⁸⁹")
    func superscript(_ n: Int) -> String {
      n == 1 ? "" : String(String(n).map { superscripts[Int(String($0))!] })
    }
    func number(_ text: Substring) -> Int? {
      guard !text.isEmpty else { return 1 }
      var value = 0
      for character in text {
        guard let digit = superscripts.firstIndex(of: character) else { return nil }
        value = value * 10 + digit
      }
      return value
    }
    // output = ∂ⁿL/D, D a product of ∂v or ∂vᵏ factors.
    guard output.hasPrefix("∂"), let slash = output.firstIndex(of: "/") else {
      return "∂\(output)/∂\(name)"
    }
    let head = output[output.index(after: output.startIndex)..<slash]
    let orderDigits = head.prefix { superscripts.contains($0) }
    let denominator = output[output.index(after: slash)...]
    guard let order = number(orderDigits), order < 9, denominator.hasPrefix("∂") else {
      return "∂\(output)/∂\(name)"
    }
    let base = head.dropFirst(orderDigits.count)
    // The last factor: ∂name or ∂nameᵏ raises its power; anything else gets ∂name appended.
    var factors = denominator.split(separator: "∂", omittingEmptySubsequences: true)
    if let last = factors.last {
      let power = last.reversed().prefix { superscripts.contains($0) }.count
      let variable = last.dropLast(power)
      if variable == name, let k = number(last.suffix(power)) {
        factors[factors.count - 1] = Substring(name + superscript(k + 1))
        let joined = factors.map { "∂\($0)" }.joined()
        return "∂\(superscript(order + 1))\(base)/\(joined)"
      }
    }
    return "∂\(superscript(order + 1))\(base)/\(denominator)∂\(name)"
  }
}
