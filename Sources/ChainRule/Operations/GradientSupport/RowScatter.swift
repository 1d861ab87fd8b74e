/// The adjoint of `Gather`, as a node: a support op of its node-built gradient.
///
/// Operands Ȳ (shape k.shape + row shape) and the indices k; T̄ = zeros [rows, row shape]
/// with T̄[r] = Σ_{p: k_p = r} Ȳ[p] — an index that appears twice receives both rows. Linear in
/// Ȳ, so its VJP is the gather again, Ū = Z̄[k], and its JVP scatters the tangent; the indices
/// are positions, with gradient and tangent 0.
struct RowScatter: DifferentiableOperation {
  /// The table's number of rows.
  let rows: Int
  var name: String { "scatterRows(\(rows))" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (values, indices) = (operands[0], operands[1])
    guard values.shape.starts(with: indices.shape) else {
      throw ShapeError.invalid(
        op: name, values, "must start with the indices' shape \(indices.shape)")
    }
    return [rows] + values.shape.dropFirst(indices.shape.count)
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (values, indices) = (inputs[0], inputs[1])
    let rowShape = Array(values.shape.dropFirst(indices.shape.count))
    let width = rowShape.reduce(1, *)
    var result = Tensor<Scalar>.zeros([rows] + rowShape)
    for (p, index) in indices.scalars.enumerated() {
      require(
        index >= 0 && index < Scalar(rows) && index.rounded() == index,
        "\(name): index \(index) at position \(p) is not a row of the table (0..<\(rows))")
      let row = Int(index)
      for j in 0..<width { result.scalars[row * width + j] += values.scalars[p * width + j] }
    }
    return result
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [Gather().forward([gradient, inputs[1]]), Tensor.zeros(inputs[1].shape)]
  }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.gather(inputs[1]) : nil, nil]
  }

  /// Ż = the tangent of Ȳ scattered: the op is linear in Ȳ (the indices have none).
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0, inputs[1]]) } ?? Tensor.zeros(output.shape)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "[\(operands[1]) = r]" : "0"
  }
}
