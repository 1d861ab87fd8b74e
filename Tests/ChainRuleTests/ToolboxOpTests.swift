import Foundation
import Testing
import _Differentiation

@testable import ChainRule

// The experimenter's toolbox (issue 15): the elementary functions of `TensorScalar`, tensor
// arithmetic with the scalar on either side, and the new ops' forward values, conventions at
// kinks and ties, and cross-checks against `_Differentiation`. The ops' gradients are also
// checked against central differences through the catalog (`OperationGradientTests`) and the
// random-graph fuzz.

/// The elementary functions, once per float type, against identities and exact values.
@Suite("TensorScalar elementary functions")
struct TensorScalarFunctionTests {
  func identities<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    for x: Scalar in [-2.5, -0.3, 0, 0.7, 1.9] {
      // sin² + cos² = 1; tan = sin / cos.
      let (s, c) = (Scalar.sin(x), Scalar.cos(x))
      #expect(Swift.abs(s * s + c * c - 1) <= tolerance, "\(Scalar.self) sin²+cos² at \(x)")
      #expect(Swift.abs(Scalar.tan(x) - s / c) <= tolerance * 4, "\(Scalar.self) tan at \(x)")
      // |x|, √(x²) = |x|, (x²)^(1/2) = |x|, e^x − 1 = expm1 x.
      #expect(Scalar.abs(x) == (x < 0 ? -x : x))
      #expect(Swift.abs(Scalar.sqrt(x * x) - Scalar.abs(x)) <= tolerance)
      #expect(Swift.abs(Scalar.pow(x * x, 0.5) - Scalar.abs(x)) <= tolerance)
      #expect(Swift.abs(Scalar.expm1(x) - (Scalar.exp(x) - 1)) <= tolerance * 8)
    }
    // Exact values: sin 0 = 0, cos 0 = 1, √4 = 2, 2¹⁰ = 1024, (−2)³ = −8, 0⁰ = 1.
    #expect(Scalar.sin(0) == 0 && Scalar.cos(0) == 1 && Scalar.sqrt(4) == 2)
    #expect(Scalar.pow(2, 10) == 1024 && Scalar.pow(-2, 3) == -8 && Scalar.pow(0, 0) == 1)
    // The IEEE edge cases: √(−1) and (−8)^(1/3) are NaN; 0^(−1) = +∞.
    #expect(Scalar.sqrt(-1).isNaN && Scalar.pow(-8, 1 / 3).isNaN)
    #expect(Scalar.pow(0, -1) == .infinity)
    // expm1 keeps the digits that e^x − 1 loses: expm1 x / x = 1 + x/2 + x²/6 + … .
    let tiny: Scalar = 1e-10
    #expect(Swift.abs(Scalar.expm1(tiny) / tiny - (1 + tiny / 2)) <= tolerance)
    #expect(Swift.abs((Scalar.exp(tiny) - 1) / tiny - 1) > 1e-8)  // the naive form's error
  }

  @Test func floatAndDouble() {
    identities(Float.self, tolerance: 1e-6)
    identities(Double.self, tolerance: 1e-15)
  }
}

@Suite("Tensor arithmetic and functions")
struct TensorToolboxMathTests {
  @Test func scalarsOnEitherSide() {
    let t = Tensor<Double>([[1, 2], [4, -8]])
    #expect(2 * t == Tensor([[2, 4], [8, -16]]))
    #expect(t * 2 == 2 * t)
    #expect(1 - t == Tensor([[0, -1], [-3, 9]]))
    #expect(t - 1 == Tensor([[0, 1], [3, -9]]))
    #expect(1 + t == Tensor([[2, 3], [5, -7]]))
    #expect(t + 1 == 1 + t)
    #expect(1 / t == Tensor([[1, 0.5], [0.25, -0.125]]))
    #expect(t / 2 == Tensor([[0.5, 1], [2, -4]]))
  }

