/// Where a max or min along an axis was taken, as a tensor of 0s and 1s: a support op of the
/// node-built gradients of `Max` and `Min`, which send ȳ to those places (x̄ = mask ⊙ ȳ).
///
/// Mᵢⱼ = [i = kⱼ], kⱼ the first maximal (minimal) index of slice j along the axis — the
/// position `Max`'s (`Min`'s) VJP scatters to, ties and NaN chosen the same way
/// (`selectAlongAxis`). M is piecewise constant in x: its derivative is 0 wherever it exists
/// (everywhere but at ties), so no gradient passes through it and its tangent is 0. This is
/// why x̄ = M ⊙ ȳ differentiates again correctly: ∂x̄/∂x = 0, ∂x̄/∂ȳ = M.
struct ExtremumMask: DifferentiableOperation {
  /// The axis of the max or min (non-negative).
  let axis: Int
  /// Whether the positions are the maxima (`Max`) or the minima (`Min`).
  let ofMaximum: Bool
  var name: String { "\(ofMaximum ? "argmax" : "argmin")Mask(axis: \(axis))" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    _ = try shapeAlongAxis(operands[0], op: name, axis: axis, keepingDimension: true)
    return operands[0].shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    let chosen =
      ofMaximum
      ? selectAlongAxis(x, axis: axis, keepingDimension: true) { $0 > $1 }
      : selectAlongAxis(x, axis: axis, keepingDimension: true) { $0 < $1 }
    var mask = Tensor<Scalar>.zeros(x.shape)
    for offset in chosen.offsets { mask.scalars[offset] = 1 }
    return mask
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [Tensor.zeros(inputs[0].shape)]
  }

  /// None: the mask is piecewise constant (derivative 0 away from ties).
  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [nil]
  }

  /// Ṁ = 0.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    Tensor.zeros(output.shape)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "0" }
}
