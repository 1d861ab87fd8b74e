import Foundation
import Testing

@testable import ChainRule

/// Values and gradients at the extremes: subnormal and huge inputs, logits of ±1000,
/// probabilities 0, 1 and 1 ± ulp. Each case is compared with a reference computed in higher
/// precision — the same formula in Double for a Float graph (inputs are Float values, so they
/// convert exactly), an exact closed form for a Double graph — and measured in units in the
/// last place (ulps) of the reference, so a subnormal result is judged by subnormal spacing.
@Suite("Extreme values")
struct ExtremeValueTests {

  // MARK: The examples of issue 11

  // L = −Σ tᵢ log softmax(z)ᵢ with one-hot t, so ∂L/∂zᵢ = softmax(z)ᵢ − tᵢ. softmax(z)₁ =
  // e⁻⁹⁶/Σ ≈ 1.48e-42 is subnormal in Float, and the log's VJP ȳ·(1/x) overflowed 1/x there.
  @Test func handWrittenCrossEntropyInFloatMatchesPyTorch() {
    let graph = Graph<Float>()
    let z = graph.parameter(Tensor<Float>([[2, -93, 3]]), name: "z")
    let t = graph.constant(Tensor<Float>([[0, 0, 1]]))
    let loss = -(t * z.softmax().log()).sum()
    graph.backward(from: loss)
    let reference = zip(softmax([2, -93, 3]), [0.0, 0, 1]).map { $0 - $1 }
    expectUlps(z.gradient.scalars, reference, 4, "dz")
    // PyTorch 2.x, float32: [0.2689414, 1.484e-42, -0.2689414].
    expectRelative(z.gradient.scalars, [0.2689414, 1.484e-42, -0.2689414], 1e-3, "dz vs PyTorch")
  }

  // L = mean(log x), ∂L/∂xᵢ = 1/(4xᵢ); 1/x overflows for x = 4e-309 but 0.25/x = 6.25e307 does not.
  @Test func logOfASubnormalDoubleHasAFiniteGradient() {
    let x: [Double] = [subnormal("4e-309"), 0.5, 1, 2]
    let graph = Graph<Double>()
    let node = graph.parameter(Tensor(x), name: "x")
    graph.backward(from: node.log().mean())
    expectUlps(node.gradient.scalars, x.map { 1 / (4 * $0) }, 2, "dx")
    expectRelative([node.gradient.scalars[0]], [6.25e307], 1e-15, "dx[0] vs PyTorch")
  }

  // L = (1/3) Σᵢ log softmax(z)ᵢ, so ∂L/∂zⱼ = (1/3) Σᵢ (δᵢⱼ − softmax(z)ⱼ) = 1/3 − softmax(z)ⱼ.
  // softmax(z)₁ ≈ 2.7e-309 is subnormal; its log's VJP must not overflow.
  @Test func logOfASoftmaxWithASubnormalProbabilityMatchesPyTorch() {
    let graph = Graph<Double>()
    let z = graph.parameter(Tensor([[0.0, -710.5, -5]]), name: "z")
    graph.backward(from: z.softmax().log().mean())
    let reference = softmax([0, -710.5, -5]).map { 1.0 / 3 - $0 }
    expectUlps(z.gradient.scalars, reference, 8, "dz")
    // PyTorch 2.x, float64: [-0.65997, 0.33333, 0.32664].
    expectRelative(z.gradient.scalars, [-0.65997, 0.33333, 0.32664], 2e-5, "dz vs PyTorch")
  }

