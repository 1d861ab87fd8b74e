import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Output helpers: whether a stream is a terminal, and a progress line redrawn in place on
/// standard error.
enum Terminal {
  /// Whether standard error is a terminal (the progress bar is drawn only then).
  static let errorIsTerminal = isatty(STDERR_FILENO) != 0
  /// Whether standard output is a terminal.
  static let outputIsTerminal = isatty(STDOUT_FILENO) != 0

  nonisolated(unsafe) private static var lineShown = false

  /// `text` as one printable line: line breaks become spaces and other control characters
  /// are escaped (`\u{1B}`), so a file's bytes quoted in a message can neither break the
  /// one-line error format nor reach the terminal as escape sequences.
  static func oneLine(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\n", "\r", "\u{2028}", "\u{2029}": result += " "
      case _ where scalar.properties.generalCategory == .control:
        result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result
  }

  /// Writes `text` to standard error.
  static func error(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// The terminal's width in columns (80 when unknown).
  static var columns: Int {
    var size = winsize()
    guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
  }

  /// Redraws the progress line (terminal only), cut to the terminal's width so that it never
  /// wraps (a wrapped line could not be redrawn in place).
  static func showProgress(_ line: String) {
    guard errorIsTerminal else { return }
    error("\r\u{1B}[2K" + String(line.prefix(columns - 1)))
    lineShown = true
  }

  /// Erases the progress line, if one is shown.
  static func clearProgressLine() {
    guard lineShown else { return }
    error("\r\u{1B}[2K")
    lineShown = false
  }

  /// Prints a line to standard output, below any progress line, and flushes it.
  static func say(_ line: String) {
    clearProgressLine()
    print(line)
    fflush(nil)
  }
}

/// The live training progress: epoch, batch, a bar, loss, accuracy, samples per second, ETA.
struct Progress {
  let epochs: Range<Int>
  let batchesPerEpoch: Int
  let samplesPerEpoch: Int
  let start = Date()
  private var lastDrawn = Date.distantPast
  private var samplesDone = 0

  init(epochs: Range<Int>, batchesPerEpoch: Int, samplesPerEpoch: Int) {
    self.epochs = epochs
    self.batchesPerEpoch = batchesPerEpoch
    self.samplesPerEpoch = samplesPerEpoch
  }

  /// Samples per second since the start.
  var throughput: Double {
    Double(samplesDone) / max(Date().timeIntervalSince(start), 1e-9)
  }

  /// Records a finished batch and redraws at most ten times a second (and at each epoch's
  /// last batch).
  mutating func batchDone(
    epoch: Int, batch: Int, samples: Int, loss: Double, accuracy: Double?
  ) {
    samplesDone += samples
    guard Terminal.errorIsTerminal else { return }
    let now = Date()
    guard now.timeIntervalSince(lastDrawn) >= 0.1 || batch == batchesPerEpoch else { return }
    lastDrawn = now
    let remaining = Double(epochs.count * samplesPerEpoch - samplesDone) / max(throughput, 1e-9)
    Terminal.showProgress(
      Self.line(
        epoch: "\(epoch + 1)/\(epochs.upperBound)", batch: batch, of: batchesPerEpoch,
        loss: loss, accuracy: accuracy, throughput: throughput, remaining: remaining,
        width: Terminal.columns - 1))
  }

  /// The progress line in at most `width` characters. All fields fit at 120 columns; when
  /// they do not, the bar shrinks first (20 cells down to 5), then goes, then fields go in
  /// this order: samples/s, accuracy, batch count, loss. The epoch and the ETA stay, and the
  /// ETA is never cut (`ETA 0.8 s`, not `ETA 0`).
  static func line(
    epoch: String, batch: Int, of batches: Int, loss: Double, accuracy: Double?,
    throughput: Double, remaining: Double, width: Int
  ) -> String {
    // (text, priority): lower priorities are dropped first; the bar is slot 1.
    var fields: [(text: String, priority: Int)] = [
      ("epoch \(epoch)", 9), ("", 0), ("\(batch)/\(batches)", 3),
      ("loss \(Format.fixed(loss, 4))", 4),
    ]
    if let accuracy { fields.append(("acc \(Format.percent(accuracy))", 2)) }
    fields.append(("\(Int(throughput)) samples/s", 1))
    fields.append(("ETA \(Format.duration(remaining))", 8))
    let fraction = batches > 0 ? Double(batch) / Double(batches) : 1
    func joined() -> String { fields.map(\.text).filter { !$0.isEmpty }.joined(separator: " ") }
    for cells in stride(from: 20, through: 5, by: -1) {
      let filled = Int((fraction * Double(cells)).rounded(.down))
      fields[1].text =
        String(repeating: "█", count: filled) + String(repeating: "·", count: cells - filled)
      if joined().count <= width { return joined() }
    }
    fields.remove(at: 1)
    while joined().count > width,
      let drop = fields.indices.filter({ fields[$0].priority < 8 })
        .min(by: { fields[$0].priority < fields[$1].priority })
    {
      fields.remove(at: drop)
    }
    return String(joined().prefix(max(width, 0)))
  }
}

/// Number formatting for the tables and progress lines.
enum Format {
  static func fixed(_ value: Double, _ decimals: Int) -> String {
    value.isFinite ? String(format: "%.\(decimals)f", value) : "\(value)"
  }

  /// Four significant digits: `12.35`, `0.001235`, `1.235e+06`.
  static func significant(_ value: Double) -> String {
    value.isFinite ? String(format: "%.4g", value) : "\(value)"
  }

  static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

  /// A duration a reader can take in at a glance: `340 ms` below a second, `4.2 s` below a
  /// minute, then `3:07` and `1:02:03`.
  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    if seconds < 0.9995 { return "\(Int((seconds * 1000).rounded())) ms" }
    if seconds < 59.95 { return String(format: "%.1f s", seconds) }
    let whole = Int(seconds.rounded())
    return whole < 3600
      ? String(format: "%d:%02d", whole / 60, whole % 60)
      : String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
  }
}
