/// The VJP of an element-wise op as a node of its own: g = ȳ · f′(x), formed exactly as the
/// training path forms it, so that a gradient built as graph nodes has the same numbers as
/// `backward(from:)` and can be differentiated again.
///
/// Operands x, y = f(x) (the forward node itself, not a recomputation) and ȳ, all of one
/// shape; g = `op.inputGradient(x: x, y: y, gradient: ȳ)` element by element, bit for bit the
/// training path's x̄ — log's ȳ/x, tanh's and sigmoid's tails, exp's ȳ = 0 at y = ∞ included.
///
/// y is there to be read, not differentiated: it is f(x) by construction, so g is a function
/// of x and ȳ, with ∂g/∂x = ȳ · f″(x) (the total derivative, through y too) and ∂g/∂ȳ = f′(x).
/// y gets no share (as an index operand gets none), which counts the path through y once.
/// With u = ∂L/∂g: x̄ = u · ȳ · f″(x) (`UnaryElementwise.secondDerivative(x:y:)`, built from
/// catalog ops on the existing x and y nodes; none where f″ = 0) and ȳ̄ = u · f′(x) — this op
/// again, on (x, y, u). Every order of derivative is therefore made of this op, f″'s nodes
/// and products. Forward mode: ġ = ȳ · f″(x) · ẋ + f′(x) · ȳ̇ (ẏ is not read, for the same
/// reason).
struct ElementwiseGradient<Op: UnaryElementwise>: DifferentiableOperation {
  /// The element-wise op differentiated.
  let op: Op
  var name: String { "\(op.name)′" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard operands.count == 3, operands[1].shape == operands[0].shape,
      operands[2].shape == operands[0].shape
    else {
      throw ShapeError(
        "\(name): the operand, its value and the gradient must share one shape, got "
          + operands.map(\.text).joined(separator: ", "))
    }
    return operands[0].shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (x, y, g) = (inputs[0].scalars, inputs[1].scalars, inputs[2].scalars)
    var result = [Scalar](repeating: 0, count: x.count)
    for i in x.indices { result[i] = op.inputGradient(x: x[i], y: y[i], gradient: g[i]) }
    return Tensor(shape: inputs[0].shape, scalars: result)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (x, y) = (inputs[0], inputs[1])
    let gradientX =
      secondDerivativeValues(x, y).map { (gradient * inputs[2]) * $0 } ?? Tensor.zeros(x.shape)
    return [gradientX, Tensor.zeros(y.shape), forward([x, y, gradient])]
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (x, y, incoming) = (inputs[0], inputs[1], inputs[2])
    let gradientX =
      needs[0] ? op.secondDerivative(x: x, y: y).map { (gradient * incoming) * $0 } : nil
    let gradientIncoming = needs[2] ? x.graph.apply(self, [x, y, gradient]) : nil
    return [gradientX, nil, gradientIncoming]
  }

  /// ġ = ȳ · f″(x) · ẋ + f′(x) · ȳ̇.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let (x, y) = (inputs[0], inputs[1])
    var result = tangents[2].map { forward([x, y, $0]) } ?? Tensor.zeros(x.shape)
    if let tangentX = tangents[0], let second = secondDerivativeValues(x, y) {
      result += (inputs[2] * second) * tangentX
    }
    return result
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    switch input {
    case 0: "\(operands[2])·f″(\(operands[0]))"
    case 1: "0"
    default: op.derivativeFormula(input: 0, operands: [operands[0]], output: operands[1])
    }
  }

  /// f″(x) as numbers, from the same nodes the node-built rule uses (evaluated on a scratch
  /// graph), so the rule is written once; `nil` where the op states f″ = 0.
  private func secondDerivativeValues<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, _ y: Tensor<Scalar>
  ) -> Tensor<Scalar>? {
    let scratch = Graph<Scalar>()
    let second = op.secondDerivative(x: scratch.constant(x), y: scratch.constant(y))
    return second.map { $0.value.broadcasted(to: x.shape) }
  }
}
