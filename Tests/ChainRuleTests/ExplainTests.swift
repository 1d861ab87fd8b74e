import Testing

@testable import ChainRule

@Suite struct ExplainTests {
  // FORMULAS.md, seed 000 worked case: x = (0.5, −1.0), w1 = (0.3, −0.2), b1 = 0.1, w2 = 0.7,
  // b2 = −0.4, y = 1. The course derives
  //   dL/dw1[1] = ∂L/∂a2 · ∂a2/∂z2 · ∂z2/∂a1 · ∂a1/∂z1 · ∂z1/∂w1[1]
  //             = (a2 − y)/(a2(1 − a2)) · a2(1 − a2) · w2 · (1 − a1²) · x1
  //             = (a2 − y) · w2 · (1 − a1²) · x1 = −0.1513718003069349.
  @Test func seed000_dw1_1_reads_as_the_course() throws {
    let network = seed000AfterBackward()
    let explanation = try network.graph.explain(
      network.loss, withRespectTo: network.w1, at: [0, 0])
    #expect(explanation.formula == "(a2 − y) · w2 · (1 − a1²) · x[0, 0]")
    #expect(explanation.numbers == "(-0.5261) · 0.7 · 0.822 · 0.5")
    #expect(explanation.loss == "L")
    #expect(explanation.element == "w1[0, 0]")
    // Its value is backward's gradient and the worked case's number.
    let backward = network.w1.gradient[0, 0]
    expectClose(explanation.sum, backward, relative: 1e-12, "sum of the paths vs backward")
    expectClose(explanation.factoredValue, backward, relative: 1e-12, "factored vs backward")
    expectClose(explanation.sum, -0.1513718003069349, relative: 1e-12, "FORMULAS.md")
    // Each factor's number is the course formula evaluated on the forward values.
    let a1 = network.a1.value.scalar
    let a2 = network.a2.value.scalar
    let expected = [a2 - 1, 0.7, 1 - a1 * a1, 0.5]
    #expect(explanation.factors.count == expected.count)
    for (factor, value) in zip(explanation.factors, expected) {
      expectClose(factor.value, value, relative: 1e-12, factor.formula)
    }
    #expect(explanation.notes.count == 1)
    #expect(explanation.notes[0].hasPrefix("∂L/∂a2 · ∂a2/∂z2 = (a2 − y)/(a2(1 − a2))"))
  }