  // With target 0, L = −log(1 − p) = p + p²/2 + p³/3 + …; log(1 − p) rounded 1 − p first.
  @Test func binaryCrossEntropyOfASmallProbabilityIsExact() {
    let floatGraph = Graph<Float>()
    let floatLoss = floatGraph.input(Tensor<Float>([1e-7]))
      .binaryCrossEntropy(floatGraph.constant(Tensor<Float>([0])))
    let p = Double(Float(1e-7))
    expectUlps([floatLoss.value.scalar], [p + p * p / 2 + p * p * p / 3], 1, "Float p = 1e-7")
    expectUlps([floatLoss.value.scalar], [1.0000001e-07], 1, "Float p = 1e-7 vs PyTorch")

    let doubleGraph = Graph<Double>()
    let doubleLoss = doubleGraph.input(Tensor([1e-17]))
      .binaryCrossEntropy(doubleGraph.constant(Tensor([0.0])))
    expectUlps([doubleLoss.value.scalar], [1e-17 + 1e-34 / 2], 1, "Double p = 1e-17")
  }

  // MARK: Op by op, Float against Double

  // y = a/b, L = Σ w·y: ā = w/b, b̄ = −w·a/b². b² overflows (b = 1e20) or underflows
  // (b = 1e-25) in Float, 1/b overflows for the subnormal b = 1e-40, and w = 0 must give
  // b̄ = 0, not 0 · ∞.
  @Test func divideByHugeTinyAndSubnormalDenominators() {
    let a: [Float] = [1e30, 1e-30, 1e-3, 3, 1e-30, 2e30]
    let b: [Float] = [1e20, 1e-25, subnormal("1e-40"), 7, 1e-25, -1e-8]
    let w: [Float] = [1, 1e-20, 1e-3, 0.5, 0, 1e-30]
    let graph = Graph<Float>()
    let (aNode, bNode) = (
      graph.parameter(Tensor(a), name: "a"), graph.parameter(Tensor(b), name: "b")
    )
    graph.backward(from: (graph.constant(Tensor(w)) * (aNode / bNode)).sum())
    let (a64, b64, w64) = (a.map(Double.init), b.map(Double.init), w.map(Double.init))
    expectUlps(aNode.gradient.scalars, zip(w64, b64).map { $0 / $1 }, 2, "ā")
    let expected = (0..<a.count).map { -w64[$0] * a64[$0] / (b64[$0] * b64[$0]) }
    expectUlps(bNode.gradient.scalars, expected, 3, "b̄")
  }

  // The same in Double, where the reference b̄ = −w·a/b² is formed from the significands and
  // the exponents separately (`scaledProduct`), so nothing in it overflows.
  @Test func divideInDoubleAgainstAnExponentScaledReference() {
    let a: [Double] = [1e300, 1e-300, 1e-3, 3, 1e-300, 1e290]
    let b: [Double] = [1e200, 1e-160, subnormal("1e-310"), 7, 1e-160, -1e-10]
    let w: [Double] = [1, 1e-200, 1e-3, 0.5, 0, 1e-300]
    let graph = Graph<Double>()
    let (aNode, bNode) = (
      graph.parameter(Tensor(a), name: "a"), graph.parameter(Tensor(b), name: "b")
    )
    graph.backward(from: (graph.constant(Tensor(w)) * (aNode / bNode)).sum())
    expectUlps(
      aNode.gradient.scalars, (0..<a.count).map { scaledProduct([w[$0]], over: [b[$0]]) }, 2, "ā")
    let expected = (0..<a.count).map { -scaledProduct([w[$0], a[$0]], over: [b[$0], b[$0]]) }
    expectUlps(bNode.gradient.scalars, expected, 3, "b̄")
  }

  // L = Σ w·log x, x̄ = w/x: 1/x overflows in Float below 2.9e-39, and w = 0 must give 0.
  @Test func logOfSubnormalFloats() {
    let x: [Float] = [subnormal("1e-40"), .leastNonzeroMagnitude, 0.5, .leastNormalMagnitude]
    let w: [Float] = [1e-3, 0, 1, 1e-5]
    let graph = Graph<Float>()
    let node = graph.parameter(Tensor(x), name: "x")
    graph.backward(from: (graph.constant(Tensor(w)) * node.log()).sum())
    expectUlps(node.gradient.scalars, zip(w, x).map { Double($0) / Double($1) }, 1, "x̄")
  }

