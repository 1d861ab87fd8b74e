/// The chain rule spelled out for one element of one node: every path from it to the loss,
/// each path's product of local derivatives (as formulas and as numbers of the current
/// forward pass), their sum, and the same sum factored the way a course writes it.
///
/// For the seed 000 network, `graph.explain(L, withRespectTo: w1, at: [0, 0])` reads
/// `(a2 − y) · w2 · (1 − a1²) · x[0, 0]` = `(-0.5261) · 0.7 · 0.822 · 0.5` = −0.1514.
public struct ChainRuleExplanation: Sendable, CustomStringConvertible {
  /// One local derivative ∂result/∂operand, or a product/sum of them after factoring.
  public struct Factor: Sendable, Equatable {
    /// Which derivative this is, e.g. `∂a1/∂z1`.
    public var derivative: String
    /// It as a formula in the graph's names, e.g. `1 − a1²`.
    public var formula: String
    /// Its value at the current forward pass.
    public var value: Double
  }

  /// One path from the element to the loss and the chain-rule product along it.
  public struct Path: Sendable, Equatable {
    /// The elements visited, from the differentiated element to the loss.
    public var elements: [String]
    /// The local derivatives along the path, from the loss back to the element (the order
    /// in which back-propagation multiplies them).
    public var factors: [Factor]
    /// The product of the factors' values.
    public var value: Double
    /// How many paths read exactly like this one (`c·c` reaches `c` twice, through the same
    /// elements with the same factors); `sum` counts each of them.
    public var multiplicity = 1
    /// The factors that are not exactly 1 (an addition's `∂(a + b)/∂a = 1` says nothing).
    public var shownFactors: [Factor] { factors.filter { !($0.formula == "1" && $0.value == 1) } }
    /// The product as a formula, unit factors left out: `(−1) · y · 1/a2 · …`.
    public var formula: String {
      let shown = shownFactors
      return shown.isEmpty
        ? "1" : shown.map { ChainText.grouped($0.formula) }.joined(separator: " · ")
    }
    /// The product with the numbers, unit factors left out: `(-1) · 1 · 2.11 · …`.
    public var numbers: String {
      let shown = shownFactors
      return shown.isEmpty ? "1" : ChainRuleExplanation.numbers(shown.map(\.value))
    }
  }

  /// The loss's name, e.g. `L`.
  public var loss: String
  /// The differentiated element's name, e.g. `w1[0, 0]`.
  public var element: String
  /// Every distinct path from the element to the loss, in a deterministic order; paths that
  /// read the same are listed once with their `multiplicity`.
  public var paths: [Path]
  /// ∂loss/∂element: the sum of the paths' products.
  public var sum: Double
  /// The sum factored: the local derivatives every path shares, in order, without unit
  /// factors; groups of paths that part and meet again summed into one factor, and known
  /// adjacent pairs simplified (see `notes`).
  public var factors: [Factor]
  /// What each simplification did, with the algebra that makes it exact.
  public var notes: [String]

  /// The factored product as a formula: `(a2 − y) · w2 · (1 − a1²) · x[0, 0]`; `0` when no
  /// path leads from the element to the loss.
  public var formula: String { paths.isEmpty ? "0" : Self.product(factors.map(\.formula)) }
  /// The factored product with the numbers: `(-0.5261) · 0.7 · 0.822 · 0.5`.
  public var numbers: String { paths.isEmpty ? "0" : Self.numbers(factors.map(\.value)) }
  /// Whether the factored form says more than the paths: it has several factors and there
  /// are several paths to factor, or a simplification was applied.
  public var isFactored: Bool {
    factors.count > 1
      && (paths.count > 1 || paths.contains { $0.multiplicity > 1 } || !notes.isEmpty)
  }
  /// The product of the factored factors' values (equal to `sum` up to rounding).
  public var factoredValue: Double { paths.isEmpty ? 0 : factors.map(\.value).reduce(1, *) }

  /// Everything above, one statement per line.
  public var description: String {
    let derivative = "∂\(loss)/∂\(element)"
    guard !paths.isEmpty else {
      return "\(derivative) = 0: no path leads from \(element) to \(loss)"
    }
    let count = paths.map(\.multiplicity).reduce(0, +)
    var heading =
      "\(derivative) by the chain rule: \(count) path\(count == 1 ? "" : "s") from \(element) to "
      + loss
    if count != paths.count { heading += " (\(paths.count) distinct)" }
    var lines = [heading]
    for (number, path) in paths.enumerated() {
      let times = path.multiplicity > 1 ? " (×\(path.multiplicity))" : ""
      lines.append("path \(number + 1)\(times): " + path.elements.joined(separator: " → "))
      lines.append("  = " + path.formula)
      let each = path.multiplicity > 1 ? " each" : ""
      lines.append("  = " + path.numbers + " = " + DotText.number(path.value) + each)
    }
    lines.append("sum over the paths: \(derivative) = \(DotText.shortest(sum))")
    if isFactored {
      lines.append("factored: \(derivative) = \(formula)")
      lines.append("  = \(numbers) = \(DotText.number(factoredValue))")
      lines += notes.map { "  where " + $0 }
    }
    return lines.joined(separator: "\n")
  }

  static func product(_ formulas: [String]) -> String {
    if formulas.count <= 1 { return formulas.first ?? "1" }
    return formulas.map(ChainText.grouped).joined(separator: " · ")
  }

  static func numbers(_ values: [Double]) -> String {
    values.map { value in
      let text = DotText.number(value)
      return value < 0 ? "(\(text))" : text
    }.joined(separator: " · ")
  }
}

/// Why an explanation could not be given.
public enum ExplanationError: Error, Equatable, CustomStringConvertible {
  /// The loss holds more than one element.
  case lossNotScalar(loss: String, shape: [Int])
  /// The element index does not fit the node's shape.
  case indexOutOfRange(node: String, shape: [Int], index: [Int])
  /// More paths than the limit lead from the element to the loss.
  case tooManyPaths(element: String, count: Double, limit: Int)

  /// What went wrong, naming the path, the program or the request.
  public var description: String {
    switch self {
    case .lossNotScalar(let loss, let shape):
      return "explain: the loss \(loss) has shape \(DotText.shape(shape)); it must hold one element"
    case .indexOutOfRange(let node, let shape, let index):
      return "explain: index \(DotText.shape(index)) does not fit \(node) of shape "
        + DotText.shape(shape)
    case .tooManyPaths(let element, let count, let limit):
      return "explain: \(DotText.number(count)) paths lead from \(element) to the loss, "
        + "over the limit of \(limit)"
    }
  }
}
