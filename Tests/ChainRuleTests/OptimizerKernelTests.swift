import CChainRuleKernels
import Foundation
import Synchronization
import Testing

@testable import ChainRule

/// One SGD configuration: momentum μ, Nesterov, weight decay λ.
struct SGDVariant: CustomTestStringConvertible, Sendable {
  var momentum: Double, nesterov: Bool, weightDecay: Double
  var testDescription: String {
    "mu=\(momentum)\(nesterov ? " nesterov" : "") lambda=\(weightDecay)"
  }
}

let sgdVariants: [SGDVariant] = [
  SGDVariant(momentum: 0, nesterov: false, weightDecay: 0),
  SGDVariant(momentum: 0, nesterov: false, weightDecay: 0.01),
  SGDVariant(momentum: 0.9, nesterov: false, weightDecay: 0),
  SGDVariant(momentum: 0.9, nesterov: false, weightDecay: 0.01),
  SGDVariant(momentum: 0.8, nesterov: true, weightDecay: 0),
  SGDVariant(momentum: 0.8, nesterov: true, weightDecay: 0.01),
]

/// Odd lengths: shorter than a vector, the longest that SGD's kernel runs inline (63, below
/// `SGD_INLINE_BELOW`), with a remainder after the vector loop, and one above the length from
/// which the C kernel cuts the loop in two halves for two threads.
let optimizerKernelLengths = [1, 7, 63, 1003, 70_001]

/// The optimizers' C kernels (vectorised, threaded) against the formulas evaluated in Swift,
/// one rounded operation at a time, and the threaded paths against one thread.
@Suite("Optimizer kernels")
struct OptimizerKernelTests {
  /// SGD's update written out in Swift, operation for operation as SGD.swift documents it:
  /// g ← g + p·λ;  v ← first ? g : v·μ + g;  g ← nesterov ? g + v·μ : v;  p ← p + g·(−η).
  /// `fused` is a mutant that rounds each multiply-add once (as an FMA would): a check that
  /// the comparison below sees a single rounding step.
  static func referenceSGD<Scalar: TensorScalar>(
    _ p: inout [Scalar], _ v: inout [Scalar], _ g: [Scalar], eta: Scalar, _ variant: SGDVariant,
    firstStep: Bool, fused: Bool = false
  ) {
    let (mu, lambda) = (Scalar(variant.momentum), Scalar(variant.weightDecay))
    func multiplyAdd(_ a: Scalar, _ b: Scalar, _ c: Scalar) -> Scalar {
      fused ? c.addingProduct(a, b) : a * b + c
    }
    for i in p.indices {
      var gi = g[i]
      if lambda != 0 { gi = multiplyAdd(p[i], lambda, gi) }
      if mu != 0 {
        v[i] = firstStep ? gi : multiplyAdd(v[i], mu, gi)
        gi = variant.nesterov ? multiplyAdd(v[i], mu, gi) : v[i]
      }
      p[i] = multiplyAdd(gi, -eta, p[i])
    }
  }

