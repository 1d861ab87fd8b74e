import ChainRule
import Foundation
import Testing

@testable import NotebookSupport

/// The notebook renderer: parsing a literate source, pairing it with a run's output, and the
/// Markdown page.
@Suite("Notebook renderer")
struct NotebookRendererTests {
  static let source = """
    // # Title
    //
    // Intro text.
    import ChainRule

    cell("First")
    // Prose of the first cell.
    //
    // Second paragraph.
    let x = 1
    print(x)

    cell("Second")
    let y = 2  // a code comment stays in the code
    print(y)
    """

  @Test func parsesPreambleCellsProseAndCode() throws {
    let document = try NotebookDocument(parsing: Self.source)
    #expect(document.cells.map(\.title) == ["", "First", "Second"])
    #expect(document.cells[0].prose == ["# Title", "", "Intro text."])
    #expect(document.cells[0].code == ["import ChainRule"])
    #expect(document.cells[1].prose == ["Prose of the first cell.", "", "Second paragraph."])
    #expect(document.cells[1].code == ["let x = 1", "print(x)"])
    #expect(document.cells[2].prose.isEmpty)
    #expect(
      document.cells[2].code == ["let y = 2  // a code comment stays in the code", "print(y)"])
  }

  @Test func attachesOutputAndFiguresToTheirCells() throws {
    var document = try NotebookDocument(parsing: Self.source)
    try document.attach(
      output: "#%% First\n1\n\n#%% figure: figures/a.svg | A plot\n#%% Second\n2   \n\n")
    #expect(document.cells[1].output == ["1"])
    #expect(document.cells[1].figures == [.init(path: "figures/a.svg", caption: "A plot")])
    #expect(document.cells[2].output == ["2"])
  }

  @Test func rendersTheMarkdownPage() throws {
    var document = try NotebookDocument(parsing: Self.source)
    try document.attach(output: "#%% First\n1\n#%% figure: figures/a.svg | A plot\n#%% Second\n")
    let expected = """
      <!-- Generated from main.swift by `notebook-render`; edit the source, not this file. -->

      # Title

      Intro text.

      ```swift
      import ChainRule
      ```

      ## First

      Prose of the first cell.

      Second paragraph.

      ```swift
      let x = 1
      print(x)
      ```

      ```text
      1
      ```

      ![A plot](figures/a.svg)

      ## Second

      ```swift
      let y = 2  // a code comment stays in the code
      print(y)
      ```

      """
    #expect(document.markdown() == expected)
  }

  @Test func rejectsAMalformedCellLineWithItsLine() {
    #expect(
      throws: NotebookError(
        file: "nb.swift", line: 2,
        "a cell line must be exactly cell(\"Title\") with a plain string literal, not cell(title)")
    ) {
      try NotebookDocument(parsing: "import X\ncell(title)\n", file: "nb.swift")
    }
  }

  @Test func rejectsARepeatedTitle() {
    #expect(
      throws: NotebookError(
        file: "main.swift", line: 3, "the cell title \"A\" is already used on line 1")
    ) {
      try NotebookDocument(parsing: "cell(\"A\")\nprint(1)\ncell(\"A\")\n")
    }
  }

  @Test func rejectsOutputThatDoesNotMatchTheCells() throws {
    var document = try NotebookDocument(parsing: Self.source)
    #expect(
      throws: NotebookError(
        file: "output", line: 1,
        "the run printed cell \"Second\" but the source's next cell is \"First\"")
    ) { try document.attach(output: "#%% Second\n") }
    #expect(
      throws: NotebookError(
        file: "output", line: 2, "the run ended before cell \"Second\" (did the notebook crash?)")
    ) { try document.attach(output: "#%% First\n1\n") }
    #expect(
      throws: NotebookError(
        file: "output", line: 1, "the notebook printed before its first cell(…): hello")
    ) { try document.attach(output: "hello\n#%% First\n#%% Second\n") }
  }
}

/// The notebooks' stand-in gradient check against a gradient known in closed form.
@Suite("Notebook central differences")
struct NotebookCentralDifferenceTests {
  // L = Σ w³, so ∂L/∂wᵢ = 3wᵢ²: independent of both back-propagation and differencing.
  @Test func acceptsTheRightGradientAndRejectsAWrongOne() {
    let weight = Parameter(Tensor<Double>([0.5, -1.5, 2]), name: "w")
    let loss = { weight.value.scalars.map { $0 * $0 * $0 }.reduce(0, +) }
    weight.gradient = weight.value.map { 3 * $0 * $0 }
    var generator = SplitMix64(seed: 1)
    let good = CentralDifferenceCheck.run(
      parameters: [weight], elementsPerParameter: 3, using: &generator, loss: loss)
    #expect(good.passes && good.rows.count == 3)
    #expect(weight.value.scalars == [0.5, -1.5, 2], "values restored")
    weight.gradient = weight.value.map { 3 * $0 * $0 + 1e-3 }
    let bad = CentralDifferenceCheck.run(
      parameters: [weight], elementsPerParameter: 3, using: &generator, loss: loss)
    #expect(!bad.passes)
    #expect(bad.description.contains("FAIL"))
  }
}
