import Testing

@testable import ChainRule

/// `|actual − expected| ≤ relative · |expected|` (with a floor of `absolute` for values near 0).
func expectClose(
  _ actual: Double, _ expected: Double, relative: Double = 1e-12, absolute: Double = 1e-15,
  _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  let error = abs(actual - expected)
  #expect(
    error <= max(relative * abs(expected), absolute),
    "\(what): \(actual) vs \(expected) (error \(error))", sourceLocation: sourceLocation)
}

/// Element-wise `expectClose` for two tensors of the same shape.
func expectClose(
  _ actual: Tensor<Double>, _ expected: Tensor<Double>, relative: Double = 1e-12,
  absolute: Double = 1e-15, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.shape == expected.shape, "\(what): shapes", sourceLocation: sourceLocation)
  guard actual.shape == expected.shape else { return }
  for (a, e) in zip(actual.scalars, expected.scalars) {
    expectClose(a, e, relative: relative, absolute: absolute, what, sourceLocation: sourceLocation)
  }
}

/// Central differences of the scalar `loss` with respect to every element of the leaf `node`:
/// (L(x + ε) − L(x − ε)) / 2ε, re-running `graph.forward()` for each perturbation — except
/// that stop-gradient nodes keep their values, as their VJP treats them.
func centralDifference(
  of loss: Node<Double>, withRespectTo node: Node<Double>, epsilon: Double = 1e-6
) -> Tensor<Double> {
  let original = node.value
  var numeric = Tensor<Double>.zeros(original.shape)
  for i in 0..<original.count {
    var plus = original
    plus.scalars[i] += epsilon
    node.value = plus
    forwardHoldingStoppedValues(loss.graph)
    let lossPlus = loss.value.scalar
    var minus = original
    minus.scalars[i] -= epsilon
    node.value = minus
    forwardHoldingStoppedValues(loss.graph)
    numeric.scalars[i] = (lossPlus - loss.value.scalar) / (2 * epsilon)
  }
  node.value = original
  loss.graph.forward()
  return numeric
}

/// `graph.forward()`, except that every `StopGradient` node keeps its current value.
private func forwardHoldingStoppedValues(_ graph: Graph<Double>) {
  for node in graph.nodes where node.kind == .operation && !(node.operation is StopGradient) {
    graph.evaluateInPlace(node.id)
  }
}

/// A tensor of the given shape with values drawn from `domain`, as the op checks draw them.
func randomTensor(
  _ shape: [Int], domain: CheckDomain = .anywhere, using generator: inout SplitMix64
) -> Tensor<Double> {
  RandomGraphGenerator.random(shape, in: domain, using: &generator)
}
