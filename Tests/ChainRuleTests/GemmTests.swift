import CChainRuleKernels
import Foundation
import Testing

@testable import ChainRule

/// One GEMM problem: shape, transposes, scalars and padded leading dimensions.
struct GemmCase: CustomTestStringConvertible, Sendable {
  var m: Int, n: Int, k: Int
  var transposeA = false, transposeB = false
  var alpha = 1.0, beta = 0.0
  var padding = 0  // extra elements per stored row of A, B and C
  var threads: Int?  // forced thread count (nil: decided by size)

  var lda: Int { (transposeA ? m : k) + padding }
  var ldb: Int { (transposeB ? k : n) + padding + 1 }
  var ldc: Int { n + padding + 2 }
  var rowsA: Int { transposeA ? k : m }
  var rowsB: Int { transposeB ? n : k }

  var testDescription: String {
    let ops = (transposeA ? "T" : "N") + (transposeB ? "T" : "N")
    let threadCount = threads.map { " threads=\($0)" } ?? ""
    return "\(m)x\(n)x\(k) \(ops) alpha=\(alpha) beta=\(beta) pad=\(padding)\(threadCount)"
  }
}

/// Odd shapes (none a multiple of any tile or block size; 63, 65, 129 straddle them) in every
/// transpose combination, plus sizes that span several cache blocks along every axis (m 1601 >
/// MC, k 530 > 2 KC, n 2100 > NC of AVX2, 4100 > NC of AVX-512 with m 490 > MC). Each runs on one
/// thread, on two (forced, so that the threaded paths run even while other tests hold the worker
/// pool: C is cut by rows in 150x97x129 and 100x90x530, by columns in 41x320x100), or as the
/// size decides.
let gemmCases: [GemmCase] = {
  let shapes = [
    (1, 1, 1), (2, 2, 2), (4, 2, 3), (7, 13, 5), (1, 300, 1), (1, 1, 300), (300, 1, 7),
    (3, 17, 63), (17, 3, 1), (65, 129, 7), (63, 65, 129), (129, 63, 65),
    (67, 131, 259), (150, 97, 129), (13, 700, 41), (1601, 45, 37), (41, 320, 100),
    (100, 90, 530), (7, 2100, 20), (490, 4100, 9),
  ]
  var cases: [GemmCase] = []
  for (index, (m, n, k)) in shapes.enumerated() {
    for transposes in 0..<4 {
      var item = GemmCase(m: m, n: n, k: k)
      item.transposeA = transposes & 2 != 0
      item.transposeB = transposes & 1 != 0
      // Cycle scalars and padding so each shape sees several combinations.
      let scalars = [(1.0, 0.0), (0.75, -0.5), (-2.0, 1.0), (1.0, 1.0)]
      (item.alpha, item.beta) = scalars[(index + transposes) % scalars.count]
      item.padding = (index + transposes) % 3 == 0 ? 0 : 3
      item.threads = [nil, 1, 2][(index + transposes / 2) % 3]
      cases.append(item)
    }
  }
  return cases
}()

/// Deterministic values in [-1, 1) (a small LCG), so failures reproduce.
func gemmValues(count: Int, seed: UInt64) -> [Double] {
  var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
  return (0..<count).map { _ in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Double(state >> 11) / Double(1 << 53) * 2 - 1
  }
}

/// Naive triple loop in Double: the expected C, and the sum of |terms| per element that
/// bounds the rounding error of any summation order.
func naiveGemm(_ g: GemmCase, a: [Double], b: [Double], c: [Double]) -> (
  value: [Double], magnitude: [Double]
) {
  var value = c
  var magnitude = [Double](repeating: 0, count: c.count)
  for i in 0..<g.m {
    for j in 0..<g.n {
      var sum = 0.0
      var abs = 0.0
      for p in 0..<g.k {
        let x = g.transposeA ? a[p * g.lda + i] : a[i * g.lda + p]
        let y = g.transposeB ? b[j * g.ldb + p] : b[p * g.ldb + j]
        sum += x * y
        abs += Swift.abs(x * y)
      }
      let scaled = g.beta == 0 ? 0 : g.beta * c[i * g.ldc + j]  // C may be NaN when beta == 0
      value[i * g.ldc + j] = g.alpha * sum + scaled
      magnitude[i * g.ldc + j] = Swift.abs(g.alpha) * abs + Swift.abs(scaled)
    }
  }
  return (value, magnitude)
}