  // L = Σ relu(−eˣ) = 0 for every x, so x̄ = 0; eˣ overflows at x = 1000 (Double) and x = 89
  // (Float), and its VJP ȳ · y with ȳ = 0 and y = ∞ gave NaN. Where ȳ ≠ 0, x̄ = ȳ·eˣ:
  // e⁻¹⁰⁰⁰ underflows to 0 and eˣ beyond the range is ∞ in the reference too.
  @Test func expOverflowWithAZeroGradientGivesZero() {
    let doubleGraph = Graph<Double>()
    let x = doubleGraph.parameter(Tensor([1000.0, -1000, 1, 709]), name: "x")
    doubleGraph.backward(from: (-x.exp()).relu().sum())
    #expect(x.gradient.scalars.allSatisfy { $0 == 0 }, "x̄ = \(x.gradient.scalars)")

    let floatGraph = Graph<Float>()
    let xf = floatGraph.parameter(Tensor<Float>([89, -1000, 1, 88]), name: "x")
    floatGraph.backward(from: (-xf.exp()).relu().sum())
    #expect(xf.gradient.scalars.allSatisfy { $0 == 0 }, "x̄ = \(xf.gradient.scalars)")

    let values: [Float] = [89, -1000, -100, 88, 1]
    let direct = Graph<Float>()
    let xd = direct.parameter(Tensor(values), name: "x")
    direct.backward(from: xd.exp().sum())
    expectUlps(xd.gradient.scalars, values.map { Foundation.exp(Double($0)) }, 2, "x̄ = eˣ")
  }

  // L = mean(x²), x̄ = 2x/n: the forward overflows (x² beyond the range is ∞ in the reference
  // too) but 2x/n is finite; 2x itself overflows for x ≥ 1.7e38 (Float) or 9e307 (Double).
  @Test func squareOfHugeValuesHasAFiniteGradient() {
    let values: [Float] = [2e38, -3e38, 1, 1e20]
    let graph = Graph<Float>()
    let x = graph.parameter(Tensor(values), name: "x")
    let loss = x.squared().mean()
    graph.backward(from: loss)
    #expect(loss.value.scalar == .infinity)
    expectUlps(x.gradient.scalars, values.map { 2 * Double($0) / 4 }, 1, "x̄")

    let doubleGraph = Graph<Double>()
    let xd = doubleGraph.parameter(Tensor([1.5e308, -1e308, 3]), name: "x")
    doubleGraph.backward(from: xd.squared().mean())
    // 2x/3 for x = 1.5e308: 1e308 (formed as x/3·2, which does not overflow).
    expectUlps(xd.gradient.scalars, [1.5e308 / 3 * 2, -1e308 / 3 * 2, 2], 2, "x̄")
  }

  // mean(x) = Σx/n overflows in Σx when the mean itself is finite.
  @Test func meanOfHugeValuesIsFinite() {
    let values: [Float] = [3e38, 3e38, 3e38, 2e38]
    let graph = Graph<Float>()
    let x = graph.parameter(Tensor(values), name: "x")
    let mean = x.mean()
    expectUlps([mean.value.scalar], [values.map(Double.init).reduce(0, +) / 4], 1, "mean")
    let rows = graph.parameter(Tensor<Float>([[3e38, 1], [3e38, 2]]), name: "rows")
    expectUlps(rows.mean(alongAxis: 0).value.scalars, [3e38, 1.5], 1, "mean along axis 0")
    expectUlps(rows.mean(alongAxis: 1).value.scalars, [1.5e38, 1.5e38], 1, "mean along axis 1")
    graph.backward(from: mean)
    expectUlps(x.gradient.scalars, [0.25, 0.25, 0.25, 0.25], 0, "x̄")

    let doubleGraph = Graph<Double>()
    let big = doubleGraph.parameter(Tensor([1.7e308, 1.7e308, 1e308]), name: "x")
    // Σx/3 with the sum formed at a quarter scale, where it does not overflow.
    expectUlps([big.mean().value.scalar], [(1.7e308 / 4 * 2 + 1e308 / 4) / 3 * 4], 4, "mean")
  }

