import CChainRuleKernels
import Dispatch

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Row-major general matrix product `C = alpha * op(A) * op(B) + beta * C` on the C kernels.
///
/// `op(X)` is `X` or its transpose; `op(A)` is `m x k`, `op(B)` is `k x n`, and `lda`, `ldb`,
/// `ldc` are the row strides of the matrices as stored. Large products are split into
/// independent blocks of C, one per core; `beta == 0` never reads C.
enum Gemm {
  /// Fewest multiply-adds worth handing to one core. Waking a parked GCD worker costs tens of
  /// microseconds here (2-core Zen VM), so a part must run ~40 us to pay off: measured crossovers
  /// are about 200^3 (Float) and 160^3 (Double) in total for 2 cores.
  static let minWorkPerCoreFloat = 4_000_000
  static let minWorkPerCoreDouble = 2_000_000

  /// Cores available to this process.
  static let coreCount: Int = {
    #if canImport(Darwin) || canImport(Glibc) || canImport(Musl)
      return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
      return 1
    #endif
  }()

  static func multiply(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    forEachBlock(m: m, n: n, k: k, minWorkPerCore: minWorkPerCoreFloat) { rows, cols in
      cr_sgemm(
        transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, cols.count, k,
        alpha, transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda,
        transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound, ldb,
        beta, c + rows.lowerBound * ldc + cols.lowerBound, ldc)
    }
  }

  static func multiply(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    forEachBlock(m: m, n: n, k: k, minWorkPerCore: minWorkPerCoreDouble) { rows, cols in
      cr_dgemm(
        transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, cols.count, k,
        alpha, transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda,
        transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound, ldb,
        beta, c + rows.lowerBound * ldc + cols.lowerBound, ldc)
    }
  }

  /// Calls `body` with disjoint blocks of C (row range, column range) that tile `m x n`,
  /// concurrently when the product gives each core at least `minWorkPerCore` multiply-adds.
  /// C is cut along its longer side, at multiples of 48 rows / 32 columns, so every block keeps
  /// whole register tiles of all micro-kernels.
  static func forEachBlock(
    m: Int, n: Int, k: Int, minWorkPerCore: Int,
    _ body: (_ rows: Range<Int>, _ cols: Range<Int>) -> Void
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "negative matrix dimension")
    let work = m * n * k
    let splitRows = m >= n
    let granule = splitRows ? 48 : 32
    let side = splitRows ? m : n
    let parts = min(coreCount, work / minWorkPerCore, (side + granule - 1) / granule)
    guard parts > 1 else {
      body(0..<m, 0..<n)
      return
    }
    let chunk = ((side + parts - 1) / parts + granule - 1) / granule * granule
    withoutActuallyEscaping(body) { body in
      // Sound despite the pointers `body` captures: the blocks of C are disjoint, A and B are
      // only read, and concurrentPerform returns after every block is done.
      nonisolated(unsafe) let body = body
      DispatchQueue.concurrentPerform(iterations: parts) { part in
        let range = min(side, part * chunk)..<min(side, (part + 1) * chunk)
        guard !range.isEmpty else { return }
        if splitRows { body(range, 0..<n) } else { body(0..<m, range) }
      }
    }
  }
}
