/// How one node's gradient compares with a reference (a finite difference or a hand-derived
/// gradient), as the drawings colour it.
///
/// Element-wise, a gradient `a` agrees with the reference `r` when |a − r| ≤ atol + rtol·|r|,
/// the test of `checkGradients`. A comparison is *vacuous* when every element of both is at
/// most atol in size: it would pass whatever the gradient's formula, so nothing was checked
/// (a dead ReLU, a zero input) — the drawing says so instead of showing a green node.
public struct GradientVerdict: Sendable, Equatable {
  /// Pass, fail or vacuous.
  public enum Outcome: Sendable, Equatable {
    /// Every element agrees, and some element is larger than atol.
    case passed
    /// Some element disagrees (or the shapes differ).
    case failed
    /// Both the gradient and the reference are within atol of zero everywhere.
    case vacuous
  }

  /// The outcome.
  public var outcome: Outcome
  /// The multi-index of the worst element (the one furthest past, or nearest to, the
  /// tolerance); `nil` when the shapes differ or there are no elements.
  public var worstIndex: [Int]?
  /// The gradient's worst element.
  public var worstGradient: Double
  /// The reference's worst element.
  public var worstReference: Double
  /// The gradient's shape.
  public var gradientShape: [Int]
  /// The reference's shape; a different shape than the gradient's is a failure.
  public var referenceShape: [Int]

  /// Compares `gradient` with `reference` element by element.
  public init(
    gradient: Tensor<Double>, reference: Tensor<Double>, absoluteTolerance: Double,
    relativeTolerance: Double
  ) {
    worstGradient = 0
    worstReference = 0
    gradientShape = gradient.shape
    referenceShape = reference.shape
    guard gradient.shape == reference.shape else {
      outcome = .failed
      return
    }
    var passed = true
    var small = true
    var worst: (offset: Int, score: Double)?
    for (offset, (a, r)) in zip(gradient.scalars, reference.scalars).enumerated() {
      let error = abs(a - r)
      let allowed = absoluteTolerance + relativeTolerance * abs(r)
      passed = passed && error <= allowed  // false for NaN
      small = small && abs(a) <= absoluteTolerance && abs(r) <= absoluteTolerance
      let score =
        error.isNaN ? .infinity : allowed > 0 ? error / allowed : (error == 0 ? 0 : .infinity)
      if worst == nil || score > worst!.score { worst = (offset, score) }
    }
    outcome = !passed ? .failed : small ? .vacuous : .passed
    if let worst {
      worstIndex = rowMajorIndex(worst.offset, shape: gradient.shape)
      worstGradient = gradient.scalars[worst.offset]
      worstReference = reference.scalars[worst.offset]
    }
  }

  /// The verdict `checkGradients` gave one node: its status and worst element, as the report
  /// states them (the report is the one place that decides pass, fail and vacuous).
  init(_ entry: GradientCheckReport.Entry) {
    switch entry.status {
    case .passed: outcome = .passed
    case .failed: outcome = .failed
    case .vacuous: outcome = .vacuous
    }
    worstIndex = entry.worstIndex
    worstGradient = entry.worstAnalytic
    worstReference = entry.worstNumeric
    gradientShape = entry.shape
    referenceShape = entry.shape
  }

  /// The fill colour a drawing gives the node: green, red, or pale yellow for vacuous.
  var color: String {
    switch outcome {
    case .passed: return "#bbf7d0"
    case .failed: return "#fca5a5"
    case .vacuous: return "#fef9c3"
    }
  }

  /// The line a drawing adds to the node's label, naming the worst element:
  /// `✓ ok · worst [1, 0]:` and, on a second line, `-0.151 vs -0.151 (numeric)`.
  func line(reference: String, digits: Int) -> String {
    let n = { (value: Double) in DotText.number(value, digits: digits) }
    if gradientShape != referenceShape {
      return "✗ FAIL: gradient " + DotText.shape(gradientShape) + "\nvs " + reference + " "
        + DotText.shape(referenceShape)
    }
    let at = worstIndex.map { $0.isEmpty ? "" : " " + DotText.shape($0) } ?? ""
    let worst = "worst\(at):\n\(n(worstGradient)) vs \(n(worstReference)) (\(reference))"
    switch outcome {
    case .passed: return "✓ ok · " + worst
    case .failed: return "✗ FAIL · " + worst
    case .vacuous: return "○ vacuous: gradient and\n\(reference) both ≈ 0"
    }
  }
}

