// Checks of the caller's input that keep their message in release builds.
//
// `precondition(_:_:)` prints its message only in debug builds: compiled with `-O`, as
// `swift build -c release` does, a failed precondition stops the program with nothing but
// "Illegal instruction" — the message naming the shapes or the node is dropped. `fatalError`
// prints its message in every build, so these two functions stop through it. The condition is
// checked inline and the message is only built on failure, so a check on a hot path costs a
// compare and a branch, as a precondition does.

/// Stops the program with `message` unless `condition` holds — in debug and release builds
/// alike. For misuse by the caller: a shape that does not fit, a node from another graph.
///
/// Prints `ChainRule/File.swift:LINE: Fatal error: MESSAGE` on standard error, then traps.
@inline(__always)
package func require(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if _slowPath(!condition()) { requirementFailure(message(), file: file, line: line) }
}

/// Stops the program with `message`, in debug and release builds alike: `require` for a
/// condition found false by other code (a `catch`, a `guard … else`).
@inline(never)
package func requirementFailure(
  _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) -> Never {
  fatalError(message(), file: file, line: line)
}
