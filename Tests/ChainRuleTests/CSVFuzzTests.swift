import Foundation
import Testing

@testable import ChainRule
@testable import ChainRuleCLI

/// Mutates valid CSV files with a fixed seed for a time budget and compares `CSVTable` with a
/// reference reader written here from the documented format with plain `String` operations:
/// both must accept the same bytes with the same values, or both refuse; a refusal must be one
/// printable line naming the source. A subset goes through the real `chainrule train` and
/// `predict`: exit 0, 1 or 2 with one clear line, never a signal, and a saved model loads.
///
/// `CHAINRULE_FUZZ_SECONDS` sets the budget (default 2 s), `CHAINRULE_FUZZ_SEED` the seed;
/// `CHAINRULE_FUZZ_CASE` runs one case again. Failures print seed and case.
@Suite("CSV fuzz")
struct CSVFuzzTests {
  /// Text that breaks readers: extreme numbers, non-numbers C accepts, control characters,
  /// byte-order marks, multi-byte and invalid UTF-8, separators.
  static let fragments: [[UInt8]] =
    [
      "1e308", "-1e308", "1e309", "-1e400", "5e-324", "nan", "inf", "-inf", "0x1p3", "1_0",
      "١", "1,5", "\"1\"", " ", "\t", ",", "\n", "\r", "\r\n", "\0", "\u{1B}[31m", "\u{7F}",
      "\u{85}", "\u{FEFF}", "\u{2028}", "é", "label", "f1", "", "--1", "+.5", "1e", ".",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF]]

  /// The documented format (RFC 4180), read the plain way, scalar by scalar: UTF-8 (a leading
  /// BOM dropped); records end at "\n" (a "\r" before it, or at the very end, dropped) except
  /// inside quotes; fields at ","; a field whose first non-blank character is a quote runs to
  /// the next lone quote ("" is a quote), then only blanks may follow; other fields are
  /// trimmed of spaces and tabs; trailing blank lines dropped; header names trimmed of white
  /// space (not empty, no control characters, distinct); every value a finite number without
  /// control characters, not empty.
  static func reference(_ data: Data) -> (columns: [String], rows: [[Double]])? {
    guard let text = String(validating: data, as: UTF8.self) else { return nil }
    var scalars = Array(text.unicodeScalars)
    if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
    let n = scalars.count
    let blank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" }
    var records: [(fields: [String], blankLine: Bool)] = []
    var i = 0
    while i < n {
      var fields: [String] = []
      var quotedAny = false
      while true {
        var j = i
        while j < n, blank(scalars[j]) { j += 1 }
        if j < n, scalars[j] == "\"" {
          quotedAny = true
          var value = String.UnicodeScalarView()
          j += 1
          while true {
            guard j < n else { return nil }
            if scalars[j] == "\"" {
              if j + 1 < n, scalars[j + 1] == "\"" {
                value.append("\"")
                j += 2
                continue
              }
              j += 1
              break
            }
            value.append(scalars[j])
            j += 1
          }
          while j < n, blank(scalars[j]) { j += 1 }
          if j < n, scalars[j] == "\r", j + 1 == n || scalars[j + 1] == "\n" { j += 1 }
          guard j == n || scalars[j] == "," || scalars[j] == "\n" else { return nil }
          fields.append(String(value))
        } else {
          var k = j
          while k < n, scalars[k] != ",", scalars[k] != "\n" { k += 1 }
          var field = Array(scalars[j..<k])
          if field.last == "\r", k == n || scalars[k] == "\n" { field.removeLast() }
          while let last = field.last, blank(last) { field.removeLast() }
          fields.append(String(String.UnicodeScalarView(field)))
          j = k
        }
        if j < n, scalars[j] == "," {
          i = j + 1
          continue
        }
        i = j + 1
        break
      }
      records.append((fields, !quotedAny && fields == [""]))
    }
    while records.last?.blankLine == true { records.removeLast() }
    guard let header = records.first else { return nil }
    let control: (Unicode.Scalar) -> Bool = { $0.properties.generalCategory == .control }
    let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    guard columns.allSatisfy({ !$0.isEmpty && !$0.unicodeScalars.contains(where: control) }),
      Set(columns).count == columns.count
    else { return nil }
    var rows: [[Double]] = []
    for record in records.dropFirst() {
      guard record.fields.count == columns.count else { return nil }
      var row: [Double] = []
      for field in record.fields {
        guard !field.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
          let value = Double(field), value.isFinite
        else { return nil }
        row.append(value)
      }
      rows.append(row)
    }
    return (columns, rows)
  }

  /// One mutation of `base`, drawn from `generator`.
  static func mutate(_ base: [UInt8], using generator: inout SplitMix64) -> ([UInt8], String) {
    var bytes = base
    var steps: [String] = []
    for _ in 0...(generator.next() % 3) {
      let position = Int(generator.next() % UInt64(bytes.count + 1))
      switch generator.next() % 6 {
      case 0:  // replace one byte
        guard position < bytes.count else { continue }
        let byte = UInt8(truncatingIfNeeded: generator.next())
        bytes[position] = byte
        steps.append("byte \(position) = 0x\(String(byte, radix: 16))")
      case 1, 2:  // insert a fragment
        let fragment = fragments[Int(generator.next() % UInt64(fragments.count))]
        bytes.insert(contentsOf: fragment, at: position)
        steps.append("insert \(fragment) at \(position)")
      case 3:  // delete a run
        let length = min(Int(generator.next() % 8) + 1, bytes.count - position)
        guard length > 0 else { continue }
        bytes.removeSubrange(position..<(position + length))
        steps.append("delete \(length) at \(position)")
      case 4:  // truncate
        bytes = Array(bytes.prefix(position))
        steps.append("truncate to \(position)")
      default:  // replace the field around `position` with a fragment
        let isSeparator: (UInt8) -> Bool = { $0 == 0x2C || $0 == 0x0A }
        guard position < bytes.count, !isSeparator(bytes[position]) else { continue }
        let start = bytes[..<position].lastIndex(where: isSeparator).map { $0 + 1 } ?? 0
        let end = bytes[position...].firstIndex(where: isSeparator) ?? bytes.count
        let fragment = fragments[Int(generator.next() % UInt64(fragments.count))]
        bytes.replaceSubrange(start..<end, with: fragment)
        steps.append("field \(start)..<\(end) = \(fragment)")
      }
    }
    return (bytes, steps.joined(separator: "; "))
  }

  @Test func mutatedCSVsMatchTheReferenceReaderAndNeverTrapTheCommand() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let bases = [CLITests.classificationCSV(), CLITests.regressionCSV()].map {
      Array(String($0.prefix(600)).utf8)  // a few rows: mutations stay dense
    }
    let labels = ["label", "y"]
    // A model for `predict` to read the fuzzed files with.
    let blobs = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    try #require(
      try CLITests.run(
        ["train", "--data", blobs, "--label", "label", "--epochs", "1", "--save", "base.st"],
        in: folder
      ).status == 0)
    let environment = ProcessInfo.processInfo.environment
    let seed = UInt64(environment["CHAINRULE_FUZZ_SEED"] ?? "") ?? 20_261_201
    let budget = Double(environment["CHAINRULE_FUZZ_SECONDS"] ?? "") ?? 2
    let only = Int(environment["CHAINRULE_FUZZ_CASE"] ?? "")
    let current = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-csv-fuzz-current-case.txt")
    let start = Date()
    var (cases, accepted, refused, executable, failures) = (0, 0, 0, 0, 0)
    var index = only ?? 0
    while only == nil ? Date().timeIntervalSince(start) < budget || cases < 200 : cases < 1 {
      defer {
        index += 1
        cases += 1
      }
      var generator = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
      let which = Int(generator.next() % 2)
      let (bytes, description) = Self.mutate(bases[which], using: &generator)
      let label = "seed \(seed), case \(index) (\(description))"
      try Data(label.utf8).write(to: current)
      func fail(_ message: String) {
        failures += 1
        Issue.record("\(label): \(message)")
      }
      let data = Data(bytes)
      let expected = Self.reference(data)
      do {
        let table = try CSVTable(data: data, source: "fuzz.csv")
        let rows = try table.rows
        accepted += 1
        if let expected {
          if table.columns != expected.columns || rows != expected.rows {
            fail("read \(table.columns) \(rows), the reference \(expected)")
          }
        } else {
          fail("accepted bytes the reference refuses: \(table.columns) \(rows)")
        }
      } catch {
        refused += 1
        let message = error.description
        if message.unicodeScalars.contains(where: {
          $0.properties.generalCategory == .control || $0 == "\u{2028}"
        }) || !message.hasPrefix("fuzz.csv") {
          fail("unclear message \(message.debugDescription)")
        }
        if let expected { fail("refused what the reference reads (\(expected)): \(message)") }
      }

      if index % 25 == 0 || only != nil {
        executable += 1
        try data.write(to: folder.appendingPathComponent("fuzz.csv"))
        for arguments in [
          [
            "train", "--data", "fuzz.csv", "--label", labels[which], "--epochs", "1", "--hidden",
            "2", "--save", "fuzz.st",
          ],
          ["predict", "--model", "base.st", "--data", "fuzz.csv", "--out", "p.csv"],
        ] {
          try? FileManager.default.removeItem(at: folder.appendingPathComponent("fuzz.st"))
          let result = try CLITests.run(arguments, in: folder)
          let printable = !result.error.unicodeScalars.contains {
            $0.properties.generalCategory == .control && $0 != "\n"
          }
          if result.status == 0 {
            if arguments[0] == "train" {
              do {
                _ = try ModelBundle.load(
                  folder.appendingPathComponent("fuzz.st").path, as: Float.self)
              } catch {
                fail("train saved a model that does not load: \(error.message)")
              }
            }
          } else if ![1, 2].contains(result.status) || !result.error.hasPrefix("chainrule: error: ")
            || result.error.filter({ $0 == "\n" }).count != 1 || !printable
          {
            fail("\(arguments[0]) exited \(result.status): \(result.error.debugDescription)")
          }
        }
      }
      if failures > 20 { break }
    }
    try? FileManager.default.removeItem(at: current)
    print(
      "CSV fuzz (seed \(seed), \(budget) s): \(cases) mutated CSVs, \(accepted) read, "
        + "\(refused) refused, \(executable) through chainrule train and predict; "
        + "\(failures) failures, 0 traps")
    #expect(failures == 0)
  }
}
