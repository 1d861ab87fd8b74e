/// The minimum along one axis (PyTorch's `min(dim:)` values).
///
/// yⱼ = minᵢ xᵢⱼ;  x̄ᵢⱼ = ȳⱼ · [i = kⱼ] with kⱼ = argminᵢ xᵢⱼ. At a tie the gradient goes to
/// the first minimal index, as `torch.min(x, dim)`'s does; a NaN in a row is its minimum (the
/// first NaN). The axis is removed unless `keepingDimension` is true. See `Max`.
public struct Min: CatalogedOperation {
  /// The axis reduced (non-negative).
  public let axis: Int
  /// Whether the reduced axis is kept with length 1.
  public let keepingDimension: Bool
  public var name: String { "min(axis: \(axis))" }
  /// Along `axis` (non-negative); the axis is kept with size 1 when `keepingDimension`.
  public init(axis: Int, keepingDimension: Bool = false) {
    self.axis = axis
    self.keepingDimension = keepingDimension
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try shapeAlongAxis(operands[0], op: name, axis: axis, keepingDimension: keepingDimension)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    selectAlongAxis(inputs[0], axis: axis, keepingDimension: keepingDimension) { $0 < $1 }.value
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let positions = selectAlongAxis(inputs[0], axis: axis, keepingDimension: true) { $0 < $1 }
    return [scatter(gradient, to: positions.offsets, shape: inputs[0].shape)]
  }

  /// x̄ = M ⊙ ȳ, M the 0/1 mask of the first minima (see `Max`).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    return [
      extremumGradient(
        inputs[0], gradient, axis: axis, keepingDimension: keepingDimension, ofMaximum: false)
    ]
  }

  /// ẏⱼ = ẋ at kⱼ = argminᵢ xᵢⱼ: the tangent of the chosen element, with the VJP's choice on
  /// a tie (the first minimal index) and for a NaN.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let positions = selectAlongAxis(inputs[0], axis: axis, keepingDimension: true) { $0 < $1 }
    return Tensor(shape: output.shape, scalars: positions.offsets.map { tangent.scalars[$0] })
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "[i = argmin]"
  }

  public static let checks = [
    OperationCheck("axis 1 of [3, 4]", [[3, 4]], domain: .distinct) { _, x in
      x[0].min(alongAxis: 1)
    },
    OperationCheck("axis 0 of [4, 2, 3], kept", [[4, 2, 3]], domain: .distinct) { _, x in
      x[0].min(alongAxis: 0, keepingDimension: true)
    },
  ]
}

extension Node {
  /// The minimum along `axis` (negative counts from the end); its gradient goes to the first
  /// minimal element, as `torch.min(x, dim)`'s does.
  public func min(alongAxis axis: Int, keepingDimension: Bool = false) -> Node {
    guard let resolved = resolvedAxis(axis) else {
      return rejected(by: "min(axis: \(axis))", noAxisRequirement(axis))
    }
    return graph.apply(Min(axis: resolved, keepingDimension: keepingDimension), [self])
  }

  /// The minimum over several `axes` (negative counts from the end), each removed unless
  /// `keepingDimension` keeps it with length 1: PyTorch's `amin(dim: (…), keepdim:)` values,
  /// with the gradient to the first minimal element in row-major order of each reduced block
  /// (a composite of `Permute`, `Reshape` and `Min`; see `max(alongAxes:keepingDimension:)`).
  public func min(alongAxes axes: [Int], keepingDimension: Bool = false) -> Node {
    reduced("min", overAxes: axes, keepingDimension: keepingDimension) {
      $0.min(alongAxis: $1, keepingDimension: $2)
    }
  }
}
