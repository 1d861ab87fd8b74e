import ChainRule

/// A tensor of `shape` with elements drawn uniformly from `range`, row-major.
public func uniformTensor(
  _ shape: [Int], in range: ClosedRange<Double> = -1...1,
  using generator: inout some RandomNumberGenerator
) -> Tensor<Double> {
  let count = shape.reduce(1, *)
  return Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextDouble(in: range) })
}

/// The largest |aᵢ − bᵢ| / max(1, |aᵢ|, |bᵢ|) over two tensors of the same shape.
/// - Precondition: the shapes are equal.
public func largestDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
  require(a.shape == b.shape, "largestDifference: shapes \(a.shape) and \(b.shape) differ")
  return zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($0), abs($1)) }.max() ?? 0
}

/// One printed line comparing a hand computation with the library's:
/// `name [shape]  agree to 1e-12` (or `DIFFER (largest difference …)`), the same on every
/// machine whenever they agree.
public func agreement(
  _ name: String, hand: Tensor<Double>, graph: Tensor<Double>, tolerance: Double = 1e-12
) -> String {
  let shape = hand.rank == 0 ? "" : " [" + hand.shape.map(String.init).joined(separator: ", ") + "]"
  let label = (name + shape).padding(toLength: 26, withPad: " ", startingAt: 0)
  guard hand.shape == graph.shape else {
    return label + " DIFFER: the graph's shape is \(graph.shape)"
  }
  let difference = largestDifference(hand, graph)
  return label
    + (difference <= tolerance
      ? " agree to \(fmt(tolerance, 1))" : " DIFFER (largest difference \(fmt(difference, 3)))")
}
