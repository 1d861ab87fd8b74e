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
/// flushed to disk (one `fsync`), and only then is the temporary file renamed over the
/// destination (`rename(2)` is atomic on POSIX), and the folder is flushed so the rename itself
/// is durable: readers see either the old file or the new one, never a mixture. On any failure
/// the temporary file is removed and the old file is left as it was.
///
/// Why the temporary file has a fixed name. A process killed between creating its temporary
/// file and the rename (SIGKILL, power loss) cannot clean up after itself. With a fresh random
/// name per save, every such kill would leave one more file behind, forever. Here each
/// destination has exactly one temporary name, `.<name>.tmp`, so a kill leaves at most one
/// leftover per destination, and the next save to that destination reuses it (truncates,
/// rewrites, renames it away): stale temporaries cannot accumulate. Two processes saving to
/// the same destination at once take turns on an exclusive `flock` of the temporary file,
/// so neither can truncate the other's bytes; the lock dies with its process, so a killed
/// writer never blocks the next one.
enum AtomicFile {
  /// Why the file could not be written; `message` names the path and the cause.
  struct Failure: Error {
    var message: String
  }

  /// The one temporary file a save to `url` uses: `.<name>.tmp` in the same folder.
  static func temporaryURL(for url: URL) -> URL {
    url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
  }

  /// Writes `data` to `url` atomically.
  /// - Parameters:
  ///   - durable: flush the file and the folder to disk (`fsync`) so the new contents survive a
  ///     power loss; drawings that are cheap to redo pass `false`. Atomicity does not depend on it.
  ///   - beforeRename: Called with the complete temporary file just before it replaces the
  ///     destination; tests throw from it to simulate a crash in the middle of a save.
  static func write(
    _ data: Data, to url: URL, durable: Bool = true, beforeRename: (URL) throws -> Void = { _ in }
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
    let temporary = temporaryURL(for: url)
    let descriptor = try openLocked(temporary, folder: folder)
    // Closing releases the lock; by then the temporary file is renamed away or removed.
    defer { _ = close(descriptor) }
    do {
      try writeAll(data, to: descriptor, path: temporary.path)
      if durable && fsync(descriptor) != 0 {
        throw Failure(message: "fsync of \(temporary.path) failed: \(errorText())")
      }
      try beforeRename(temporary)
    } catch {
      _ = unlink(temporary.path)
      throw Failure(message: "writing \(temporary.path) failed: \(error)")
    }
    guard rename(temporary.path, url.path) == 0 else {
      let cause = errorText()
      _ = unlink(temporary.path)
      throw Failure(message: "cannot move the new file over \(url.path): \(cause)")
    }
    if durable { synchronizeFolder(folder) }
  }

  /// Opens the temporary file (creating it, or reusing a stale one) empty and exclusively
  /// locked.
  ///
  /// After the lock is granted the path must still name the locked file: a process that
  /// held the lock before may have renamed it over the destination (or removed it) while this
  /// one waited, and writing to that file would truncate the new destination. Then the open is
  /// retried. A leftover that is not a plain file with one link (a hard link to some other
  /// file, say) is removed rather than written through.
  private static func openLocked(_ temporary: URL, folder: URL) throws(Failure) -> Int32 {
    while true {
      let descriptor = open(temporary.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
      guard descriptor >= 0 else {
        throw Failure(
          message: "cannot create a temporary file in \(folder.path): \(errorText())")
      }
      var locked: Int32
      repeat { locked = flock(descriptor, LOCK_EX) } while locked != 0 && errno == EINTR
      guard locked == 0 else {
        let cause = errorText()
        _ = close(descriptor)
        throw Failure(message: "cannot lock \(temporary.path): \(cause)")
      }
      var opened = stat()
      var named = stat()
      let sameFile =
        fstat(descriptor, &opened) == 0 && lstat(temporary.path, &named) == 0
        && opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
      if !sameFile {
        _ = close(descriptor)
        continue
      }
      if (opened.st_mode & S_IFMT) != S_IFREG || opened.st_nlink != 1 {
        _ = unlink(temporary.path)
        _ = close(descriptor)
        continue
      }
      guard ftruncate(descriptor, 0) == 0 else {
        let cause = errorText()
        _ = close(descriptor)
        throw Failure(message: "cannot empty \(temporary.path): \(cause)")
      }
      return descriptor
    }
  }

  /// Writes every byte of `data`, retrying short writes and interruptions.
  private static func writeAll(_ data: Data, to descriptor: Int32, path: String) throws(Failure) {
    let failure: String? = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> String? in
      var offset = 0
      while offset < buffer.count {
        let written = posixWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return errorText()
        }
        offset += written
      }
      return nil
    }
    if let failure { throw Failure(message: "cannot write \(path): \(failure)") }
  }

  /// Flushes the folder entry so the rename itself survives a power loss (best effort).
  private static func synchronizeFolder(_ folder: URL) {
    let descriptor = open(folder.path, O_RDONLY)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    _ = close(descriptor)
  }

  private static func errorText() -> String { String(cString: strerror(errno)) }
}

/// POSIX `write(2)`, named apart from the many Swift `write` methods in scope.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}
