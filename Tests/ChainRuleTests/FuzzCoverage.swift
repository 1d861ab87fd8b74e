import Foundation

@testable import ChainRule

/// What a fuzz run really checked: the drawn nodes that have a gradient (not the constants,
/// the loss weights Rₛ or the reduction), their elements, and how many of those were live
/// (|analytic| or |numeric| above atol) rather than vacuous (both within atol of 0, so no
/// error could show).
///
/// Per op type, an op node's VJP is under a live test where a gradient it feeds is live: the
/// live elements of its checked operands are counted for it (an operand used twice, once).
struct FuzzCoverage: Sendable {
  var graphs = 0
  var nodes = 0
  var elements = 0
  var liveElements = 0
  var vacuousNodes = 0
  /// Seeds of graphs with no live element at all.
  var graphsWithoutLiveElements: [UInt64] = []
  /// Per op type: how many nodes, and the live elements of their operands' gradients.
  var opNodes: [String: Int] = [:]
  var opLiveElements: [String: Int] = [:]
  /// Per op type: nodes with at least one checked operand, and those of them none of whose
  /// checked operands had a live element.
  var opCheckedNodes: [String: Int] = [:]
  var opVacuousNodes: [String: Int] = [:]

  var vacuousElements: Int { elements - liveElements }

  static func typeName(_ operation: any DifferentiableOperation) -> String {
    String(describing: type(of: operation))
  }

  mutating func add<Scalar>(
    _ report: GradientCheckReport, of drawn: RandomGraph<Scalar>, seed: UInt64
  ) {
    graphs += 1
    nodes += report.entries.count
    elements += report.entries.reduce(0) { $0 + $1.numeric.count }
    liveElements += report.liveElements
    vacuousNodes += report.vacuous.count
    if report.liveElements == 0 { graphsWithoutLiveElements.append(seed) }
    var liveByNode: [Int: Int] = [:]
    for entry in report.entries { liveByNode[entry.node] = entry.liveElements }
    for node in drawn.graph.nodes.prefix(drawn.reductionStart) {
      guard let operation = node.operation else { continue }
      let name = Self.typeName(operation)
      opNodes[name, default: 0] += 1
      let operands = Set(node.inputs.map(\.id)).compactMap { liveByNode[$0] }
      guard !operands.isEmpty else { continue }
      let live = operands.reduce(0, +)
      opCheckedNodes[name, default: 0] += 1
      opLiveElements[name, default: 0] += live
      if live == 0 { opVacuousNodes[name, default: 0] += 1 }
    }
  }

  mutating func merge(_ other: FuzzCoverage) {
    graphs += other.graphs
    nodes += other.nodes
    elements += other.elements
    liveElements += other.liveElements
    vacuousNodes += other.vacuousNodes
    graphsWithoutLiveElements += other.graphsWithoutLiveElements
    opNodes.merge(other.opNodes, uniquingKeysWith: +)
    opLiveElements.merge(other.opLiveElements, uniquingKeysWith: +)
    opCheckedNodes.merge(other.opCheckedNodes, uniquingKeysWith: +)
    opVacuousNodes.merge(other.opVacuousNodes, uniquingKeysWith: +)
  }

  var summary: String {
    func percent(_ part: Int, _ whole: Int) -> String {
      String(format: "%.1f %%", 100 * Double(part) / Double(max(whole, 1)))
    }
    var lines = [
      "fuzz coverage: \(graphs) graphs, \(nodes) checked nodes, \(elements) checked elements "
        + "(drawn nodes with a gradient; constants, loss weights and reduction not counted)",
      "  live elements \(liveElements), vacuous \(vacuousElements) "
        + "(\(percent(vacuousElements, elements))); vacuous nodes \(vacuousNodes) "
        + "(\(percent(vacuousNodes, nodes))); graphs without a live element: "
        + "\(graphsWithoutLiveElements.count)",
      "  per op: live elements of the gradients its VJP feeds; nodes; nodes with a checked "
        + "operand; of those, nodes feeding only vacuous gradients",
    ]
    for name in opNodes.keys.sorted() {
      let checked = opCheckedNodes[name, default: 0]
      let vacuous = opVacuousNodes[name, default: 0]
      lines.append(
        "    \(name): \(opLiveElements[name, default: 0]) live; \(opNodes[name]!) nodes; "
          + "\(checked) checked; \(vacuous) vacuous (\(percent(vacuous, checked)))")
    }
    return lines.joined(separator: "\n")
  }
}
