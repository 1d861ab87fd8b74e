/// Cross-entropy of softmax(logits) against integer class labels.
///
/// Logits z: [batch, classes] or [batch, classes, d₁, …] (the class axis is 1, as in
/// PyTorch's `cross_entropy`); labels k: [batch] or [batch, d₁, …] (the logits' shape
/// without the class axis), each a whole number in 0..<classes stored as a scalar (so a graph
/// input can be fed new labels every step). With the stable log-softmax over the class axis
/// ℓ_b·j = z_b·j − m_bj − log Σ_c e^(z_bcj − m_bj) (no NaN for logits of ±1000), one term
/// per position: L_bj = −ℓ_b,k_bj,j, and L = (1/N) Σ_bj L_bj with N = batch · d₁ ⋯ (PyTorch's
/// mean; no 1/N with `.sum`; `.none` returns the terms, in the labels' shape).
/// ∂L/∂z_bcj = s_bj · (softmax(z)_bcj − [c = k_bj]), s_bj = L̄/N (L̄_bj for `.none`); the
/// labels are indices, not differentiable: their gradient is 0. Numerics: as
/// `SoftmaxCrossEntropy` — exact at logits of ±1000; the labelled class's p − 1 has an
/// absolute error of about ε when p ≈ 1, as in PyTorch.
/// - Precondition: every label is a whole number in 0..<classes (checked in `forward`).
public struct SparseSoftmaxCrossEntropy: CatalogedOperation {
  /// Mean (default) or sum over the terms, or none (one loss per label).
  public let reduction: LossReduction
  public var name: String { "sparseSoftmaxCrossEntropy" }
  /// The loss, averaged over the elements (`.mean`) or summed (`.sum`).
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (logits, labels) = (operands[0], operands[1])
    guard logits.shape.count >= 2, logits.shape[1] > 0 else {
      throw ShapeError.invalid(op: name, logits, "must be [batch, classes] or [batch, classes, …]")
    }
    let expected = classTermShape(logits.shape)
    guard labels.shape == expected else {
      throw ShapeError(
        "\(name): labels \(labels.text) must be \(expected), one class index per "
          + (logits.shape.count == 2 ? "row" : "position") + " of logits \(logits.text)")
    }
    return reduction.outputShape(terms: expected)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let logProbabilities = LogSoftmax(axis: 1).forward([inputs[0]]).scalars
    let classes = classIndices(inputs[1], classCount: inputs[0].shape[1])
    var terms = [Scalar](repeating: 0, count: classes.count)
    var total: Scalar = 0
    for (term, slice) in AxisSlices(inputs[0].shape, axis: 1).enumerated() {
      let logProbability = logProbabilities[slice.start + classes[term] * slice.stride]
      terms[term] = -logProbability
      total -= logProbability
    }
    guard reduction != .none else { return Tensor(shape: inputs[1].shape, scalars: terms) }
    return Tensor(total * reduction.factor(classes.count))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var result = Softmax(axis: 1).forward([inputs[0]])
    let classes = classIndices(inputs[1], classCount: inputs[0].shape[1])
    let scales = reduction.termScales(gradient, count: classes.count)
    let slices = AxisSlices(inputs[0].shape, axis: 1)
    result.withUnsafeMutableBufferPointer { g in
      for (term, slice) in slices.enumerated() {
        g[slice.start + classes[term] * slice.stride] -= 1
        for i in slice.offsets { g[i] *= scales[term] }
      }
    }
    return [result, Tensor.zeros(inputs[1].shape)]
  }

  /// z̄ = s·(softmax(z) − onehot(k)) with s = L̄/N (L̄ with a class axis of 1 for `.none`),
  /// the one-hot vectors gathered from an identity matrix (a constant of the class count, not
  /// of any value) and, past rank 2, their class axis moved to 1; the labels: none.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil, nil] }
    let (z, labels) = (inputs[0], inputs[1])
    let (classes, rank) = (z.shape[1], z.shape.count)
    var identity = Tensor<Scalar>.zeros([classes, classes])
    for c in 0..<classes { identity.scalars[c * classes + c] = 1 }
    var oneHot = gradient.graph.constant(identity).gather(labels)  // [batch, d…, classes]
    if rank > 2 { oneHot = oneHot.permuted([0, rank - 1] + Array(1..<rank - 1)) }
    let s =
      reduction == .none
      ? gradient.reshaped(keptClassShape(z.shape))
      : gradient * reduction.factor(labels.shape.reduce(1, *))
    return [s * (z.softmax(alongAxis: classAxis(rank: rank)) - oneHot), nil]
  }

  // The training path: position by position (row by row for [batch, classes]), with the same
  // stable log-sum-exp (`shiftedLogSumExp`) and the same arithmetic as the reference path,
  // but no temporaries.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    let (z, labels) = (inputs[0].scalars, inputs[1].scalars)
    let (width, inner) = (inputs[0].shape[1], inputs[0].shape[2...].reduce(1, *))
    let perTerm = reduction == .none
    var total: Scalar = 0
    output.withUnsafeMutableBufferPointer { y in
      for term in 0..<labels.count {
        let (o, j) = term.quotientAndRemainder(dividingBy: inner)
        let start = o * width * inner + j
        let label = classIndex(labels[term], position: term, classCount: width)
        let (m, logSum) = shiftedLogSumExp(z, start: start, width: width, stride: inner)
        let logProbability = (z[start + label * inner] - m) - logSum
        if perTerm { y[term] = -logProbability } else { total -= logProbability }
      }
    }
    if !perTerm { output[] = total * reduction.factor(labels.count) }
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }  // the labels are indices: no gradient
    let (z, labels) = (inputs[0].scalars, inputs[1].scalars)
    let (width, inner) = (inputs[0].shape[1], inputs[0].shape[2...].reduce(1, *))
    let perTerm = reduction == .none
    let scale = perTerm ? 1 : gradient.scalar * reduction.factor(labels.count)
    gradients[0].withUnsafeMutableBufferPointer { dz in
      for term in 0..<labels.count {
        let (o, j) = term.quotientAndRemainder(dividingBy: inner)
        let start = o * width * inner + j
        let label = classIndex(labels[term], position: term, classCount: width)
        let (m, logSum) = shiftedLogSumExp(z, start: start, width: width, stride: inner)
        let s = perTerm ? gradient.scalars[term] : scale
        for c in 0..<width {
          let probability = Scalar.exp((z[start + c * inner] - m) - logSum)
          dz[start + c * inner] += s * (probability - (c == label ? 1 : 0))
        }
      }
    }
  }

  /// L̇_bj = Σ_c ż_bcj · (softmax(z)_bcj − [c = k_bj]), reduced as the loss is; the labels'
  /// tangent is ignored (they are indices, not differentiable).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let probabilities = Softmax(axis: 1).forward([inputs[0]]).scalars
    let classes = classIndices(inputs[1], classCount: inputs[0].shape[1])
    var terms = [Scalar](repeating: 0, count: classes.count)
    for (term, slice) in AxisSlices(inputs[0].shape, axis: 1).enumerated() {
      for (c, i) in slice.offsets.enumerated() {
        terms[term] += tangent.scalars[i] * (probabilities[i] - (c == classes[term] ? 1 : 0))
      }
    }
    return reducedTerms(terms, shape: inputs[1].shape, reduction)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let n = reduction.formulaSuffix
    return input == 0 ? "(softmax(\(operands[0])) − onehot(\(operands[1])))\(n)" : "0"
  }

  public static let checks = [
    OperationCheck("logits [3, 4], labels [2, 0, 3]", [[3, 4]]) { graph, x in
      x[0].softmaxCrossEntropy(labels: graph.constant(Tensor([2, 0, 3])))
    },
    OperationCheck("sum reduction, logits [2, 5]", [[2, 5]]) { graph, x in
      x[0].softmaxCrossEntropy(labels: graph.constant(Tensor([4, 1])), reduction: .sum)
    },
    OperationCheck("no reduction, logits [3, 4]", [[3, 4]]) { graph, x in
      x[0].softmaxCrossEntropy(labels: graph.constant(Tensor([1, 3, 0])), reduction: .none)
    },
    OperationCheck("logits [2, 3, 2] (classes on axis 1), labels [2, 2]", [[2, 3, 2]]) {
      graph, x in x[0].softmaxCrossEntropy(labels: graph.constant(Tensor([[2, 0], [1, 1]])))
    },
    OperationCheck("logits [2, 3, 2, 2], labels [2, 2, 2], none", [[2, 3, 2, 2]]) { graph, x in
      x[0].softmaxCrossEntropy(
        labels: graph.constant(Tensor([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])), reduction: .none)
    },
  ]

  private func classIndices<Scalar: TensorScalar>(
    _ labels: Tensor<Scalar>, classCount: Int
  ) -> [Int] {
    labels.scalars.enumerated().map { position, label in
      classIndex(label, position: position, classCount: classCount)
    }
  }

  /// A label as a class index. - Precondition: a whole number in 0..<classCount.
  @inline(__always)
  private func classIndex<Scalar: TensorScalar>(
    _ label: Scalar, position: Int, classCount: Int
  ) -> Int {
    require(
      label >= 0 && label < Scalar(classCount) && label.rounded() == label,
      "\(name): label \(label) in row \(position) is not a class index in 0..<\(classCount)")
    return Int(label)
  }
}

extension Node {
  /// Cross-entropy of softmax(self) (logits [batch, classes] or [batch, classes, d₁, …], the
  /// classes on axis 1 as in PyTorch) against class indices `labels` ([batch] or
  /// [batch, d₁, …]): −(1/N) Σ logSoftmax(self)[b, labels[b, j], j], N the label count;
  /// `.none` gives one loss per label.
  public func softmaxCrossEntropy(labels: Node, reduction: LossReduction = .mean) -> Node {
    graph.apply(SparseSoftmaxCrossEntropy(reduction: reduction), [self, labels])
  }
}
