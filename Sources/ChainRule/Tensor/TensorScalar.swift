import Foundation

/// The floating-point types a `Tensor` can hold: `Float` (fast training) and `Double`
/// (gradient checks and hand-derived formula tests).
///
/// The elementary functions are requirements so that generic code calls the concrete
/// `Float` or `Double` implementation of the C library (`expf`, `exp`, …).
public protocol TensorScalar: BinaryFloatingPoint, Sendable, LosslessStringConvertible
where Self.RawSignificand: FixedWidthInteger {
  /// e^x.
  static func exp(_ x: Self) -> Self
  /// Natural logarithm.
  static func log(_ x: Self) -> Self
  /// log(1 + x), accurate for small x.
  static func log1p(_ x: Self) -> Self
  /// Hyperbolic tangent.
  static func tanh(_ x: Self) -> Self
  /// Name used in model files and messages: `"F32"` or `"F64"`.
  static var dtypeName: String { get }
  /// Row-major C = op(A) · op(B) (+ C when `accumulate`), on the fast kernels for this type.
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
    accumulate: Bool, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: TensorScalar {
  @inlinable public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
  @inlinable public static func log(_ x: Float) -> Float { Foundation.log(x) }
  @inlinable public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
  @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
  public static var dtypeName: String { "F32" }
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    Gemm.multiply(
      transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
      a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
  }
}

extension Double: TensorScalar {
  @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
  @inlinable public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
  @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
  public static var dtypeName: String { "F64" }
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    accumulate: Bool, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    Gemm.multiply(
      transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
      a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
  }
}
