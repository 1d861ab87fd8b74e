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
    /// The product as a formula: `(−1) · y · 1/a2 · …`.
    public var formula: String {
      factors.map { ChainText.grouped($0.formula) }.joined(separator: " · ")
    }
    /// The product with the numbers: `(-1) · 1 · 2.11 · …`.
    public var numbers: String { ChainRuleExplanation.numbers(factors.map(\.value)) }
  }

  /// The loss's name, e.g. `L`.
  public var loss: String
  /// The differentiated element's name, e.g. `w1[0, 0]`.
  public var element: String
  /// Every path from the element to the loss, in a deterministic order.
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
  /// The product of the factored factors' values (equal to `sum` up to rounding).
  public var factoredValue: Double { paths.isEmpty ? 0 : factors.map(\.value).reduce(1, *) }

  /// Everything above, one statement per line.
  public var description: String {
    let derivative = "∂\(loss)/∂\(element)"
    guard !paths.isEmpty else {
      return "\(derivative) = 0: no path leads from \(element) to \(loss)"
    }
    var lines = [
      "\(derivative) by the chain rule: \(paths.count) path\(paths.count == 1 ? "" : "s") "
        + "from \(element) to \(loss)"
    ]
    for (number, path) in paths.enumerated() {
      lines.append("path \(number + 1): " + path.elements.joined(separator: " → "))
      lines.append("  = " + path.formula)
      lines.append("  = " + path.numbers + " = " + DotText.number(path.value))
    }
    lines.append("sum over the paths: \(derivative) = \(DotText.shortest(sum))")
    lines.append("factored: \(derivative) = \(formula)")
    lines.append("  = \(numbers) = \(DotText.number(factoredValue))")
    lines += notes.map { "  where " + $0 }
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
