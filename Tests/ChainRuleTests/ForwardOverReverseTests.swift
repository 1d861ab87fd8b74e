import Foundation
import Testing

@testable import ChainRule

/// Forward mode over the gradient graph: the JVP of a gradient node is a Hessian-vector
/// product, H·v = d/dε ∇L(x + ε·v) — forward over reverse, as JAX's `jvp(grad(f))`. It must
/// equal reverse over reverse (`hessianVectorProduct`, ∇⟨∇L, v⟩), which uses none of the JVP
/// rules: so this pins the JVP rules of the ops that gradients are built from (the catalog's
/// and the gradient-support ops') to the node-built VJPs.
@Suite("Forward over reverse: Hessian-vector products")
struct ForwardOverReverseTests {
  /// (H·v)ₖ for every node k, as the JVPs of the gradient nodes along v.
  static func forwardOverReverse(
    _ graph: Graph<Double>, loss: Node<Double>, nodes: [Node<Double>], v: [Tensor<Double>]
  ) -> [Tensor<Double>] {
    let gradients = graph.gradients(of: loss, withRespectTo: nodes)
    return gradients.map { graph.jvp(of: $0, withRespectTo: nodes, tangents: v) }
  }

  @Test func tanhSecondDerivativeByForwardOverReverse() {
    // L = Σ tanh xᵢ  ⇒  H = diag(tanh″ xᵢ) = diag(−2 tanh xᵢ (1 − tanh² xᵢ)), so H·v is
    // −2 tanh xᵢ (1 − tanh² xᵢ)·vᵢ element by element.
    let graph = Graph<Double>()
    let x = graph.input(Tensor([-1.3, 0.2, 0.9]), name: "x")
    let loss = x.tanh().sum()
    let v = Tensor([0.5, -1.0, 2.0])
    let hv = Self.forwardOverReverse(graph, loss: loss, nodes: [x], v: [v])[0]
    for i in 0..<3 {
      let t = Foundation.tanh(x.value.scalars[i])
      expectClose(hv.scalars[i], -2 * t * (1 - t * t) * v.scalars[i], "(H·v)[\(i)]")
    }
  }

  @Test func randomGraphsAgreeWithReverseOverReverse() {
    // Over random graphs of the catalog: forward over reverse = reverse over reverse to
    // 1e-10 of the largest |(H·v)ₖ| (both are exact up to rounding).
    let generator = RandomGraphGenerator()
    var compared = 0
    for seed: UInt64 in 0..<128 {
      let drawn = generator.makeRandomGraph(seed: seed, as: Double.self)
      let leaves = drawn.checkedNodes.filter { $0.kind != .operation }
      guard !leaves.isEmpty else { continue }
      var random = SplitMix64(seed: seed)
      let v = leaves.map { randomTensor($0.shape, using: &random) }
      let reverse = drawn.graph.hessianVectorProduct(
        of: drawn.loss, withRespectTo: leaves, vector: v
      ).map(\.value)
      let forward = Self.forwardOverReverse(drawn.graph, loss: drawn.loss, nodes: leaves, v: v)
      let largest = reverse.flatMap(\.scalars).map(abs).max() ?? 0
      for (index, (f, r)) in zip(forward, reverse).enumerated() {
        #expect(f.shape == r.shape)
        for (a, b) in zip(f.scalars, r.scalars) {
          compared += 1
          #expect(
            abs(a - b) <= 1e-10 * largest + 1e-14,
            "seed \(seed), H·v of \(leaves[index].label): \(a) forward, \(b) reverse")
        }
      }
    }
    #expect(compared > 1000)
  }
}
