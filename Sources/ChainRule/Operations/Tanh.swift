/// Element-wise hyperbolic tangent.
///
/// y = tanh x;  dy/dx = 1 − tanh²x = 1 − y²;  x̄ = ȳ · (1 − y²).
public struct Tanh: UnaryElementwise, CatalogedOperation {
  public var name: String { "tanh" }
  public init() {}

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.tanh(x) }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 - y * y }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1 − \(output)²"
  }

  // The training path: in place, specialised so that the loop inlines the scalar rule.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    forwardElementwise(inputs[0], into: &output)
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    accumulateElementwise(inputs[0], output: output, gradient: gradient, into: &gradients[0])
  }

  public static let checks = [OperationCheck("matrix [2, 3]", [[2, 3]]) { _, x in x[0].tanh() }]
}

extension Node {
  /// Element-wise hyperbolic tangent.
  public func tanh() -> Node { graph.apply(Tanh(), [self]) }
}
