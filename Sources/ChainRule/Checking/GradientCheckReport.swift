import Foundation

/// The outcome of `Graph.checkGradients(of:withRespectTo:…)`: one entry per checked node.
///
/// `description` prints a table: per node the largest absolute error |a − n|, the largest
/// relative error |a − n| / |n|, the worst element (the one furthest past, or nearest to, the
/// tolerance atol + rtol·|n|) with its analytic value a and numeric value n, and ok, FAIL or
/// vacuous.
///
/// **Live and vacuous elements.** An element where both |a| ≤ atol and |n| ≤ atol passes
/// whatever the op computed: any gradient within atol of zero is accepted, a wrong one too.
/// Such an element is *vacuous*; an element with at least one side above atol (or NaN) is
/// *live*, and only live elements can fail. A node whose elements are all vacuous is reported
/// as `.vacuous`, not as passed, and a report without a single live element does not pass:
/// a check that checked nothing never reads as a pass.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
  /// What the check of a node, or of the whole report, established.
  public enum Status: Sendable, Equatable {
    /// No element outside the tolerance, and at least one live element.
    case passed
    /// At least one element outside the tolerance (or NaN / ±∞ on either side).
    case failed
    /// No element outside the tolerance, but no live element either: both sides within atol
    /// of zero everywhere (or no element at all), so nothing was checked.
    case vacuous
  }

  /// The check of one node.
  public struct Entry: Sendable {
    /// The node's id in its graph.
    public var node: Int
    /// The node's label, as in messages (`w1`, `tanh#4`).
    public var label: String
    /// The node's shape.
    public var shape: [Int]
    /// The reverse-mode gradient, converted to `Double`.
    public var analytic: Tensor<Double>
    /// The central-difference gradient, computed in `Double`.
    public var numeric: Tensor<Double>
    /// max |analytic − numeric| over the elements (0 for an empty node; NaN if any is NaN).
    public var maxAbsoluteError: Double
    /// max |analytic − numeric| / |numeric| (∞ where numeric is 0 and analytic is not).
    public var maxRelativeError: Double
    /// The multi-index of the worst element; `nil` for a node without elements.
    public var worstIndex: [Int]?
    /// The analytic value of the worst element.
    public var worstAnalytic: Double
    /// The numeric value of the worst element.
    public var worstNumeric: Double
    /// How many elements are live: |a| > atol or |n| > atol (NaN counts as live).
    public var liveElements: Int
    /// How many elements are vacuous: |a| ≤ atol and |n| ≤ atol, so they cannot fail.
    public var vacuousElements: Int { numeric.count - liveElements }
    /// `.failed` when an element breaks |a − n| ≤ atol + rtol·|n|; otherwise `.passed` when
    /// at least one element is live, `.vacuous` when none is.
    public var status: Status
    /// Whether the node passed: no element outside the tolerance and at least one live
    /// (`status == .passed`; a vacuous node has not passed).
    public var passed: Bool { status == .passed }

    init(
      node: Int, label: String, analytic: Tensor<Double>, numeric: Tensor<Double>,
      absoluteTolerance: Double, relativeTolerance: Double
    ) {
      self.node = node
      self.label = label
      self.shape = numeric.shape
      self.analytic = analytic
      self.numeric = numeric
      var maxAbsolute = 0.0
      var maxRelative = 0.0
      var worst: (offset: Int, score: Double)?
      var passed = true
      var live = 0
      for (offset, (a, n)) in zip(analytic.scalars, numeric.scalars).enumerated() {
        let error = abs(a - n)
        let allowed = absoluteTolerance + relativeTolerance * abs(n)
        let relative = n == 0 ? (error == 0 ? 0 : Double.infinity) : error / abs(n)
        let ok = error <= allowed  // false for NaN
        passed = passed && ok
        if !(abs(a) <= absoluteTolerance && abs(n) <= absoluteTolerance) { live += 1 }  // NaN: live
        maxAbsolute = error.isNaN || maxAbsolute.isNaN ? .nan : max(maxAbsolute, error)
        maxRelative = relative.isNaN || maxRelative.isNaN ? .nan : max(maxRelative, relative)
        let score =
          error.isNaN ? .infinity : allowed > 0 ? error / allowed : (error == 0 ? 0 : .infinity)
        if worst == nil || score > worst!.score { worst = (offset, score) }
      }
      self.maxAbsoluteError = maxAbsolute
      self.maxRelativeError = maxRelative
      self.liveElements = live
      self.status = !passed ? .failed : live > 0 ? .passed : .vacuous
      if let worst {
        worstIndex = numeric.shape.isEmpty ? [] : rowMajorIndex(worst.offset, shape: shape)
        worstAnalytic = analytic.scalars[worst.offset]
        worstNumeric = numeric.scalars[worst.offset]
      } else {
        worstIndex = nil
        worstAnalytic = 0
        worstNumeric = 0
      }
    }
  }

  /// The label of the differentiated node.
  public var output: String
  /// The checked graph's scalar type, `"F32"` or `"F64"`.
  public var dtypeName: String
  /// The central-difference step ε.
  public var epsilon: Double
  /// atol in |a − n| ≤ atol + rtol·|n|.
  public var absoluteTolerance: Double
  /// rtol in |a − n| ≤ atol + rtol·|n|.
  public var relativeTolerance: Double
  /// One entry per checked node, in the order they were given.
  public var entries: [Entry]

  /// `.failed` when any entry failed; otherwise `.passed` when at least one element of one
  /// entry is live, `.vacuous` when none is (nothing checked, or every gradient within atol
  /// of zero on both sides).
  public var status: Status {
    if entries.contains(where: { $0.status == .failed }) { return .failed }
    return liveElements > 0 ? .passed : .vacuous
  }

  /// Whether the check passed: no element of any node outside the tolerance, and at least one
  /// live element (`status == .passed`). Vacuous entries beside live ones do not fail the
  /// report; they are listed in `vacuous` and marked in the table.
  public var passed: Bool { status == .passed }

  /// The entries with an element outside the tolerance.
  public var failures: [Entry] { entries.filter { $0.status == .failed } }

  /// The entries whose elements are all vacuous: nothing was checked for them.
  public var vacuous: [Entry] { entries.filter { $0.status == .vacuous } }

  /// Live elements over all entries: those with |a| > atol or |n| > atol.
  public var liveElements: Int { entries.reduce(0) { $0 + $1.liveElements } }

  /// Vacuous elements over all entries: |a| ≤ atol and |n| ≤ atol.
  public var vacuousElements: Int { entries.reduce(0) { $0 + $1.vacuousElements } }

  public var description: String {
    var lines = [
      "Gradient check of \(output) (\(dtypeName) graph, central differences in F64)",
      "eps = \(reportError(epsilon)), pass when |analytic - numeric| <= "
        + "\(reportError(absoluteTolerance)) + \(reportError(relativeTolerance)) * |numeric|",
    ]
    guard !entries.isEmpty else {
      lines.append("no nodes checked (the graph has no parameter nodes; pass withRespectTo:)")
      return lines.joined(separator: "\n")
    }
    let header = [
      "node", "shape", "max abs err", "max rel err", "worst at", "analytic", "numeric", "result",
    ]
    let rows = entries.map { entry -> [String] in
      [
        entry.label, "\(entry.shape)", reportError(entry.maxAbsoluteError),
        reportError(entry.maxRelativeError), entry.worstIndex.map { "\($0)" } ?? "-",
        reportValue(entry.worstAnalytic), reportValue(entry.worstNumeric), reportWord(entry.status),
      ]
    }
    let widths = header.indices.map { column in
      ([header] + rows).map { $0[column].count }.max()!
    }
    func line(_ cells: [String]) -> String {
      zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    lines.append(line(header))
    lines.append(line(widths.map { String(repeating: "-", count: $0) }))
    lines += rows.map(line)
    let (failed, empty, total) = (failures.count, vacuous.count, entries.count)
    let vacuousNote =
      empty == 0 ? "" : "; \(empty) vacuous (every element within atol of 0 on both sides)"
    switch status {
    case .passed: lines.append("passed: \(total - empty) of \(total) nodes" + vacuousNote)
    case .failed: lines.append("FAILED: \(failed) of \(total) nodes" + vacuousNote)
    case .vacuous:
      lines.append(
        "VACUOUS: nothing checked, every element of the \(total) nodes is within atol of 0 on "
          + "both sides")
    }
    return lines.joined(separator: "\n")
  }
}

// How the checks' reports print (`GradientCheckReport`, `ForwardModeCheck`), in one place.

/// The word a report prints for a verdict.
func reportWord(_ status: GradientCheckReport.Status) -> String {
  switch status {
  case .passed: "ok"
  case .failed: "FAIL"
  case .vacuous: "vacuous"
  }
}

/// An error or a tolerance as a report prints it: two significant digits, as `1.5e-07`.
func reportError(_ x: Double) -> String {
  x.isFinite ? String(format: "%.1e", x) : "\(x)"
}

/// A value as a report prints it: nine significant digits, enough to tell two Floats apart.
func reportValue(_ x: Double) -> String {
  x.isFinite ? String(format: "%.9g", x) : "\(x)"
}
