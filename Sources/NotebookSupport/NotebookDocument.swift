import Foundation

/// A notebook's source read as a literate program, paired with what it printed, rendered to
/// Markdown: the prose, each code cell, its output and its figures.
///
/// The source (`main.swift`) is read line by line:
/// - before the first cell, the leading `//` comment lines are the introduction (start it with
///   `// # Title`) and the remaining lines (imports, setup) a code block;
/// - a line that is exactly `cell("Title")` starts a cell; the `//` comment lines right below
///   it are its prose and the lines up to the next cell its code.
///
/// The output is split at the `#%% ` lines `cell(_:)` printed; `#%% figure: path | caption`
/// lines become figure links after the cell's output.
public struct NotebookDocument: Equatable, Sendable {
  /// One cell: heading, prose, code, and (after `attach`) output and figures.
  public struct Cell: Equatable, Sendable {
    /// The heading: the string literal of `cell("…")`, or empty for the preamble.
    public var title: String
    /// Markdown prose, the `//` lines with the marker and one space removed.
    public var prose: [String]
    /// The code lines, without leading and trailing blank lines.
    public var code: [String]
    /// The printed output lines, without trailing blank lines.
    public var output: [String] = []
    /// The figures shown after the output: (path relative to the notebook folder, caption).
    public var figures: [Figure] = []
  }

  /// A figure link: where the file is and what it shows.
  public struct Figure: Equatable, Sendable {
    /// The path relative to the notebook's folder, e.g. `figures/loss.svg`.
    public var path: String
    /// The caption, used as the image's alternative text.
    public var caption: String
  }

  /// The preamble (introduction and setup code) followed by the cells in source order.
  public var cells: [Cell]

  /// Parses a notebook's source.
  /// - Parameters:
  ///   - source: the text of `main.swift`.
  ///   - file: its name, for error messages.
  /// - Throws: `NotebookError` naming the file and line of a malformed `cell(…)` line or a
  ///   repeated title.
  public init(parsing source: String, file: String = "main.swift") throws(NotebookError) {
    var lines = source.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    var blocks: [(title: String, line: Int, body: [String])] = [("", 0, [])]
    for (offset, raw) in lines.enumerated() {
      let line = Self.trimmingTrailingSpace(raw)
      if line.hasPrefix("cell(") {
        guard let title = Self.cellTitle(line) else {
          throw NotebookError(
            file: file, line: offset + 1,
            "a cell line must be exactly cell(\"Title\") with a plain string literal, not \(line)")
        }
        if let earlier = blocks.first(where: { $0.title == title && $0.line > 0 }) {
          throw NotebookError(
            file: file, line: offset + 1,
            "the cell title \"\(title)\" is already used on line \(earlier.line)")
        }
        blocks.append((title, offset + 1, []))
      } else {
        blocks[blocks.count - 1].body.append(line)
      }
    }
    cells = blocks.map { block in
      var body = block.body[...]
      // Blank lines before the prose are allowed.
      while body.first == "" { body = body.dropFirst() }
      var prose: [String] = []
      while let first = body.first, first.hasPrefix("//") {
        prose.append(Self.proseText(first))
        body = body.dropFirst()
      }
      return Cell(title: block.title, prose: prose, code: Self.trimmingBlankLines(Array(body)))
    }
  }

