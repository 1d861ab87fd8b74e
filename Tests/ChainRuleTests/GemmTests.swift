import Testing

@testable import ChainRule

/// One GEMM problem: shape, transposes, scalars and padded leading dimensions.
struct GemmCase: CustomTestStringConvertible, Sendable {
  var m: Int, n: Int, k: Int
  var transposeA = false, transposeB = false
  var alpha = 1.0, beta = 0.0
  var padding = 0  // extra elements per stored row of A, B and C

  var lda: Int { (transposeA ? m : k) + padding }
  var ldb: Int { (transposeB ? k : n) + padding + 1 }
  var ldc: Int { n + padding + 2 }
  var rowsA: Int { transposeA ? k : m }
  var rowsB: Int { transposeB ? n : k }

  var testDescription: String {
    let ops = (transposeA ? "T" : "N") + (transposeB ? "T" : "N")
    return "\(m)x\(n)x\(k) \(ops) alpha=\(alpha) beta=\(beta) pad=\(padding)"
  }
}

/// Odd shapes (none a multiple of any block size) in every transpose combination, plus sizes
/// large enough to be split across cores and to span several cache blocks along every axis.
let gemmCases: [GemmCase] = {
  let shapes = [
    (1, 1, 1), (2, 2, 2), (4, 2, 3), (7, 13, 5), (1, 300, 1), (1, 1, 300), (300, 1, 7),
    (67, 131, 259), (300, 257, 129), (13, 700, 41), (1601, 45, 37), (61, 530, 300),
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

@Suite("Gemm")
struct GemmTests {
  @Test(arguments: gemmCases)
  func float(_ g: GemmCase) {
    checkGemm(g, Float.self, relativeTolerance: 1e-6) { a, b, c in
      Gemm.multiply(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
        alpha: Float(g.alpha), a: a, lda: g.lda, b: b, ldb: g.ldb,
        beta: Float(g.beta), c: c, ldc: g.ldc)
    }
  }

  @Test(arguments: gemmCases)
  func double(_ g: GemmCase) {
    checkGemm(g, Double.self, relativeTolerance: 1e-14) { a, b, c in
      Gemm.multiply(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
        alpha: g.alpha, a: a, lda: g.lda, b: b, ldb: g.ldb,
        beta: g.beta, c: c, ldc: g.ldc)
    }
  }

  /// alpha == 0 or k == 0 reduces to C = beta * C without reading A or B (NaN-filled here).
  @Test(arguments: [(0, 2.0), (5, 0.0)])
  func degenerate(k: Int, alpha: Double) {
    let nan = [Float](repeating: .nan, count: 3 * 5)
    var c: [Float] = (0..<12).map(Float.init)
    Gemm.multiply(
      transposeA: false, transposeB: false, m: 3, n: 4, k: k,
      alpha: Float(alpha), a: nan, lda: 5, b: nan, ldb: 4, beta: 0.5, c: &c, ldc: 4)
    #expect(c == (0..<12).map { Float($0) * 0.5 })
  }
}
