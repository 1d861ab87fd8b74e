/// Matrix products over a batch, with broadcasting batch dimensions (`torch.matmul` for
/// operands of rank ≥ 3, or one of rank 2 against one of rank ≥ 3).
///
/// A: [..., m, k], B: [..., k, n]; the leading (batch) axes broadcast like NumPy and
/// Y: [batch..., m, n] with Y[b] = A[b] · B[b] for every batch index b.
/// Ā[b] = Σ Ȳ[b′] · B[b′]ᵀ and B̄[b] = Σ A[b′]ᵀ · Ȳ[b′], each sum over the output batch indices
/// b′ that read that matrix (one, unless the operand was broadcast): the sum-back of
/// broadcasting, done by accumulating each product into the matrix it came from.
/// Each matrix product is one call of the GEMM kernel (β = 1 to accumulate), the transposes
/// read in place; two rank-2 operands take `MatMul` instead (`Node.matmul` chooses).
/// Numerics: as `MatMul`, per matrix.
public struct BatchedMatMul: CatalogedOperation {
  public var name: String { "batchedMatmul" }
  /// The op; it has no settings.
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (a, b) = (operands[0], operands[1])
    for operand in [a, b] where operand.shape.count < 2 {
      throw ShapeError.invalid(
        op: name, operand, "is not a batch of matrices (rank \(operand.shape.count), needs ≥ 2)")
    }
    guard a.shape[a.shape.count - 1] == b.shape[b.shape.count - 2] else {
      throw ShapeError.matmul(a, b)
    }
    guard let batch = Broadcast.shape(a.shape.dropLast(2), b.shape.dropLast(2)) else {
      throw ShapeError(
        "\(name): the batch axes of \(a.text) and \(b.text) do not broadcast")
    }
    return batch + [a.shape[a.shape.count - 2], b.shape[b.shape.count - 1]]
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let shape = try! outputShape(inputs.map { ShapeError.Operand(name: "", shape: $0.shape) })
    var output = Tensor<Scalar>.zeros(shape)
    forward(inputs, into: &output)
    return output
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var gradients = inputs.map { Tensor<Scalar>.zeros($0.shape) }
    accumulateVJP(
      inputs, output: output, gradient: gradient, into: &gradients, needs: [true, true])
    return gradients
  }

  /// Ā = Ȳ · Bᵀ, B̄ = Aᵀ · Ȳ as batched products on the last two axes swapped; each share has
  /// the output's batch shape, and the graph sums it back over the broadcast batch axes.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [
      needs[0] ? gradient.matmul(inputs[1].transposed(-1, -2)) : nil,
      needs[1] ? inputs[0].transposed(-1, -2).matmul(gradient) : nil,
    ]
  }

  // The training path: one GEMM per output matrix, written into reused storage; gradients
  // accumulated by GEMM (β = 1) into the matrix of the operand each product came from.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    let plan = BatchPlan(inputs[0].shape, inputs[1].shape, output.shape)
    guard plan.count > 0, plan.m > 0, plan.n > 0 else { return }
    guard plan.k > 0 else {
      output.fill(with: 0)
      return
    }
    let (m, n, k) = (plan.m, plan.n, plan.k)
    inputs[0].scalars.withUnsafeBufferPointer { a in
      inputs[1].scalars.withUnsafeBufferPointer { b in
        output.withUnsafeMutableBufferPointer { y in
          for t in 0..<plan.count {  // Y[t] = A[t] · B[t]
            Scalar.gemm(
              transposeA: false, transposeB: false, m: m, n: n, k: k,
              a: a.baseAddress! + plan.a[t] * m * k, lda: k,
              b: b.baseAddress! + plan.b[t] * k * n, ldb: n, accumulate: false,
              c: y.baseAddress! + t * m * n, ldc: n)
          }
        }
      }
    }
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    let plan = BatchPlan(inputs[0].shape, inputs[1].shape, output.shape)
    let (m, n, k) = (plan.m, plan.n, plan.k)
    guard plan.count > 0, m > 0, n > 0, k > 0 else { return }
    inputs[0].scalars.withUnsafeBufferPointer { a in
      inputs[1].scalars.withUnsafeBufferPointer { b in
        gradient.scalars.withUnsafeBufferPointer { g in
          if needs[0] {
            gradients[0].withUnsafeMutableBufferPointer { ga in
              for t in 0..<plan.count {  // Ā[a(t)] += Ȳ[t] · B[b(t)]ᵀ
                Scalar.gemm(
                  transposeA: false, transposeB: true, m: m, n: k, k: n,
                  a: g.baseAddress! + t * m * n, lda: n,
                  b: b.baseAddress! + plan.b[t] * k * n, ldb: n, accumulate: true,
                  c: ga.baseAddress! + plan.a[t] * m * k, ldc: k)
              }
            }
          }
          if needs[1] {
            gradients[1].withUnsafeMutableBufferPointer { gb in
              for t in 0..<plan.count {  // B̄[b(t)] += A[a(t)]ᵀ · Ȳ[t]
                Scalar.gemm(
                  transposeA: true, transposeB: false, m: k, n: n, k: m,
                  a: a.baseAddress! + plan.a[t] * m * k, lda: k,
                  b: g.baseAddress! + t * m * n, ldb: n, accumulate: true,
                  c: gb.baseAddress! + plan.b[t] * k * n, ldc: n)
              }
            }
          }
        }
      }
    }
  }

  /// Ẏ = Ȧ · B + A · Ḃ (the product rule), batch by batch.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    var result = Tensor<Scalar>.zeros(output.shape)
    if let tangentA = tangents[0] { result += forward([tangentA, inputs[1]]) }
    if let tangentB = tangents[1] { result += forward([inputs[0], tangentB]) }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "ȳ·\(operands[1])ᵀ" : "\(operands[0])ᵀ·ȳ"
  }

  public static let checks = [
    OperationCheck("[2, 3, 4] · [2, 4, 2]", [[2, 3, 4], [2, 4, 2]]) { _, x in x[0].matmul(x[1]) },
    OperationCheck("broadcast [2, 1, 2, 3] · [3, 3, 2]", [[2, 1, 2, 3], [3, 3, 2]]) { _, x in
      x[0].matmul(x[1])
    },
    OperationCheck("matrix [3, 4] · batch [2, 4, 2]", [[3, 4], [2, 4, 2]]) { _, x in
      x[0].matmul(x[1])
    },
    OperationCheck("batch [2, 2, 3] · matrix [3, 2]", [[2, 2, 3], [3, 2]]) { _, x in
      x[0].matmul(x[1])
    },
    OperationCheck("fan-out X · X, [2, 3, 3]", [[2, 3, 3]]) { _, x in x[0].matmul(x[0]) },
  ]
}