  @Test func elementwiseFunctions() {
    let t = Tensor<Double>([0, 1, 4])
    #expect(t.exp() == Tensor([1, M_E, Foundation.exp(4)]))
    #expect(t.exp().log() == Tensor([0, 1, 4]))
    #expect(t.sqrt() == Tensor([0, 1, 2]))
    #expect(t.squared() == Tensor([0, 1, 16]))
    #expect(t.pow(1.5) == Tensor([0, 1, 8]))
    #expect(t.sin() == Tensor([0, Foundation.sin(1), Foundation.sin(4)]))
    #expect(t.cos() == Tensor([1, Foundation.cos(1), Foundation.cos(4)]))
    #expect(t.tanh() == Tensor([0, Foundation.tanh(1), Foundation.tanh(4)]))
    // σ(0) = 1/2; σ(x) = 1/(1 + e^(−x)).
    let sigmoid: [Double] = [0.5, 1 / (1 + Foundation.exp(-1)), 1 / (1 + Foundation.exp(-4))]
    #expect(t.sigmoid() == Tensor(sigmoid))
    #expect(Tensor<Float>([4, 9]).sqrt() == Tensor([2, 3]))
  }
}

/// Forward values and gradients of the new ops on small cases worked by hand, and their
/// conventions at kinks and ties.
@Suite("Toolbox ops: values and conventions")
struct ToolboxOpValueTests {
  @Test func sinCosSqrt() {
    // sin(π/2) = 1, cos(π/2) ≈ 0; d sin = cos, d cos = −sin: at 0, sin′ = 1 and cos′ = 0.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0, Double.pi / 2]), name: "x")
    let s = x.sin()
    let c = x.cos()
    expectClose(s.value, Tensor([0, 1]), absolute: 1e-16)
    expectClose(c.value, Tensor([1, 0]), absolute: 1e-16)
    graph.backward(from: (s + c).sum())
    // ∂/∂x (sin x + cos x) = cos x − sin x = [1, −1] at [0, π/2].
    expectClose(x.gradient, Tensor([1, -1]), absolute: 1e-16)

    // √[4, 9] = [2, 3]; d√x = 1/(2√x) = [1/4, 1/6].
    let g2 = Graph<Double>()
    let v = g2.input(Tensor([4, 9]), name: "v")
    let r = v.sqrt()
    g2.backward(from: r.sum())
    #expect(r.value == Tensor([2, 3]))
    expectClose(v.gradient, Tensor([0.25, 1.0 / 6]))
  }

