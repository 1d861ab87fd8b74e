/// log Σ exp along one axis, computed without overflow (PyTorch's `logsumexp(dim:)`).
///
/// yⱼ = mⱼ + log Σᵢ e^(xᵢⱼ − mⱼ) with mⱼ = maxᵢ xᵢⱼ (the shift changes nothing
/// mathematically and keeps every exponent ≤ 0; an infinite mⱼ is not subtracted, so a row of
/// −∞ gives −∞ and a +∞ gives +∞, as in PyTorch);
/// ∂yⱼ/∂xᵢⱼ = e^(xᵢⱼ − yⱼ) = softmax(x)ᵢⱼ;  x̄ᵢⱼ = ȳⱼ · e^(xᵢⱼ − yⱼ). Smooth everywhere.
/// The axis is removed unless `keepingDimension` is true.
public struct LogSumExp: CatalogedOperation {
  /// The axis reduced (non-negative).
  public let axis: Int
  /// Whether the reduced axis is kept with length 1.
  public let keepingDimension: Bool
  public var name: String { "logSumExp(axis: \(axis))" }
  /// Along `axis` (non-negative); the axis is kept with size 1 when `keepingDimension`.
  public init(axis: Int, keepingDimension: Bool = false) {
    self.axis = axis
    self.keepingDimension = keepingDimension
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try shapeAlongAxis(operands[0], op: name, axis: axis, keepingDimension: keepingDimension)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    let (outer, length, inner) = layoutAroundAxis(x.shape, axis: axis)
    var result = [Scalar](repeating: 0, count: outer * inner)
    for o in 0..<outer {
      for j in 0..<inner {
        let offsets = (0..<length).map { (o * length + $0) * inner + j }
        var m = x.scalars[offsets[0]]
        for offset in offsets { m = Swift.max(m, x.scalars[offset]) }
        if !m.isFinite { m = 0 }
        var sum: Scalar = 0
        for offset in offsets { sum += Scalar.exp(x.scalars[offset] - m) }
        result[o * inner + j] = m + Scalar.log(sum)
      }
    }
    var shape = x.shape
    if keepingDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
    return Tensor(shape: shape, scalars: result)
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0]
    let (outer, length, inner) = layoutAroundAxis(x.shape, axis: axis)
    var result = [Scalar](repeating: 0, count: x.count)
    for o in 0..<outer {
      for j in 0..<inner {
        let (y, g) = (output.scalars[o * inner + j], gradient.scalars[o * inner + j])
        for i in 0..<length {
          let offset = (o * length + i) * inner + j
          result[offset] = g * Scalar.exp(x.scalars[offset] - y)
        }
      }
    }
    return [Tensor(shape: x.shape, scalars: result)]
  }

  /// x̄ = ȳ · e^(x − y), ȳ and the output y broadcast back over the reduced axis.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    var kept = inputs[0].shape
    kept[axis] = 1
    let (y, g) =
      keepingDimension ? (output, gradient) : (output.reshaped(kept), gradient.reshaped(kept))
    return [g * (inputs[0] - y).exp()]
  }

  /// ẏⱼ = Σᵢ e^(xᵢⱼ − yⱼ) ẋᵢⱼ: the softmax-weighted mean of the tangent along the axis.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let x = inputs[0]
    let (outer, length, inner) = layoutAroundAxis(x.shape, axis: axis)
    var result = [Scalar](repeating: 0, count: outer * inner)
    for o in 0..<outer {
      for j in 0..<inner {
        let y = output.scalars[o * inner + j]
        var sum: Scalar = 0
        for i in 0..<length {
          let offset = (o * length + i) * inner + j
          sum += Scalar.exp(x.scalars[offset] - y) * tangent.scalars[offset]
        }
        result[o * inner + j] = sum
      }
    }
    return Tensor(shape: output.shape, scalars: result)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "e^(\(operands[0]) − \(output))"
  }

  public static let checks = [
    OperationCheck("axis 1 of [3, 4]", [[3, 4]]) { _, x in x[0].logSumExp(alongAxis: 1) },
    OperationCheck("axis 0 of [3, 4], kept", [[3, 4]]) { _, x in
      x[0].logSumExp(alongAxis: 0, keepingDimension: true)
    },
    OperationCheck("axis 1 of [2, 3, 2]", [[2, 3, 2]]) { _, x in x[0].logSumExp(alongAxis: 1) },
  ]
}

extension Node {
  /// log Σ exp along `axis` (negative counts from the end), computed without overflow.
  public func logSumExp(alongAxis axis: Int, keepingDimension: Bool = false) -> Node {
    guard let resolved = resolvedAxis(axis) else {
      return rejected(by: "logSumExp(axis: \(axis))", noAxisRequirement(axis))
    }
    return graph.apply(LogSumExp(axis: resolved, keepingDimension: keepingDimension), [self])
  }
}