  // σ(±1000) is 0 or 1 and σ′ = σ(x)σ(−x) ≈ e⁻¹⁰⁰⁰ underflows to 0; tanh′ = 1 − tanh² the same.
  @Test func sigmoidAndTanhAtPlusMinus1000() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let values: [Double] = [1000, -1000, 0.5, -0.25]
      let (sigmoid, dSigmoid) = unary(values, Scalar.self) { $0.sigmoid() }
      expectUlps(sigmoid, values.map(exactSigmoid), 2, "σ (\(Scalar.self))")
      expectUlps(dSigmoid, values.map { exactSigmoid($0) * exactSigmoid(-$0) }, 4, "σ′")
      let (tanh, dTanh) = unary(values, Scalar.self) { $0.tanh() }
      expectUlps(tanh, values.map { Foundation.tanh($0) }, 2, "tanh (\(Scalar.self))")
      let sech2 = values.map { 1 / (Foundation.cosh($0) * Foundation.cosh($0)) }
      expectUlps(dTanh, sech2, 8, "tanh′ (\(Scalar.self))")
    }
    check(Float.self)
    check(Double.self)
  }

  // In the tails σ′ = σ(x)σ(−x) and tanh′ = 1/cosh²x are tiny but representable; 1 − y
  // rounded them to 0 once y rounded to 1 (σ: x > 17.3 in Float; tanh: |x| > 9 in Float).
  @Test func sigmoidAndTanhDerivativesInTheTails() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let name = String(describing: Scalar.self)
      let sigmoidAt: [Double] = [2.5, 5, 10, 17.5, 20, 30, 50, 100, -50]
      let dSigmoid = unary(sigmoidAt, Scalar.self) { $0.sigmoid() }.1
      let sigmoidReference = sigmoidAt.map { exactSigmoid($0) * exactSigmoid(-$0) }
      expectUlps(dSigmoid, sigmoidReference, 4, "σ′ (\(name))")
      let tanhAt: [Double] = [1.5, -3, 5, 9, -12, 20, 40]
      let dTanh = unary(tanhAt, Scalar.self) { $0.tanh() }.1
      let tanhReference = tanhAt.map { 1 / (Foundation.cosh($0) * Foundation.cosh($0)) }
      expectUlps(dTanh, tanhReference, 4, "tanh′ (\(name))")
    }
    check(Float.self)
    check(Double.self)
  }

  // ℓ = max(z, 0) − z·y + log1p(e^−|z|): at |z| = 1000 the log1p term is e⁻¹⁰⁰⁰ → 0, so
  // ℓ = max(z, 0) − z·y exactly; ∂ℓ/∂z = σ(z) − y with σ(±1000) = 1 or 0; ∂ℓ/∂y = −z.
  @Test func binaryCrossEntropyWithLogitsAtPlusMinus1000() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let z: [Double] = [1000, 1000, -1000, -1000, 1000, -1000]
      let y: [Double] = [1, 0, 0, 1, 0.5, 0.25]
      let (loss, (dz, dy)) = binary(z, y, Scalar.self) {
        $0.binaryCrossEntropyWithLogits($1, reduction: .sum)
      }
      let name = String(describing: Scalar.self)
      expectUlps([loss], [z.indices.map { max(z[$0], 0) - z[$0] * y[$0] }.reduce(0, +)], 0, name)
      expectUlps(dz, z.indices.map { (z[$0] > 0 ? 1 : 0) - y[$0] }, 0, "z̄ (\(name))")
      expectUlps(dy, z.map { -$0 }, 0, "ȳ (\(name))")
    }
    check(Float.self)
    check(Double.self)
  }

  // σ(z) − y for a confident right answer: z = 20, y = 1 gives −σ(−20) = −2.06e-9, not 0.
  @Test func binaryCrossEntropyWithLogitsOfConfidentAnswers() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let z: [Double] = [20, 50, -20, 3, 0.5, 30, -30]
      let y: [Double] = [1, 1, 0, 1, 1, 0.75, 0.25]
      let (_, (dz, _)) = binary(z, y, Scalar.self) {
        $0.binaryCrossEntropyWithLogits($1, reduction: .sum)
      }
      // σ(z) − y is −σ(−z) for y = 1, σ(z) for y = 0, and does not cancel for the soft ys.
      let reference = z.indices.map { i in
        y[i] == 1
          ? -exactSigmoid(-z[i]) : y[i] == 0 ? exactSigmoid(z[i]) : exactSigmoid(z[i]) - y[i]
      }
      expectUlps(dz, reference, 4, "z̄ (\(Scalar.self))")
    }
    check(Float.self)
    check(Double.self)
  }

  // Softmax cross-entropy with logits of ±1000: ℓ = z − m − log Σ e^(z − m), m the row
  // maximum; ∂L/∂z = (softmax(z)·Σt − t)/B. Reference: the same closed forms in Double.
  @Test func softmaxCrossEntropiesAtLogitsPlusMinus1000() {
    let logits: [[Double]] = [[1000, -1000, 0], [-1000, 1000, 999], [-1000, -1000, -1000]]
    let labels = [0, 2, 1]
    let probabilities = logits.map(softmax)
    let logProbabilities = logits.map(logSoftmax)
    let loss = -labels.indices.map { logProbabilities[$0][labels[$0]] }.reduce(0, +) / 3
    let dz = labels.indices.flatMap { row in
      (0..<3).map { (probabilities[row][$0] - ($0 == labels[row] ? 1 : 0)) / 3 }
    }
    let oneHot = labels.map { label in (0..<3).map { $0 == label ? 1.0 : 0 } }
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let name = String(describing: Scalar.self)
      let (sparse, dSparse) = crossEntropy(logits, labels: labels, Scalar.self)
      expectUlps([sparse], [loss], 2, "sparse loss (\(name))")
      expectUlps(dSparse, dz, 2, "sparse z̄ (\(name))")
      let (dense, dDense) = crossEntropy(logits, targets: oneHot, Scalar.self)
      expectUlps([dense], [loss], 2, "dense loss (\(name))")
      expectUlps(dDense, dz, 2, "dense z̄ (\(name))")
      let (values, gradient) = unary(logits.flatMap { $0 }, Scalar.self, shape: [3, 3]) {
        $0.logSoftmax()
      }
      expectUlps(values, logProbabilities.flatMap { $0 }, 2, "logSoftmax (\(name))")
      // L = Σ logSoftmax: z̄ⱼ = Σᵢ (δᵢⱼ − softmaxⱼ) = 1 − 3·softmaxⱼ, row by row: a difference
      // of terms of size 1 (ȳ and softmax·Σȳ) that cancels to 0 on the uniform row.
      let expected = probabilities.flatMap { $0.map { 1 - 3 * $0 } }
      expectUlps(gradient, expected, 4, "logSoftmax′ (\(name))", scale: 1)
    }
    check(Float.self)
    check(Double.self)
  }

  // Binary cross-entropy at p = 0, 1, 1 ± ulp and tiny p, with PyTorch's conventions: each
  // log clamped at −100, p̄ = (p − y)/max(p(1 − p), 10⁻¹²), ȳ = clampedLog(1 − p) − clampedLog(p).
  // The references: log(1 − p) = log of the exact 1 − p for p ≥ 1/2 (Sterbenz), the series
  // −p − p²/2 − p³/3 for tiny p; log p the series u − u²/2 + u³/3 for p = 1 + u near 1.
  @Test func binaryCrossEntropyAtZeroOneAndOnePlusMinusUlp() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tiny: Double) {
      let one = Double(1 as Scalar)
      let below = Double((1 as Scalar).nextDown)
      let above = Double((1 as Scalar).nextUp)
      let p: [Double] = [0, 0, 1, 1, below, below, above, tiny, tiny, 0.5]
      let y: [Double] = [0, 1, 0, 1, 0, 1, 0, 0, 1, 1]
      let (loss, gradients) = binary(p, y, Scalar.self) {
        $0.binaryCrossEntropy($1, reduction: .sum)
      }
      let logP = p.map { p in p == 0 ? -100 : max(referenceLog(p), -100) }
      let logQ = p.map { p in p >= one ? -100 : max(referenceLog1m(p), -100) }
      let terms = p.indices.map { -(y[$0] * logP[$0] + (1 - y[$0]) * logQ[$0]) }
      let name = String(describing: Scalar.self)
      expectUlps([loss], [terms.reduce(0, +)], 4, "loss (\(name))")
      let dp = p.indices.map { i -> Double in
        let q = one - p[i]  // exact for p ≥ 1/2; 1 for p = 0 and the tiny p
        let guarded = p[i] * q >= 1e-12
        return guarded ? (y[i] == 1 ? -1 / p[i] : 1 / q) : (p[i] - y[i]) / 1e-12
      }
      expectUlps(gradients.0, dp, 4, "p̄ (\(name))")
      expectUlps(gradients.1, p.indices.map { logQ[$0] - logP[$0] }, 2, "ȳ (\(name))")
    }
    check(Float.self, tiny: Double(Float(1e-30)))
    check(Double.self, tiny: 1e-300)
  }

  // MARK: The fast in-place paths agree with the reference paths at the extremes

  @Test func inPlaceAndReferenceVJPsAgreeAtTheExtremes() {
    let values: [Double] = [
      1000, -1000, 1e-300, subnormal("4e-309"), 1e300, -1e-300, 0.5, 0, 20, -9,
    ]
    let unaryOps: [any DifferentiableOperation] = [
      Exp(), Log(), Square(), Sigmoid(), Tanh(), ReLU(), Negate(),
    ]
    for op in unaryOps {
      compareFastAndReference(
        op, [Tensor(values)], gradient: Tensor([1, 0, 1e-3, 2, 1e-300, 1, 0, 1, 1, -2]))
    }
    let b: [Double] = [1e200, 1e-160, subnormal("4e-309"), 7, -1e-10, 1000, 1e-300, 2, 1e-25, 3]
    let binaryOps: [any DifferentiableOperation] = [Add(), Subtract(), Multiply(), Divide()]
    for op in binaryOps {
      compareFastAndReference(
        op, [Tensor(values), Tensor(b)],
        gradient: Tensor([1, 0, 1e-3, 2, 0, 1, 1e-300, 1, 1e-20, 1]))
    }
    let logits = Tensor(shape: [2, 4], scalars: [1000, -1000, 0, 999, -1000, -1000, -1000, -1000])
    compareFastAndReference(
      SparseSoftmaxCrossEntropy(), [logits, Tensor([0.0, 3])], gradient: Tensor(0.5))
    compareFastAndReference(
      BinaryCrossEntropyWithLogits(),
      [Tensor(values), Tensor([1, 0, 0.5, 1, 0, 1, 0.25, 1, 1, 0])],
      gradient: Tensor(2.0))
  }
}