  @Test func sqrtAtZeroIsInfinite() {
    // d√x/dx = 1/(2·0) = +∞ at 0, as PyTorch's grad / (2 · result).
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0.0]), name: "x")
    graph.backward(from: x.sqrt().sum())
    #expect(x.gradient.scalars == [.infinity])
  }

  @Test func powerWithAScalarExponent() {
    // [2, −1]³ = [8, −1]; d/dx x³ = 3x² = [12, 3].
    let graph = Graph<Double>()
    let x = graph.input(Tensor([2, -1]), name: "x")
    let y = x.pow(3)
    graph.backward(from: y.sum())
    #expect(y.value == Tensor([8, -1]))
    #expect(x.gradient == Tensor([12, 3]))
    // p = 0: y = 1 and the derivative is 0 everywhere, also at x = 0 (PyTorch's rule, not
    // 0 · 0⁻¹ = NaN).
    let g2 = Graph<Double>()
    let z = g2.input(Tensor([0, 5]), name: "z")
    let one = z.pow(0)
    g2.backward(from: one.sum())
    #expect(one.value == Tensor([1, 1]))
    #expect(z.gradient == Tensor([0, 0]))
  }

  @Test func powerOfTwoTensors() {
    // a = [2, 9], b = [3, 0.5]: y = [8, 3];
    // ∂y/∂a = b·a^(b−1) = [3·4, 0.5/3] = [12, 1/6];  ∂y/∂b = y·ln a = [8 ln 2, 3 ln 9].
    let graph = Graph<Double>()
    let a = graph.input(Tensor([2, 9]), name: "a")
    let b = graph.input(Tensor([3, 0.5]), name: "b")
    let y = a.pow(b)
    graph.backward(from: y.sum())
    expectClose(y.value, Tensor([8, 3]))
    expectClose(a.gradient, Tensor([12, 1.0 / 6]))
    expectClose(b.gradient, Tensor([8 * Foundation.log(2.0), 3 * Foundation.log(9.0)]))
  }

  @Test func powerAtAZeroBase() {
    // a = 0, b = [2, 0]: y = [0, 1]; ∂y/∂b at a = 0, b ≥ 0 is 0 (not 0·ln 0 = NaN), and
    // ∂y/∂a is b·a^(b−1) = [0, 0] — 0 where b = 0, not 0·0⁻¹ = NaN (PyTorch's conventions).
    let graph = Graph<Double>()
    let a = graph.input(Tensor([0, 0]), name: "a")
    let b = graph.input(Tensor([2, 0]), name: "b")
    let y = a.pow(b)
    graph.backward(from: y.sum())
    #expect(y.value == Tensor([0, 1]))
    #expect(a.gradient == Tensor([0, 0]))
    #expect(b.gradient == Tensor([0, 0]))
  }

  @Test func absAndItsKink() {
    // |[−2, 0, 3]| = [2, 0, 3]; sign x = [−1, 0, 1], with 0 at the kink (PyTorch's sgn).
    let graph = Graph<Double>()
    let x = graph.input(Tensor([-2, 0, 3]), name: "x")
    let y = x.abs()
    graph.backward(from: y.sum())
    #expect(y.value == Tensor([2, 0, 3]))
    #expect(x.gradient == Tensor([-1, 0, 1]))
  }

  @Test func maximumAndMinimumSplitTies() {
    // a = [1, 2, 3], b = [3, 2, 1]: max = [3, 2, 3], min = [1, 2, 1]; the middle is a tie,
    // where each side gets half: ∂max/∂a = [0, ½, 1], ∂max/∂b = [1, ½, 0].
    let graph = Graph<Double>()
    let a = graph.input(Tensor([1, 2, 3]), name: "a")
    let b = graph.input(Tensor([3, 2, 1]), name: "b")
    let high = a.maximum(b)
    let low = a.minimum(b)
    #expect(high.value == Tensor([3, 2, 3]))
    #expect(low.value == Tensor([1, 2, 1]))
    graph.backward(from: high.sum())
    #expect(a.gradient == Tensor([0, 0.5, 1]))
    #expect(b.gradient == Tensor([1, 0.5, 0]))
    graph.backward(from: low.sum())
    #expect(a.gradient == Tensor([1, 0.5, 0]))
    #expect(b.gradient == Tensor([0, 0.5, 1]))
    // maximum(x, x) = x passes the whole gradient back: ½ + ½.
    graph.backward(from: a.maximum(a).sum())
    #expect(a.gradient == Tensor([1, 1, 1]))
  }

  @Test func maximumPropagatesNaN() {
    let graph = Graph<Double>()
    let a = graph.input(Tensor([.nan, 1]), name: "a")
    let b = graph.input(Tensor([1, .nan]), name: "b")
    #expect(a.maximum(b).value.scalars.allSatisfy { $0.isNaN })
    #expect(a.minimum(b).value.scalars.allSatisfy { $0.isNaN })
    // A scalar on the right: max(x, 0) is relu's value.
    #expect(a.maximum(0).value.scalars[1] == 1)
  }

  @Test func clampPassesTheGradientAtItsBounds() {
    // clamp([−2, −1, 0, 1, 2], −1, 1) = [−1, −1, 0, 1, 1]; the gradient passes where
    // −1 ≤ x ≤ 1, bounds included (PyTorch): [0, 1, 1, 1, 0].
    let graph = Graph<Double>()
    let x = graph.input(Tensor([-2, -1, 0, 1, 2]), name: "x")
    let y = x.clamp(min: -1, max: 1)
    graph.backward(from: y.sum())
    #expect(y.value == Tensor([-1, -1, 0, 1, 1]))
    #expect(x.gradient == Tensor([0, 1, 1, 1, 0]))
    // One-sided, and min > max: everything becomes max and no gradient passes.
    #expect(x.clamp(min: 0.5).value == Tensor([0.5, 0.5, 0.5, 1, 2]))
    #expect(x.clamp(max: -1.5).value == Tensor([-2, -1.5, -1.5, -1.5, -1.5]))
    let crossed = x.clamp(min: 1, max: 0)
    graph.backward(from: crossed.sum())
    #expect(crossed.value == Tensor([0, 0, 0, 0, 0]))
    #expect(x.gradient == Tensor([0, 0, 0, 0, 0]))
  }

  @Test func whereSelectsAndDoesNotDifferentiateTheCondition() {
    // c = [1, 0, 2]: y = [a₀, b₁, a₂]; ā = [1, 0, 1], b̄ = [0, 1, 0], c̄ = 0.
    let graph = Graph<Double>()
    let c = graph.input(Tensor([1, 0, 2]), name: "c")
    let a = graph.input(Tensor([1, 2, 3]), name: "a")
    let b = graph.input(Tensor([10, 20, 30]), name: "b")
    let y = graph.where(c, a, b)
    graph.backward(from: (y * y).sum())
    #expect(y.value == Tensor([1, 20, 3]))
    // ∂Σy²/∂y = 2y, routed by the condition.
    #expect(a.gradient == Tensor([2, 0, 6]))
    #expect(b.gradient == Tensor([0, 40, 0]))
    #expect(c.gradient == Tensor([0, 0, 0]))
    // All three broadcast: c [2, 1], a [3], b [] give [2, 3].
    let rows = graph.constant(Tensor([[1], [0]]))
    let zero = graph.constant(Tensor(0.0))
    #expect(graph.where(rows, a, zero).value == Tensor([[1, 2, 3], [0, 0, 0]]))
  }

  @Test func stopGradientHoldsItsValue() {
    // L = Σ x · sg(x): ∂L/∂x = sg(x) = x (not 2x); L = Σ tanh(sg(x)) has no gradient at all.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0.5, -2]), name: "x")
    let stopped = x.stopGradient()
    #expect(stopped.value == x.value)
    let loss = (x * stopped).sum() + stopped.tanh().sum()
    graph.backward(from: loss)
    #expect(x.gradient == Tensor([0.5, -2]))
    // The gradient check holds the stopped node at its value too, so it agrees.
    #expect(graph.checkGradients(of: loss, withRespectTo: [x, stopped]).passed)
    // After feeding a new value, forward recomputes the stopped copy.
    x.value = Tensor([3, 1])
    graph.forward()
    #expect(stopped.value == Tensor([3, 1]))
  }

  @Test func logSumExpIsStableAndItsGradientIsSoftmax() {
    // log(e⁰ + e^(ln 3)) = ln 4; ∂/∂x = softmax = [1/4, 3/4].
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0, Foundation.log(3.0)]]), name: "x")
    let y = x.logSumExp(alongAxis: 1)
    graph.backward(from: y.sum())
    expectClose(y.value, Tensor([Foundation.log(4.0)]))
    expectClose(x.gradient, Tensor([[0.25, 0.75]]))
    // No overflow: log(2e¹⁰⁰⁰) = 1000 + ln 2; a row of −∞ gives −∞; keepingDimension keeps [1, 1].
    let big = graph.input(Tensor([[1000, 1000], [-.infinity, -.infinity]]), name: "big")
    let kept = big.logSumExp(alongAxis: -1, keepingDimension: true)
    #expect(kept.shape == [2, 1])
    expectClose(kept.value.scalars[0], 1000 + Foundation.log(2.0))
    #expect(kept.value.scalars[1] == -.infinity)
    // Along axis 0 of [[1, 2], [3, 4]]: [log(e + e³), log(e² + e⁴)].
    let m = graph.input(Tensor([[1, 2], [3, 4]]), name: "m")
    let expected = [
      Foundation.log(M_E + Foundation.exp(3)), Foundation.log(M_E * M_E + Foundation.exp(4)),
    ]
    expectClose(m.logSumExp(alongAxis: 0).value, Tensor(expected))
  }

  @Test func maxAndMinAlongAnAxisGiveTheGradientToTheFirstTie() {
    // x = [[1, 3, 3], [2, 0, 2]]: max along axis 1 = [3, 2], at the first maximal index
    // (1 and 0), so ∂/∂x = [[0, 1, 0], [1, 0, 0]], as torch.max(x, dim=1) does.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[1, 3, 3], [2, 0, 2]]), name: "x")
    let high = x.max(alongAxis: 1)
    graph.backward(from: high.sum())
    #expect(high.value == Tensor([3, 2]))
    #expect(x.gradient == Tensor([[0, 1, 0], [1, 0, 0]]))
    // z = [[2, 0, 5], [2, 1, 5]]: min along axis 0 = [2, 0, 5], kept as [1, 3]; columns 0 and
    // 2 tie, and the first minimal index (row 0) takes the gradient: [[1, 1, 1], [0, 0, 0]].
    let z = graph.input(Tensor([[2, 0, 5], [2, 1, 5]]), name: "z")
    let low = z.min(alongAxis: 0, keepingDimension: true)
    graph.backward(from: low.sum())
    #expect(low.value == Tensor([[2, 0, 5]]))
    #expect(z.gradient == Tensor([[1, 1, 1], [0, 0, 0]]))
    // A NaN is the row's maximum and minimum.
    let nan = graph.input(Tensor([[1, .nan, 3]]), name: "nan")
    #expect(nan.max(alongAxis: 1).value.scalars[0].isNaN)
    #expect(nan.min(alongAxis: -1).value.scalars[0].isNaN)
  }

  @Test func concatJoinsAndSplitsTheGradient() {
    // [[1, 2]] over [[3, 4], [5, 6]] along axis 0; beside each other along axis 1.
    let graph = Graph<Double>()
    let a = graph.input(Tensor([[1, 2]]), name: "a")
    let b = graph.input(Tensor([[3, 4], [5, 6]]), name: "b")
    let rows = graph.concat([a, b], alongAxis: 0)
    #expect(rows.value == Tensor([[1, 2], [3, 4], [5, 6]]))
    let columns = graph.concat([b, b.sin()], alongAxis: -1)
    #expect(columns.shape == [2, 4])
    #expect(columns.value[1, 0] == 5 && columns.value[1, 2] == Foundation.sin(5))
    // Seed [[1, 2], [3, 4], [5, 6]]: a gets the first row, b the rest.
    graph.backward(from: rows, seed: Tensor([[1, 2], [3, 4], [5, 6]]))
    #expect(a.gradient == Tensor([[1, 2]]))
    #expect(b.gradient == Tensor([[3, 4], [5, 6]]))
  }

  @Test func slicingSelectsAndScattersBack() {
    // x = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]].
    let graph = Graph<Double>()
    let x = graph.input(Tensor(shape: [3, 4], scalars: (0..<12).map(Double.init)), name: "x")
    #expect(x[1].value == Tensor([4, 5, 6, 7]))
    #expect(x[0..<2, 1...].value == Tensor([[1, 2, 3], [5, 6, 7]]))
    #expect(x[.all, .stride(from: 1, by: 2)].value == Tensor([[1, 3], [5, 7], [9, 11]]))
    #expect(x[-1, -1].value == Tensor(11))
    #expect(x[...1, ..<1].value == Tensor([[0], [4]]))
    #expect(x[.stride(by: 2), 2].value == Tensor([2, 10]))
    // Ends past the axis are clamped, as in Python: an empty result.
    #expect(x[5...].shape == [0, 4])
    // Σ x[.all, ::2] · 1: the gradient is 1 at the selected columns 0 and 2, 0 elsewhere.
    graph.backward(from: x[.all, .stride(by: 2)].sum())
    #expect(x.gradient == Tensor([[1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0]]))
  }

  @Test func gatherIsAnEmbeddingLookup() {
    // Rows [2, 0, 2] of [[1, 2], [3, 4], [5, 6]]; with seed 1 row 2 receives 2 (picked twice).
    let graph = Graph<Double>()
    let table = graph.parameter(Tensor([[1, 2], [3, 4], [5, 6]]), name: "table")
    let indices = graph.input(Tensor([2, 0, 2]), name: "k", requiresGradient: false)
    let rows = table.gather(indices)
    #expect(rows.value == Tensor([[5, 6], [1, 2], [5, 6]]))
    graph.backward(from: rows.sum())
    #expect(table.gradient == Tensor([[1, 1], [0, 0], [2, 2]]))
    // Indices of any shape: [2, 1] of a vector gives [2, 1]; new indices are fed like data.
    #expect(table.gather([1]).value == Tensor([[3, 4]]))
    indices.value = Tensor([1, 1, 0])
    graph.forward()
    #expect(rows.value == Tensor([[3, 4], [3, 4], [1, 2]]))
  }

  @Test func badShapesAndIndicesAreNamed() {
    func message(_ operation: any DifferentiableOperation, _ shapes: [[Int]]) -> String {
      let operands = shapes.enumerated().map { ShapeError.Operand(name: "x\($0)", shape: $1) }
      do {
        _ = try operation.outputShape(operands)
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    #expect(
      message(Slicing([.index(3)]), [[3, 4]])
        == "slice[3]: \"x0\" [3, 4] has no index 3 on axis 0 (size 3)")
    #expect(
      message(Slicing([.all, .stride(by: 0)]), [[3, 4]])
        == "slice[:, ::0]: \"x0\" [3, 4] axis 1: step 0 is not positive")
    #expect(
      message(Slicing([.index(0), .index(0), .index(0)]), [[3, 4]])
        == "slice[0, 0, 0]: \"x0\" [3, 4] has rank 2, fewer axes than 3 indices")
    #expect(
      message(Concat(axis: 0), [[2, 3], [2, 4]])
        == "concat(axis: 0): \"x1\" [2, 4] and \"x0\" [2, 3] differ off axis 0")
    #expect(
      message(Concat(axis: 0), [[2, 3], [3]])
        == "concat(axis: 0): \"x1\" [3] has rank 1, but \"x0\" [2, 3] has rank 2")
    #expect(message(Max(axis: 2), [[2, 3]]) == "max(axis: 2): \"x0\" [2, 3] has no axis 2")
    #expect(
      message(LogSumExp(axis: 0), [[0, 3]])
        == "logSumExp(axis: 0): \"x0\" [0, 3] is empty along axis 0")
    #expect(
      message(Where(), [[2], [3], [3]])
        == "where: condition \"x0\" [2] does not broadcast with \"x1\" [3] and \"x2\" [3]"
        + " (together [3])")
    #expect(
      message(Gather(), [[], [2]]) == "gather: \"x0\" [] must be a non-empty table [rows, …]")
    #expect(message(Concat(axis: 0), []) == "concat(axis: 0): needs at least one operand")
  }

  @Test func labelsAndFormulas() {
    #expect(ScalarPower(exponent: 3).name == "pow(3)")
    #expect(
      ScalarPower(exponent: 3).derivativeFormula(input: 0, operands: ["x"], output: "y") == "3·x^2")
    #expect(Clamp(lower: -1, upper: nil).name == "clamp(-1, ∞)")
    #expect(
      Slicing([.index(1), .all, .stride(from: 1, to: 5, by: 2)]).name == "slice[1, :, 1:5:2]")
    #expect(Where().derivativeFormula(input: 0, operands: ["c", "a", "b"], output: "y") == "0")
  }
}

