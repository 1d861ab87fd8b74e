import Foundation
import Synchronization
import Testing

@testable import ChainRule

/// Random DAGs from every op of the catalog (`RandomGraphGenerator`), forward mode checked on
/// each: ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ against reverse mode, and J·v against a central difference in
/// Double, moving every drawn node that has a gradient at once (leaves and op nodes, each
/// perturbed in place). One graph in four is built in Float.
@Suite("Random-graph fuzz of forward mode")
struct ForwardModeFuzzTests {
  static let generator = RandomGraphGenerator()
  static let batches = 8
  static let graphsPerBatch = 256  // 2,048 graphs per run

  /// Double graphs: the two modes agree to rounding, 10⁻¹² of the terms' size (the largest
  /// error over the run is printed); the central difference as in the gradient fuzz (atol
  /// 1e-7, rtol 1e-6).
  static let double = (absolute: 1e-7, relative: 1e-6, consistency: 1e-12)
  /// Float graphs: both modes carry Float rounding (ε = 1.2e-7, over chains of up to 30 ops).
  static let float = (absolute: 1e-5, relative: 1e-3, consistency: 1e-4)

  /// Per run: graphs, failures, vacuous reports, the largest consistency error relative to
  /// the terms' size in Double, and the time spent.
  struct Tally: Sendable {
    var batches = 0
    var graphs = 0
    var failures = 0
    var vacuous = 0
    var worstDoubleConsistency = 0.0
    var seconds = 0.0
  }
  static let run = Mutex(Tally())

  @Test(arguments: 0..<batches)
  func forwardModeOfRandomGraphsAgreesWithReverseModeAndDifferences(batch: Int) {
    let start = ContinuousClock.now
    var tally = Tally()
    let seeds = UInt64(batch * Self.graphsPerBatch)..<UInt64((batch + 1) * Self.graphsPerBatch)
    for seed in seeds {
      let isFloat = seed % 4 == 3
      let report =
        isFloat ? Self.check(seed: seed, Float.self) : Self.check(seed: seed, Double.self)
      tally.graphs += 1
      if !isFloat, report.consistency.scale > 0 {
        tally.worstDoubleConsistency = max(
          tally.worstDoubleConsistency, report.consistency.error / report.consistency.scale)
      }
      switch report.status {
      case .passed: break
      case .vacuous:
        tally.vacuous += 1
        Issue.record("random graph seed \(seed) checked nothing:\n\(report)")
      case .failed:
        tally.failures += 1
        Issue.record(
          """
          forward mode of random graph seed \(seed) (\(isFloat ? "Float" : "Double")) failed; \
          reproduce with RandomGraphGenerator().makeRandomGraph(seed: \(seed), as: \
          \(isFloat ? "Float" : "Double").self)
          \(report)
          """)
      }
    }
    tally.seconds = (ContinuousClock.now - start) / .seconds(1)
    let total = Self.run.withLock { run -> Tally? in
      run.batches += 1
      run.graphs += tally.graphs
      run.failures += tally.failures
      run.vacuous += tally.vacuous
      run.worstDoubleConsistency = max(run.worstDoubleConsistency, tally.worstDoubleConsistency)
      run.seconds += tally.seconds
      return run.batches == Self.batches ? run : nil
    }
    if let total {
      print(
        "forward-mode fuzz: \(total.graphs) graphs, \(total.failures) failed, \(total.vacuous) "
          + "vacuous; largest Double |⟨u, Jv⟩ − ⟨Jᵀu, v⟩| / scale = "
          + String(format: "%.1e", total.worstDoubleConsistency)
          + String(format: "; %.1f s of checking over the batches", total.seconds))
      #expect(total.graphs == Self.batches * Self.graphsPerBatch)
      #expect(total.failures == 0)
    }
  }

  /// The forward-mode check of the graph of `seed`, every drawn node with a gradient moved.
  static func check<Scalar: TensorScalar>(seed: UInt64, _: Scalar.Type)
    -> ForwardModeCheckReport
  {
    let drawn = generator.makeRandomGraph(seed: seed, as: Scalar.self)
    let tolerance = Scalar.self == Double.self ? double : float
    return drawn.graph.checkForwardMode(
      of: drawn.loss, withRespectTo: drawn.checkedNodes, seed: seed,
      absoluteTolerance: tolerance.absolute, relativeTolerance: tolerance.relative,
      consistencyTolerance: tolerance.consistency)
  }

