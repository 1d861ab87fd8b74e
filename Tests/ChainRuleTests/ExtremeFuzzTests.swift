import Testing

@testable import ChainRule

/// log with the VJP ȳ · (1/x) that ChainRule used to have: ∞ for subnormal x.
private struct NaiveLog: UnaryElementwise, CatalogedOperation {
  var name: String { "naive-log" }
  func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.log(x) }
  func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 / x }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "1/x" }
  static let checks = [
    OperationCheck("[2, 3]", [[2, 3]], domain: .positive) { graph, x in
      graph.apply(NaiveLog(), [x[0]])
    }
  ]
}

/// a/b with the partials (1/b, −a/b²) that ChainRule used to multiply by ȳ.
private struct NaiveDivide: BinaryElementwise, CatalogedOperation {
  var name: String { "naive-div" }
  func apply<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar { a / b }
  func partials<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar, y: Scalar) -> (Scalar, Scalar) {
    (1 / b, -a / (b * b))
  }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "" }
  static let checks = [
    OperationCheck("[2, 3]", [[2, 3], [2, 3]], domain: .awayFromZero) { graph, x in
      graph.apply(NaiveDivide(), [x[0], x[1]])
    }
  ]
}

/// The extreme-values family (`makeExtremeGraph`): the gradients of every node of a Float
/// graph against those of the same graph in Double, whose values are the same Floats.
///
/// A graph is compared only when its backward pass fits Float's range: every gradient that
/// flows on (of an op node) is 0 or a normal Float in magnitude, and every contribution an
/// op hands to an operand is at most Float's largest value. Otherwise Float cannot hold the
/// intermediate (x/x of a subnormal x sends ±1.3e40 into x's gradient, which cancel in
/// Double; a gradient of 1e-46 underflows in Float before a 1/b of 1e25 scales it back): such
/// graphs are counted, not judged. In a compared graph, per element, with S the largest
/// finite Double gradient (the scale the Float rounding errors of the backward pass are
/// relative to):
/// - a Double gradient that is NaN has no reference and is skipped (counted);
/// - one beyond Float's range must be a Float infinity of the same sign;
/// - any other must be matched by a finite Float within 10⁻³ of itself + 10⁻⁵ · S + 10⁻³⁵
///   (the last term for results below Float's normal range). That is loose for ordinary
///   values and exact enough to catch what this family is for: ∞ or NaN where the Double
///   gradient is finite (ȳ · (1/x), b², 0 · ∞), or a gradient lost to overflow.
@Suite("Extreme-value fuzz")
struct ExtremeFuzzTests {
  static let generator = RandomGraphGenerator()
  static let batches = 4
  static let graphsPerBatch = 256  // 1,024 graphs per run

  @Test(arguments: 0..<batches)
  func floatGradientsOfExtremeGraphsMatchDouble(batch: Int) {
    let seeds = UInt64(batch * Self.graphsPerBatch)..<UInt64((batch + 1) * Self.graphsPerBatch)
    for seed in seeds {
      let result = Self.compare(seed: seed, using: Self.generator)
      if !result.failures.isEmpty {
        Issue.record(
          """
          extreme graph seed \(seed) failed; reproduce with \
          RandomGraphGenerator().makeExtremeGraph(seed: \(seed), as: Float.self) and as: \
          Double.self
          \(result.failures.joined(separator: "\n"))
          Float graph:
          \(result.listing)
          """)
      }
    }
  }

  /// The elements of `seed`'s graph whose Float gradient misses the Double one, a listing
  /// of the Float graph when there are any, and how many elements were compared and skipped.
  static func compare(seed: UInt64, using generator: RandomGraphGenerator) -> (
    failures: [String], listing: String, compared: Int, skipped: Int, fits: Bool
  ) {
    let (floatGraph, floatLoss) = generator.makeExtremeGraph(seed: seed, as: Float.self)
    let (doubleGraph, doubleLoss) = generator.makeExtremeGraph(seed: seed, as: Double.self)
    floatGraph.backward(from: floatLoss)
    doubleGraph.backward(from: doubleLoss)
    guard fitsFloat(doubleGraph) else { return ([], "", 0, 0, false) }
    let pairs = zip(floatGraph.nodes, doubleGraph.nodes).filter { $0.0.requiresGradient }
    let scale =
      pairs.flatMap { $0.1.gradient.scalars }
      .filter { $0.isFinite && abs($0) <= Double(Float.greatestFiniteMagnitude) }
      .map(abs).max() ?? 0
    var failures: [String] = []
    var (compared, skipped) = (0, 0)
    for (floatNode, doubleNode) in pairs {
      for (i, (f, d)) in zip(floatNode.gradient.scalars, doubleNode.gradient.scalars).enumerated() {
        if d.isNaN {
          skipped += 1
          continue
        }
        compared += 1
        let ok: Bool
        if !d.isFinite || abs(d) > Double(Float.greatestFiniteMagnitude) {
          ok = f.isInfinite && (f < 0) == (d < 0)
        } else {
          ok = f.isFinite && abs(Double(f) - d) <= 1e-3 * abs(d) + 1e-5 * scale + 1e-35
        }
        if !ok {
          failures.append(
            "∂L/∂\(floatNode.label)[\(i)]: Float \(f), Double \(d) (gradient scale \(scale))")
        }
      }
    }
    return (failures, failures.isEmpty ? "" : floatGraph.listing(), compared, skipped, true)
  }