/// Runs `multiply` on fresh operands and checks every element of C against the naive loop,
/// including that the padding between rows of C is untouched.
func checkGemm<T: BinaryFloatingPoint>(
  _ g: GemmCase, _: T.Type, relativeTolerance: Double,
  multiply: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void
) {
  // Round operands to T first so the reference sees exactly what the kernel sees.
  let a = gemmValues(count: g.rowsA * g.lda, seed: 1).map { Double(T($0)) }
  let b = gemmValues(count: g.rowsB * g.ldb, seed: 2).map { Double(T($0)) }
  // beta == 0 must ignore C, NaNs included.
  let cStart =
    g.beta == 0
    ? [Double](repeating: .nan, count: g.m * g.ldc)
    : gemmValues(count: g.m * g.ldc, seed: 3).map { Double(T($0)) }
  let expected = naiveGemm(g, a: a, b: b, c: cStart)
  let aT = a.map { T($0) }
  let bT = b.map { T($0) }
  var cT = cStart.map { T($0) }
  aT.withUnsafeBufferPointer { a in
    bT.withUnsafeBufferPointer { b in
      cT.withUnsafeMutableBufferPointer { c in
        multiply(a.baseAddress!, b.baseAddress!, c.baseAddress!)
      }
    }
  }
  var failures = 0
  for i in 0..<g.m {
    for j in 0..<g.ldc {
      let index = i * g.ldc + j
      let got = Double(cT[index])
      if j >= g.n {
        if !(got.isNaN && cStart[index].isNaN) && got != cStart[index] { failures += 1 }
        continue
      }
      let tolerance =
        relativeTolerance * Double(max(g.k, 1)) * max(expected.magnitude[index], 1e-30)
      if !(Swift.abs(got - expected.value[index]) <= tolerance) {
        if failures < 5 {
          Issue.record("C[\(i)][\(j)] = \(got), expected \(expected.value[index]) ± \(tolerance)")
        }
        failures += 1
      }
    }
  }
  #expect(failures == 0, "\(failures) wrong elements")
}

/// The instruction sets this CPU can run: every kernel path is tested on each.
let gemmInstructionSets = GemmInstructionSet.allCases.filter(\.isSupported)

@Suite("Gemm")
struct GemmTests {
  @Test(arguments: gemmInstructionSets, gemmCases)
  func float(_ instructionSet: GemmInstructionSet, _ g: GemmCase) {
    checkGemm(g, Float.self, relativeTolerance: 1e-6) { a, b, c in
      let ran = Gemm.multiply(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
        alpha: Float(g.alpha), a: a, lda: g.lda, b: b, ldb: g.ldb,
        beta: Float(g.beta), c: c, ldc: g.ldc, instructionSet: instructionSet, threads: g.threads)
      #expect(ran == instructionSet)
    }
  }

  @Test(arguments: gemmInstructionSets, gemmCases)
  func double(_ instructionSet: GemmInstructionSet, _ g: GemmCase) {
    checkGemm(g, Double.self, relativeTolerance: 1e-14) { a, b, c in
      let ran = Gemm.multiply(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
        alpha: g.alpha, a: a, lda: g.lda, b: b, ldb: g.ldb,
        beta: g.beta, c: c, ldc: g.ldc, instructionSet: instructionSet, threads: g.threads)
      #expect(ran == instructionSet)
    }
  }

  /// The default path (no set forced) is correct too, and runs ``GemmInstructionSet/current``.
  @Test(arguments: gemmCases.filter { $0.m * $0.n * $0.k > 100_000 })
  func defaultPath(_ g: GemmCase) {
    checkGemm(g, Float.self, relativeTolerance: 1e-6) { a, b, c in
      let ran = Gemm.multiply(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
        alpha: Float(g.alpha), a: a, lda: g.lda, b: b, ldb: g.ldb,
        beta: Float(g.beta), c: c, ldc: g.ldc)
      #expect(ran == GemmInstructionSet.current)
    }
  }

