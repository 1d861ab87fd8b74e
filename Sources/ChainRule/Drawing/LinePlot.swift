import Foundation

/// A line chart of one or more named series of (x, y) points, drawn as a self-contained SVG
/// document: a frame, axes with "nice" ticks (steps of 1, 2 or 5 × 10ⁿ) and grid lines, tick
/// labels, the title and both axis labels, one coloured polyline per series and a legend.
///
/// ```swift
/// var plot = LinePlot(title: "Loss", xLabel: "epoch", yLabel: "cross-entropy")
/// plot.add("train", x: [1, 2, 3], y: [0.9, 0.5, 0.3])
/// plot.add("validation", x: [1, 2, 3], y: [1.0, 0.6, 0.45])
/// try plot.write(to: URL(fileURLWithPath: "loss.svg"))
/// ```
///
/// A series is drawn as a line (the default) or as separate dots (`style: .points`, for data
/// scattered under a fitted curve); the legend sits at the top right of the plotting area
/// unless `legendPlacement` says top left.
///
/// Either axis can be logarithmic (`xScale`, `yScale`), for costs that span decades: its ticks
/// are the powers of ten in range (with 2 and 5 between them when there are few), and points
/// at or below zero on it are skipped like non-finite ones.
///
/// Points with a non-finite coordinate are skipped and break the line there. The axes span
/// the finite points of all series, widened to whole ticks; an empty plot spans [0, 1] × [0, 1].
/// The same plot always gives byte-for-byte the same SVG.
public struct LinePlot: Sendable {
  /// How a series is drawn.
  public enum Style: Sendable {
    /// A polyline through the points, with a dot on each point when there are at most 60.
    case line
    /// A dot (radius 3 px) on each point and no line: a scatter plot.
    case points
  }

  /// Where the legend sits inside the plotting area.
  public enum LegendPlacement: Sendable {
    /// The top right corner (the default).
    case topRight
    /// The top left corner, for data that fills the top right.
    case topLeft
  }

  /// One named curve.
  public struct Series: Sendable {
    /// The name shown in the legend.
    public var name: String
    /// The points, drawn in this order.
    public var points: [(x: Double, y: Double)]
    /// Line or dots.
    public var style: Style

    /// A series from its points.
    public init(name: String, points: [(x: Double, y: Double)], style: Style = .line) {
      self.name = name
      self.points = points
      self.style = style
    }
  }

  /// The caption above the chart.
  public var title: String
  /// The label under the horizontal axis.
  public var xLabel: String
  /// The label beside the vertical axis.
  public var yLabel: String
  /// The curves, drawn and listed in the legend in this order.
  public var series: [Series]
  /// The document's width in pixels.
  public var width: Int
  /// The document's height in pixels.
  public var height: Int
  /// Where the legend sits: top right unless set to `.topLeft`.
  public var legendPlacement = LegendPlacement.topRight
  /// How the x axis maps values to positions: linear unless set to `.logarithmic`.
  public var xScale = Scale.linear
  /// How the y axis maps values to positions: linear unless set to `.logarithmic`.
  public var yScale = Scale.linear

  /// How an axis maps values to positions.
  public enum Scale: Sendable {
    /// Equal differences, equal distances.
    case linear
    /// Equal ratios, equal distances (log₁₀); only positive values can be drawn.
    case logarithmic
  }

  /// A plot with no series yet.
  public init(
    title: String, xLabel: String, yLabel: String, series: [Series] = [], width: Int = 720,
    height: Int = 440
  ) {
    require(width >= 200 && height >= 150, "LinePlot: \(width)×\(height) is too small")
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.width = width
    self.height = height
  }

  /// Appends a series whose i-th point is (x[i], y[i]), drawn as a line or as dots.
  /// - Precondition: `x` and `y` have the same count.
  public mutating func add(_ name: String, x: [Double], y: [Double], style: Style = .line) {
    require(x.count == y.count, "LinePlot.add: \(x.count) x values but \(y.count) y values")
    series.append(
      Series(name: name, points: Array(zip(x, y)).map { (x: $0, y: $1) }, style: style))
  }

