import ChainRule
import Foundation
import Testing

// BEGIN custom-op
struct Softplus: UnaryElementwise {
  var name: String { "softplus" }

  // y = log(1 + eˣ), written so that eˣ cannot overflow for large x.
  func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    max(x, 0) + Scalar.log1p(Scalar.exp(-abs(x)))
  }

  // dy/dx = σ(x) = 1 / (1 + e⁻ˣ).
  func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar {
    1 / (1 + Scalar.exp(-x))
  }

  // d²y/dx² = σ(x)·(1 − σ(x)), built from graph ops: for second derivatives.
  func secondDerivative<Scalar: TensorScalar>(x: Node<Scalar>, y: Node<Scalar>) -> Node<Scalar>? {
    let s = x.sigmoid()
    return s * (1 - s)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "σ(\(operands[0]))"
  }
}

extension Node {
  func softplus() -> Node { graph.apply(Softplus(), [self]) }
}
// END custom-op

/// A user's custom op, written the way the DocC article "Writing a custom op" shows, in a
/// target that imports Foundation next to ChainRule and sees only the public API.
@Suite("A custom op in a user's module")
struct CustomOpTests {
  @Test func softplusMatchesItsFormulaAndItsGradientCheck() {
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([[-3.0, 0.5], [2.0, 40.0]]), name: "x")
    let loss = x.softplus().sum()
    graph.backward(from: loss)
    for (value, gradient) in zip(x.value.scalars, x.gradient.scalars) {
      // softplus(x) = log(1 + eˣ) computed directly (no overflow for these x);
      // ∂/∂x = eˣ/(1 + eˣ).
      let e = exp(value)
      #expect(abs(gradient - e / (1 + e)) <= 1e-15)
    }
    let expected = x.value.scalars.map { log(1 + exp($0)) }.reduce(0, +)
    #expect(abs(loss.value.scalar - expected) <= 1e-13)
    let report = graph.checkGradients(of: loss)
    #expect(report.passed, "\(report)")
  }

  /// The rest comes with `UnaryElementwise`: the JVP from `derivative`, the node-built VJP from
  /// `derivative` and `secondDerivative`. softplus″ = σ(1 − σ), by the formula.
  @Test func softplusPassesTheSecondOrderAndForwardModeChecks() throws {
    let graph = Graph<Double>()
    let values = Tensor([[-3.0, 0.5], [2.0, 1.5]])
    let x = graph.parameter(values, name: "x")
    let loss = x.softplus().sum()
    let gradient = try #require(graph.gradients(of: loss, withRespectTo: [x]).first)
    let second = try #require(graph.gradients(of: gradient.sum(), withRespectTo: [x]).first)
    for (h, value) in zip(second.value.scalars, values.scalars) {
      let s = 1 / (1 + exp(-value))
      #expect(abs(h - s * (1 - s)) <= 1e-15)
    }
    let secondOrder = graph.checkSecondOrderGradients(of: loss)
    #expect(secondOrder.status == .passed, "\(secondOrder)")
    #expect(secondOrder.entries.map(\.liveElements) == [4], "\(secondOrder)")
    let forward = graph.checkForwardMode(of: loss)
    #expect(forward.status == .passed, "\(forward)")
    #expect(forward.finiteDifference.liveElements == 1, "\(forward)")
  }

  @Test func theArticleShowsThisCode() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let article = try String(
      contentsOf: root.appendingPathComponent(
        "Sources/ChainRule/ChainRule.docc/WritingACustomOp.md"), encoding: .utf8)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let region = try #require(
      source.components(separatedBy: "// BEGIN custom-op\n").dropFirst().first?
        .components(separatedBy: "// END custom-op").first)
    // The article's block starts with `import ChainRule`; this file imports Foundation too.
    let code = "import ChainRule\n\n" + region
    let block = try #require(
      article.components(separatedBy: "```swift\n").dropFirst().first?
        .components(separatedBy: "```").first)
    #expect(block == code)
  }
}

