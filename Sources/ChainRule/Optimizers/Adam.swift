import CChainRuleKernels
import Foundation

/// Adam (Kingma and Ba 2015) with PyTorch's semantics: bias-corrected moment estimates and
/// optional L2 weight decay added to the gradient (for decoupled decay use `AdamW`).
///
/// At a parameter's step t (from 1), for a parameter p with gradient g:
/// g ← g + λp;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
/// m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);  p ← p − η · m̂/(√v̂ + ε).
///
/// Computed, as PyTorch's fused kernel does, without dividing each element by the corrections:
/// once per parameter and step, in Double and then rounded to `Scalar`, the step size
/// s = η/(1 − β₁ᵗ) and r = 1/√(1 − β₂ᵗ); then per element, operation for operation (each
/// rounded to `Scalar`, no fused multiply-add):
/// g ← g + p·λ;  m ← m·β₁ + g·(1 − β₁);  v ← v·β₂ + (g·g)·(1 − β₂);  p ← p − (s·m)/(√v·r + ε).
/// That is η·m̂/(√v̂ + ε) (√v̂ = √v·r), with one division and one square root per element
/// instead of three and one; the last bits differ from the formula written out term by term.
/// (PyTorch divides √v by √(1 − β₂ᵗ); multiplying by its reciprocal saves a second division.)
///
/// As in PyTorch, t counts the updates each parameter received: a parameter without a gradient
/// in a step (`hasGradient` false, or frozen) is skipped, its moments and t unchanged.
/// State: `<name>.m`, `<name>.v` and `<name>.step` (t, a one-element tensor) per parameter.
public class Adam<Scalar: TensorScalar>: Optimizer {
  public let parameters: [Parameter<Scalar>]
  /// η.
  public var learningRate: Scalar
  /// β₁, the decay of the first-moment (mean) estimate.
  public var beta1: Scalar
  /// β₂, the decay of the second-moment (uncentred variance) estimate.
  public var beta2: Scalar
  /// ε, added to √v̂ to avoid dividing by 0.
  public var epsilon: Scalar
  /// λ: Adam's L2 penalty added to the gradient, or AdamW's decoupled decay of the parameter.
  public var weightDecay: Scalar
  /// Whether λ shrinks the parameter before the step (AdamW) instead of joining the gradient.
  public let decouplesWeightDecay: Bool
  private var moments: AdamMoments<Scalar>

  /// An optimizer for `parameters`, with PyTorch's defaults.
  /// - Precondition: parameter names are unique.
  public convenience init(
    parameters: [Parameter<Scalar>], learningRate: Scalar = 0.001, beta1: Scalar = 0.9,
    beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 0
  ) {
    self.init(
      parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2,
      epsilon: epsilon, weightDecay: weightDecay, decoupled: false, optimizer: "Adam")
  }

  init(
    parameters: [Parameter<Scalar>], learningRate: Scalar, beta1: Scalar, beta2: Scalar,
    epsilon: Scalar, weightDecay: Scalar, decoupled: Bool, optimizer: String
  ) {
    requireUniqueNames(parameters, optimizer: optimizer)
    self.parameters = parameters
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.decouplesWeightDecay = decoupled
    self.moments = AdamMoments(parameters: parameters, optimizer: optimizer)
  }

  /// The number of `step()` calls. Setting it sets every parameter's t as well: for resuming
  /// from moments saved without their `.step` entries.
  public var stepCount: Int {
    get { moments.calls }
    set { moments.setAllSteps(newValue) }
  }

  /// Applies one update to every parameter that has a gradient: one fused, allocation-free
  /// pass per parameter (the moments are updated in place), the arithmetic exactly as written
  /// above, operation for operation (and in `AdamW`'s doc comment for the decoupled decay).
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func step() {
    let rule = AdamRule(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
    moments.step(
      parameters, rule, l2Penalty: decouplesWeightDecay ? 0 : weightDecay,
      decoupledDecay: decouplesWeightDecay ? weightDecay : 0)
  }

  public var state: [String: Tensor<Scalar>] { moments.state(parameters) }

  /// Replaces the moment estimates and, where the state has them, the per-parameter step counts.
  public func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try moments.load(state, parameters)
  }
}

/// AdamW (Loshchilov and Hutter 2019) with PyTorch's semantics: Adam whose weight decay is
/// decoupled from the gradient — the parameter shrinks by ηλ before the Adam step, so the
/// decay is not rescaled by the moment estimates.
///
/// At a parameter's step t (from 1): p ← p − ηλp;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
/// m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);  p ← p − η · m̂/(√v̂ + ε).
/// Computed as `Adam` computes it (s = η/(1 − β₁ᵗ), r = 1/√(1 − β₂ᵗ) once per step), the decay
/// first: p ← p·(1 − η·λ);  m ← m·β₁ + g·(1 − β₁);  v ← v·β₂ + (g·g)·(1 − β₂);
/// p ← p − (s·m)/(√v·r + ε), each operation rounded to `Scalar`.
/// Parameters without a gradient are skipped, as in `Adam` (so they do not decay either).
/// State: `<name>.m`, `<name>.v` and `<name>.step` per parameter.
public final class AdamW<Scalar: TensorScalar>: Adam<Scalar> {
  /// An optimizer for `parameters`, with PyTorch's defaults (λ = 0.01).
  /// - Precondition: parameter names are unique.
  public init(
    parameters: [Parameter<Scalar>], learningRate: Scalar = 0.001, beta1: Scalar = 0.9,
    beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 0.01
  ) {
    super.init(
      parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2,
      epsilon: epsilon, weightDecay: weightDecay, decoupled: true, optimizer: "AdamW")
  }
}

