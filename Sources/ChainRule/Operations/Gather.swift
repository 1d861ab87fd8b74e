/// Rows of a table picked by integer indices: an embedding lookup (PyTorch's `embedding`,
/// `index_select` along axis 0, JAX's `take`).
///
/// Table T: [V, …]; indices k of any shape, each a whole number in 0..<V stored as a scalar (so
/// a graph input can be fed new indices every step). Y = T[k]: shape k.shape + T.shape[1...],
/// Y[p] = T[k_p]. ∂Y[p]/∂T[r] = [k_p = r], so T̄[r] = Σ_{p: k_p = r} Ȳ[p] — an index that
/// appears twice receives both gradients. The indices are positions, not differentiable:
/// their gradient is 0.
/// - Precondition: every index is a whole number in 0..<V (checked in `forward`, with the
///   position of the first bad one).
public struct Gather: CatalogedOperation {
  public var name: String { "gather" }
  /// The op; it has no settings.
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let table = operands[0]
    guard let rows = table.shape.first, rows > 0 else {
      throw ShapeError.invalid(op: name, table, "must be a non-empty table [rows, …]")
    }
    return operands[1].shape + table.shape.dropFirst()
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (table, indices) = (inputs[0], inputs[1])
    let width = table.shape.dropFirst().reduce(1, *)
    var result = [Scalar]()
    result.reserveCapacity(indices.count * width)
    for row in rows(indices, count: table.shape[0]) {
      result.append(contentsOf: table.scalars[(row * width)..<((row + 1) * width)])
    }
    return Tensor(shape: indices.shape + table.shape.dropFirst(), scalars: result)
  }

  /// The rows copied into the reused output buffer (one `update` per index), the indices
  /// checked as in `forward(_:)`: nothing is allocated, so an embedding lookup on a built
  /// graph costs no heap traffic per step.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    let (table, indices) = (inputs[0], inputs[1])
    let count = table.shape[0]
    let width = table.count / count
    guard width > 0 else { return }
    table.scalars.withUnsafeBufferPointer { t in
      indices.scalars.withUnsafeBufferPointer { k in
        output.withUnsafeMutableBufferPointer { y in
          for p in k.indices {
            let row = checkedRow(k[p], at: p, of: indices.shape, count: count)
            (y.baseAddress! + p * width).update(from: t.baseAddress! + row * width, count: width)
          }
        }
      }
    }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (table, indices) = (inputs[0], inputs[1])
    let width = table.shape.dropFirst().reduce(1, *)
    var result = Tensor<Scalar>.zeros(table.shape)
    for (p, row) in rows(indices, count: table.shape[0]).enumerated() {
      for j in 0..<width { result.scalars[row * width + j] += gradient.scalars[p * width + j] }
    }
    return [result, Tensor.zeros(indices.shape)]
  }

  /// T̄[k_p] += Ȳ[p] row by row, in the order of the positions p, straight into the table's
  /// gradient buffer (a repeated index adds each of its rows); the indices' slot is left
  /// untouched, since their gradient is 0. Allocates nothing.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }
    let (table, indices) = (inputs[0], inputs[1])
    let count = table.shape[0]
    let width = table.count / count
    guard width > 0 else { return }
    gradients[0].withUnsafeMutableBufferPointer { tbar in
      indices.scalars.withUnsafeBufferPointer { k in
        gradient.scalars.withUnsafeBufferPointer { ybar in
          for p in k.indices {
            let row = checkedRow(k[p], at: p, of: indices.shape, count: count) * width
            for j in 0..<width { tbar[row + j] += ybar[p * width + j] }
          }
        }
      }
    }
  }

  /// T̄ = Ȳ's rows added at their indices (`RowScatter`); the indices: none.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [
      needs[0]
        ? gradient.graph.apply(RowScatter(rows: inputs[0].shape[0]), [gradient, inputs[1]]) : nil,
      nil,
    ]
  }

  /// Ẏ = Ṫ[k]: linear in the table, so its JVP gathers the table's tangent at the same indices;
  /// the indices' tangent is ignored (they are positions, not differentiable).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0, inputs[1]]) } ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "[\(operands[1]) = r]" : "0"
  }

  public static let checks = [
    OperationCheck("rows [2, 0, 2] of [3, 4]", [[3, 4]]) { graph, x in
      x[0].gather(graph.constant(Tensor([2, 0, 2])))
    },
    OperationCheck("indices [2, 2] into a vector [5]", [[5]]) { graph, x in
      x[0].gather(graph.constant(Tensor([[4, 0], [1, 4]])))
    },
    OperationCheck("one index [] into [3, 2, 2]", [[3, 2, 2]]) { graph, x in
      x[0].gather(graph.constant(Tensor(1)))
    },
  ]

  /// The indices as rows. - Precondition: whole numbers in 0..<count.
  private func rows<Scalar: TensorScalar>(_ indices: Tensor<Scalar>, count: Int) -> [Int] {
    indices.scalars.enumerated().map { position, index in
      checkedRow(index, at: position, of: indices.shape, count: count)
    }
  }

  /// `index` as a row of a table with `count` rows; the message (built only on failure)
  /// names its position in indices of `shape`. - Precondition: a whole number in 0..<count.
  @inline(__always)
  private func checkedRow<Scalar: TensorScalar>(
    _ index: Scalar, at position: Int, of shape: [Int], count: Int
  ) -> Int {
    require(
      Gather.isRow(index, count: count),
      Gather.badIndexMessage(Double(index), at: position, of: shape, count: count))
    return Int(index)
  }

  /// Whether `index` is a whole number in 0..<count (NaN and ±∞ are not).
  @inline(__always)
  static func isRow<Scalar: TensorScalar>(_ index: Scalar, count: Int) -> Bool {
    index >= 0 && index < Scalar(count) && index.rounded() == index
  }

  /// The message for the first of `indices` that is not a row of a table with `count` rows,
  /// or `nil` when every one is.
  static func firstBadIndex<Scalar: TensorScalar>(_ indices: Tensor<Scalar>, count: Int)
    -> String?
  {
    guard
      let position = indices.scalars.firstIndex(where: { !isRow($0, count: count) })
    else { return nil }
    return badIndexMessage(
      Double(indices.scalars[position]), at: position, of: indices.shape, count: count)
  }

  /// The message for an index that is not a row: its value and position, and the range.
  static func badIndexMessage(_ index: Double, at position: Int, of shape: [Int], count: Int)
    -> String
  {
    "gather: index \(DotText.shortest(index)) at position "
      + "\(rowMajorIndex(position, shape: shape)) is not a row of the table (0..<\(count))"
  }
}

extension Node {
  /// The rows of this table ([V, …]) at `indices` (whole numbers in 0..<V, any shape): an
  /// embedding lookup; the result has shape indices.shape + self.shape[1...]. An index that is
  /// not a row when the node is built is an error naming it, its position and both shapes,
  /// thrown inside `throwingShapeErrors` (one fed later stops the next `forward()`).
  public func gather(_ indices: Node) -> Node {
    if let count = shape.first, count > 0,
      let problem = Gather.firstBadIndex(indices.value, count: count)
    {
      return graph.rejecting(
        ShapeError("\(problem), for table \(operand.text) and indices \(indices.operand.text)"),
        operands: [self, indices])
    }
    return graph.apply(Gather(), [self, indices])
  }
  /// The rows of this table at fixed `indices`.
  public func gather(_ indices: [Int]) -> Node {
    gather(graph.constant(Tensor(indices.map { Scalar($0) })))
  }
}