// MARK: References

/// A subnormal number from its decimal spelling (a literal would warn that it loses digits).
private func subnormal<T: LosslessStringConvertible & BinaryFloatingPoint>(_ text: String) -> T {
  let value = T(text)!
  #expect(value.isSubnormal, "\(text) is not subnormal in \(T.self)")
  return value
}

/// softmax(z) in Double: e^(zᵢ − m) / Σⱼ e^(zⱼ − m).
private func softmax(_ z: [Double]) -> [Double] {
  let m = z.max()!
  let e = z.map { Foundation.exp($0 - m) }
  let total = e.reduce(0, +)
  return e.map { $0 / total }
}

/// log softmax(z) in Double: (zᵢ − m) − log Σⱼ e^(zⱼ − m).
private func logSoftmax(_ z: [Double]) -> [Double] {
  let m = z.max()!
  let logTotal = Foundation.log(z.map { Foundation.exp($0 - m) }.reduce(0, +))
  return z.map { ($0 - m) - logTotal }
}

/// σ(x) = 1/(1 + e⁻ˣ), written as e^x/(1 + e^x) for x < 0 so that no term overflows.
private func exactSigmoid(_ x: Double) -> Double {
  x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
}

/// log p for p in (0, 2): the series u − u²/2 + u³/3 for p = 1 + u with |u| < 2⁻²⁰, else log.
private func referenceLog(_ p: Double) -> Double {
  let u = p - 1  // exact near 1
  return abs(u) < 0x1p-20 ? u - u * u / 2 + u * u * u / 3 : Foundation.log(p)
}

