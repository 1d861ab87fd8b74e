import Foundation

/// A CSV table as RFC 4180 writes it: a header row of column names (or none), then rows of
/// cells, kept as text and read as numbers on request.
///
/// The file must be UTF-8 (a leading byte-order mark is skipped). Fields are separated by
/// commas, records by `\n` or `\r\n`; blank lines at the end are ignored. A field may be
/// quoted: `"a, b"` holds a comma, `""` inside quotes is one quote, and a quoted field may
/// span lines (a record then starts on one line and ends on a later one). Spaces and tabs
/// around a field (outside its quotes) are ignored; inside quotes they are kept. Header names
/// are trimmed of white space and may not be empty, repeated or hold control characters.
/// Without a header (`hasHeader: false`) the columns are named by their numbers, `"1"`, `"2"`, …
///
/// Cells are text: a column of class names (`setosa`) is as welcome as one of numbers. Where
/// numbers are needed (`rows`, `numbers(inColumn:)`, `dataset(labelColumn:as:)`) a cell must be a
/// finite number as Swift's `Double(_:)` reads it, with no control characters (`1\0abc` is not
/// read as 1); an empty cell is reported as such (drop such rows with
/// `droppingRows(withEmptyCellsIn:)`). Every problem is a `CSVError` naming the file, line and
/// column (and column name; for bytes that are not UTF-8, the byte offset); text from the file
/// is quoted with control characters escaped, so a message is always one printable line.
///
/// Parsing works on the UTF-8 bytes, one pass, no per-character `String` work: time is linear
/// in the file's size, however wide the rows are.
public struct CSVTable: Sendable {
  /// The column names from the header, in order (`"1"`, `"2"`, … for a file without one).
  public let columns: [String]
  /// The cells as text, row-major, quotes removed: `cells[i][j]` is data row i, column j + 1.
  public let cells: [[String]]
  /// The line of the file on which each data row starts (rows can span lines inside quotes).
  public let lines: [Int]
  /// Whether the first record was a header (otherwise `columns` are column numbers).
  public let hasHeader: Bool
  /// Where the table came from, for messages (a path, or a name given when parsing text).
  public let source: String

  /// Reads and parses the file at `url`.
  /// - Parameter hasHeader: `false` for a file whose first line is data.
  /// - Throws: `CSVError` when the file is missing or unreadable, is not UTF-8, or is
  ///   malformed.
  public init(contentsOf url: URL, hasHeader: Bool = true) throws(CSVError) {
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
    try self.init(data: data, source: url.path, hasHeader: hasHeader)
  }

  /// Parses CSV bytes (UTF-8); `source` names them in error messages.
  /// - Throws: `CSVError` for bytes that are not UTF-8 (with line and byte offset), and for
  ///   everything `init(parsing:source:hasHeader:)` rejects.
  public init(data: Data, source: String = "CSV data", hasHeader: Bool = true) throws(CSVError) {
    let parsed = data.withUnsafeBytes { raw in
      Result { () throws(CSVError) in
        try Parser.parse(raw.bindMemory(to: UInt8.self), source, hasHeader: hasHeader)
      }
    }
    self.init(try parsed.get(), source: source, hasHeader: hasHeader)
  }

  /// Parses CSV `text`; `source` names it in error messages.
  /// - Throws: `CSVError` for a missing, empty, duplicated or control-character header name, a
  ///   row with the wrong number of fields, a quote that never closes, or text after a closing
  ///   quote.
  public init(parsing text: String, source: String = "CSV text", hasHeader: Bool = true)
    throws(CSVError)
  {
    var text = text
    let parsed = text.withUTF8 { bytes in
      Result { () throws(CSVError) in try Parser.parse(bytes, source, hasHeader: hasHeader) }
    }
    self.init(try parsed.get(), source: source, hasHeader: hasHeader)
  }

  private init(_ parsed: Parser.Table, source: String, hasHeader: Bool) {
    columns = parsed.columns
    cells = parsed.cells
    lines = parsed.lines
    self.hasHeader = hasHeader
    self.source = source
  }

  private init(_ table: CSVTable, keeping rows: [Int]) {
    columns = table.columns
    cells = rows.map { table.cells[$0] }
    lines = rows.map { table.lines[$0] }
    hasHeader = table.hasHeader
    source = table.source
  }

  /// The number of data rows.
  public var rowCount: Int { cells.count }

