/// The maximum along one axis (PyTorch's `max(dim:)` values, or `amax` without its tie rule).
///
/// yⱼ = maxᵢ xᵢⱼ over the reduced axis i;  ∂yⱼ/∂xᵢⱼ = [i = kⱼ] with kⱼ = argmaxᵢ xᵢⱼ;
/// x̄ᵢⱼ = ȳⱼ · [i = kⱼ]: the whole gradient goes to the position of the maximum.
/// At a tie the derivative does not exist; ChainRule gives the gradient to the first maximal
/// index, as `torch.max(x, dim)` does (its `indices` are the first maximal value's, and its
/// backward scatters to them) — not `torch.amax`, which splits it evenly among the ties. A NaN
/// in a row is its maximum (the first NaN), as in PyTorch. The axis is removed unless
/// `keepingDimension` is true.
public struct Max: CatalogedOperation {
  /// The axis reduced (non-negative).
  public let axis: Int
  /// Whether the reduced axis is kept with length 1.
  public let keepingDimension: Bool
  public var name: String { "max(axis: \(axis))" }
  /// Along `axis` (non-negative); the axis is kept with size 1 when `keepingDimension`.
  public init(axis: Int, keepingDimension: Bool = false) {
    self.axis = axis
    self.keepingDimension = keepingDimension
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try shapeAlongAxis(operands[0], op: name, axis: axis, keepingDimension: keepingDimension)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    selectAlongAxis(inputs[0], axis: axis, keepingDimension: keepingDimension) { $0 > $1 }.value
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let positions = selectAlongAxis(inputs[0], axis: axis, keepingDimension: true) { $0 > $1 }
    return [scatter(gradient, to: positions.offsets, shape: inputs[0].shape)]
  }

  /// x̄ = M ⊙ ȳ, M the 0/1 mask of the first maxima (`ExtremumMask`, piecewise constant) and ȳ
  /// broadcast back over the reduced axis.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    return [
      extremumGradient(
        inputs[0], gradient, axis: axis, keepingDimension: keepingDimension, ofMaximum: true)
    ]
  }

  /// ẏⱼ = ẋ at kⱼ = argmaxᵢ xᵢⱼ: the tangent of the chosen element, with the VJP's choice on
  /// a tie (the first maximal index) and for a NaN.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let positions = selectAlongAxis(inputs[0], axis: axis, keepingDimension: true) { $0 > $1 }
    return Tensor(shape: output.shape, scalars: positions.offsets.map { tangent.scalars[$0] })
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "[i = argmax]"
  }

  public static let checks = [
    OperationCheck("axis 1 of [3, 4]", [[3, 4]], domain: .distinct) { _, x in
      x[0].max(alongAxis: 1)
    },
    OperationCheck("axis 0 of [3, 4], kept", [[3, 4]], domain: .distinct) { _, x in
      x[0].max(alongAxis: 0, keepingDimension: true)
    },
    OperationCheck("axis −2 of [2, 3, 2]", [[2, 3, 2]], domain: .distinct) { _, x in
      x[0].max(alongAxis: -2)
    },
  ]
}

/// The output shape of a reduction along `axis`: the axis removed, or kept with length 1.
func shapeAlongAxis(
  _ operand: ShapeError.Operand, op: String, axis: Int, keepingDimension: Bool
) throws(ShapeError) -> [Int] {
  guard axis >= 0 && axis < operand.shape.count else {
    throw ShapeError.invalid(op: op, operand, "has no axis \(axis)")
  }
  guard operand.shape[axis] > 0 else {
    throw ShapeError.invalid(op: op, operand, "is empty along axis \(axis)")
  }
  var shape = operand.shape
  if keepingDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
  return shape
}

/// The tensor seen as [outer, length, inner] around `axis`: element (o, i, j) of the axis
/// slice is at offset (o · length + i) · inner + j.
func layoutAroundAxis(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
  (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}

/// The element of each slice along `axis` that no later element beats (`beats(candidate,
/// best)`), the first one on a tie; a NaN beats everything and is beaten by nothing, so the
/// first NaN of a slice is chosen. Returns the chosen values and their flat offsets in `x`.
func selectAlongAxis<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, axis: Int, keepingDimension: Bool, beats: (Scalar, Scalar) -> Bool
) -> (value: Tensor<Scalar>, offsets: [Int]) {
  let (outer, length, inner) = layoutAroundAxis(x.shape, axis: axis)
  var values = [Scalar](repeating: 0, count: outer * inner)
  var offsets = [Int](repeating: 0, count: outer * inner)
  for o in 0..<outer {
    for j in 0..<inner {
      var best = o * length * inner + j
      for i in 1..<length {
        let offset = (o * length + i) * inner + j
        let (candidate, current) = (x.scalars[offset], x.scalars[best])
        if !current.isNaN && (candidate.isNaN || beats(candidate, current)) { best = offset }
      }
      values[o * inner + j] = x.scalars[best]
      offsets[o * inner + j] = best
    }
  }
  var shape = x.shape
  if keepingDimension { shape[axis] = 1 } else { shape.remove(at: axis) }
  return (Tensor(shape: shape, scalars: values), offsets)
}