/// log(1 − p): the series −p − p²/2 − p³/3 for p < 2⁻²⁰, the log of the exact 1 − p for p ≥ 1/2.
private func referenceLog1m(_ p: Double) -> Double {
  if p < 0x1p-20 { return -p - p * p / 2 - p * p * p / 3 }
  #expect(p >= 0.5, "referenceLog1m: no exact reference for \(p)")
  return Foundation.log(1 - p)
}

/// Π numerators / Π denominators without overflow or underflow on the way: the significands
/// (in [1, 2)) are multiplied and divided, the exponents added, and the result scaled once.
private func scaledProduct(_ numerators: [Double], over denominators: [Double]) -> Double {
  var significand = 1.0
  var exponent = 0
  for x in numerators {
    if x == 0 { return 0 }
    significand *= x.significand * (x < 0 ? -1 : 1)
    exponent += Int(x.exponent)
  }
  for x in denominators {
    significand /= x.significand * (x < 0 ? -1 : 1)
    exponent -= Int(x.exponent)
  }
  return significand * Foundation.pow(2, Double(exponent))
}

// MARK: Graph helpers, generic over the scalar type

/// f(x) for x of `shape` (default a vector) and the gradient of Σ f(x).
private func unary<Scalar: TensorScalar>(
  _ x: [Double], _: Scalar.Type, shape: [Int]? = nil, _ f: (Node<Scalar>) -> Node<Scalar>
) -> ([Scalar], [Scalar]) {
  let graph = Graph<Scalar>()
  let node = graph.parameter(
    Tensor(shape: shape ?? [x.count], scalars: x.map { Scalar($0) }), name: "x")
  let y = f(node)
  graph.backward(from: y.sum())
  return (y.value.scalars, node.gradient.scalars)
}

