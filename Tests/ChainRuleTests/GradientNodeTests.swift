import Foundation
import Testing

@testable import ChainRule

/// Gradients built as graph nodes: every op's node-built VJP pinned to its tensor VJP, and the
/// builder's semantics (fan-out, broadcasting, unreached nodes, names, orders, re-evaluation,
/// training through a gradient).
@Suite("Gradients as nodes")
struct GradientNodeTests {
  static let cases: [(String, OperationCheck)] = OperationCatalog.all.flatMap { op in
    op.checks.map { ("\(op): \($0.description)", $0) }
  }

  /// The node-built VJP (`gradientNodes`) against the tensor `vjp` at the op's check case,
  /// with a random ȳ, then again after new operand values and ȳ are fed and `forward()` runs:
  /// a rule that froze a forward value into a constant fails the second comparison.
  @Test(arguments: cases.map(\.0))
  func nodeBuiltVJPMatchesTensorVJP(_ caseName: String) {
    let check = Self.cases.first { $0.0 == caseName }!.1
    var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: caseName.utf8.count * 104_729))
    let graph = Graph<Double>()
    let inputs = check.inputShapes.enumerated().map { index, shape in
      graph.input(randomTensor(shape, domain: check.domain, using: &generator), name: "x\(index)")
    }
    let output = check.build(graph, inputs)
    let operation = output.operation!
    let operands = output.inputs
    let seed = graph.input(randomTensor(output.shape, using: &generator), name: "ȳ")
    let shares: [Node<Double>?]
    do {
      shares = try operation.nodeBuiltVJP(
        operands, output: output, gradient: seed, needs: operands.map { _ in true })
    } catch {
      Issue.record("op \(type(of: operation)) has no node-built VJP (\(caseName)): \(error)")
      return
    }
    #expect(shares.count == operands.count, "\(caseName): one share per operand")

    func compare(_ stage: String) {
      let expected = operation.vjp(
        operands.map(\.value), output: output.value, gradient: seed.value)
      for (slot, operand) in operands.enumerated() {
        let tensor = expected[slot].summed(toShape: operand.shape)
        let nodes = shares[slot]?.value.summed(toShape: operand.shape) ?? .zeros(operand.shape)
        expectClose(
          nodes, tensor, relative: 1e-12, absolute: 1e-12, "\(caseName), operand \(slot), \(stage)")
      }
    }
    compare("as built")
    for input in inputs {
      input.value = randomTensor(input.shape, domain: check.domain, using: &generator)
    }
    seed.value = randomTensor(seed.shape, using: &generator)
    graph.forward()
    compare("after forward() with new values")
  }

  /// The extreme inputs of the extreme-value tests (ExtremeValueTests) for the ops whose tensor
  /// VJP is careful there: each case the op's operands, applied as `build` applies them, and ȳ.
  static let extremeCases: [(String, [Tensor<Double>], Tensor<Double>, OperationCheck)] = {
    let subnormal = Double("1e-310")!
    let tiny = Double("1e-320")!
    let divide = OperationCatalog.all.first { $0 == Divide.self }!.checks[0]
    let power = Power.checks[0]
    let bce = BinaryCrossEntropy.checks[1]  // .sum, as ExtremeValueTests
    let logits = BinaryCrossEntropyWithLogits.checks[1]
    let below = 1.0.nextDown
    let above = 1.0.nextUp
    return [
      // ExtremeValueTests.divideInDoubleAgainstAnExponentScaledReference: ȳ·y under- or
      // overflows (the fallback −ȳ·(y/b)), a subnormal b, and ȳ = 0.
      (
        "div: huge, tiny and subnormal denominators",
        [
          Tensor([1e300, 1e-300, 1e-3, 3, 1e-300, 1e290]),
          Tensor([1e200, 1e-160, subnormal, 7, 1e-160, -1e-10]),
        ], Tensor([1, 1e-200, 1e-3, 0.5, 0, 1e-300]), divide
      ),
      // ToolboxOpTests.powerAtAZeroBase (a = 0 with b = 2 and b = 0: PyTorch's zeros), and
      // the overflow guard: a = b = 1e-320 has a^(b − 1) = ∞ but ā = ȳ·b·a^(b−1) ≈ ȳ; a = 0,
      // b = 3 has b̄ = 0, not 0·ln 0.
      (
        "pow: zero base, zero exponent, overflowing factor",
        [Tensor([0, 0, tiny, 2, 0]), Tensor([2, 0, tiny, 0, 3])],
        Tensor([1, 1, 1, 0.5, 2]), power
      ),
      // ExtremeValueTests.binaryCrossEntropyAtZeroOneAndOnePlusMinusUlp: p = 0, 1, 1 ± ulp and
      // a tiny p, where log(1 − p) must be log1p(−p).
      (
        "binaryCrossEntropy: p at 0, 1, 1 ± ulp and 1e-300",
        [
          Tensor([0, 0, 1, 1, below, below, above, 1e-300, 1e-300, 0.5, 1e-17, 3e-9]),
          Tensor([0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0.25]),
        ], Tensor(1.0), bce
      ),
      // ExtremeValueTests.binaryCrossEntropyWithLogitsAtPlusMinus1000 and …OfConfidentAnswers:
      // σ(z) − y for a confident right answer is −σ(−z), not 0.
      (
        "binaryCrossEntropyWithLogits: z = ±1000 and confident answers",
        [
          Tensor([1000, 1000, -1000, -1000, 1000, -1000, 20, 50, -20, 3, 0.5, 30, -30]),
          Tensor([1, 0, 0, 1, 0.5, 0.25, 1, 1, 0, 1, 1, 0.75, 0.25]),
        ], Tensor(2.0), logits
      ),
    ]
  }()

  /// The pin test at the extremes: the node-built first-order VJP of Divide, Power and both
  /// binary cross-entropies equals their tensor VJP bit for bit (sign of zero included), also
  /// where the plain formula has 0·∞, b² overflowing or σ(z) rounded to 1. The operands are
  /// fed as they are (no check domain); the targets of BCE-with-logits are the values, not
  /// σ of them.
  @Test(arguments: extremeCases.map(\.0))
  func nodeBuiltVJPMatchesTensorVJPAtTheExtremes(_ caseName: String) throws {
    let (_, values, gradient, check) = Self.extremeCases.first { $0.0 == caseName }!
    let graph = Graph<Double>()
    let inputs = values.map { graph.input($0) }
    var output = check.build(graph, inputs)
    if output.inputs != inputs {  // BCE-with-logits' check applies σ to the targets: undo
      output = graph.apply(output.operation!, inputs)
    }
    let operation = output.operation!
    let seed = graph.input(gradient, name: "ȳ")
    let shares = try operation.nodeBuiltVJP(
      inputs, output: output, gradient: seed, needs: inputs.map { _ in true })
    let expected = operation.vjp(values, output: output.value, gradient: gradient)
    for (slot, input) in inputs.enumerated() {
      let tensor = expected[slot].summed(toShape: input.shape).scalars
      let nodes = try #require(shares[slot]).value.summed(toShape: input.shape).scalars
      for (index, (node, reference)) in zip(nodes, tensor).enumerated() {
        #expect(
          node.bitPattern == reference.bitPattern,
          "\(caseName), operand \(slot) [\(index)]: node-built \(node), tensor VJP \(reference)")
      }
    }
  }

  /// Every catalog op has a JVP rule: asked through `forwardModeRule` at each check case, a
  /// missing one is a failure naming the op (the protocol's default would stop the run).
  @Test func everyCatalogOpHasAJVPRuleByAsking() {
    for (caseName, check) in Self.cases {
      let graph = Graph<Double>()
      let inputs = check.inputShapes.map { graph.input(Tensor.zeros($0).map { _ in 0.5 }) }
      let output = check.build(graph, inputs)
      let operation = output.operation!
      do {
        _ = try operation.forwardModeRule(
          output.inputs.map(\.value), output: output.value,
          tangents: output.inputs.map { $0.value })
      } catch {
        Issue.record("op \(type(of: operation)) has no JVP rule (\(caseName)): \(error)")
      }
    }
  }

  /// A missing rule is a typed error, not a stopped process, when asked through
  /// `nodeBuiltVJP`/`forwardModeRule`: an op with only forward and VJP, as a user may write.
  @Test func aMissingRuleIsAnErrorNamingTheOp() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    let y = graph.apply(IdentityWithoutRules(), [x])
    #expect(throws: MissingRule(op: "identityWithoutRules", rule: .nodeBuiltVJP)) {
      try IdentityWithoutRules().nodeBuiltVJP([x], output: y, gradient: x, needs: [true])
    }
    #expect(throws: MissingRule(op: "identityWithoutRules", rule: .jvp)) {
      try IdentityWithoutRules().forwardModeRule([x.value], output: y.value, tangents: [x.value])
    }
    // An op that has its rules answers through the same calls.
    let shares = try? Tanh().nodeBuiltVJP([x], output: x.tanh(), gradient: x, needs: [true])
    #expect(shares?.count == 1 && shares?[0] != nil)
    #expect(
      MissingRule(op: "identityWithoutRules", rule: .nodeBuiltVJP).description
        == "identityWithoutRules: this op has no node-built VJP (gradientNodes), so its "
        + "gradient cannot be built as graph nodes or differentiated again")
  }

  // y = tanh(w·x), w and x scalars (forward: x, w, z = w·x, y = tanh z: 4 nodes).
  // ∂y/∂w: the seed ones (1 node); tanh′ on (z, y, ones) (1); w̄ = g·x (1): 3 nodes, the
  // ones not multiplied in and y read, not computed again.
  // ∂²y/∂w² from g·x: the seed ones (1); ḡ = ones·x is x itself (0); tanh′'s x̄ =
  // (ḡ·ones)·f″ with ḡ·ones = x (0) and f″ = −2·y·(1 − y²) on the existing y: y², the
  // constant 1, 1 − y², the constant −2, −2·y, −2·y·(1 − y²) (6), then x·f″ (1); the share
  // for y is none and ones has no path to w; w̄ = z̄·x (1): 9 nodes.
  // Before: 3 and 12 (a ones constant multiplied in twice, tanh z computed again).
  @Test func secondOrderGraphsAreSmall() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(0.5), name: "x")
    let w = graph.parameter(Tensor(1.5), name: "w")
    let y = (w * x).tanh()
    #expect(graph.nodeCount == 4)
    let first = graph.gradients(of: y, withRespectTo: [w])[0]
    #expect(graph.nodeCount == 4 + 3)
    let second = graph.gradients(of: first, withRespectTo: [w])[0]
    #expect(graph.nodeCount == 4 + 3 + 9)
    let created = graph.nodes[4...]
    #expect(!created.contains { $0.operation is Tanh }, "tanh is not computed again")
    #expect(
      !created.contains { node in
        node.operation is Multiply && node.inputs.contains { $0.isOnes }
      }, "no product with the seed of ones")
    // The values, against the formulas: x(1 − y²) and −2x²y(1 − y²).
    let t = y.value.scalar
    expectClose(first.value.scalar, 0.5 * (1 - t * t), relative: 1e-15)
    expectClose(second.value.scalar, -2 * 0.25 * t * (1 - t * t), relative: 1e-15)

    // H·v over (w, x) given ∇y = (g·x, g·w) reuses it: the constants v_w, v_x (2), the
    // product s = Σ g_w·v_w + Σ g_x·v_x (2 products, 2 sums, 1 add: 5); then ∇s: the seed
    // ones (1); add and sum pass it on as it is (0); ones·v is v (0), so ḡ_w = v_w, ḡ_x = v_x;
    // g·x gives ḡ = v_w·x and x̄ = v_w·g, g·w gives v_x·w and w̄ = v_x·g, ḡ's two shares added
    // (5); tanh′ gives ḡ·f″ as above (7); w·x gives z̄·x and z̄·w, each added (4): 24 nodes.
    // Without `gradients:` the first gradient is built again: ones, tanh′, g·x, g·w (4 more).
    let gradients = graph.gradients(of: y, withRespectTo: [w, x])
    let v = [Tensor(1.0), Tensor(0.0)]
    var count = graph.nodeCount
    let reused = graph.hessianVectorProduct(
      of: y, withRespectTo: [w, x], vector: v, gradients: gradients)
    #expect(graph.nodeCount - count == 24)
    count = graph.nodeCount
    let rebuilt = graph.hessianVectorProduct(of: y, withRespectTo: [w, x], vector: v)
    #expect(graph.nodeCount - count == 24 + 4)
    #expect(reused.map(\.value) == rebuilt.map(\.value))
    expectClose(reused[0].value.scalar, second.value.scalar, relative: 1e-15)
  }

  /// A hook that lies off the gradient's path does not stop `gradients(of:)` (one on it
  /// does, with a message naming the node: the `gradients-hooked-node` trap).
  @Test func aHookOffThePathDoesNotStopGradientsAsNodes() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    let c = graph.input(Tensor([3, 4]), name: "c")
    let offPath = (c * 2).named("offPath")
    offPath.registerHook { _ in nil }
    let y = (x.squared() + offPath).sum()
    let built = graph.gradients(of: y, withRespectTo: [x])[0]
    #expect(built.value == Tensor([2, 4]))
  }

  /// The pin test above reaches every op of the catalog: an op without `gradientNodes` would
  /// fail it with a message naming the op.
  @Test func thePinTestCoversEveryCatalogOp() {
    var covered = Set<String>()
    for (_, check) in Self.cases {
      let graph = Graph<Double>()
      let inputs = check.inputShapes.map { graph.input(Tensor.zeros($0).map { _ in 0.5 }) }
      covered.insert(String(describing: type(of: check.build(graph, inputs).operation!)))
    }
    #expect(covered == Set(OperationCatalog.all.map { String(describing: $0) }))
  }

  // y = Σ (a ⊙ b + a), a [3, 4], b [4]: a is used twice (fan-out) and b is broadcast, so
  // ∂y/∂a = b + 1 per row and ∂y/∂b = Σ_rows a (summed back). Compared with backward(from:).
  @Test func fanOutAndBroadcastingMatchBackward() {
    var generator = SplitMix64(seed: 13)
    let graph = Graph<Double>()
    let a = graph.input(randomTensor([3, 4], using: &generator), name: "a")
    let b = graph.input(randomTensor([4], using: &generator), name: "b")
    let y = (a * b + a).sum().named("y")
    let built = graph.gradients(of: y, withRespectTo: [a, b])
    graph.backward(from: y)
    #expect(built[0].shape == [3, 4] && built[1].shape == [4])
    expectClose(built[0].value, a.gradient)
    expectClose(built[1].value, b.gradient)
    #expect(built[0].name == "∂y/∂a" && built[1].name == "∂y/∂b")
    #expect(built.allSatisfy { $0.derivativeOrder == 1 })
    #expect(y.derivativeOrder == 0)
  }

  // d/dx x³ = 3x², d²/dx² = 6x, d³/dx³ = 6, d⁴/dx⁴ = 0: each order built from the last.
  @Test func repeatedDifferentiationOfACube() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(0.7), name: "x")
    let cube = x * x * x
    let first = graph.gradients(of: cube, withRespectTo: [x])[0]
    let second = graph.gradients(of: first, withRespectTo: [x])[0]
    let third = graph.gradients(of: second, withRespectTo: [x])[0]
    let fourth = graph.gradients(of: third, withRespectTo: [x])[0]
    expectClose(first.value.scalar, 3 * 0.49)
    expectClose(second.value.scalar, 6 * 0.7)
    expectClose(third.value.scalar, 6)
    #expect(fourth.value.scalar == 0)
    #expect([first, second, third].map(\.derivativeOrder) == [1, 2, 3])
    // Re-evaluated at a new x, nothing frozen: 3x², 6x at x = −1.5.
    x.value = Tensor(-1.5)
    graph.forward()
    expectClose(first.value.scalar, 3 * 2.25)
    expectClose(second.value.scalar, -9)
  }

  // Only nodes on a path from the wrt nodes to the output get gradients: u = 2x does not
  // reach y = x², so ∂y/∂u is a zeros constant; z = 3·c does not depend on x.
  @Test func unreachedNodesGetZerosAndUnrelatedNodesGetNothing() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    let c = graph.input(Tensor([5, 6]), name: "c")
    let u = (2 * x).named("u")
    let y = (x.squared() + 3 * c).sum().named("y")
    let before = graph.nodeCount
    let built = graph.gradients(of: y, withRespectTo: [x, u])
    #expect(built[0].value == Tensor([2, 4]))
    #expect(built[1].value == Tensor([0, 0]) && built[1].kind == .constant)
    #expect(built[1].name == "∂y/∂u")
    // No node of the gradient reads c: the 3·c branch does not depend on x.
    let created = graph.nodes[before...]
    #expect(!created.contains { $0.inputs.contains(c) })
  }

  // A non-scalar output takes a seed: the vector-Jacobian product uᵀJ. y = x ⊙ x, J = 2·diag x.
  @Test func aSeedNodeGivesTheVectorJacobianProduct() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, -2, 3]), name: "x")
    let u = graph.input(Tensor([0.5, 1, -1]), name: "u")
    let built = graph.gradients(of: x * x, withRespectTo: [x], seed: u)[0]
    #expect(built.value == Tensor([1, -4, -6]))
  }

  // Gradient penalty: R = L + ‖∂L/∂x‖² trained on with backward(from:), the tensor VJPs of
  // the gradient nodes checked against central differences of R.
  @Test func backwardThroughAGradientPenaltyMatchesCentralDifferences() {
    var generator = SplitMix64(seed: 21)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([2, 3], using: &generator), name: "x")
    let w = graph.parameter(randomTensor([3, 2], using: &generator), name: "w")
    let b = graph.parameter(randomTensor([2], using: &generator), name: "b")
    let hidden = (x.matmul(w) + b).tanh()
    let loss = (hidden.sigmoid() * hidden.exp()).logSumExp(alongAxis: 1).mean().named("L")
    let gradientX = graph.gradients(of: loss, withRespectTo: [x])[0]
    let penalized = loss + gradientX.squared().sum()
    let report = graph.checkGradients(
      of: penalized, withRespectTo: [w, b, x], absoluteTolerance: 1e-8, relativeTolerance: 1e-6)
    #expect(report.status == .passed, "\(report)")
  }

  // Grad of grad into parameters: backward(from: Σ ∂L/∂x) gives ∂(Σ ∂L/∂x)/∂w, which the
  // node-built gradient of the same sum must equal.
  @Test func backwardFromAGradientMatchesTheNodeBuiltGradientOfIt() {
    var generator = SplitMix64(seed: 34)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([3, 2], using: &generator), name: "x")
    let w = graph.parameter(randomTensor([2, 2], using: &generator), name: "w")
    let loss = x.matmul(w).softmax().log().max(alongAxis: 1).sum()
    let gradientSum = graph.gradients(of: loss, withRespectTo: [x])[0].sum()
    let built = graph.gradients(of: gradientSum, withRespectTo: [w])[0]
    graph.backward(from: gradientSum)
    expectClose(built.value, w.gradient, relative: 1e-12, absolute: 1e-14)
    #expect(w.gradient.scalars.contains { abs($0) > 1e-3 }, "a live second derivative")
  }

  // The builder is generic: in Float, tanh″ = −2t(1 − t²) to Float precision, and the
  // first-order gradient graph equals backward(from:) bit for bit (the same scalar rules).
  @Test func floatGraphsBuildGradientsToo() {
    let graph = Graph<Float>()
    let x = graph.input(Tensor([-2.5, -0.4, 0.3, 1.6]), name: "x")
    let loss = x.tanh().sum()
    let first = graph.gradients(of: loss, withRespectTo: [x])[0]
    let second = graph.gradients(of: first.sum(), withRespectTo: [x])[0]
    graph.backward(from: loss)
    #expect(first.value == x.gradient)
    for (value, x) in zip(second.value.scalars, x.value.scalars) {
      let t = Foundation.tanh(Double(x))
      #expect(abs(Double(value) - (-2 * t * (1 - t * t))) <= 1e-6, "tanh″(\(x)) in Float")
    }
  }

  // Names of derivatives of derivatives follow the usual notation.
  @Test func derivativesOfDerivativesAreNamedInTheUsualNotation() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(0.3), name: "x")
    let w = graph.input(Tensor(0.6), name: "w")
    let loss = (x * w).tanh().named("L")
    let first = graph.gradients(of: loss, withRespectTo: [x, w])
    let second = graph.gradients(of: first[0], withRespectTo: [x, w])
    let third = graph.gradients(of: second[0], withRespectTo: [x])[0]
    let mixed = graph.gradients(of: second[1], withRespectTo: [x])[0]
    #expect(first.map(\.name) == ["∂L/∂x", "∂L/∂w"])
    #expect(second.map(\.name) == ["∂²L/∂x²", "∂²L/∂x∂w"])
    #expect(third.name == "∂³L/∂x³")
    #expect(mixed.name == "∂³L/∂x∂w∂x")
    #expect(Graph<Double>.derivativeName(of: "sum#7", withRespectTo: "x") == "∂sum#7/∂x")
  }
}

/// y = x with a forward pass and a VJP only, as a user's op may be: neither optional rule.
private struct IdentityWithoutRules: DifferentiableOperation {
  var name: String { "identityWithoutRules" }
  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> { inputs[0] }
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] { [gradient] }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "1" }
}
