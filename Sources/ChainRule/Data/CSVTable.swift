import Foundation

/// A numeric CSV table: a header row of column names, then rows of numbers.
///
/// The file must be UTF-8 (a leading byte-order mark is skipped). Fields are separated by
/// commas, lines by `\n` or `\r\n`; blank lines at the end are ignored; spaces and tabs around
/// a field are ignored. Quoting is not supported (a field with a quote is not a number). A
/// field must be a finite number as Swift's `Double(_:)` reads it, with no control characters
/// (`1\0abc` is not read as 1), and a header name may not hold control characters. Every
/// problem is a `CSVError` naming the file, line and column (and, for bytes that are not
/// UTF-8, the byte offset); text from the file is quoted with control characters escaped, so
/// a message is always one printable line.
///
/// Parsing works on the UTF-8 bytes, one pass, no per-character `String` work: time is linear
/// in the file's size, however wide the rows are.
public struct CSVTable: Sendable {
  /// The column names from the header, in order.
  public let columns: [String]
  /// The values, row-major: `rows[i][j]` is line i + 2, column j + 1.
  public let rows: [[Double]]
  /// Where the table came from, for messages (a path, or a name given when parsing text).
  public let source: String

  /// Reads and parses the file at `url`.
  /// - Throws: `CSVError` when the file is missing or unreadable, is not UTF-8, or is
  ///   malformed.
  public init(contentsOf url: URL) throws(CSVError) {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
      throw CSVError(source: url.path, line: nil, column: nil, "no such file")
    }
    guard !isFolder.boolValue else {
      throw CSVError(source: url.path, line: nil, column: nil, "is a folder, not a CSV file")
    }
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw CSVError(
        source: url.path, line: nil, column: nil, "cannot be read: \(error.localizedDescription)")
    }
    try self.init(data: data, source: url.path)
  }

  /// Parses CSV bytes (UTF-8); `source` names them in error messages.
  /// - Throws: `CSVError` for bytes that are not UTF-8 (with line and byte offset), and for
  ///   everything `init(parsing:source:)` rejects.
  public init(data: Data, source: String = "CSV data") throws(CSVError) {
    let parsed = data.withUnsafeBytes { raw in
      Result { () throws(CSVError) in try Parser.parse(raw.bindMemory(to: UInt8.self), source) }
    }
    let table = try parsed.get()
    columns = table.columns
    rows = table.rows
    self.source = source
  }

  /// Parses CSV `text`; `source` names it in error messages.
  /// - Throws: `CSVError` for a missing, empty, duplicated or control-character header name, a
  ///   row with the wrong number of fields, or a field that is not a finite number.
  public init(parsing text: String, source: String = "CSV text") throws(CSVError) {
    var text = text
    let parsed = text.withUTF8 { bytes in
      Result { () throws(CSVError) in try Parser.parse(bytes, source) }
    }
    let table = try parsed.get()
    columns = table.columns
    rows = table.rows
    self.source = source
  }

  /// The table as a dataset: every column except `labelColumn` as features (in file order),
  /// and `labelColumn` as labels [count].
  /// - Throws: `CSVError` when there is no column named `labelColumn`, or when a value is
  ///   beyond `Scalar`'s range (1e39 as `Float`), naming its line and column.
  public func dataset<Scalar: TensorScalar>(
    labelColumn: String, as _: Scalar.Type = Scalar.self
  ) throws(CSVError) -> Dataset<Scalar> {
    guard let labelIndex = columns.firstIndex(of: labelColumn) else {
      throw CSVError(
        source: source, line: 1, column: nil,
        "has no column \(CSVError.quoted(labelColumn)) (columns: \(columns.joined(separator: ", ")))"
      )
    }
    var features = [Scalar]()
    features.reserveCapacity(rows.count * (columns.count - 1))
    var labels = [Scalar]()
    labels.reserveCapacity(rows.count)
    for (rowIndex, row) in rows.enumerated() {
      for (index, value) in row.enumerated() {
        let scalar = Scalar(value)
        guard scalar.isFinite else {
          throw CSVError(
            source: source, line: rowIndex + 2, column: index + 1, columnName: columns[index],
            "\(value) is beyond the range of \(Scalar.self)")
        }
        if index == labelIndex { labels.append(scalar) } else { features.append(scalar) }
      }
    }
    do {
      return try Dataset(
        features: Tensor(shape: [rows.count, columns.count - 1], scalars: features),
        labels: Tensor(shape: [rows.count], scalars: labels))
    } catch {
      throw CSVError(source: source, line: nil, column: nil, error.description)
    }
  }
}