/// The scalar f(a, b) for two vectors and the gradients of both.
private func binary<Scalar: TensorScalar>(
  _ a: [Double], _ b: [Double], _: Scalar.Type, _ f: (Node<Scalar>, Node<Scalar>) -> Node<Scalar>
) -> (Scalar, ([Scalar], [Scalar])) {
  let graph = Graph<Scalar>()
  let aNode = graph.parameter(Tensor(a.map { Scalar($0) }), name: "a")
  let bNode = graph.parameter(Tensor(b.map { Scalar($0) }), name: "b")
  let loss = f(aNode, bNode)
  graph.backward(from: loss)
  return (loss.value.scalar, (aNode.gradient.scalars, bNode.gradient.scalars))
}

/// Mean sparse softmax cross-entropy of `logits` against class `labels`, and its z̄.
private func crossEntropy<Scalar: TensorScalar>(
  _ logits: [[Double]], labels: [Int], _: Scalar.Type
) -> (Scalar, [Scalar]) {
  let graph = Graph<Scalar>()
  let z = graph.parameter(Tensor(logits.map { $0.map { Scalar($0) } }), name: "z")
  let loss = z.softmaxCrossEntropy(labels: graph.constant(Tensor(labels.map { Scalar($0) })))
  graph.backward(from: loss)
  return (loss.value.scalar, z.gradient.scalars)
}

