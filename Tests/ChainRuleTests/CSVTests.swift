import Foundation
import Testing

@testable import ChainRule

@Suite("CSV reader")
struct CSVTests {
  @Test func parsesHeaderAndNumbersAndPicksTheLabelColumn() throws {
    let text = "a,label,b\r\n1,0,2.5\r\n-3,1,4e-1\r\n\r\n"
    let table = try CSVTable(parsing: text, source: "t.csv")
    #expect(table.columns == ["a", "label", "b"])
    #expect(table.rows == [[1, 0, 2.5], [-3, 1, 0.4]])
    let data: Dataset<Double> = try table.dataset(labelColumn: "label")
    #expect(data.features == Tensor([[1, 2.5], [-3, 0.4]]))
    #expect(data.labels == Tensor([0, 1]))
  }

  @Test func aBadFieldIsNamedByLineAndColumn() {
    let text = "x,y,label\n1,2,0\n3,oops,1\n"
    #expect(
      throws: CSVError(
        source: "data.csv", line: 3, column: 2, columnName: "y", #""oops" is not a finite number"#)
    ) { try CSVTable(parsing: text, source: "data.csv") }
    do {
      _ = try CSVTable(parsing: text, source: "data.csv")
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
    ("a,b\n1,", #"CSV text, line 2, column 2 ("b"): "" is not a finite number"#),
  ])
  func malformedTablesGiveClearErrors(_ text: String, _ message: String) {
    do {
      _ = try CSVTable(parsing: text)
      Issue.record("no error for \(text.debugDescription)")
    } catch {
      #expect(error.description == message)
    }
  }

  @Test func unknownLabelColumnListsTheColumns() throws {
    let table = try CSVTable(parsing: "a,b\n1,2\n")
    #expect(
      throws: CSVError(
        source: "CSV text", line: 1, column: nil, #"has no column "label" (columns: a, b)"#)
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
