import CChainRuleKernels
import Foundation
import Testing

@testable import ChainRule

/// Every tiny shape (`Gemm.isTiny`) with odd sizes, in every transpose combination, with and
/// without accumulation, and padded leading dimensions (the padding must stay untouched).
let tinyProductCases: [GemmCase] = {
  let shapes = [
    (1, 1, 1), (4, 2, 2), (4, 1, 2), (4, 2, 1), (2, 1, 4), (2, 2, 4), (3, 5, 1), (1, 7, 3),
    (5, 3, 4), (3, 3, 7), (2, 4, 8), (1, 1, 64), (64, 1, 1), (1, 64, 1), (4, 4, 4), (3, 2, 5),
  ]
  var cases: [GemmCase] = []
  for (index, (m, n, k)) in shapes.enumerated() {
    for transposes in 0..<4 {
      for beta in [0.0, 1.0] {
        var item = GemmCase(m: m, n: n, k: k)
        item.transposeA = transposes & 2 != 0
        item.transposeB = transposes & 1 != 0
        item.beta = beta
        item.padding = (index + transposes) % 2 == 0 ? 0 : 3
        cases.append(item)
      }
    }
  }
  return cases
}()

/// Runs the tiny kernel and the GEMM (α = 1, β = 0 or 1) of `instructionSet` on the same
/// operands of type T and returns both C buffers, padding included.
func tinyAndGemm<T: TensorScalar>(
  _ g: GemmCase, _ instructionSet: GemmInstructionSet, _: T.Type
) -> (tiny: [T], gemm: [T]) {
  // Values of mixed magnitude, so that fused and unfused sums round differently.
  let a = gemmValues(count: g.rowsA * g.lda, seed: 11).enumerated().map {
    T($0.element * (1 + Double($0.offset % 5) * 1e3))
  }
  let b = gemmValues(count: g.rowsB * g.ldb, seed: 12).map { T($0) / 3 }
  let cStart = gemmValues(count: g.m * g.ldc, seed: 13).map { T($0) * 7 }
  var tiny = cStart
  var gemm = cStart
  a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      tiny.withUnsafeMutableBufferPointer { c in
        Gemm.multiplyTiny(
          transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
          a: a.baseAddress!, lda: g.lda, b: b.baseAddress!, ldb: g.ldb, accumulate: g.beta != 0,
          c: c.baseAddress!, ldc: g.ldc, instructionSet: instructionSet)
      }
      gemm.withUnsafeMutableBufferPointer { c in
        if let a = a.baseAddress as? UnsafePointer<Float>,
          let b = b.baseAddress as? UnsafePointer<Float>,
          let c = c.baseAddress as? UnsafeMutablePointer<Float>
        {
          Gemm.multiply(
            transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
            alpha: 1, a: a, lda: g.lda, b: b, ldb: g.ldb, beta: Float(g.beta), c: c,
            ldc: g.ldc, instructionSet: instructionSet)
        } else if let a = a.baseAddress as? UnsafePointer<Double>,
          let b = b.baseAddress as? UnsafePointer<Double>,
          let c = c.baseAddress as? UnsafeMutablePointer<Double>
        {
          Gemm.multiply(
            transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
            alpha: 1, a: a, lda: g.lda, b: b, ldb: g.ldb, beta: g.beta, c: c, ldc: g.ldc,
            instructionSet: instructionSet)
        }
      }
    }
  }
  return (tiny, gemm)
}

@Suite("Tiny products: the plan's set-up-free GEMM")
struct TinyProductTests {
  /// The tiny kernel gives the GEMM's bits on every instruction set (the GEMM runs these
  /// shapes on its unpacked loop), padding untouched, and agrees with a naive Double product.
  @Test(arguments: gemmInstructionSets, tinyProductCases)
  func sameBitsAsTheGemm(_ instructionSet: GemmInstructionSet, _ g: GemmCase) {
    #expect(Gemm.isTiny(m: g.m, n: g.n, k: g.k))
    let (tinyFloat, gemmFloat) = tinyAndGemm(g, instructionSet, Float.self)
    #expect(tinyFloat.map(\.bitPattern) == gemmFloat.map(\.bitPattern))
    let (tinyDouble, gemmDouble) = tinyAndGemm(g, instructionSet, Double.self)
    #expect(tinyDouble.map(\.bitPattern) == gemmDouble.map(\.bitPattern))
    // Independent of the GEMM: the naive loop in Double, within rounding.
    checkGemm(g, Float.self, relativeTolerance: 1e-6) { a, b, c in
      Gemm.multiplyTiny(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k, a: a,
        lda: g.lda, b: b, ldb: g.ldb, accumulate: g.beta != 0, c: c, ldc: g.ldc,
        instructionSet: instructionSet)
    }
    checkGemm(g, Double.self, relativeTolerance: 1e-14) { a, b, c in
      Gemm.multiplyTiny(
        transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k, a: a,
        lda: g.lda, b: b, ldb: g.ldb, accumulate: g.beta != 0, c: c, ldc: g.ldc,
        instructionSet: instructionSet)
    }
  }

  /// The bit comparison above can fail: on these operands a sum rounded once per term (plain
  /// multiply, then add) and one fused per term (FMA) differ, so a tiny kernel that fused where
  /// the GEMM does not, or the reverse, or summed in another order, would be caught.
  @Test func theOperandsTellFusedFromUnfusedSums() {
    let g = GemmCase(m: 5, n: 3, k: 4)
    let a = gemmValues(count: g.rowsA * g.lda, seed: 11).enumerated().map {
      Float($0.element * (1 + Double($0.offset % 5) * 1e3))
    }
    let b = gemmValues(count: g.rowsB * g.ldb, seed: 12).map { Float($0) / 3 }
    var fused = 0
    var reversed = 0
    for i in 0..<g.m {
      for j in 0..<g.n {
        var plain: Float = 0
        var fma: Float = 0
        var backwards: Float = 0
        for p in 0..<g.k {
          plain += a[i * g.lda + p] * b[p * g.ldb + j]
          fma = fma.addingProduct(a[i * g.lda + p], b[p * g.ldb + j])
        }
        for p in (0..<g.k).reversed() {
          backwards = backwards.addingProduct(a[i * g.lda + p], b[p * g.ldb + j])
        }
        if plain.bitPattern != fma.bitPattern { fused += 1 }
        if backwards.bitPattern != fma.bitPattern { reversed += 1 }
      }
    }
    #expect(fused > 0)
    #expect(reversed > 0)
  }

  /// Only positive shapes up to `CR_GEMM_TINY_WORK` multiply-adds are tiny; huge factors do not
  /// overflow the check.
  @Test func tinyMeansFewMultiplyAdds() {
    #expect(Gemm.isTiny(m: 4, n: 4, k: 4))
    #expect(!Gemm.isTiny(m: 4, n: 4, k: 5))
    #expect(!Gemm.isTiny(m: 0, n: 4, k: 4))
    #expect(!Gemm.isTiny(m: 1, n: 1, k: 65))
    #expect(!Gemm.isTiny(m: Int.max, n: Int.max, k: 2))
  }
}
