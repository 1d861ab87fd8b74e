/// A trainable tensor that belongs to a model, not to one graph.
///
/// A graph refers to a parameter through a parameter node; every backward pass that reaches
/// that node adds its gradient into `gradient` (as `.grad` accumulates in PyTorch) until an
/// optimizer or `zeroGradient()` clears it. The same parameter can therefore be used in a
/// fresh graph per training step or in one graph that is re-run.
///
/// As in PyTorch, where `zero_grad()` sets `.grad` to `None`, a parameter that no backward pass
/// reached since `zeroGradient()` has no gradient (`hasGradient` is false), and optimizers
/// leave it — and their state for it — untouched. A frozen parameter (`isFrozen`) gets no
/// gradient at all: graphs skip every product that would only serve it.
///
/// A parameter belongs to one thread at a time (it is not `Sendable`). Its storage is read and
/// written on every training step by graphs and optimizers in short, non-overlapping accesses,
/// so the dynamic exclusivity check (a measurable share of a small network's step) is turned
/// off for it: as for any class, do not mutate a parameter from inside a closure that is
/// already mutating it (`withUnsafeMutableBufferPointer` on its `value`).
public final class Parameter<Scalar: TensorScalar> {
  /// A readable name, e.g. `"layer0.weight"`.
  public var name: String
  /// The current value; optimizers update it in place.
  @exclusivity(unchecked) public var value: Tensor<Scalar>
  /// ∂L/∂value accumulated over the backward passes since the last `zeroGradient()`.
  /// Setting it (a backward pass adds into it) marks the parameter as having a gradient.
  @exclusivity(unchecked) public var gradient: Tensor<Scalar> {
    didSet { hasGradient = true }
  }
  /// Whether a backward pass (or an assignment to `gradient`) has given this parameter a
  /// gradient since it was created or last cleared by `zeroGradient()`; optimizers update only
  /// parameters that have one.
  @exclusivity(unchecked) public private(set) var hasGradient = false
  /// Whether the parameter is frozen: backward passes compute no gradient for it (in graphs
  /// built before or after the change) and optimizers do not move it, like
  /// `requires_grad = False` in PyTorch.
  @exclusivity(unchecked) public var isFrozen = false

  /// Creates a parameter with the given initial value and a zero gradient.
  public init(_ value: Tensor<Scalar>, name: String) {
    self.name = name
    self.value = value
    self.gradient = Tensor.zeros(value.shape)
  }

  /// gradient += g for a buffer g of `shape`, element by element as `+=` adds (the planned
  /// backward's publication, without a tensor around g).
  func accumulateGradient(_ g: UnsafePointer<Scalar>, shape: [Int]) {
    require(gradient.shape == shape, "+=: shapes \(gradient.shape) and \(shape) differ")
    gradient.withUnsafeMutableBufferPointer { x in
      for i in x.indices { x[i] += g[i] }
    }
  }

  /// Resets the accumulated gradient to zeros, and `hasGradient` to false.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func zeroGradient() {
    if gradient.shape == value.shape {
      gradient.fill(with: 0)
    } else {
      gradient = Tensor.zeros(value.shape)
    }
    hasGradient = false
  }
}
