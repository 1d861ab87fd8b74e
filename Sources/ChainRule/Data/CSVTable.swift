import Foundation

/// A numeric CSV table: a header row of column names, then rows of numbers.
///
/// Fields are separated by commas, lines by `\n` or `\r\n`; blank lines at the end are
/// ignored. Quoting is not supported (a field with a quote is not a number). Every problem is
/// a `CSVError` naming the file, line and column.
public struct CSVTable: Sendable {
  /// The column names from the header, in order.
  public let columns: [String]
  /// The values, row-major: `rows[i][j]` is line i + 2, column j + 1.
  public let rows: [[Double]]
  /// Where the table came from, for messages (a path, or a name given when parsing text).
  public let source: String

  /// Reads and parses the file at `url`.
  /// - Throws: `CSVError` when the file cannot be read or is malformed.
  public init(contentsOf url: URL) throws(CSVError) {
    let text: String
    do {
      text = try String(contentsOf: url, encoding: .utf8)
    } catch {
      throw CSVError(source: url.path, line: nil, column: nil, "cannot be read as UTF-8 text")
    }
    try self.init(parsing: text, source: url.path)
  }

  /// Parses CSV `text`; `source` names it in error messages.
  /// - Throws: `CSVError` for a missing or duplicated header name, a row with the wrong
  ///   number of fields, or a field that is not a finite number.
  public init(parsing text: String, source: String = "CSV text") throws(CSVError) {
    self.source = source
    // "\r\n" is one Character in Swift, so both line ends are matched as characters.
    var lines = text.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
    guard let header = lines.first else {
      throw CSVError(source: source, line: 1, column: nil, "is empty: expected a header row")
    }
    let columns = header.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    var seen = Set<String>()
    for (index, name) in columns.enumerated() {
      guard !name.isEmpty else {
        throw CSVError(source: source, line: 1, column: index + 1, "header name is empty")
      }
      guard seen.insert(name).inserted else {
        throw CSVError(
          source: source, line: 1, column: index + 1, "header name \"\(name)\" appears twice")
      }
    }
    var rows: [[Double]] = []
    rows.reserveCapacity(lines.count - 1)
    for (offset, line) in lines.dropFirst().enumerated() {
      let lineNumber = offset + 2
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      guard fields.count == columns.count else {
        throw CSVError(
          source: source, line: lineNumber, column: nil,
          "has \(fields.count) field\(fields.count == 1 ? "" : "s"), "
            + "the header has \(columns.count)")
      }
      var row = [Double]()
      row.reserveCapacity(fields.count)
      for (index, field) in fields.enumerated() {
        let trimmed = field.trimmingCharacters(in: .whitespaces)
        guard let value = Double(trimmed), value.isFinite else {
          throw CSVError(
            source: source, line: lineNumber, column: index + 1, columnName: columns[index],
            "\"\(trimmed)\" is not a finite number")
        }
        row.append(value)
      }
      rows.append(row)
    }
    self.columns = columns
    self.rows = rows
  }

  /// The table as a dataset: every column except `labelColumn` as features (in file order),
  /// and `labelColumn` as labels [count].
  /// - Throws: `CSVError` when there is no column named `labelColumn`.
  public func dataset<Scalar: TensorScalar>(
    labelColumn: String, as _: Scalar.Type = Scalar.self
  ) throws(CSVError) -> Dataset<Scalar> {
    guard let labelIndex = columns.firstIndex(of: labelColumn) else {
      throw CSVError(
        source: source, line: 1, column: nil,
        "has no column \"\(labelColumn)\" (columns: \(columns.joined(separator: ", ")))")
    }
    var features = [Scalar]()
    features.reserveCapacity(rows.count * (columns.count - 1))
    var labels = [Scalar]()
    labels.reserveCapacity(rows.count)
    for row in rows {
      for (index, value) in row.enumerated() where index != labelIndex {
        features.append(Scalar(value))
      }
      labels.append(Scalar(row[labelIndex]))
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
  /// What was wrong.
  public let reason: String

  init(source: String, line: Int?, column: Int?, columnName: String? = nil, _ reason: String) {
    self.source = source
    self.line = line
    self.column = column
    self.columnName = columnName
    self.reason = reason
  }

  /// E.g. `digits.csv, line 7, column 3 ("pixel2"): "x" is not a finite number`.
  public var description: String {
    var place = source
    if let line { place += ", line \(line)" }
    if let column { place += ", column \(column)" }
    if let columnName { place += " (\"\(columnName)\")" }
    return "\(place): \(reason)"
  }
}
