import Foundation

/// The lines a running notebook prints to mark where a cell's output starts and where a figure
/// belongs; the renderer (`NotebookDocument`) splits the output at them.
///
/// They follow the `#%%` cell convention of Jupytext and VS Code, so a notebook's output also
/// reads well in a terminal. A notebook must print no other line starting with `#%% `.
public enum NotebookMarker {
  /// Starts a cell's output: `#%% <title>`.
  public static let cell = "#%% "
  /// Places a figure after the current cell's output: `#%% figure: <path> | <caption>`.
  public static let figure = "#%% figure: "
}

/// Starts a notebook cell: prints the marker line that pairs what follows with the code cell
/// that begins with this call in the notebook's `main.swift`.
///
/// In the source the call stands alone on a line, with the title as a plain string literal:
/// `cell("The chain rule at each node")`; the `//` comment lines right below it are the cell's
/// prose.
public func cell(_ title: String) {
  print(NotebookMarker.cell + title)
}

/// A running notebook: its folder (where `main.swift`, the rendered `README.md` and
/// `figures/` live) and the files it writes there.
public struct Notebook: Sendable {
  /// The notebook's folder.
  public let folder: URL

  /// The notebook whose `main.swift` is `sourceFile`; pass `#filePath`.
  public init(sourceFile: String = #filePath) {
    folder = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
  }

  /// The package's root folder (two levels above the notebook's folder), for its data files.
  public var packageRoot: URL {
    folder.deletingLastPathComponent().deletingLastPathComponent()
  }

  /// The URL of `relativePath` inside the notebook's folder.
  public func url(_ relativePath: String) -> URL {
    folder.appendingPathComponent(relativePath)
  }

  /// Writes `text` to `relativePath` in the notebook's folder (folders created, file replaced
  /// atomically) and returns its URL.
  @discardableResult
  public func write(_ text: String, to relativePath: String) throws -> URL {
    let target = url(relativePath)
    try FileManager.default.createDirectory(
      at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: target, options: .atomic)
    return target
  }

  /// Writes an SVG figure to `relativePath` and shows it after the current cell's output.
  public func figure(svg: String, at relativePath: String, caption: String) throws {
    try write(svg, to: relativePath)
    showFigure(at: relativePath, caption: caption)
  }

  /// Shows the figure already at `relativePath` (e.g. one rendered by Graphviz and committed)
  /// after the current cell's output. A missing file is reported on standard error only, so
  /// the printed output stays the same.
  public func showFigure(at relativePath: String, caption: String) {
    if !FileManager.default.fileExists(atPath: url(relativePath).path) {
      FileHandle.standardError.write(Data("notebook: figure \(relativePath) is missing\n".utf8))
    }
    print(NotebookMarker.figure + relativePath + " | " + caption)
  }

  /// Writes `message` and a newline to standard error, which the rendered Markdown leaves out:
  /// the place for timings and anything else that differs between runs.
  public func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
  }
}

/// `value` with `digits` significant digits (`%g` style), the same on every machine for the
/// values a notebook prints.
public func fmt(_ value: Double, _ digits: Int = 6) -> String {
  let text = String(format: "%.\(digits)g", value)
  return text == "-0" ? "0" : text
}

/// `value` with `decimals` digits after the point (`%f` style).
public func fixed(_ value: Double, _ decimals: Int = 4) -> String {
  let text = String(format: "%.\(decimals)f", value)
  return Double(text) == 0 ? String(format: "%.\(decimals)f", 0.0) : text
}

/// `value` right-aligned in `width` characters.
public func pad(_ value: String, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - value.count)) + value
}