  /// Pairs the cells with a run's standard output.
  /// - Throws: `NotebookError` when the output's cell markers are not the source's cells in
  ///   order, or the preamble printed anything.
  public mutating func attach(output: String) throws(NotebookError) {
    var lines = output.components(separatedBy: "\n").map(Self.trimmingTrailingSpace)
    if lines.last == "" { lines.removeLast() }
    var index = 0
    var expected = cells.dropFirst().map(\.title)[...]
    for (offset, line) in lines.enumerated() {
      if line.hasPrefix(NotebookMarker.figure) {
        let rest = line.dropFirst(NotebookMarker.figure.count)
        guard let bar = rest.range(of: " | ") else {
          throw NotebookError(
            file: "output", line: offset + 1, "a figure line must read `path | caption`: \(line)")
        }
        cells[index].figures.append(
          Figure(path: String(rest[..<bar.lowerBound]), caption: String(rest[bar.upperBound...])))
      } else if line.hasPrefix(NotebookMarker.cell) {
        let title = String(line.dropFirst(NotebookMarker.cell.count))
        let next = expected.popFirst()
        guard next == title else {
          throw NotebookError(
            file: "output", line: offset + 1,
            "the run printed cell \"\(title)\" but the source's next cell is "
              + (next.map { "\"\($0)\"" } ?? "none"))
        }
        index += 1
      } else {
        guard index > 0 else {
          throw NotebookError(
            file: "output", line: offset + 1,
            "the notebook printed before its first cell(…): \(line)")
        }
        cells[index].output.append(line)
      }
    }
    if let missing = expected.first {
      throw NotebookError(
        file: "output", line: lines.count,
        "the run ended before cell \"\(missing)\" (did the notebook crash?)")
    }
    for position in cells.indices {
      cells[position].output = Self.trimmingBlankLines(cells[position].output)
    }
  }

  /// The Markdown page: a note that it is generated, the introduction, then per cell a
  /// heading, the prose, the code (`swift`), the output (`text`) and the figure links.
  /// - Parameter sourceName: how the note names the source, e.g. `main.swift`.
  public func markdown(sourceName: String = "main.swift") -> String {
    var out: [String] = [
      "<!-- Generated from \(sourceName) by `notebook-render`; edit the source, not this file. -->",
      "",
    ]
    for cell in cells {
      if !cell.title.isEmpty { out += ["## " + cell.title, ""] }
      if !cell.prose.isEmpty { out += Self.trimmingBlankLines(cell.prose) + [""] }
      if !cell.code.isEmpty { out += ["```swift"] + cell.code + ["```", ""] }
      if !cell.output.isEmpty { out += ["```text"] + cell.output + ["```", ""] }
      for figure in cell.figures { out += ["![\(figure.caption)](\(figure.path))", ""] }
    }
    while out.last == "" { out.removeLast() }
    return out.joined(separator: "\n") + "\n"
  }

  /// The title of a line `cell("Title")`, or nil when the line is anything else.
  static func cellTitle(_ line: String) -> String? {
    guard line.hasPrefix("cell(\""), line.hasSuffix("\")") else { return nil }
    let title = line.dropFirst(6).dropLast(2)
    guard !title.isEmpty, !title.contains("\""), !title.contains("\\") else { return nil }
    return String(title)
  }

  /// `// text` → `text`; `//` → empty.
  static func proseText(_ line: String) -> String {
    let rest = line.dropFirst(2)
    return String(rest.hasPrefix(" ") ? rest.dropFirst() : rest)
  }

  static func trimmingTrailingSpace(_ line: String) -> String {
    var line = Substring(line)
    while let last = line.last, last == " " || last == "\t" || last == "\r" {
      line = line.dropLast()
    }
    return String(line)
  }

  static func trimmingBlankLines(_ lines: [String]) -> [String] {
    var slice = lines[...]
    while slice.first?.isEmpty == true { slice = slice.dropFirst() }
    while slice.last?.isEmpty == true { slice = slice.dropLast() }
    return Array(slice)
  }
}

/// A notebook source or output that cannot be rendered, with the file and line.
public struct NotebookError: Error, Equatable, CustomStringConvertible {
  /// The file (or `output` for the run's standard output).
  public let file: String
  /// The 1-based line.
  public let line: Int
  /// What is wrong.
  public let reason: String

  /// An error at `file`:`line`.
  public init(file: String, line: Int, _ reason: String) {
    self.file = file
    self.line = line
    self.reason = reason
  }

  /// `file:line: reason`.
  public var description: String { "\(file):\(line): \(reason)" }
}
