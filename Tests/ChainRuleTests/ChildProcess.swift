import Foundation

/// A finished child process: how it ended and what it wrote.
struct ChildProcessResult {
  /// Whether a signal ended it (a trap), rather than `exit`.
  var signalled: Bool
  /// The exit status, or the signal's number when `signalled`.
  var status: Int32
  var output: String
  var error: String
}

/// Runs `executable arguments…` in `folder` and waits for it; standard output and error go
/// through files there (no pipe limits), removed afterwards.
func runChildProcess(
  _ executable: URL, _ arguments: [String], in folder: URL,
  environment: [String: String]? = nil
) throws -> ChildProcessResult {
  let out = folder.appendingPathComponent(".stdout-\(UUID().uuidString)")
  let err = folder.appendingPathComponent(".stderr-\(UUID().uuidString)")
  try Data().write(to: out)
  try Data().write(to: err)
  defer {
    try? FileManager.default.removeItem(at: out)
    try? FileManager.default.removeItem(at: err)
  }
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  process.currentDirectoryURL = folder
  if let environment { process.environment = environment }
  let outHandle = try FileHandle(forWritingTo: out)
  let errHandle = try FileHandle(forWritingTo: err)
  process.standardOutput = outHandle
  process.standardError = errHandle
  process.standardInput = FileHandle.nullDevice
  try process.run()
  process.waitUntilExit()
  try outHandle.close()
  try errHandle.close()
  return ChildProcessResult(
    signalled: process.terminationReason == .uncaughtSignal, status: process.terminationStatus,
    output: String(decoding: try Data(contentsOf: out), as: UTF8.self),
    error: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}
