/// How a parameter tensor gets its first values, drawn from a seeded generator so that the
/// same seed gives the same model on every machine.
///
/// `fanIn` and `fanOut` are the layer's input and output sizes (for a `Dense` weight
/// [in, out]: fanIn = in, fanOut = out). Normal draws are not truncated.
public enum Initializer: Sendable, Equatable {
  /// All zeros.
  case zeros
  /// Every element equal to the value.
  case constant(Double)
  /// Uniform in [lower, upper].
  case uniform(lower: Double, upper: Double)
  /// Normal with the given mean and standard deviation.
  case normal(mean: Double, standardDeviation: Double)
  /// Glorot/Xavier uniform: U[−a, a] with a = √(6 / (fanIn + fanOut)); keeps the variance of
  /// activations and gradients about equal across tanh/sigmoid layers.
  case glorotUniform
  /// Glorot/Xavier normal: N(0, σ²) with σ = √(2 / (fanIn + fanOut)).
  case glorotNormal
  /// He/Kaiming uniform: U[−a, a] with a = √(6 / fanIn), for ReLU layers.
  case heUniform
  /// He/Kaiming normal: N(0, σ²) with σ = √(2 / fanIn), for ReLU layers.
  case heNormal

  /// A tensor of `shape` filled by this rule, consuming draws from `generator` in row-major
  /// order (nothing for `zeros` and `constant`).
  ///
  /// The element count and fanIn + fanOut are computed without overflow, so an impossible
  /// size (`[1 << 62, 8]`) stops with a message naming the shape instead of an arithmetic trap.
  /// - Precondition: the dimensions are ≥ 0 and their product fits in `Int`.
  public func tensor<Scalar: TensorScalar>(
    _ shape: [Int], fanIn: Int, fanOut: Int,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor<Scalar> {
    guard let count = Self.elementCount(shape) else {
      requirementFailure(
        "Initializer: shape \(shape) has a negative dimension or more elements than Int can count")
    }
    let fanSum = Double(fanIn) + Double(fanOut)  // in Double: Int.max + 1 must not trap
    func uniform(_ limit: Double) -> [Scalar] {
      (0..<count).map { _ in Scalar(generator.nextDouble(in: -limit...limit)) }
    }
    func normal(_ mean: Double, _ deviation: Double) -> [Scalar] {
      (0..<count).map { _ in
        Scalar(generator.nextNormal(mean: mean, standardDeviation: deviation))
      }
    }
    let scalars: [Scalar]
    switch self {
    case .zeros: scalars = Array(repeating: 0, count: count)
    case .constant(let value): scalars = Array(repeating: Scalar(value), count: count)
    case .uniform(let lower, let upper):
      scalars = (0..<count).map { _ in Scalar(generator.nextDouble(in: lower...upper)) }
    case .normal(let mean, let deviation): scalars = normal(mean, deviation)
    case .glorotUniform: scalars = uniform((6 / fanSum).squareRoot())
    case .glorotNormal: scalars = normal(0, (2 / fanSum).squareRoot())
    case .heUniform: scalars = uniform((6 / Double(fanIn)).squareRoot())
    case .heNormal: scalars = normal(0, (2 / Double(fanIn)).squareRoot())
    }
    return Tensor(shape: shape, scalars: scalars)
  }

  /// The product of `shape`'s dimensions, or nil when one is negative or the product
  /// overflows `Int`.
  static func elementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
      guard dimension >= 0 else { return nil }
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow else { return nil }
      count = product
    }
    return count
  }
}
