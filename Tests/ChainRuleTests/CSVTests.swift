import Foundation
import Testing

@testable import ChainRule

@Suite("CSV reader")
struct CSVTests {
  @Test func parsesHeaderAndNumbersAndPicksTheLabelColumn() throws {
    let text = "a,label,b\r\n1,0,2.5\r\n-3,1,4e-1\r\n\r\n"
    let table = try CSVTable(parsing: text, source: "t.csv")
    #expect(table.columns == ["a", "label", "b"])
    #expect(try table.rows == [[1, 0, 2.5], [-3, 1, 0.4]])
    let data: Dataset<Double> = try table.dataset(labelColumn: "label")
    #expect(data.features == Tensor([[1, 2.5], [-3, 0.4]]))
    #expect(data.labels == Tensor([0, 1]))
  }

  @Test func aBadFieldIsNamedByLineAndColumn() {
    let text = "x,y,label\n1,2,0\n3,oops,1\n"
    #expect(
      throws: CSVError(
        source: "data.csv", line: 3, column: 2, columnName: "y", #""oops" is not a finite number"#)
    ) { try CSVTable(parsing: text, source: "data.csv").rows }
    do {
      _ = try CSVTable(parsing: text, source: "data.csv").rows
    } catch {
      #expect(
        error.description == #"data.csv, line 3, column 2 ("y"): "oops" is not a finite number"#)
    }
  }

