import ChainRule
import Foundation
import Testing

/// AdamW and RMSProp against two steps written out by hand from PyTorch's update rules.
@Suite struct AdaptiveOptimizerTests {
  let p0 = [1.0, -2.0, 0.5]
  let g1 = [0.3, -0.1, 2.0]
  let g2 = [-0.2, 0.4, 1.0]

  /// Two steps with gradients g₁ then g₂.
  func twoSteps(_ optimizer: some Optimizer<Double>) -> Parameter<Double> {
    let p = optimizer.parameters[0]
    p.gradient = Tensor(g1)
    optimizer.step()
    optimizer.zeroGradients()
    p.gradient = Tensor(g2)
    optimizer.step()
    return p
  }

  @Test func adamWDecaysTheParameterNotTheGradient() {
    let (eta, b1, b2, eps, lambda) = (0.01, 0.9, 0.999, 1e-8, 0.1)
    let optimizer = AdamW(
      parameters: [Parameter(Tensor(p0), name: "w")], learningRate: eta, beta1: b1, beta2: b2,
      epsilon: eps, weightDecay: lambda)
    let p = twoSteps(optimizer)
    #expect(optimizer.stepCount == 2)
    for i in 0..<3 {
      // t = 1: p ← (1 − ηλ)p₀; m = (1 − β₁)g₁; v = (1 − β₂)g₁²; p₁ = p − η m̂/(√v̂ + ε).
      let m1 = (1 - b1) * g1[i]
      let v1 = (1 - b2) * g1[i] * g1[i]
      let p1 =
        (1 - eta * lambda) * p0[i] - eta * (m1 / (1 - b1)) / ((v1 / (1 - b2)).squareRoot() + eps)
      // t = 2: the decay again, then the moments with β², corrections 1 − β₁², 1 − β₂².
      let m2 = b1 * m1 + (1 - b1) * g2[i]
      let v2 = b2 * v1 + (1 - b2) * g2[i] * g2[i]
      let p2 =
        (1 - eta * lambda) * p1
        - eta * (m2 / (1 - b1 * b1)) / ((v2 / (1 - b2 * b2)).squareRoot() + eps)
      expectClose(p.value[i], p2, relative: 1e-13)
      expectClose(optimizer.state["w.m"]![i], m2, relative: 1e-14)
      expectClose(optimizer.state["w.v"]![i], v2, relative: 1e-14)
    }
  }

  @Test func adamWWithoutDecayIsAdam() {
    let adam = Adam(parameters: [Parameter(Tensor(p0), name: "w")], learningRate: 0.05)
    let adamW = AdamW(
      parameters: [Parameter(Tensor(p0), name: "w")], learningRate: 0.05, weightDecay: 0)
    #expect(twoSteps(adam).value == twoSteps(adamW).value)
  }

  @Test func plainRMSProp() {
    let (eta, alpha, eps) = (0.01, 0.99, 1e-8)
    let optimizer = RMSProp(parameters: [Parameter(Tensor(p0), name: "w")], learningRate: eta)
    let p = twoSteps(optimizer)
    for i in 0..<3 {
      // s₁ = (1 − α)g₁²; p₁ = p₀ − η g₁/(√s₁ + ε); s₂ = αs₁ + (1 − α)g₂²; p₂ likewise.
      let s1 = (1 - alpha) * g1[i] * g1[i]
      let p1 = p0[i] - eta * g1[i] / (s1.squareRoot() + eps)
      let s2 = alpha * s1 + (1 - alpha) * g2[i] * g2[i]
      let p2 = p1 - eta * g2[i] / (s2.squareRoot() + eps)
      expectClose(p.value[i], p2, relative: 1e-13)
      expectClose(optimizer.state["w.squareAverage"]![i], s2, relative: 1e-14)
    }
    #expect(optimizer.state.keys.sorted() == ["w.squareAverage"])
  }