// BEGIN readme-custom-op
/// y = s·x³ element-wise, for a fixed s: an op on the protocol itself, with every rule.
struct ScaledCube: DifferentiableOperation {
  let scale: Double
  var name: String { "scaledCube" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }

  // y = s·x³.
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].map { Scalar(scale) * $0 * $0 * $0 }
  }

  // Reverse mode: x̄ = ȳ · 3s·x².
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0].scalars
    let scalars = zip(x, gradient.scalars).map { Scalar(3 * scale) * $0 * $0 * $1 }
    return [Tensor(shape: gradient.shape, scalars: scalars)]
  }

  // The same rule built from graph ops, so that the gradient can be differentiated again.
  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let x = inputs[0]
    return [needs[0] ? gradient * (x * x * Scalar(3 * scale)) : nil]
  }

  // Forward mode: ẏ = 3s·x² · ẋ (a missing tangent is zero).
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let x = inputs[0].scalars
    let scalars = zip(x, tangent.scalars).map { Scalar(3 * scale) * $0 * $0 * $1 }
    return Tensor(shape: output.shape, scalars: scalars)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "3·\(scale)·\(operands[0])²"
  }
}
// END readme-custom-op

/// `ScaledCube` with one rule deliberately wrong (2s·x² for 3s·x²), so that each check is
/// seen to fail when the rule it checks is wrong.
struct ScaledCubeMutant: DifferentiableOperation {
  enum Rule { case vjp, gradientNodes, jvp }
  let scale: Double
  let wrong: Rule
  var right: ScaledCube { ScaledCube(scale: scale) }
  var name: String { "scaledCubeMutant" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    right.forward(inputs)
  }
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let shares = right.vjp(inputs, output: output, gradient: gradient)
    return wrong == .vjp ? shares.map { $0.map { $0 * 2 / 3 } } : shares
  }
  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let x = inputs[0]
    let factor = Scalar((wrong == .gradientNodes ? 2 : 3) * scale)
    return [needs[0] ? gradient * (x * x * factor) : nil]
  }
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let tangent = right.jvp(inputs, output: output, tangents: tangents)
    return wrong == .jvp ? tangent.map { $0 * 2 / 3 } : tangent
  }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "?" }
}

@Suite("A custom op on the op protocol, next to Foundation")
struct FullProtocolCustomOpTests {
  /// x, away from 0 so that no element of a gradient or a Hessian-vector product is 0.
  static let x = Tensor([[-1.5, 0.5, 2.0], [0.75, -1.25, 1.0]])

