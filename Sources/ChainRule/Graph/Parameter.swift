/// A trainable tensor that belongs to a model, not to one graph.
///
/// A graph refers to a parameter through a parameter node; every backward pass that reaches
/// that node adds its gradient into `gradient` (as `.grad` accumulates in PyTorch) until an
/// optimizer or `zeroGradient()` clears it. The same parameter can therefore be used in a
/// fresh graph per training step or in one graph that is re-run.
public final class Parameter<Scalar: TensorScalar> {
  /// A readable name, e.g. `"layer0.weight"`.
  public var name: String
  /// The current value; optimizers update it in place.
  public var value: Tensor<Scalar>
  /// ∂L/∂value accumulated over the backward passes since the last `zeroGradient()`.
  public var gradient: Tensor<Scalar>

  /// Creates a parameter with the given initial value and a zero gradient.
  public init(_ value: Tensor<Scalar>, name: String) {
    self.name = name
    self.value = value
    self.gradient = Tensor.zeros(value.shape)
  }

  /// Resets the accumulated gradient to zeros.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func zeroGradient() {
    if gradient.shape == value.shape {
      gradient.fill(with: 0)
    } else {
      gradient = Tensor.zeros(value.shape)
    }
  }
}
