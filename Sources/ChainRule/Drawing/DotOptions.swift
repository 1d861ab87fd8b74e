/// How `Graph.dot(reaching:options:)` draws a graph.
///
/// ```swift
/// var options = DotOptions()
/// options.direction = .topToBottom
/// options.edgeLabels = .formulas
/// let text = graph.dot(reaching: loss, options: options)
/// ```
public struct DotOptions: Sendable, Equatable {
  /// The direction data flows in the drawing.
  public enum Direction: Sendable, Equatable {
    /// Inputs on the left, the loss on the right (`rankdir=LR`).
    case leftToRight
    /// Inputs at the top, the loss at the bottom (`rankdir=TB`).
    case topToBottom
  }

  /// What each edge operand → result is labelled with.
  public enum EdgeLabels: Sendable, Equatable {
    /// No edge labels.
    case none
    /// The local derivative's formula, e.g. `∂a1/∂z1 = 1 − a1²`.
    case formulas
    /// The local derivative's number where it is one (operand and result hold one element
    /// each: `∂a1/∂z1 = 0.822`), its formula elsewhere.
    case numbers
    /// Formula and number where the number exists: `∂a1/∂z1 = 1 − a1² = 0.822`.
    case formulasAndNumbers
  }

  /// Left to right (the default) or top to bottom.
  public var direction: Direction = .leftToRight
  /// Whether node labels show values (for tensors of at most `maximumElementsShown` elements).
  public var showsValues = true
  /// Whether node labels show gradients from the last backward pass (same size limit).
  public var showsGradients = true
  /// Whether node labels show shapes such as `[1, 2]`.
  public var showsShapes = true
  /// What edges are labelled with.
  public var edgeLabels: EdgeLabels = .numbers
  /// Tensors with more elements than this show no values or gradients in their label.
  public var maximumElementsShown = 6
  /// Significant digits of the numbers in labels (`%.4g` for 4).
  public var significantDigits = 4

  /// The default drawing: left to right, values, gradients and shapes shown, numeric edge
  /// labels where they exist.
  public init() {}
}
