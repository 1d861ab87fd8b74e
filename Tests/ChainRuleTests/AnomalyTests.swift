import Foundation
import Testing

@testable import ChainRule

@Suite("Anomaly detection")
struct AnomalyTests {
  /// Runs `body`, expecting an `AnomalyError`, and returns it.
  func anomaly(
    _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
  ) -> AnomalyError? {
    do {
      try body()
      Issue.record("no anomaly was reported", sourceLocation: sourceLocation)
    } catch let error as AnomalyError {
      return error
    } catch {
      Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
  }

  // MARK: Forward

  @Test func forwardLogOfZero() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 0, 2]), name: "x")
    let y = x.log()
    _ = (y * 2).sum()
    let error = try #require(anomaly { try graph.forwardDetectingAnomalies() })
    // log 0 = −∞ in IEEE arithmetic; the first node holding it is the log node itself.
    #expect(error.pass == .forward)
    #expect(error.node == y.id)
    #expect(error.label == "log#1")
    #expect(error.operation == "log")
    #expect(error.operands == ["x [3]"])
    #expect(error.shape == [3])
    #expect(error.index == [1])
    #expect(error.value == -.infinity)
    #expect(error.nonFiniteInputs.isEmpty)
    #expect(
      error.description == """
        Anomaly in the forward pass at node log#1 (op log, x [3] → [3]):
          value is -inf at [1]
          its inputs were all finite: the anomaly starts at this node
        """)
  }

  @Test func forwardZeroOverZero() throws {
    let graph = Graph<Double>()
    let a = graph.input(Tensor([[1, 0]]), name: "a")
    let b = graph.input(Tensor([[2, 0]]), name: "b")
    let q = (a / b).named("q")
    _ = q.exp().sum()
    let error = try #require(anomaly { try graph.forwardDetectingAnomalies() })
    #expect(error.label == "q")
    #expect(error.operation == "div")
    #expect(error.operands == ["a [1, 2]", "b [1, 2]"])
    #expect(error.index == [0, 1])
    #expect(error.value.isNaN)
    #expect(error.nonFiniteInputs.isEmpty)
  }

  @Test func forwardOverflowingExpInAFloatGraph() throws {
    // Float's largest value is about 3.4e38 = e^88.7, so e^89 overflows.
    let graph = Graph<Float>()
    let x = graph.input(Tensor([[1, 2], [89, 3]]), name: "x")
    let w = graph.parameter(Tensor([[0.5], [0.5]]), name: "w")
    let e = x.exp()
    _ = e.matmul(w).sum()
    let error = try #require(anomaly { try graph.forwardDetectingAnomalies() })
    #expect(error.node == e.id)
    #expect(error.operation == "exp")
    #expect(error.index == [1, 0])
    #expect(error.value == .infinity)
  }

  @Test func forwardNaNFedAsInputIsReportedAtTheInput() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    _ = x.tanh().sum()
    x.value = Tensor([1, .nan])
    let error = try #require(anomaly { try graph.forwardDetectingAnomalies() })
    #expect(error.label == "x")
    #expect(error.operation == "input")
    #expect(error.operands.isEmpty)
    #expect(error.index == [1])
    #expect(error.description.hasPrefix("Anomaly in the forward pass at node x (input [2]):"))
  }

  @Test func forwardWithoutAnomaliesIsPlainForward() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    let w = graph.parameter(Tensor([0.5, -1]), name: "w")
    let loss = (x * w).tanh().sum()
    x.value = Tensor([3, -4])
    w.parameter!.value = Tensor([0.25, 2])
    try graph.forwardDetectingAnomalies()
    // tanh(3·0.25) + tanh(−4·2), computed directly.
    expectClose(loss.value.scalar, Foundation.tanh(0.75) + Foundation.tanh(-8), relative: 1e-15)
  }

  // MARK: Backward

  @Test func backwardLogNearZero() throws {
    // x = 4.9e-324 (the least subnormal): ln x ≈ −744.4 is finite, but d ln x/dx = 1/x overflows to +∞.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, Double.leastNonzeroMagnitude]), name: "x")
    let y = x.log()
    let loss = y.sum()
    try graph.forwardDetectingAnomalies()
    let error = try #require(anomaly { try graph.backwardDetectingAnomalies(from: loss) })
    #expect(error.pass == .backward)
    #expect(error.node == y.id)
    #expect(error.quantity == "∂L/∂x")
    #expect(error.index == [1])
    #expect(error.value == .infinity)
    #expect(error.nonFiniteInputs.isEmpty)
    #expect(error.note.isEmpty)
  }

  @Test func backwardOverflowInTheQuotientRule() throws {
    // a = 1, b = 1e-200: a/b = 1e200 is finite, but ∂(a/b)/∂b = −a/b² = −1e400 overflows to −∞.
    let graph = Graph<Double>()
    let a = graph.input(Tensor([1.0]), name: "a")
    let b = graph.input(Tensor([1e-200]), name: "b")
    let q = a / b
    let loss = q.sum()
    try graph.forwardDetectingAnomalies()
    let error = try #require(anomaly { try graph.backwardDetectingAnomalies(from: loss) })
    #expect(error.node == q.id)
    #expect(error.quantity == "∂L/∂b")
    #expect(error.value == -.infinity)
    #expect(
      error.description == """
        Anomaly in the backward pass at node div#2 (op div, a [1], b [1] → [1]):
          ∂L/∂b is -inf at [0]
          its inputs were all finite: the anomaly starts at this node
        """)
  }

  @Test func backwardOverflowingExp() throws {
    // L = 10·(eˣ − k) with k = e^709 ≈ 8.2e307: L = 0, but ∂L/∂x = 10·eˣ ≈ 8.2e308 > max.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([709]), name: "x")
    let e = x.exp()
    let loss = ((e - Foundation.exp(709.0)) * 10).sum()
    try graph.forwardDetectingAnomalies()
    #expect(loss.value.scalar == 0)
    let error = try #require(anomaly { try graph.backwardDetectingAnomalies(from: loss) })
    #expect(error.node == e.id)
    #expect(error.operation == "exp")
    #expect(error.quantity == "∂L/∂x")
    #expect(error.value == .infinity)
    // Plain backward silently produces the same +∞.
    graph.backward(from: loss)
    #expect(x.gradient.scalars == [.infinity])
  }

  @Test func backwardNamesOperandsThatWereAlreadyNonFinite() throws {
    // Forward was not checked: log 0 = −∞ is in the graph, and its VJP 1/0 = +∞.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([0, 1]), name: "x")
    let y = x.log().named("y")
    let loss = y.sum()
    let error = try #require(anomaly { try graph.backwardDetectingAnomalies(from: loss) })
    #expect(error.node == y.id)
    #expect(error.nonFiniteInputs == ["value of y"])
    #expect(error.description.contains("already non-finite: value of y"))
  }

  @Test func backwardFiniteContributionsThatOverflowWhenSummed() throws {
    // x feeds two products with c = 1e308: each passes back ȳ·c = 1e308, the sum is +∞.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1e-300]), name: "x")
    let c = graph.constant(Tensor([1e308]), name: "c")
    let first = x * c
    let second = x * c
    let loss = (first + second).sum()
    try graph.forwardDetectingAnomalies()
    let error = try #require(anomaly { try graph.backwardDetectingAnomalies(from: loss) })
    #expect(error.node == first.id)  // visited after `second` in the reverse walk
    #expect(error.quantity == "∂L/∂x")
    #expect(error.note.contains("overflowed"))
  }

  @Test func backwardAccumulatedParameterGradientOverflow() throws {
    let graph = Graph<Double>()
    let w = graph.parameter(Tensor([1]), name: "w")
    let loss = (w * 1e308).sum()
    graph.backward(from: loss)
    graph.backward(from: loss)  // 2e308 = +∞ in the parameter, silently
    #expect(w.parameter!.gradient.scalars == [.infinity])
    w.parameter!.zeroGradient()
    graph.backward(from: loss)
    let before = w.parameter!.gradient
    let error = try #require(anomaly { try graph.backwardDetectingAnomalies(from: loss) })
    #expect(error.node == w.id)
    #expect(error.quantity == "accumulated gradient of parameter w")
    #expect(w.parameter!.gradient == before)  // untouched on a throw
  }

  @Test func backwardRejectsANonFiniteSeed() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1, 2]), name: "x")
    let y = x.squared()
    let error = try #require(
      anomaly { try graph.backwardDetectingAnomalies(from: y, seed: Tensor([1, .nan])) })
    #expect(error.node == y.id)
    #expect(error.quantity == "seed")
  }

  @Test func backwardWithoutAnomaliesMatchesPlainBackward() throws {
    func build() -> (Graph<Double>, Node<Double>, Parameter<Double>) {
      let graph = Graph<Double>()
      let x = graph.input(Tensor([[0.5, -1.0], [2, 1]]), name: "x")
      let w = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w")
      let h = x.matmul(w).tanh()
      return (graph, (h * h + h).sum(), w.parameter!)
    }
    let (plain, plainLoss, plainW) = build()
    let (checked, checkedLoss, checkedW) = build()
    for _ in 0..<2 {
      plain.backward(from: plainLoss)
      try checked.backwardDetectingAnomalies(from: checkedLoss)
    }
    #expect(plain.gradients == checked.gradients)
    #expect(plainW.gradient == checkedW.gradient)
  }
}
