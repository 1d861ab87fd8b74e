import Foundation

extension Graph {
  /// Checks forward mode against reverse mode and against a central difference, for one
  /// random direction, and returns a report (print it for a summary).
  ///
  /// Two independent checks of J = ∂output/∂(nodes), each one scalar or one output-sized
  /// tensor at any size (HIPS autograd's `check_vjp`/`check_jvp` idea):
  ///
  /// - **Consistency** of the two modes: ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩, with J·v from `jvp` (forward
  ///   mode, the ops' JVP rules) and Jᵀ·u from `backward(from:seed: u)` (reverse mode, the
  ///   ops' VJP rules). Both sides are analytic, so they agree to rounding: the check passes
  ///   when |forward − reverse| ≤ `consistencyTolerance` · s, where s is the larger of
  ///   Σᵢ |uᵢ·(J·v)ᵢ| and Σⱼ |(Jᵀ·u)ⱼ·vⱼ|, the size of the terms the two inner products sum.
  /// - **Finite difference** of forward mode: J·v against the directional central
  ///   difference D(ε) = (f(x + ε·v) − f(x − ε·v)) / 2ε computed in `Double` on a twin of the
  ///   graph (also for a `Float` graph), extrapolated as (4·D(ε) − D(2ε)) / 3 (Richardson: the
  ///   ε² error of D cancels, leaving O(ε⁴), the five-point stencil of `checkGradients`).
  ///   Element by element over the output, it passes when |analytic − numeric| ≤ atol +
  ///   rtol·|numeric|, as in `checkGradients`; a stop-gradient node is held at its value.
  ///
  /// u and v are drawn uniformly from [−1, 1] by `seed` unless given. The given nodes are
  /// perturbed in place (see `jvp(of:withRespectTo:tangents:)`), op nodes included. Neither
  /// check may read as a pass when it checked nothing: consistency is *vacuous* when both
  /// sides are within atol of 0, the finite difference when every element is (both sides
  /// within atol of 0); the report passes only when both checks passed. The graph is left
  /// as it was found: values, node gradients and the parameters' accumulated gradients.
  ///
  /// - Parameters:
  ///   - output: The node differentiated; any shape.
  ///   - nodes: The nodes moved; `nil` moves every parameter node. Each must have a gradient
  ///     (`requiresGradient`), so that reverse mode sees the same move.
  ///   - tangents: v, one per node in its shape; `nil` draws them.
  ///   - cotangent: u, in the output's shape; `nil` draws it.
  ///   - seed: Fixes the drawn u and v.
  ///   - epsilon: The central-difference step ε (default 1e-6).
  ///   - absoluteTolerance: atol (default 1e-5).
  ///   - relativeTolerance: rtol of the finite-difference check (default 1e-3).
  ///   - consistencyTolerance: The relative tolerance of the consistency check; `nil` (the
  ///     default) takes 10⁴ ulps of 1 in the graph's type: 2.2e-12 in `Double`, 1.2e-3 in
  ///     `Float`.
  /// - Returns: Both comparisons, their status, and the report's.
  public func checkForwardMode(
    of output: Node<Scalar>, withRespectTo nodes: [Node<Scalar>]? = nil,
    tangents: [Tensor<Scalar>]? = nil, cotangent: Tensor<Scalar>? = nil, seed: UInt64 = 0,
    epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-5, relativeTolerance: Double = 1e-3,
    consistencyTolerance: Double? = nil
  ) -> ForwardModeCheckReport {
    let moved = nodes ?? self.nodes.filter { $0.kind == .parameter }
    requireForwardModeNodes(output: output, nodes: moved, pass: "checkForwardMode")
    require(epsilon > 0, "checkForwardMode: epsilon must be positive, got \(epsilon)")
    for node in moved {
      require(
        node.requiresGradient,
        "checkForwardMode: no gradient is computed for \(node.label) (a constant, an input "
          + "made with requiresGradient: false, a frozen parameter, or an op on such nodes only)")
    }
    let outputShape = values[output.id].shape
    var generator = SplitMix64(seed: seed)
    func draw(_ shape: [Int]) -> Tensor<Scalar> {
      let count = shape.reduce(1, *)
      return Tensor(
        shape: shape, scalars: (0..<count).map { _ in Scalar(generator.nextDouble(in: -1...1)) })
    }
    let v = tangents ?? moved.map { draw(values[$0.id].shape) }
    let u = cotangent ?? draw(outputShape)
    require(
      u.shape == outputShape,
      "checkForwardMode: cotangent has shape \(u.shape), but output \(output.label) has shape "
        + "\(outputShape)")

    // Forward mode: J·v. Reverse mode: Jᵀ·u, read from the moved nodes after one backward.
    let forwardTangent = jvp(of: output, withRespectTo: moved, tangents: v)
    let reverse = withGradientsRestored { () -> [Tensor<Scalar>] in
      backward(from: output, seed: u)
      return moved.map { gradients[$0.id] ?? Tensor.zeros(values[$0.id].shape) }
    }
    var (forwardSide, reverseSide, forwardScale, reverseScale): (Scalar, Scalar, Double, Double) =
      (0, 0, 0, 0)
    for (a, b) in zip(u.scalars, forwardTangent.scalars) {
      forwardSide += a * b
      forwardScale += abs(Double(a) * Double(b))
    }
    for (gradient, tangent) in zip(reverse, v) {
      for (a, b) in zip(gradient.scalars, tangent.scalars) {
        reverseSide += a * b
        reverseScale += abs(Double(a) * Double(b))
      }
    }
    let consistency = ForwardModeCheckReport.Consistency(
      forward: Double(forwardSide), reverse: Double(reverseSide),
      scale: max(forwardScale, reverseScale),
      relativeTolerance: consistencyTolerance ?? 1e4 * Double(Scalar.ulpOfOne),
      absoluteTolerance: absoluteTolerance)

    // The central difference, in Double.
    let twin = doubleTwin()
    var moves = [Int: Tensor<Double>]()
    for (node, tangent) in zip(moved, v) { moves[node.id] = tangent.converted(to: Double.self) }
    let numeric = twin.directionalDifference(of: output.id, along: moves, epsilon: epsilon)
    let difference = GradientCheckReport.Entry(
      node: output.id, label: output.label, analytic: forwardTangent.converted(to: Double.self),
      numeric: numeric, absoluteTolerance: absoluteTolerance,
      relativeTolerance: relativeTolerance)
    return ForwardModeCheckReport(
      output: output.label, nodes: moved.map(\.label), dtypeName: Scalar.dtypeName,
      epsilon: epsilon, absoluteTolerance: absoluteTolerance,
      relativeTolerance: relativeTolerance, consistency: consistency,
      finiteDifference: difference)
  }
}

