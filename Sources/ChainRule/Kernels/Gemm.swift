import CChainRuleKernels

/// The instruction set of the matrix-product kernels, chosen at run time.
///
/// Every product runs on ``current`` unless a caller forces another: the widest set this CPU
/// supports, or the one the environment variable `CHAINRULE_GEMM_ISA` (`generic`, `avx2`,
/// `avx512`) names, read once. `generic` is portable 16-byte vector code (SSE2 on x86-64, NEON on
/// arm64); forcing `avx2` on an AVX-512 machine runs the kernel of AVX2-only CPUs (Zen 1-3).
public enum GemmInstructionSet: String, CaseIterable, Sendable {
  /// Portable 16-byte vector code (SSE2 on x86-64, NEON on arm64).
  case generic
  /// 256-bit AVX2 with FMA.
  case avx2
  /// 512-bit AVX-512F.
  case avx512

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
/// `ldc` are the row strides of the matrices as stored; `beta == 0` never reads C. The kernels
/// decide from the product's size how many cores to use (`CChainRuleKernels/gemm.c`).
enum Gemm {
  /// Computes the product on the kernels of `instructionSet` (default:
  /// ``GemmInstructionSet/current``) and returns the set that ran. `threads` (at most
  /// ``maxThreads`` count) plans the product for that many threads and waits for the worker pool
  /// if another product holds it; by default the size decides, and a busy pool means one thread.
  @discardableResult
  static func multiply(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    instructionSet: GemmInstructionSet? = nil, threads: Int? = nil
  ) -> GemmInstructionSet {
    check(m: m, n: n, k: k, instructionSet, threads)
    let ran = cr_sgemm_isa(
      instructionSet?.code ?? Int32(CR_GEMM_AUTO), Int32(clamping: threads ?? 0),
      transposeA ? 1 : 0, transposeB ? 1 : 0,
      m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return GemmInstructionSet(code: ran)!
  }

  /// Double-precision twin of the `Float` `multiply`.
  @discardableResult
  static func multiply(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int,
    instructionSet: GemmInstructionSet? = nil, threads: Int? = nil
  ) -> GemmInstructionSet {
    check(m: m, n: n, k: k, instructionSet, threads)
    let ran = cr_dgemm_isa(
      instructionSet?.code ?? Int32(CR_GEMM_AUTO), Int32(clamping: threads ?? 0),
      transposeA ? 1 : 0, transposeB ? 1 : 0,
      m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return GemmInstructionSet(code: ran)!
  }

  private static func check(
    m: Int, n: Int, k: Int, _ instructionSet: GemmInstructionSet?, _ threads: Int?
  ) {
    require(
      (threads ?? 1) >= 1, "Gemm.multiply: threads must be at least 1, not \(threads ?? 0)")
    require(
      m >= 0 && n >= 0 && k >= 0,
      "Gemm.multiply: negative matrix dimension (m \(m), n \(n), k \(k))")
    if let instructionSet {
      require(
        instructionSet.isSupported,
        "Gemm.multiply: this CPU does not support the \(instructionSet.rawValue) kernels")
    }
  }

  /// Whether `multiplyTiny` takes a product of this shape: m · n · k at most
  /// `CR_GEMM_TINY_WORK` (64), all positive, far below the size from which the GEMM packs.
  static func isTiny(m: Int, n: Int, k: Int) -> Bool {
    let work = Int(CR_GEMM_TINY_WORK)  // each factor bounded first: the product cannot overflow
    return (1...work).contains(m) && (1...work).contains(n) && (1...work).contains(k)
      && m * n * k <= work
  }

  /// `C = op(A) · op(B)`, or `+ C` with `accumulate`, for a tiny product (`isTiny`): the same
  /// bits as `multiply` with α = 1 and β = 0 or 1 (the GEMM runs such a product on its unpacked
  /// loop, which the tiny kernel repeats) without its checks and set-up, which cost several
  /// times the arithmetic of a 4 × 2 × 2 product (`CChainRuleKernels/tiny_products.c`). For the
  /// execution plan's products; `instructionSet` is for tests, as in `multiply`.
  @inline(__always)
  static func multiplyTiny<Scalar: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
    accumulate: Bool, c: UnsafeMutablePointer<Scalar>, ldc: Int,
    instructionSet: GemmInstructionSet? = nil
  ) {
    let (ta, tb, add): (Int32, Int32, Int32) = (
      transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0
    )
    if Scalar.self == Float.self {
      let kernel = instructionSet.map { tinyKernel(Float.self, $0) } ?? defaultTinyFloat
      kernel(ta, tb, m, n, k, cast(a), lda, cast(b), ldb, add, cast(c), ldc)
    } else if Scalar.self == Double.self {
      let kernel = instructionSet.map { tinyKernel(Double.self, $0) } ?? defaultTinyDouble
      kernel(ta, tb, m, n, k, cast(a), lda, cast(b), ldb, add, cast(c), ldc)
    } else {
      fatalError("Gemm.multiplyTiny: no kernel for \(Scalar.self); use Float or Double")
    }
  }

  /// The tiny kernels of the default instruction set, picked once.
  private static let defaultTinyFloat = cr_sgemm_tiny_kernel_for(Int32(CR_GEMM_AUTO))!
  private static let defaultTinyDouble = cr_dgemm_tiny_kernel_for(Int32(CR_GEMM_AUTO))!

  private static func tinyKernel(_: Float.Type, _ set: GemmInstructionSet)
    -> cr_sgemm_tiny_kernel
  {
    require(
      set.isSupported, "Gemm.multiplyTiny: this CPU does not support the \(set.rawValue) kernels")
    return cr_sgemm_tiny_kernel_for(set.code)!
  }

  private static func tinyKernel(_: Double.Type, _ set: GemmInstructionSet)
    -> cr_dgemm_tiny_kernel
  {
    require(
      set.isSupported, "Gemm.multiplyTiny: this CPU does not support the \(set.rawValue) kernels")
    return cr_dgemm_tiny_kernel_for(set.code)!
  }

  @inline(__always)
  private static func cast<From, To>(_ pointer: UnsafePointer<From>) -> UnsafePointer<To> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: To.self)
  }

  @inline(__always)
  private static func cast<From, To>(_ pointer: UnsafeMutablePointer<From>)
    -> UnsafeMutablePointer<To>
  {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: To.self)
  }

  /// Most threads one product uses (cores, or `CHAINRULE_GEMM_THREADS`).
  static var maxThreads: Int { Int(cr_gemm_max_threads()) }
}
