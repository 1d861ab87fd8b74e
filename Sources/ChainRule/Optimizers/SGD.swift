/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay,
/// with PyTorch's semantics (no dampening).
///
/// For each parameter p with gradient g, learning rate η, momentum μ, weight decay λ:
/// g ← g + λp;  v ← μv + g (v starts at g on the first step);
/// p ← p − η · (nesterov ? g + μv : v). With μ = 0 this is plain p ← p − η g.
/// State: one buffer per parameter, `<name>.momentum` (only when μ ≠ 0). A parameter without a
/// gradient in a step (`hasGradient` false, or frozen) is skipped, as PyTorch skips one whose
/// `.grad` is `None`: no weight decay, no momentum.
///
/// The hyperparameters are plain values read once per `step()`, so the dynamic exclusivity
/// check (a measurable share of a small network's step) is turned off for them.
public final class SGD<Scalar: TensorScalar>: Optimizer {
  public let parameters: [Parameter<Scalar>]
  /// η.
  @exclusivity(unchecked) public var learningRate: Scalar
  /// μ.
  @exclusivity(unchecked) public var momentum: Scalar
  /// Whether to step along g + μv (look-ahead) instead of v.
  @exclusivity(unchecked) public var nesterov: Bool
  /// λ, the L2 penalty's coefficient added to the gradient.
  @exclusivity(unchecked) public var weightDecay: Scalar
  private var buffers: ParameterBuffers<Scalar>

  /// An optimizer for `parameters` (e.g. `model.parameters`).
  /// - Precondition: parameter names are unique; `nesterov` needs `momentum > 0`.
  public init(
    parameters: [Parameter<Scalar>], learningRate: Scalar, momentum: Scalar = 0,
    nesterov: Bool = false, weightDecay: Scalar = 0
  ) {
    require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
    requireUniqueNames(parameters, optimizer: "SGD")
    self.parameters = parameters
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
    self.weightDecay = weightDecay
    self.buffers = ParameterBuffers(count: parameters.count, bufferNames: ["momentum"])
  }

  /// p ← p − η·(update), in place: no temporary tensors, so a training step on a built graph
  /// allocates nothing. The arithmetic is the same, operation for operation, as written above.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func step() {
    let (eta, mu, lambda, nesterov) = (learningRate, momentum, weightDecay, nesterov)
    for index in parameters.indices {
      let parameter = parameters[index]
      guard parameter.hasGradient && !parameter.isFrozen else { continue }
      guard mu != 0 else {
        // Without momentum there is no buffer: no (hashing) dictionary look-up.
        parameter.gradient.scalars.withUnsafeBufferPointer { gradient in
          parameter.value.withUnsafeMutableBufferPointer { value in
            for i in 0..<value.count {
              var g = gradient[i]
              if lambda != 0 { g += value[i] * lambda }
              value[i] += g * -eta
            }
          }
        }
        continue
      }
      let stored = buffers.buffers[index].removeValue(forKey: "momentum")
      let isFirstStep = stored == nil
      var velocity = stored ?? Tensor.zeros(parameter.value.shape)
      parameter.gradient.scalars.withUnsafeBufferPointer { gradient in
        parameter.value.withUnsafeMutableBufferPointer { value in
          velocity.withUnsafeMutableBufferPointer { v in
            for i in 0..<value.count {
              var g = gradient[i]
              if lambda != 0 { g += value[i] * lambda }
              v[i] = isFirstStep ? g : v[i] * mu + g  // v starts at g
              g = nesterov ? g + v[i] * mu : v[i]
              value[i] += g * -eta
            }
          }
        }
      }
      buffers.buffers[index]["momentum"] = velocity
    }
  }

  public var state: [String: Tensor<Scalar>] { buffers.state(parameters) }

  public func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try buffers.load(state, parameters, optimizer: "SGD")
  }
}