extension Graph where Scalar == Double {
  /// d/dε output(x + ε·v) by central differences, (4·D(ε) − D(2ε)) / 3 with
  /// D(h) = (f(h) − f(−h)) / 2h, where f(h) is the output with every node in `moves` (id →
  /// tangent) perturbed in place by h·tangent and the op nodes that depend on one
  /// re-evaluated; a stop-gradient node keeps its value (plus its own move, if it has one).
  /// The values are restored after.
  func directionalDifference(
    of output: Int, along moves: [Int: Tensor<Double>], epsilon: Double
  ) -> Tensor<Double> {
    let shape = values[output].shape
    guard let first = moves.keys.min(), first <= output else { return Tensor.zeros(shape) }
    var affected = Array(repeating: false, count: output + 1)
    for id in first...output {
      affected[id] =
        moves[id] != nil
        || (!(records[id].operation is StopGradient)
          && records[id].inputs.contains { affected[$0] })
    }
    guard affected[output] else { return Tensor.zeros(shape) }
    let saved = values
    defer { values = saved }
    func evaluate(_ step: Double) -> Tensor<Double> {
      for id in first...output where affected[id] {
        var value = values[id]
        if records[id].operation != nil, !(records[id].operation is StopGradient) {
          value = records[id].operation!.forward(records[id].inputs.map { values[$0] })
        }
        if let move = moves[id] { value += move * step }
        values[id] = value
      }
      let result = values[output]
      values = saved
      return result
    }
    func central(_ h: Double) -> Tensor<Double> { (evaluate(h) - evaluate(-h)) / (2 * h) }
    let (near, far) = (central(epsilon), central(2 * epsilon))
    return Tensor(
      shape: shape, scalars: zip(near.scalars, far.scalars).map { (4 * $0 - $1) / 3 })
  }
}