/// The byte-level reader behind `CSVTable`'s initialisers.
private enum Parser {
  static let newline = UInt8(ascii: "\n")
  static let carriageReturn = UInt8(ascii: "\r")
  static let comma = UInt8(ascii: ",")
  static let space = UInt8(ascii: " ")
  static let tab = UInt8(ascii: "\t")

  static func parse(_ all: UnsafeBufferPointer<UInt8>, _ source: String) throws(CSVError)
    -> (columns: [String], rows: [[Double]])
  {
    if let offset = HeaderJSON.firstInvalidUTF8Offset(in: all) {
      let line = all[..<offset].reduce(1) { $1 == newline ? $0 + 1 : $0 }
      throw CSVError(
        source: source, line: line, column: nil, byteOffset: offset,
        "is not valid UTF-8 (byte 0x\(String(all[offset], radix: 16, uppercase: true))); "
          + "save the file as UTF-8")
    }
    // A byte-order mark (Excel writes one) is not part of the first column's name.
    let bytes = all.starts(with: [0xEF, 0xBB, 0xBF]) ? all[3...] : all[...]
    var lines = lineRanges(bytes)
    while let last = lines.last, bytes[last].allSatisfy({ $0 == space || $0 == tab }) {
      lines.removeLast()
    }
    guard let headerLine = lines.first else {
      throw CSVError(source: source, line: 1, column: nil, "is empty: expected a header row")
    }
    let columns = try header(bytes[headerLine], source)
    var rows: [[Double]] = []
    rows.reserveCapacity(lines.count - 1)
    for (offset, range) in lines.dropFirst().enumerated() {
      rows.append(try row(bytes[range], line: offset + 2, columns: columns, source))
    }
    return (columns, rows)
  }

  /// Each line's bytes, without its `\n` or `\r\n`.
  static func lineRanges(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = bytes.startIndex
    while start < bytes.endIndex {
      let end = bytes[start...].firstIndex(of: newline) ?? bytes.endIndex
      let stop = end > start && bytes[end - 1] == carriageReturn ? end - 1 : end
      ranges.append(start..<stop)
      start = end + 1
    }
    return ranges
  }