  /// Every cell as a number, row-major: `rows[i][j]` is data row i, column j + 1.
  /// - Throws: `CSVError` naming the line, column and column name of the first cell that is
  ///   empty or not a finite number.
  public var rows: [[Double]] {
    get throws(CSVError) {
      var rows: [[Double]] = []
      rows.reserveCapacity(cells.count)
      for row in cells.indices {
        var values: [Double] = []
        values.reserveCapacity(columns.count)
        for column in columns.indices { values.append(try number(row: row, column: column)) }
        rows.append(values)
      }
      return rows
    }
  }

  /// The cell of data row `row`, column index `column` (0-based), as a number.
  /// - Throws: `CSVError` naming its line and column when it is empty or not a finite number.
  public func number(row: Int, column: Int) throws(CSVError) -> Double {
    let text = cells[row][column]
    if let value = Self.number(text) { return value }
    if text.isEmpty {
      throw CSVError(
        source: source, line: lines[row], column: column + 1, columnName: name(of: column),
        emptyCell: true, "the cell is empty")
    }
    let clean = !text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    throw CSVError(
      source: source, line: lines[row], column: column + 1, columnName: name(of: column),
      "\(CSVError.quoted(text)) is not a finite number"
        + (clean ? "" : " (it holds a control character)"))
  }

  /// Column `column`'s cells (0-based index) as numbers, one per data row.
  /// - Throws: `CSVError` for the first cell that is empty or not a finite number.
  public func numbers(inColumn column: Int) throws(CSVError) -> [Double] {
    var values: [Double] = []
    values.reserveCapacity(cells.count)
    for row in cells.indices { values.append(try number(row: row, column: column)) }
    return values
  }

  /// Whether every cell of column `column` (0-based) is a finite number.
  public func isNumeric(column: Int) -> Bool {
    cells.allSatisfy { Self.number($0[column]) != nil }
  }

