/// Basic indexing as in PyTorch and NumPy: an integer picks one position of an axis (and
/// removes it), a range with an optional stride keeps a sub-sequence; `x[1, 0..<2]`,
/// `x[.all, .stride(from: 1, by: 2)]`.
///
/// Per axis of size n: an integer i (i < 0 counts from the end) must lie in −n..<n; a range
/// start..<end with step s > 0 keeps start, start + s, … before end, with Python's rules —
/// omitted ends mean the whole axis, negative ends count from the end, and ends past the axis
/// are clamped (so a range may be empty). Axes without an entry are kept whole. Negative
/// steps are refused, as PyTorch refuses them.
/// Every element of Y is one element of X: Yₚ = X_{o(p)}; the VJP scatters Ȳ back,
/// X̄_{o(p)} = Ȳₚ, and X̄ is 0 at the positions not selected.
public struct Slicing: CatalogedOperation {
  /// The entries, one per leading axis.
  public let indices: [SliceIndex]
  public var name: String { "slice[\(indices.map(\.description).joined(separator: ", "))]" }
  public init(_ indices: [SliceIndex]) { self.indices = indices }

  /// Per axis of the input: the first position, the step, how many, and whether it is kept.
  struct Resolved {
    var start: Int
    var step: Int
    var count: Int
    var kept: Bool
  }

  func resolve(_ operand: ShapeError.Operand) throws(ShapeError) -> [Resolved] {
    let shape = operand.shape
    guard indices.count <= shape.count else {
      throw ShapeError.invalid(
        op: name, operand, "has rank \(shape.count), fewer axes than \(indices.count) indices")
    }
    var result: [Resolved] = []
    for (axis, n) in shape.enumerated() {
      switch axis < indices.count ? indices[axis] : .all {
      case .index(let i):
        guard i >= -n && i < n else {
          throw ShapeError.invalid(
            op: name, operand, "has no index \(i) on axis \(axis) (size \(n))")
        }
        result.append(Resolved(start: i < 0 ? i + n : i, step: 1, count: 1, kept: false))
      case .range(let start, let end, let step):
        guard step > 0 else {
          throw ShapeError.invalid(op: name, operand, "axis \(axis): step \(step) is not positive")
        }
        func clamped(_ value: Int?, default fallback: Int) -> Int {
          guard let value else { return fallback }
          return Swift.min(Swift.max(value < 0 ? value + n : value, 0), n)
        }
        let (from, to) = (clamped(start, default: 0), clamped(end, default: n))
        let count = to > from ? (to - from + step - 1) / step : 0
        result.append(Resolved(start: from, step: step, count: count, kept: true))
      }
    }
    return result
  }

  /// The flat offset in the input of every output element, in row-major order.
  func offsets(_ shape: [Int]) -> [Int] {
    // The shape was validated by `outputShape` when the node was built or re-fed.
    let axes = try! resolve(ShapeError.Operand(name: "x", shape: shape))
    var offsets = [0]
    for (axis, entry) in axes.enumerated() {
      let stride = shape[(axis + 1)...].reduce(1, *)
      let positions = (0..<entry.count).map { (entry.start + $0 * entry.step) * stride }
      offsets = offsets.flatMap { base in positions.map { base + $0 } }
    }
    return offsets
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try resolve(operands[0]).filter(\.kept).map(\.count)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    let shape = try! outputShape([ShapeError.Operand(name: "x", shape: x.shape)])
    return Tensor(shape: shape, scalars: offsets(x.shape).map { x.scalars[$0] })
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [scatter(gradient, to: offsets(inputs[0].shape), shape: inputs[0].shape)]
  }

