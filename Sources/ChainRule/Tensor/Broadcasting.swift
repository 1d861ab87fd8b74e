/// NumPy broadcasting: shapes are aligned on their last axis; two sizes are compatible when
/// they are equal or one of them is 1, and the result takes the larger.
public enum Broadcast {
  /// The shape two operands broadcast to, or `nil` when they are incompatible.
  public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let paddedA = Array(repeating: 1, count: rank - a.count) + a
    let paddedB = Array(repeating: 1, count: rank - b.count) + b
    var result: [Int] = []
    result.reserveCapacity(rank)
    for (x, y) in zip(paddedA, paddedB) {
      guard x == y || x == 1 || y == 1 else { return nil }
      result.append(x == 1 ? y : x)
    }
    return result
  }

  /// Row-major strides of `shape` seen inside `target`: 0 along axes that are broadcast
  /// (missing or of size 1), so that one index walk serves both operands.
  static func strides(of shape: [Int], in target: [Int]) -> [Int] {
    var strides = Array(repeating: 0, count: target.count)
    var step = 1
    for axis in shape.indices.reversed() {
      let targetAxis = axis + target.count - shape.count
      strides[targetAxis] = shape[axis] == 1 ? 0 : step
      step *= shape[axis]
    }
    return strides
  }
}

extension Tensor {
  /// Combines two tensors element by element after broadcasting them to a common shape.
  /// - Parameters:
  ///   - a: The left operand.
  ///   - b: The right operand.
  ///   - operation: The name a shape mismatch is reported under (`+`, `add`).
  ///   - combine: The function applied to each pair of broadcast elements.
  /// - Precondition: the shapes broadcast (check with `Broadcast.shape` first).
  public static func zipBroadcast(
    _ a: Tensor, _ b: Tensor, operation: String = "zipBroadcast",
    _ combine: (Scalar, Scalar) -> Scalar
  ) -> Tensor {
    if a.shape == b.shape {
      return Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map(combine))
    }
    guard let shape = Broadcast.shape(a.shape, b.shape) else {
      requirementFailure(ShapeError.broadcast(op: operation, a.shape, b.shape).description)
    }
    if b.count == 1 {
      let y = b.scalars[0]
      return Tensor(shape: shape, scalars: a.scalars.map { combine($0, y) })
    }
    if a.count == 1 {
      let x = a.scalars[0]
      return Tensor(shape: shape, scalars: b.scalars.map { combine(x, $0) })
    }
    let stridesA = Broadcast.strides(of: a.shape, in: shape)
    let stridesB = Broadcast.strides(of: b.shape, in: shape)
    let count = shape.reduce(1, *)
    var result = [Scalar]()
    result.reserveCapacity(count)
    var index = Array(repeating: 0, count: shape.count)
    var offsetA = 0
    var offsetB = 0
    for _ in 0..<count {
      result.append(combine(a.scalars[offsetA], b.scalars[offsetB]))
      // Odometer increment of the multi-index, keeping both offsets in step.
      var axis = shape.count - 1
      while axis >= 0 {
        index[axis] += 1
        offsetA += stridesA[axis]
        offsetB += stridesB[axis]
        if index[axis] < shape[axis] { break }
        offsetA -= stridesA[axis] * shape[axis]
        offsetB -= stridesB[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return Tensor(shape: shape, scalars: result)
  }

  /// This tensor repeated along broadcast axes to fill `target`.
  /// - Precondition: the shape broadcasts to `target`.
  public func broadcasted(to target: [Int]) -> Tensor {
    if shape == target { return self }
    require(
      Broadcast.shape(shape, target) == target,
      "broadcasted(to:): \(shape) does not broadcast to \(target)")
    return Tensor.zipBroadcast(self, Tensor.zeros(target)) { value, _ in value }
  }

  /// Sums a broadcast gradient back to the shape of the operand it came from: the adjoint of
  /// broadcasting, applied once by the graph for every element-wise op.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func summed(toShape target: [Int]) -> Tensor {
    if shape == target { return self }
    require(
      Broadcast.shape(target, shape) == shape,
      "summed(toShape:): \(target) does not broadcast to \(shape)")
    var result = Tensor.zeros(target)
    let strides = Broadcast.strides(of: target, in: shape)
    var index = Array(repeating: 0, count: rank)
    var offset = 0
    for value in scalars {
      result.scalars[offset] += value
      var axis = rank - 1
      while axis >= 0 {
        index[axis] += 1
        offset += strides[axis]
        if index[axis] < shape[axis] { break }
        offset -= strides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }
}