/// x̄ = M ⊙ ȳ as nodes, for `Max` and `Min`: M the 0/1 mask of the chosen positions
/// (`ExtremumMask`), ȳ broadcast back over the reduced axis.
func extremumGradient<Scalar>(
  _ x: Node<Scalar>, _ gradient: Node<Scalar>, axis: Int, keepingDimension: Bool, ofMaximum: Bool
) -> Node<Scalar> {
  let mask = x.graph.apply(ExtremumMask(axis: axis, ofMaximum: ofMaximum), [x])
  var kept = x.shape
  kept[axis] = 1
  return mask * (keepingDimension ? gradient : gradient.reshaped(kept))
}

/// A tensor of `shape`, zero except `gradient`'s elements placed at `offsets` (one each).
func scatter<Scalar: TensorScalar>(_ gradient: Tensor<Scalar>, to offsets: [Int], shape: [Int])
  -> Tensor<Scalar>
{
  var result = Tensor<Scalar>.zeros(shape)
  for (g, offset) in zip(gradient.scalars, offsets) { result.scalars[offset] += g }
  return result
}

extension Node {
  /// The maximum along `axis` (negative counts from the end); its gradient goes to the first
  /// maximal element, as `torch.max(x, dim)`'s does.
  public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Node {
    guard let resolved = resolvedAxis(axis) else {
      return rejected(by: "max(axis: \(axis))", noAxisRequirement(axis))
    }
    return graph.apply(Max(axis: resolved, keepingDimension: keepingDimension), [self])
  }

  /// The maximum over several `axes` (negative counts from the end), each removed unless
  /// `keepingDimension` keeps it with length 1: PyTorch's `amax(dim: (…), keepdim:)` values.
  ///
  /// A composite, not a new rule: the reduced axes are moved last in their order (`Permute`),
  /// flattened into one (`Reshape`) and reduced by `Max`. So the gradient goes to the first
  /// maximal element in row-major order of each reduced block — `max(alongAxis:)`'s rule, so
  /// one axis and several agree — where `torch.amax` splits a tie's gradient evenly.
  public func max(alongAxes axes: [Int], keepingDimension: Bool = false) -> Node {
    reduced("max", overAxes: axes, keepingDimension: keepingDimension) {
      $0.max(alongAxis: $1, keepingDimension: $2)
    }
  }

  /// A reduction over several axes from a one-axis one (`reduce(node, axis, keepingDimension)`):
  /// one axis is reduced directly; several are moved last, flattened, and reduced as one.
  /// No axes, an axis the node lacks or a repeated one is a shape error naming `op`
  /// (`"max"`), the axes and the shape, thrown inside `throwingShapeErrors`.
  func reduced(
    _ op: String, overAxes axes: [Int], keepingDimension: Bool, _ reduce: (Node, Int, Bool) -> Node
  ) -> Node {
    let rank = shape.count
    let name = reductionName(op, axes: axes, keepingDimension: keepingDimension)
    guard !axes.isEmpty else { return rejected(by: name, "cannot be reduced over no axes") }
    if let problem = reductionAxesProblem(axes) { return rejected(by: name, problem) }
    let resolved = axes.map { normalizedAxis($0, rank: rank) }.sorted()
    if resolved.count == 1 { return reduce(self, resolved[0], keepingDimension) }
    let others = (0..<rank).filter { !resolved.contains($0) }
    let permutation = others + resolved
    let moved = permutation == Array(0..<rank) ? self : permuted(permutation)
    let block = resolved.reduce(1) { $0 * shape[$1] }
    let result = reduce(moved.reshaped(others.map { shape[$0] } + [block]), others.count, false)
    return keepingDimension
      ? result.reshaped(reducedShape(shape, axes: resolved, keepingDimension: true)) : result
  }
}
