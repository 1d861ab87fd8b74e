import Foundation

/// The outcome of `Graph.checkGradients(of:withRespectTo:…)`: one entry per checked node.
///
/// `description` prints a table: per node the largest absolute error |a − n|, the largest
/// relative error |a − n| / |n|, the worst element (the one furthest past, or nearest to, the
/// tolerance atol + rtol·|n|) with its analytic value a and numeric value n, and ok/FAIL.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
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
    /// Whether every element satisfies |a − n| ≤ atol + rtol·|n|.
    public var passed: Bool

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
      for (offset, (a, n)) in zip(analytic.scalars, numeric.scalars).enumerated() {
        let error = abs(a - n)
        let allowed = absoluteTolerance + relativeTolerance * abs(n)
        let relative = n == 0 ? (error == 0 ? 0 : Double.infinity) : error / abs(n)
        let ok = error <= allowed  // false for NaN
        passed = passed && ok
        maxAbsolute = error.isNaN || maxAbsolute.isNaN ? .nan : max(maxAbsolute, error)
        maxRelative = relative.isNaN || maxRelative.isNaN ? .nan : max(maxRelative, relative)
        let score =
          error.isNaN ? .infinity : allowed > 0 ? error / allowed : (error == 0 ? 0 : .infinity)
        if worst == nil || score > worst!.score { worst = (offset, score) }
      }
      self.maxAbsoluteError = maxAbsolute
      self.maxRelativeError = maxRelative
      self.passed = passed
      if let worst {
        worstIndex = numeric.shape.isEmpty ? [] : Self.multiIndex(worst.offset, shape: shape)
        worstAnalytic = analytic.scalars[worst.offset]
        worstNumeric = numeric.scalars[worst.offset]
      } else {
        worstIndex = nil
        worstAnalytic = 0
        worstNumeric = 0
      }
    }

    static func multiIndex(_ offset: Int, shape: [Int]) -> [Int] {
      var index = Array(repeating: 0, count: shape.count)
      var rest = offset
      for axis in shape.indices.reversed() {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
      }
      return index
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

  /// Whether every element of every checked node passed (true when nothing was checked).
  public var passed: Bool { entries.allSatisfy(\.passed) }

  /// The entries that failed.
  public var failures: [Entry] { entries.filter { !$0.passed } }

  public var description: String {
    var lines = [
      "Gradient check of \(output) (\(dtypeName) graph, central differences in F64)",
      "eps = \(format(epsilon)), pass when |analytic - numeric| <= "
        + "\(format(absoluteTolerance)) + \(format(relativeTolerance)) * |numeric|",
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
        entry.label, "\(entry.shape)", format(entry.maxAbsoluteError),
        format(entry.maxRelativeError), entry.worstIndex.map { "\($0)" } ?? "-",
        value(entry.worstAnalytic), value(entry.worstNumeric), entry.passed ? "ok" : "FAIL",
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
    let failed = failures.count
    lines.append(
      failed == 0
        ? "passed: \(entries.count) of \(entries.count) nodes"
        : "FAILED: \(failed) of \(entries.count) nodes")
    return lines.joined(separator: "\n")
  }

  private func format(_ x: Double) -> String {
    x.isFinite ? String(format: "%.1e", x) : "\(x)"
  }

  private func value(_ x: Double) -> String {
    x.isFinite ? String(format: "%.9g", x) : "\(x)"
  }
}
