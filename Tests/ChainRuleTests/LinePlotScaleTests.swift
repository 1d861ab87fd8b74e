import Foundation
import Testing

@testable import ChainRule

/// Logarithmic axes: ticks at powers of ten, positions by log₁₀, non-positive points skipped.
@Suite struct LinePlotScaleTests {
  @Test func logTicksArePowersOfTenWithTwoAndFiveOverFewDecades() {
    #expect(LinePlot.logTicks(1, 512) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
    #expect(LinePlot.logTicks(100, 1e6) == [100, 1000, 1e4, 1e5, 1e6])
    #expect(LinePlot.logTicks(0.003, 0.004) == [0.001, 0.002, 0.005, 0.01])
    #expect(LinePlot.logTicks(10, 10) == [10, 20, 50, 100])
  }

  @Test func logLabelsArePlainInTheMiddleAndPowersOutside() {
    #expect(
      [1e-4, 0.02, 1, 500, 1e4, 1e5, 2e6].map(LinePlot.logLabel)
        == ["1e-4", "0.02", "1", "500", "10000", "1e5", "2e6"])
  }

  @Test func pointsSitAtTheirLogarithmAndNonPositivesAreSkipped() throws {
    var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y", width: 420, height: 260)
    plot.xScale = .logarithmic
    plot.yScale = .logarithmic
    plot.add("cost", x: [1, 10, 100, 0], y: [1, 100, 10_000, 5])
    #expect(plot.ticks.x == [1, 2, 5, 10, 20, 50, 100])
    let svg = plot.svg
    // One polyline of the three drawable points, equally spaced: x = 1, 10, 100 span the
    // frame from 72 to 396 (420 − 24), so the middle one is at 234; y at 1, 100, 10⁴ likewise.
    let polyline = try #require(
      svg.components(separatedBy: "\n").first { $0.hasPrefix("<polyline") })
    let points = try #require(
      polyline.components(separatedBy: "points=\"").last?.components(separatedBy: "\"").first)
    let xs = points.split(separator: " ").map { Double($0.split(separator: ",")[0])! }
    #expect(xs == [72, 234, 396])
    #expect(!svg.contains("NaN") && !svg.contains("nan"))
  }
}
