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

// MARK: Several axes at once, and permuted axes (issue 15: the API corners)

extension Tensor {
  /// The sum over several `axes` (negative counts from the end; all when nil), each removed
  /// unless `keepingDimension` keeps it with length 1, as PyTorch's `sum(dim: (…), keepdim:)`.
  /// One axis at a time, from the last: a single axis gives `sum(alongAxis:)`'s bits.
  /// - Precondition: every axis exists, none repeats.
  public func sum(alongAxes axes: [Int]?, keepingDimension: Bool = false) -> Tensor {
    let resolved = resolvedAxes(axes, rank: rank)
    require(
      resolved.allSatisfy { $0 >= 0 && $0 < rank } && Set(resolved).count == resolved.count,
      "sum: axes \(axes ?? []) are not distinct axes of shape \(shape)")
    if axes == nil { return sum().reshaped(keepingDimension ? shape.map { _ in 1 } : []) }
    var result = self
    for axis in resolved.reversed() { result = result.sum(alongAxis: axis, keepingDimension: true) }
    return keepingDimension
      ? result : result.reshaped(reducedShape(shape, axes: resolved, keepingDimension: false))
  }

  /// The tensor with its axes reordered: axis i of the result is axis `permutation[i]` of
  /// this one (PyTorch's `permute`, NumPy's `transpose(axes)`), copied into row-major order.
  /// - Precondition: `permutation` holds each of 0..<rank once.
  public func permuted(_ permutation: [Int]) -> Tensor {
    require(
      permutation.sorted() == Array(0..<rank),
      "permuted: \(permutation) is not a permutation of the \(rank) axes of \(shape)")
    let newShape = permutation.map { shape[$0] }
    var rowStrides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) {
      rowStrides[axis] = rowStrides[axis + 1] * shape[axis + 1]
    }
    let strides = permutation.map { rowStrides[$0] }  // input step per output axis
    var result = [Scalar]()
    result.reserveCapacity(count)
    var index = [Int](repeating: 0, count: rank)
    var offset = 0
    for _ in 0..<count {
      result.append(scalars[offset])
      var axis = rank - 1
      while axis >= 0 {
        index[axis] += 1
        offset += strides[axis]
        if index[axis] < newShape[axis] { break }
        offset -= strides[axis] * newShape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return Tensor(shape: newShape, scalars: result)
  }

  /// The tensor with axes `first` and `second` swapped (negative counts from the end), as
  /// PyTorch's `transpose(dim0, dim1)`; `transposed()` is the rank-2 case.
  public func transposed(_ first: Int, _ second: Int) -> Tensor {
    permuted(swappedAxes(rank: rank, first, second))
  }
}

/// The permutation of 0..<rank that swaps `first` and `second` (negative counts from the end).
/// - Precondition: both are axes of that rank.
func swappedAxes(rank: Int, _ first: Int, _ second: Int) -> [Int] {
  let (a, b) = (normalizedAxis(first, rank: rank), normalizedAxis(second, rank: rank))
  require(
    a >= 0 && a < rank && b >= 0 && b < rank,
    "transposed: axes \(first) and \(second) are not both axes of a rank-\(rank) tensor")
  var permutation = Array(0..<rank)
  permutation.swapAt(a, b)
  return permutation
}
