import CChainRuleKernels
import Foundation

/// Adam (Kingma and Ba 2015) with PyTorch's semantics: bias-corrected moment estimates and
/// optional L2 weight decay added to the gradient (for decoupled decay use `AdamW`).
///
/// At step t (from 1), for each parameter p with gradient g:
/// g ← g + λp;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
/// m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);  p ← p − η · m̂/(√v̂ + ε).
/// State: `<name>.m` and `<name>.v` per parameter, plus `stepCount` (t).
public final class Adam<Scalar: TensorScalar>: Optimizer {
  public let parameters: [Parameter<Scalar>]
  /// η.
  public var learningRate: Scalar
  /// β₁, the decay of the first-moment (mean) estimate.
  public var beta1: Scalar
  /// β₂, the decay of the second-moment (uncentred variance) estimate.
  public var beta2: Scalar
  /// ε, added to √v̂ to avoid dividing by 0.
  public var epsilon: Scalar
  /// λ, the L2 penalty's coefficient added to the gradient.
  public var weightDecay: Scalar
  /// The number of steps taken, t; saved with the state to resume the bias correction.
  public var stepCount = 0
  private var buffers: ParameterBuffers<Scalar>

  /// An optimizer for `parameters`, with PyTorch's defaults.
  /// - Precondition: parameter names are unique.
  public init(
    parameters: [Parameter<Scalar>], learningRate: Scalar = 0.001, beta1: Scalar = 0.9,
    beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 0
  ) {
    requireUniqueNames(parameters, optimizer: "Adam")
    self.parameters = parameters
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.buffers = ParameterBuffers(count: parameters.count, bufferNames: ["m", "v"])
  }

  /// Applies one Adam update to every parameter: one fused, allocation-free pass per
  /// parameter (the moments are updated in place), the arithmetic exactly as written above.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func step() {
    stepCount += 1
    let rule = AdamRule(
      learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      stepCount: stepCount)
    for (index, parameter) in parameters.enumerated() {
      rule.update(parameter, &buffers, index, l2Penalty: weightDecay, decoupledDecay: 0)
    }
  }

  public var state: [String: Tensor<Scalar>] { buffers.state(parameters) }

  /// Replaces the moment estimates; set `stepCount` alongside.
  public func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try buffers.load(state, parameters, optimizer: "Adam")
  }
}

/// AdamW (Loshchilov and Hutter 2019) with PyTorch's semantics: Adam whose weight decay is
/// decoupled from the gradient — the parameter shrinks by ηλ before the Adam step, so the
/// decay is not rescaled by the moment estimates.
///
/// At step t (from 1): p ← p − ηλp;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
/// m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);  p ← p − η · m̂/(√v̂ + ε).
/// State: `<name>.m` and `<name>.v` per parameter, plus `stepCount` (t).
public final class AdamW<Scalar: TensorScalar>: Optimizer {
  public let parameters: [Parameter<Scalar>]
  /// η.
  public var learningRate: Scalar
  /// β₁, the decay of the first-moment (mean) estimate.
  public var beta1: Scalar
  /// β₂, the decay of the second-moment (uncentred variance) estimate.
  public var beta2: Scalar
  /// ε, added to √v̂ to avoid dividing by 0.
  public var epsilon: Scalar
  /// λ, the decoupled decay: each step multiplies p by 1 − ηλ.
  public var weightDecay: Scalar
  /// The number of steps taken, t; saved with the state to resume the bias correction.
  public var stepCount = 0
  private var buffers: ParameterBuffers<Scalar>

  /// An optimizer for `parameters`, with PyTorch's defaults (λ = 0.01).
  /// - Precondition: parameter names are unique.
  public init(
    parameters: [Parameter<Scalar>], learningRate: Scalar = 0.001, beta1: Scalar = 0.9,
    beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 0.01
  ) {
    requireUniqueNames(parameters, optimizer: "AdamW")
    self.parameters = parameters
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.buffers = ParameterBuffers(count: parameters.count, bufferNames: ["m", "v"])
  }

  /// Applies one AdamW update to every parameter, fused and allocation-free like `Adam`.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func step() {
    stepCount += 1
    let rule = AdamRule(
      learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      stepCount: stepCount)
    for (index, parameter) in parameters.enumerated() {
      rule.update(parameter, &buffers, index, l2Penalty: 0, decoupledDecay: weightDecay)
    }
  }

  public var state: [String: Tensor<Scalar>] { buffers.state(parameters) }

  /// Replaces the moment estimates; set `stepCount` alongside.
  public func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try buffers.load(state, parameters, optimizer: "AdamW")
  }
}

/// The Adam update of one parameter, shared by `Adam` (L2 penalty in the gradient) and `AdamW`
/// (decoupled decay of the parameter).
struct AdamRule<Scalar: TensorScalar> {
  let learningRate: Scalar
  let beta1: Scalar
  let beta2: Scalar
  let epsilon: Scalar
  /// 1 − β₁ᵗ and 1 − β₂ᵗ, computed in Double as PyTorch does.
  let correction1: Scalar
  let correction2: Scalar

  init(learningRate: Scalar, beta1: Scalar, beta2: Scalar, epsilon: Scalar, stepCount: Int) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    correction1 = Scalar(1 - pow(Double(beta1), Double(stepCount)))
    correction2 = Scalar(1 - pow(Double(beta2), Double(stepCount)))
  }

  /// One pass over the elements of `parameter`, its moments `m` and `v` updated in place. The
  /// loop is C (`cr_adam_f32`/`_f64`), where it vectorises; its arithmetic is the formula in
  /// `Adam`'s and `AdamW`'s doc comments, operation for operation.
  func update(
    _ parameter: Parameter<Scalar>, _ buffers: inout ParameterBuffers<Scalar>, _ index: Int,
    l2Penalty: Scalar, decoupledDecay: Scalar
  ) {
    let shape = parameter.value.shape
    var m = buffers.take(index, "m", shape: shape)
    var v = buffers.take(index, "v", shape: shape)
    let hyperparameters = cr_adam_hyperparameters(
      learningRate: Double(learningRate), beta1: Double(beta1), beta2: Double(beta2),
      epsilon: Double(epsilon), correction1: Double(correction1),
      correction2: Double(correction2), l2Penalty: Double(l2Penalty),
      decoupledDecay: Double(decoupledDecay))
    parameter.gradient.scalars.withUnsafeBufferPointer { g in
      parameter.value.withUnsafeMutableBufferPointer { p in
        m.withUnsafeMutableBufferPointer { m in
          v.withUnsafeMutableBufferPointer { v in
            ScalarKernels.adam(p, m, v, g, hyperparameters)
          }
        }
      }
    }
    buffers.store(index, "m", m)
    buffers.store(index, "v", v)
  }
}
