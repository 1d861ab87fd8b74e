/// Where a gradient check draws an op's operand values: some ops are only differentiable on
/// part of the real line (log needs x > 0; relu and step have a kink at 0).
public enum CheckDomain: Sendable {
  /// Uniform in [−2, 2].
  case anywhere
  /// Uniform in [0.2, 3].
  case positive
  /// Magnitude uniform in [0.2, 2] with a random sign: never near 0.
  case awayFromZero
  /// Uniform in [0.05, 0.95]: probabilities away from the 0 and 1 where log clamps.
  case probability
  /// Uniform in [−2, 2] but at least 0.2 from each of `points`, the kinks of the op (clamp's
  /// bounds); the fuzz applies the op only to values at least 0.05 from them.
  case avoiding([Double])
  /// Uniform in [−2, 2], no two elements closer than 1e−3: no ties, where a max or min along
  /// an axis has no derivative; the fuzz applies the op only to values without two closer
  /// than 1e−4.
  case distinct
  /// Uniform in [−2, 2], like `anywhere`; the fuzz applies the op only to values with
  /// |x| ≤ 100 (≤ 10 in a Float graph), since sin and cos of a large argument turn its last
  /// bits into a different value.
  case moderate
}

/// One gradient-check case of an op: operand shapes, their domain, and how to build the node.
public struct OperationCheck: Sendable {
  /// What the case covers, e.g. `"row bias [3, 4] + [4]"`.
  public var description: String
  /// The operands' shapes.
  public var inputShapes: [[Int]]
  /// Where operand values are drawn.
  public var domain: CheckDomain
  /// Builds the checked node from operand nodes.
  public var build: @Sendable (Graph<Double>, [Node<Double>]) -> Node<Double>

  /// A case named `description` on operands of `inputShapes`, drawn from `domain`, checking
  /// the node `build` makes from them.
  public init(
    _ description: String, _ inputShapes: [[Int]], domain: CheckDomain = .anywhere,
    build: @escaping @Sendable (Graph<Double>, [Node<Double>]) -> Node<Double>
  ) {
    self.description = description
    self.inputShapes = inputShapes
    self.domain = domain
    self.build = build
  }
}

/// An op that lists its own gradient-check cases, next to its forward and VJP.
public protocol CatalogedOperation: DifferentiableOperation {
  /// The cases a finite-difference check runs for this op.
  static var checks: [OperationCheck] { get }
}

/// Every primitive op of the library. Adding an op = one file in `Operations/` + one line here;
/// a test fails when an op file is missing from this list or has no check.
public enum OperationCatalog {
  /// The primitive ops, each with its own checks.
  public static let all: [any CatalogedOperation.Type] = [
    Add.self, Subtract.self, Multiply.self, Divide.self, Negate.self,
    MatMul.self, Transpose.self, Reshape.self, Sum.self, Mean.self,
    Exp.self, Log.self, Square.self, Sigmoid.self, Tanh.self, ReLU.self, Step.self,
    Softmax.self, LogSoftmax.self, BinaryCrossEntropy.self, BinaryCrossEntropyWithLogits.self,
    SoftmaxCrossEntropy.self, SparseSoftmaxCrossEntropy.self,
    // The experimenter's toolbox (issue 15), one op per line.
    Sin.self,
    Cos.self,
    Sqrt.self,
    ScalarPower.self,
    Power.self,
    Abs.self,
    Maximum.self,
    Minimum.self,
    Clamp.self,
    Where.self,
    StopGradient.self,
    LogSumExp.self,
    Max.self,
    Min.self,
    Concat.self,
    Slicing.self,
    Gather.self,
    Permute.self,
    BatchedMatMul.self,
    Conv2D.self,
    ConvTranspose2D.self,
    Conv2DWeightGradient.self,
    MaxPool2D.self,
    MaxPool2DRoute.self,
    Flattening.self,
    LayerNormalization.self,
  ]
}
