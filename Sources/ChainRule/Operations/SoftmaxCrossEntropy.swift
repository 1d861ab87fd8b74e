/// Cross-entropy of softmax(logits) against target distributions (one-hot or soft labels).
///
/// Logits z: [batch, classes], targets t: [batch, classes]. With log-softmax
/// ℓ_b = z_b − m_b − log Σ_c e^(z_bc − m_b) (m_b the row maximum, so no exponent is positive
/// and logits of ±1000 give no NaN):
/// L = −(1/B) Σ_b Σ_c t_bc ℓ_bc (no 1/B with `.sum`).
/// ∂L/∂z_bc = (softmax(z)_bc · Σ_k t_bk − t_bc)/B, which is (softmax − t)/B for one-hot rows;
/// ∂L/∂t_bc = −ℓ_bc/B. Fused rather than log-softmax → multiply → sum so that the gradient is
/// the well-conditioned softmax − t.
///
/// Numerics: logits of ±1000 and probabilities that underflow are exact here (a target of 0
/// skips its log-probability, so −∞ · 0 never happens). As in PyTorch and JAX, softmax − t
/// for the target class of a confident row (p ≈ 1) carries an absolute error of about ε:
/// its relative error grows like ε/(1 − p), and it is 0 once p rounds to 1.
public struct SoftmaxCrossEntropy: CatalogedOperation {
  /// Mean (default) or sum over the batch.
  public let reduction: LossReduction
  public var name: String { "softmaxCrossEntropy" }
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let logits = operands[0]
    guard logits.shape.count == 2, logits.shape[1] > 0 else {
      throw ShapeError.invalid(op: name, logits, "must be [batch, classes]")
    }
    try requireSameShape(operands, op: name)
    return []
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let logProbabilities = LogSoftmax().forward([inputs[0]]).scalars
    let t = inputs[1].scalars
    var total: Scalar = 0
    for i in t.indices where t[i] != 0 { total -= t[i] * logProbabilities[i] }
    return Tensor(total * reduction.factor(inputs[0].shape[0]))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let logProbabilities = LogSoftmax().forward([inputs[0]]).scalars
    let t = inputs[1].scalars
    let width = inputs[0].shape[1]
    let scale = gradient.scalar * reduction.factor(inputs[0].shape[0])
    var gradientZ = [Scalar](repeating: 0, count: t.count)
    var gradientT = [Scalar](repeating: 0, count: t.count)
    for start in stride(from: 0, to: t.count, by: width) {
      var targetSum: Scalar = 0
      for i in start..<start + width { targetSum += t[i] }
      for i in start..<start + width {
        gradientZ[i] = scale * (Scalar.exp(logProbabilities[i]) * targetSum - t[i])
        gradientT[i] = -scale * logProbabilities[i]
      }
    }
    return [
      Tensor(shape: inputs[0].shape, scalars: gradientZ),
      Tensor(shape: inputs[1].shape, scalars: gradientT),
    ]
  }

  /// z̄ = s·(softmax(z)·Σ_k t_k − t) per row, t̄ = −s·logSoftmax(z), with s = L̄/B.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (z, t) = (inputs[0], inputs[1])
    let s = gradient * reduction.factor(z.shape[0])
    let targetSums = t.sum(alongAxis: 1).reshaped([z.shape[0], 1])
    return [
      needs[0] ? s * (z.softmax() * targetSums - t) : nil,
      needs[1] ? -s * z.logSoftmax() : nil,
    ]
  }

  /// L̇ = Σ_b Σ_c [ż_bc · (softmax(z)_bc · Σ_k t_bk − t_bc) − ṫ_bc · ℓ_bc] / B: the VJP's two
  /// factors dotted with the tangents.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let logProbabilities = LogSoftmax().forward([inputs[0]]).scalars
    let t = inputs[1].scalars
    let (tangentZ, tangentT) = (tangents[0]?.scalars, tangents[1]?.scalars)
    let width = inputs[0].shape[1]
    var total: Scalar = 0
    for start in stride(from: 0, to: t.count, by: width) {
      var targetSum: Scalar = 0
      for i in start..<start + width { targetSum += t[i] }
      for i in start..<start + width {
        if let tangentZ {
          total += tangentZ[i] * (Scalar.exp(logProbabilities[i]) * targetSum - t[i])
        }
        if let tangentT { total -= tangentT[i] * logProbabilities[i] }
      }
    }
    return Tensor(total * reduction.factor(inputs[0].shape[0]))
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let n = reduction.formulaSuffix
    return input == 0
      ? "(softmax(\(operands[0])) − \(operands[1]))\(n)"
      : "−logSoftmax(\(operands[0]))\(n)"
  }

  public static let checks = [
    OperationCheck("logits [3, 4] vs softmax(t)", [[3, 4], [3, 4]]) { _, x in
      x[0].softmaxCrossEntropy(targets: x[1].softmax())
    },
    OperationCheck("sum reduction vs one-hot [2, 3]", [[2, 3]]) { graph, x in
      x[0].softmaxCrossEntropy(
        targets: graph.constant(Tensor([[0, 1, 0], [1, 0, 0]])), reduction: .sum)
    },
  ]
}

extension Node {
  /// Cross-entropy of softmax(self) (logits [batch, classes]) against `targets` of the same
  /// shape (one-hot rows or probabilities): −(1/B) Σ targets ⊙ logSoftmax(self).
  public func softmaxCrossEntropy(targets: Node, reduction: LossReduction = .mean) -> Node {
    graph.apply(SoftmaxCrossEntropy(reduction: reduction), [self, targets])
  }
}