  /// Forcing a set really switches kernels: their summation differs (generic: multiply then
  /// add; AVX2: fused multiply-add; AVX-512: FMA over three k slices of 100 instead of two of
  /// 150), so the
  /// same Float product of depth 300 comes out different in the last bits on every pair of
  /// paths, and bit-identical when the same path runs twice.
  @Test func forcingAPathSwitchesTheKernel() {
    let (m, n, k) = (24, 40, 300)
    let a = gemmValues(count: m * k, seed: 5).map { Float($0) }
    let b = gemmValues(count: k * n, seed: 6).map { Float($0) }
    func product(_ instructionSet: GemmInstructionSet) -> [Float] {
      var c = [Float](repeating: 0, count: m * n)
      Gemm.multiply(
        transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b,
        ldb: n, beta: 0, c: &c, ldc: n, instructionSet: instructionSet)
      return c
    }
    let results = gemmInstructionSets.map(product)
    for (index, instructionSet) in gemmInstructionSets.enumerated() {
      #expect(product(instructionSet) == results[index], "\(instructionSet) is not deterministic")
      for other in results.indices where other > index {
        #expect(
          results[other] != results[index],
          "\(gemmInstructionSets[other]) gave the same bits as \(instructionSet)")
      }
    }
  }

  /// A worker that joins late (descheduled on a busy machine; delayed on purpose here) loses the
  /// chunks it has not claimed to the caller, in the middle of the product (0.2 ms, in a debug
  /// build a fraction of these products) or all of them (20 ms, after the product's end). The
  /// result is right, and the same bits as on one thread: who computes a chunk never changes
  /// the order of its sums. Shapes: rows cut in one step, rows over 5–9 k slices, columns.
  @Test(arguments: gemmInstructionSets, [200_000, 20_000_000])
  func lateWorker(_ instructionSet: GemmInstructionSet, _ delayNanoseconds: Int) {
    cr_gemm_set_worker_delay(Int64(delayNanoseconds))
    defer { cr_gemm_set_worker_delay(0) }
    for var g in [
      GemmCase(m: 150, n: 97, k: 129), GemmCase(m: 100, n: 90, k: 1100),
      GemmCase(m: 41, n: 320, k: 300),
    ] {
      (g.alpha, g.beta) = (0.75, -0.5)
      var results: [[Float]] = []
      for threads in [2, 1] {
        g.threads = threads
        checkGemm(g, Float.self, relativeTolerance: 1e-6) { a, b, c in
          Gemm.multiply(
            transposeA: false, transposeB: false, m: g.m, n: g.n, k: g.k,
            alpha: Float(g.alpha), a: a, lda: g.lda, b: b, ldb: g.ldb, beta: Float(g.beta),
            c: c, ldc: g.ldc, instructionSet: instructionSet, threads: threads)
          results.append(Array(UnsafeBufferPointer(start: c, count: g.m * g.ldc)))
        }
      }
      #expect(results[0] == results[1], "\(g): two threads differ from one")
    }
  }

  /// Both schedules of a threaded product — shared (each k slice's shared operand packed once,
  /// chunks handed out step by step) and split (the smaller operand packed whole by each
  /// thread, C cut into independent units of columns when that is A, else of rows) — are right
  /// and give the same bits as one thread, with the worker on time or late (the caller then
  /// computes the worker's units). Shapes: the training workloads' products (64×128×784,
  /// 784×128×64 with Aᵀ), odd ones straddling tiles, every transpose, rows over 3 k slices.
  @Test(arguments: gemmInstructionSets, [0, 20_000_000])
  func schedules(_ instructionSet: GemmInstructionSet, _ delayNanoseconds: Int) {
    cr_gemm_set_worker_delay(Int64(delayNanoseconds))
    defer {
      cr_gemm_set_worker_delay(0)
      cr_gemm_set_split_mode(-1)
    }
    let shapes = [
      GemmCase(m: 64, n: 128, k: 784), GemmCase(m: 784, n: 128, k: 64, transposeA: true),
      GemmCase(m: 67, n: 131, k: 259, transposeA: true, transposeB: true),
      GemmCase(m: 150, n: 97, k: 129, transposeB: true), GemmCase(m: 41, n: 320, k: 100),
      GemmCase(m: 200, n: 70, k: 600),
    ]
    for var g in shapes {
      (g.alpha, g.beta, g.padding) = (0.75, -0.5, 3)
      var results: [[Float]] = []
      for (threads, split) in [(1, -1), (2, 0), (2, 1)] {
        g.threads = threads
        cr_gemm_set_split_mode(Int32(split))
        checkGemm(g, Float.self, relativeTolerance: 1e-6) { a, b, c in
          Gemm.multiply(
            transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
            alpha: Float(g.alpha), a: a, lda: g.lda, b: b, ldb: g.ldb, beta: Float(g.beta),
            c: c, ldc: g.ldc, instructionSet: instructionSet, threads: threads)
          results.append(Array(UnsafeBufferPointer(start: c, count: g.m * g.ldc)))
        }
      }
      let (shared, split) = (results[1] == results[0], results[2] == results[0])
      #expect(shared, "\(g): the shared schedule differs from one thread")
      #expect(split, "\(g): the split schedule differs from one thread")
    }
  }

  /// In the split schedule a participant slowed mid-product (20 ms before each unit it tries to
  /// claim, standing in for a core shared with a busy sibling thread) loses the units of its
  /// range it has not reached: the caller's to the worker, or the worker's to the caller. Units
  /// change hands (counted, so that the test sees the stealing happen; up to three tries, as a
  /// debug build's kernels can be slower than the delay), and the result is right and the same
  /// bits as on one thread, in Float and Double. Shapes: units of rows (one k slice; three), of
  /// columns (three slices).
  @Test(arguments: gemmInstructionSets, [0, 1])
  func slowedParticipant(_ instructionSet: GemmInstructionSet, _ slowed: Int) {
    cr_gemm_set_split_mode(1)
    cr_gemm_set_unit_delay(Int32(slowed), 20_000_000)
    defer {
      cr_gemm_set_split_mode(-1)
      cr_gemm_set_unit_delay(-1, 0)
    }
    let shapes = [
      GemmCase(m: 390, n: 64, k: 40, transposeA: true), GemmCase(m: 130, n: 40, k: 600),
      GemmCase(m: 60, n: 200, k: 600, transposeB: true),
    ]
    func check<T: BinaryFloatingPoint>(
      _: T.Type, _ g: GemmCase, tolerance: Double,
      multiply: (GemmCase, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void
    ) {
      func run(threads: Int) -> [T] {
        var g = g
        g.threads = threads
        var result: [T] = []
        checkGemm(g, T.self, relativeTolerance: tolerance) { a, b, c in
          multiply(g, a, b, c)
          result = Array(UnsafeBufferPointer(start: c, count: g.m * g.ldc))
        }
        return result
      }
      let oneThread = run(threads: 1)
      var stolen: Int32 = 0
      for _ in 0..<3 where stolen == 0 {
        #expect(run(threads: 2) == oneThread, "\(g) \(T.self): two threads differ from one")
        stolen = cr_gemm_last_stolen_units()
      }
      #expect(stolen > 0, "\(g) \(T.self): no unit changed hands in three tries")
    }
    for var g in shapes {
      (g.alpha, g.beta, g.padding) = (0.75, -0.5, 1)
      check(Float.self, g, tolerance: 1e-6) { g, a, b, c in
        Gemm.multiply(
          transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
          alpha: Float(g.alpha), a: a, lda: g.lda, b: b, ldb: g.ldb, beta: Float(g.beta), c: c,
          ldc: g.ldc, instructionSet: instructionSet, threads: g.threads)
      }
      check(Double.self, g, tolerance: 1e-14) { g, a, b, c in
        Gemm.multiply(
          transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
          alpha: g.alpha, a: a, lda: g.lda, b: b, ldb: g.ldb, beta: g.beta, c: c, ldc: g.ldc,
          instructionSet: instructionSet, threads: g.threads)
      }
    }
  }

  /// Without CHAINRULE_GEMM_ISA the default is the widest supported set; with it, the named one.
  @Test func defaultInstructionSet() {
    let environment = ProcessInfo.processInfo.environment["CHAINRULE_GEMM_ISA"]
    let expected =
      environment.flatMap { GemmInstructionSet(rawValue: $0) }.flatMap { $0.isSupported ? $0 : nil }
      ?? gemmInstructionSets.last!
    #expect(GemmInstructionSet.current == expected)
    #expect(GemmInstructionSet.generic.isSupported)
    for set in GemmInstructionSet.allCases {
      #expect(cr_gemm_isa_named(set.rawValue) == set.code)
    }
    #expect(cr_gemm_isa_named("avx3") == Int32(CR_GEMM_AUTO))
  }

  /// alpha == 0 or k == 0 reduces to C = beta * C without reading A or B (NaN-filled here).
  @Test(arguments: gemmInstructionSets, [(0, 2.0), (5, 0.0)])
  func degenerate(_ instructionSet: GemmInstructionSet, _ shape: (k: Int, alpha: Double)) {
    let nan = [Float](repeating: .nan, count: 3 * 5)
    var c: [Float] = (0..<12).map(Float.init)
    Gemm.multiply(
      transposeA: false, transposeB: false, m: 3, n: 4, k: shape.k,
      alpha: Float(shape.alpha), a: nan, lda: 5, b: nan, ldb: 4, beta: 0.5, c: &c, ldc: 4,
      instructionSet: instructionSet)
    #expect(c == (0..<12).map { Float($0) * 0.5 })
  }
}
