import Testing

@testable import ChainRule

@Suite struct ExplainTests {
  @Test func printSeed() throws {
    let n = Examples.seed000()
    n.graph.backward(from: n.loss)
    let e = try n.graph.explain(n.loss, withRespectTo: n.w1, at: [0, 0])
    print(e)
    print(n.graph.dot(reaching: n.loss))
  }
}
