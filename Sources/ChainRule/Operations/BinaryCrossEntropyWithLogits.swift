/// Binary cross-entropy of σ(z) against targets y, computed from the logits z, stably.
///
/// L = (1/n) Σᵢ ℓ(zᵢ, yᵢ) with ℓ = −[y log σ(z) + (1 − y) log(1 − σ(z))], evaluated as
/// ℓ = max(z, 0) − z·y + log1p(e^−|z|), which never overflows and keeps full precision for
/// large |z| (no 1/n with `.sum`).
/// ∂ℓ/∂z = σ(z) − y — the course's "a − y" for a sigmoid output with cross-entropy;
/// ∂ℓ/∂y = −z.  VJP: z̄ = L̄ · (σ(z) − y)/n;  ȳ = −L̄ · z/n.
public struct BinaryCrossEntropyWithLogits: CatalogedOperation {
  /// Mean (default) or sum over the elements.
  public let reduction: LossReduction
  public var name: String { "binaryCrossEntropyWithLogits" }
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try requireSameShape(operands, op: name)
    return []
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (z, y) = (inputs[0].scalars, inputs[1].scalars)
    var total: Scalar = 0
    for i in z.indices {
      total += max(z[i], 0) - z[i] * y[i] + Scalar.log1p(Scalar.exp(-abs(z[i])))
    }
    return Tensor(total * reduction.factor(z.count))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (z, y) = (inputs[0].scalars, inputs[1].scalars)
    let scale = gradient.scalar * reduction.factor(z.count)
    let sigmoid = Sigmoid()
    var gradientZ = [Scalar](repeating: 0, count: z.count)
    var gradientY = [Scalar](repeating: 0, count: z.count)
    for i in z.indices {
      gradientZ[i] = scale * (sigmoid.apply(z[i]) - y[i])
      gradientY[i] = -scale * z[i]
    }
    return [
      Tensor(shape: inputs[0].shape, scalars: gradientZ),
      Tensor(shape: inputs[1].shape, scalars: gradientY),
    ]
  }

  // The training path: one pass over the buffers, specialised for Float and Double.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    var total: Scalar = 0
    inputs[0].scalars.withUnsafeBufferPointer { z in
      inputs[1].scalars.withUnsafeBufferPointer { y in
        for i in 0..<z.count {
          total += max(z[i], 0) - z[i] * y[i] + Scalar.log1p(Scalar.exp(-abs(z[i])))
        }
      }
    }
    output[] = total * reduction.factor(inputs[0].count)
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    let scale = gradient.scalar * reduction.factor(inputs[0].count)
    let sigmoid = Sigmoid()
    inputs[0].scalars.withUnsafeBufferPointer { z in
      inputs[1].scalars.withUnsafeBufferPointer { y in
        if needs[0] {
          gradients[0].withUnsafeMutableBufferPointer { dz in
            for i in 0..<z.count { dz[i] += scale * (sigmoid.apply(z[i]) - y[i]) }
          }
        }
        if needs[1] {
          gradients[1].withUnsafeMutableBufferPointer { dy in
            for i in 0..<z.count { dy[i] += -scale * z[i] }
          }
        }
      }
    }
  }

  /// ∂L/∂z = (σ(z) − y)/n, i.e. "a − y" with a = σ(z); ∂L/∂y = −z/n.
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let n = reduction.formulaSuffix
    return input == 0
      ? "(σ(\(operands[0])) − \(operands[1]))\(n)" : "−\(operands[0])\(n)"
  }

  public static let checks = [
    OperationCheck("logits [4, 1] vs soft targets σ(t)", [[4, 1], [4, 1]]) { _, x in
      x[0].binaryCrossEntropyWithLogits(x[1].sigmoid())
    },
    OperationCheck("sum reduction, [2, 3]", [[2, 3], [2, 3]]) { _, x in
      x[0].binaryCrossEntropyWithLogits(x[1].sigmoid(), reduction: .sum)
    },
  ]
}

extension Node {
  /// Binary cross-entropy of σ(self) against `target` (same shape), from the logits `self`:
  /// mean(max(z, 0) − z·y + log1p(e^−|z|)); gradient (σ(z) − y)/n.
  public func binaryCrossEntropyWithLogits(
    _ target: Node, reduction: LossReduction = .mean
  ) -> Node {
    graph.apply(BinaryCrossEntropyWithLogits(reduction: reduction), [self, target])
  }
}
