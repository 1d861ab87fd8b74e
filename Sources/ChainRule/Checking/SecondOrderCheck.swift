extension Graph {
  /// Checks the node-built second derivatives of the scalar `output` against central
  /// differences of its first-order gradient (PyTorch's `gradgradcheck` idea), along one
  /// direction, and returns a report like `checkGradients`'s.
  ///
  /// With v the direction (one tensor per checked node; random in [−1, 1] when not given):
  /// the analytic side is H·v from `hessianVectorProduct` — reverse over reverse through the
  /// ops' `gradientNodes`, in this graph's scalar type — and the numeric side is the
  /// directional derivative of the gradient, the five-point stencil
  /// `(8(∇L(x + εv) − ∇L(x − εv)) − (∇L(x + 2εv) − ∇L(x − 2εv))) / 12ε` (error O(ε⁴)), with
  /// ∇L the tensor VJPs of `backward(from:)` on a twin of the graph in `Double`. The two
  /// sides share no rule: a wrong node-built VJP, or a wrong f″, shows as a difference. One
  /// Hessian-vector product checks every second derivative that v excites, at any size
  /// (HIPS autograd's `check_grads` to order 2 does the same). Stop-gradient nodes are held at
  /// their values on the numeric side, as their (zero) derivative treats them, and the
  /// checked nodes must be leaves. Pass, fail and vacuous are decided as in
  /// `checkGradients`; the graph is left as it was found (the work happens on copies).
  /// - Parameters:
  ///   - output: A one-element node L.
  ///   - nodes: The leaves whose Hessian is checked; `nil` checks every parameter node.
  ///   - direction: v, one tensor per checked node of its shape; `nil` draws it with `seed`.
  ///   - seed: The seed of the random direction.
  ///   - epsilon: The step ε along v (default 1e-5). The stencil errs by about ε⁴·∂⁵L and
  ///     rounds by about 10⁻¹⁶·|∇L|/ε: on the fuzz's deep chains, whose H·v reaches 10⁷,
  ///     ε = 10⁻⁴ was 39 % off where 10⁻⁵ is within 4·10⁻⁵ and 10⁻⁶ within 4·10⁻⁹.
  ///   - absoluteTolerance: atol (default 1e-6).
  ///   - relativeTolerance: rtol (default 1e-4).
  /// - Returns: Per checked node, H·v against the differences of ∇L.
  public func checkSecondOrderGradients(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>]? = nil,
    direction: [Tensor<Scalar>]? = nil, seed: UInt64 = 0, epsilon: Double = 1e-5,
    absoluteTolerance: Double = 1e-6, relativeTolerance: Double = 1e-4
  ) -> GradientCheckReport {
    require(output.graph === self, "checkSecondOrderGradients: output from another graph")
    requireNoPlaceholders("checkSecondOrderGradients")
    require(epsilon > 0, "checkSecondOrderGradients: epsilon must be positive, got \(epsilon)")
    require(
      values[output.id].count == 1,
      "checkSecondOrderGradients: the output \(output.label) has shape \(output.shape), not "
        + "one element")
    let checked = nodes ?? self.nodes.filter { $0.kind == .parameter }
    for node in checked {
      require(node.graph === self, "checkSecondOrderGradients: \(node.label) from another graph")
      require(
        node.kind != .operation,
        "checkSecondOrderGradients: \(node.label) is an op node; check leaves (inputs, "
          + "parameters, constants)")
    }
    var generator = SplitMix64(seed: seed)
    let v =
      direction
      ?? checked.map { node in
        Tensor(
          shape: node.shape,
          scalars: (0..<node.value.count).map { _ in
            Scalar(generator.nextDouble(in: -1...1))
          })
      }
    require(
      v.count == checked.count && zip(v, checked).allSatisfy { $0.shape == $1.shape },
      "checkSecondOrderGradients: the direction needs one tensor per checked node, of its shape")

    // Analytic: H·v built as nodes on a copy of this graph.
    let copy = twin()
    let products = copy.hessianVectorProduct(
      of: Node(graph: copy, id: output.id),
      withRespectTo: checked.map { Node(graph: copy, id: $0.id) }, vector: v)

    // Numeric: differences of the backward gradient, in Double, on a twin whose checked
    // leaves are inputs.
    let twin = Graph<Double>()
    let checkedIDs = Set(checked.map(\.id))
    for (id, record) in records.enumerated() {
      if let operation = record.operation {
        _ = twin.apply(operation, record.inputs.map { Node(graph: twin, id: $0) })
      } else if checkedIDs.contains(id) {
        _ = twin.input(values[id].converted(to: Double.self))
      } else {
        _ = twin.constant(values[id].converted(to: Double.self))
      }
    }
    let twinNodes = checked.map { Node(graph: twin, id: $0.id) }
    let origins = twinNodes.map(\.value)
    let directions = v.map { $0.converted(to: Double.self) }
    func gradient(at step: Double) -> [Tensor<Double>] {
      for (node, (origin, direction)) in zip(twinNodes, zip(origins, directions)) {
        node.value = origin + direction * step
      }
      for id in twin.nodes.indices
      where twin.records[id].kind == .operation && !(twin.records[id].operation is StopGradient) {
        twin.evaluateInPlace(id)
      }
      twin.backward(from: Node(graph: twin, id: output.id))
      return twinNodes.map(\.gradient)
    }
    let (plus, minus) = (gradient(at: epsilon), gradient(at: -epsilon))
    let (plus2, minus2) = (gradient(at: 2 * epsilon), gradient(at: -2 * epsilon))
    let entries = checked.indices.map { k in
      let numeric = ((plus[k] - minus[k]) * 8 - (plus2[k] - minus2[k])) * (1 / (12 * epsilon))
      return GradientCheckReport.Entry(
        node: checked[k].id, label: "H·v for \(checked[k].label)",
        analytic: products[k].value.converted(to: Double.self), numeric: numeric,
        absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance)
    }
    return GradientCheckReport(
      output: "∇²\(output.label)·v", dtypeName: Scalar.dtypeName, epsilon: epsilon,
      absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance,
      entries: entries)
  }
}