// MARK: Cross-checks against the compiler's differentiation

@differentiable(reverse)
func toolboxOracle(_ x: Double, _ a: Double, _ b: Double) -> Double {
  sin(x) * cos(x) * cos(x) + sqrt(a) * pow(a, 1.5) + pow(a, b) - cos(b * x)
}

@Suite("Toolbox ops vs _Differentiation")
struct ToolboxOracleTests {
  @Test func sinCosSqrtPowMatchTheCompilersGradient() {
    // L = Σ sin x · cos² x + √a · a^1.5 + a^b − cos(b·x), element by element; the compiler
    // differentiates the same formula written over Double.
    var generator = SplitMix64(seed: 15)
    let xValue = randomTensor([2, 3], using: &generator)
    let aValue = randomTensor([2, 3], domain: .positive, using: &generator)
    let bValue = randomTensor([2, 3], domain: .positive, using: &generator)

    let graph = Graph<Double>()
    let x = graph.input(xValue, name: "x")
    let a = graph.input(aValue, name: "a")
    let b = graph.input(bValue, name: "b")
    let c = x.cos()
    let loss = (x.sin() * c * c + a.sqrt() * a.pow(1.5) + a.pow(b) - (b * x).cos()).sum()
    graph.backward(from: loss)

    var expectedLoss = 0.0
    for i in 0..<xValue.count {
      let (xi, ai, bi) = (xValue.scalars[i], aValue.scalars[i], bValue.scalars[i])
      expectedLoss += toolboxOracle(xi, ai, bi)
      let (dx, da, db) = gradient(at: xi, ai, bi, of: toolboxOracle)
      expectClose(x.gradient.scalars[i], dx, relative: 1e-12, absolute: 1e-14, "∂L/∂x[\(i)]")
      expectClose(a.gradient.scalars[i], da, relative: 1e-12, absolute: 1e-14, "∂L/∂a[\(i)]")
      expectClose(b.gradient.scalars[i], db, relative: 1e-12, absolute: 1e-14, "∂L/∂b[\(i)]")
    }
    expectClose(loss.value.scalar, expectedLoss, relative: 1e-13)
  }

