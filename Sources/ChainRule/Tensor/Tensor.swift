/// A dense, row-major, n-dimensional array of `Float` or `Double`.
///
/// `Tensor` is a value type: its scalars live in a Swift `Array`, whose storage is shared
/// between copies until one of them is mutated (copy-on-write). A rank-0 tensor (shape `[]`)
/// holds one scalar.
///
/// ```swift
/// let w = Tensor<Double>([[0.3], [-0.2]])   // shape [2, 1]
/// print(w.shape, w[1, 0])                    // [2, 1] -0.2
/// ```
public struct Tensor<Scalar: TensorScalar>: Equatable, Sendable {
  /// The size of each dimension, outermost first.
  public private(set) var shape: [Int]
  /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
  /// Mutate them in place with the subscript or `withUnsafeMutableBufferPointer(_:)`.
  public internal(set) var scalars: [Scalar]

  /// Creates a tensor of the given shape from its row-major scalars.
  /// - Precondition: `scalars.count` equals the product of `shape`, and no dimension is negative.
  public init(shape: [Int], scalars: [Scalar]) {
    require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
    let count = shape.reduce(1, *)
    require(
      count == scalars.count,
      "Tensor: shape \(shape) needs \(count) scalars, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// Creates a tensor of the given shape with every element equal to `value`.
  public init(shape: [Int], repeating value: Scalar) {
    self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
  }

  /// A rank-0 tensor holding one scalar.
  public init(_ scalar: Scalar) {
    self.init(shape: [], scalars: [scalar])
  }

  /// A rank-1 tensor (a vector).
  public init(_ vector: [Scalar]) {
    self.init(shape: [vector.count], scalars: vector)
  }

  /// A rank-2 tensor (a matrix) from its rows; every row must have the same length.
  public init(_ rows: [[Scalar]]) {
    let columns = rows.first?.count ?? 0
    require(
      rows.allSatisfy { $0.count == columns },
      "Tensor: ragged rows \(rows.map(\.count)) in a matrix literal")
    self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
  }

  /// A rank-3 tensor from nested arrays; every inner array must have the same length.
  public init(_ blocks: [[[Scalar]]]) {
    let matrices = blocks.map { Tensor($0) }
    let inner = matrices.first?.shape ?? [0, 0]
    require(
      matrices.allSatisfy { $0.shape == inner }, "Tensor: ragged blocks in a rank-3 literal")
    self.init(shape: [blocks.count] + inner, scalars: matrices.flatMap(\.scalars))
  }

  /// A tensor of zeros.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
  /// A tensor of ones.
  public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

  /// The number of dimensions.
  public var rank: Int { shape.count }
  /// The number of elements.
  public var count: Int { scalars.count }
  /// The only element of a tensor that has exactly one.
  public var scalar: Scalar {
    require(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
    return scalars[0]
  }

  /// The row-major offset of a multi-index, checked against the shape.
  public func offset(of indices: [Int]) -> Int {
    require(
      indices.count == rank, "Tensor: \(indices.count) indices for a tensor of rank \(rank)")
    var offset = 0
    for (axis, index) in indices.enumerated() {
      require(
        index >= 0 && index < shape[axis],
        "Tensor: index \(index) out of range for axis \(axis) of shape \(shape)")
      offset = offset * shape[axis] + index
    }
    return offset
  }

  /// The element at a multi-index, e.g. `t[1, 0]`.
  public subscript(indices: Int...) -> Scalar {
    get { scalars[offset(of: indices)] }
    set { scalars[offset(of: indices)] = newValue }
  }

  /// The same scalars viewed with another shape of equal element count.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    Tensor(shape: newShape, scalars: scalars)
  }

  /// Gives mutable access to the row-major scalars in place (the shape stays the same).
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
  ) rethrows -> R {
    try scalars.withUnsafeMutableBufferPointer(body)
  }

  /// Applies `transform` to every element.
  public func map(_ transform: (Scalar) -> Scalar) -> Tensor {
    Tensor(shape: shape, scalars: scalars.map(transform))
  }

  /// Whether every element is finite (no NaN, no ±∞).
  public var isFinite: Bool { scalars.allSatisfy(\.isFinite) }

  /// The same values converted to another scalar type.
  public func converted<Other: TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
    Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
  }
}

extension Tensor {
  /// Whether both tensors have the same shape and every pair of elements satisfies
  /// `|a − b| ≤ absoluteTolerance + relativeTolerance · max(|a|, |b|)`.
  ///
  /// The defaults suit tests in `Double`; NaNs never compare equal.
  public func isApproximatelyEqual(
    to other: Tensor, relativeTolerance: Scalar = 1e-12, absoluteTolerance: Scalar = 0
  ) -> Bool {
    guard shape == other.shape else { return false }
    return zip(scalars, other.scalars).allSatisfy { a, b in
      abs(a - b) <= absoluteTolerance + relativeTolerance * max(abs(a), abs(b))
    }
  }
}

/// The row-major multi-index ([i, j, …]) of the element at flat `offset` in a tensor of
/// `shape`: how messages and drawings name one element.
package func rowMajorIndex(_ offset: Int, shape: [Int]) -> [Int] {
  var index = [Int](repeating: 0, count: shape.count)
  var rest = offset
  for axis in shape.indices.reversed() {
    index[axis] = rest % shape[axis]
    rest /= shape[axis]
  }
  return index
}
