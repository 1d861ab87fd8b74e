import Foundation

/// Rendering DOT documents with the real Graphviz `dot` program, found by searching `PATH`.
///
/// ```swift
/// let svg = try Graphviz.render(graph.dot(reaching: loss), format: .svg)
/// try Graphviz.render(graph.dot(reaching: loss), format: .png, to: URL(fileURLWithPath: "g.png"))
/// ```
public enum Graphviz {
  /// An output format of `dot` (`-T` option).
  public enum Format: String, Sendable, CaseIterable {
    /// Scalable vector graphics (`-Tsvg`).
    case svg
    /// Portable network graphics (`-Tpng`).
    case png
    /// PDF (`-Tpdf`).
    case pdf
  }

  /// The `dot` executable: the first folder of `searchPath` (colon-separated, by default the
  /// `PATH` environment variable) holding an executable file named `dot`, or `nil`.
  public static func locateDot(
    searchPath: String? = ProcessInfo.processInfo.environment["PATH"]
  ) -> URL? {
    for folder in (searchPath ?? "").split(separator: ":") where !folder.isEmpty {
      let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("dot")
      var isFolder: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder),
        !isFolder.boolValue, FileManager.default.isExecutableFile(atPath: candidate.path)
      {
        return candidate
      }
    }
    return nil
  }

  /// Whether `dot` is on `PATH`.
  public static var isInstalled: Bool { locateDot() != nil }

  /// Runs `dot -T<format>` on `dot` text and returns what it produced.
  ///
  /// The document and the result travel through temporary files rather than pipes, so neither
  /// side can block on a full pipe; dot's standard error is kept for the error message.
  /// - Throws: `DrawingError.dotNotFound` when `dot` is not on `PATH`,
  ///   `.launchFailed` when it cannot be started, `.dotFailed` (with dot's standard error) when
  ///   it exits with a nonzero status.
  public static func render(_ dot: String, format: Format, executable: URL? = nil)
    throws(DrawingError) -> Data
  {
    guard let executable = executable ?? locateDot() else {
      throw .dotNotFound(searchPath: ProcessInfo.processInfo.environment["PATH"] ?? "")
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-dot-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("graph.dot")
    let output = folder.appendingPathComponent("graph.\(format.rawValue)")
    let errors = folder.appendingPathComponent("stderr.txt")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try Data(dot.utf8).write(to: input)
      try Data().write(to: errors)
    } catch {
      throw .writeFailed(path: folder.path, reason: "\(error.localizedDescription)")
    }
    let arguments = ["-T\(format.rawValue)", "-o", output.path, input.path]
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    do {
      let errorHandle = try FileHandle(forWritingTo: errors)
      defer { try? errorHandle.close() }
      process.standardError = errorHandle
      try process.run()
      process.waitUntilExit()
    } catch {
      throw .launchFailed(executable: executable.path, reason: "\(error.localizedDescription)")
    }
    let standardError = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      throw .dotFailed(
        executable: executable.path, arguments: ["-T\(format.rawValue)"],
        status: process.terminationStatus, standardError: standardError)
    }
    guard let data = try? Data(contentsOf: output) else {
      throw .dotFailed(
        executable: executable.path, arguments: ["-T\(format.rawValue)"], status: 0,
        standardError: "no output file was produced. " + standardError)
    }
    return data
  }

  /// Renders `dot` and writes the result to `url` atomically (see `DotFile.write`).
  /// - Throws: the errors of `render(_:format:executable:)` and `DotFile.write`.
  public static func render(
    _ dot: String, format: Format, to url: URL, executable: URL? = nil
  ) throws(DrawingError) {
    try DotFile.write(render(dot, format: format, executable: executable), to: url)
  }
}
