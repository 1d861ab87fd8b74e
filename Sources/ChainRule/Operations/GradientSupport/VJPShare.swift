/// An op whose tensor VJP is careful at the extremes (a fallback where a product overflows,
/// PyTorch's conventions at 0, a cancellation-free difference) and whose VJP written with
/// catalog ops is the plain formula: its gradient built as nodes is `VJPShare` nodes, whose
/// numbers are the careful `vjp`'s, differentiated again through the plain formula.
protocol CarefulVJP: DifferentiableOperation {
  /// The VJP's plain formula as nodes — the textbook ā, b̄ without the extremes' care — which
  /// gives `VJPShare`'s own derivatives (the second order). Same contract as `gradientNodes`.
  func plainGradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?]
}

extension CarefulVJP {
  /// One `VJPShare` node per needed operand: the careful tensor VJP's shares, as nodes.
  func shareNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    inputs.indices.map { slot in
      needs[slot]
        ? output.graph.apply(
          VJPShare(op: self, slot: slot, operandCount: inputs.count), inputs + [output, gradient])
        : nil
    }
  }
}

/// One share of a careful op's VJP as a node of its own: x̄ₖ = `op.vjp(x, y, ȳ)[k]`, summed
/// back to xₖ's shape — the training path's numbers bit for bit, extremes included — and
/// differentiable again through the op's plain formula (`CarefulVJP.plainGradientNodes`).
///
/// Operands: the op's operands x₁, …, xₙ, its output y = f(x) and ȳ. The share is a function
/// of all n + 2 (y is read, as Divide's b̄ = −ȳ·y/b reads it), and its derivatives are the
/// partial derivatives of the plain formula pₖ(x, y, ȳ), each operand an independent variable:
/// with u = ∂L/∂x̄ₖ, operand j gets ∂⟨u, pₖ⟩/∂operandⱼ. The path from xᵢ through y is not
/// counted here: the builder sends y's share on through f's own VJP, so the total is
/// the chain rule's. These are built by the gradient builder itself, on the plain formula's
/// nodes, stopping at the operands (`Graph.gradientNodes(…, stoppingAt:)`); the tensor VJP
/// and the JVP evaluate the same nodes on a scratch graph, so the rule is written once, in the
/// op's file. Where the careful and the plain formula part (b̄ when ȳ·y overflows; a = 0 in
/// pow) the second order is the plain formula's, NaN where that has 0·∞.
/// An operand used twice (x ^ x) gets its whole partial in its first slot, the other none;
/// the builder adds the slots, so the sum is the same.
struct VJPShare<Op: CarefulVJP>: DifferentiableOperation {
  /// The careful op.
  let op: Op
  /// The operand whose share this is.
  let slot: Int
  /// The op's own operand count n (the node has n + 2).
  let operandCount: Int
  var name: String { "\(op.name)′[\(slot)]" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard operands.count == operandCount + 2 else {
      throw ShapeError(
        "\(name): needs the op's \(operandCount) operands, its output and its gradient, got "
          + "\(operands.count) operands")
    }
    return operands[slot].shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let n = operandCount
    let shares = op.vjp(Array(inputs[..<n]), output: inputs[n], gradient: inputs[n + 1])
    return shares[slot].summed(toShape: inputs[slot].shape)
  }

  /// The plain share pₖ built on `inputs` (n operands, y, ȳ), summed back to xₖ's shape.
  private func plainShare<Scalar: TensorScalar>(_ inputs: [Node<Scalar>]) -> Node<Scalar>? {
    let n = operandCount
    let needs = (0..<n).map { $0 == slot }
    return op.plainGradientNodes(
      Array(inputs[..<n]), output: inputs[n], gradient: inputs[n + 1], needs: needs)[slot]?
      .summed(toShape: inputs[slot].shape)
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard let plain = plainShare(inputs) else { return inputs.map { _ in nil } }
    let wanted = inputs.indices.filter { needs[$0] && inputs.firstIndex(of: inputs[$0]) == $0 }
    let shares = output.graph.gradientNodes(
      of: plain, withRespectTo: wanted.map { inputs[$0] }, seed: gradient, stoppingAt: inputs)
    var result = [Node<Scalar>?](repeating: nil, count: inputs.count)
    for (slot, share) in zip(wanted, shares) { result[slot] = share }
    return result
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let scratch = Graph<Scalar>()
    let operands = inputs.map { scratch.input($0) }
    guard let plain = plainShare(operands) else { return inputs.map { Tensor.zeros($0.shape) } }
    let shares = scratch.gradientNodes(
      of: plain, withRespectTo: operands, seed: scratch.constant(gradient), stoppingAt: operands)
    return zip(shares, inputs).map { share, input in share?.value ?? Tensor.zeros(input.shape) }
  }

  /// The share's tangent Σⱼ ∂pₖ/∂operandⱼ · (operand j's tangent): forward mode on the plain
  /// formula's nodes.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let scratch = Graph<Scalar>()
    let operands = inputs.map { scratch.input($0) }
    guard let plain = plainShare(operands) else { return Tensor.zeros(output.shape) }
    let moved = inputs.indices.filter { tangents[$0] != nil }
    return scratch.jvp(
      of: plain, withRespectTo: moved.map { operands[$0] }, tangents: moved.map { tangents[$0]! })
  }

  /// ∂(ȳ · ∂y/∂xₖ)/∂operand, in the op's own notation for ∂y/∂xₖ.
  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let n = operandCount
    let local = op.derivativeFormula(
      input: slot, operands: Array(operands[..<n]), output: operands[n])
    return "∂(\(operands[n + 1])·\(local))/∂\(operands[input])"
  }
}
