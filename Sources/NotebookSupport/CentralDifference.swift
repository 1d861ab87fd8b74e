import ChainRule
import Foundation

/// Compares back-propagated parameter gradients with central differences.
///
/// STAND-IN: the library's `gradientCheck` (Sources/ChainRule/Checking) replaces this once it
/// is on main; notebook 5 calls only `run(…)` and `description`, so the swap is one call.
///
/// For each chosen element p of a parameter, the numeric derivative is
/// `(L(p + ε) − L(p − ε)) / 2ε`, with an error of order ε²·L‴; the analytic one is what
/// `backward` accumulated into `Parameter.gradient`. The relative error is
/// `|analytic − numeric| / max(|analytic|, |numeric|, 1e-8)`.
public struct CentralDifferenceCheck: CustomStringConvertible {
  /// One compared element.
  public struct Row: Sendable {
    /// The parameter's name.
    public var parameter: String
    /// The element's flat (row-major) index.
    public var index: Int
    /// ∂L/∂p from back-propagation.
    public var analytic: Double
    /// (L(p + ε) − L(p − ε)) / 2ε.
    public var numeric: Double
    /// |analytic − numeric| / max(|analytic|, |numeric|, 1e-8).
    public var relativeError: Double
  }

  /// The compared elements, parameter by parameter.
  public var rows: [Row]
  /// The step ε.
  public var epsilon: Double

  /// The largest relative error of any row.
  public var maximumRelativeError: Double { rows.map(\.relativeError).max() ?? 0 }

  /// Checks `elementsPerParameter` elements of each parameter, drawn from `generator`.
  ///
  /// The parameters' `gradient` must hold ∂L/∂p from one backward pass of the same loss;
  /// every parameter's value is restored afterwards.
  /// - Parameters:
  ///   - parameters: the parameters to probe.
  ///   - elementsPerParameter: how many elements of each (all of them when it has fewer).
  ///   - epsilon: the step ε.
  ///   - generator: picks the elements.
  ///   - loss: evaluates L with the parameters' current values.
  public static func run(
    parameters: [Parameter<Double>], elementsPerParameter: Int, epsilon: Double = 1e-6,
    using generator: inout some RandomNumberGenerator, loss: () -> Double
  ) -> CentralDifferenceCheck {
    var rows: [Row] = []
    for parameter in parameters {
      let original = parameter.value
      let count = original.count
      let chosen =
        count <= elementsPerParameter
        ? Array(0..<count) : Array(generator.permutation(of: count).prefix(elementsPerParameter))
      for index in chosen.sorted() {
        func evaluate(_ shift: Double) -> Double {
          var scalars = original.scalars
          scalars[index] += shift
          parameter.value = Tensor(shape: original.shape, scalars: scalars)
          return loss()
        }
        let numeric = (evaluate(epsilon) - evaluate(-epsilon)) / (2 * epsilon)
        parameter.value = original
        let analytic = parameter.gradient.scalars[index]
        let scale = max(abs(analytic), abs(numeric), 1e-8)
        rows.append(
          Row(
            parameter: parameter.name, index: index, analytic: analytic, numeric: numeric,
            relativeError: abs(analytic - numeric) / scale))
      }
    }
    return CentralDifferenceCheck(rows: rows, epsilon: epsilon)
  }

  /// Whether a row's two derivatives agree: |analytic − numeric| ≤
  /// `relativeTolerance` · max(|analytic|, |numeric|) + `absoluteTolerance`. The absolute part
  /// covers the rounding of the difference quotient itself, about 1e-16 · |L| / ε.
  public static func agrees(_ row: Row) -> Bool {
    abs(row.analytic - row.numeric)
      <= relativeTolerance * max(abs(row.analytic), abs(row.numeric)) + absoluteTolerance
  }

  /// Whether every row agrees.
  public var passes: Bool { rows.allSatisfy(Self.agrees) }

  /// A table of the rows (derivatives to 6 significant digits, each row `ok` or `FAIL`) and a
  /// verdict; no raw rounding errors, so the text is the same on every machine.
  public var description: String {
    var lines = [
      "central differences, ε = \(fmt(epsilon, 3))",
      "parameter        element      backprop       numeric",
    ]
    for row in rows {
      lines.append(
        row.parameter.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
          + pad(String(row.index), 7) + " " + pad(fmt(row.analytic), 13) + " "
          + pad(fmt(row.numeric), 13) + "   " + (Self.agrees(row) ? "ok" : "FAIL"))
    }
    lines.append(
      "\(rows.count) elements; tolerance \(fmt(Self.relativeTolerance, 1)) relative + "
        + "\(fmt(Self.absoluteTolerance, 1)) absolute: " + (passes ? "pass" : "FAIL"))
    return lines.joined(separator: "\n")
  }

  /// The relative part of the tolerance.
  public static let relativeTolerance = 1e-6
  /// The absolute part of the tolerance.
  public static let absoluteTolerance = 1e-9
}
