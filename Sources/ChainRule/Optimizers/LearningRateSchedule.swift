import Foundation

/// A learning rate as a function of the step (or epoch) count, set on any optimizer between
/// steps: `optimizer.setLearningRate(schedule, at: step)`.
public protocol LearningRateSchedule: Sendable {
  /// η at `step`, counted from 0.
  func learningRate(at step: Int) -> Double
}

extension Optimizer {
  /// Sets `learningRate` to `schedule`'s value at `step` (from 0).
  public func setLearningRate(_ schedule: some LearningRateSchedule, at step: Int) {
    learningRate = Scalar(schedule.learningRate(at: step))
  }
}

/// η = η₀ · γ^⌊t / s⌋: the rate falls by the factor γ every s steps (PyTorch's `StepLR`).
public struct StepDecay: LearningRateSchedule {
  /// η₀.
  public var initial: Double
  /// s, the number of steps between two decays.
  public var stepSize: Int
  /// γ.
  public var factor: Double

  /// A schedule starting at `initial`, multiplied by `factor` every `stepSize` steps.
  /// - Precondition: `stepSize > 0`.
  public init(initial: Double, stepSize: Int, factor: Double = 0.1) {
    require(stepSize > 0, "StepDecay: stepSize must be positive, got \(stepSize)")
    self.initial = initial
    self.stepSize = stepSize
    self.factor = factor
  }

  public func learningRate(at step: Int) -> Double {
    initial * pow(factor, Double(max(step, 0) / stepSize))
  }
}

/// η = η₀ · γᵗ (PyTorch's `ExponentialLR`).
public struct ExponentialDecay: LearningRateSchedule {
  /// η₀.
  public var initial: Double
  /// γ, the factor applied at every step.
  public var factor: Double

  /// A schedule starting at `initial`, multiplied by `factor` at every step.
  public init(initial: Double, factor: Double) {
    self.initial = initial
    self.factor = factor
  }

  public func learningRate(at step: Int) -> Double { initial * pow(factor, Double(max(step, 0))) }
}

/// Linear warm-up, then cosine annealing to a minimum:
/// η = η₀ · t / w for t < w (from 0, as Hugging Face's `get_cosine_schedule_with_warmup`), then
/// η = η_min + (η₀ − η_min) · ½(1 + cos(π · (t − w) / (T − w))) (PyTorch's
/// `CosineAnnealingLR` in closed form), and η_min from step T on.
public struct CosineDecay: LearningRateSchedule {
  /// η₀, the rate at the end of the warm-up.
  public var initial: Double
  /// T, the step at which the rate reaches `minimum`.
  public var totalSteps: Int
  /// w, the number of warm-up steps (0 for none).
  public var warmupSteps: Int
  /// η_min.
  public var minimum: Double

  /// A cosine schedule over `totalSteps` steps, after `warmupSteps` of linear warm-up.
  /// - Precondition: `0 ≤ warmupSteps < totalSteps`.
  public init(initial: Double, totalSteps: Int, warmupSteps: Int = 0, minimum: Double = 0) {
    require(
      warmupSteps >= 0 && warmupSteps < totalSteps,
      "CosineDecay: need 0 ≤ warmupSteps < totalSteps, got \(warmupSteps) and \(totalSteps)")
    self.initial = initial
    self.totalSteps = totalSteps
    self.warmupSteps = warmupSteps
    self.minimum = minimum
  }

  public func learningRate(at step: Int) -> Double {
    if step < warmupSteps { return initial * Double(max(step, 0)) / Double(warmupSteps) }
    if step >= totalSteps { return minimum }
    let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
    return minimum + (initial - minimum) * 0.5 * (1 + cos(Double.pi * progress))
  }
}
