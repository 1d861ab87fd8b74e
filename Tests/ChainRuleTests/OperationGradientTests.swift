import Foundation
import Testing

@testable import ChainRule

/// Every primitive op, checked against central differences in Double.
///
/// A non-scalar output y is reduced to L = Σ y ⊙ R with a fixed random R, so every entry of
/// the Jacobian contributes: ∂L/∂x = Jᵀ R is exactly the VJP with seed R.
@Suite("Op gradients vs central differences")
struct OperationGradientTests {
  static let cases: [(String, OperationCheck)] = OperationCatalog.all.flatMap { op in
    op.checks.map { ("\(op): \($0.description)", $0) }
  }

  @Test(arguments: cases.map(\.0))
  func gradientMatchesCentralDifference(_ caseName: String) {
    let check = Self.cases.first { $0.0 == caseName }!.1
    var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: caseName.utf8.count * 7919))
    let graph = Graph<Double>()
    let inputs = check.inputShapes.enumerated().map { index, shape in
      graph.input(randomTensor(shape, domain: check.domain, using: &generator), name: "x\(index)")
    }
    let output = check.build(graph, inputs)
    let weights = graph.constant(randomTensor(output.shape, using: &generator), name: "R")
    let loss = (output * weights).sum()
    graph.backward(from: loss)
    for input in inputs {
      let analytic = input.gradient
      let numeric = centralDifference(of: loss, withRespectTo: input)
      expectClose(
        analytic, numeric, relative: 1e-7, absolute: 1e-8, "\(caseName) ∂L/∂\(input.label)")
    }
  }

  @Test func everyOpFileIsInTheCatalogWithChecks() throws {
    let folder = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Sources/ChainRule/Operations")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".swift") }.map { String($0.dropLast(6)) }.sorted()
    let catalog = OperationCatalog.all.map { String(describing: $0) }.sorted()
    #expect(files == catalog)
    for op in OperationCatalog.all { #expect(!op.checks.isEmpty, "\(op) has no gradient check") }
  }

  @Test func reluAndStepAtZeroFollowTheDocumentedConvention() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([-1, 0, 2]), name: "x")
    graph.backward(from: (x.relu() + x.step()).sum())
    // relu'(x) = [x > 0] (0 at the kink), step'(x) = 0 everywhere.
    #expect(x.gradient == Tensor([0, 0, 1]))
    #expect(x.step().value == Tensor([0, 0, 1]))
  }

  @Test func nodeUsedTwiceAccumulatesBothGradients() {
    // y = a·b + a  ⇒  ∂y/∂a = b + 1 (sum over both consumers of a).
    let graph = Graph<Double>()
    let a = graph.input(Tensor(3.0), name: "a")
    let b = graph.input(Tensor(4.0), name: "b")
    graph.backward(from: a * b + a)
    #expect(a.gradient.scalar == 4.0 + 1)
    #expect(b.gradient.scalar == 3.0)
  }

  @Test func forwardReevaluatesAfterFeedingNewInputs() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    let y = (x * x).sum()
    #expect(y.value.scalar == 5)
    x.value = Tensor([3, 4])
    graph.forward()
    #expect(y.value.scalar == 25)
    graph.backward(from: y)
    #expect(x.gradient == Tensor([6, 8]))
  }

  @Test func nonScalarOutputTakesASeed() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2, 3]), name: "x")
    let y = x.squared()
    graph.backward(from: y, seed: Tensor([1, 0, -1]))
    #expect(x.gradient == Tensor([2, 0, -6]))
  }

  @Test func deepChainDoesNotOverflowTheStack() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor(0.5), name: "x")
    var y = x
    for _ in 0..<10_000 { y = y * 1.0 }
    graph.backward(from: y)
    #expect(x.gradient.scalar == 1)
  }

  @Test func parametersAccumulateUntilZeroed() {
    let graph = Graph<Double>()
    let w = graph.parameter(Tensor([2.0]), name: "w")
    let loss = (w * 3.0).sum()
    graph.backward(from: loss)
    graph.backward(from: loss)
    #expect(w.parameter!.gradient == Tensor([6.0]))
    #expect(w.gradient == Tensor([3.0]))  // this pass only
    graph.zeroGradients()
    #expect(w.parameter!.gradient == Tensor([0.0]))
  }
}