  /// Three steps of `SGD` on one parameter of length n against `referenceSGD`, bit for bit
  /// (parameter and momentum buffer); the mutant reference must differ somewhere.
  func checkSGD<Scalar: TensorScalar>(_: Scalar.Type, _ variant: SGDVariant, _ n: Int) {
    var generator = Xoshiro256StarStar(seed: UInt64(n))
    let p0 = (0..<n).map { _ in Scalar(generator.nextNormal()) }
    let gradients = (0..<3).map { _ in (0..<n).map { _ in Scalar(generator.nextNormal()) } }
    let eta = Scalar(0.0173)
    let parameter = Parameter(Tensor(p0), name: "w")
    let optimizer = SGD(
      parameters: [parameter], learningRate: eta, momentum: Scalar(variant.momentum),
      nesterov: variant.nesterov, weightDecay: Scalar(variant.weightDecay))
    var (p, v) = (p0, [Scalar](repeating: 0, count: n))
    var (mutantP, mutantV) = (p0, v)
    for (t, g) in gradients.enumerated() {
      parameter.gradient = Tensor(g)
      optimizer.step()
      Self.referenceSGD(&p, &v, g, eta: eta, variant, firstStep: t == 0)
      Self.referenceSGD(&mutantP, &mutantV, g, eta: eta, variant, firstStep: t == 0, fused: true)
    }
    #expect(bitMismatches(parameter.value.scalars, p) == 0, "\(Scalar.self) \(variant) n=\(n)")
    if variant.momentum != 0 {
      #expect(bitMismatches(optimizer.state["w.momentum"]!.scalars, v) == 0)
    } else {
      #expect(optimizer.state.isEmpty, "plain SGD keeps no buffer")
    }
    // One element can round the same either way; a thousand cannot all.
    if n >= 1003 { #expect(bitMismatches(mutantP, p) > 0, "the fused mutant went unnoticed") }
  }

  @Test(arguments: sgdVariants, optimizerKernelLengths)
  func sgdKernelMatchesTheScalarFormulaBitForBitInFloat(_ variant: SGDVariant, _ n: Int) {
    checkSGD(Float.self, variant, n)
  }

  @Test(arguments: sgdVariants, optimizerKernelLengths)
  func sgdKernelMatchesTheScalarFormulaBitForBitInDouble(_ variant: SGDVariant, _ n: Int) {
    checkSGD(Double.self, variant, n)
  }

  /// Each kernel family (every SGD variant, Adam plain and with L2, AdamW, centred RMSProp
  /// with momentum and decay) on every supported instruction set, on one thread and forced
  /// onto two, from the same buffers: equal bit for bit to the plain loop (`generic`) on one
  /// thread. With `workerDelay` the pool's worker arrives after the caller has finished its
  /// own half, so the caller takes over the late worker's half (GemmTests.lateWorker's
  /// situation).
  func checkThreads<Scalar: TensorScalar>(_: Scalar.Type, workerDelay: Int64) {
    let n = 20_011
    var generator = Xoshiro256StarStar(seed: 5)
    func random() -> [Scalar] { (0..<n).map { _ in Scalar(generator.nextNormal()) } }
    let (p0, g) = (random(), random())
    // Second moments ≥ 1 and small averages, so that centred RMSProp's s − a² stays positive.
    let (x0, y0, z0) = (random().map { $0 * $0 + 1 }, random().map { $0 / 10 }, random())
    /// A kernel on p and the state buffers x, y, z from g, on an instruction set and threads.
    typealias Kernel = (
      UnsafeMutableBufferPointer<Scalar>, UnsafeMutableBufferPointer<Scalar>,
      UnsafeMutableBufferPointer<Scalar>, UnsafeMutableBufferPointer<Scalar>,
      UnsafeBufferPointer<Scalar>, GemmInstructionSet, Int32
    ) -> Int32
    /// Runs `kernel` on copies of the buffers; all four buffers afterwards.
    func run(_ set: GemmInstructionSet, _ threads: Int32, _ kernel: Kernel) -> [[Scalar]] {
      var (p, x, y, z) = (p0, x0, y0, z0)
      _ = g.withUnsafeBufferPointer { g in
        p.withUnsafeMutableBufferPointer { p in
          x.withUnsafeMutableBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
              z.withUnsafeMutableBufferPointer { z in kernel(p, x, y, z, g, set, threads) }
            }
          }
        }
      }
      return [p, x, y, z]
    }
    var kernels: [(String, Kernel)] = []
    for variant in sgdVariants {
      for first in [0, 1] as [Int32] {
        let rule = cr_sgd_hyperparameters(
          learningRate: 0.01, momentum: variant.momentum, weightDecay: variant.weightDecay,
          nesterov: variant.nesterov ? 1 : 0, firstStep: first)
        kernels.append(
          (
            "SGD \(variant) first=\(first)",
            { ScalarKernels.sgd($0, $1, $4, rule, instructionSet: $5, threads: $6) }
          ))
      }
    }
    for (l2, decoupled) in [(0.0, 0.0), (0.01, 0.0), (0.0, 0.01)] {
      // Step 3: s = η/(1 − 0.9³) = 0.001/0.271, r = 1/√(1 − 0.999³) = 1/√0.002997.
      let rule = cr_adam_hyperparameters(
        learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 0.001 / 0.271,
        rootScale: 1 / 0.002997.squareRoot(), l2Penalty: l2, decoupledDecay: decoupled)
      kernels.append(
        (
          "Adam l2=\(l2) decoupled=\(decoupled)",
          {
            ScalarKernels.adam($0, $1, $2, $4, rule, instructionSet: $5, threads: $6)
          }
        ))
    }
    let rmsProp = cr_rmsprop_hyperparameters(
      learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, weightDecay: 0.01, momentum: 0.9,
      centered: 1)
    kernels.append(
      (
        "RMSProp",
        { ScalarKernels.rmsProp($0, $1, $2, $3, $4, rmsProp, instructionSet: $5, threads: $6) }
      ))

