import Foundation
import Testing

@testable import ChainRule

/// Forward mode for every op of the catalog, checked against reverse mode (an independent
/// set of rules: the VJPs) and against central differences in Double.
@Suite("Forward mode: every op's JVP")
struct ForwardModeOperationTests {
  static let cases: [(String, OperationCheck)] = OperationCatalog.all.flatMap { op in
    op.checks.map { ("\(op): \($0.description)", $0) }
  }

  /// The check case's graph, its differentiable inputs x0, x1, … and its output.
  static func build(_ caseName: String) -> (Graph<Double>, [Node<Double>], Node<Double>) {
    let check = cases.first { $0.0 == caseName }!.1
    var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: caseName.utf8.count * 7919))
    let graph = Graph<Double>()
    let inputs = check.inputShapes.enumerated().map { index, shape in
      graph.input(randomTensor(shape, domain: check.domain, using: &generator), name: "x\(index)")
    }
    return (graph, inputs, check.build(graph, inputs))
  }

  /// Whether the case's op has a zero Jacobian by its documented convention (step′ = 0, a
  /// stop-gradient's tangent and gradient are 0): there, both modes must give exact zeros.
  static func hasZeroJacobian(_ caseName: String) -> Bool {
    caseName.hasPrefix("Step:") || caseName.hasPrefix("StopGradient:")
  }

  @Test(arguments: cases.map(\.0))
  func jvpAgreesWithVJPToRounding(_ caseName: String) {
    // ⟨u, J·v⟩ (forward mode: the JVP rules) = ⟨Jᵀ·u, v⟩ (reverse mode: the VJP rules) for
    // random u, v; both sides are exact up to rounding, so they agree to 1e-12 of the size
    // of the terms summed.
    let (graph, inputs, output) = Self.build(caseName)
    var generator = SplitMix64(seed: 99)
    let v = inputs.map { randomTensor($0.shape, using: &generator) }
    let u = randomTensor(output.shape, using: &generator)
    let tangent = graph.jvp(of: output, withRespectTo: inputs, tangents: v)
    #expect(tangent.shape == output.shape, "\(caseName): tangent shape")
    graph.backward(from: output, seed: u)
    let forward = zip(u.scalars, tangent.scalars).map { $0 * $1 }
    let reverse = zip(inputs, v).flatMap { input, v in
      zip(input.gradient.scalars, v.scalars).map { $0 * $1 }
    }
    let scale = max(forward.map(abs).reduce(0, +), reverse.map(abs).reduce(0, +))
    if Self.hasZeroJacobian(caseName) {
      #expect(scale == 0, "\(caseName): J = 0 by convention, in both modes")
      return
    }
    #expect(scale > 0.01, "\(caseName): nothing to compare")
    let (f, r) = (forward.reduce(0, +), reverse.reduce(0, +))
    #expect(abs(f - r) <= 1e-12 * scale, "\(caseName): ⟨u, Jv⟩ = \(f), ⟨Jᵀu, v⟩ = \(r)")
  }

  @Test(arguments: cases.map(\.0))
  func jacobiansByRowsAndByColumnsAgree(_ caseName: String) {
    // The whole Jacobian, entry by entry: by rows (one backward per output element) and by
    // columns (one jvp per input element) must be the same matrix to rounding.
    let (graph, inputs, output) = Self.build(caseName)
    let byRows = graph.jacobian(of: output, withRespectTo: inputs, mode: .reverse)
    let byColumns = graph.jacobian(of: output, withRespectTo: inputs, mode: .forward)
    #expect(byRows.shape == [output.value.count, inputs.map(\.value.count).reduce(0, +)])
    let largest = byRows.scalars.map(abs).max() ?? 0
    #expect(
      (largest == 0) == Self.hasZeroJacobian(caseName), "\(caseName): largest |J| = \(largest)")
    expectClose(byColumns, byRows, relative: 1e-12, absolute: 1e-13 * largest, caseName)
  }

  @Test(arguments: cases.map(\.0))
  func jvpMatchesCentralDifferences(_ caseName: String) {
    // J·v against the directional central difference of the graph in Double.
    let (graph, inputs, output) = Self.build(caseName)
    let report = graph.checkForwardMode(
      of: output, withRespectTo: inputs, seed: 5, absoluteTolerance: 1e-8,
      relativeTolerance: 1e-7, consistencyTolerance: 1e-12)
    let expected: ForwardModeCheckReport.Status =
      Self.hasZeroJacobian(caseName) ? .vacuous : .passed
    #expect(report.status == expected, "\(caseName):\n\(report)")
  }

  @Test func everyCatalogOpHasAJVPRule() throws {
    // An op has a JVP when it is element-wise (the generic rules of ForwardMode.swift) or
    // its file writes one; the protocol's default would stop the program instead.
    let folder = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Sources/ChainRule/Operations")
    var missing: [String] = []
    for op in OperationCatalog.all {
      if op is any UnaryElementwise.Type || op is any BinaryElementwise.Type { continue }
      let name = String(describing: op)
      let source = try String(
        contentsOf: folder.appendingPathComponent("\(name).swift"), encoding: .utf8)
      if !source.contains("public func jvp<") { missing.append(name) }
    }
    #expect(missing.isEmpty, "ops without a JVP rule: \(missing)")
    #expect(OperationCatalog.all.count >= 40)
  }

  @Test func theJVPRuleSitsBeforeDerivativeFormula() throws {
    // Each op file keeps its JVP directly before derivativeFormula (the house layout).
    let folder = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Sources/ChainRule/Operations")
    for op in OperationCatalog.all {
      let name = String(describing: op)
      let source = try String(
        contentsOf: folder.appendingPathComponent("\(name).swift"), encoding: .utf8)
      guard let jvp = source.range(of: "public func jvp<") else { continue }
      let formula = try #require(source.range(of: "public func derivativeFormula("))
      let between = source[jvp.upperBound..<formula.lowerBound]
      #expect(jvp.lowerBound < formula.lowerBound, "\(name): jvp after derivativeFormula")
      #expect(!between.contains("public func "), "\(name): something between jvp and formula")
    }
  }
}

