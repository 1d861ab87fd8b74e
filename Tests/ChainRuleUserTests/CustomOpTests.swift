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

/// A custom op written against the op protocol itself, in a file that imports Foundation (whose
/// own `Operation` once made this name ambiguous): y = x³ scaled, row by row, by a weight.
struct ScaledCube: DifferentiableOperation {
  var name: String { "scaledCube" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }

  // y = s·x³, for a fixed s.
  let scale: Double

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].map { Scalar(scale) * $0 * $0 * $0 }
  }

  // x̄ = ȳ · 3s·x².
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0].scalars
    let scalars = zip(x, gradient.scalars).map { Scalar(3 * scale) * $0 * $0 * $1 }
    return [Tensor(shape: gradient.shape, scalars: scalars)]
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "3·\(scale)·\(operands[0])²"
  }
}

@Suite("A custom op on the op protocol, next to Foundation")
struct FullProtocolCustomOpTests {
  @Test func scaledCubeMatchesItsFormulaAndItsGradientCheck() {
    let graph = Graph<Double>()
    let x = graph.parameter(Tensor([[-1.5, 0.5, 2.0]]), name: "x")
    let loss = graph.apply(ScaledCube(scale: 0.25), [x]).sum()
    graph.backward(from: loss)
    // ∂/∂x Σ 0.25·x³ = 0.75·x², exactly representable here.
    let expected: [Double] = [0.75 * 2.25, 0.75 * 0.25, 0.75 * 4]
    #expect(x.gradient.scalars == expected)
    #expect(graph.checkGradients(of: loss).passed)
    // Foundation's own `Operation` is still there, and names no ChainRule type.
    #expect(String(describing: Operation.self) == "Operation")
  }
}
