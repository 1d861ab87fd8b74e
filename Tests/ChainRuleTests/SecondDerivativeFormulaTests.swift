import Foundation
import Testing

@testable import ChainRule

/// Second and third derivatives built as graph nodes, against closed forms computed in plain
/// Swift from the forward values, and Hessians against central differences of gradients.
@Suite("Second-derivative formulas")
struct SecondDerivativeFormulaTests {
  /// Points on both sides of 0, inside and beyond |x| = 1 and 2 (where tanh's and sigmoid's
  /// first derivatives switch to their tail formulas), away from the zeros of the formulas.
  static let points = [-3.1, -1.7, -0.8, -0.3, 0.45, 0.9, 1.3, 2.6, 4.2]

  /// The k-th derivative of the element-wise `f` at `points`, each built from the last:
  /// dᵏ/dxᵏ Σ f(x) element by element, since element i of every derivative depends on xᵢ only.
  static func derivative(
    _ order: Int, of f: (Node<Double>) -> Node<Double>
  ) -> (x: [Double], value: [Double]) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(points), name: "x")
    var current = f(x)
    for _ in 0..<order { current = graph.gradients(of: current.sum(), withRespectTo: [x])[0] }
    return (points, current.value.scalars)
  }

  // tanh″ x = d/dx (1 − tanh² x) = −2·tanh x·(1 − tanh² x).
  @Test func tanhSecondDerivativeIsMinusTwoTanhTimesOneMinusTanhSquared() {
    let (xs, values) = Self.derivative(2) { $0.tanh() }
    for (x, value) in zip(xs, values) {
      let t = Foundation.tanh(x)
      expectClose(value, -2 * t * (1 - t * t), "tanh″(\(x))")
    }
  }

  // σ″ = d/dx σ(1 − σ) = σ′(1 − σ) − σσ′ = σ′(1 − 2σ) = σ(1 − σ)(1 − 2σ).
  @Test func sigmoidSecondDerivativeIsSigmaOneMinusSigmaOneMinusTwoSigma() {
    let (xs, values) = Self.derivative(2) { $0.sigmoid() }
    for (x, value) in zip(xs, values) {
      let s = 1 / (1 + Foundation.exp(-x))
      expectClose(value, s * (1 - s) * (1 - 2 * s), "σ″(\(x))")
    }
  }

  // With t = tanh x and t′ = 1 − t²: t″ = −2t·t′, so
  // t‴ = −2(t′·t′ + t·t″) = −2(t′² − 2t²t′) = −2t′(t′ − 2t²) = −2(1 − t²)(1 − 3t²).
  @Test func tanhThirdDerivativeIsMinusTwoOneMinusTanhSquaredOneMinusThreeTanhSquared() {
    let (xs, values) = Self.derivative(3) { $0.tanh() }
    for (x, value) in zip(xs, values) {
      let t = Foundation.tanh(x)
      expectClose(value, -2 * (1 - t * t) * (1 - 3 * t * t), "tanh‴(\(x))")
    }
  }

  // relu″ = 0 and step″ = 0: the conventions, at the kink x = 0 too.
  @Test func reluAndStepSecondDerivativesAreZeroIncludingAtZero() {
    for f in [{ (x: Node<Double>) in x.relu() }, { $0.step() }] {
      let graph = Graph<Double>()
      let x = graph.input(Tensor([-1, 0, 2]), name: "x")
      let first = graph.gradients(of: f(x).sum(), withRespectTo: [x])[0]
      let second = graph.gradients(of: first.sum(), withRespectTo: [x])[0]
      #expect(second.value == Tensor([0, 0, 0]))
    }
  }

  /// Seed 002's regression ŷ = w·x + b with MSE = (1/N) Σ (yᵢ − ŷᵢ)².
  static func regression(w: Double, b: Double) -> (
    graph: Graph<Double>, w: Node<Double>, b: Node<Double>, mse: Node<Double>
  ) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(Seed002FormulaTests.xs), name: "x")
    let y = graph.input(Tensor(Seed002FormulaTests.ys), name: "y")
    let weight = graph.parameter(Tensor(w), name: "w")
    let bias = graph.parameter(Tensor(b), name: "b")
    let mse = (y - (weight * x + bias)).squared().mean().named("MSE")
    return (graph, weight, bias, mse)
  }

  // MSE(θ) = (1/N)‖y − Xθ‖² with X = [x 1] and θ = (w, b): ∇ = −(2/N)Xᵀ(y − Xθ), so
  // H = (2/N)·XᵀX = (2/N)·[[Σx², Σx], [Σx, N]], the same at every θ.
  @Test func seed002HessianOfTheMeanSquaredErrorIsTwoOverNXTransposeX() {
    let xs = Seed002FormulaTests.xs
    let n = Double(xs.count)
    let sx = xs.reduce(0, +)
    let sxx = xs.reduce(0) { $0 + $1 * $1 }
    let expected = Tensor([[sxx, sx], [sx, n]]).map { 2 / n * $0 }
    for (w, b) in [(0.4, 0.1), (-3.0, 7.5)] {
      let model = Self.regression(w: w, b: b)
      expectClose(model.graph.hessian(of: model.mse, withRespectTo: [model.w, model.b]), expected)
    }
  }

  // Newton: θ₁ = θ₀ − H⁻¹∇(θ₀). MSE is quadratic, so θ₁ is its minimum from any θ₀: the
  // least-squares line w* = (NΣxy − ΣxΣy)/(NΣx² − (Σx)²), b* = (Σy − w*Σx)/N.
  @Test func seed002OneNewtonStepLandsOnTheLeastSquaresLine() {
    let (xs, ys) = (Seed002FormulaTests.xs, Seed002FormulaTests.ys)
    let n = Double(xs.count)
    let (sx, sy) = (xs.reduce(0, +), ys.reduce(0, +))
    let sxx = xs.reduce(0) { $0 + $1 * $1 }
    let sxy = zip(xs, ys).reduce(0) { $0 + $1.0 * $1.1 }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    let intercept = (sy - slope * sx) / n
    for (w, b) in [(0.4, 0.1), (-3.0, 7.5), (25.0, -40.0)] {
      let model = Self.regression(w: w, b: b)
      let gradient = model.graph.gradients(of: model.mse, withRespectTo: [model.w, model.b])
      let h = model.graph.hessian(of: model.mse, withRespectTo: [model.w, model.b])
      let (g0, g1) = (gradient[0].value.scalar, gradient[1].value.scalar)
      // H⁻¹ of [[p, q], [q, r]] is [[r, −q], [−q, p]] / (pr − q²).
      let (p, q, r) = (h[0, 0], h[0, 1], h[1, 1])
      let determinant = p * r - q * q
      let newW = w - (r * g0 - q * g1) / determinant
      let newB = b - (-q * g0 + p * g1) / determinant
      expectClose(newW, slope, relative: 1e-12, absolute: 1e-12, "w after one Newton step")
      expectClose(newB, intercept, relative: 1e-12, absolute: 1e-12, "b after one Newton step")
    }
  }

  /// ∂²f/∂θᵢ∂θⱼ by central differences of the gradient that `backward(from:)` computes (the
  /// tensor VJPs, independent of the node-built rules): column j is
  /// (8(∇(θ + εeⱼ) − ∇(θ − εeⱼ)) − (∇(θ + 2εeⱼ) − ∇(θ − 2εeⱼ)))/12ε, error O(ε⁴).
  static func hessianByDifferences(
    of output: Node<Double>, withRespectTo nodes: [Node<Double>], epsilon: Double = 1e-4
  ) -> Tensor<Double> {
    let graph = output.graph
    let n = nodes.map { $0.value.count }.reduce(0, +)
    func gradient() -> [Double] {
      // forward(), except that stop-gradient nodes keep their values, as their VJP treats them.
      for node in graph.nodes where node.kind == .operation && !(node.operation is StopGradient) {
        graph.evaluateInPlace(node.id)
      }
      graph.backward(from: output)
      return nodes.flatMap { $0.gradient.scalars }
    }
    var result = Tensor<Double>.zeros([n, n])
    var column = 0
    for node in nodes {
      let original = node.value
      for element in 0..<original.count {
        func at(_ step: Double) -> [Double] {
          var moved = original
          moved.scalars[element] += step
          node.value = moved
          return gradient()
        }
        let (plus, minus) = (at(epsilon), at(-epsilon))
        let (plus2, minus2) = (at(2 * epsilon), at(-2 * epsilon))
        for row in 0..<n {
          result.scalars[row * n + column] =
            (8 * (plus[row] - minus[row]) - (plus2[row] - minus2[row])) / (12 * epsilon)
        }
        node.value = original
        column += 1
      }
    }
    graph.forward()
    return result
  }

  // The seed 000 loss L(w1, b1, w2, b2) over its 5 parameter elements: the node-built Hessian
  // against central differences of the backward gradient, and symmetric.
  @Test func seed000HessianOverItsFiveParametersMatchesDifferencesOfGradients() {
    let net = Examples.seed000()
    let parameters = [net.w1, net.b1, net.w2, net.b2]
    let built = net.graph.hessian(of: net.loss, withRespectTo: parameters)
    let numeric = Self.hessianByDifferences(of: net.loss, withRespectTo: parameters)
    #expect(built.shape == [5, 5])
    expectClose(built, numeric, relative: 1e-8, absolute: 1e-9, "seed 000 Hessian")
    expectClose(built, built.transposed(), relative: 1e-12, absolute: 1e-15, "symmetry")
    #expect(built.scalars.filter { abs($0) > 1e-3 }.count >= 15, "a dense, live Hessian")
  }

  // H·v (reverse over reverse, no matrix) equals the dense Hessian times v, and re-evaluates
  // for a new v fed into its input node.
  @Test func hessianVectorProductMatchesTheDenseHessian() {
    let net = Examples.seed000()
    let parameters = [net.w1, net.b1, net.w2, net.b2]
    let h = net.graph.hessian(of: net.loss, withRespectTo: parameters)
    var generator = SplitMix64(seed: 5)
    let vector = parameters.map { net.graph.input(randomTensor($0.shape, using: &generator)) }
    let products = net.graph.hessianVectorProduct(
      of: net.loss, withRespectTo: parameters, vector: vector)
    for _ in 0..<2 {
      let v = vector.flatMap { $0.value.scalars }
      let expected = (0..<5).map { i in (0..<5).reduce(0) { $0 + h[i, $1] * v[$1] } }
      expectClose(
        Tensor(products.flatMap { $0.value.scalars }), Tensor(expected), relative: 1e-12,
        absolute: 1e-15, "H·v")
      for part in vector { part.value = randomTensor(part.shape, using: &generator) }
      net.graph.forward()
    }
    #expect(products.allSatisfy { $0.derivativeOrder == 2 })
    #expect(products[0].name == "(∇²L·v)[w1]")
  }
}
