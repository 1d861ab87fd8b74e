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
