import Foundation
import Testing

@testable import ChainRule

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Collects the elements of an SVG document: name and attributes, plus the text of `<text>`.
private final class SVGElements: NSObject, XMLParserDelegate {
  var elements: [(name: String, attributes: [String: String])] = []
  var texts: [String] = []
  private var inText = false

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String]
  ) {
    elements.append((name, attributes))
    if name == "text" {
      inText = true
      texts.append("")
    }
  }

  func parser(
    _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
  ) {
    if name == "text" { inText = false }
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if inText { texts[texts.count - 1] += string }
  }

  /// Parses `svg`; `nil` when it is not well-formed XML.
  static func parse(_ svg: String) -> SVGElements? {
    let collector = SVGElements()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = collector
    return parser.parse() ? collector : nil
  }

  func all(_ name: String) -> [[String: String]] {
    elements.filter { $0.name == name }.map(\.attributes)
  }
}

@Suite("LinePlot (SVG line charts)")
struct LinePlotTests {
  /// Ticks are whole multiples of one step of 1, 2 or 5 × 10ⁿ and cover the data.
  @Test(arguments: [
    (0.013, 0.97), (0, 1), (-3.2, 41), (1e-5, 3e-5), (1, 1), (0, 0), (-7, -7), (120, 4_567),
  ])
  func ticksAreNiceAndCoverTheRange(low: Double, high: Double) {
    let ticks = LinePlot.niceTicks(low, high)
    #expect(ticks.count >= 3 && ticks.count <= 12, "\(ticks)")
    #expect(ticks.first! <= low && ticks.last! >= high, "\(ticks) for [\(low), \(high)]")
    let step = ticks[1] - ticks[0]
    let mantissa = step / pow(10, floor(log10(step)))
    #expect([1.0, 2, 5, 10].contains { abs(mantissa - $0) < 1e-9 }, "step \(step)")
    for (a, b) in zip(ticks, ticks.dropFirst()) {
      #expect(abs((b - a) - step) <= 1e-9 * max(1, abs(step)))
    }
    for tick in ticks {
      #expect(abs(tick / step - (tick / step).rounded()) < 1e-6, "tick \(tick) step \(step)")
    }
  }

  /// The notebooks' ranges, worked by hand: [0, 1] / 6 ≈ 0.17 rounds up to a step of 0.2;
  /// [−4, 4] / 6 ≈ 1.3 to a step of 2; [0.08, 6.01] / 6 ≈ 0.99 to a step of 1.
  @Test func ticksForTheNotebooksRanges() {
    let unit = LinePlot.niceTicks(0, 1)
    #expect(unit.count == 6)
    #expect(unit.enumerated().allSatisfy { abs($1 - 0.2 * Double($0)) < 1e-12 }, "\(unit)")
    #expect(LinePlot.niceTicks(-4, 4) == [-4, -2, 0, 2, 4])
    #expect(LinePlot.niceTicks(0.08, 6.01) == [0, 1, 2, 3, 4, 5, 6, 7])
  }

  @Test func svgIsWellFormedWithAxesCurvesAndLegend() throws {
    var plot = LinePlot(title: "Loss <train & val>", xLabel: "epoch", yLabel: "cross-entropy")
    plot.add("train", x: [1, 2, 3, 4], y: [2.0, 1.0, 0.6, 0.5])
    plot.add("validation", x: [1, 2, 3, 4], y: [2.2, 1.3, 0.9, 0.95])
    let svg = plot.svg
    let parsed = try #require(SVGElements.parse(svg), "not well-formed XML")
    #expect(parsed.elements.first?.name == "svg")
    #expect(parsed.elements.first?.attributes["width"] == "720")
    #expect(parsed.texts.contains("Loss <train & val>"))  // escaped in the file, intact here
    #expect(svg.contains("Loss &lt;train &amp; val&gt;"))
    #expect(parsed.texts.contains("epoch") && parsed.texts.contains("cross-entropy"))
    #expect(parsed.texts.contains("train") && parsed.texts.contains("validation"))
    // x ticks 1…4 by 0.5 and y ticks 0.4…2.4 by 0.2 are labelled.
    let xTicks = LinePlot.niceTicks(1, 4)
    let yTicks = LinePlot.niceTicks(0.5, 2.2)
    for tick in xTicks + yTicks {
      let label = LinePlot.label(
        tick, decimals: LinePlot.decimals(xTicks.contains(tick) ? xTicks : yTicks))
      #expect(parsed.texts.contains(label), "tick label \(label)")
    }
    let lines = parsed.all("polyline")
    #expect(lines.count == 2)
    #expect(lines.map { $0["stroke"] } == [LinePlot.palette[0], LinePlot.palette[1]])
    #expect(parsed.all("circle").count == 8)
  }

