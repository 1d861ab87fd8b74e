import CChainRuleKernels

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
  /// allocates nothing. The loop is C (`cr_sgd_f32`/`_f64`, vectorised, on two threads for a
  /// large parameter); its arithmetic is the formula above, operation for operation:
  /// g ← g + p·λ (λ ≠ 0);  v ← first step ? g : v·μ + g;  g ← nesterov ? g + v·μ : v;
  /// p ← p + g·(−η).
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func step() {
    let (eta, mu, lambda, nesterov) = (learningRate, momentum, weightDecay, nesterov)
    for index in parameters.indices {
      let parameter = parameters[index]
      guard parameter.hasGradient && !parameter.isFrozen else { continue }
      var rule = cr_sgd_hyperparameters(
        learningRate: Double(eta), momentum: Double(mu), weightDecay: Double(lambda),
        nesterov: nesterov ? 1 : 0, firstStep: 0)
      guard mu != 0 else {
        // Without momentum there is no buffer: no (hashing) dictionary look-up.
        parameter.gradient.scalars.withUnsafeBufferPointer { g in
          parameter.value.withUnsafeMutableBufferPointer { p in
            _ = ScalarKernels.sgd(p, UnsafeMutableBufferPointer(start: nil, count: 0), g, rule)
          }
        }
        continue
      }
      let stored = buffers.buffers[index].removeValue(forKey: "momentum")
      rule.firstStep = stored == nil ? 1 : 0  // v starts at g
      var velocity = stored ?? Tensor.zeros(parameter.value.shape)
      parameter.gradient.scalars.withUnsafeBufferPointer { g in
        parameter.value.withUnsafeMutableBufferPointer { p in
          velocity.withUnsafeMutableBufferPointer { v in _ = ScalarKernels.sgd(p, v, g, rule) }
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
