/// Concatenation of tensors along one axis (PyTorch's `cat`, NumPy's `concatenate`).
///
/// Y = [X₁ X₂ … Xₙ] along the axis: every operand has the same rank and the same sizes on the
/// other axes, and Y's size on the axis is the sum of theirs. Each element of Y is one element
/// of one operand, so ∂Y/∂Xₖ is a selection and X̄ₖ is Ȳ's slice where Xₖ sits.
public struct Concat: CatalogedOperation {
  /// The axis joined along (non-negative).
  public let axis: Int
  public var name: String { "concat(axis: \(axis))" }
  /// Along `axis` (non-negative).
  public init(axis: Int) { self.axis = axis }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard let first = operands.first else {
      throw ShapeError("\(name): needs at least one operand")
    }
    guard axis >= 0 && axis < first.shape.count else {
      throw ShapeError.invalid(op: name, first, "has no axis \(axis)")
    }
    var shape = first.shape
    for operand in operands.dropFirst() {
      var other = operand.shape
      guard other.count == shape.count else {
        throw ShapeError(
          "\(name): \(operand.text) has rank \(other.count), but \(first.text) has rank "
            + "\(shape.count)")
      }
      let length = other[axis]
      other[axis] = shape[axis]
      guard other == shape else {
        throw ShapeError(
          "\(name): \(operand.text) and \(first.text) differ off axis \(axis)")
      }
      shape[axis] += length
    }
    return shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    var shape = inputs[0].shape
    shape[axis] = inputs.map { $0.shape[axis] }.reduce(0, +)
    let (outer, _, inner) = layoutAroundAxis(shape, axis: axis)
    var result = [Scalar]()
    result.reserveCapacity(shape.reduce(1, *))
    for o in 0..<outer {
      for x in inputs {  // each operand contributes a block of length · inner elements
        let block = x.shape[axis] * inner
        result.append(contentsOf: x.scalars[(o * block)..<((o + 1) * block)])
      }
    }
    return Tensor(shape: shape, scalars: result)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (outer, length, inner) = layoutAroundAxis(output.shape, axis: axis)
    var start = 0  // the operand's first position along the axis
    return inputs.map { x in
      let block = x.shape[axis] * inner
      var scalars = [Scalar]()
      scalars.reserveCapacity(x.count)
      for o in 0..<outer {
        let from = (o * length + start) * inner
        scalars.append(contentsOf: gradient.scalars[from..<(from + block)])
      }
      start += x.shape[axis]
      return Tensor(shape: x.shape, scalars: scalars)
    }
  }

  /// X̄ₖ = Ȳ's slice along the axis where Xₖ sits (a `Slicing` node).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    var start = 0
    return inputs.enumerated().map { slot, x in
      let length = x.shape[axis]
      defer { start += length }
      guard needs[slot] else { return nil }
      let indices =
        Array(repeating: SliceIndex.all, count: axis) + [
          .range(start: start, end: start + length, step: 1)
        ]
      return gradient.graph.apply(Slicing(indices), [gradient])
    }
  }

  /// Ẏ = [Ẋ₁ Ẋ₂ … Ẋₙ] along the axis: the op is linear, so its JVP is the op applied to the
  /// tangents (a `nil` one as zeros).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    forward(filledTangents(tangents, like: inputs))
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1"
  }

  public static let checks = [
    OperationCheck("axis 0: [2, 3] and [1, 3]", [[2, 3], [1, 3]]) { graph, x in
      graph.concat([x[0], x[1]], alongAxis: 0)
    },
    OperationCheck("axis 1: [2, 1], [2, 3] and [2, 2]", [[2, 1], [2, 3], [2, 2]]) { graph, x in
      graph.concat([x[0], x[1], x[2]], alongAxis: 1)
    },
    OperationCheck("axis −1 of [2, 2, 1] and [2, 2, 2]", [[2, 2, 1], [2, 2, 2]]) { graph, x in
      graph.concat([x[0], x[1]], alongAxis: -1)
    },
    OperationCheck("fan-out: [x, x] along axis 0 of [3]", [[3]]) { graph, x in
      graph.concat([x[0], x[0]], alongAxis: 0)
    },
  ]
}

extension Graph {
  /// The nodes joined along `axis` (negative counts from the end); every node has the same
  /// rank and the same sizes on the other axes.
  public func concat(_ nodes: [Node<Scalar>], alongAxis axis: Int) -> Node<Scalar> {
    guard let first = nodes.first else { return apply(Concat(axis: axis), nodes) }  // refused
    guard let resolved = first.resolvedAxis(axis) else {
      return first.rejected(
        by: "concat(axis: \(axis))", first.noAxisRequirement(axis), operands: nodes)
    }
    return apply(Concat(axis: resolved), nodes)
  }
}