/// The forward-mode API on hand-derived cases.
@Suite("Forward mode: jvp and jacobian")
struct ForwardModeTests {
  @Test func tanhTangentIsOneMinusTanhSquaredTimesV() {
    // y = tanh x  ⇒  ẏ = (1 − tanh²x)·v, element by element.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([-0.7, 0.2, 1.5]), name: "x")
    let y = x.tanh()
    let v = Tensor([0.5, -2.0, 3.0])
    let tangent = graph.jvp(of: y, withRespectTo: x, tangent: v)
    for i in 0..<3 {
      let t = Foundation.tanh(x.value.scalars[i])
      expectClose(tangent.scalars[i], (1 - t * t) * v.scalars[i], "ẏ[\(i)]")
    }
  }

  @Test func matmulTangentIsTheProductRule() {
    // Y = A·B  ⇒  Ẏ = Ȧ·B + A·Ḃ; with B moving alone, Ẏ = A·Ḃ.
    let graph = Graph<Double>()
    let a = graph.input(Tensor([[1, 2], [3, 4]]), name: "A")
    let b = graph.input(Tensor([[0.5, -1], [2, 0.25]]), name: "B")
    let y = a.matmul(b)
    let tangentA = Tensor<Double>([[0.1, 0], [0, -0.3]])
    let tangentB = Tensor<Double>([[1, 1], [0, 2]])
    let both = graph.jvp(of: y, withRespectTo: [a, b], tangents: [tangentA, tangentB])
    let aB = PlainMatrix(tangentA) • PlainMatrix(b.value)
    let aDotB = PlainMatrix(a.value) • PlainMatrix(tangentB)
    expectClose(both, aB.zip(aDotB, +).tensor, "Ẏ")
    let onlyB = graph.jvp(of: y, withRespectTo: b, tangent: tangentB)
    expectClose(onlyB, aDotB.tensor, "A·Ḃ")
  }

  @Test func softmaxJacobianIsDiagonalMinusOuterProduct() {
    // y = softmax(x)  ⇒  J = diag(y) − y yᵀ, in both modes.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0.3, -1.2, 2.0, 0.1]), name: "x")
    let y = x.softmax()
    let p = y.value.scalars
    var expected = Tensor<Double>.zeros([4, 4])
    for i in 0..<4 {
      for j in 0..<4 { expected.scalars[i * 4 + j] = (i == j ? p[i] : 0) - p[i] * p[j] }
    }
    for mode in [JacobianMode.reverse, .forward] {
      expectClose(
        graph.jacobian(of: y, withRespectTo: [x], mode: mode), expected, absolute: 1e-16,
        "\(mode)")
    }
  }

