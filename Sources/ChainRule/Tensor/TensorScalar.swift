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

  // MARK: More elementary functions (issue 15: the experimenter's toolbox)

  /// Sine (radians).
  static func sin(_ x: Self) -> Self
  /// Cosine (radians).
  static func cos(_ x: Self) -> Self
  /// Tangent (radians).
  static func tan(_ x: Self) -> Self
  /// Square root: NaN below 0, as in IEEE arithmetic.
  static func sqrt(_ x: Self) -> Self
  /// xʸ, as the C library's `pow` defines it: a negative x with a non-integer y is NaN,
  /// 0⁰ = 1, 0 to a negative power is +∞.
  static func pow(_ x: Self, _ y: Self) -> Self
  /// e^x − 1, accurate for small x.
  static func expm1(_ x: Self) -> Self
  /// |x|.
  static func abs(_ x: Self) -> Self
  // MARK: End of the toolbox block

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

// MARK: More elementary functions (issue 15: the experimenter's toolbox)

extension Float {
  /// Sine (radians).
  @inlinable public static func sin(_ x: Float) -> Float { Foundation.sin(x) }
  /// Cosine (radians).
  @inlinable public static func cos(_ x: Float) -> Float { Foundation.cos(x) }
  /// Tangent (radians).
  @inlinable public static func tan(_ x: Float) -> Float { Foundation.tan(x) }
  /// Square root.
  @inlinable public static func sqrt(_ x: Float) -> Float { Foundation.sqrt(x) }
  /// xʸ (the C library's `powf`).
  @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
  /// e^x − 1, accurate for small x.
  @inlinable public static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
  /// |x|.
  @inlinable public static func abs(_ x: Float) -> Float { x.magnitude }
}

extension Double {
  /// Sine (radians).
  @inlinable public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
  /// Cosine (radians).
  @inlinable public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
  /// Tangent (radians).
  @inlinable public static func tan(_ x: Double) -> Double { Foundation.tan(x) }
  /// Square root.
  @inlinable public static func sqrt(_ x: Double) -> Double { Foundation.sqrt(x) }
  /// xʸ (the C library's `pow`).
  @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
  /// e^x − 1, accurate for small x.
  @inlinable public static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
  /// |x|.
  @inlinable public static func abs(_ x: Double) -> Double { x.magnitude }
}
// MARK: End of the toolbox block