  /// `text` as a finite number, or `nil` (also for text with a control character: `Double`
  /// hands the text to C, which stops at a NUL, so `"1\0abc"` would read as 1).
  public static func number(_ text: String) -> Double? {
    guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }),
      let value = Double(text), value.isFinite
    else { return nil }
    return value
  }

  /// The index (0-based) of the column called `name`; without a header, `name` is a column
  /// number, `"1"` for the first.
  /// - Throws: `CSVError` listing the columns when there is none of that name.
  public func columnIndex(named name: String) throws(CSVError) -> Int {
    if let index = columns.firstIndex(of: name) { return index }
    let known =
      hasHeader
      ? "columns: " + Self.list(columns.map { CSVError.quoted($0) })
      : "the file has no header; columns are numbered 1…\(columns.count)"
    throw CSVError(
      source: source, line: hasHeader ? 1 : nil, column: nil,
      "has no column \(CSVError.quoted(name)) (\(known))")
  }

  /// The table without the rows that have an empty cell in one of `columns` (0-based
  /// indices), and the lines of the rows left out.
  public func droppingRows(withEmptyCellsIn columns: [Int]) -> (table: CSVTable, dropped: [Int]) {
    var kept: [Int] = []
    var dropped: [Int] = []
    for (row, cells) in cells.enumerated() {
      if columns.contains(where: { cells[$0].isEmpty }) {
        dropped.append(lines[row])
      } else {
        kept.append(row)
      }
    }
    return (CSVTable(self, keeping: kept), dropped)
  }

  /// The distinct cells of column `column` (0-based) as class names, in class-index order:
  /// numerically sorted when every cell is a number (`2` before `10`; `1` and `1.0` are one
  /// class, named as first written), otherwise sorted as text.
  public func classNames(inColumn column: Int) -> [String] {
    if isNumeric(column: column) {
      var names: [Double: String] = [:]
      for row in cells where names[Self.number(row[column])!] == nil {
        names[Self.number(row[column])!] = row[column]
      }
      return names.keys.sorted().map { names[$0]! }
    }
    return Set(cells.map { $0[column] }).sorted()
  }

  /// The class index of `text` among `classes` (as from `classNames(inColumn:)`): the class of
  /// that name, or, for a number, the class of the same value (`1.0` is class `1`).
  public static func classIndex(of text: String, in classes: [String]) -> Int? {
    if let index = classes.firstIndex(of: text) { return index }
    guard let value = number(text) else { return nil }
    return classes.firstIndex { number($0) == value }
  }

  /// The table as a dataset: every column except `labelColumn` as features (in file order),
  /// and `labelColumn` as labels [count].
  /// - Throws: `CSVError` when there is no column named `labelColumn`, when a cell is empty
  ///   or not a number, or when a value is beyond `Scalar`'s range (1e39 as `Float`), naming
  ///   its line and column.
  public func dataset<Scalar: TensorScalar>(
    labelColumn: String, as _: Scalar.Type = Scalar.self
  ) throws(CSVError) -> Dataset<Scalar> {
    let labelIndex = try columnIndex(named: labelColumn)
    let labels = try numbers(inColumn: labelIndex)
    return try dataset(labelIndex: labelIndex, labels: labels)
  }

  /// The table as a classification dataset: every column except `labelColumn` as features,
  /// and the label cells (text such as `setosa`, or numbers) as class indices [count] into
  /// the returned `classes` (`classNames(inColumn:)`).
  /// - Throws: `CSVError` as `dataset(labelColumn:as:)`, and for an empty label cell.
  public func classificationDataset<Scalar: TensorScalar>(
    labelColumn: String, as _: Scalar.Type = Scalar.self
  ) throws(CSVError) -> (dataset: Dataset<Scalar>, classes: [String]) {
    let labelIndex = try columnIndex(named: labelColumn)
    if let row = cells.indices.first(where: { cells[$0][labelIndex].isEmpty }) {
      _ = try number(row: row, column: labelIndex)  // throws the empty-cell error
    }
    let classes = classNames(inColumn: labelIndex)
    let labels = cells.map { Double(Self.classIndex(of: $0[labelIndex], in: classes)!) }
    return (try dataset(labelIndex: labelIndex, labels: labels), classes)
  }

  private func dataset<Scalar: TensorScalar>(labelIndex: Int, labels: [Double])
    throws(CSVError) -> Dataset<Scalar>
  {
    var features = [Scalar]()
    features.reserveCapacity(cells.count * (columns.count - 1))
    for row in cells.indices {
      for column in columns.indices where column != labelIndex {
        let value = try number(row: row, column: column)
        let scalar = Scalar(value)
        guard scalar.isFinite else {
          throw CSVError(
            source: source, line: lines[row], column: column + 1, columnName: name(of: column),
            "\(value) is beyond the range of \(Scalar.self)")
        }
        features.append(scalar)
      }
    }
    let labelScalars = labels.map { Scalar($0) }
    if let row = labelScalars.firstIndex(where: { !$0.isFinite }) {
      throw CSVError(
        source: source, line: lines[row], column: labelIndex + 1,
        columnName: name(of: labelIndex), "\(labels[row]) is beyond the range of \(Scalar.self)")
    }
    do {
      return try Dataset(
        features: Tensor(shape: [cells.count, columns.count - 1], scalars: features),
        labels: Tensor(shape: [cells.count], scalars: labelScalars))
    } catch {
      throw CSVError(source: source, line: nil, column: nil, error.description)
    }
  }

  /// The name of column `column` for a message, or `nil` without a header (the number says it).
  func name(of column: Int) -> String? { hasHeader ? columns[column] : nil }

  /// `text` as one CSV field: quoted (inner quotes doubled) when it holds a comma, a quote, a
  /// line break or surrounding white space, as written.
  public static func field(_ text: String) -> String {
    let plain =
      !text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
      && text.trimmingCharacters(in: .whitespaces) == text
    return plain ? text : "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  /// Names for a message: all of them up to eight, else the first four and the last two.
  static func list(_ names: [String]) -> String {
    names.count <= 8
      ? names.joined(separator: ", ")
      : names.prefix(4).joined(separator: ", ") + ", …, " + names.suffix(2).joined(separator: ", ")
  }
}

/// The byte-level reader behind `CSVTable`'s initialisers: one pass over the bytes, a small
/// state machine for quoted fields.
private enum Parser {
  static let newline = UInt8(ascii: "\n")
  static let carriageReturn = UInt8(ascii: "\r")
  static let comma = UInt8(ascii: ",")
  static let quote = UInt8(ascii: "\"")
  static let space = UInt8(ascii: " ")
  static let tab = UInt8(ascii: "\t")

  struct Table {
    var columns: [String]
    var cells: [[String]]
    var lines: [Int]
  }

