/// Element-wise clamp into [lower, upper] (PyTorch's `clamp`); either bound may be absent.
///
/// y = min(max(x, lower), upper);  dy/dx = [lower ≤ x ≤ upper];  x̄ = ȳ · [lower ≤ x ≤ upper].
/// At a bound the derivative does not exist; ChainRule passes the gradient through there
/// (the interval is closed), as PyTorch's `clamp` backward does. With lower > upper every
/// element becomes `upper` and no gradient passes, as in PyTorch. A NaN stays NaN
/// (and passes no gradient); at least one bound is required, as in PyTorch.
public struct Clamp: UnaryElementwise, CatalogedOperation {
  /// The lower bound, if any.
  public let lower: Double?
  /// The upper bound, if any.
  public let upper: Double?
  public var name: String {
    "clamp(\(lower.map(DotText.shortest) ?? "−∞"), \(upper.map(DotText.shortest) ?? "∞"))"
  }
  /// - Precondition: at least one bound, and neither is NaN.
  public init(lower: Double?, upper: Double?) {
    if let problem = Clamp.problem(lower: lower, upper: upper) {
      requirementFailure("clamp: \(problem)")
    }
    self.lower = lower
    self.upper = upper
  }

  /// What is wrong with these bounds (none, or a NaN), or `nil` when they are fine.
  static func problem(lower: Double?, upper: Double?) -> String? {
    if lower == nil && upper == nil { return "give at least one bound (min: or max:)" }
    guard lower?.isNaN ?? false || upper?.isNaN ?? false else { return nil }
    return "a bound is NaN (min: \(String(describing: lower)), max: \(String(describing: upper)))"
  }

  public func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    var y = x
    if let lower, y < Scalar(lower) { y = Scalar(lower) }
    if let upper, y > Scalar(upper) { y = Scalar(upper) }
    return y
  }
  public func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar {
    let aboveLower = lower.map { x >= Scalar($0) } ?? true
    let belowUpper = upper.map { x <= Scalar($0) } ?? true
    return aboveLower && belowUpper ? 1 : 0
  }
  /// f″ = 0 (convention: also at the bounds, where f′ jumps between 0 and 1).
  public func secondDerivative<Scalar: TensorScalar>(
    x: Node<Scalar>, y: Node<Scalar>
  ) -> Node<Scalar>? {
    nil
  }
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let x = operands[0]
    switch (lower, upper) {
    case (let lower?, let upper?):
      return "[\(DotText.shortest(lower)) ≤ \(x) ≤ \(DotText.shortest(upper))]"
    case (let lower?, nil): return "[\(x) ≥ \(DotText.shortest(lower))]"
    case (nil, let upper?): return "[\(x) ≤ \(DotText.shortest(upper))]"
    case (nil, nil): return "1"  // not reached: the initialiser asks for a bound
    }
  }

  public static let checks = [
    OperationCheck(
      "[−1, 1] on [3, 4], away from the bounds", [[3, 4]], domain: .avoiding([-1, 1])
    ) { _, x in x[0].clamp(min: -1, max: 1) },
    OperationCheck("min 0.5 on [2, 3]", [[2, 3]], domain: .avoiding([0.5])) { _, x in
      x[0].clamp(min: 0.5)
    },
  ]
}

extension Node {
  /// Element-wise clamp into [min, max]; omit a bound to leave that side open. The gradient
  /// passes where min ≤ x ≤ max, bounds included (PyTorch's convention).
  public func clamp(min lower: Double? = nil, max upper: Double? = nil) -> Node {
    if let problem = Clamp.problem(lower: lower, upper: upper) {
      return rejected(by: "clamp", "cannot be clamped: \(problem)")
    }
    return graph.apply(Clamp(lower: lower, upper: upper), [self])
  }
}