  /// Whether the Double graph's backward pass stays in Float's range (see the suite's note).
  static func fitsFloat(_ graph: Graph<Double>) -> Bool {
    let largest = Double(Float.greatestFiniteMagnitude)
    let leastNormal = Double(Float.leastNormalMagnitude)
    for node in graph.nodes where node.requiresGradient {
      guard let operation = node.operation else { continue }
      let gradient = node.gradient
      guard
        gradient.scalars.allSatisfy({ $0 == 0 || (abs($0) >= leastNormal && abs($0) <= largest) })
      else { return false }
      let shares = operation.vjp(node.inputs.map(\.value), output: node.value, gradient: gradient)
      guard shares.allSatisfy({ $0.scalars.allSatisfy { abs($0) <= largest } }) else {
        return false
      }
    }
    return true
  }

  @Test func theFamilyCoversEveryOpAndTheExtremes() {
    var counts: [String: Int] = [:]
    var (compared, skipped, outOfRange) = (0, 0, 0)
    var extremes = (subnormal: 0, logits: 0, certain: 0, constantZeros: 0)
    for seed in 0..<UInt64(Self.batches * Self.graphsPerBatch) {
      let (graph, _) = Self.generator.makeExtremeGraph(seed: seed, as: Float.self)
      for node in graph.nodes {
        if let operation = node.operation {
          counts[String(describing: type(of: operation)), default: 0] += 1
        } else {
          let scalars = node.value.scalars
          extremes.subnormal += scalars.filter(\.isSubnormal).count
          extremes.logits += scalars.filter { abs($0) == 1000 }.count
          extremes.certain += scalars.filter { $0 == 1 || $0 == (1 as Float).nextDown }.count
          if node.kind == .constant {
            extremes.constantZeros += scalars.filter { $0 == 0 }.count
          }
        }
      }
      let result = Self.compare(seed: seed, using: Self.generator)
      compared += result.compared
      skipped += result.skipped
      outOfRange += result.fits ? 0 : 1
    }
    print(
      "extreme fuzz: \(Self.batches * Self.graphsPerBatch) graphs, \(outOfRange) beyond Float's "
        + "range; \(compared) gradient elements compared, \(skipped) skipped (NaN in Double); "
        + "\(extremes); ops: "
        + "\(counts.sorted { $0.key < $1.key })")
    // Each op's share of the draws shrinks as the catalog grows (51 ops now): 15 graphs each.
    for op in OperationCatalog.all {
      #expect(counts[String(describing: op), default: 0] >= 15, "\(op) is rarely drawn: \(counts)")
    }
    #expect(extremes.subnormal >= 200)
    #expect(extremes.logits >= 200)
    #expect(extremes.certain >= 100)
    #expect(skipped * 20 <= compared, "too many gradients without a reference")
    #expect(outOfRange * 4 <= Self.batches * Self.graphsPerBatch, "too many graphs beyond Float")
  }

  @Test func theSameSeedGivesTheSameGraphInFloatAndDouble() {
    for seed: UInt64 in [0, 7, 12345] {
      let float = Self.generator.makeExtremeGraph(seed: seed, as: Float.self).graph
      let double = Self.generator.makeExtremeGraph(seed: seed, as: Double.self).graph
      #expect(
        float.listing()
          == Self.generator.makeExtremeGraph(seed: seed, as: Float.self).graph.listing())
      #expect(float.listing(includingValues: false) == double.listing(includingValues: false))
      for (f, d) in zip(float.nodes, double.nodes) where f.operation == nil {
        #expect(f.value.converted(to: Double.self) == d.value, "leaf \(f.label)")
      }
    }
  }

  // The old formulas, ȳ · (1/x) for log and ȳ · (−a/b²) for divide, in place of the real ops:
  // the family must catch them, and pass the real ops on the same seeds.
  @Test func theFamilyCatchesTheOldLogAndDivideVJPs() {
    let others: [any CatalogedOperation.Type] = [Add.self, Multiply.self, Sum.self]
    let naive = RandomGraphGenerator(operations: [NaiveLog.self, NaiveDivide.self] + others)
    let careful = RandomGraphGenerator(operations: [Log.self, Divide.self] + others)
    let seeds = 0..<UInt64(300)
    let caught = seeds.filter { !Self.compare(seed: $0, using: naive).failures.isEmpty }
    let failed = seeds.filter { !Self.compare(seed: $0, using: careful).failures.isEmpty }
    print("extreme fuzz: the old log and divide VJPs fail \(caught.count) of \(seeds.count) seeds")
    #expect(caught.count >= 5, "the naive VJPs failed only seeds \(caught)")
    #expect(failed.isEmpty, "the real log and divide failed seeds \(failed)")
  }
}
