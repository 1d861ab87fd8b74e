/// Second derivatives built from `gradients(of:withRespectTo:seed:)`, reverse over reverse:
/// Hessian-vector products without forming the matrix, and the dense Hessian of small inputs.
extension Graph {
  /// H·v, the Hessian of the scalar `output` with respect to `nodes` applied to `vector`,
  /// built as nodes, without an n × n matrix.
  ///
  /// With g = ∇L (the gradient nodes of `gradients(of:withRespectTo:)`) and s = Σₖ ⟨gₖ, vₖ⟩,
  /// ∇s = ∇(vᵀ∇L) = H·v (v held fixed; H symmetric for a twice continuously differentiable L),
  /// so one more reverse pass over the gradient graph gives H·v at about the cost of two
  /// gradients (Pearlmutter 1994). The nodes re-evaluate with `forward()`: set new values of
  /// the vector's nodes (inputs, say) to get H·v for another v. The part of a named node `w`
  /// is named `(∇²L·v)[w]`. Where ∇L is already built, pass it as `gradients`: it is reused,
  /// not built a second time. The second pass starts from ones, whose products vanish, so
  /// the gradient of each ⟨gₖ, vₖ⟩ reaches gₖ as vₖ itself.
  /// - Parameters:
  ///   - output: A one-element node L.
  ///   - nodes: The nodes x₁, …, xₘ; the Hessian is taken over all their elements together.
  ///   - vector: One node vₖ per node xₖ, of its shape.
  ///   - firstOrder: ∇L as already built by `gradients(of: output, withRespectTo: nodes)`, to
  ///     be reused rather than built a second time; `nil` (the default) builds it here.
  /// - Returns: One node (H·v)ₖ per node xₖ, of its shape.
  public func hessianVectorProduct(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], vector: [Node<Scalar>],
    gradients firstOrder: [Node<Scalar>]? = nil
  ) -> [Node<Scalar>] {
    require(
      output.graph === self && values[output.id].count == 1,
      "hessianVectorProduct: the output \(output.label) must be a one-element node of this "
        + "graph (shape \(output.shape))")
    require(
      vector.count == nodes.count,
      "hessianVectorProduct: \(vector.count) vector parts for \(nodes.count) nodes")
    for (node, part) in zip(nodes, vector) {
      require(part.graph === self, "hessianVectorProduct: \(part.label) is from another graph")
      require(
        part.shape == node.shape,
        "hessianVectorProduct: the vector part \(part.label) has shape \(part.shape), but "
          + "\(node.label) has \(node.shape)")
    }
    if let firstOrder {
      require(
        firstOrder.count == nodes.count,
        "hessianVectorProduct: \(firstOrder.count) gradients for \(nodes.count) nodes")
      for (node, gradient) in zip(nodes, firstOrder) {
        require(
          gradient.graph === self && gradient.shape == node.shape,
          "hessianVectorProduct: the gradient \(gradient.label) (shape \(gradient.shape)) is not "
            + "∂\(output.label)/∂\(node.label) of this graph (shape \(node.shape))")
      }
    }
    let firstOrder = firstOrder ?? gradients(of: output, withRespectTo: nodes)
    let start = records.count
    var product: Node<Scalar>?
    for (gradient, part) in zip(firstOrder, vector) {
      let term = (gradient * part).sum()
      product = product.map { $0 + term } ?? term
    }
    guard let product else { return [] }
    setDerivativeOrder(firstOrder.map(\.derivativeOrder).max() ?? 1, fromNode: start)
    product.named("vᵀ∇\(output.label)")
    let secondStart = records.count
    let results = gradients(of: product, withRespectTo: nodes)
    for (node, result) in zip(nodes, results) where result.id >= secondStart {
      if let name = node.name { rename(result.id, to: "(∇²\(output.label)·v)[\(name)]") }
    }
    return results
  }

  /// H·v for a vector of fixed values: each part becomes a constant node.
  /// - Parameters:
  ///   - output: A one-element node L.
  ///   - nodes: The nodes x₁, …, xₘ.
  ///   - vector: One tensor vₖ per node xₖ, of its shape.
  ///   - firstOrder: ∇L as already built by `gradients(of: output, withRespectTo: nodes)`, to
  ///     be reused; `nil` (the default) builds it here.
  /// - Returns: One node (H·v)ₖ per node xₖ, of its shape.
  public func hessianVectorProduct(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>], vector: [Tensor<Scalar>],
    gradients firstOrder: [Node<Scalar>]? = nil
  ) -> [Node<Scalar>] {
    hessianVectorProduct(
      of: output, withRespectTo: nodes, vector: vector.map { constant($0) },
      gradients: firstOrder)
  }

  /// The largest element count n accepted by `hessian(of:withRespectTo:)`: its n reverse
  /// passes over an n × n result grow as n², and beyond a few thousand elements
  /// `hessianVectorProduct` is the tool.
  public static var hessianElementLimit: Int { 2_048 }

  /// The dense Hessian H[i, j] = ∂²L/∂xᵢ∂xⱼ of the scalar `output` over every element of
  /// `nodes` (flattened in order, each row-major), as an [n, n] tensor, for small inputs.
  ///
  /// Built once, on a copy of the graph (this graph gains no nodes): the Hessian-vector
  /// product nodes of `hessianVectorProduct`, re-evaluated n times with v = e₁, …, eₙ; column
  /// j is H·eⱼ. Values are taken as they are now (call `forward()` first after new inputs).
  /// - Parameters:
  ///   - output: A one-element node L.
  ///   - nodes: The nodes x₁, …, xₘ, n elements together.
  /// - Returns: H, shape [n, n].
  /// - Precondition: n ≤ `hessianElementLimit`.
  public func hessian(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>]
  ) -> Tensor<Scalar> {
    require(output.graph === self, "hessian: the output \(output.label) is from another graph")
    requireNoPlaceholders("hessian")
    for node in nodes {
      require(node.graph === self, "hessian: the node \(node.label) is from another graph")
    }
    let counts = nodes.map { values[$0.id].count }
    let n = counts.reduce(0, +)
    require(
      n <= Self.hessianElementLimit,
      "hessian: \(n) elements exceed the limit of \(Self.hessianElementLimit) for a dense "
        + "Hessian; use hessianVectorProduct(of:withRespectTo:vector:)")
    let copy = twin()
    let copyNodes = nodes.map { Node(graph: copy, id: $0.id) }
    let vector = nodes.map { copy.input(Tensor.zeros(values[$0.id].shape)) }
    let products = copy.hessianVectorProduct(
      of: Node(graph: copy, id: output.id), withRespectTo: copyNodes, vector: vector)
    var result = Tensor<Scalar>.zeros([n, n])
    var column = 0
    for (part, count) in zip(vector, counts) {
      for element in 0..<count {
        var unit = Tensor<Scalar>.zeros(part.shape)
        unit.scalars[element] = 1
        part.value = unit
        copy.forward()
        var row = 0
        for product in products {
          for value in product.value.scalars {
            result.scalars[row * n + column] = value
            row += 1
          }
        }
        column += 1
        part.value = Tensor.zeros(part.shape)
      }
    }
    return result
  }

  /// The same graph, node for node (same ids), with every leaf a constant holding its
  /// current value: differentiated or re-evaluated without touching this graph.
  func twin() -> Graph<Scalar> {
    let copy = Graph<Scalar>()
    for (id, record) in records.enumerated() {
      if let operation = record.operation {
        _ = copy.apply(
          operation, record.inputs.map { Node(graph: copy, id: $0) }, name: record.name)
      } else {
        _ = copy.constant(values[id], name: label(of: id))
      }
    }
    return copy
  }
}
