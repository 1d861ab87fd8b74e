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
    let shares = operation.gradientNodes(
      operands, output: output, gradient: seed, needs: operands.map { _ in true })
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

  /// The pin test above reaches every op of the catalog: an op without `gradientNodes` would
  /// stop it with a message naming the op.
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
