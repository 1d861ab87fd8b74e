import Foundation
import Testing

@testable import ChainRule

/// Each update rule against the formula written out by hand for two steps, on a parameter
/// whose gradient is set directly (g₁ on step 1, g₂ on step 2).
@Suite("Optimizers")
struct OptimizerTests {
  let p0 = [1.0, -2.0, 0.5]
  let g1 = [0.3, -0.1, 2.0]
  let g2 = [-0.2, 0.4, 1.0]

  func parameter() -> Parameter<Double> { Parameter(Tensor(p0), name: "w") }

  func twoSteps(_ optimizer: some Optimizer<Double>, _ p: Parameter<Double>) {
    p.gradient = Tensor(g1)
    optimizer.step()
    optimizer.zeroGradients()
    #expect(p.gradient == Tensor.zeros([3]))
    p.gradient = Tensor(g2)
    optimizer.step()
  }

  @Test func plainSGD() {
    let p = parameter()
    twoSteps(SGD(parameters: [p], learningRate: 0.1), p)
    // p₂ = p₀ − η g₁ − η g₂.
    let expected = (0..<3).map { p0[$0] - 0.1 * g1[$0] - 0.1 * g2[$0] }
    expectClose(p.value, Tensor(expected), relative: 1e-15)
  }

  @Test func sgdWithMomentumAndWeightDecay() {
    let (eta, mu, lambda) = (0.1, 0.9, 0.01)
    let p = parameter()
    let optimizer = SGD(parameters: [p], learningRate: eta, momentum: mu, weightDecay: lambda)
    twoSteps(optimizer, p)
    for i in 0..<3 {
      // Step 1: d₁ = g₁ + λp₀; v₁ = d₁; p₁ = p₀ − η v₁.
      let d1 = g1[i] + lambda * p0[i]
      let v1 = d1
      let p1 = p0[i] - eta * v1
      // Step 2: d₂ = g₂ + λp₁; v₂ = μ v₁ + d₂; p₂ = p₁ − η v₂.
      let d2 = g2[i] + lambda * p1
      let v2 = mu * v1 + d2
      expectClose(p.value[i], p1 - eta * v2, relative: 1e-14)
      expectClose(optimizer.state["w.momentum"]![i], v2, relative: 1e-14)
    }
  }

  @Test func sgdWithNesterovMomentum() {
    let (eta, mu) = (0.05, 0.8)
    let p = parameter()
    twoSteps(SGD(parameters: [p], learningRate: eta, momentum: mu, nesterov: true), p)
    for i in 0..<3 {
      // v₁ = g₁; p₁ = p₀ − η(g₁ + μ v₁); v₂ = μ v₁ + g₂; p₂ = p₁ − η(g₂ + μ v₂).
      let v1 = g1[i]
      let p1 = p0[i] - eta * (g1[i] + mu * v1)
      let v2 = mu * v1 + g2[i]
      expectClose(p.value[i], p1 - eta * (g2[i] + mu * v2), relative: 1e-14)
    }
  }

  @Test func adamWithBiasCorrection() {
    let (eta, b1, b2, eps, lambda) = (0.01, 0.9, 0.999, 1e-8, 0.1)
    let p = parameter()
    let optimizer = Adam(
      parameters: [p], learningRate: eta, beta1: b1, beta2: b2, epsilon: eps, weightDecay: lambda)
    twoSteps(optimizer, p)
    #expect(optimizer.stepCount == 2)
    for i in 0..<3 {
      // t = 1: d = g₁ + λp₀; m = (1 − β₁)d; v = (1 − β₂)d²; m̂ = m/(1 − β₁); v̂ = v/(1 − β₂).
      let d1 = g1[i] + lambda * p0[i]
      let m1 = (1 - b1) * d1
      let v1 = (1 - b2) * d1 * d1
      let p1 = p0[i] - eta * (m1 / (1 - b1)) / ((v1 / (1 - b2)).squareRoot() + eps)
      // t = 2: the same with β², the corrections 1 − β₁² and 1 − β₂².
      let d2 = g2[i] + lambda * p1
      let m2 = b1 * m1 + (1 - b1) * d2
      let v2 = b2 * v1 + (1 - b2) * d2 * d2
      let p2 = p1 - eta * (m2 / (1 - b1 * b1)) / ((v2 / (1 - b2 * b2)).squareRoot() + eps)
      expectClose(p.value[i], p2, relative: 1e-13)
      expectClose(optimizer.state["w.m"]![i], m2, relative: 1e-14)
      expectClose(optimizer.state["w.v"]![i], v2, relative: 1e-14)
    }
  }

  @Test func firstAdamStepMovesEachCoordinateByTheLearningRate() {
    // m̂₁/√v̂₁ = g/|g| = ±1, so every coordinate moves by η (up to ε).
    let p = parameter()
    let optimizer = Adam(parameters: [p], learningRate: 0.5)
    p.gradient = Tensor(g1)
    optimizer.step()
    expectClose(p.value, Tensor([0.5, -1.5, 0.0]), relative: 1e-7, absolute: 1e-7)
  }

  @Test func savedStateResumesExactly() throws {
    // Three steps in one go = two steps, save, load into a new optimizer, one more step.
    func run(_ resume: Bool) throws -> Tensor<Double> {
      let p = parameter()
      var adam = Adam(parameters: [p], learningRate: 0.1)
      let gradients = [g1, g2, g1]
      for (index, g) in gradients.enumerated() {
        if resume && index == 2 {
          let fresh = Adam(parameters: [p], learningRate: 0.1)
          try fresh.loadState(adam.state)
          fresh.stepCount = adam.stepCount
          adam = fresh
        }
        p.gradient = Tensor(g)
        adam.step()
      }
      return p.value
    }
    #expect(try run(true) == run(false))
  }

  @Test func badStateIsRejectedWithItsKey() {
    let optimizer = SGD(parameters: [parameter()], learningRate: 0.1, momentum: 0.9)
    #expect(
      throws: OptimizerStateError(
        #"SGD state: unknown key "v.momentum" (no such parameter buffer)"#)
    ) {
      try optimizer.loadState(["v.momentum": Tensor.zeros([3])])
    }
    #expect(
      throws: OptimizerStateError(#"SGD state: "w.momentum" has shape [2], its parameter [3]"#)
    ) {
      try optimizer.loadState(["w.momentum": Tensor.zeros([2])])
    }
    #expect(optimizer.state.isEmpty)
  }
}