extension Graph {
  /// The graph drawn as `dot(reaching:options:)` does, each node checked by
  /// `checkGradients` coloured by its verdict — green ok, red FAIL, pale yellow vacuous (the
  /// gradient and its finite difference both within the absolute tolerance of zero) — with
  /// the worst element in its label.
  ///
  /// Each node shows the report's own status and worst element.
  public func dot(
    reaching output: Node<Scalar>? = nil, options: DotOptions = DotOptions(),
    checked report: GradientCheckReport
  ) -> String {
    dot(
      reaching: output, options: options, verdicts: verdicts(checked: report), reference: "numeric")
  }

  /// The verdict of every node of `report` that belongs to this graph, by node id.
  func verdicts(checked report: GradientCheckReport) -> [Int: GradientVerdict] {
    var verdicts: [Int: GradientVerdict] = [:]
    for entry in report.entries where entry.node < nodeCount {
      verdicts[entry.node] = GradientVerdict(entry)
    }
    return verdicts
  }

  /// How each node's gradient in `gradients` (by id) compares with its hand-derived one.
  func verdicts(
    expected: [Node<Scalar>: Tensor<Scalar>], gradients: [Tensor<Scalar>?],
    absoluteTolerance: Double, relativeTolerance: Double, caller: String
  ) -> [Int: GradientVerdict] {
    var verdicts: [Int: GradientVerdict] = [:]
    for (node, tensor) in expected {
      require(node.graph === self, "\(caller): node \(node.label) from another graph")
      let gradient =
        (node.id < gradients.count ? gradients[node.id] : nil)
        ?? Tensor.zeros(values[node.id].shape)
      verdicts[node.id] = GradientVerdict(
        gradient: Tensor(shape: gradient.shape, scalars: gradient.scalars.map { Double($0) }),
        reference: Tensor(shape: tensor.shape, scalars: tensor.scalars.map { Double($0) }),
        absoluteTolerance: absoluteTolerance, relativeTolerance: relativeTolerance)
    }
    return verdicts
  }

  /// The graph drawn with each node of `expected` coloured by how its gradient from the last
  /// backward pass compares with the hand-derived one — the automated version of the `cmp()`
  /// helper of Karpathy's backprop notebook: green ok, red FAIL, pale yellow vacuous, the worst
  /// element in the label.
  /// - Parameters:
  ///   - output: the node whose ancestors are drawn; `nil` draws the whole graph.
  ///   - options: how the graph is drawn, as for `dot(reaching:options:)`.
  ///   - expected: hand-derived gradients by node; a shape that differs is a failure.
  ///   - absoluteTolerance: atol in |a − e| ≤ atol + rtol·|e|.
  ///   - relativeTolerance: rtol in the same test.
  public func dot(
    reaching output: Node<Scalar>? = nil, options: DotOptions = DotOptions(),
    expected: [Node<Scalar>: Tensor<Scalar>], absoluteTolerance: Double = 1e-10,
    relativeTolerance: Double = 1e-8
  ) -> String {
    let verdicts = verdicts(
      expected: expected, gradients: gradients, absoluteTolerance: absoluteTolerance,
      relativeTolerance: relativeTolerance, caller: "dot(expected:)")
    return dot(reaching: output, options: options, verdicts: verdicts, reference: "expected")
  }

  private func dot(
    reaching output: Node<Scalar>?, options: DotOptions, verdicts: [Int: GradientVerdict],
    reference: String
  ) -> String {
    if let output { require(output.graph === self, "dot: output node from another graph") }
    let loss = output?.id ?? nodeCount - 1
    var drawing = DotDrawing(
      graph: self, nodes: output == nil ? Array(records.indices) : ancestors(of: loss),
      loss: loss, options: options)
    drawing.gradients = gradients
    drawing.verdicts = verdicts.mapValues {
      ($0.color, $0.line(reference: reference, digits: options.significantDigits))
    }
    return drawing.render()
  }
}
