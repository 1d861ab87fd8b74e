import ChainRule

/// W4: a 2 → 16 → 16 → 1 MLP of scalar tanh neurons (980 nodes), built, evaluated and
/// differentiated from scratch every step, as micrograd does with its `Value`s.
func scalarMLPWorkload(quick: Bool) -> Measurement {
  var generator = SplitMix64(seed: 4)
  let sizes = [2, 16, 16, 1]
  let weights = (1..<sizes.count).map { l in
    (0..<sizes[l]).map { _ in (0..<sizes[l - 1]).map { _ in generator.nextDouble(in: -1...1) } }
  }
  let graph = ScalarGraph(capacity: 1024)
  var nodes = 0
  var hidden: [ScalarNode] = []
  hidden.reserveCapacity(16)
  var next: [ScalarNode] = []
  next.reserveCapacity(16)
  var measurement = measure(
    "W4 scalar MLP 2→16→16→1", warmup: quick ? 10 : 200, iterations: quick ? 20 : 2000,
    minimumSeconds: quick ? 0 : 0.5
  ) {
    graph.removeAll()
    hidden.removeAll(keepingCapacity: true)
    hidden.append(graph.leaf(0.5))
    hidden.append(graph.leaf(-1.0))
    for layer in weights {
      next.removeAll(keepingCapacity: true)
      for row in layer {
        var sum = graph.leaf(0)
        for (w, x) in zip(row, hidden) { sum = sum + graph.leaf(w) * x }
        next.append(sum.tanh())
      }
      swap(&hidden, &next)
    }
    graph.backward(from: hidden[0])
    nodes = graph.count
  }
  measurement.extra = [
    ("nodes", Double(nodes)), ("nodes/s", Double(nodes) / measurement.medianSeconds),
  ]
  return measurement
}

/// W5: float32 n × n matrix product on both cores, in GFLOP/s (2n³ flops). The name says which
/// kernel ran (`CHAINRULE_GEMM_ISA=avx2` forces the AVX2 one on an AVX-512 machine).
func matmulWorkload(n: Int, quick: Bool) -> Measurement {
  var generator = SplitMix64(seed: UInt64(n))
  let a = Tensor<Float>(
    shape: [n, n], scalars: (0..<n * n).map { _ in Float(generator.nextDouble(in: -1...1)) })
  let b = Tensor<Float>(
    shape: [n, n], scalars: (0..<n * n).map { _ in Float(generator.nextDouble(in: -1...1)) })
  var c = Tensor<Float>.zeros([n, n])
  var measurement = measure(
    "W5 matmul \(GemmInstructionSet.current.rawValue) n=\(n)", warmup: quick ? 1 : 5,
    iterations: quick ? 3 : 30,
    minimumSeconds: quick ? 0 : 0.3
  ) {
    a.matmul(b, into: &c)
  }
  measurement.extra = [("GFLOP/s", 2 * Double(n * n * n) / measurement.medianSeconds / 1e9)]
  return measurement
}
