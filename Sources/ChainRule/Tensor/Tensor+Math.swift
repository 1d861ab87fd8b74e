/// Plain tensor arithmetic: the building blocks of the ops' forward passes and VJPs.
extension Tensor {
  /// Matrix product of two rank-2 tensors, `op(self) · op(other)`, where `op` transposes
  /// when asked; transposed operands are read in place, never copied.
  /// - Precondition: ranks are 2 and the inner dimensions agree.
  public func matmul(
    _ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false
  ) -> Tensor {
    var result = Tensor(shape: [], scalars: [0])
    matmul(other, transposeSelf: transposeSelf, transposeOther: transposeOther, into: &result)
    return result
  }

  /// Sets every element to `value`, in place.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public mutating func fill(with value: Scalar) {
    scalars.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
  }

  /// Writes `op(self) · op(other)` into `result`, reusing its storage when it already has the
  /// right shape and is not shared; with `accumulating`, adds the product to `result` instead.
  public func matmul(
    _ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false,
    into result: inout Tensor, accumulating: Bool = false
  ) {
    require(
      rank == 2 && other.rank == 2,
      "matmul: needs rank-2 operands, got \(shape) and \(other.shape)")
    let m = transposeSelf ? shape[1] : shape[0]
    let k = transposeSelf ? shape[0] : shape[1]
    let otherK = transposeOther ? other.shape[1] : other.shape[0]
    let n = transposeOther ? other.shape[0] : other.shape[1]
    require(k == otherK, "matmul: inner dimensions \(k) and \(otherK) differ")
    if result.shape != [m, n] {
      require(
        !accumulating, "matmul: accumulating into \(result.shape), expected [\(m), \(n)]")
      result = Tensor.zeros([m, n])
    }
    guard m > 0, n > 0 else { return }
    let (lda, ldb) = (Swift.max(shape[1], 1), Swift.max(other.shape[1], 1))
    scalars.withUnsafeBufferPointer { a in
      other.scalars.withUnsafeBufferPointer { b in
        result.scalars.withUnsafeMutableBufferPointer { c in
          Scalar.gemm(
            transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
            a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, accumulate: accumulating,
            c: c.baseAddress!, ldc: n)
        }
      }
    }
  }

  /// The transpose of a rank-2 tensor.
  public func transposed() -> Tensor {
    require(rank == 2, "transposed: needs a rank-2 tensor, got \(shape)")
    let (rows, columns) = (shape[0], shape[1])
    var result = [Scalar](repeating: 0, count: count)
    for row in 0..<rows {
      for column in 0..<columns {
        result[column * rows + row] = scalars[row * columns + column]
      }
    }
    return Tensor(shape: [columns, rows], scalars: result)
  }

  /// The sum of all elements, as a rank-0 tensor.
  public func sum() -> Tensor { Tensor(scalars.reduce(0, +)) }

  /// The sum along one axis; the axis is removed unless `keepingDimension` is true.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
    require(axis >= 0 && axis < rank, "sum: axis \(axis) out of range for shape \(shape)")
    let outer = shape[..<axis].reduce(1, *)
    let length = shape[axis]
    let inner = shape[(axis + 1)...].reduce(1, *)
    var result = [Scalar](repeating: 0, count: outer * inner)
    for o in 0..<outer {
      for l in 0..<length {
        let base = (o * length + l) * inner
        for i in 0..<inner { result[o * inner + i] += scalars[base + i] }
      }
    }
    var newShape = shape
    if keepingDimension { newShape[axis] = 1 } else { newShape.remove(at: axis) }
    return Tensor(shape: newShape, scalars: result)
  }

  /// Element-wise sum (broadcasting).
  public static func + (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b, operation: "+", +) }
  /// Element-wise difference (broadcasting).
  public static func - (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b, operation: "-", -) }
  /// Element-wise product (broadcasting).
  public static func * (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b, operation: "*", *) }
  /// Element-wise quotient (broadcasting).
  public static func / (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b, operation: "/", /) }
  /// Element-wise negation.
  public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }
  /// Every element multiplied by a scalar.
  public static func * (a: Tensor, s: Scalar) -> Tensor { a.map { $0 * s } }
  /// Every element multiplied by a scalar.
  public static func * (s: Scalar, a: Tensor) -> Tensor { a.map { s * $0 } }

  /// Adds `other` (same shape) into this tensor in place.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public static func += (a: inout Tensor, b: Tensor) {
    require(a.shape == b.shape, "+=: shapes \(a.shape) and \(b.shape) differ")
    a.scalars.withUnsafeMutableBufferPointer { x in
      b.scalars.withUnsafeBufferPointer { y in
        for i in x.indices { x[i] += y[i] }
      }
    }
  }
}

// MARK: Scalars on either side, and element-wise functions (issue 15: the experimenter's toolbox)
// No `abs()` method: inside `extension Tensor` it would shadow the global `abs` that the
// tolerance checks call; `t.map(Scalar.abs)` does it.

extension Tensor {
  /// Every element plus a scalar.
  public static func + (a: Tensor, s: Scalar) -> Tensor { a.map { $0 + s } }
  /// A scalar plus every element.
  public static func + (s: Scalar, a: Tensor) -> Tensor { a.map { s + $0 } }
  /// Every element minus a scalar.
  public static func - (a: Tensor, s: Scalar) -> Tensor { a.map { $0 - s } }
  /// A scalar minus every element: `1 - t`.
  public static func - (s: Scalar, a: Tensor) -> Tensor { a.map { s - $0 } }
  /// Every element divided by a scalar.
  public static func / (a: Tensor, s: Scalar) -> Tensor { a.map { $0 / s } }
  /// A scalar divided by every element: `1 / t`.
  public static func / (s: Scalar, a: Tensor) -> Tensor { a.map { s / $0 } }

  /// e^x for every element.
  public func exp() -> Tensor { map(Scalar.exp) }
  /// The natural logarithm of every element (−∞ at 0, NaN below).
  public func log() -> Tensor { map(Scalar.log) }
  /// tanh x for every element.
  public func tanh() -> Tensor { map(Scalar.tanh) }
  /// The logistic sigmoid 1 / (1 + e^(−x)) of every element.
  public func sigmoid() -> Tensor { map { 1 / (1 + Scalar.exp(-$0)) } }
  /// sin x for every element (radians).
  public func sin() -> Tensor { map(Scalar.sin) }
  /// cos x for every element (radians).
  public func cos() -> Tensor { map(Scalar.cos) }
  /// √x for every element (NaN below 0).
  public func sqrt() -> Tensor { map(Scalar.sqrt) }
  /// x² for every element.
  public func squared() -> Tensor { map { $0 * $0 } }
  /// x^p for every element, as the C library's `pow` defines it.
  public func pow(_ exponent: Scalar) -> Tensor { map { Scalar.pow($0, exponent) } }
}