    cr_gemm_set_worker_delay(workerDelay)
    defer { cr_gemm_set_worker_delay(0) }
    for (name, kernel) in kernels {
      let reference = run(.generic, 1, kernel)
      #expect(reference != [p0, x0, y0, z0], "\(name): the kernel changed nothing")
      for set in gemmInstructionSets {
        for threads: Int32 in [1, 2] where set != .generic || threads != 1 {
          for (a, b) in zip(run(set, threads, kernel), reference) {
            #expect(
              bitMismatches(a, b) == 0,
              "\(Scalar.self) \(name) \(set) on \(threads) threads differs from generic on one")
          }
        }
      }
    }
  }

  @Test(arguments: [0, 20_000_000] as [Int64])
  func everyInstructionSetAndThreadCountGiveTheSameBitsInFloat(workerDelay: Int64) {
    checkThreads(Float.self, workerDelay: workerDelay)
  }

  @Test(arguments: [0, 20_000_000] as [Int64])
  func everyInstructionSetAndThreadCountGiveTheSameBitsInDouble(workerDelay: Int64) {
    checkThreads(Double.self, workerDelay: workerDelay)
  }

  /// `cr_parallel_for` forced onto two threads: the first chunk to run (the caller's first or
  /// the worker's first, whichever thread starts first) waits until a chunk runs on another
  /// thread, which the other participant's first claim (its own first chunk, still unclaimed)
  /// must do; every element is visited once; every chunk boundary is a multiple of 16.
  @Test func parallelForRunsChunksOnTwoThreads() throws {
    try #require(cr_gemm_max_threads() > 1, "needs two cores")
    let n = 1001
    let log = RangeLog(count: n)
    defer { log.visits.deallocate() }
    let ran = cr_parallel_for(
      n, 1, 2,
      { context, begin, end in
        let log = Unmanaged<RangeLog>.fromOpaque(context!).takeUnretainedValue()
        for i in begin..<end { log.visits[i] += 1 }
        if begin % 16 != 0 || (end % 16 != 0 && end != 1001) {
          log.misaligned.store(1, ordering: .relaxed)
        }
        let me = currentThreadID()
        let (first, firstThread) = log.firstThread.compareExchange(
          expected: 0, desired: me, ordering: .acquiringAndReleasing)
        if first {
          let deadline = Date().addingTimeInterval(10)
          while log.otherThreadRan.load(ordering: .acquiring) == 0 && Date() < deadline {}
        } else if firstThread != me {
          log.otherThreadRan.store(1, ordering: .releasing)
        }
      }, Unmanaged.passUnretained(log).toOpaque())
    #expect(ran == 2)
    #expect(log.otherThreadRan.load(ordering: .acquiring) == 1, "no second thread ran a chunk")
    #expect((0..<n).allSatisfy { log.visits[$0] == 1 }, "an element was skipped or repeated")
    #expect(
      log.misaligned.load(ordering: .relaxed) == 0, "a chunk boundary is not a multiple of 16")
    #expect(cr_parallel_for(0, 1, 2, { _, _, _ in Issue.record("ran on nothing") }, nil) == 0)
  }
}

/// The calling thread's pthread identity as a number.
private func currentThreadID() -> UInt {
  #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
  #else
    UInt(pthread_self())
  #endif
}

/// What the chunks of `parallelForRunsChunksOnTwoThreads` saw.
private final class RangeLog {
  let visits: UnsafeMutablePointer<Int>
  let firstThread = Atomic<UInt>(0)
  let otherThreadRan = Atomic<Int>(0)
  let misaligned = Atomic<Int>(0)
  init(count: Int) {
    visits = .allocate(capacity: count)
    visits.initialize(repeating: 0, count: count)
  }
}

/// Elements whose bit patterns differ (so that −0 ≠ +0 and a NaN equals itself).
func bitMismatches<Scalar: TensorScalar>(_ a: [Scalar], _ b: [Scalar]) -> Int {
  a.count != b.count ? max(a.count, b.count) : zip(a, b).filter { !$0.isBitIdentical($1) }.count
}

extension BinaryFloatingPoint {
  /// Whether the two have the same sign, exponent and significand bits.
  fileprivate func isBitIdentical(_ other: Self) -> Bool {
    sign == other.sign && exponentBitPattern == other.exponentBitPattern
      && significandBitPattern == other.significandBitPattern
  }
}
