import CChainRuleKernels

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The instruction set of the matrix-product kernels, chosen at run time.
///
/// Every product runs on ``current`` unless a caller forces another: the widest set this CPU
/// supports, or the one the environment variable `CHAINRULE_GEMM_ISA` (`generic`, `avx2`,
/// `avx512`) names, read once. `generic` is portable 16-byte vector code (SSE2 on x86-64, NEON on
/// arm64); forcing `avx2` on an AVX-512 machine runs the kernel of AVX2-only CPUs (Zen 1-3).
public enum GemmInstructionSet: String, CaseIterable, Sendable {
  case generic, avx2, avx512

  /// The set products use when none is forced.
  public static var current: GemmInstructionSet {
    GemmInstructionSet(code: cr_gemm_default_isa())!
  }

  /// Whether this CPU can run the kernels of this set.
  public var isSupported: Bool { cr_gemm_isa_supported(code) != 0 }

  /// The C kernels' number for this set.
  var code: Int32 {
    switch self {
    case .generic: Int32(CR_GEMM_GENERIC)
    case .avx2: Int32(CR_GEMM_AVX2)
    case .avx512: Int32(CR_GEMM_AVX512)
    }
  }

  init?(code: Int32) {
    guard let set = Self.allCases.first(where: { $0.code == code }) else { return nil }
    self = set
  }
}

/// Row-major general matrix product `C = alpha * op(A) * op(B) + beta * C` on the C kernels.
///
/// `op(X)` is `X` or its transpose; `op(A)` is `m x k`, `op(B)` is `k x n`, and `lda`, `ldb`,
/// `ldc` are the row strides of the matrices as stored. Large products are split into
/// independent blocks of C, one per core; `beta == 0` never reads C.
enum Gemm {
  /// Fewest multiply-adds worth handing to one core. Waking a parked worker costs tens of
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
    run(
      GemmJob(
        precision: .single, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
        alpha: Double(alpha), a: UnsafeRawPointer(a), lda: lda, b: UnsafeRawPointer(b),
        ldb: ldb, beta: Double(beta), c: UnsafeMutableRawPointer(c), ldc: ldc),
      minWorkPerCore: minWorkPerCoreFloat)
  }

  static func multiply(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    run(
      GemmJob(
        precision: .double, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
        alpha: alpha, a: UnsafeRawPointer(a), lda: lda, b: UnsafeRawPointer(b), ldb: ldb,
        beta: beta, c: UnsafeMutableRawPointer(c), ldc: ldc),
      minWorkPerCore: minWorkPerCoreDouble)
  }

  /// Runs `job` whole, or cut into disjoint blocks of C, one per core, when the product gives
  /// each core at least `minWorkPerCore` multiply-adds. C is cut along its longer side, at
  /// multiples of 48 rows / 32 columns, so every block keeps whole register tiles of all
  /// micro-kernels.
  static func run(_ job: GemmJob, minWorkPerCore: Int) {
    precondition(job.m >= 0 && job.n >= 0 && job.k >= 0, "negative matrix dimension")
    var job = job
    let work = job.m * job.n * job.k
    job.splitsRows = job.m >= job.n
    let granule = job.splitsRows ? 48 : 32
    let side = job.splitsRows ? job.m : job.n
    let parts = min(coreCount, work / minWorkPerCore, (side + granule - 1) / granule)
    guard parts > 1 else {
      job.run(rows: 0..<job.m, columns: 0..<job.n)
      return
    }
    job.chunk = ((side + parts - 1) / parts + granule - 1) / granule * granule
    // Sound: the blocks of C are disjoint, A and B are only read, and `run` returns after
    // every block is done.
    WorkerPool.shared.run(job, parts: parts)
  }
}

/// One matrix product as plain data (pointers and sizes), so that handing it to the worker
/// threads allocates nothing.
struct GemmJob {
  enum Precision { case single, double }
  var precision: Precision
  var transposeA: Bool
  var transposeB: Bool
  var m: Int
  var n: Int
  var k: Int
  var alpha: Double
  var a: UnsafeRawPointer
  var lda: Int
  var b: UnsafeRawPointer
  var ldb: Int
  var beta: Double
  var c: UnsafeMutableRawPointer
  var ldc: Int
  /// How the product is cut: along the rows (else the columns) of C, `chunk` at a time.
  var splitsRows = true
  var chunk = 0

  /// Computes block `part` of C.
  func run(part: Int) {
    let side = splitsRows ? m : n
    let range = min(side, part * chunk)..<min(side, (part + 1) * chunk)
    guard !range.isEmpty else { return }
    if splitsRows { run(rows: range, columns: 0..<n) } else { run(rows: 0..<m, columns: range) }
  }

  /// Computes the block of C at `rows` × `columns`.
  func run(rows: Range<Int>, columns: Range<Int>) {
    // Offsets of the block's corner in A (rows of op(A)), B (columns of op(B)) and C.
    let aOffset = transposeA ? rows.lowerBound : rows.lowerBound * lda
    let bOffset = transposeB ? columns.lowerBound * ldb : columns.lowerBound
    let cOffset = rows.lowerBound * ldc + columns.lowerBound
    switch precision {
    case .single:
      cr_sgemm(
        transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, columns.count, k, Float(alpha),
        a.assumingMemoryBound(to: Float.self) + aOffset, lda,
        b.assumingMemoryBound(to: Float.self) + bOffset, ldb, Float(beta),
        c.assumingMemoryBound(to: Float.self) + cOffset, ldc)
    case .double:
      cr_dgemm(
        transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, columns.count, k, alpha,
        a.assumingMemoryBound(to: Double.self) + aOffset, lda,
        b.assumingMemoryBound(to: Double.self) + bOffset, ldb, beta,
        c.assumingMemoryBound(to: Double.self) + cOffset, ldc)
    }
  }
}
