/// Forward mode (Jacobian-vector products) and Jacobians on a built graph.
///
/// Reverse mode asks "how does the loss change with every input?" and answers with one pass
/// back from the output; forward mode asks "how does every node change when the inputs move
/// along v?" and answers with one pass forward from the inputs: each node's tangent
/// ẏ = Σᵢ ∂y/∂xᵢ · ẋᵢ is formed from its operands' tangents, in creation order (the order the
/// values were computed in), by the op's JVP rule. One forward pass gives one column J·v of
/// the Jacobian; one backward pass gives one row uᵀ·J.

/// How `Graph.jacobian(of:withRespectTo:mode:)` builds the Jacobian.
public enum JacobianMode: Sendable, Equatable {
  /// By rows: one backward pass per output element, seeded with that element's one-hot
  /// vector (JAX's `jacrev`); cheaper when the output has fewer elements than the inputs.
  case reverse
  /// By columns: one forward-mode pass per input element, with that element's one-hot
  /// tangent (JAX's `jacfwd`); cheaper when the inputs have fewer elements than the output.
  case forward
}

extension Graph {
  /// The Jacobian-vector product J·v of forward mode: how `output` changes when the given
  /// nodes move along `tangents` (JAX's `jax.jvp`, `torch.func.jvp`).
  ///
  /// With x = (x₁, …, xₖ) the given nodes and v = (v₁, …, vₖ) their tangents, returns
  /// ẏ = d/dε output(x + ε·v) at ε = 0, in the output's shape. Every node from the first
  /// given one to `output` gets a tangent in creation order: an op node on nodes with
  /// tangents applies its op's JVP rule (`DifferentiableOperation.jvp`), a node that depends
  /// on no given node has tangent 0 and is skipped. A stop-gradient node's tangent is 0.
  ///
  /// A given node is perturbed in place, like `node.gradient` is ∂L/∂node with the node's
  /// value perturbed in place: its tangent is the one given plus, for an op node, whatever
  /// flows into it from earlier given nodes. With leaves alone (the usual case) that is the
  /// plain JVP; in every case ⟨u, jvp⟩ = Σᵢ ⟨∂⟨u, output⟩/∂xᵢ, vᵢ⟩ with the gradients that
  /// `backward(from:seed: u)` leaves in the given nodes (`checkForwardMode` tests exactly this).
  /// Any node may be given, a constant too (backward has no gradient for it; forward mode
  /// moves it all the same). Values are assumed current, as for `backward`: call `forward()`
  /// first after feeding new inputs. The graph is not changed.
  ///
  /// - Parameters:
  ///   - output: The node whose tangent is returned; any shape.
  ///   - nodes: The nodes moved, each at most once, all from this graph.
  ///   - tangents: One tangent per node, in the node's shape.
  /// - Returns: J·v, in the shape of `output`; zeros when `output` depends on no given node.
  public func jvp(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], tangents: [Tensor<Scalar>]
  ) -> Tensor<Scalar> {
    forwardTangents(of: output, withRespectTo: nodes, tangents: tangents, pass: "jvp")[output.id]
      ?? Tensor.zeros(values[output.id].shape)
  }

  /// The Jacobian-vector product for one moved node: `jvp(of: output, withRespectTo: [node],
  /// tangents: [tangent])`.
  /// - Parameters:
  ///   - output: The node whose tangent is returned.
  ///   - node: The node moved.
  ///   - tangent: Its tangent, in its shape.
  /// - Returns: J·v, in the shape of `output`.
  public func jvp(
    of output: Node<Scalar>, withRespectTo node: Node<Scalar>, tangent: Tensor<Scalar>
  ) -> Tensor<Scalar> {
    jvp(of: output, withRespectTo: [node], tangents: [tangent])
  }

  /// The Jacobian of `output` with respect to `nodes`, as a matrix of shape
  /// [outputCount, inputCount].
  ///
  /// Rows follow the output's elements in row-major order; columns follow the given nodes'
  /// elements, the nodes in the order given and each node's elements in row-major order:
  /// J[i, j] = ∂ outputᵢ / ∂ xⱼ, with x the given nodes' elements laid end to end. `.reverse`
  /// builds it by rows — row i is the gradient of outputᵢ, one `backward(from:seed:)` with
  /// the one-hot seed eᵢ — and `.forward` by columns — column j is `jvp` with the one-hot
  /// tangent eⱼ. The two give the same matrix (up to rounding; a test pins them together).
  /// The graph's node gradients and its parameters' accumulated gradients are left as they
  /// were. Values are assumed current, as for `backward`.
  ///
  /// - Parameters:
  ///   - output: The node differentiated; any shape.
  ///   - nodes: The nodes differentiated against, each at most once; each must have a
  ///     gradient (`requiresGradient`), so that both modes mean the same thing.
  ///   - mode: `.reverse` (default) or `.forward`.
  /// - Returns: J, shape [output.count, Σ node counts].
  public func jacobian(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], mode: JacobianMode = .reverse
  ) -> Tensor<Scalar> {
    requireForwardModeNodes(output: output, nodes: nodes, pass: "jacobian")
    for node in nodes {
      require(
        node.requiresGradient,
        "jacobian: no gradient is computed for \(node.label) (a constant, an input made with "
          + "requiresGradient: false, a frozen parameter, or an op on such nodes only)")
    }
    let outputShape = values[output.id].shape
    let outputCount = values[output.id].count
    let counts = nodes.map { values[$0.id].count }
    let inputCount = counts.reduce(0, +)
    var result = Tensor<Scalar>.zeros([outputCount, inputCount])
    switch mode {
    case .reverse:
      let rows = withGradientsRestored {
        (0..<outputCount).map { row -> [Scalar] in
          var seed = Tensor<Scalar>.zeros(outputShape)
          seed.scalars[row] = 1
          backward(from: output, seed: seed)
          return nodes.flatMap { (gradients[$0.id] ?? Tensor.zeros(values[$0.id].shape)).scalars }
        }
      }
      for (row, scalars) in rows.enumerated() {
        result.scalars.replaceSubrange(
          (row * inputCount)..<((row + 1) * inputCount), with: scalars)
      }
    case .forward:
      var column = 0
      for index in nodes.indices {
        for element in 0..<counts[index] {
          let oneHot = nodes.indices.map { other in
            var tangent = Tensor<Scalar>.zeros(values[nodes[other].id].shape)
            if other == index { tangent.scalars[element] = 1 }
            return tangent
          }
          let tangent = jvp(of: output, withRespectTo: nodes, tangents: oneHot)
          for row in 0..<outputCount {
            result.scalars[row * inputCount + column] = tangent.scalars[row]
          }
          column += 1
        }
      }
    }
    return result
  }

  // MARK: The forward-mode pass

  /// Every node's tangent, from 0 to `output` (`nil`: zero, the node depends on no given
  /// node), for the moves `tangents` of `nodes`. `pass` names the caller in messages.
  func forwardTangents(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], tangents: [Tensor<Scalar>],
    pass: String
  ) -> [Tensor<Scalar>?] {
    requireForwardModeNodes(output: output, nodes: nodes, pass: pass)
    require(
      tangents.count == nodes.count,
      "\(pass): \(tangents.count) tangents for \(nodes.count) nodes; give one per node")
    var given = [Int: Tensor<Scalar>]()
    for (index, (node, tangent)) in zip(nodes, tangents).enumerated() {
      let shape = values[node.id].shape
      require(
        tangent.shape == shape,
        "\(pass): tangent \(index) has shape \(tangent.shape), but its node \(node.label) has "
          + "shape \(shape)")
      given[node.id] = tangent
    }
    var result = [Tensor<Scalar>?](repeating: nil, count: output.id + 1)
    guard let first = nodes.map(\.id).min(), first <= output.id else { return result }
    // The forward-mode loop: creation order is a topological order, so every operand's
    // tangent is final when its consumer is reached.
    for id in first...output.id {
      let record = records[id]
      var tangent: Tensor<Scalar>? = nil
      if let operation = record.operation {
        let operandTangents = record.inputs.map { result[$0] }
        if operandTangents.contains(where: { $0 != nil }) {
          let value = operation.jvp(
            record.inputs.map { values[$0] }, output: values[id], tangents: operandTangents)
          require(
            value.shape == values[id].shape,
            "\(operation.name): JVP produced \(value.shape), expected \(values[id].shape)")
          tangent = value
        }
      }
      if let move = given[id] {  // a given node is perturbed in place: its own move adds
        if tangent == nil { tangent = move } else { tangent! += move }
      }
      result[id] = tangent
    }
    return result
  }

  /// Checks the nodes of a forward-mode pass: one graph, no node twice, no placeholder.
  func requireForwardModeNodes(output: Node<Scalar>, nodes: [Node<Scalar>], pass: String) {
    require(output.graph === self, "\(pass): output node from another graph")
    requireNoPlaceholders(pass)
    var seen = Set<Int>()
    for node in nodes {
      require(node.graph === self, "\(pass): node \(node.label) from another graph")
      require(seen.insert(node.id).inserted, "\(pass): node \(node.label) is given twice")
    }
  }

  /// Runs `body` (which may call `backward`), then puts back every node's gradient and every
  /// parameter's accumulated gradient as they were before.
  func withGradientsRestored<Result>(_ body: () -> Result) -> Result {
    let savedGradients = gradients
    let parameters = self.parameters
    let savedParameterGradients = parameters.map(\.gradient)
    defer {
      gradients = savedGradients
      for (parameter, gradient) in zip(parameters, savedParameterGradients) {
        parameter.gradient = gradient
      }
    }
    return body()
  }
}
