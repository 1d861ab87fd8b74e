/// How a loss op turns per-example losses into one number.
public enum LossReduction: String, Sendable, CaseIterable {
  /// The mean over the batch (the default): gradients are divided by the batch size.
  case mean
  /// The sum over the batch.
  case sum

  /// The factor applied to the sum of `count` terms: 1/count for `.mean`, 1 for `.sum`.
  func factor<Scalar: TensorScalar>(_ count: Int) -> Scalar {
    self == .mean ? 1 / Scalar(max(count, 1)) : 1
  }

  /// How the factor is written in derivative formulas: `"/n"` or `""`.
  var formulaSuffix: String { self == .mean ? "/n" : "" }
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