  @Test func jacobianOfTwoNodesLaysTheirColumnsEndToEnd() {
    // f(a, b) = [a₀·b, sin a₁] with a: [2], b: []  ⇒  J = [[b, 0, a₀], [0, cos a₁, 0]],
    // columns a₀, a₁, then b; shape [outputCount, inputCount] = [2, 3].
    let graph = Graph<Double>()
    let a = graph.input(Tensor([0.4, -1.1]), name: "a")
    let b = graph.input(Tensor(2.5), name: "b")
    let f = graph.concat([(a[0] * b).reshaped([1]), a[1].sin().reshaped([1])], alongAxis: 0)
    let expected = Tensor<Double>([[2.5, 0, 0.4], [0, Foundation.cos(-1.1), 0]])
    for mode in [JacobianMode.reverse, .forward] {
      let jacobian = graph.jacobian(of: f, withRespectTo: [a, b], mode: mode)
      #expect(jacobian.shape == [2, 3])
      expectClose(jacobian, expected, "\(mode)")
    }
  }

  @Test func jacobianMatchesCentralDifferences() {
    // Column j of J against (f(x + εeⱼ) − f(x − εeⱼ))/2ε, for a small network.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -0.3, 0.8]]), name: "x")
    let w = graph.parameter(Tensor([[0.2, -0.5], [0.7, 0.1], [-0.4, 0.9]]), name: "w")
    let y = x.matmul(w).tanh().softmax()
    let jacobian = graph.jacobian(of: y, withRespectTo: [x, w], mode: .forward)
    #expect(jacobian.shape == [2, 9])
    var column = 0
    for node in [x, w] {
      for element in 0..<node.value.count {
        let original = node.value
        func output(_ step: Double) -> Tensor<Double> {
          var moved = original
          moved.scalars[element] += step
          node.value = moved
          graph.forward()
          return y.value
        }
        let epsilon = 1e-6
        let numeric = (output(epsilon) - output(-epsilon)) / (2 * epsilon)
        node.value = original
        graph.forward()
        for row in 0..<2 {
          expectClose(
            jacobian.scalars[row * 9 + column], numeric.scalars[row], relative: 1e-7,
            absolute: 1e-9, "J[\(row), \(column)]")
        }
        column += 1
      }
    }
  }

  @Test func jacobianLeavesGradientsAsTheyWere() {
    let graph = Graph<Double>()
    let w = graph.parameter(Tensor([0.5, -1.0]), name: "w")
    let loss = (w * w).sum()
    graph.backward(from: loss)
    let (nodeGradient, accumulated) = (w.gradient, w.parameter!.gradient)
    let y = w.exp()
    _ = graph.jacobian(of: y, withRespectTo: [w], mode: .reverse)
    _ = graph.jacobian(of: y, withRespectTo: [w], mode: .forward)
    _ = graph.checkForwardMode(of: y, withRespectTo: [w])
    #expect(w.gradient == nodeGradient)
    #expect(w.parameter!.gradient == accumulated)
    #expect(loss.gradient == Tensor(1.0))
  }

  @Test func aGivenOpNodeIsPerturbedInPlace() {
    // n = x², y = 3n. Moving x by vx and n by vn in place: ṅ = 2x·vx + vn, ẏ = 3ṅ — and
    // reverse mode agrees: ∂y/∂x = 6x (through n), ∂y/∂n = 3.
    let graph = Graph<Double>()
    let x = graph.input(Tensor(1.5), name: "x")
    let n = x.squared()
    let y = n * 3.0
    let tangent = graph.jvp(
      of: y, withRespectTo: [x, n], tangents: [Tensor(0.4), Tensor(-0.1)])
    expectClose(tangent.scalar, 3 * (2 * 1.5 * 0.4 - 0.1))
    let report = graph.checkForwardMode(of: y, withRespectTo: [x, n])
    #expect(report.passed, "\(report)")
  }

  @Test func stopGradientAndUnrelatedNodesHaveZeroTangent() {
    // y = x·sg(x): ẏ = sg(x)·ẋ = x·v, not 2x·v; a node that does not depend on x: 0.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([2.0, -1.0]), name: "x")
    let c = graph.input(Tensor([1.0, 1.0]), name: "c")
    let y = x * x.stopGradient()
    let unrelated = c.exp()
    let v = Tensor([0.5, 3.0])
    #expect(graph.jvp(of: y, withRespectTo: x, tangent: v) == Tensor([1.0, -3.0]))
    #expect(graph.jvp(of: unrelated, withRespectTo: x, tangent: v) == Tensor([0.0, 0.0]))
    #expect(graph.jvp(of: x.stopGradient(), withRespectTo: x, tangent: v) == Tensor([0.0, 0.0]))
  }

  @Test func aConstantCanBeMovedInForwardMode() {
    // Forward mode needs no gradient flags: y = c·x moved along c gives x·ċ.
    let graph = Graph<Double>()
    let c = graph.constant(Tensor([3.0]), name: "c")
    let x = graph.input(Tensor([2.0]), name: "x")
    #expect(graph.jvp(of: c * x, withRespectTo: c, tangent: Tensor([0.5])) == Tensor([1.0]))
  }

