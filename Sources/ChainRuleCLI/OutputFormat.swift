import ChainRule
import Foundation

/// What an output file is, chosen from its name's extension and checked before any work: a
/// drawing (`dot --out`) is `.dot` text or `.svg`, `.png`, `.pdf` rendered by Graphviz; a chart
/// (`train --plot`) is `.svg`, or `.png` converted by `rsvg-convert` when that is installed.
/// An extension the command cannot honour, or one whose renderer is missing, is refused by
/// name, so no file ever holds one format under another's name.
enum OutputFormat: String {
  case dot
  case svg
  case png
  case pdf

  /// The format a drawing named `path` asks for.
  /// - Throws: `CLIError` for another extension, or a rendered format without Graphviz `dot`.
  static func drawing(_ path: String, option: String) throws(CLIError) -> OutputFormat {
    let format = try named(path, option: option, allowed: [.dot, .svg, .png, .pdf])
    if format != .dot && !Graphviz.isInstalled {
      throw CLIError(
        message: "\(option) \(path): a .\(format.rawValue) drawing is rendered by Graphviz `dot`, "
          + "which is not on PATH; install graphviz, or write .dot text")
    }
    return format
  }

  /// The format a chart named `path` asks for.
  /// - Throws: `CLIError` for another extension, or `.png` without `rsvg-convert`.
  static func chart(_ path: String, option: String) throws(CLIError) -> OutputFormat {
    let format = try named(path, option: option, allowed: [.svg, .png])
    if format == .png && rsvgConvert == nil {
      throw CLIError(
        message: "\(option) \(path): a .png chart is converted from SVG by rsvg-convert, which "
          + "is not on PATH; install librsvg2-bin, or write .svg")
    }
    return format
  }

  private static func named(_ path: String, option: String, allowed: [OutputFormat])
    throws(CLIError) -> OutputFormat
  {
    let found = URL(fileURLWithPath: path).pathExtension.lowercased()
    guard let format = OutputFormat(rawValue: found), allowed.contains(format) else {
      let named = found.isEmpty ? "has no extension" : "ends in .\(found)"
      throw CLIError(
        message: "\(option) \(path): the name \(named); \(option) writes "
          + allowed.map { "." + $0.rawValue }.joined(separator: ", ")
          + " (the format follows from the extension)")
    }
    return format
  }

  /// The `rsvg-convert` executable on `PATH`, if any.
  static var rsvgConvert: URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for folder in path.split(separator: ":") where !folder.isEmpty {
      let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("rsvg-convert")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }

  /// Converts SVG text to PNG bytes with `rsvg-convert` (through temporary files).
  /// - Throws: `CLIError` with rsvg-convert's message when it fails.
  static func png(fromSVG svg: String) throws(CLIError) -> Data {
    guard let executable = rsvgConvert else {
      throw CLIError(message: "rsvg-convert is not on PATH")
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-png-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("chart.svg")
    let output = folder.appendingPathComponent("chart.png")
    let errors = folder.appendingPathComponent("stderr.txt")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try Data(svg.utf8).write(to: input)
      try Data().write(to: errors)
      let process = Process()
      process.executableURL = executable
      process.arguments = ["-f", "png", "-o", output.path, input.path]
      process.standardError = try FileHandle(forWritingTo: errors)
      process.standardOutput = FileHandle.nullDevice
      process.standardInput = FileHandle.nullDevice
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        let message = String(decoding: try Data(contentsOf: errors), as: UTF8.self)
        throw CLIError(message: "rsvg-convert failed: \(Terminal.oneLine(message))")
      }
      return try Data(contentsOf: output)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError(message: "rsvg-convert could not run: \(error.localizedDescription)")
    }
  }
}
