import ChainRule
import Foundation

/// How cost grows: one-hidden-layer MLP steps (784 → hidden → 10, ReLU, softmax
/// cross-entropy, SGD) against batch size and against hidden width, and `ScalarGraph`
/// build + backward against node count. The peer script runs the same MLP configurations
/// in PyTorch (`peers.py --sweep`).
enum Sweep {
  /// Batch sizes at hidden width 128.
  static let batchSizes = [1, 8, 64, 512]
  /// Hidden widths at batch 64.
  static let hiddenWidths = [64, 256, 1024, 4096]
  /// Widths w of a 2 → w → w → 1 scalar tanh MLP: about 10², 10³, 10⁴, 10⁵ and 10⁶ nodes.
  static let scalarWidths = [5, 16, 56, 180, 570]

  /// One point of a sweep: its name (`batch`, `width`, `nodes`), x and the median step.
  struct Point {
    var sweep: String
    var x: Double
    var seconds: Double
  }

  static func run(quick: Bool) -> [Point] {
    var points: [Point] = []
    for batch in batchSizes {
      let m = mlpWorkload("sweep", sizes: [784, 128, 10], batch: batch, quick: quick)
      points.append(Point(sweep: "batch", x: Double(batch), seconds: m.medianSeconds))
    }
    for width in hiddenWidths {
      let m = mlpWorkload("sweep", sizes: [784, width, 10], batch: 64, quick: quick)
      points.append(Point(sweep: "width", x: Double(width), seconds: m.medianSeconds))
    }
    for width in scalarWidths {
      let (nodes, seconds) = scalarMLP(width: width, quick: quick)
      points.append(Point(sweep: "nodes", x: Double(nodes), seconds: seconds))
    }
    return points
  }

  /// A 2 → w → w → 1 MLP of scalar tanh neurons, built, evaluated and differentiated from
  /// scratch each step, as W4 with a width parameter: (node count, median seconds).
  static func scalarMLP(width: Int, quick: Bool) -> (Int, Double) {
    var generator = SplitMix64(seed: 4)
    let sizes = [2, width, width, 1]
    let weights = (1..<sizes.count).map { l in
      (0..<sizes[l]).map { _ in (0..<sizes[l - 1]).map { _ in generator.nextDouble(in: -1...1) } }
    }
    let graph = ScalarGraph(capacity: 4 * width * width + 64)
    var nodes = 0
    let measurement = measure(
      "sweep", warmup: quick ? 1 : 3, iterations: quick ? 2 : 15, minimumSeconds: quick ? 0 : 0.3
    ) {
      graph.removeAll()
      var hidden = [graph.leaf(0.5), graph.leaf(-1.0)]
      for layer in weights {
        hidden = layer.map { row in
          var sum = graph.leaf(0)
          for (w, x) in zip(row, hidden) { sum = sum + graph.leaf(w) * x }
          return sum.tanh()
        }
      }
      graph.backward(from: hidden[0])
      nodes = graph.count
    }
    return (nodes, measurement.medianSeconds)
  }

  /// Draws the sweeps of a JSON-lines file (ChainRule's and the peers' points) as three SVG
  /// plots, log–log, into `directory`: `sweep-batch.svg`, `sweep-width.svg`, `sweep-nodes.svg`.
  static func plot(results: URL, into directory: URL) throws {
    let text = try String(contentsOf: results, encoding: .utf8)
    var series: [String: [String: [(Double, Double)]]] = [:]  // sweep → peer → points
    for line in text.split(separator: "\n") where line.hasPrefix("{") {
      guard
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let sweep = object["sweep"] as? String, let peer = object["peer"] as? String,
        let x = object["x"] as? Double, let micros = object["median_us"] as? Double
      else { continue }
      series[sweep, default: [:]][peer, default: []].append((x, micros))
    }
    let layouts = [
      ("batch", "One training step, 784 → 128 → 10 MLP", "batch size", "µs per step"),
      (
        "width", "One training step, 784 → hidden → 10 MLP, batch 64", "hidden width",
        "µs per step"
      ),
      ("nodes", "ScalarGraph: build + backward of a scalar MLP", "nodes", "µs per pass"),
    ]
    for (sweep, title, xLabel, yLabel) in layouts {
      guard let peers = series[sweep] else { continue }
      var plot = LinePlot(title: title, xLabel: xLabel, yLabel: yLabel, width: 640, height: 400)
      plot.xScale = .logarithmic
      plot.yScale = .logarithmic
      plot.legendPlacement = .topLeft
      for peer in peers.keys.sorted() {
        let points = peers[peer]!.sorted { $0.0 < $1.0 }
        plot.add(
          ["chainrule": "ChainRule", "torch": "PyTorch"][peer] ?? peer, x: points.map(\.0),
          y: points.map(\.1))
      }
      try plot.write(to: directory.appendingPathComponent("sweep-\(sweep).svg"))
    }
  }
}
