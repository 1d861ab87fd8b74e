import Foundation

/// Adam (Kingma and Ba 2015) with PyTorch's semantics: bias-corrected moment estimates and
/// optional L2 weight decay added to the gradient.
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

  public func step() {
    stepCount += 1
    let t = Double(stepCount)
    let correction1 = Scalar(1 - pow(Double(beta1), t))
    let correction2 = Scalar(1 - pow(Double(beta2), t))
    for (index, parameter) in parameters.enumerated() {
      var g = parameter.gradient
      if weightDecay != 0 { g += parameter.value * weightDecay }
      let zeros = Tensor<Scalar>.zeros(g.shape)
      let m = (buffers.buffers[index]["m"] ?? zeros) * beta1 + g * (1 - beta1)
      let v = (buffers.buffers[index]["v"] ?? zeros) * beta2 + (g * g) * (1 - beta2)
      buffers.buffers[index]["m"] = m
      buffers.buffers[index]["v"] = v
      let (learningRate, epsilon) = (learningRate, epsilon)
      parameter.value.withUnsafeMutableBufferPointer { p in
        for i in p.indices {
          let mHat = m.scalars[i] / correction1
          let vHat = v.scalars[i] / correction2
          p[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
        }
      }
    }
  }

  public var state: [String: Tensor<Scalar>] { buffers.state(parameters) }

  /// Replaces the moment estimates; set `stepCount` alongside.
  public func loadState(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
    try buffers.load(state, parameters, optimizer: "Adam")
  }
}
