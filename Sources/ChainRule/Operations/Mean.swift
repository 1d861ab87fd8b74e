/// Mean of all elements, or over one or several axes (removed unless `keepingDimension`).
///
/// y = (1/n) Σᵢ xᵢ;  ∂y/∂xᵢ = 1/n;  x̄ = ȳ / n broadcast back to the shape of x.
/// A primitive rather than sum·(1/n) so that the drawing shows one node for one idea.
///
/// The sum can overflow where the mean does not (four Floats of 3e38 sum to ∞, their mean is
/// 3e38): an element whose Σx is ±∞ or NaN is formed again as Σ(x · (1/n)) — kept when that
/// is finite, so a mean of finite values is finite; ∞ and NaN inputs still give ∞ or NaN.
/// Every other element is Σx · (1/n) as before, bit for bit.
public struct Mean: CatalogedOperation {
  /// The axes averaged over (negative counts from the end); `nil` averages everything.
  public let axes: [Int]?
  /// Whether each reduced axis is kept with length 1.
  public let keepingDimension: Bool
  public var name: String { reductionName("mean", axes: axes, keepingDimension: keepingDimension) }
  /// Averages along `axis`, or everything when `axis` is nil.
  public init(axis: Int? = nil, keepingDimension: Bool = false) {
    self.init(axes: axis.map { [$0] }, keepingDimension: keepingDimension)
  }
  /// Averages over `axes` (all when nil).
  public init(axes: [Int]?, keepingDimension: Bool = false) {
    self.axes = axes
    self.keepingDimension = keepingDimension
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try reducedShape(operands[0], op: name, axes: axes, keepingDimension: keepingDimension)
  }

  /// n, the number of elements averaged into each output element.
  private func count(_ shape: [Int]) -> Int {
    resolvedAxes(axes, rank: shape.count).reduce(1) { $0 * shape[$1] }
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    let factor = 1 / Scalar(count(x.shape))
    var mean = x.sum(alongAxes: axes, keepingDimension: keepingDimension) * factor
    if !mean.isFinite {  // Σx overflowed, or an input is ±∞ or NaN
      let rescued = (x * factor).sum(alongAxes: axes, keepingDimension: keepingDimension)
      mean.withUnsafeMutableBufferPointer { m in
        for i in m.indices where !m[i].isFinite && rescued.scalars[i].isFinite {
          m[i] = rescued.scalars[i]
        }
      }
    }
    return mean
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let x = inputs[0]
    return [expandReduced(gradient, to: x.shape, axes: axes) * (1 / Scalar(count(x.shape)))]
  }

  /// x̄ = (ȳ broadcast back over the averaged axes) · 1/n.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    let n = count(inputs[0].shape)
    return [expandedReduction(gradient, to: inputs[0].shape, axes: axes) * (1 / Scalar(n))]
  }

  /// ẏ = (1/n) Σᵢ ẋᵢ (over the axes): the op is linear, so its JVP is the op applied to the
  /// tangent (with the forward pass's guard against an overflowing sum).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0].map { forward([$0]) } ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "1/n"
  }

  public static let checks = [
    OperationCheck("all of [3, 4]", [[3, 4]]) { _, x in x[0].mean() },
    OperationCheck("axis 0 of [3, 4]", [[3, 4]]) { _, x in x[0].mean(alongAxis: 0) },
    OperationCheck("axis 1 of [3, 4]", [[3, 4]]) { _, x in x[0].mean(alongAxis: 1) },
    OperationCheck("axes [0, 2] of [2, 3, 2], kept", [[2, 3, 2]]) { _, x in
      x[0].mean(alongAxes: [0, 2], keepingDimension: true)
    },
    OperationCheck("axes [−2, −1] of [2, 3, 2]", [[2, 3, 2]]) { _, x in
      x[0].mean(alongAxes: [-2, -1])
    },
  ]
}

extension Node {
  /// The mean of all elements, as a rank-0 node.
  public func mean() -> Node { graph.apply(Mean(), [self]) }
  /// The mean along `axis` (negative counts from the end), which is removed unless
  /// `keepingDimension` keeps it with length 1.
  public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Node {
    guard let resolved = resolvedAxis(axis) else {
      let name = reductionName("mean", axes: [axis], keepingDimension: keepingDimension)
      return rejected(by: name, noAxisRequirement(axis))
    }
    return graph.apply(Mean(axis: resolved, keepingDimension: keepingDimension), [self])
  }
  /// The mean over several `axes` (negative counts from the end; PyTorch's `mean(dim: (…))`),
  /// each removed unless `keepingDimension` keeps it with length 1.
  public func mean(alongAxes axes: [Int], keepingDimension: Bool = false) -> Node {
    if let problem = reductionAxesProblem(axes) {
      let name = reductionName("mean", axes: axes, keepingDimension: keepingDimension)
      return rejected(by: name, problem)
    }
    return graph.apply(
      Mean(
        axes: axes.map { normalizedAxis($0, rank: shape.count) },
        keepingDimension: keepingDimension),
      [self])
  }
}