  @Test func aShortRowIsNamedByLine() {
    #expect(
      throws: CSVError(source: "d", line: 4, column: nil, "has 2 fields, the header has 3")
    ) { try CSVTable(parsing: "a,b,c\n1,2,3\n4,5,6\n7,8\n", source: "d") }
  }

  @Test(arguments: [
    ("", "CSV text, line 1: is empty: expected a header row"),
    ("a,,c\n1,2,3", "CSV text, line 1, column 2: header name is empty"),
    ("a,b,a\n1,2,3", #"CSV text, line 1, column 3: header name "a" appears twice"#),
    ("a,b\n1,nan", #"CSV text, line 2, column 2 ("b"): "nan" is not a finite number"#),
    ("a,b\n1,", #"CSV text, line 2, column 2 ("b"): the cell is empty"#),
    ("a,b\n1,\"\"", #"CSV text, line 2, column 2 ("b"): the cell is empty"#),
    (
      "a,b\n1,\"2",
      #"CSV text, line 2, column 2: the quoted field opened here never closes (a " is missing)"#
    ),
    (
      "a,b\n1,\"2\"x",
      #"CSV text, line 2, column 2: text "x" after the closing quote (inside quotes, write a quote as "")"#
    ),
    ("a,b\n1,\" 2\"", #"CSV text, line 2, column 2 ("b"): " 2" is not a finite number"#),
  ])
  func malformedTablesGiveClearErrors(_ text: String, _ message: String) {
    do {
      _ = try CSVTable(parsing: text).rows
      Issue.record("no error for \(text.debugDescription)")
    } catch {
      #expect(error.description == message)
    }
  }

  @Test func unknownLabelColumnListsTheColumns() throws {
    let table = try CSVTable(parsing: "a,b\n1,2\n")
    #expect(
      throws: CSVError(
        source: "CSV text", line: 1, column: nil, #"has no column "label" (columns: "a", "b")"#)
    ) { try table.dataset(labelColumn: "label", as: Float.self) }
  }

  @Test func aMissingFileIsAnError() {
    let url = URL(fileURLWithPath: "/nonexistent/file.csv")
    #expect(
      throws: CSVError(source: url.path, line: nil, column: nil, "no such file")
    ) {
      try CSVTable(contentsOf: url)
    }
  }
}

@Suite("CSV reader: bytes, control characters, ranges")
struct CSVEdgeCaseTests {
  func message(_ bytes: [UInt8], source: String = "t.csv") -> String? {
    do {
      _ = try CSVTable(data: Data(bytes), source: source).rows
      return nil
    } catch {
      return error.description
    }
  }

  /// "a,b\n" is bytes 0–3, "1,2\n" 4–7, "3," 8–9: the 0xFF is byte 10, on line 3.
  @Test func bytesThatAreNotUTF8AreNamedByLineAndByteOffset() throws {
    let bytes = Array("a,b\n1,2\n3,".utf8) + [0xFF] + Array("\n".utf8)
    #expect(
      message(bytes)
        == "t.csv, line 3 (byte offset 10): is not valid UTF-8 (byte 0xFF); save the file as UTF-8")
    // A truncated multi-byte sequence (é is C3 A9) in the header: line 1, offset 2.
    #expect(
      message(Array("a,".utf8) + [0xC3])
        == "t.csv, line 1 (byte offset 2): is not valid UTF-8 (byte 0xC3); save the file as UTF-8")
    // The same through a file.
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-latin1-\(UUID().uuidString).csv")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data(bytes).write(to: url)
    #expect(
      throws: CSVError(
        source: url.path, line: 3, column: nil, byteOffset: 10,
        "is not valid UTF-8 (byte 0xFF); save the file as UTF-8")
    ) {
      try CSVTable(contentsOf: url)
    }
  }

  /// Text from the file is quoted with control characters escaped: the message stays one
  /// printable line whatever the file holds.
  @Test(arguments: [
    (
      "a,b\n1,2\r3\n",
      #"t.csv, line 2, column 2 ("b"): "2\r3" is not a finite number (it holds a control character)"#
    ),
    (
      "a,b\n1,\u{1B}[31m\n",
      #"t.csv, line 2, column 2 ("b"): "\u{1B}[31m" is not a finite number (it holds a control character)"#
    ),
    (
      "a,b\n1\0abc,2\n",
      #"t.csv, line 2, column 1 ("a"): "1\0abc" is not a finite number (it holds a control character)"#
    ),
    ("a,b\n1,2\u{85}\n", #"t.csv, line 2, column 2 ("b"): "2\u{85}" is not a finite number"#),
    (
      "a\u{7},b\n1,2\n",
      #"t.csv, line 1, column 1: header name "a\u{7}" holds the control character U+0007"#
    ),
    (
      "a,b\r1,2\r",
      #"t.csv, line 1, column 2: header name "b\r1" holds the control character U+000D"#
    ),
  ])
  func controlCharactersAreEscapedNeverEchoed(_ text: String, _ expected: String) {
    let description = message(Array(text.utf8))
    #expect(description == expected)
    #expect(
      description?.unicodeScalars.contains { $0.properties.generalCategory == .control } == false)
  }

  /// `Double("1\0abc")` is 1 (the text reaches C, which stops at the NUL); the reader refuses it.
  @Test func aFieldWithANulIsNotReadAsItsPrefix() {
    #expect(Double("1\0abc") == 1)  // the trap the reader avoids
    #expect(throws: CSVError.self) { try CSVTable(parsing: "a\n1\0abc\n").rows }
  }

  @Test func aByteOrderMarkIsSkippedAndBothEntryPointsAgree() throws {
    let text = "\u{FEFF}a, b\t,label\r\n1, 2 ,0\n-3,4e-1,1\n\n  \n"
    let fromText = try CSVTable(parsing: text, source: "s")
    let fromData = try CSVTable(data: Data(text.utf8), source: "s")
    #expect(fromText.columns == ["a", "b", "label"])
    #expect(try fromText.rows == [[1, 2, 0], [-3, 0.4, 1]])
    #expect(try fromData.columns == fromText.columns && fromData.rows == fromText.rows)
  }

  /// 1e39 is a finite Double but beyond Float (3.4e38): as a Float dataset it would be ∞.
  @Test func valuesBeyondTheScalarTypeAreRefusedByLineAndColumn() throws {
    let table = try CSVTable(parsing: "a,label\n1,0\n1e39,1\n", source: "big.csv")
    #expect(
      throws: CSVError(
        source: "big.csv", line: 3, column: 1, columnName: "a", "1e+39 is beyond the range of Float"
      )
    ) { try table.dataset(labelColumn: "label", as: Float.self) }
    let doubles: Dataset<Double> = try table.dataset(labelColumn: "label")
    #expect(doubles.features == Tensor([[1], [1e39]]))
  }

  @Test func aFolderIsNotACSVFile() {
    let url = FileManager.default.temporaryDirectory
    #expect(
      throws: CSVError(source: url.path, line: nil, column: nil, "is a folder, not a CSV file")
    ) {
      try CSVTable(contentsOf: url)
    }
  }

  @Test func quotingEscapesAndShortens() {
    #expect(CSVError.quoted("a\tb\u{0}\u{2028}") == #""a\tb\0\u{2028}""#)
    #expect(CSVError.quoted(String(repeating: "x", count: 100), limit: 3) == "\"xxx…\"")
  }
}