/// Mean dense softmax cross-entropy of `logits` against target rows, and its z̄.
private func crossEntropy<Scalar: TensorScalar>(
  _ logits: [[Double]], targets: [[Double]], _: Scalar.Type
) -> (Scalar, [Scalar]) {
  let graph = Graph<Scalar>()
  let z = graph.parameter(Tensor(logits.map { $0.map { Scalar($0) } }), name: "z")
  let t = graph.constant(Tensor(targets.map { $0.map { Scalar($0) } }))
  let loss = z.softmaxCrossEntropy(targets: t)
  graph.backward(from: loss)
  return (loss.value.scalar, z.gradient.scalars)
}

/// `accumulateVJP` (the training path) against `accumulateThroughVJP` (the reference), in
/// Float and Double, from zero buffers: equal to within one ulp, NaN where the other is NaN.
private func compareFastAndReference(
  _ op: any DifferentiableOperation, _ inputs: [Tensor<Double>], gradient: Tensor<Double>,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  func run<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = inputs.map { $0.converted(to: Scalar.self) }
    let y = op.forward(x)
    let g = gradient.converted(to: Scalar.self)
    let needs = x.map { _ in true }
    var fast = x.map { Tensor<Scalar>.zeros($0.shape) }
    op.accumulateVJP(x, output: y, gradient: g, into: &fast, needs: needs)
    var slow = x.map { Tensor<Scalar>.zeros($0.shape) }
    op.accumulateThroughVJP(x, output: y, gradient: g, into: &slow, needs: needs)
    for (f, s) in zip(fast, slow) {
      for (u, v) in zip(f.scalars, s.scalars) {
        let agree = (u.isNaN && v.isNaN) || u == v || abs(u - v) <= max(u.ulp, v.ulp)
        #expect(
          agree, "\(op.name) (\(Scalar.self)): in place \(u), reference \(v)",
          sourceLocation: sourceLocation)
      }
    }
  }
  run(Float.self)
  run(Double.self)
}

// MARK: Comparisons

/// Each `actual` (computed in `T`) within `ulps` units in the last place of the reference
/// rounded to `T` — or of `scale`, when the result is a difference of terms of that size and
/// may cancel to below it. An infinite rounded reference (beyond `T`'s range) must be matched
/// exactly; a subnormal one is measured in subnormal steps, 0 in steps of the least non-zero
/// magnitude.
private func expectUlps<T: BinaryFloatingPoint>(
  _ actual: [T], _ reference: [Double], _ ulps: Double, _ what: String, scale: Double = 0,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.count == reference.count, "\(what): count", sourceLocation: sourceLocation)
  for (i, (a, r)) in zip(actual, reference).enumerated() {
    let target = T(r)
    let distance: Double =
      target.isInfinite || !a.isFinite || r.isNaN
      ? (a == target || (a.isNaN && r.isNaN) ? 0 : .infinity)
      : abs(Double(a) - r) / Double(max(abs(target), T(scale)).ulp)
    #expect(
      distance <= max(ulps, 0.5),
      "\(what)[\(i)]: \(a) vs reference \(r): \(distance) ulps (allowed \(ulps))",
      sourceLocation: sourceLocation)
  }
}

/// |actual − expected| ≤ relative · |expected|, element by element (for published numbers).
private func expectRelative<Scalar: BinaryFloatingPoint>(
  _ actual: [Scalar], _ expected: [Double], _ relative: Double, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  for (i, (a, e)) in zip(actual, expected).enumerated() {
    #expect(
      abs(Double(a) - e) <= relative * abs(e), "\(what)[\(i)]: \(a) vs \(e)",
      sourceLocation: sourceLocation)
  }
}