  /// The fields of one line: ranges between commas, spaces and tabs trimmed at both ends.
  static func fields(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> [Range<Int>] {
    var fields: [Range<Int>] = []
    var start = line.startIndex
    while true {
      let end = line[start...].firstIndex(of: comma) ?? line.endIndex
      var lower = start
      var upper = end
      while lower < upper, line[lower] == space || line[lower] == tab { lower += 1 }
      while upper > lower, line[upper - 1] == space || line[upper - 1] == tab { upper -= 1 }
      fields.append(lower..<upper)
      guard end < line.endIndex else { return fields }
      start = end + 1
    }
  }

  static func header(_ line: Slice<UnsafeBufferPointer<UInt8>>, _ source: String)
    throws(CSVError) -> [String]
  {
    var seen = Set<String>()
    var columns: [String] = []
    for (index, range) in fields(line).enumerated() {
      let name = String(decoding: line[range], as: UTF8.self).trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty else {
        throw CSVError(source: source, line: 1, column: index + 1, "header name is empty")
      }
      if let control = name.unicodeScalars.first(where: {
        $0.properties.generalCategory == .control
      }) {
        throw CSVError(
          source: source, line: 1, column: index + 1,
          "header name \(CSVError.quoted(name)) holds the control character "
            + "U+\(String(control.value, radix: 16, uppercase: true).leftPadded(to: 4))")
      }
      guard seen.insert(name).inserted else {
        throw CSVError(
          source: source, line: 1, column: index + 1,
          "header name \(CSVError.quoted(name)) appears twice")
      }
      columns.append(name)
    }
    return columns
  }

  static func row(
    _ line: Slice<UnsafeBufferPointer<UInt8>>, line number: Int, columns: [String],
    _ source: String
  ) throws(CSVError) -> [Double] {
    let fields = fields(line)
    guard fields.count == columns.count else {
      throw CSVError(
        source: source, line: number, column: nil,
        "has \(fields.count) field\(fields.count == 1 ? "" : "s"), "
          + "the header has \(columns.count)")
    }
    var row = [Double]()
    row.reserveCapacity(fields.count)
    for (index, range) in fields.enumerated() {
      let field = line[range]
      // `Double(_:)` hands the text to C, which stops at a NUL: "1\0abc" would read as 1.
      let clean = !field.contains { $0 < space || $0 == 0x7F }
      guard clean, let value = Double(String(decoding: field, as: UTF8.self)), value.isFinite
      else {
        let text = String(decoding: field, as: UTF8.self)
        throw CSVError(
          source: source, line: number, column: index + 1, columnName: columns[index],
          "\(CSVError.quoted(text)) is not a finite number"
            + (clean ? "" : " (it holds a control character)"))
      }
      row.append(value)
    }
    return row
  }
}

/// A CSV file or text that cannot be read as a numeric table.
public struct CSVError: Error, Equatable, CustomStringConvertible {
  /// The file path or source name.
  public let source: String
  /// The 1-based line, when the problem is on one line.
  public let line: Int?
  /// The 1-based column, when the problem is in one field.
  public let column: Int?
  /// The header name of `column`, when known.
  public let columnName: String?
  /// The 0-based offset in the file of the offending byte, for bytes that are not UTF-8.
  public let byteOffset: Int?
  /// What was wrong.
  public let reason: String

  init(
    source: String, line: Int?, column: Int?, columnName: String? = nil, byteOffset: Int? = nil,
    _ reason: String
  ) {
    self.source = source
    self.line = line
    self.column = column
    self.columnName = columnName
    self.byteOffset = byteOffset
    self.reason = reason
  }

  /// E.g. `digits.csv, line 7, column 3 ("pixel2"): "x" is not a finite number`.
  public var description: String {
    var place = source
    if let line { place += ", line \(line)" }
    if let column { place += ", column \(column)" }
    if let columnName { place += " (\(Self.quoted(columnName)))" }
    if let byteOffset { place += " (byte offset \(byteOffset))" }
    return "\(place): \(reason)"
  }

  /// `text` in double quotes as a message shows it: control characters escaped (`\r`, `\0`,
  /// `\u{7}`), so a message stays one printable line, and text longer than `limit`
  /// characters cut with `…`.
  public static func quoted(_ text: String, limit: Int = 60) -> String {
    let cut = text.unicodeScalars.count > limit
    let kept = cut ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit))) : text
    return "\"" + kept.escapingControlCharacters + (cut ? "…" : "") + "\""
  }
}

extension String {
  /// The string with control characters (and the Unicode line and paragraph separators)
  /// escaped as `\r`, `\0`, `\u{1B}`: text from a file, put into a message, can neither break
  /// the message's lines nor reach a terminal as an escape sequence.
  var escapingControlCharacters: String {
    var result = ""
    for scalar in unicodeScalars {
      switch scalar {
      case "\0": result += "\\0"
      case "\t": result += "\\t"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case _
      where scalar.properties.generalCategory == .control
        || scalar.properties.generalCategory == .lineSeparator
        || scalar.properties.generalCategory == .paragraphSeparator:
        result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result
  }

  /// The string with leading zeros up to `width` characters (`"7"` → `"0007"`).
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