  @Test func centredRMSPropWithMomentumAndWeightDecay() {
    let (eta, alpha, eps, lambda, mu) = (0.02, 0.9, 1e-6, 0.1, 0.5)
    let optimizer = RMSProp(
      parameters: [Parameter(Tensor(p0), name: "w")], learningRate: eta, alpha: alpha,
      epsilon: eps, weightDecay: lambda, momentum: mu, centered: true)
    let p = twoSteps(optimizer)
    for i in 0..<3 {
      // d = g + λp;  s ← αs + (1 − α)d²;  ḡ ← αḡ + (1 − α)d;  b ← μb + d/(√(s − ḡ²) + ε);
      // p ← p − ηb, all buffers starting at 0.
      let d1 = g1[i] + lambda * p0[i]
      let s1 = (1 - alpha) * d1 * d1
      let a1 = (1 - alpha) * d1
      let b1 = d1 / ((s1 - a1 * a1).squareRoot() + eps)
      let p1 = p0[i] - eta * b1
      let d2 = g2[i] + lambda * p1
      let s2 = alpha * s1 + (1 - alpha) * d2 * d2
      let a2 = alpha * a1 + (1 - alpha) * d2
      let b2 = mu * b1 + d2 / ((s2 - a2 * a2).squareRoot() + eps)
      let p2 = p1 - eta * b2
      expectClose(p.value[i], p2, relative: 1e-12)
      expectClose(optimizer.state["w.gradientAverage"]![i], a2, relative: 1e-14)
      expectClose(optimizer.state["w.momentum"]![i], b2, relative: 1e-13)
    }
  }

  @Test func rmsPropStateResumesExactly() throws {
    // Three steps in one go = two steps, save, load into a new optimizer, one more step.
    func run(_ resume: Bool) throws -> Tensor<Double> {
      let p = Parameter(Tensor(p0), name: "w")
      var optimizer = RMSProp(parameters: [p], momentum: 0.9, centered: true)
      for (index, g) in [g1, g2, g1].enumerated() {
        if resume && index == 2 {
          let fresh = RMSProp(parameters: [p], momentum: 0.9, centered: true)
          try fresh.loadState(optimizer.state)
          optimizer = fresh
        }
        p.gradient = Tensor(g)
        optimizer.step()
      }
      return p.value
    }
    #expect(try run(true) == run(false))
  }

  /// The C kernel (vectorised in release builds) against the formula evaluated here in Float,
  /// one rounded operation at a time: the same bits, over a length with a vector remainder.
  @Test(arguments: [0.0, 0.05] as [Float], [false, true])
  func adamKernelMatchesTheScalarFormulaBitForBit(weightDecay: Float, decoupled: Bool) {
    let n = 1003
    var generator = Xoshiro256StarStar(seed: 9)
    let p0 = (0..<n).map { _ in Float(generator.nextNormal()) }
    let gradients = (0..<3).map { _ in (0..<n).map { _ in Float(generator.nextNormal()) } }
    let (eta, b1, b2, eps): (Float, Float, Float, Float) = (0.01, 0.9, 0.999, 1e-8)
    let parameter = Parameter(Tensor(p0), name: "w")
    let optimizer: any Optimizer<Float> =
      decoupled
      ? AdamW(parameters: [parameter], learningRate: eta, weightDecay: weightDecay)
      : Adam(parameters: [parameter], learningRate: eta, weightDecay: weightDecay)
    var p = p0
    var m = [Float](repeating: 0, count: n)
    var v = [Float](repeating: 0, count: n)
    for (t, g) in gradients.enumerated() {
      parameter.gradient = Tensor(g)
      optimizer.step()
      let c1 = Float(1 - pow(Double(b1), Double(t + 1)))  // as the optimizer: β in Float
      let c2 = Float(1 - pow(Double(b2), Double(t + 1)))
      for i in 0..<n {
        var gi = g[i]
        if !decoupled && weightDecay != 0 { gi += p[i] * weightDecay }
        if decoupled && weightDecay != 0 { p[i] *= 1 - eta * weightDecay }
        m[i] = m[i] * b1 + gi * (1 - b1)
        v[i] = v[i] * b2 + (gi * gi) * (1 - b2)
        p[i] -= eta * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
      }
    }
    func mismatches(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0 != $1 }.count }
    #expect(mismatches(parameter.value.scalars, p) == 0)
    #expect(mismatches(optimizer.state["w.m"]!.scalars, m) == 0)
    #expect(mismatches(optimizer.state["w.v"]!.scalars, v) == 0)
  }
}
