/// Forward mode for the element-wise ops: their JVPs from the same scalar rules as their VJPs.
///
/// For an element-wise op the Jacobian is diagonal (per operand), so the JVP multiplies each
/// tangent element by the same local derivative the VJP multiplies ȳ by: ẏ = f′(x)·ẋ where
/// x̄ = f′(x)·ȳ. Both are therefore formed by the op's one careful scalar rule
/// (`inputGradient`, `inputGradients`) — with ẋ in place of ȳ — so a rule that avoids an
/// overflow (log's ȳ/x, divide's −ȳ·y/b) does so in both modes, and there is one place per rule.
/// The other ops write their JVP in their own file, next to their VJP.

extension UnaryElementwise {
  /// ẏ = f′(x)·ẋ element by element, formed as `inputGradient(x:y:gradient: ẋ)`: the VJP's
  /// own scalar rule, with the tangent in place of ȳ (the Jacobian is diagonal, so the JVP
  /// and the VJP multiply by the same numbers). A `nil` tangent gives zeros.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let x = inputs[0].scalars
    let y = output.scalars
    let t = tangent.scalars
    var result = [Scalar](repeating: 0, count: x.count)
    for i in 0..<x.count { result[i] = inputGradient(x: x[i], y: y[i], gradient: t[i]) }
    return Tensor(shape: output.shape, scalars: result)
  }
}

extension BinaryElementwise {
  /// ẏ = ∂y/∂a · ȧ + ∂y/∂b · ḃ element by element, each tangent broadcast to the output
  /// shape first (an operand of shape [4] in a [3, 4] output moves every row alike). Each
  /// term is the VJP's scalar rule `inputGradients` with that tangent in place of ȳ; a `nil`
  /// tangent contributes nothing.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let a = inputs[0].broadcasted(to: output.shape).scalars
    let b = inputs[1].broadcasted(to: output.shape).scalars
    let y = output.scalars
    let tangentA = tangents[0]?.broadcasted(to: output.shape).scalars
    let tangentB = tangents[1]?.broadcasted(to: output.shape).scalars
    var result = [Scalar](repeating: 0, count: y.count)
    for i in 0..<y.count {
      var sum: Scalar = 0
      if let tangentA { sum += inputGradients(a[i], b[i], y: y[i], gradient: tangentA[i]).0 }
      if let tangentB { sum += inputGradients(a[i], b[i], y: y[i], gradient: tangentB[i]).1 }
      result[i] = sum
    }
    return Tensor(shape: output.shape, scalars: result)
  }
}

/// The tangents of a linear op's operands with `nil` (zero) replaced by zeros of each
/// operand's shape, for the ops whose JVP is the op itself applied to the tangents.
func filledTangents<Scalar: TensorScalar>(
  _ tangents: [Tensor<Scalar>?], like inputs: [Tensor<Scalar>]
) -> [Tensor<Scalar>] {
  zip(tangents, inputs).map { tangent, input in tangent ?? Tensor.zeros(input.shape) }
}
