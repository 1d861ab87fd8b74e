import Foundation
import Testing

@testable import ChainRule

/// `Graph.throwingShapeErrors`: a shape mismatch inside the scope is thrown (not a stop), the
/// graph is left as it was, and the first error is the one reported.
@Suite("throwing shape errors")
struct ShapeErrorScopeTests {
  /// The example of Docs/errors.md, verbatim (checked below), returning what it printed.
  static func documentedExample() -> [String] {
    var printed: [String] = []
    func print(_ item: Any) { printed.append("\(item)") }
    let graph = Graph<Float>()
    let x = graph.input(Tensor.zeros([4, 3]), name: "x")
    let w1 = graph.parameter(Tensor.zeros([2, 5]), name: "W1")
    do {
      let z = try graph.throwingShapeErrors { x.matmul(w1).tanh() }
      print(z.shape)
    } catch {
      print(error)  // matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)
    }
    return printed
  }

  @Test func theDocumentedExampleIsThisOneAndPrintsTheError() throws {
    #expect(
      Self.documentedExample() == [#"matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)"#])
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let document = try String(
      contentsOf: root.appendingPathComponent("Docs/errors.md"), encoding: .utf8)
    let block = try #require(ReadmeTests.blocks(document, language: "swift").first)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let indented = block.split(separator: "\n", omittingEmptySubsequences: false)
      .map { "    " + $0 }.joined(separator: "\n")
    #expect(source.contains(indented), "Docs/errors.md's example differs from the tested one")
  }

  /// x: [2, 3] ("x"), w: [3, 1] ("w"), and a graph to build in.
  static func operands() -> (Graph<Double>, x: Node<Double>, w: Node<Double>) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1, 2], [1, 0.25, -0.5]]), name: "x")
    let w = graph.parameter(Tensor([[0.3], [-0.2], [0.1]]), name: "w")
    return (graph, x, w)
  }

  @Test func matmulMismatchThrowsTheErrorTheOpDescribes() {
    let (graph, x, w) = Self.operands()
    // Independent of the graph's path: the op's own check on the same operands.
    let expected = ShapeError.matmul(
      ShapeError.Operand(name: "w", shape: [3, 1]), ShapeError.Operand(name: "x", shape: [2, 3]))
    #expect(throws: expected) { try graph.throwingShapeErrors { w.matmul(x) } }
  }

  @Test func everyNodeOperatorIsCovered() {
    let (graph, x, w) = Self.operands()
    let row = graph.input(Tensor([[1, 2]]), name: "row")
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x + row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x * row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x - row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x / row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x.sum(alongAxis: 2) } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x.reshaped([4]) } }
    #expect(throws: ShapeError.self) {
      try graph.throwingShapeErrors { x.meanSquaredError(w) }
    }
    // A layer is ops on nodes: a Dense for 4 inputs fed 3 features.
    var generator = SplitMix64(seed: 1)
    let layer = Dense<Double>(inputSize: 4, outputSize: 2, using: &generator)
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { layer(x) } }
    #expect(graph.nodeCount == 3, "every failed scope removed its nodes")
  }

  @Test func aFailedScopeLeavesTheGraphAsItWasAndBuildingGoesOn() throws {
    let (graph, x, w) = Self.operands()
    let before = graph.nodeCount
    #expect(throws: ShapeError.self) {
      try graph.throwingShapeErrors {
        let z = x.matmul(w).tanh()  // fine: [2, 1]
        return (z + graph.constant(Tensor([[1], [2], [3]]))).sum()  // [2, 1] + [3, 1] fails
      }
    }
    #expect(graph.nodeCount == before)
    // The corrected line, built after the failure, gives what a fresh graph gives, bitwise.
    let loss = try graph.throwingShapeErrors { x.matmul(w).tanh().sum() }
    graph.backward(from: loss)
    let (fresh, freshX, freshW) = Self.operands()
    let freshLoss = freshX.matmul(freshW).tanh().sum()
    fresh.backward(from: freshLoss)
    #expect(loss.value == freshLoss.value)
    #expect(w.gradient == freshW.gradient)
    #expect(graph.nodeCount == fresh.nodeCount)
  }

  @Test func onlyTheFirstErrorIsThrownAndPlaceholdersHaveShapeZero() {
    let (graph, x, w) = Self.operands()
    var placeholderShapes: [[Int]] = []
    let first = ShapeError.matmul(
      ShapeError.Operand(name: "x", shape: [2, 3]), ShapeError.Operand(name: "x", shape: [2, 3]))
    #expect(throws: first) {
      try graph.throwingShapeErrors {
        let bad = x.matmul(x)  // the first mistake
        let worse = bad.matmul(w)  // built on a placeholder: no second error
        let unrelated = w.matmul(w)  // an independent, later mistake: not the one thrown
        placeholderShapes = [bad.shape, worse.shape, unrelated.shape]
      }
    }
    #expect(placeholderShapes == [[0], [0], [0]])
  }

  @Test func aSucceedingScopeReturnsItsResultAndKeepsItsNodes() throws {
    let (graph, x, w) = Self.operands()
    let y = try graph.throwingShapeErrors { x.matmul(w) }
    // y = x · w row by row, from the numbers above.
    let row0: Double = 0.5 * 0.3 + (-1) * (-0.2) + 2 * 0.1
    let row1: Double = 1 * 0.3 + 0.25 * (-0.2) + (-0.5) * 0.1
    expectClose(y.value, Tensor([[row0], [row1]]), relative: 1e-15, "x · w")
    #expect(graph.nodeCount == 3)
    #expect(y.kind == .operation)
  }

  @Test func nestedScopesEachThrowTheirOwnError() throws {
    let (graph, x, w) = Self.operands()
    var innerError: ShapeError?
    let y = try graph.throwingShapeErrors {
      let z = x.matmul(w)
      do throws(ShapeError) {
        _ = try graph.throwingShapeErrors { z.matmul(x) }  // [2, 1] · [2, 3]: fails
      } catch {
        innerError = error
      }
      return z.tanh()  // the outer scope goes on and succeeds
    }
    #expect(innerError?.description.hasPrefix("matmul:") == true)
    #expect(graph.nodeCount == 4)  // x, w, z, tanh — and nothing of the inner scope
    #expect(y.inputs.first?.kind == .operation)
  }
}
