import CChainRuleKernels

/// RMSProp (Hinton's lecture 6e) with PyTorch's semantics: the gradient divided by a running
/// root mean square, optionally centred, with optional momentum and L2 weight decay.
///
/// For each parameter p with gradient g, learning rate η, smoothing α, ε, weight decay λ,
/// momentum μ:  g ← g + λp;  s ← αs + (1 − α)g²;
/// centred: ḡ ← αḡ + (1 − α)g and d = √(s − ḡ²) + ε, otherwise d = √s + ε;
/// with momentum: b ← μb + g/d, p ← p − ηb; without: p ← p − η·g/d.
/// State: `<name>.squareAverage`, plus `<name>.gradientAverage` (centred) and
/// `<name>.momentum` (μ ≠ 0), all starting at zero. Parameters without a gradient in a step
/// are skipped, their buffers unchanged.
public final class RMSProp<Scalar: TensorScalar>: Optimizer {
  public let parameters: [Parameter<Scalar>]
  /// η.
  public var learningRate: Scalar
  /// α, the decay of the running averages.
  public var alpha: Scalar
  /// ε, added to the root mean square to avoid dividing by 0.
  public var epsilon: Scalar
  /// λ, the L2 penalty's coefficient added to the gradient.
  public var weightDecay: Scalar
  /// μ; 0 for none.
  public var momentum: Scalar
  /// Whether to divide by the centred root mean square (an estimate of the variance).
  public var centered: Bool
  private var buffers: ParameterBuffers<Scalar>

  /// An optimizer for `parameters`, with PyTorch's defaults.
  /// - Precondition: parameter names are unique.
  public init(
    parameters: [Parameter<Scalar>], learningRate: Scalar = 0.01, alpha: Scalar = 0.99,
    epsilon: Scalar = 1e-8, weightDecay: Scalar = 0, momentum: Scalar = 0,
    centered: Bool = false
  ) {
    requireUniqueNames(parameters, optimizer: "RMSProp")
    self.parameters = parameters
    self.learningRate = learningRate
    self.alpha = alpha
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.momentum = momentum
    self.centered = centered
    self.buffers = ParameterBuffers(
      count: parameters.count, bufferNames: ["squareAverage", "gradientAverage", "momentum"])
  }

  /// Applies one update to every parameter: one fused, allocation-free pass per parameter (the
  /// C loop `cr_rmsprop_f32`/`_f64`, vectorised), the arithmetic as in the formula above.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func step() {
    let (eta, alpha, eps, lambda, mu, centered) = (
      learningRate, alpha, epsilon, weightDecay, momentum, centered
    )
    for (index, parameter) in parameters.enumerated()
    where parameter.hasGradient && !parameter.isFrozen {
      let shape = parameter.value.shape
      var squareAverage = buffers.take(index, "squareAverage", shape: shape)
      // Unused buffers stay empty tensors and are not stored.
      var gradientAverage =
        centered ? buffers.take(index, "gradientAverage", shape: shape) : .zeros([0])
      var velocity = mu != 0 ? buffers.take(index, "momentum", shape: shape) : .zeros([0])
      let hyperparameters = cr_rmsprop_hyperparameters(
        learningRate: Double(eta), alpha: Double(alpha), epsilon: Double(eps),
        weightDecay: Double(lambda), momentum: Double(mu), centered: centered ? 1 : 0)
      parameter.gradient.scalars.withUnsafeBufferPointer { g in
        parameter.value.withUnsafeMutableBufferPointer { p in
          squareAverage.withUnsafeMutableBufferPointer { s in
            gradientAverage.withUnsafeMutableBufferPointer { a in
              velocity.withUnsafeMutableBufferPointer { b in
                _ = ScalarKernels.rmsProp(p, s, a, b, g, hyperparameters)
              }
            }
          }
        }
      }
      buffers.store(index, "squareAverage", squareAverage)
      if centered { buffers.store(index, "gradientAverage", gradientAverage) }
      if mu != 0 { buffers.store(index, "momentum", velocity) }
    }
  }

  public var state: [String: Tensor<Scalar>] { buffers.state(parameters) }

  public func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try buffers.load(state, parameters, optimizer: "RMSProp")
  }
}
