import Testing

@testable import ChainRule

/// The fast in-place paths of every op (`forward(_:into:)`, `accumulateVJP`) against the
/// reference ones (`forward(_:)`, `vjp` summed back by `summed(toShape:)`), in Float and
/// Double, on each catalog check's shapes and on extra broadcasting layouts.
@Suite("In-place kernels vs reference")
struct KernelConsistencyTests {
  static let cases: [(String, OperationCheck)] =
    OperationCatalog.all.flatMap { op in op.checks.map { ("\(op): \($0.description)", $0) } }
    + [
      (
        "Add: [2, 3, 4] + [3, 4]",
        OperationCheck("", [[2, 3, 4], [3, 4]]) { _, x in x[0] + x[1] }
      ),
      ("Mul: [5, 1] ⊙ [5, 7]", OperationCheck("", [[5, 1], [5, 7]]) { _, x in x[0] * x[1] }),
      (
        "Sub: [2, 3, 1] − [2, 1, 4]",
        OperationCheck("", [[2, 3, 1], [2, 1, 4]]) { _, x in x[0] - x[1] }
      ),
      (
        "MatMul: [7, 13] · [13, 5]",
        OperationCheck("", [[7, 13], [13, 5]]) { _, x in x[0].matmul(x[1]) }
      ),
      // Odd shapes straddling the GEMM's register tiles, through the packed kernels; the VJP
      // runs the two transposed products (Ȳ·Bᵀ and Aᵀ·Ȳ).
      (
        "MatMul: [17, 63] · [63, 65]",
        OperationCheck("", [[17, 63], [63, 65]]) { _, x in x[0].matmul(x[1]) }
      ),
      (
        "MatMul: [65, 129] · [129, 3]",
        OperationCheck("", [[65, 129], [129, 3]]) { _, x in x[0].matmul(x[1]) }
      ),
      // Gather's row copies and its scatter-add: rows picked many times (row 5 four times,
      // row 0 twice), rows never picked, rows of a rank-3 table, a rank-0 index.
      (
        "Gather: [[5, 5, 0], [5, 1, 5], [0, 3, 5]] of [6, 5]",
        OperationCheck("", [[6, 5]]) { graph, x in
          x[0].gather(graph.constant(Tensor([[5, 5, 0], [5, 1, 5], [0, 3, 5]])))
        }
      ),
      (
        "Gather: [2, 2, 0, 2] of [3, 2, 4]",
        OperationCheck("", [[3, 2, 4]]) { _, x in x[0].gather([2, 2, 0, 2]) }
      ),
      (
        "Gather: one index [] of [4, 3]",
        OperationCheck("", [[4, 3]]) { graph, x in x[0].gather(graph.constant(Tensor(3))) }
      ),
    ]

  @Test(arguments: cases.map(\.0))
  func fastPathsMatchTheReference(_ name: String) {
    let check = Self.cases.first { $0.0 == name }!.1
    compare(check, as: Double.self, tolerance: 1e-13)
    compare(check, as: Float.self, tolerance: 1e-5)
  }

  func compare<Scalar: TensorScalar>(_ check: OperationCheck, as _: Scalar.Type, tolerance: Scalar)
  {
    var generator = SplitMix64(seed: 11)
    let graph = Graph<Double>()
    let leaves = check.inputShapes.map {
      graph.input(randomTensor($0, domain: check.domain, using: &generator))
    }
    let node = check.build(graph, leaves)
    guard let operation = node.operation else {
      Issue.record("the check builds no op node (\(node.label) is a leaf): nothing to compare")
      return
    }
    let inputs = node.inputs.map { $0.value.converted(to: Scalar.self) }
    let reference = operation.forward(inputs)
    var output = Tensor<Scalar>.zeros(reference.shape)
    operation.forward(inputs, into: &output)
    #expect(
      output.isApproximatelyEqual(
        to: reference, relativeTolerance: tolerance, absoluteTolerance: tolerance))

    let gradient = randomTensor(reference.shape, using: &generator).converted(to: Scalar.self)
    // Start from non-zero buffers so that accumulation (+=), not assignment, is checked.
    let start = inputs.map { randomTensor($0.shape, using: &generator).converted(to: Scalar.self) }
    let needs = inputs.map { _ in true }
    var fast = start
    operation.accumulateVJP(
      inputs, output: reference, gradient: gradient, into: &fast, needs: needs)
    var slow = start
    operation.accumulateThroughVJP(
      inputs, output: reference, gradient: gradient, into: &slow, needs: needs)
    for (a, b) in zip(fast, slow) {
      #expect(
        a.isApproximatelyEqual(to: b, relativeTolerance: tolerance, absoluteTolerance: tolerance))
    }
    // An operand that needs no gradient is left untouched.
    var partial = start
    let onlyFirst = inputs.indices.map { $0 == 0 }
    operation.accumulateVJP(
      inputs, output: reference, gradient: gradient, into: &partial, needs: onlyFirst)
    for slot in inputs.indices.dropFirst() { #expect(partial[slot] == start[slot]) }
  }
}