  /// X̄ = Ȳ scattered back to the selected positions (`SliceScatter`).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [
      needs[0]
        ? gradient.graph.apply(SliceScatter(slicing: self, shape: inputs[0].shape), [gradient])
        : nil
    ]
  }

  /// Ẏ = Ẋ at the same positions: the op is linear, so its JVP is the op applied to the
  /// tangent.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0]) } ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1"
  }

  public static let checks = [
    OperationCheck("row 1 of [3, 4]", [[3, 4]]) { _, x in x[0][1] },
    OperationCheck("[0..<2, 1...] of [3, 4]", [[3, 4]]) { _, x in x[0][0..<2, 1...] },
    OperationCheck("every second column, from 1, of [2, 5]", [[2, 5]]) { _, x in
      x[0][.all, .stride(from: 1, by: 2)]
    },
    OperationCheck("[−1, ..<2, 0] of [2, 3, 4]", [[2, 3, 4]]) { _, x in x[0][-1, ..<2, 0] },
    OperationCheck("one element [1, 2] of [2, 3]", [[2, 3]]) { _, x in x[0][1, 2] },
  ]
}

/// One entry of a slicing subscript: a position, or a range of positions with a step.
public enum SliceIndex: Sendable, Equatable, CustomStringConvertible {
  /// One position (negative counts from the end); the axis is removed.
  case index(Int)
  /// Positions start, start + step, … before end (`nil` ends: the whole axis); step > 0.
  case range(start: Int?, end: Int?, step: Int)

  /// The whole axis (`:` in NumPy).
  public static let all = SliceIndex.range(start: nil, end: nil, step: 1)

  /// Every `step`-th position from `start` up to, not including, `end` (`start:end:step`).
  public static func stride(from start: Int? = nil, to end: Int? = nil, by step: Int)
    -> SliceIndex
  {
    .range(start: start, end: end, step: step)
  }

  /// NumPy's notation: `1`, `0:2`, `::2`, `:`.
  public var description: String {
    switch self {
    case .index(let i): return "\(i)"
    case .range(let start, let end, let step):
      let bounds = "\(start.map(String.init) ?? ""):\(end.map(String.init) ?? "")"
      return step == 1 ? bounds : "\(bounds):\(step)"
    }
  }
}

/// What a slicing subscript accepts: `Int`, the integer ranges (`0..<2`, `0...1`, `1...`,
/// `..<2`, `...1`) and `SliceIndex` itself (`.all`, `.stride(from:to:by:)`).
public protocol SliceIndexConvertible {
  /// The entry this value stands for.
  var sliceIndex: SliceIndex { get }
}

extension SliceIndex: SliceIndexConvertible {
  public var sliceIndex: SliceIndex { self }
}
extension Int: SliceIndexConvertible {
  public var sliceIndex: SliceIndex { .index(self) }
}
extension Range: SliceIndexConvertible where Bound == Int {
  public var sliceIndex: SliceIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: SliceIndexConvertible where Bound == Int {
  public var sliceIndex: SliceIndex { .range(start: lowerBound, end: upperBound + 1, step: 1) }
}
extension PartialRangeFrom: SliceIndexConvertible where Bound == Int {
  public var sliceIndex: SliceIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: SliceIndexConvertible where Bound == Int {
  public var sliceIndex: SliceIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: SliceIndexConvertible where Bound == Int {
  public var sliceIndex: SliceIndex { .range(start: nil, end: upperBound + 1, step: 1) }
}

extension SliceIndexConvertible where Self == SliceIndex {
  /// The whole axis (`:` in NumPy).
  public static var all: SliceIndex { SliceIndex.all }
  /// Every `step`-th position from `start` up to, not including, `end`.
  public static func stride(from start: Int? = nil, to end: Int? = nil, by step: Int)
    -> SliceIndex
  {
    SliceIndex.stride(from: start, to: end, by: step)
  }
}

extension Node {
  /// Basic indexing: `x[1]` (a row, the axis removed), `x[0..<2, 1...]`,
  /// `x[.all, .stride(from: 0, by: 2)]`, `x[-1]` (the last row); axes without an entry are
  /// kept whole. The gradient is scattered back to the selected positions.
  public subscript(_ indices: any SliceIndexConvertible...) -> Node {
    graph.apply(Slicing(indices.map(\.sliceIndex)), [self])
  }
}
