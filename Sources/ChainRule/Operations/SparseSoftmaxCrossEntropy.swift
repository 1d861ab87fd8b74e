/// Cross-entropy of softmax(logits) against integer class labels.
///
/// Logits z: [batch, classes]; labels k: [batch], each a whole number in 0..<classes stored
/// as a scalar (so a graph input can be fed new labels every step). With the stable
/// log-softmax ℓ_b = z_b − m_b − log Σ_c e^(z_bc − m_b) (no NaN for logits of ±1000):
/// L = −(1/B) Σ_b ℓ_b,k_b (no 1/B with `.sum`).
/// ∂L/∂z_bc = (softmax(z)_bc − [c = k_b])/B; the labels are indices, not differentiable: their
/// gradient is 0. Numerics: as `SoftmaxCrossEntropy` — exact at logits of ±1000; the
/// labelled class's p − 1 has an absolute error of about ε when p ≈ 1, as in PyTorch.
/// - Precondition: every label is a whole number in 0..<classes (checked in `forward`).
public struct SparseSoftmaxCrossEntropy: CatalogedOperation {
  /// Mean (default) or sum over the batch.
  public let reduction: LossReduction
  public var name: String { "sparseSoftmaxCrossEntropy" }
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (logits, labels) = (operands[0], operands[1])
    guard logits.shape.count == 2, logits.shape[1] > 0 else {
      throw ShapeError.invalid(op: name, logits, "must be [batch, classes]")
    }
    guard labels.shape == [logits.shape[0]] else {
      throw ShapeError(
        "\(name): labels \(labels.text) must be [\(logits.shape[0])], one class index per row"
          + " of logits \(logits.text)")
    }
    return []
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let logProbabilities = LogSoftmax().forward([inputs[0]]).scalars
    let classes = classIndices(inputs[1], classCount: inputs[0].shape[1])
    let width = inputs[0].shape[1]
    var total: Scalar = 0
    for (row, label) in classes.enumerated() { total -= logProbabilities[row * width + label] }
    return Tensor(total * reduction.factor(classes.count))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var result = Softmax().forward([inputs[0]])
    let classes = classIndices(inputs[1], classCount: inputs[0].shape[1])
    let width = inputs[0].shape[1]
    let scale = gradient.scalar * reduction.factor(classes.count)
    result.withUnsafeMutableBufferPointer { g in
      for (row, label) in classes.enumerated() { g[row * width + label] -= 1 }
      for i in g.indices { g[i] *= scale }
    }
    return [result, Tensor.zeros(inputs[1].shape)]
  }

  /// z̄ = s·(softmax(z) − onehot(k)) with s = L̄/B, the one-hot rows gathered from an identity
  /// matrix (a constant of the class count, not of any value); the labels: none.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil, nil] }
    let (z, labels) = (inputs[0], inputs[1])
    let classes = z.shape[1]
    var identity = Tensor<Scalar>.zeros([classes, classes])
    for c in 0..<classes { identity.scalars[c * classes + c] = 1 }
    let oneHot = gradient.graph.constant(identity).gather(labels)
    return [gradient * reduction.factor(z.shape[0]) * (z.softmax() - oneHot), nil]
  }

  // The training path: row by row, with the same stable log-sum-exp (`shiftedLogSumExp`) and
  // the same arithmetic as the reference path, but no temporaries.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    let (z, labels) = (inputs[0].scalars, inputs[1].scalars)
    let (rows, width) = (inputs[0].shape[0], inputs[0].shape[1])
    var total: Scalar = 0
    for row in 0..<rows {
      let label = classIndex(labels[row], row: row, classCount: width)
      let (m, logSum) = shiftedLogSumExp(z, start: row * width, width: width)
      total -= (z[row * width + label] - m) - logSum
    }
    output[] = total * reduction.factor(rows)
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }  // the labels are indices: no gradient
    let (z, labels) = (inputs[0].scalars, inputs[1].scalars)
    let (rows, width) = (inputs[0].shape[0], inputs[0].shape[1])
    let scale = gradient.scalar * reduction.factor(rows)
    gradients[0].withUnsafeMutableBufferPointer { dz in
      for row in 0..<rows {
        let label = classIndex(labels[row], row: row, classCount: width)
        let (m, logSum) = shiftedLogSumExp(z, start: row * width, width: width)
        for c in 0..<width {
          let probability = Scalar.exp((z[row * width + c] - m) - logSum)
          dz[row * width + c] += scale * (probability - (c == label ? 1 : 0))
        }
      }
    }
  }

  /// L̇ = Σ_b Σ_c ż_bc · (softmax(z)_bc − [c = k_b]) / B; the labels' tangent is ignored
  /// (they are indices, not differentiable).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    guard let tangent = tangents[0] else { return Tensor.zeros(output.shape) }
    let probabilities = Softmax().forward([inputs[0]]).scalars
    let classes = classIndices(inputs[1], classCount: inputs[0].shape[1])
    let width = inputs[0].shape[1]
    var total: Scalar = 0
    for (row, label) in classes.enumerated() {
      for c in 0..<width {
        let i = row * width + c
        total += tangent.scalars[i] * (probabilities[i] - (c == label ? 1 : 0))
      }
    }
    return Tensor(total * reduction.factor(classes.count))
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
  ]

  private func classIndices<Scalar: TensorScalar>(
    _ labels: Tensor<Scalar>, classCount: Int
  ) -> [Int] {
    labels.scalars.enumerated().map { row, label in
      classIndex(label, row: row, classCount: classCount)
    }
  }

  /// A label as a class index. - Precondition: a whole number in 0..<classCount.
  @inline(__always)
  private func classIndex<Scalar: TensorScalar>(_ label: Scalar, row: Int, classCount: Int) -> Int {
    require(
      label >= 0 && label < Scalar(classCount) && label.rounded() == label,
      "\(name): label \(label) in row \(row) is not a class index in 0..<\(classCount)")
    return Int(label)
  }
}

extension Node {
  /// Cross-entropy of softmax(self) (logits [batch, classes]) against class indices
  /// `labels` ([batch]): −(1/B) Σ_b logSoftmax(self)[b, labels[b]].
  public func softmaxCrossEntropy(labels: Node, reduction: LossReduction = .mean) -> Node {
    graph.apply(SparseSoftmaxCrossEntropy(reduction: reduction), [self, labels])
  }
}
