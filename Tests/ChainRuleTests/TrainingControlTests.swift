import ChainRule
import Foundation
import Testing

/// Frozen parameters, parameters without a gradient, per-parameter Adam steps, learning-rate
/// schedules and gradient clipping, each against values computed by hand here.
@Suite struct TrainingControlTests {
  /// w·x + u·x with two parameters, the loss summed: ∂/∂w = ∂/∂u = Σx.
  func twoParameterGraph(_ w: Parameter<Double>, _ u: Parameter<Double>) -> (
    Graph<Double>, Node<Double>
  ) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1.0, 2.0, 3.0]), name: "x", requiresGradient: false)
    let loss = (graph.parameter(w) * x + graph.parameter(u) * x).sum()
    return (graph, loss)
  }

  @Test func aFrozenParameterGetsNoGradientAndDoesNotMove() {
    let w = Parameter(Tensor([0.5, -1.0, 2.0]), name: "w")
    let u = Parameter(Tensor([1.0, 1.0, 1.0]), name: "u")
    u.isFrozen = true
    let (graph, loss) = twoParameterGraph(w, u)
    let optimizer = SGD(parameters: [w, u], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
    optimizer.zeroGradients()
    graph.backward(from: loss)
    #expect(w.gradient == Tensor([1.0, 2.0, 3.0]))
    #expect(!u.hasGradient && u.gradient == Tensor.zeros([3]))
    #expect(graph.nodes.first { $0.parameter === u }?.requiresGradient == false)
    optimizer.step()
    #expect(u.value == Tensor([1.0, 1.0, 1.0]))
    #expect(optimizer.state.keys.sorted() == ["w.momentum"])
    // Unfrozen, the same re-run graph computes its gradient again.
    u.isFrozen = false
    optimizer.zeroGradients()
    graph.forward()
    graph.backward(from: loss)
    #expect(u.gradient == Tensor([1.0, 2.0, 3.0]))
  }

  @Test func aParameterNoGradientReachedIsLeftUntouched() throws {
    // u is not in the graph at all; its value and the optimizers' state for it stay as they are.
    for makeOptimizer in [
      { (p: [Parameter<Double>]) -> any Optimizer<Double> in
        SGD(parameters: p, learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
      },
      { Adam(parameters: $0, learningRate: 0.1, weightDecay: 0.5) },
      { AdamW(parameters: $0, learningRate: 0.1, weightDecay: 0.5) },
      { RMSProp(parameters: $0, weightDecay: 0.5, momentum: 0.9) },
    ] {
      let w = Parameter(Tensor([0.5, -1.0]), name: "w")
      let u = Parameter(Tensor([3.0, 4.0]), name: "u")
      let optimizer = makeOptimizer([w, u])
      for _ in 0..<3 {
        optimizer.zeroGradients()
        let graph = Graph<Double>()
        graph.backward(from: graph.parameter(w).squared().sum())
        optimizer.step()
      }
      #expect(u.value == Tensor([3.0, 4.0]), "\(type(of: optimizer))")
      #expect(!optimizer.state.keys.contains { $0.hasPrefix("u.") }, "\(type(of: optimizer))")
      #expect(w.value != Tensor([0.5, -1.0]))
    }
  }

  @Test func adamCountsStepsPerParameter() throws {
    // u gets a gradient only from step 2 on: its first update uses t = 1, as in PyTorch, so it
    // moves by η·g/(|g| + ε) ≈ η — the first-step property — although the optimizer is at t = 2.
    let (eta, eps) = (0.1, 1e-8)
    let w = Parameter(Tensor([0.5]), name: "w")
    let u = Parameter(Tensor([3.0]), name: "u")
    let adam = Adam(parameters: [w, u], learningRate: eta, epsilon: eps)
    w.gradient = Tensor([1.0])
    adam.step()
    adam.zeroGradients()
    w.gradient = Tensor([1.0])
    u.gradient = Tensor([2.0])
    adam.step()
    // t = 1: m = 0.1·2, v = 0.001·4, m̂ = 2, v̂ = 4: u ← 3 − η·2/(2 + ε).
    #expect(abs(u.value[0] - (3 - eta * 2 / (2 + eps))) <= 1e-15)
    #expect(adam.state["w.step"] == Tensor(2.0) && adam.state["u.step"] == Tensor(1.0))
    #expect(adam.stepCount == 2)

    // The saved state resumes both counts without setting stepCount by hand.
    let resumed = Adam(parameters: [w, u], learningRate: eta, epsilon: eps)
    try resumed.loadState(adam.state)
    #expect(resumed.stepCount == 2 && resumed.state == adam.state)
    #expect(throws: OptimizerStateError.self) {
      try resumed.loadState(["u.step": Tensor(1.5)])
    }
  }

  @Test func schedulesFollowTheirFormulas() {
    let step = StepDecay(initial: 0.1, stepSize: 3, factor: 0.5)
    #expect((0..<7).map { step.learningRate(at: $0) } == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    let exponential = ExponentialDecay(initial: 2, factor: 0.9)
    #expect(abs(exponential.learningRate(at: 3) - 2 * 0.729) <= 1e-15)
    let cosine = CosineDecay(initial: 1, totalSteps: 10, warmupSteps: 2, minimum: 0.1)
    // Warm-up 0, ½, then 0.1 + 0.9·½(1 + cos(π(t − 2)/8)), 0.1 from step 10.
    #expect(cosine.learningRate(at: 0) == 0 && cosine.learningRate(at: 1) == 0.5)
    #expect(cosine.learningRate(at: 2) == 1)
    #expect(abs(cosine.learningRate(at: 6) - 0.55) <= 1e-15)  // cos(π/2) = 0
    #expect(cosine.learningRate(at: 10) == 0.1 && cosine.learningRate(at: 50) == 0.1)
    let optimizer = SGD(parameters: [Parameter(Tensor([1.0]), name: "w")], learningRate: 1)
    optimizer.setLearningRate(step, at: 4)
    #expect(optimizer.learningRate == 0.05)
  }

  @Test func clippingByGlobalNormAndByValue() {
    let a = Parameter(Tensor([0.0, 0.0]), name: "a")
    let b = Parameter(Tensor([0.0]), name: "b")
    let frozen = Parameter(Tensor([0.0]), name: "frozen")
    frozen.isFrozen = true
    a.gradient = Tensor([3.0, 0.0])
    b.gradient = Tensor([4.0])
    frozen.gradient = Tensor([100.0])
    // ‖g‖ = √(9 + 16) = 5 (the frozen one left out); scaled by 1/(5 + 1e-6).
    let norm = [a, b, frozen].clipGradients(byGlobalNorm: 1)
    #expect(norm == 5)
    let c = 1 / (5 + 1e-6)
    #expect(a.gradient == Tensor([3 * c, 0]) && b.gradient == Tensor([4 * c]))
    #expect(frozen.gradient == Tensor([100.0]))
    // Under the bound nothing changes.
    #expect([a, b].clipGradients(byGlobalNorm: 10) < 1)
    #expect(b.gradient == Tensor([4 * c]))

    a.gradient = Tensor([-3.0, .nan])
    [a].clipGradients(byValue: 0.5)
    #expect(a.gradient[0] == -0.5 && a.gradient[1].isNaN)
  }
}
