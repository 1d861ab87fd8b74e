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

  /// Adam's element loop written out here, one rounded operation at a time, from step t's
  /// scalars s = η/(1 − β₁ᵗ) and r = 1/√(1 − β₂ᵗ) (in Double, rounded to `Scalar` once):
  /// g ← g + p·λ (L2) or p ← p·(1 − η·λ) (decoupled);  m ← m·β₁ + g·(1 − β₁);
  /// v ← v·β₂ + (g·g)·(1 − β₂);  p ← p − (s·m)/(√v·r + ε).
  /// `textbook` is the mutant: the corrections c = 1 − βᵗ rounded to `Scalar` and applied per
  /// element, p ← p − η·(m/c₁)/(√(v/c₂) + ε) (the kernel's order before it had one division).
  static func referenceAdam<Scalar: TensorScalar>(
    _ p: inout [Scalar], _ m: inout [Scalar], _ v: inout [Scalar], _ g: [Scalar], step t: Int,
    eta: Scalar, beta1 b1: Scalar, beta2 b2: Scalar, epsilon eps: Scalar, weightDecay: Scalar,
    decoupled: Bool, textbook: Bool = false
  ) {
    let correction1 = 1 - pow(Double(b1), Double(t))
    let correction2 = 1 - pow(Double(b2), Double(t))
    let s = Scalar(Double(eta) / correction1)
    let r = Scalar(1 / correction2.squareRoot())
    let (c1, c2) = (Scalar(correction1), Scalar(correction2))
    for i in p.indices {
      var gi = g[i]
      if !decoupled && weightDecay != 0 { gi += p[i] * weightDecay }
      if decoupled && weightDecay != 0 { p[i] *= 1 - eta * weightDecay }
      m[i] = m[i] * b1 + gi * (1 - b1)
      v[i] = v[i] * b2 + (gi * gi) * (1 - b2)
      if textbook {
        p[i] -= eta * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
      } else {
        p[i] -= (s * m[i]) / (v[i].squareRoot() * r + eps)
      }
    }
  }

  /// Three steps of `Adam`/`AdamW` (the C kernel, vectorised in release builds) against
  /// `referenceAdam`: the same bits in p, m and v, over a length with a vector remainder. The
  /// textbook-order mutant must differ from the kernel in some element of p, so that the
  /// comparison sees the order of the operations, not only the formula.
  func checkAdamKernel<Scalar: TensorScalar>(
    _: Scalar.Type, weightDecay: Scalar, decoupled: Bool
  ) {
    let n = 1003
    var generator = Xoshiro256StarStar(seed: 9)
    let p0 = (0..<n).map { _ in Scalar(generator.nextNormal()) }
    let gradients = (0..<3).map { _ in (0..<n).map { _ in Scalar(generator.nextNormal()) } }
    let (eta, b1, b2, eps): (Scalar, Scalar, Scalar, Scalar) = (0.01, 0.9, 0.999, 1e-8)
    let parameter = Parameter(Tensor(p0), name: "w")
    let optimizer: any Optimizer<Scalar> =
      decoupled
      ? AdamW(parameters: [parameter], learningRate: eta, weightDecay: weightDecay)
      : Adam(parameters: [parameter], learningRate: eta, weightDecay: weightDecay)
    let zeros = [Scalar](repeating: 0, count: n)
    var (p, m, v) = (p0, zeros, zeros)
    var (mutantP, mutantM, mutantV) = (p0, zeros, zeros)
    for (index, g) in gradients.enumerated() {
      parameter.gradient = Tensor(g)
      optimizer.step()
      Self.referenceAdam(
        &p, &m, &v, g, step: index + 1, eta: eta, beta1: b1, beta2: b2, epsilon: eps,
        weightDecay: weightDecay, decoupled: decoupled)
      Self.referenceAdam(
        &mutantP, &mutantM, &mutantV, g, step: index + 1, eta: eta, beta1: b1, beta2: b2,
        epsilon: eps, weightDecay: weightDecay, decoupled: decoupled, textbook: true)
    }
    let label = "\(Scalar.self) λ=\(weightDecay) decoupled=\(decoupled)"
    #expect(bitMismatches(parameter.value.scalars, p) == 0, "p: \(label)")
    #expect(bitMismatches(optimizer.state["w.m"]!.scalars, m) == 0, "m: \(label)")
    #expect(bitMismatches(optimizer.state["w.v"]!.scalars, v) == 0, "v: \(label)")
    #expect(bitMismatches(mutantP, p) > 0, "the textbook-order mutant went unnoticed: \(label)")
  }

  @Test(arguments: [0.0, 0.05] as [Float], [false, true])
  func adamKernelMatchesTheScalarFormulaBitForBitInFloat(weightDecay: Float, decoupled: Bool) {
    checkAdamKernel(Float.self, weightDecay: weightDecay, decoupled: decoupled)
  }

  @Test(arguments: [0.0, 0.05] as [Double], [false, true])
  func adamKernelMatchesTheScalarFormulaBitForBitInDouble(weightDecay: Double, decoupled: Bool) {
    checkAdamKernel(Double.self, weightDecay: weightDecay, decoupled: decoupled)
  }
}
