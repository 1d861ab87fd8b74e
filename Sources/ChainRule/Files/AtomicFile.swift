import Foundation

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Replaces a file in one step, so a crash or a full disk never leaves a half-written file.
///
/// The bytes go to a temporary file in the destination's folder (same file system), are
/// flushed to disk (`fsync`), and only then is the temporary file renamed over the destination
/// (`rename(2)` is atomic on POSIX): readers see either the old file or the new one, never a
/// mixture. On any failure the temporary file is removed and the old file is left as it was.
enum AtomicFile {
  /// Why the file could not be written; `message` names the path and the cause.
  struct Failure: Error {
    var message: String
  }

  /// Writes `data` to `url` atomically.
  /// - Parameter beforeRename: Called with the complete temporary file just before it replaces
  ///   the destination; tests throw from it to simulate a crash in the middle of a save.
  static func write(
    _ data: Data, to url: URL, beforeRename: (URL) throws -> Void = { _ in }
  ) throws(Failure) {
    let manager = FileManager.default
    let folder = url.deletingLastPathComponent()
    var isFolder: ObjCBool = false
    guard manager.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue
    else {
      throw Failure(message: "folder \(folder.path) does not exist")
    }
    if manager.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
      throw Failure(message: "\(url.path) is a folder")
    }
    let temporary = folder.appendingPathComponent(
      ".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
      try data.write(to: temporary, options: .withoutOverwriting)
    } catch {
      throw Failure(
        message: "cannot create a temporary file in \(folder.path): \(error.localizedDescription)")
    }
    do {
      let handle = try FileHandle(forUpdating: temporary)
      try handle.synchronize()
      try handle.close()
      try beforeRename(temporary)
    } catch {
      try? manager.removeItem(at: temporary)
      throw Failure(message: "writing \(temporary.path) failed: \(error)")
    }
    guard rename(temporary.path, url.path) == 0 else {
      let cause = String(cString: strerror(errno))
      try? manager.removeItem(at: temporary)
      throw Failure(message: "cannot move the new file over \(url.path): \(cause)")
    }
    synchronizeFolder(folder)
  }

  /// Flushes the folder entry so the rename itself survives a power loss (best effort).
  private static func synchronizeFolder(_ folder: URL) {
    let descriptor = open(folder.path, O_RDONLY)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    _ = close(descriptor)
  }
}
