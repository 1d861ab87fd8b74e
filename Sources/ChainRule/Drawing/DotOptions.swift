/// How `Graph.dot(reaching:options:)` and the backward frames draw a graph.
///
/// The defaults are chosen for a slide: scopes (layers, the loss) side by side as columns,
/// data flowing down inside each, fonts of 12–14 pt, small tensors as grids of 3 significant
/// digits. The seed 000 network then renders about 1,000 × 700 pt, so its smallest text is
/// still over 10 px high when the SVG is shown 1,280 px wide.
///
/// ```swift
/// var options = DotOptions()
/// options.collapse = ["loss"]
/// options.edgeLabels = .formulas
/// let text = graph.dot(reaching: loss, options: options)
/// ```
public struct DotOptions: Sendable, Equatable {
  /// The direction data flows in the drawing.
  public enum Direction: Sendable, Equatable {
    /// Top to bottom inside each scope, the scopes (layers, the loss) side by side as columns
    /// from left to right, like a page of a newspaper; edges between scopes do not push the
    /// columns down. Without at least two scopes this is `.topToBottom`.
    case scopeColumns
    /// Inputs on the left, the loss on the right (`rankdir=LR`).
    case leftToRight
    /// Inputs at the top, the loss at the bottom (`rankdir=TB`).
    case topToBottom
  }

  /// What each edge operand → result is labelled with.
  ///
  /// Where the edge has a local derivative (element-wise ops without broadcasting, and any op
  /// whose result and operand hold one element each) the label is `∂y/∂x = …`; elsewhere it
  /// is the vector–Jacobian product that carries the gradient back, `x̄ = ȳ·w1ᵀ`, with ȳ the
  /// result's gradient and x̄ the operand's share; a broadcast operand (a bias) shows the sum
  /// over the batch, `b̄1 = Σ_batch ȳ`.
  public enum EdgeLabels: Sendable, Equatable {
    /// No edge labels.
    case none
    /// The local derivative's formula, e.g. `∂a1/∂z1 = 1 − a1²`, or the VJP.
    case formulas
    /// The local derivative's number where it is one (`∂a1/∂z1 = 0.822`), else its formula or
    /// the VJP.
    case numbers
    /// Formula and number where the number exists: `∂a1/∂z1 = 1 − a1² = 0.822`.
    case formulasAndNumbers
  }

  /// Scope columns (the default), left to right or top to bottom.
  public var direction: Direction = .scopeColumns
  /// Whether node labels show values.
  public var showsValues = true
  /// Whether node labels show gradients from the last backward pass (never for constants,
  /// gradient-free inputs and class labels, which have none).
  public var showsGradients = true
  /// Whether node labels show shapes such as `[1, 2]`.
  public var showsShapes = true
  /// What edges are labelled with.
  public var edgeLabels: EdgeLabels = .numbers
  /// Tensors of rank at most 2 with at most this many elements print as aligned grids;
  /// larger ones as their shape and min / mean / max.
  public var maximumElementsShown = 12
  /// Significant digits of the numbers in labels (`%.3g` for 3).
  public var significantDigits = 3
  /// Scopes drawn as one node each: a name matches a scope path (`"model.layer0"`) or any
  /// single scope in it (`"loss"`). The node shows the scope's last node's value and
  /// gradient; edges into it are labelled with the derivative through the whole scope.
  public var collapse: [String] = []
  /// Whether a note under the drawing says what the edge labels mean.
  public var showsLegend = true

  /// The default drawing: scope columns, values, gradients and shapes shown, numeric edge
  /// labels where they exist, nothing collapsed.
  public init() {}
}