/// Which matrix of each operand every output matrix of a batched product reads.
struct BatchPlan {
  let m: Int
  let n: Int
  let k: Int
  /// Per output matrix t (row-major over the batch axes): the index of A's and B's matrix.
  let a: [Int]
  let b: [Int]
  var count: Int { a.count }

  init(_ shapeA: [Int], _ shapeB: [Int], _ outputShape: [Int]) {
    m = shapeA[shapeA.count - 2]
    k = shapeA[shapeA.count - 1]
    n = shapeB[shapeB.count - 1]
    let batch = Array(outputShape.dropLast(2))
    a = Self.matrixIndices(Array(shapeA.dropLast(2)), in: batch)
    b = Self.matrixIndices(Array(shapeB.dropLast(2)), in: batch)
  }

  /// For each batch index of `batch` in row-major order, the matrix an operand with batch
  /// shape `shape` (broadcast to `batch`) holds there.
  static func matrixIndices(_ shape: [Int], in batch: [Int]) -> [Int] {
    let count = batch.reduce(1, *)
    guard !batch.isEmpty else { return [0] }
    let strides = Broadcast.strides(of: shape, in: batch)
    var result = [Int](repeating: 0, count: count)
    var index = [Int](repeating: 0, count: batch.count)
    var offset = 0
    for t in 0..<count {
      result[t] = offset
      var axis = batch.count - 1
      while axis >= 0 {
        index[axis] += 1
        offset += strides[axis]
        if index[axis] < batch[axis] { break }
        offset -= strides[axis] * batch[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }
}
