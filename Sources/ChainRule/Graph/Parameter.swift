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
/// Clearing is lazy: `zeroGradient()` only marks the stored gradient stale, and the zeros are
/// written when `gradient` is next read or changed in place — or never, when the next backward
/// pass overwrites the buffer anyway (the usual step: clear, forward, backward, update), which
/// saves a pass over every weight per step. What every reader sees is unchanged: zeros.
///
/// A parameter belongs to one thread at a time (it is not `Sendable`). Its storage is read and
/// written on every training step by graphs and optimizers in short, non-overlapping accesses,
/// so the dynamic exclusivity check (a measurable share of a small network's step) is turned
/// off for it: as for any class, do not mutate a parameter from inside a closure that is
/// already mutating it (`withUnsafeMutableBufferPointer` on its `value` or `gradient`).
public final class Parameter<Scalar: TensorScalar> {
  /// A readable name, e.g. `"layer0.weight"`.
  public var name: String
  /// The current value; optimizers update it in place.
  @exclusivity(unchecked) public var value: Tensor<Scalar>
  /// ∂L/∂value accumulated over the backward passes since the last `zeroGradient()` (zeros
  /// after it). Setting it (a backward pass adds into it) marks the parameter as having a
  /// gradient.
  public var gradient: Tensor<Scalar> {
    get {
      writeZerosIfStale()
      return storedGradient
    }
    set {
      storedGradient = newValue
      isGradientStale = false
      hasGradient = true
    }
    _modify {
      writeZerosIfStale()
      defer { hasGradient = true }
      yield &storedGradient
    }
  }
  /// The gradient's storage; while `isGradientStale`, its elements are left from before the
  /// last `zeroGradient()` and stand for zeros.
  @exclusivity(unchecked) private(set) var storedGradient: Tensor<Scalar>
  /// Whether `zeroGradient()` cleared the gradient and its zeros are not written yet.
  @exclusivity(unchecked) private(set) var isGradientStale = false
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
    self.storedGradient = Tensor.zeros(value.shape)
  }

  /// Writes the zeros that a lazy `zeroGradient()` stands for, once, before the stored
  /// gradient is read or changed.
  @inline(__always)
  private func writeZerosIfStale() {
    guard isGradientStale else { return }
    storedGradient.fill(with: 0)
    isGradientStale = false
  }

  /// gradient += g for a buffer g of `shape`, element by element as `+=` adds (the planned
  /// backward's publication, without a tensor around g). After `zeroGradient()` the sum is
  /// 0 + g, written as g + 0 without reading the stale buffer: the same bits (addition is
  /// commutative, and adding +0 turns a −0 into +0 as 0 + g does).
  func accumulateGradient(_ g: UnsafePointer<Scalar>, shape: [Int]) {
    require(storedGradient.shape == shape, "+=: shapes \(storedGradient.shape) and \(shape) differ")
    let overwrites = isGradientStale
    isGradientStale = false
    hasGradient = true
    storedGradient.withUnsafeMutableBufferPointer { x in
      if overwrites {
        for i in x.indices { x[i] = g[i] + 0 }
      } else {
        for i in x.indices { x[i] += g[i] }
      }
    }
  }

  /// The gradient's storage for a backward pass to write this pass's gradient into directly,
  /// when the parameter was cleared (`zeroGradient()`) since its last gradient and the stored
  /// buffer has `shape`; `nil` otherwise. Made unique first (a copy only if a caller kept the
  /// old gradient), and valid until the gradient is next read, set or cleared. The pass must
  /// write every element before it calls `adoptWrittenGradient()`; until then the parameter
  /// still reads as cleared.
  func gradientStorageToOverwrite(shape: [Int]) -> UnsafeMutablePointer<Scalar>? {
    guard isGradientStale, storedGradient.shape == shape else { return nil }
    return storedGradient.withUnsafeMutableBufferPointer { $0.baseAddress }
  }

  /// Ends a direct write (`gradientStorageToOverwrite`): the storage now holds 0 + g, the
  /// gradient of the one pass since the parameter was cleared.
  func adoptWrittenGradient() {
    isGradientStale = false
    hasGradient = true
  }

  /// Resets the accumulated gradient to zeros, and `hasGradient` to false. The zeros are
  /// written lazily (see the type's notes), so this costs no pass over the buffer.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func zeroGradient() {
    if storedGradient.shape == value.shape {
      isGradientStale = true
    } else {
      storedGradient = Tensor.zeros(value.shape)
      isGradientStale = false
    }
    hasGradient = false
  }
}
