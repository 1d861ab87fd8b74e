/// Cross-entropy of softmax(logits) against target distributions (one-hot or soft labels).
///
/// Logits z: [batch, classes] or [batch, classes, d₁, …] (the class axis is 1, as in
/// PyTorch's `cross_entropy`), targets t of the same shape. With the log-softmax over the
/// class axis ℓ_b·j = z_b·j − m_bj − log Σ_c e^(z_bcj − m_bj) (m_bj the maximum over the
/// classes, so no exponent is positive and logits of ±1000 give no NaN), one term per
/// position (b, j): L_bj = −Σ_c t_bcj ℓ_bcj, and
/// L = (1/N) Σ_bj L_bj with N = batch · d₁ ⋯ (the number of terms, PyTorch's mean; no 1/N
/// with `.sum`; `.none` returns the terms, shape [batch, d₁, …]).
/// ∂L/∂z_bcj = s_bj · (softmax(z)_bcj · Σ_k t_bkj − t_bcj), which is s·(softmax − t) for
/// one-hot targets; ∂L/∂t_bcj = −s_bj · ℓ_bcj; s_bj = L̄/N (L̄_bj for `.none`). Fused rather
/// than log-softmax → multiply → sum so that the gradient is the well-conditioned softmax − t.
///
/// Numerics: logits of ±1000 and probabilities that underflow are exact here (a target of 0
/// skips its log-probability, so −∞ · 0 never happens). As in PyTorch and JAX, softmax − t
/// for the target class of a confident row (p ≈ 1) carries an absolute error of about ε:
/// its relative error grows like ε/(1 − p), and it is 0 once p rounds to 1.
public struct SoftmaxCrossEntropy: CatalogedOperation {
  /// Mean (default) or sum over the terms, or none (one loss per position).
  public let reduction: LossReduction
  public var name: String { "softmaxCrossEntropy" }
  /// The loss, averaged over the elements (`.mean`) or summed (`.sum`).
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let logits = operands[0]
    guard logits.shape.count >= 2, logits.shape[1] > 0 else {
      throw ShapeError.invalid(op: name, logits, "must be [batch, classes] or [batch, classes, …]")
    }
    try requireSameShape(operands, op: name)
    return reduction.outputShape(terms: classTermShape(logits.shape))
  }

  /// L_bj = −Σ_c t_bcj ℓ_bcj per position (b, j), in the row-major order of [batch, d₁, …]
  /// for `.none`; otherwise one running sum over every position, times the factor.
  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let logProbabilities = LogSoftmax(axis: 1).forward([inputs[0]]).scalars
    let t = inputs[1].scalars
    let shape = classTermShape(inputs[0].shape)
    if reduction == .none {
      var terms: [Scalar] = []
      for slice in AxisSlices(inputs[0].shape, axis: 1) {
        var term: Scalar = 0
        for i in slice.offsets where t[i] != 0 { term -= t[i] * logProbabilities[i] }
        terms.append(term)
      }
      return Tensor(shape: shape, scalars: terms)
    }
    var total: Scalar = 0
    for slice in AxisSlices(inputs[0].shape, axis: 1) {
      for i in slice.offsets where t[i] != 0 { total -= t[i] * logProbabilities[i] }
    }
    return Tensor(total * reduction.factor(shape.reduce(1, *)))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let logProbabilities = LogSoftmax(axis: 1).forward([inputs[0]]).scalars
    let t = inputs[1].scalars
    let slices = AxisSlices(inputs[0].shape, axis: 1)
    let scales = reduction.termScales(gradient, count: t.count / inputs[0].shape[1])
    var gradientZ = [Scalar](repeating: 0, count: t.count)
    var gradientT = [Scalar](repeating: 0, count: t.count)
    for (term, slice) in slices.enumerated() {
      let scale = scales[term]
      var targetSum: Scalar = 0
      for i in slice.offsets { targetSum += t[i] }
      for i in slice.offsets {
        gradientZ[i] = scale * (Scalar.exp(logProbabilities[i]) * targetSum - t[i])
        gradientT[i] = -scale * logProbabilities[i]
      }
    }
    return [
      Tensor(shape: inputs[0].shape, scalars: gradientZ),
      Tensor(shape: inputs[1].shape, scalars: gradientT),
    ]
  }

  /// z̄ = s·(softmax(z)·Σ_k t_k − t) per position, t̄ = −s·logSoftmax(z), the softmaxes and
  /// the sum over the class axis, with s = L̄/N (L̄ with a class axis of 1 for `.none`).
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (z, t) = (inputs[0], inputs[1])
    let axis = classAxis(rank: z.shape.count)
    let s =
      reduction == .none
      ? gradient.reshaped(keptClassShape(z.shape))
      : gradient * reduction.factor(z.shape.reduce(1, *) / z.shape[1])
    let targetSums = t.sum(alongAxis: 1, keepingDimension: true)
    return [
      needs[0] ? s * (z.softmax(alongAxis: axis) * targetSums - t) : nil,
      needs[1] ? -s * z.logSoftmax(alongAxis: axis) : nil,
    ]
  }

  /// L̇_bj = Σ_c [ż_bcj · (softmax(z)_bcj · Σ_k t_bkj − t_bcj) − ṫ_bcj · ℓ_bcj], reduced as
  /// the loss is: the VJP's two factors dotted with the tangents.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let logProbabilities = LogSoftmax(axis: 1).forward([inputs[0]]).scalars
    let t = inputs[1].scalars
    let (tangentZ, tangentT) = (tangents[0]?.scalars, tangents[1]?.scalars)
    var terms: [Scalar] = []
    for slice in AxisSlices(inputs[0].shape, axis: 1) {
      var targetSum: Scalar = 0
      for i in slice.offsets { targetSum += t[i] }
      var total: Scalar = 0
      for i in slice.offsets {
        if let tangentZ {
          total += tangentZ[i] * (Scalar.exp(logProbabilities[i]) * targetSum - t[i])
        }
        if let tangentT { total -= tangentT[i] * logProbabilities[i] }
      }
      terms.append(total)
    }
    return reducedTerms(terms, shape: classTermShape(inputs[0].shape), reduction)
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
    OperationCheck("no reduction, [3, 4] vs softmax(t)", [[3, 4], [3, 4]]) { _, x in
      x[0].softmaxCrossEntropy(targets: x[1].softmax(), reduction: .none)
    },
    OperationCheck("[2, 3, 2] (classes on axis 1) vs softmax(t)", [[2, 3, 2], [2, 3, 2]]) {
      _, x in x[0].softmaxCrossEntropy(targets: x[1].softmax(alongAxis: 1))
    },
    OperationCheck("[2, 3, 2, 2], no reduction", [[2, 3, 2, 2], [2, 3, 2, 2]]) { _, x in
      x[0].softmaxCrossEntropy(targets: x[1].softmax(alongAxis: 1), reduction: .none)
    },
  ]
}

/// The class axis of a cross-entropy's logits as softmax nodes take it: 1, written −1 for
/// rank 2 so that those nodes are the plain last-axis softmax they always were.
func classAxis(rank: Int) -> Int { rank == 2 ? -1 : 1 }

/// The shape of a cross-entropy's terms: the logits' shape without its class axis 1.
func classTermShape(_ shape: [Int]) -> [Int] {
  var result = shape
  result.remove(at: 1)
  return result
}

/// The logits' shape with a class axis of length 1: a per-position value broadcast over it.
func keptClassShape(_ shape: [Int]) -> [Int] {
  var result = shape
  result[1] = 1
  return result
}

extension Node {
  /// Cross-entropy of softmax(self) (logits [batch, classes] or [batch, classes, d₁, …], the
  /// classes on axis 1 as in PyTorch) against `targets` of the same shape (one-hot or
  /// probabilities along the class axis): −(1/N) Σ targets ⊙ logSoftmax(self), N = batch · d₁ ⋯;
  /// `.none` gives one loss per [batch, d₁, …] position.
  public func softmaxCrossEntropy(targets: Node, reduction: LossReduction = .mean) -> Node {
    graph.apply(SoftmaxCrossEntropy(reduction: reduction), [self, targets])
  }
}