  @Test func seed000_paths_through_the_primitive_loss() throws {
    let network = seed000AfterBackward()
    let explanation = try network.graph.explain(
      network.loss, withRespectTo: network.w1, at: [0, 0])
    // BCE built from primitives reaches a2 twice: through log(a2) and through log(1 − a2).
    #expect(explanation.paths.count == 2)
    #expect(
      explanation.paths[0].formula
        == "(−1) · y · 1/a2 · a2(1 − a2) · w2 · (1 − a1²) · x[0, 0]")
    #expect(
      explanation.paths[1].formula
        == "(−1) · (1 − y) · 1/(1 − a2) · (−1) · a2(1 − a2) · w2 · (1 − a1²) · x[0, 0]")
    // The unit factors (∂(u + v)/∂u = 1 of the additions) are still in the path, unprinted.
    #expect(explanation.paths[0].factors.count == 10)
    #expect(explanation.paths[0].shownFactors.count == 7)
    #expect(explanation.paths[0].elements.first == "w1[0, 0]")
    #expect(explanation.paths[0].elements.last == "L")
    // Path 1 evaluated by hand: −1 · y · (1/a2) · a2(1 − a2) · w2 · (1 − a1²) · x1; path 2 is 0
    // because 1 − y = 0.
    let a1 = network.a1.value.scalar
    let a2 = network.a2.value.scalar
    expectClose(
      explanation.paths[0].value, -1 * (1 / a2) * a2 * (1 - a2) * 0.7 * (1 - a1 * a1) * 0.5,
      "path 1")
    #expect(explanation.paths[1].value == 0)
    let text = explanation.description
    #expect(text.contains("2 paths from w1[0, 0] to L"))
    #expect(text.contains("factored: ∂L/∂w1[0, 0] = (a2 − y) · w2 · (1 − a1²) · x[0, 0]"))
    #expect(text.contains("sum over the paths: ∂L/∂w1[0, 0] = -0.15137180030693"))
  }

  // The other seed 000 rows: dw1[2] = (a2 − y)·w2·(1 − a1²)·x2, db1 = (a2 − y)·w2·(1 − a1²),
  // dw2 = a1·(a2 − y) (written from the loss: (a2 − y) · a1), db2 = a2 − y.
  @Test(arguments: [
    ("w1", [1, 0], "(a2 − y) · w2 · (1 − a1²) · x[0, 1]"),
    ("b1", [0], "(a2 − y) · w2 · (1 − a1²)"),
    ("w2", [0, 0], "(a2 − y) · a1"),
    ("b2", [0], "a2 − y"),
  ])
  func seed000_other_rows(parameter: String, index: [Int], formula: String) throws {
    let network = seed000AfterBackward()
    let node = [
      "w1": network.w1, "b1": network.b1, "w2": network.w2, "b2": network.b2,
    ][parameter]!
    let explanation = try network.graph.explain(network.loss, withRespectTo: node, at: index)
    #expect(explanation.formula == formula)
    let backward = node.gradient.scalars[node.value.offset(of: index)]
    expectClose(explanation.sum, backward, relative: 1e-12, parameter)
    expectClose(explanation.factoredValue, backward, relative: 1e-12, parameter)
  }

  @Test func sharedNodesSumTheirPathsAndMatchBackward() throws {
    // A fan-out graph: h = tanh(x·W) is used twice, L = sum(h ⊙ h + σ(h)), so every weight
    // reaches L by several paths; each element's path sum must equal backward's gradient.
    var generator = SplitMix64(seed: 7)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([2, 3], using: &generator), name: "x")
    let w = graph.parameter(randomTensor([3, 2], using: &generator), name: "W")
    let h = x.matmul(w).tanh().named("h")
    let loss = (h * h + h.sigmoid()).sum().named("L")
    graph.backward(from: loss)
    for i in 0..<3 {
      for j in 0..<2 {
        let explanation = try graph.explain(loss, withRespectTo: w, at: [i, j])
        // 2 rows of x · 3 ways through h; h ⊙ h's two ways read the same and are listed once.
        #expect(explanation.paths.map(\.multiplicity).reduce(0, +) == 6)
        #expect(explanation.paths.count == 4)
        expectClose(explanation.sum, w.gradient[i, j], relative: 1e-12, "W[\(i), \(j)]")
        expectClose(explanation.factoredValue, w.gradient[i, j], relative: 1e-12, "factored")
      }
    }
  }

  @Test func noPathMeansZero() throws {
    let graph = Graph<Double>()
    let a = graph.input(Tensor(2.0), name: "a")
    let unused = graph.parameter(Tensor(3.0), name: "unused")
    let loss = (a * a).named("L")
    let explanation = try graph.explain(loss, withRespectTo: unused)
    #expect(explanation.paths.isEmpty)
    #expect(explanation.sum == 0)
    #expect(explanation.formula == "0")
    #expect(explanation.description == "∂L/∂unused = 0: no path leads from unused to L")
    _ = a
  }

  @Test func badRequestsAreNamed() {
    let network = seed000AfterBackward()
    #expect(throws: ExplanationError.indexOutOfRange(node: "w1", shape: [2, 1], index: [2, 0])) {
      try network.graph.explain(network.loss, withRespectTo: network.w1, at: [2, 0])
    }
    #expect(throws: ExplanationError.indexOutOfRange(node: "w1", shape: [2, 1], index: [])) {
      try network.graph.explain(network.loss, withRespectTo: network.w1)
    }
    #expect(throws: ExplanationError.lossNotScalar(loss: "x", shape: [1, 2])) {
      try network.graph.explain(network.x, withRespectTo: network.x, at: [0, 0])
    }
    let graph = Graph<Double>()
    var node = graph.input(Tensor(1.0), name: "x")
    let x = node
    for _ in 0..<12 { node = node + node }  // 2¹² paths
    #expect(throws: ExplanationError.tooManyPaths(element: "x", count: 4096, limit: 1000)) {
      try graph.explain(node, withRespectTo: x, maximumPaths: 1000)
    }
    let error = ExplanationError.indexOutOfRange(node: "w1", shape: [2, 1], index: [2, 0])
    #expect(error.description == "explain: index [2, 0] does not fit w1 of shape [2, 1]")
  }
  // L = c·c reaches c twice through the same elements with the same factor ∂(c·c)/∂c = c:
  // one path, counted twice; dL/dc = 2c.
  @Test func identicalPathsAreListedOnceWithTheirMultiplicity() throws {
    let graph = Graph<Double>()
    let c = graph.input(Tensor(3.0), name: "c")
    let loss = (c * c).named("L")
    let explanation = try graph.explain(loss, withRespectTo: c)
    #expect(explanation.paths.count == 1)
    #expect(explanation.paths[0].multiplicity == 2)
    #expect(explanation.paths[0].formula == "c")
    expectClose(explanation.sum, 2 * 3.0, "2c")
    let text = explanation.description
    #expect(text.contains("2 paths from c to L (1 distinct)"))
    #expect(text.contains("path 1 (×2): c → L"))
    #expect(text.contains("  = 3 = 3 each"))
    // Only one factor, c + c: nothing factors, so no "factored:" line repeats the sum.
    #expect(!text.contains("factored:"))
  }

  @Test func nothingFactorsMeansNoFactoredLine() throws {
    // One path, y = tanh(x²): the factored form would only repeat it.
    let graph = Graph<Double>()
    let x = graph.input(Tensor(0.8), name: "x")
    let y = x.squared().tanh().named("y")
    let text = try graph.explain(y, withRespectTo: x).description
    #expect(!text.contains("factored:"))
    #expect(text.contains("sum over the paths: ∂y/∂x = "))
    // The course's network factors (2 paths, one simplification): the line stays.
    let network = seed000AfterBackward()
    let course = try network.graph.explain(network.loss, withRespectTo: network.w1, at: [0, 0])
    #expect(course.isFactored && course.description.contains("factored: "))
  }

  @Test func elementIndicesBelongToTheWholeExpression() throws {
    // h = x·hidden.weight is unnamed: its element [0, 1] is written (x·hidden.weight)[0, 1],
    // never x·hidden.weight[0, 1] (which reads as an element of the weight).
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0]]), name: "x")
    let w = graph.parameter(Tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), name: "hidden.weight")
    let loss = x.matmul(w).tanh().sum().named("L")
    graph.backward(from: loss)
    let explanation = try graph.explain(loss, withRespectTo: w, at: [1, 1])
    let text = explanation.description
    #expect(text.contains("(x·hidden.weight)[0, 1]"), "\(text)")
    #expect(!text.contains(" x·hidden.weight[0, 1]"))
    expectClose(explanation.sum, w.gradient[1, 1], relative: 1e-12, "vs backward")
  }

  @Test func namesSharedByLayersAreQualifiedInExplanations() throws {
    let (graph, loss) = network231()
    let weight = graph.nodes.first { $0.name == "layer0.weight" }!
    let explanation = try graph.explain(loss, withRespectTo: weight, at: [0, 0])
    let text = explanation.description
    #expect(text.contains("layer0.a[") && text.contains("layer1.z["), "\(text)")
    #expect(!text.contains(" z[") && !text.contains(" a["))
    expectClose(explanation.sum, weight.gradient[0, 0], relative: 1e-12, "vs backward")
  }
}
