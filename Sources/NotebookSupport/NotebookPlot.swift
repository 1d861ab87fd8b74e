import Foundation

/// A minimal SVG line and scatter plot for the notebooks, written by hand so they need nothing
/// outside the package.
///
/// Stand-in until the library's `LinePlot` (Sources/ChainRule/Drawing/LinePlot.swift) lands:
/// the notebooks only use `init(title:xLabel:yLabel:)`, `add(_:x:y:style:)` and `svg`, so the
/// swap touches those calls only. Coordinates are rounded to 0.1 px, so the file is the same
/// on every machine for the same numbers.
public struct NotebookPlot: Sendable {
  /// How a series is drawn.
  public enum Style: Sendable {
    /// Points joined by a polyline.
    case line
    /// Separate dots.
    case points
  }

  /// One named series of (x, y) points.
  public struct Series: Sendable {
    /// The legend entry.
    public var name: String
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates, as many as `x`.
    public var y: [Double]
    /// Line or dots.
    public var style: Style
  }

  /// The heading above the plot.
  public var title: String
  /// The label under the x axis.
  public var xLabel: String
  /// The label beside the y axis.
  public var yLabel: String
  /// The series, drawn in order with the colours of `palette`.
  public private(set) var series: [Series] = []
  /// Where the legend goes: top right (default) or top left of the plot area.
  public var legendAtLeft = false
  /// Width and height of the picture in pixels.
  public var size = (width: 640.0, height: 400.0)

  /// Series colours, in order.
  public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

  /// An empty plot.
  public init(title: String, xLabel: String, yLabel: String) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
  }

  /// Adds a series.
  /// - Precondition: `x` and `y` have the same, nonzero count, and every value is finite.
  public mutating func add(_ name: String, x: [Double], y: [Double], style: Style = .line) {
    precondition(
      x.count == y.count && !x.isEmpty,
      "NotebookPlot.add(\(name)): \(x.count) x values and \(y.count) y values")
    precondition(
      (x + y).allSatisfy(\.isFinite), "NotebookPlot.add(\(name)): a value is not finite")
    series.append(Series(name: name, x: x, y: y, style: style))
  }

  /// The plot as an SVG document.
  public var svg: String {
    let (width, height) = size
    let left = 70.0
    let right = 20.0
    let top = 40.0
    let bottom = 55.0
    let xs = series.flatMap(\.x)
    let ys = series.flatMap(\.y)
    let xTicks = Self.ticks(xs.min() ?? 0, xs.max() ?? 1)
    let yTicks = Self.ticks(ys.min() ?? 0, ys.max() ?? 1)
    let (x0, x1) = (xTicks.first!, xTicks.last!)
    let (y0, y1) = (yTicks.first!, yTicks.last!)
    func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (width - left - right) }
    func py(_ y: Double) -> Double {
      height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)
    }
    func n(_ v: Double) -> String { fixedPoint(v) }

    var out: [String] = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\""
        + " viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\" font-size=\"12\">",
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
      "<text x=\"\(n(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
        + "\(Self.escaped(title))</text>",
    ]
    for tick in xTicks {
      let x = px(tick)
      out.append(
        "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(height - bottom))\""
          + " stroke=\"#e0e0e0\"/>")
      out.append(
        "<text x=\"\(n(x))\" y=\"\(n(height - bottom + 16))\" text-anchor=\"middle\">"
          + "\(Self.label(tick))</text>")
    }
    for tick in yTicks {
      let y = py(tick)
      out.append(
        "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(width - right))\" y2=\"\(n(y))\""
          + " stroke=\"#e0e0e0\"/>")
      out.append(
        "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">"
          + "\(Self.label(tick))</text>")
    }
    out.append(
      "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(width - left - right))\""
        + " height=\"\(n(height - top - bottom))\" fill=\"none\" stroke=\"#444\"/>")
    out.append(
      "<text x=\"\(n((left + width - right) / 2))\" y=\"\(n(height - 14))\""
        + " text-anchor=\"middle\">\(Self.escaped(xLabel))</text>")
    out.append(
      "<text x=\"16\" y=\"\(n((top + height - bottom) / 2))\" text-anchor=\"middle\""
        + " transform=\"rotate(-90 16 \(n((top + height - bottom) / 2)))\">"
        + "\(Self.escaped(yLabel))</text>")
    for (index, entry) in series.enumerated() {
      let colour = Self.palette[index % Self.palette.count]
      let points = zip(entry.x, entry.y).map { (px($0), py($1)) }
      switch entry.style {
      case .line:
        let list = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        out.append(
          "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(list)\"/>")
      case .points:
        for (x, y) in points {
          out.append("<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"3\" fill=\"\(colour)\"/>")
        }
      }
      // Legend, top right, one row per series.
      let ly = top + 16 + Double(index) * 18
      let lx = legendAtLeft ? left + 12 : width - right - 150
      out.append(
        "<rect x=\"\(n(lx))\" y=\"\(n(ly - 9))\" width=\"14\" height=\"10\" fill=\"\(colour)\"/>")
      out.append("<text x=\"\(n(lx + 20))\" y=\"\(n(ly))\">\(Self.escaped(entry.name))</text>")
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten, about
  /// five of them.
  static func ticks(_ low: Double, _ high: Double) -> [Double] {
    var (low, high) = (low, high)
    if high - low < 1e-12 * max(1, abs(low)) {
      low -= 0.5
      high += 0.5
    }
    let rough = (high - low) / 5
    let power = pow(10, floor(log10(rough)))
    let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
    let first = floor(low / step + 1e-9) * step
    let last = ceil(high / step - 1e-9) * step
    let count = Int(((last - first) / step).rounded())
    return (0...count).map { first + Double($0) * step }
  }

  static func label(_ value: Double) -> String {
    let text = String(format: "%.6g", value)
    return text == "-0" ? "0" : text
  }

  static func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }
}

private func fixedPoint(_ value: Double) -> String {
  let text = String(format: "%.1f", value)
  return text == "-0.0" ? "0.0" : text
}
