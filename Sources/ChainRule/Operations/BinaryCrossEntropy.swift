import Foundation

/// Binary cross-entropy of probabilities p against targets y (0/1 labels or soft targets).
///
/// L = −(1/n) Σᵢ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)] (n = number of elements; no 1/n with
/// `.sum`; with `.none` the output is ℓᵢ itself, one per element, and L̄ᵢ takes the place of
/// L̄/n below). Each log is clamped at −100 as in PyTorch, so p = 0 or 1 gives a large finite
/// loss instead of ∞.  ∂L/∂pᵢ = (pᵢ − yᵢ) / (pᵢ(1 − pᵢ) n);  ∂L/∂yᵢ = (log(1 − pᵢ) − log pᵢ)/n.
/// VJP: p̄ = L̄ · (p − y)/(p(1 − p) n), with p(1 − p) floored at 10⁻¹² (PyTorch's guard);
/// ȳ = L̄ · (log(1 − p) − log p)/n. After a sigmoid output a = σ(z), the chain rule turns
/// p̄ into the course's a − y; `BinaryCrossEntropyWithLogits` does that in one stable step.
///
/// log(1 − p) is evaluated as log1p(−p): forming 1 − p first rounds away the digits of a small
/// p (target 0, Float p = 1e-7 gave a loss of 1.19e-7, 19 % off; Double p = 1e-17 gave 0);
/// log1p(−p) is exact to an ulp there and equal to log(1 − p) for p ≥ 1/2, where 1 − p is
/// exact. 1 − p in p(1 − p) is exact where it matters (p near 1). As in PyTorch, both logs
/// are clamped at −100 (so p = 0 or 1 costs 100, not ∞), and a p above 1 — not a probability
/// — has its log(1 − p) clamped the same way instead of giving NaN.
public struct BinaryCrossEntropy: CatalogedOperation, CarefulVJP {
  /// Mean (default) or sum over the elements, or none (one loss per element).
  public let reduction: LossReduction
  public var name: String { "binaryCrossEntropy" }
  /// The loss, averaged over the elements (`.mean`) or summed (`.sum`).
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try requireSameShape(operands, op: name)
    return reduction.outputShape(terms: operands[0].shape)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (p, y) = (inputs[0].scalars, inputs[1].scalars)
    if reduction == .none {
      return Tensor(
        shape: inputs[0].shape,
        scalars: p.indices.map { i in
          -(y[i] * clampedLog(p[i]) + (1 - y[i]) * clampedLogOfComplement(p[i]))
        })
    }
    var total: Scalar = 0
    for i in p.indices {
      total -= y[i] * clampedLog(p[i]) + (1 - y[i]) * clampedLogOfComplement(p[i])
    }
    return Tensor(total * reduction.factor(p.count))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (p, y) = (inputs[0].scalars, inputs[1].scalars)
    let scale = reduction.termScales(gradient, count: p.count)
    var gradientP = [Scalar](repeating: 0, count: p.count)
    var gradientY = [Scalar](repeating: 0, count: p.count)
    for i in p.indices {
      gradientP[i] = scale[i] * (p[i] - y[i]) / max(p[i] * (1 - p[i]), Scalar(1e-12))
      gradientY[i] = scale[i] * (clampedLogOfComplement(p[i]) - clampedLog(p[i]))
    }
    return [
      Tensor(shape: inputs[0].shape, scalars: gradientP),
      Tensor(shape: inputs[1].shape, scalars: gradientY),
    ]
  }

  /// p̄ and ȳ as `VJPShare` nodes: the numbers of `vjp` above, log(1 − p) as log1p(−p)
  /// included, differentiated again through the plain formula below.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    shareNodes(inputs, output: output, gradient: gradient, needs: needs)
  }
  /// The plain formula, for the second order: p̄ = s·(p − y)/max(p(1 − p), 10⁻¹²),
  /// ȳ = s·(log(1 − p) − log p), each log clamped at −100, with s = L̄/n (L̄ itself, per
  /// element, for `.none`); log(1 − p) is the log of 1 − p (no log1p among the ops).
  func plainGradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (p, y) = (inputs[0], inputs[1])
    let s = reduction.termScale(gradient, count: p.shape.reduce(1, *))
    return [
      needs[0] ? (s * (p - y)) / (p * (1 - p)).maximum(1e-12) : nil,
      needs[1] ? s * ((1 - p).log().clamp(min: -100) - p.log().clamp(min: -100)) : nil,
    ]
  }

  /// L̇ = Σᵢ [ṗᵢ · (pᵢ − yᵢ)/max(pᵢ(1 − pᵢ), 10⁻¹²) + ẏᵢ · (log(1 − pᵢ) − log pᵢ)] / n: the
  /// VJP's two factors, with the same floor and clamped logs, dotted with the tangents.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let (p, y) = (inputs[0].scalars, inputs[1].scalars)
    let (tangentP, tangentY) = (tangents[0]?.scalars, tangents[1]?.scalars)
    var terms = [Scalar](repeating: 0, count: p.count)
    for i in p.indices {
      if let tangentP {
        terms[i] += tangentP[i] * (p[i] - y[i]) / max(p[i] * (1 - p[i]), Scalar(1e-12))
      }
      if let tangentY {
        terms[i] += tangentY[i] * (clampedLogOfComplement(p[i]) - clampedLog(p[i]))
      }
    }
    return reducedTerms(terms, shape: inputs[0].shape, reduction)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let (p, y) = (operands[0], operands[1])
    let n = reduction.formulaSuffix
    return input == 0
      ? "(\(p) − \(y)) / (\(p)(1 − \(p)))\(n)" : "(log(1 − \(p)) − log \(p))\(n)"
  }

  public static let checks = [
    OperationCheck("p vs soft targets, [4, 1]", [[4, 1], [4, 1]], domain: .probability) { _, x in
      x[0].binaryCrossEntropy(x[1])
    },
    OperationCheck("sum reduction, [2, 3]", [[2, 3], [2, 3]], domain: .probability) { _, x in
      x[0].binaryCrossEntropy(x[1], reduction: .sum)
    },
    OperationCheck("no reduction, [2, 3]", [[2, 3], [2, 3]], domain: .probability) { _, x in
      x[0].binaryCrossEntropy(x[1], reduction: .none)
    },
  ]
}

/// log x, clamped below at −100 (log 0 would be −∞).
private func clampedLog<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  x > 0 ? max(Scalar.log(x), -100) : -100
}

/// log(1 − p) as log1p(−p), exact for small p, clamped below at −100 (also for p ≥ 1).
private func clampedLogOfComplement<Scalar: TensorScalar>(_ p: Scalar) -> Scalar {
  p < 1 ? max(Scalar.log1p(-p), -100) : -100
}

extension Node {
  /// Binary cross-entropy of the probabilities in `self` against `target` (same shape):
  /// −mean(y log p + (1 − y) log(1 − p)). Prefer `binaryCrossEntropyWithLogits(_:)` after a
  /// sigmoid: it is exact where σ(z) rounds to 0 or 1.
  public func binaryCrossEntropy(_ target: Node, reduction: LossReduction = .mean) -> Node {
    graph.apply(BinaryCrossEntropy(reduction: reduction), [self, target])
  }
}
