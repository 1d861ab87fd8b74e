import CChainRuleKernels

/// The optimizers' element-wise loops, routed to the C kernel of the element type
/// (`Sources/CChainRuleKernels/optimizers.c`, vectorised for AVX2 and AVX-512, and cut in two
/// halves for the GEMM's two threads when a parameter is large).
///
/// `instructionSet` nil runs the GEMM's (``GemmInstructionSet/current``, which
/// `CHAINRULE_GEMM_ISA` sets); `threads` 0 lets the kernel decide from the length, 1 or 2 force
/// that many. Both are for tests: every choice gives the same bits. Each returns the number of
/// threads that ran part of it (0: nothing ran, for an empty buffer or an unsupported set).
enum ScalarKernels {
  /// One SGD step over matching buffers of a parameter p, its velocity v (empty when μ = 0)
  /// and gradient g.
  static func sgd<Scalar: TensorScalar>(
    _ p: UnsafeMutableBufferPointer<Scalar>, _ v: UnsafeMutableBufferPointer<Scalar>,
    _ g: UnsafeBufferPointer<Scalar>, _ hyperparameters: cr_sgd_hyperparameters,
    instructionSet: GemmInstructionSet? = nil, threads: Int32 = 0
  ) -> Int32 {
    let n = p.count
    if Scalar.self == Float.self {
      return cr_sgd_f32(
        n, cast(p), cast(v), cast(g), hyperparameters, instructionSet?.code ?? 0, threads)
    } else if Scalar.self == Double.self {
      return cr_sgd_f64(
        n, cast(p), cast(v), cast(g), hyperparameters, instructionSet?.code ?? 0, threads)
    } else {
      fatalError("SGD: no kernel for \(Scalar.self); use Float or Double")
    }
  }

  /// One Adam step over matching buffers of a parameter p, its moments m, v and gradient g.
  static func adam<Scalar: TensorScalar>(
    _ p: UnsafeMutableBufferPointer<Scalar>, _ m: UnsafeMutableBufferPointer<Scalar>,
    _ v: UnsafeMutableBufferPointer<Scalar>, _ g: UnsafeBufferPointer<Scalar>,
    _ hyperparameters: cr_adam_hyperparameters, instructionSet: GemmInstructionSet? = nil,
    threads: Int32 = 0
  ) -> Int32 {
    let n = p.count
    if Scalar.self == Float.self {
      return cr_adam_f32(
        n, cast(p), cast(m), cast(v), cast(g), hyperparameters, instructionSet?.code ?? 0, threads)
    } else if Scalar.self == Double.self {
      return cr_adam_f64(
        n, cast(p), cast(m), cast(v), cast(g), hyperparameters, instructionSet?.code ?? 0, threads)
    } else {
      fatalError("Adam: no kernel for \(Scalar.self); use Float or Double")
    }
  }

  /// One RMSProp step; `a` (gradient average) and `b` (momentum) may be empty when unused.
  static func rmsProp<Scalar: TensorScalar>(
    _ p: UnsafeMutableBufferPointer<Scalar>, _ s: UnsafeMutableBufferPointer<Scalar>,
    _ a: UnsafeMutableBufferPointer<Scalar>, _ b: UnsafeMutableBufferPointer<Scalar>,
    _ g: UnsafeBufferPointer<Scalar>, _ hyperparameters: cr_rmsprop_hyperparameters,
    instructionSet: GemmInstructionSet? = nil, threads: Int32 = 0
  ) -> Int32 {
    let n = p.count
    if Scalar.self == Float.self {
      return cr_rmsprop_f32(
        n, cast(p), cast(s), cast(a), cast(b), cast(g), hyperparameters, instructionSet?.code ?? 0,
        threads)
    } else if Scalar.self == Double.self {
      return cr_rmsprop_f64(
        n, cast(p), cast(s), cast(a), cast(b), cast(g), hyperparameters, instructionSet?.code ?? 0,
        threads)
    } else {
      fatalError("RMSProp: no kernel for \(Scalar.self); use Float or Double")
    }
  }

  /// The base address as the C kernel's element type (nil for an empty buffer).
  private static func cast<From, To>(_ buffer: UnsafeMutableBufferPointer<From>)
    -> UnsafeMutablePointer<To>?
  {
    buffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: To.self) }
  }

  private static func cast<From, To>(_ buffer: UnsafeBufferPointer<From>) -> UnsafePointer<To>? {
    buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: To.self) }
  }
}