  @Test func steepPowersPassTheGradientCheck() {
    // The exponents the catalog leaves out of the fuzz (their deep chains curve too fast for
    // a finite difference), each alone against central differences.
    var generator = SplitMix64(seed: 16)
    for p in [3.0, -1, -1.5, 2.5] {
      let graph = Graph<Double>()
      let x = graph.input(randomTensor([2, 3], domain: .positive, using: &generator), name: "x")
      let report = graph.checkGradients(
        of: x.pow(p).sum(), withRespectTo: [x], absoluteTolerance: 1e-8,
        relativeTolerance: 1e-6)
      #expect(report.status == .passed, "x^\(p):\n\(report)")
    }
  }

  @Test func scalarPowersMatchTheCompilersGradient() {
    // d/dx xᵖ for integer and fractional p, on both signs where defined.
    for (p, xs) in [(3.0, [-1.5, 0.7]), (-2.0, [-0.8, 1.3]), (0.5, [0.3, 2.0]), (2.5, [1.7])] {
      let graph = Graph<Double>()
      let x = graph.input(Tensor(xs), name: "x")
      graph.backward(from: x.pow(p).sum())
      for (i, xi) in xs.enumerated() {
        let expected = gradient(at: xi) { v in pow(v, p) }
        expectClose(x.gradient.scalars[i], expected, relative: 1e-13, "d/dx x^\(p) at \(xi)")
      }
    }
  }
}