  @Test func scaledCubeMatchesItsFormulaAndItsGradientCheck() {
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([[-1.5, 0.5, 2.0]]), name: "x")
    let loss = graph.apply(ScaledCube(scale: 0.25), [x]).sum()
    graph.backward(from: loss)
    // ∂/∂x Σ 0.25·x³ = 0.75·x², exactly representable here.
    let expected: [Double] = [0.75 * 2.25, 0.75 * 0.25, 0.75 * 4]
    #expect(x.gradient.scalars == expected)
    let report = graph.checkGradients(of: loss)
    #expect(report.status == .passed, "\(report)")
    #expect(report.entries.map(\.liveElements) == [3], "\(report)")
    // Foundation's own `Operation` is still there, and names no ChainRule type.
    #expect(String(describing: Operation.self) == "Operation")
  }

  /// L = Σ s·xᵢ³: the node-built gradient is 3s·x², its gradient in turn (the Hessian, which
  /// is diagonal) 6s·x, both from the formula.
  @Test func theNodeBuiltVJPDifferentiatesAgain() throws {
    let graph = Graph<Double>()
    let x = graph.parameter(Self.x, name: "x")
    let loss = graph.apply(ScaledCube(scale: 0.25), [x]).sum()
    let gradient = try #require(graph.gradients(of: loss, withRespectTo: [x]).first)
    for (g, value) in zip(gradient.value.scalars, Self.x.scalars) {
      #expect(abs(g - 0.75 * value * value) <= 1e-15)
    }
    let second = try #require(graph.gradients(of: gradient.sum(), withRespectTo: [x]).first)
    for (h, value) in zip(second.value.scalars, Self.x.scalars) {
      #expect(abs(h - 1.5 * value) <= 1e-15)
    }
    let report = graph.checkSecondOrderGradients(of: loss, withRespectTo: [x])
    #expect(report.status == .passed, "\(report)")
    #expect(report.entries.map(\.liveElements) == [Self.x.count], "\(report)")
  }

  /// ẏ = 3s·x²·ẋ, against reverse mode and a central difference; and the JVP against the
  /// formula for the tangent ẋ = 1.
  @Test func theJVPPassesTheForwardModeCheck() {
    let graph = Graph<Double>()
    let x = graph.parameter(Self.x, name: "x")
    let y = graph.apply(ScaledCube(scale: 0.25), [x])
    let report = graph.checkForwardMode(of: y.sum(), withRespectTo: [x])
    #expect(report.status == .passed, "\(report)")
    #expect(report.consistency.status == .passed, "\(report)")
    #expect(report.finiteDifference.liveElements > 0, "\(report)")
    let tangent = graph.jvp(of: y, withRespectTo: x, tangent: Tensor(shape: [2, 3], repeating: 1))
    for (t, value) in zip(tangent.scalars, Self.x.scalars) {
      #expect(abs(t - 0.75 * value * value) <= 1e-15)
    }
  }

  /// Each check fails when the rule it checks is wrong by a factor 2/3: the checks above
  /// could fail.
  @Test(arguments: [ScaledCubeMutant.Rule.vjp, .gradientNodes, .jvp])
  func aWrongRuleFailsItsCheck(_ rule: ScaledCubeMutant.Rule) {
    let graph = Graph<Double>()
    let x = graph.parameter(Self.x, name: "x")
    let loss = graph.apply(ScaledCubeMutant(scale: 0.25, wrong: rule), [x]).sum()
    switch rule {
    case .vjp: #expect(graph.checkGradients(of: loss).status == .failed)
    case .gradientNodes:
      #expect(graph.checkSecondOrderGradients(of: loss, withRespectTo: [x]).status == .failed)
    case .jvp: #expect(graph.checkForwardMode(of: loss, withRespectTo: [x]).status == .failed)
    }
  }

  /// The README's use of the op, verbatim (checked below), returning what it printed.
  static func documentedChecks() -> [String] {
    var printed: [String] = []
    func print(_ item: Any) { printed.append("\(item)") }
    // BEGIN readme-custom-op-checks
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([[-1.5, 0.5, 2.0]]), name: "x")
    let loss = graph.apply(ScaledCube(scale: 0.25), [x]).sum()
    // The VJP against central differences of the loss:
    print(graph.checkGradients(of: loss).status)  // passed
    // gradientNodes, differentiated again, against differences of the gradient:
    print(graph.checkSecondOrderGradients(of: loss).status)  // passed
    // The JVP against the VJP and against a central difference:
    print(graph.checkForwardMode(of: loss).status)  // passed
    // END readme-custom-op-checks
    return printed
  }

  @Test func theDocumentedChecksPass() {
    #expect(Self.documentedChecks() == ["passed", "passed", "passed"])
  }

  /// The README's custom-op example is this file's, with the imports it needs.
  @Test func theReadmeShowsThisCode() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(
      contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let region = try #require(
      source.components(separatedBy: "// BEGIN readme-custom-op\n").dropFirst().first?
        .components(separatedBy: "// END readme-custom-op").first)
    let code = "import ChainRule\nimport Foundation\n\n" + region
    #expect(readme.contains("```swift\n" + code + "```\n"))
    let checks = try #require(
      source.components(separatedBy: "    // BEGIN readme-custom-op-checks\n").dropFirst().first?
        .components(separatedBy: "    // END readme-custom-op-checks").first)
    let dedented = checks.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.dropFirst(4) }.joined(separator: "\n")
    #expect(readme.contains("```swift\n" + dedented + "```\n"))
  }
}
