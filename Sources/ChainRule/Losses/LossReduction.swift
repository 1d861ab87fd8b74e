/// How a loss op turns per-example losses into its output (PyTorch's `reduction=`).
public enum LossReduction: String, Sendable, CaseIterable {
  /// The mean over the batch (the default): gradients are divided by the batch size.
  case mean
  /// The sum over the batch.
  case sum
  /// No reduction: one loss per example (per element for element-wise losses, per position
  /// for the cross-entropies), in the shape PyTorch's `reduction='none'` gives; backward then
  /// needs a seed of that shape, or a further reduction.
  case none

  /// The factor applied to the sum of `count` terms: 1/count for `.mean`, 1 for `.sum` (and
  /// for each term of `.none`).
  func factor<Scalar: TensorScalar>(_ count: Int) -> Scalar {
    self == .mean ? 1 / Scalar(max(count, 1)) : 1
  }

  /// The loss's output shape, given the shape of its per-example terms: rank 0, or the terms'
  /// shape for `.none`.
  func outputShape(terms shape: [Int]) -> [Int] { self == .none ? shape : [] }

  /// ∂L/∂(term i) for every term of a loss whose terms have `count` elements: the one L̄
  /// times `factor(count)` for `.mean` and `.sum`, L̄ᵢ itself for `.none`.
  func termScales<Scalar: TensorScalar>(_ gradient: Tensor<Scalar>, count: Int) -> [Scalar] {
    self == .none
      ? gradient.scalars : [Scalar](repeating: gradient.scalar * factor(count), count: count)
  }

  /// `termScales` as a node: L̄ · factor, or L̄ itself (per term) for `.none`.
  func termScale<Scalar>(_ gradient: Node<Scalar>, count: Int) -> Node<Scalar> {
    self == .none ? gradient : gradient * factor(count)
  }

  /// How the factor is written in derivative formulas: `"/n"` or `""`.
  var formulaSuffix: String { self == .mean ? "/n" : "" }
}

/// Per-term values reduced as `reduction` says: their sum, in order, times `factor` — or the
/// terms themselves, in `shape`, for `.none`.
func reducedTerms<Scalar: TensorScalar>(
  _ terms: [Scalar], shape: [Int], _ reduction: LossReduction
) -> Tensor<Scalar> {
  guard reduction != .none else { return Tensor(shape: shape, scalars: terms) }
  var total: Scalar = 0
  for term in terms { total += term }
  return Tensor(total * reduction.factor(terms.count))
}

/// Checks that a loss's prediction and target have the same shape.
func requireSameShape(
  _ operands: [ShapeError.Operand], op: String
) throws(ShapeError) {
  guard operands[0].shape == operands[1].shape else {
    throw ShapeError(
      "\(op): prediction \(operands[0].text) and target \(operands[1].text) differ in shape")
  }
}