  /// The colours given to the series in turn (colour-blind-safe, Okabe–Ito).
  public static let palette = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
  ]

  /// The plotting area inside the document: left, top, right, bottom edges in pixels.
  var frame: (left: Double, top: Double, right: Double, bottom: Double) {
    (72, 48, Double(width) - 24, Double(height) - 60)
  }

  /// Where a value sits along an axis of `scale`: the value, or its log₁₀ (NaN for a value
  /// at or below zero, which cannot be drawn on a logarithmic axis).
  static func position(_ value: Double, _ scale: Scale) -> Double {
    switch scale {
    case .linear: value
    case .logarithmic: value > 0 ? log10(value) : .nan
    }
  }

  /// Whether a point can be drawn: both coordinates finite on their axes.
  func isDrawable(_ point: (x: Double, y: Double)) -> Bool {
    Self.position(point.x, xScale).isFinite && Self.position(point.y, yScale).isFinite
  }

  /// The ticks on each axis; their first and last values are the axis's ends.
  var ticks: (x: [Double], y: [Double]) {
    let drawable = series.flatMap(\.points).filter(isDrawable)
    func axis(_ values: [Double], _ scale: Scale) -> [Double] {
      guard let low = values.min(), let high = values.max() else {
        return scale == .linear ? Self.niceTicks(0, 1) : [1, 10]
      }
      return scale == .linear ? Self.niceTicks(low, high) : Self.logTicks(low, high)
    }
    return (axis(drawable.map(\.x), xScale), axis(drawable.map(\.y), yScale))
  }

  /// The powers of ten from the last at or below `low` to the first at or above `high` (one
  /// decade at least), with 2× and 5× each power between them when they span three decades or
  /// fewer. Both ends must be positive.
  static func logTicks(_ low: Double, _ high: Double) -> [Double] {
    var first = Int(floor(log10(low) + 1e-9))
    var last = Int(ceil(log10(high) - 1e-9))
    if last <= first { (first, last) = (first, first + 1) }
    let multiples: [Double] = last - first <= 3 ? [1, 2, 5] : [1]
    var ticks: [Double] = []
    for exponent in first...last {
      let power = exponent < 0 ? 1 / pow(10, Double(-exponent)) : pow(10, Double(exponent))
      for multiple in multiples where exponent < last || multiple == 1 {
        ticks.append(multiple * power)
      }
    }
    return ticks
  }

  /// About five to ten evenly spaced ticks, whole multiples of a step of 1, 2 or 5 × 10ⁿ, from
  /// the last multiple at or below `low` to the first at or above `high`. Equal ends are
  /// widened by one unit of their magnitude (or to [v − 1, v + 1] for 0).
  static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
    var (low, high) = (low, high)
    if low == high {
      let pad = low == 0 ? 1 : pow(10, floor(log10(abs(low))))
      (low, high) = (low - pad, high + pad)
    }
    let rough = (high - low) / 6
    let exponent = floor(log10(rough))
    let unit = pow(10, abs(exponent))  // exact for the exponents of real data
    let mantissa = [1.0, 2, 5, 10].first { $0 * pow(10, exponent) >= rough } ?? 10
    let step = exponent < 0 ? mantissa / unit : mantissa * unit
    // k·step computed as k·mantissa ÷ 10ⁿ, so 6 × 5e-6 is the Double nearest 3e-5.
    func tick(_ k: Double) -> Double { exponent < 0 ? k * mantissa / unit : k * mantissa * unit }
    var first = floor(low / step + 1e-9)
    var last = ceil(high / step - 1e-9)
    if tick(first) > low { first -= 1 }
    if tick(last) < high { last += 1 }
    return stride(from: first, through: last, by: 1).map(tick)
  }

  /// The SVG document.
  public var svg: String {
    let (left, top, right, bottom) = frame
    let (xTicks, yTicks) = ticks
    let (xScale, yScale) = (xScale, yScale)
    let x0 = Self.position(xTicks.first!, xScale)
    let x1 = Self.position(xTicks.last!, xScale)
    let y0 = Self.position(yTicks.first!, yScale)
    let y1 = Self.position(yTicks.last!, yScale)
    func px(_ x: Double) -> Double {
      left + (Self.position(x, xScale) - x0) / (x1 - x0) * (right - left)
    }
    func py(_ y: Double) -> Double {
      bottom - (Self.position(y, yScale) - y0) / (y1 - y0) * (bottom - top)
    }

    var lines = [
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        + "viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\">",
      "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>",
      text(Double(width) / 2, 28, title, size: 16, anchor: "middle", weight: "bold"),
    ]
    // Grid lines and tick labels.
    let xDecimals = Self.decimals(xTicks)
    let yDecimals = Self.decimals(yTicks)
    for tick in xTicks {
      let x = Self.number(px(tick))
      lines.append(
        "<line x1=\"\(x)\" y1=\"\(Self.number(top))\" x2=\"\(x)\" y2=\"\(Self.number(bottom + 5))\" "
          + "stroke=\"#e5e7eb\"/>")
      let label = xScale == .linear ? Self.label(tick, decimals: xDecimals) : Self.logLabel(tick)
      lines.append(text(px(tick), bottom + 20, label, anchor: "middle"))
    }
    for tick in yTicks {
      let y = Self.number(py(tick))
      lines.append(
        "<line x1=\"\(Self.number(left - 5))\" y1=\"\(y)\" x2=\"\(Self.number(right))\" y2=\"\(y)\" "
          + "stroke=\"#e5e7eb\"/>")
      let label = yScale == .linear ? Self.label(tick, decimals: yDecimals) : Self.logLabel(tick)
      lines.append(text(left - 9, py(tick) + 4, label, anchor: "end"))
    }
    // The frame (axes) over the grid.
    lines.append(
      "<rect x=\"\(Self.number(left))\" y=\"\(Self.number(top))\" "
        + "width=\"\(Self.number(right - left))\" height=\"\(Self.number(bottom - top))\" "
        + "fill=\"none\" stroke=\"#374151\"/>")
    lines.append(text((left + right) / 2, Double(height) - 16, xLabel, size: 13, anchor: "middle"))
    let yMiddle = Self.number((top + bottom) / 2)
    lines.append(
      "<text x=\"18\" y=\"\(yMiddle)\" font-size=\"13\" text-anchor=\"middle\" "
        + "transform=\"rotate(-90 18 \(yMiddle))\">\(Self.escaped(yLabel))</text>")
    // The curves: one polyline per unbroken run of finite points, and a dot on each point
    // when there are few; a `.points` series is dots only.
    for (index, curve) in series.enumerated() {
      let colour = Self.palette[index % Self.palette.count]
      var runs: [[(x: Double, y: Double)]] = [[]]
      for point in curve.points {
        if isDrawable(point) {
          runs[runs.count - 1].append(point)
        } else if !runs[runs.count - 1].isEmpty {
          runs.append([])
        }
      }
      for run in runs where run.count > 1 && curve.style == .line {
        let points = run.map { "\(Self.number(px($0.x))),\(Self.number(py($0.y)))" }
        lines.append(
          "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" "
            + "stroke-linejoin=\"round\" points=\"\(points.joined(separator: " "))\"/>")
      }
      let finite = runs.joined()
      if finite.count <= 60 || curve.style == .points {
        let radius = curve.style == .points ? "3" : "2.5"
        for point in finite {
          lines.append(
            "<circle cx=\"\(Self.number(px(point.x)))\" cy=\"\(Self.number(py(point.y)))\" "
              + "r=\"\(radius)\" fill=\"\(colour)\"/>")
        }
      }
    }
    // The legend, top right (or top left) inside the frame.
    if !series.isEmpty {
      let longest = series.map(\.name.count).max() ?? 0
      let boxWidth = Double(34 + 7 * longest)
      let boxLeft = legendPlacement == .topLeft ? left + 10 : right - 10 - boxWidth
      lines.append(
        "<rect x=\"\(Self.number(boxLeft))\" y=\"\(Self.number(top + 10))\" "
          + "width=\"\(Self.number(boxWidth))\" height=\"\(8 + 18 * series.count)\" "
          + "fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#d1d5db\"/>")
      for (index, curve) in series.enumerated() {
        let colour = Self.palette[index % Self.palette.count]
        let y = top + 10 + 13 + 18 * Double(index)
        switch curve.style {
        case .line:
          lines.append(
            "<line x1=\"\(Self.number(boxLeft + 6))\" y1=\"\(Self.number(y))\" "
              + "x2=\"\(Self.number(boxLeft + 24))\" y2=\"\(Self.number(y))\" "
              + "stroke=\"\(colour)\" stroke-width=\"2\"/>")
        case .points:
          lines.append(
            "<circle cx=\"\(Self.number(boxLeft + 15))\" cy=\"\(Self.number(y))\" r=\"3\" "
              + "fill=\"\(colour)\"/>")
        }
        lines.append(text(boxLeft + 28, y + 4, curve.name, anchor: "start"))
      }
    }
    lines.append("</svg>")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes `svg` to `url` atomically (a temporary file renamed over the destination).
  /// - Throws: `DrawingError.writeFailed` naming the path and the system's reason.
  public func write(to url: URL) throws(DrawingError) {
    try DotFile.write(svg, to: url)
  }

  private func text(
    _ x: Double, _ y: Double, _ content: String, size: Int = 11, anchor: String,
    weight: String? = nil
  ) -> String {
    let bold = weight.map { " font-weight=\"\($0)\"" } ?? ""
    return "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(size)\" "
      + "text-anchor=\"\(anchor)\"\(bold)>\(Self.escaped(content))</text>"
  }

  /// A pixel coordinate with at most two decimals and no trailing zeros.
  static func number(_ value: Double) -> String {
    var text = String(format: "%.2f", value)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text == "-0" ? "0" : text
  }

  /// The decimals needed to tell evenly spaced ticks apart.
  static func decimals(_ ticks: [Double]) -> Int {
    guard ticks.count > 1 else { return 0 }
    let step = abs(ticks[1] - ticks[0])
    return max(0, Int(-floor(log10(step) + 1e-9)))
  }

  /// A tick of a logarithmic axis: plain from 0.001 to 99,999 (`0.02`, `500`), otherwise as a
  /// power of ten (`1e6`, `2e-5`).
  static func logLabel(_ value: Double) -> String {
    if value >= 1e-3 && value < 1e5 { return String(format: "%g", value) }
    let exponent = Int(floor(log10(value) + 1e-9))
    let mantissa = (value / pow(10, Double(exponent))).rounded()
    return String(format: "%g", mantissa) + "e\(exponent)"
  }

  /// A tick value with `decimals` decimals, in scientific notation when very large or small.
  static func label(_ value: Double, decimals: Int) -> String {
    let magnitude = abs(value)
    if magnitude != 0 && (magnitude >= 1e6 || decimals > 5) {
      return String(format: "%.3g", value)
    }
    let text = String(format: "%.\(decimals)f", value)
    return Double(text) == 0 ? String(format: "%.\(decimals)f", 0.0) : text
  }

  /// `text` with XML's special characters replaced by entities.
  static func escaped(_ text: String) -> String {
    var result = ""
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      default: result.append(character)
      }
    }
    return result
  }
}