  @Test(arguments: OperationCatalog.all.map { String(describing: $0) })
  func theFuzzCatchesAWrongJVPOf(_ opName: String) {
    // The op's JVP made wrong by 10⁻⁴ relative (a leak of 10⁻⁴·ẋ for the ops whose JVP is 0
    // by convention: step, stopGradient), everything else as it is: some graph of the fuzz
    // that applies the op must fail its forward-mode check.
    let isZero = opName == "Step" || opName == "StopGradient"
    let mutated = Self.generator.substituting { op in
      String(describing: type(of: op)) == opName
        ? ForwardModeCheckTests.Skewed(
          base: op, jvpError: isZero ? 0 : 1e-4, jvpLeak: isZero ? 1e-4 : 0) : nil
    }
    var applied = 0
    for seed: UInt64 in 0..<1024 where seed % 4 != 3 {
      let drawn = mutated.makeRandomGraph(seed: seed, as: Double.self)
      guard drawn.graph.nodes.contains(where: { $0.operation is ForwardModeCheckTests.Skewed })
      else { continue }
      applied += 1
      let report = drawn.graph.checkForwardMode(
        of: drawn.loss, withRespectTo: drawn.checkedNodes, seed: seed,
        absoluteTolerance: Self.double.absolute, relativeTolerance: Self.double.relative,
        consistencyTolerance: Self.double.consistency)
      if report.status == .failed { return }
    }
    Issue.record("a wrong JVP of \(opName) went unnoticed in \(applied) graphs that apply it")
  }

  @Test func floatGraphsTangentsMatchTheirDoubleTwins() {
    // The same random graph in Float and in Double (the twin holds the Float graph's leaf
    // values converted), moved along the same tangents. End to end, the loss's tangent agrees
    // to Float rounding as the fuzz measures it (|Float − Double| ≤ 1e-5 + 1e-3·|Double|).
    // Node by node, each op's JVP rule run in Float agrees with the same rule run in Double on
    // the same numbers (the Float graph's values and tangents, converted) to 1e-5 of the
    // largest tangent it combines or forms: there the comparison is of the rule's arithmetic
    // alone, not of how a deep chain (cos of 62.5, say) amplifies the rounding of its values.
    var compared = 0
    for seed: UInt64 in 0..<256 {
      let drawn = Self.generator.makeRandomGraph(seed: seed, as: Float.self)
      let twin = drawn.graph.doubleTwin()
      let moved = drawn.checkedNodes
      var random = SplitMix64(seed: seed)
      let tangents = moved.map { node in
        Tensor<Float>(
          shape: node.shape,
          scalars: (0..<node.value.count).map { _ in Float(random.nextDouble(in: -1...1)) })
      }
      let single = drawn.graph.forwardTangents(
        of: drawn.loss, withRespectTo: moved, tangents: tangents, pass: "test")
      let double = twin.jvp(
        of: twin.nodes[drawn.loss.id], withRespectTo: moved.map { twin.nodes[$0.id] },
        tangents: tangents.map { $0.converted(to: Double.self) }
      ).scalar
      let loss = Double(single[drawn.loss.id]?.scalar ?? 0)
      #expect(
        abs(loss - double) <= 1e-5 + 1e-3 * abs(double),
        "seed \(seed): loss tangent \(loss) in Float, \(double) in Double")
      for node in drawn.graph.nodes.prefix(drawn.loss.id + 1) {
        guard let operation = node.operation, let tangent = single[node.id] else { continue }
        let operandTangents = node.inputs.map {
          single[$0.id].map { $0.converted(to: Double.self) }
        }
        guard operandTangents.contains(where: { $0 != nil }) else { continue }  // a moved op
        let reference = operation.jvp(
          node.inputs.map { $0.value.converted(to: Double.self) },
          output: node.value.converted(to: Double.self), tangents: operandTangents)
        // The size of what the rule combines: its result and its operands' tangents (a sum
        // that cancels to 0.01 from terms near 1 carries the terms' rounding).
        let scale =
          ([reference] + operandTangents.compactMap { $0 }).flatMap(\.scalars)
          .map(abs).max() ?? 0
        var own = tangent.converted(to: Double.self)
        if let index = moved.firstIndex(of: node) {  // a moved op node adds its own tangent
          own = own - tangents[index].converted(to: Double.self)
        }
        for (x, y) in zip(own.scalars, reference.scalars) {
          compared += 1
          #expect(
            abs(x - y) <= 1e-5 * scale + 1e-7,
            "seed \(seed), \(node.label): JVP rule in Float \(x), in Double \(y)")
        }
      }
    }
    #expect(compared > 10_000)
  }
}
