import Foundation
import Testing

@testable import ChainRule

@Suite("Scalar graph")
struct ScalarGraphTests {
  /// A composite that uses every primitive: u = ln(a·b + 3) − tanh(a)/b,
  /// y = 1.5·(σ(u) + e^(0.3a) + relu(b − 0.2) + u²).
  static func expression(_ g: ScalarGraph, _ a: ScalarNode, _ b: ScalarNode) -> ScalarNode {
    let u = (a * b + 3).log() - a.tanh() / b
    return (u.sigmoid() + (0.3 * a).exp() + (b - 0.2).relu() + u.power(2)) * 1.5
  }

  @Test func everyPrimitiveMatchesCentralDifferences() {
    func f(_ a: Double, _ b: Double) -> Double {
      let g = ScalarGraph()
      return Self.expression(g, g.leaf(a), g.leaf(b)).value
    }
    for (a, b) in [(0.7, 1.3), (-0.4, 0.9), (1.1, -2.0)] {
      let g = ScalarGraph()
      let (x, y) = (g.leaf(a), g.leaf(b))
      let out = Self.expression(g, x, y)
      g.backward(from: out)
      let h = 1e-6
      expectClose(x.gradient, (f(a + h, b) - f(a - h, b)) / (2 * h), relative: 1e-7, "∂/∂a")
      expectClose(y.gradient, (f(a, b + h) - f(a, b - h)) / (2 * h), relative: 1e-7, "∂/∂b")
    }
  }

  /// The W4 network (2 → 16 → 16 → 1 tanh neurons) built from scalars, compared with the same
  /// network built from rank-0 tensors in `Graph` — an independent implementation.
  @Test func neuronNetworkMatchesTheTensorGraph() {
    var generator = SplitMix64(seed: 4)
    let sizes = [2, 16, 16, 1]
    let weights = (1..<sizes.count).map { l in
      (0..<sizes[l]).map { _ in (0..<sizes[l - 1]).map { _ in generator.nextDouble(in: -1...1) } }
    }
    let scalar = ScalarGraph()
    let tensor = Graph<Double>()
    var h = [scalar.leaf(0.5), scalar.leaf(-1.0)]
    var t = [tensor.input(Tensor(0.5)), tensor.input(Tensor(-1.0))]
    var scalarWeights: [ScalarNode] = []
    var tensorWeights: [Node<Double>] = []
    for layer in weights {
      h = layer.map { row in
        var sum = scalar.leaf(0.1)
        for (w, x) in zip(row, h) {
          let wNode = scalar.leaf(w)
          scalarWeights.append(wNode)
          sum = sum + wNode * x
        }
        return sum.tanh()
      }
      t = layer.map { row in
        var sum = tensor.constant(Tensor(0.1))
        for (w, x) in zip(row, t) {
          let wNode = tensor.parameter(Tensor(w), name: "w")
          tensorWeights.append(wNode)
          sum = sum + wNode * x
        }
        return sum.tanh()
      }
    }
    #expect(scalar.count == 980)
    scalar.backward(from: h[0])
    tensor.backward(from: t[0])
    expectClose(h[0].value, t[0].value.scalar, "output")
    for (s, w) in zip(scalarWeights, tensorWeights) {
      expectClose(s.gradient, w.gradient.scalar, relative: 1e-12, absolute: 1e-15, "∂y/∂w")
    }
  }
}
