/// The identity in the forward pass that passes no gradient back (PyTorch's `detach`, JAX's
/// `stop_gradient`): the value is used as a constant.
///
/// y = x;  x̄ = 0 — by definition, not by differentiating y = x: L is differentiated as if
/// y were a constant holding the current value of x. So ∂/∂x of x · sg(x) is sg(x) = x, not
/// 2x. The gradient checks differentiate numerically in the same sense: a central difference
/// holds every stop-gradient node at its value (`Graph.checkGradients`). Unlike `detach`, the
/// node stays on its operand's path in the graph's bookkeeping (`requiresGradient` follows the
/// operand) and passes back zeros.
public struct StopGradient: CatalogedOperation {
  public var name: String { "stopGradient" }
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0]
  }

  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    output.withUnsafeMutableBufferPointer { y in
      inputs[0].scalars.withUnsafeBufferPointer { x in
        for i in x.indices { y[i] = x[i] }
      }
    }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [Tensor.zeros(inputs[0].shape)]
  }

  /// None: by definition no gradient passes (x̄ = 0).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [nil]
  }

  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {}  // adds 0

  /// ẏ = 0: the value is used as a constant, in forward mode as in reverse (JAX's
  /// `stop_gradient` has a zero tangent too).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String { "0" }

  public static let checks = [
    OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].stopGradient() },
    OperationCheck("scalar []", [[]]) { _, x in x[0].stopGradient() },
  ]
}

extension Node {
  /// The same value, used as a constant by backward: no gradient flows through to `self`.
  public func stopGradient() -> Node { graph.apply(StopGradient(), [self]) }
}
