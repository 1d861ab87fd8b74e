/// One differentiable operation: its forward pass and its vector-Jacobian product (VJP), side
/// by side, as in micrograd.
///
/// For `y = f(x₁, …, xₙ)` and the gradient `ȳ = ∂L/∂y` arriving from the loss, the VJP returns
/// `x̄ᵢ = ∂L/∂xᵢ = ȳ · ∂y/∂xᵢ` for every operand: the chain rule applied at one node.
/// Element-wise ops may return an operand's gradient in the broadcast output shape; the graph
/// sums it back to the operand's shape in one place (`Tensor.summed(toShape:)`).
public protocol DifferentiableOperation: Sendable {
  /// Short lowercase name used in messages and drawings: `"matmul"`, `"tanh"`.
  var name: String { get }

  /// Checks the operands' shapes and returns the output's shape.
  /// - Throws: `ShapeError` naming the op, the operands and their shapes.
  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int]

  /// y = f(x₁, …, xₙ).
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar>

  /// x̄ᵢ = ȳ · ∂y/∂xᵢ for each input, given the forward values and ȳ.
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>]

  /// x̄ᵢ = ȳ · ∂y/∂xᵢ built from graph ops, for every operand i with `needs[i]`: the same rule
  /// as `vjp`, but as new nodes of the graph that holds `inputs`, `output` and `gradient`, so
  /// a gradient can be drawn, computed on and differentiated again. `nil` where `needs[i]` is
  /// false or the operand takes no gradient (labels, indices). A share may have the broadcast
  /// output shape, as in `vjp`; the caller sums it back to the operand's shape. The default
  /// (an op that has no such rule) stops with a message naming the op; the library's callers
  /// and tests reach it through `nodeBuiltVJP`, which reports it as a `MissingRule` error.
  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?]

  /// ẏ = Σᵢ ∂y/∂xᵢ · ẋᵢ, the Jacobian-vector product of forward mode, given the forward
  /// values and one tangent per operand in the operand's shape (`nil`: zero). Returns the
  /// output's tangent in the output's shape. The default (an op that has no such rule) stops
  /// with a message naming the op; tests reach it through `forwardModeRule`, which reports it
  /// as a `MissingRule` error.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar>

  /// The local derivative ∂y/∂xᵢ written with the operands' and the output's names, for
  /// drawings and explanations: `"1 − a²"` for `a = tanh(z)`.
  func derivativeFormula(input: Int, operands: [String], output: String) -> String

  /// Writes y into `output`, which already has the output's shape: its storage is reused from
  /// run to run. The default calls `forward(_:)`; hot ops write in place.
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>)

  /// Adds x̄ᵢ — summed back to operand i's shape — into `gradients[i]` for every i with
  /// `needs[i]`, leaving the others untouched. The default calls `vjp`; hot ops accumulate in
  /// place and skip the operands that need no gradient.
  func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool])
}

extension DifferentiableOperation {
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let missing = MissingRule(op: name, rule: .nodeBuiltVJP)
    guard let probe = MissingRule.probe else { requirementFailure(missing.description) }
    probe.found = missing
    return inputs.map { _ in nil }
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let missing = MissingRule(op: name, rule: .jvp)
    guard let probe = MissingRule.probe else { requirementFailure(missing.description) }
    probe.found = missing
    return Tensor.zeros(output.shape)
  }

  /// `gradientNodes`, or a `MissingRule` error where the op has none (the protocol's default):
  /// how `Graph.gradients(of:withRespectTo:seed:)` and the tests ask for the rule, so that a
  /// missing one is a named failure, not a stopped test run.
  func nodeBuiltVJP<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) throws(MissingRule) -> [Node<Scalar>?] {
    let probe = MissingRule.Probe()
    let shares = MissingRule.$probe.withValue(probe) {
      gradientNodes(inputs, output: output, gradient: gradient, needs: needs)
    }
    if let missing = probe.found { throw missing }
    return shares
  }

  /// `jvp`, or a `MissingRule` error where the op has none (the protocol's default).
  func forwardModeRule<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) throws(MissingRule) -> Tensor<Scalar> {
    let probe = MissingRule.Probe()
    let tangent = MissingRule.$probe.withValue(probe) {
      jvp(inputs, output: output, tangents: tangents)
    }
    if let missing = probe.found { throw missing }
    return tangent
  }

  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    output = forward(inputs)
  }

  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    accumulateThroughVJP(inputs, output: output, gradient: gradient, into: &gradients, needs: needs)
  }

  /// The general accumulation: the allocating `vjp`, each share summed back to its operand's
  /// shape and added.
  public func accumulateThroughVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    let shares = vjp(inputs, output: output, gradient: gradient)
    for slot in gradients.indices where needs[slot] {
      gradients[slot] += shares[slot].summed(toShape: gradients[slot].shape)
    }
  }
}