  @Test func broadcastOperandsMoveEveryCopy() {
    // y = a + b with a: [2, 3], b: [3] broadcast over rows: ẏ[i, j] = ȧ[i, j] + ḃ[j].
    let graph = Graph<Double>()
    let a = graph.input(Tensor([[1, 2, 3], [4, 5, 6]]), name: "a")
    let b = graph.input(Tensor([0.1, 0.2, 0.3]), name: "b")
    let tangentB = Tensor<Double>([1, -1, 2])
    let y = (a * b).sum(alongAxis: 0)  // y[j] = Σᵢ a[i, j]·b[j]  ⇒  ẏ[j] = Σᵢ a[i, j]·ḃ[j]
    #expect(graph.jvp(of: y, withRespectTo: b, tangent: tangentB) == Tensor([5.0, -7.0, 18.0]))
  }
}

/// The forward-mode check itself: it passes right rules, fails wrong ones, and does not read
/// as a pass when nothing was checked.
@Suite("Forward-mode check")
struct ForwardModeCheckTests {
  /// `base` with its JVP scaled by (1 + jvpError) plus jvpLeak·ẋ₀ (for a shape-keeping
  /// op), and its VJP scaled by (1 + vjpError).
  struct Skewed: DifferentiableOperation {
    let base: any DifferentiableOperation
    var jvpError = 0.0
    var jvpLeak = 0.0
    var vjpError = 0.0
    var name: String { base.name }
    func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
      try base.outputShape(operands)
    }
    func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
      base.forward(inputs)
    }
    func vjp<Scalar: TensorScalar>(
      _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
    ) -> [Tensor<Scalar>] {
      base.vjp(inputs, output: output, gradient: gradient).map { $0 * Scalar(1 + vjpError) }
    }
    func jvp<Scalar: TensorScalar>(
      _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
    ) -> Tensor<Scalar> {
      var tangent = base.jvp(inputs, output: output, tangents: tangents) * Scalar(1 + jvpError)
      if jvpLeak != 0, let first = tangents[0] { tangent += first * Scalar(jvpLeak) }
      return tangent
    }
    func derivativeFormula(input: Int, operands: [String], output: String) -> String { "" }
  }

  static func graph(_ op: Skewed) -> (Graph<Double>, Node<Double>, Node<Double>) {
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([[0.3, -0.8], [1.1, 0.4]]), name: "x")
    let y = graph.apply(op, [x.sin()]).sum()
    return (graph, x, y)
  }

  @Test func rightRulesPass() {
    let (graph, _, y) = Self.graph(Skewed(base: Tanh()))
    let report = graph.checkForwardMode(of: y)
    #expect(report.passed, "\(report)")
    #expect(report.consistency.status == .passed)
    #expect(report.finiteDifference.status == .passed)
    #expect(report.description.contains("passed"))
  }

  @Test func aWrongJVPFailsBothChecks() {
    let (graph, _, y) = Self.graph(Skewed(base: Tanh(), jvpError: 1e-3))
    let report = graph.checkForwardMode(of: y, relativeTolerance: 1e-5)
    #expect(report.status == .failed)
    #expect(report.consistency.status == .failed)
    #expect(report.finiteDifference.status == .failed)
    #expect(report.description.contains("FAILED"))
  }

  @Test func aWrongVJPFailsConsistencyOnly() {
    let (graph, _, y) = Self.graph(Skewed(base: Tanh(), vjpError: 1e-9))
    let report = graph.checkForwardMode(of: y, relativeTolerance: 1e-5)
    #expect(report.status == .failed)
    #expect(report.consistency.status == .failed, "\(report)")
    #expect(report.finiteDifference.status == .passed)
  }

  @Test func aZeroJacobianIsVacuousNotPassed() {
    // step′ = 0: both sides are 0 whatever the rules say, so nothing is checked.
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([0.5, -0.7]), name: "x")
    let y = x.step().sum()
    let report = graph.checkForwardMode(of: y)
    #expect(report.status == .vacuous)
    #expect(!report.passed)
    #expect(report.consistency.status == .vacuous)
    #expect(report.description.contains("VACUOUS"))
  }

  @Test func aFloatGraphIsDifferencedInDouble() {
    let graph = Graph<Float>()
    let x = graph.parameter(Tensor([[0.3, -0.8, 1.2]]), name: "x")
    let y = x.tanh().exp().softmax()
    let report = graph.checkForwardMode(of: y, seed: 3)
    #expect(report.dtypeName == "F32")
    #expect(report.passed, "\(report)")
  }
}