  /// The data's corners land on the frame's corners when they are ticks: (1, 0.5) is the
  /// bottom left of the plotting area, (4, 2.5) the top right.
  @Test func pointsAreMappedLinearlyIntoTheFrame() throws {
    var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y", width: 500, height: 300)
    plot.add("s", x: [1, 2.5, 4], y: [0.5, 1.5, 2.5])
    let (left, top, right, bottom) = plot.frame
    let ticks = plot.ticks
    #expect(ticks.x.first == 1 && ticks.x.last == 4)
    #expect(ticks.y.first == 0.5 && ticks.y.last == 2.5)
    let parsed = try #require(SVGElements.parse(plot.svg))
    let points = try #require(parsed.all("polyline").first?["points"])
      .split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
    #expect(points.count == 3)
    #expect(points[0] == [left, bottom])
    #expect(points[2] == [right, top])
    #expect(abs(points[1][0] - (left + right) / 2) < 0.01)
    #expect(abs(points[1][1] - (top + bottom) / 2) < 0.01)
  }

  /// A `.points` series is dots only (every finite point, however many, at radius 3) and
  /// shows a dot in the legend; a `.line` series beside it keeps its polyline.
  @Test func pointsSeriesIsDrawnAsDotsWithADotInTheLegend() throws {
    var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
    let xs = (0..<80).map(Double.init)
    plot.add("data", x: xs, y: xs.map { $0 * $0 }, style: .points)
    plot.add("fit", x: [0, 79], y: [0, 6_241])
    #expect(plot.series.map(\.style) == [.points, .line])
    let parsed = try #require(SVGElements.parse(plot.svg))
    #expect(parsed.all("polyline").map { $0["stroke"] } == [LinePlot.palette[1]])
    let dots = parsed.all("circle")
    // 80 data dots plus the legend's dot; the 2-point line adds its 2 small dots.
    #expect(dots.filter { $0["r"] == "3" }.count == 81)
    #expect(dots.filter { $0["r"] == "3" }.allSatisfy { $0["fill"] == LinePlot.palette[0] })
    #expect(dots.filter { $0["r"] == "2.5" }.count == 2)
    // The legend: one line sample, for "fit" only.
    #expect(parsed.all("line").filter { $0["stroke"] == LinePlot.palette[1] }.count == 1)
  }

  /// The legend box is 10 px inside the frame's right edge by default, its left edge with
  /// `.topLeft`; nothing else moves.
  @Test func legendPlacementMovesOnlyTheLegend() throws {
    var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
    plot.add("abc", x: [0, 1], y: [0, 1])
    #expect(plot.legendPlacement == .topRight)
    let (left, _, right, _) = plot.frame
    func legendBox(_ svg: String) throws -> [String: String] {
      let parsed = try #require(SVGElements.parse(svg))
      return try #require(parsed.all("rect").last)
    }
    let rightBox = try legendBox(plot.svg)
    let width = try #require(Double(rightBox["width"] ?? ""))
    #expect(Double(rightBox["x"] ?? "") == right - 10 - width)
    let before = plot.svg
    plot.legendPlacement = .topLeft
    let leftBox = try legendBox(plot.svg)
    #expect(Double(leftBox["x"] ?? "") == left + 10)
    let changed = zip(before.split(separator: "\n"), plot.svg.split(separator: "\n"))
      .filter { $0 != $1 }
    #expect(changed.count == 3, "legend box, sample line and name only: \(changed)")
  }

  @Test func nonFinitePointsBreakTheLine() throws {
    var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
    plot.add("gappy", x: [0, 1, 2, 3, 4, 5], y: [1, 2, .nan, 3, 4, .infinity])
    let parsed = try #require(SVGElements.parse(plot.svg))
    let runs = parsed.all("polyline").map { $0["points"]!.split(separator: " ").count }
    #expect(runs == [2, 2])
    #expect(plot.ticks.y.first! <= 1 && plot.ticks.y.last! >= 4)
  }

  @Test func emptyPlotStillDrawsAxes() throws {
    let plot = LinePlot(title: "nothing yet", xLabel: "x", yLabel: "y")
    let parsed = try #require(SVGElements.parse(plot.svg))
    #expect(parsed.all("polyline").isEmpty)
    #expect(plot.ticks.x.first == 0 && plot.ticks.x.last == 1)
  }

  @Test func writesAtomicallyAndReportsAMissingFolder() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("lineplot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
    plot.add("s", x: [0, 1], y: [0, 1])
    let url = folder.appendingPathComponent("plot.svg")
    try plot.write(to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == plot.svg)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["plot.svg"])

    let missing = folder.appendingPathComponent("no/such/plot.svg")
    #expect(throws: DrawingError.self) { try plot.write(to: missing) }
    #expect(!FileManager.default.fileExists(atPath: missing.path))
  }
}