/// The outcome of `Graph.checkForwardMode(of:withRespectTo:…)`: forward mode against reverse
/// mode (⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩) and against a central difference (J·v).
///
/// Like `GradientCheckReport`, it never reads as a pass when it checked nothing: a side by
/// side comparison of two numbers within atol of 0 is *vacuous*, and the report passes only
/// when both checks passed with something to check.
public struct ForwardModeCheckReport: Sendable, CustomStringConvertible {
  /// Passed, failed or vacuous, as for a gradient check.
  public typealias Status = GradientCheckReport.Status

  /// ⟨u, J·v⟩ from forward mode against ⟨Jᵀ·u, v⟩ from reverse mode.
  public struct Consistency: Sendable {
    /// ⟨u, J·v⟩, J·v by forward mode.
    public var forward: Double
    /// ⟨Jᵀ·u, v⟩, Jᵀ·u by reverse mode.
    public var reverse: Double
    /// The size of the terms summed: max(Σ |uᵢ·(J·v)ᵢ|, Σ |(Jᵀ·u)ⱼ·vⱼ|).
    public var scale: Double
    /// The relative tolerance: pass when |forward − reverse| ≤ relativeTolerance · scale.
    public var relativeTolerance: Double
    /// Both sides within this of 0: vacuous.
    public var absoluteTolerance: Double

    /// |forward − reverse| (NaN when either is NaN).
    public var error: Double { abs(forward - reverse) }

    /// `.failed` when |forward − reverse| > relativeTolerance · scale (or either side is NaN
    /// or ±∞); otherwise `.vacuous` when both sides are within atol of 0, else `.passed`.
    public var status: Status {
      guard forward.isFinite, reverse.isFinite, error <= relativeTolerance * scale else {
        return .failed
      }
      return abs(forward) <= absoluteTolerance && abs(reverse) <= absoluteTolerance
        ? .vacuous : .passed
    }
  }

  /// The label of the differentiated node.
  public var output: String
  /// The labels of the moved nodes, in order.
  public var nodes: [String]
  /// The checked graph's scalar type, `"F32"` or `"F64"`.
  public var dtypeName: String
  /// The central-difference step ε.
  public var epsilon: Double
  /// atol, for the finite difference and for vacuity.
  public var absoluteTolerance: Double
  /// rtol of the finite-difference check.
  public var relativeTolerance: Double
  /// Forward mode against reverse mode.
  public var consistency: Consistency
  /// J·v (analytic, forward mode) against the central difference (numeric), element by
  /// element over the output, with the worst element and the count of live ones.
  public var finiteDifference: GradientCheckReport.Entry

  /// `.failed` when either check failed, `.passed` when both passed, `.vacuous` otherwise
  /// (one of them checked nothing).
  public var status: Status {
    let parts = [consistency.status, finiteDifference.status]
    if parts.contains(.failed) { return .failed }
    return parts.allSatisfy { $0 == .passed } ? .passed : .vacuous
  }

  /// Whether both checks passed (`status == .passed`).
  public var passed: Bool { status == .passed }

  public var description: String {
    let fd = finiteDifference
    let worst = fd.worstIndex.map { "\($0)" } ?? "-"
    let verdict: String
    switch status {
    case .passed: verdict = "passed"
    case .failed: verdict = "FAILED"
    case .vacuous: verdict = "VACUOUS: a check had nothing to check (values within atol of 0)"
    }
    return [
      "Forward-mode check of \(output) along \(nodes.joined(separator: ", ")) "
        + "(\(dtypeName) graph, central differences in F64)",
      "consistency <u, J v> = <J^T u, v>: forward \(reportValue(consistency.forward)), reverse "
        + "\(reportValue(consistency.reverse)), error \(reportError(consistency.error)) (allowed "
        + "\(reportError(consistency.relativeTolerance * consistency.scale))): "
        + reportWord(consistency.status),
      "J v vs central difference (eps = \(reportError(epsilon)), |a - n| <= "
        + "\(reportError(absoluteTolerance)) + \(reportError(relativeTolerance)) * |n|): "
        + "max abs err \(reportError(fd.maxAbsoluteError)), worst at \(worst): "
        + "analytic \(reportValue(fd.worstAnalytic)), numeric \(reportValue(fd.worstNumeric)), "
        + "\(fd.liveElements) of \(fd.numeric.count) live: "
        + reportWord(fd.status),
      verdict,
    ].joined(separator: "\n")
  }
}
