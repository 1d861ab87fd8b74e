/// Matrix product of two rank-2 tensors.
///
/// Y = A · B with A: [m, k], B: [k, n], Y: [m, n];  Ā = Ȳ · Bᵀ, B̄ = Aᵀ · Ȳ.
/// The transposes are read in place by the GEMM kernel, never copied.
/// Numerics: plain sums of products in the kernel's order (error ≤ k·ε·Σ|aᵢ bᵢ| per
/// element), no rescaling: a partial sum beyond the range overflows, as in BLAS and PyTorch.
public struct MatMul: CatalogedOperation {
  public var name: String { "matmul" }
  /// The op; it has no settings.
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (a, b) = (operands[0], operands[1])
    for operand in [a, b] where operand.shape.count != 2 {
      throw ShapeError.invalid(
        op: name, operand, "is not a matrix (rank \(operand.shape.count), needs 2)")
    }
    guard a.shape[1] == b.shape[0] else { throw ShapeError.matmul(a, b) }
    return [a.shape[0], b.shape[1]]
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    inputs[0].matmul(inputs[1])
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [
      gradient.matmul(inputs[1], transposeOther: true),
      inputs[0].matmul(gradient, transposeSelf: true),
    ]
  }

  /// Ā = Ȳ · Bᵀ, B̄ = Aᵀ · Ȳ, with transpose nodes.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [
      needs[0] ? gradient.matmul(inputs[1].transposed()) : nil,
      needs[1] ? inputs[0].transposed().matmul(gradient) : nil,
    ]
  }

  // The training path: products written into reused storage, gradients accumulated by GEMM
  // (β = 1) directly into the operands' buffers.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    inputs[0].matmul(inputs[1], into: &output)
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    if needs[0] {  // Ā += Ȳ · Bᵀ
      gradient.matmul(inputs[1], transposeOther: true, into: &gradients[0], accumulating: true)
    }
    if needs[1] {  // B̄ += Aᵀ · Ȳ
      inputs[0].matmul(gradient, transposeSelf: true, into: &gradients[1], accumulating: true)
    }
  }

  /// Ẏ = Ȧ · B + A · Ḃ (the product rule), each term one GEMM accumulated into Ẏ.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    var result = Tensor<Scalar>.zeros(output.shape)
    if let tangentA = tangents[0] { tangentA.matmul(inputs[1], into: &result, accumulating: true) }
    if let tangentB = tangents[1] { inputs[0].matmul(tangentB, into: &result, accumulating: true) }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "ȳ·\(operands[1])ᵀ" : "\(operands[0])ᵀ·ȳ"
  }

  public static let checks = [
    OperationCheck("[3, 4] · [4, 2]", [[3, 4], [4, 2]]) { _, x in x[0].matmul(x[1]) },
    OperationCheck("row vector [1, 3] · [3, 1]", [[1, 3], [3, 1]]) { _, x in x[0].matmul(x[1]) },
    OperationCheck("fan-out X · X", [[3, 3]]) { _, x in x[0].matmul(x[0]) },
  ]
}

extension Node {
  /// Matrix product `self · other` with `torch.matmul`'s semantics: two matrices take
  /// `MatMul` (the GEMM, unchanged); operands of rank ≥ 3, or a matrix against a batch, take
  /// `BatchedMatMul`, whose batch axes broadcast; a vector (rank 1) operand is promoted to a
  /// matrix — [k] to [1, k] on the left, [k, 1] on the right — and the added axis removed
  /// from the result (`Reshape` nodes), so vector · vector is their dot product (rank 0).
  /// A rank-0 operand is an error.
  public func matmul(_ other: Node) -> Node {
    let (rankA, rankB) = (shape.count, other.shape.count)
    // A failed op's placeholder (shape [0], inside `throwingShapeErrors`) is no vector.
    let placeholder = graph.record(id).isPlaceholder || other.graph.record(other.id).isPlaceholder
    if placeholder || rankA == 2 && rankB == 2 || rankA == 0 || rankB == 0 {
      return graph.apply(MatMul(), [self, other])
    }
    if rankA == 1 || rankB == 1 {
      let a = rankA == 1 ? reshaped([1] + shape) : self
      let b = rankB == 1 ? other.reshaped(other.shape + [1]) : other
      let product = a.matmul(b)
      guard product.shape.count >= 2 else { return product }  // a placeholder again
      var result = product.shape
      if rankB == 1 { result.removeLast() }
      if rankA == 1 { result.remove(at: result.count - (rankB == 1 ? 1 : 2)) }
      return product.reshaped(result)
    }
    return graph.apply(BatchedMatMul(), [self, other])
  }
}

extension Graph {
  /// Matrix product `a · b` (`Node.matmul`: rank-2 GEMM, batched, or with vectors promoted).
  public func matmul(_ a: Node<Scalar>, _ b: Node<Scalar>) -> Node<Scalar> { a.matmul(b) }
}
