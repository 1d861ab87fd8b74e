/// The VJP of an element-wise op as a node of its own: g = ȳ · f′(x), formed exactly as the
/// training path forms it, so that a gradient built as graph nodes has the same numbers as
/// `backward(from:)` and can be differentiated again.
///
/// Operands x and ȳ (same shape); g = `op.inputGradient(x: x, y: f(x), gradient: ȳ)` element
/// by element, bit for bit the training path's x̄ — log's ȳ/x, tanh's and sigmoid's tails,
/// exp's ȳ = 0 at y = ∞ included (y = f(x) is recomputed with the same scalar rule).
///
/// Its own derivatives: ∂g/∂x = ȳ · f″(x) and ∂g/∂ȳ = f′(x), so with u = ∂L/∂g
/// x̄ = u · ȳ · f″(x) (`UnaryElementwise.secondDerivative(x:y:)`, built from catalog ops; none
/// where f″ = 0) and ȳ̄ = u · f′(x) — this op again, on (x, u). Every order of derivative is
/// therefore made of this op, f″'s nodes and products.
/// Forward mode: ġ = ȳ · f″(x) · ẋ + f′(x) · ȳ̇.
struct ElementwiseGradient<Op: UnaryElementwise>: DifferentiableOperation {
  /// The element-wise op differentiated.
  let op: Op
  var name: String { "\(op.name)′" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard operands[0].shape == operands[1].shape else {
      throw ShapeError(
        "\(name): the operand \(operands[0].text) and the gradient \(operands[1].text) differ in "
          + "shape")
    }
    return operands[0].shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (x, g) = (inputs[0].scalars, inputs[1].scalars)
    var result = [Scalar](repeating: 0, count: x.count)
    for i in x.indices { result[i] = op.inputGradient(x: x[i], y: op.apply(x[i]), gradient: g[i]) }
    return Tensor(shape: inputs[0].shape, scalars: result)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0]
    let gradientX =
      secondDerivativeValues(x).map { (gradient * inputs[1]) * $0 } ?? Tensor.zeros(x.shape)
    return [gradientX, forward([x, gradient])]
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (x, incoming) = (inputs[0], inputs[1])
    let graph = x.graph
    let gradientX =
      needs[0]
      ? op.secondDerivative(x: x, y: graph.apply(op, [x])).map { (gradient * incoming) * $0 }
      : nil
    let gradientIncoming = needs[1] ? graph.apply(self, [x, gradient]) : nil
    return [gradientX, gradientIncoming]
  }

  /// ġ = ȳ · f″(x) · ẋ + f′(x) · ȳ̇.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let x = inputs[0]
    var result = tangents[1].map { forward([x, $0]) } ?? Tensor.zeros(x.shape)
    if let tangentX = tangents[0], let second = secondDerivativeValues(x) {
      result += (inputs[1] * second) * tangentX
    }
    return result
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let first = op.derivativeFormula(input: 0, operands: [operands[0]], output: "f(\(operands[0]))")
    return input == 0 ? "\(operands[1])·f″(\(operands[0]))" : first
  }

  /// f″(x) as numbers, from the same nodes the node-built rule uses (evaluated on a scratch
  /// graph), so the rule is written once; `nil` where the op states f″ = 0.
  private func secondDerivativeValues<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar>?
  {
    let scratch = Graph<Scalar>()
    let xNode = scratch.constant(x)
    let second = op.secondDerivative(x: xNode, y: scratch.apply(op, [xNode]))
    return second.map { $0.value.broadcasted(to: x.shape) }
  }
}
