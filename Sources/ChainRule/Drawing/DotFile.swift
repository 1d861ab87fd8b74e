import Foundation

/// Writing drawings to disk, atomically: the text goes to a temporary file in the destination's
/// folder, which is then renamed over the destination, so a reader never sees half a file.
public enum DotFile {
  /// Writes `text` (UTF-8) to `url` atomically.
  /// - Throws: `DrawingError.writeFailed` naming the path and the system's reason.
  public static func write(_ text: String, to url: URL) throws(DrawingError) {
    try write(Data(text.utf8), to: url)
  }

  /// Writes `data` to `url` atomically: a temporary file `.<name>.tmp` in the same folder (so
  /// the rename cannot cross file systems), then `rename(2)` over `url` (see `AtomicFile`; a
  /// killed write leaves at most that one temporary file, reused by the next write).
  /// - Throws: `DrawingError.writeFailed` naming the path and the system's reason.
  public static func write(_ data: Data, to url: URL) throws(DrawingError) {
    do {
      try AtomicFile.write(data, to: url, durable: false)
    } catch {
      throw .writeFailed(path: url.path, reason: error.message)
    }
  }

  /// Writes each frame as `<baseName>-000.dot`, `<baseName>-001.dot`, … into `folder` (created
  /// if missing), each atomically.
  /// - Returns: the files written, in order.
  /// - Throws: `DrawingError.writeFailed` for the first file (or the folder) that failed.
  @discardableResult
  public static func write(frames: [String], to folder: URL, baseName: String = "step")
    throws(DrawingError) -> [URL]
  {
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw .writeFailed(path: folder.path, reason: "\(error.localizedDescription)")
    }
    let digits = max(3, String(frames.count).count)
    var urls: [URL] = []
    for (index, frame) in frames.enumerated() {
      let number = String(index)
      let padded = String(repeating: "0", count: max(0, digits - number.count)) + number
      let url = folder.appendingPathComponent("\(baseName)-\(padded).dot")
      try write(frame, to: url)
      urls.append(url)
    }
    return urls
  }
}

/// What went wrong while writing or rendering a drawing.
public enum DrawingError: Error, Equatable, CustomStringConvertible {
  /// A file could not be written.
  case writeFailed(path: String, reason: String)
  /// No executable `dot` in any folder of `PATH`.
  case dotNotFound(searchPath: String)
  /// `dot` could not be started.
  case launchFailed(executable: String, reason: String)
  /// `dot` ran and exited with a nonzero status; `standardError` is what it printed.
  case dotFailed(executable: String, arguments: [String], status: Int32, standardError: String)

  /// What went wrong, naming the path, the program or the request.
  public var description: String {
    switch self {
    case .writeFailed(let path, let reason):
      return "could not write \(path): \(reason)"
    case .dotNotFound(let searchPath):
      return "Graphviz `dot` was not found in PATH (\(searchPath)); install graphviz, e.g. "
        + "`apt-get install graphviz` or `brew install graphviz`"
    case .launchFailed(let executable, let reason):
      return "could not run \(executable): \(reason)"
    case .dotFailed(let executable, let arguments, let status, let standardError):
      return "\(executable) \(arguments.joined(separator: " ")) exited with status \(status): "
        + standardError.trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }
}