/// An element-wise function of one tensor whose derivative is a function of `x` and `y`:
/// `x̄ = ȳ · f'(x, y)`. Conforming types write only the two scalar rules.
public protocol UnaryElementwise: DifferentiableOperation {
  /// y = f(x) for one element.
  func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar
  /// dy/dx for one element, from the input and the already computed output.
  func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar
  /// x̄ = ȳ · dy/dx for one element. The default multiplies `derivative(x:y:)` by ȳ; an op
  /// whose derivative can overflow where the product does not (log: 1/x) forms x̄ directly.
  func inputGradient<Scalar: TensorScalar>(x: Scalar, y: Scalar, gradient: Scalar) -> Scalar
  /// f″(x) built from graph ops on the nodes `x` and `y = f(x)`, for gradients built as nodes
  /// (`ElementwiseGradient`); `nil` where f″ = 0 everywhere it exists (relu, step, abs, clamp:
  /// stated conventions). The result may be a scalar node; it broadcasts against x. The
  /// default stops with a message naming the op.
  func secondDerivative<Scalar: TensorScalar>(x: Node<Scalar>, y: Node<Scalar>) -> Node<Scalar>?
}

extension UnaryElementwise {
  public func inputGradient<Scalar: TensorScalar>(
    x: Scalar, y: Scalar, gradient: Scalar
  ) -> Scalar {
    gradient * derivative(x: x, y: y)
  }

  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    requirementFailure(
      "\(name): this op has no second derivative (secondDerivative), so its gradient cannot be "
        + "differentiated again")
  }

  /// x̄ = ȳ · f′(x) as one `ElementwiseGradient` node on (x, y, ȳ), y this op's output node:
  /// the training path's numbers, differentiable again through `secondDerivative(x:y:)`.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    return [gradient.graph.apply(ElementwiseGradient(op: self), [inputs[0], output, gradient])]
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].map { apply($0) }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0].scalars
    let y = output.scalars
    let g = gradient.scalars
    var result = [Scalar](repeating: 0, count: x.count)
    for i in 0..<x.count { result[i] = inputGradient(x: x[i], y: y[i], gradient: g[i]) }
    return [Tensor(shape: output.shape, scalars: result)]
  }
}

/// An element-wise function of two tensors that broadcast like NumPy; `partials` gives
/// (∂y/∂a, ∂y/∂b) for one element. The graph sums each gradient back to its operand's shape.
public protocol BinaryElementwise: DifferentiableOperation {
  /// y = f(a, b) for one pair of elements.
  func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar
  /// (∂y/∂a, ∂y/∂b) for one pair of elements and their output.
  func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (Scalar, Scalar)
  /// (ā, b̄) = (ȳ · ∂y/∂a, ȳ · ∂y/∂b) for one pair of elements. The default multiplies
  /// `partials` by ȳ; an op whose partials can overflow where the products do not (divide:
  /// 1/b, a/b²) forms them directly.
  func inputGradients<Scalar: TensorScalar>(
    _ a: Scalar, _ b: Scalar, y: Scalar, gradient: Scalar
  ) -> (Scalar, Scalar)
}

extension BinaryElementwise {
  public func inputGradients<Scalar: TensorScalar>(
    _ a: Scalar, _ b: Scalar, y: Scalar, gradient: Scalar
  ) -> (Scalar, Scalar) {
    let (da, db) = partials(a, b, y: y)
    return (gradient * da, gradient * db)
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard let shape = Broadcast.shape(operands[0].shape, operands[1].shape) else {
      throw ShapeError.broadcast(op: name, operands[0], operands[1])
    }
    return shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor.zipBroadcast(inputs[0], inputs[1], operation: name) { apply($0, $1) }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let a = inputs[0].broadcasted(to: output.shape).scalars
    let b = inputs[1].broadcasted(to: output.shape).scalars
    let y = output.scalars
    let g = gradient.scalars
    var gradientA = [Scalar](repeating: 0, count: y.count)
    var gradientB = [Scalar](repeating: 0, count: y.count)
    for i in 0..<y.count {
      (gradientA[i], gradientB[i]) = inputGradients(a[i], b[i], y: y[i], gradient: g[i])
    }
    return [
      Tensor(shape: output.shape, scalars: gradientA),
      Tensor(shape: output.shape, scalars: gradientB),
    ]
  }
}

/// An op that lacks one of the optional rules: its node-built VJP (`gradientNodes`, needed to
/// build a gradient as nodes or differentiate it again) or its JVP (`jvp`, for forward mode).
///
/// The protocol's defaults stand for a missing rule. Called directly — as a user's op reaches
/// them from `gradients(of:…)` or `jvp(of:…)` — they stop with `description`, which names the
/// op, in release builds too. Called through `nodeBuiltVJP`/`forwardModeRule`, which set a
/// task-local `probe`, the default records itself there and returns a stand-in (no shares, a
/// zero tangent) that the caller discards, and the call throws this error instead.
struct MissingRule: Error, Equatable, CustomStringConvertible {
  /// Which rule is missing.
  enum Rule: Equatable { case nodeBuiltVJP, jvp }
  /// The op's name.
  let op: String
  let rule: Rule

  var description: String {
    switch rule {
    case .nodeBuiltVJP:
      "\(op): this op has no node-built VJP (gradientNodes), so its gradient cannot be built "
        + "as graph nodes or differentiated again"
    case .jvp: "\(op): this op has no JVP rule, so forward mode cannot pass it"
    }
  }

  /// Where a default records itself while `nodeBuiltVJP` or `forwardModeRule` waits for it:
  /// one probe per call, read and written by that call's thread alone (hence unchecked).
  final class Probe: @unchecked Sendable {
    var found: MissingRule?
  }
  /// The probe of the innermost `nodeBuiltVJP`/`forwardModeRule` call, if any.
  @TaskLocal static var probe: Probe?
}