  static func parse(_ all: UnsafeBufferPointer<UInt8>, _ source: String, hasHeader: Bool)
    throws(CSVError) -> Table
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
    var (records, lines, blank) = try records(bytes, source)
    while blank.last == true {
      records.removeLast()
      lines.removeLast()
      blank.removeLast()
    }
    guard let first = records.first else {
      throw CSVError(
        source: source, line: 1, column: nil,
        hasHeader ? "is empty: expected a header row" : "is empty: expected rows")
    }
    let columns = hasHeader ? try header(first, source) : first.indices.map { "\($0 + 1)" }
    let dataStart = hasHeader ? 1 : 0
    for index in dataStart..<records.count where records[index].count != columns.count {
      let count = records[index].count
      throw CSVError(
        source: source, line: lines[index], column: nil,
        "has \(count) field\(count == 1 ? "" : "s"), "
          + (hasHeader ? "the header has \(columns.count)" : "line 1 has \(columns.count)"))
    }
    return Table(
      columns: columns, cells: Array(records[dataStart...]), lines: Array(lines[dataStart...]))
  }

  /// Every record's fields, the line it starts on, and whether it is a blank line (spaces and
  /// tabs only, no quotes).
  static func records(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ source: String)
    throws(CSVError) -> (records: [[String]], lines: [Int], blank: [Bool])
  {
    var records: [[String]] = []
    var lines: [Int] = []
    var blank: [Bool] = []
    let end = bytes.endIndex
    var i = bytes.startIndex
    var line = 1
    var quoted: [UInt8] = []
    while i < end {
      let recordLine = line
      var fields: [String] = []
      var sawQuote = false
      while true {
        var j = i
        while j < end, bytes[j] == space || bytes[j] == tab { j += 1 }
        if j < end, bytes[j] == quote {
          sawQuote = true
          let (openLine, column) = (line, fields.count + 1)
          quoted.removeAll(keepingCapacity: true)
          j += 1
          while true {
            guard j < end else {
              throw CSVError(
                source: source, line: openLine, column: column,
                "the quoted field opened here never closes (a \" is missing)")
            }
            let byte = bytes[j]
            if byte == quote {
              if j + 1 < end, bytes[j + 1] == quote {
                quoted.append(quote)
                j += 2
                continue
              }
              j += 1
              break
            }
            if byte == newline { line += 1 }
            quoted.append(byte)
            j += 1
          }
          while j < end, bytes[j] == space || bytes[j] == tab { j += 1 }
          if j < end, bytes[j] == carriageReturn, j + 1 == end || bytes[j + 1] == newline {
            j += 1
          }
          guard j == end || bytes[j] == comma || bytes[j] == newline else {
            let rest = bytes[j..<(bytes[j...].firstIndex { $0 == comma || $0 == newline } ?? end)]
            throw CSVError(
              source: source, line: line, column: column,
              "text \(CSVError.quoted(String(decoding: rest, as: UTF8.self))) after the closing "
                + "quote (inside quotes, write a quote as \"\")")
          }
          fields.append(String(decoding: quoted, as: UTF8.self))
        } else {
          var k = j
          while k < end, bytes[k] != comma, bytes[k] != newline { k += 1 }
          var upper = k
          // The \r of a \r\n line end (or of the file's end) is not part of the field.
          if upper > j, bytes[upper - 1] == carriageReturn, k == end || bytes[k] == newline {
            upper -= 1
          }
          while upper > j, bytes[upper - 1] == space || bytes[upper - 1] == tab { upper -= 1 }
          fields.append(String(decoding: bytes[j..<upper], as: UTF8.self))
          j = k
        }
        if j < end, bytes[j] == comma {
          i = j + 1
          continue
        }
        if j < end { line += 1 }  // the newline
        i = j + 1
        break
      }
      records.append(fields)
      lines.append(recordLine)
      blank.append(!sawQuote && fields.count == 1 && fields[0].isEmpty)
    }
    return (records, lines, blank)
  }

  static func header(_ names: [String], _ source: String) throws(CSVError) -> [String] {
    var seen = Set<String>()
    var columns: [String] = []
    for (index, raw) in names.enumerated() {
      let name = raw.trimmingCharacters(in: .whitespaces)
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
}

/// A CSV file or text that cannot be read, or a cell that cannot be used as asked.
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
  /// Whether the problem is an empty cell (a caller may offer to drop such rows).
  public let isEmptyCell: Bool
  /// What was wrong.
  public let reason: String

  init(
    source: String, line: Int?, column: Int?, columnName: String? = nil, byteOffset: Int? = nil,
    emptyCell: Bool = false, _ reason: String
  ) {
    self.isEmptyCell = emptyCell
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