/// The hyperparameters of one Adam step.
struct AdamRule<Scalar: TensorScalar> {
  let learningRate: Scalar
  let beta1: Scalar
  let beta2: Scalar
  let epsilon: Scalar
}

/// What `Adam` and `AdamW` keep per parameter: the moments m and v, and the count t of the
/// updates the parameter received.
struct AdamMoments<Scalar: TensorScalar> {
  private var buffers: ParameterBuffers<Scalar>
  private var steps: [Int]
  private let optimizer: String
  /// The number of `step()` calls.
  private(set) var calls = 0

  init(parameters: [Parameter<Scalar>], optimizer: String) {
    buffers = ParameterBuffers(count: parameters.count, bufferNames: ["m", "v"])
    steps = Array(repeating: 0, count: parameters.count)
    self.optimizer = optimizer
  }

  mutating func setAllSteps(_ count: Int) {
    calls = count
    steps = Array(repeating: count, count: steps.count)
  }

  /// One update of every parameter that has a gradient and is not frozen.
  @inline(__always)
  mutating func step(
    _ parameters: [Parameter<Scalar>], _ rule: AdamRule<Scalar>, l2Penalty: Scalar,
    decoupledDecay: Scalar
  ) {
    calls += 1
    for (index, parameter) in parameters.enumerated()
    where parameter.hasGradient && !parameter.isFrozen {
      steps[index] += 1
      update(parameter, index, rule, l2Penalty: l2Penalty, decoupledDecay: decoupledDecay)
    }
  }

  /// One pass over the elements of `parameter`, its moments `m` and `v` updated in place. The
  /// loop is C (`cr_adam_f32`/`_f64`), where it vectorises; its arithmetic is the formula in
  /// `Adam`'s and `AdamW`'s doc comments, operation for operation.
  private mutating func update(
    _ parameter: Parameter<Scalar>, _ index: Int, _ rule: AdamRule<Scalar>,
    l2Penalty: Scalar, decoupledDecay: Scalar
  ) {
    let shape = parameter.value.shape
    var m = buffers.take(index, "m", shape: shape)
    var v = buffers.take(index, "v", shape: shape)
    let scales = Self.biasCorrectionScales(rule, step: steps[index])
    let hyperparameters = cr_adam_hyperparameters(
      learningRate: Double(rule.learningRate), beta1: Double(rule.beta1),
      beta2: Double(rule.beta2), epsilon: Double(rule.epsilon),
      stepSize: Double(scales.stepSize), rootScale: Double(scales.rootScale),
      l2Penalty: Double(l2Penalty), decoupledDecay: Double(decoupledDecay))
    parameter.gradient.scalars.withUnsafeBufferPointer { g in
      parameter.value.withUnsafeMutableBufferPointer { p in
        m.withUnsafeMutableBufferPointer { m in
          v.withUnsafeMutableBufferPointer { v in
            _ = ScalarKernels.adam(p, m, v, g, hyperparameters)
          }
        }
      }
    }
    buffers.store(index, "m", m)
    buffers.store(index, "v", v)
  }

  /// The bias corrections of step t folded into two scalars: the step size η/(1 − β₁ᵗ) and
  /// 1/√(1 − β₂ᵗ), the scale of √v. Each is computed in Double from η and the β's as `Scalar`
  /// holds them (1 − βᵗ in Double as in PyTorch) and rounded to `Scalar` once.
  static func biasCorrectionScales(
    _ rule: AdamRule<Scalar>, step t: Int
  ) -> (stepSize: Scalar, rootScale: Scalar) {
    let correction1 = 1 - pow(Double(rule.beta1), Double(t))
    let correction2 = 1 - pow(Double(rule.beta2), Double(t))
    return (
      Scalar(Double(rule.learningRate) / correction1), Scalar(1 / correction2.squareRoot())
    )
  }

  /// The moments by `<name>.m`/`<name>.v`, and `<name>.step` for every parameter updated at
  /// least once (a one-element tensor; exact up to 2²⁴ steps in `Float`).
  func state(_ parameters: [Parameter<Scalar>]) -> [String: Tensor<Scalar>] {
    var result = buffers.state(parameters)
    for (index, parameter) in parameters.enumerated() where steps[index] > 0 {
      result["\(parameter.name).step"] = Tensor(Scalar(steps[index]))
    }
    return result
  }

  /// Loads moments and step counts; nothing changes when any entry is refused.
  mutating func load(
    _ state: [String: Tensor<Scalar>], _ parameters: [Parameter<Scalar>]
  ) throws(OptimizerStateError) {
    var moments = state
    var loadedSteps = steps
    for (index, parameter) in parameters.enumerated() {
      let key = "\(parameter.name).step"
      guard let tensor = moments.removeValue(forKey: key) else { continue }
      let value = tensor.count == 1 ? Double(tensor.scalars[0]) : .nan
      guard tensor.shape.count <= 1, value >= 0, value < 1e15, value == value.rounded() else {
        throw OptimizerStateError(
          "\(optimizer) state: \"\(key)\" must hold one whole number ≥ 0, got shape "
            + "\(tensor.shape) \(tensor.scalars.prefix(3))")
      }
      loadedSteps[index] = Int(value)
    }
    try buffers.load(moments, parameters, optimizer: optimizer)
    steps = loadedSteps
    if state.keys.contains(where: { $0.hasSuffix(".step") }) { calls = steps.max() ?? 0 }
  }
}
