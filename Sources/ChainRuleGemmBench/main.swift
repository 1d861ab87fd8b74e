// Measures GEMM throughput (GFLOP/s, all cores) on square row-major products.
// Usage: chainrule-gemm-bench [n ...]   (default: 64 128 256 512 1024)
@_spi(Benchmarks) import ChainRule
import Dispatch

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let ns = sizes.isEmpty ? [64, 128, 256, 512, 1024] : sizes

/// Best GFLOP/s over 5 rounds of `multiply` calls for an n x n x n product (~0.2 s per round).
func gflops<T: BinaryFloatingPoint>(
  _: T.Type, n: Int,
  _ multiply: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void
) -> Double {
  let a = (0..<n * n).map { T(($0 % 7) - 3) / 8 }
  let b = (0..<n * n).map { T(($0 % 5) - 2) / 4 }
  var c = [T](repeating: 0, count: n * n)
  let flops = 2.0 * Double(n * n * n)
  let reps = max(1, Int(2e8 / flops * 50))
  var best = 0.0
  a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      c.withUnsafeMutableBufferPointer { c in
        for _ in 0..<5 {
          let start = DispatchTime.now().uptimeNanoseconds
          for _ in 0..<reps { multiply(a.baseAddress!, b.baseAddress!, c.baseAddress!) }
          let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
          best = max(best, flops * Double(reps) / seconds / 1e9)
        }
      }
    }
  }
  return best
}

/// Right-aligns `value` (one decimal) in `width` columns; String(format:) would need Foundation.
func column(_ value: Double, width: Int) -> String {
  let tenths = Int((value * 10).rounded())
  let text = "\(tenths / 10).\(tenths % 10)"
  return String(repeating: " ", count: max(0, width - text.count)) + text
}

print("     n   float32   float64  (GFLOP/s, all cores)")
for n in ns {
  let single = gflops(Float.self, n: n) { a, b, c in
    Gemm.multiply(
      transposeA: false, transposeB: false, m: n, n: n, k: n,
      alpha: 1, a: a, lda: n, b: b, ldb: n, beta: 0, c: c, ldc: n)
  }
  let double = gflops(Double.self, n: n) { a, b, c in
    Gemm.multiply(
      transposeA: false, transposeB: false, m: n, n: n, k: n,
      alpha: 1, a: a, lda: n, b: b, ldb: n, beta: 0, c: c, ldc: n)
  }
  let size = "\(n)"
  print(
    String(repeating: " ", count: max(0, 6 - size.count)) + size,
    column(single, width: 9), column(double, width: 9))
}
