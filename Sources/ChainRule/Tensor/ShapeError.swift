/// A shape mismatch, phrased for a person: the op, the operands by name and both shapes.
///
/// Building a graph with mismatched shapes is a programming error, so the graph stops with
/// this message (like an index out of range); the message itself is a value so tests and
/// tools can read it.
public struct ShapeError: Error, Equatable, CustomStringConvertible {
  /// The full message, e.g. `matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)`.
  public let description: String

  /// An error with the given message.
  public init(_ description: String) { self.description = description }

  /// An operand as it appears in messages: its quoted name (or a generated one) and shape.
  public struct Operand: Sendable {
    /// The operand's name, as given to the graph or generated (`tanh#4`).
    public var name: String
    /// The operand's shape.
    public var shape: [Int]
    /// An operand named `name` with shape `shape`.
    public init(name: String, shape: [Int]) {
      self.name = name
      self.shape = shape
    }
    var text: String { "\"\(name)\" \(shape)" }
  }

  /// Matrix product whose inner dimensions differ.
  public static func matmul(_ a: Operand, _ b: Operand) -> ShapeError {
    let inner = a.shape.last.map(String.init) ?? "?"
    let outer = b.shape.first.map(String.init) ?? "?"
    return ShapeError("matmul: \(a.text) and \(b.text) do not align (\(inner) ≠ \(outer))")
  }

  /// Element-wise op whose operands cannot be broadcast to one shape; names the first
  /// incompatible axis counted from the end, as NumPy aligns shapes.
  public static func broadcast(op: String, _ a: Operand, _ b: Operand) -> ShapeError {
    var detail = ""
    for offset in 1...max(1, min(a.shape.count, b.shape.count)) {
      guard offset <= a.shape.count, offset <= b.shape.count else { break }
      let x = a.shape[a.shape.count - offset]
      let y = b.shape[b.shape.count - offset]
      if x != y && x != 1 && y != 1 {
        detail = " (axis -\(offset): \(x) vs \(y))"
        break
      }
    }
    return ShapeError("\(op): \(a.text) and \(b.text) do not broadcast\(detail)")
  }

  /// Convenience for unnamed shapes (used by tensor-level helpers).
  public static func broadcast(op: String, _ a: [Int], _ b: [Int]) -> ShapeError {
    broadcast(op: op, Operand(name: "lhs", shape: a), Operand(name: "rhs", shape: b))
  }

  /// An op that requires a certain rank or axis got something else.
  public static func invalid(op: String, _ operand: Operand, _ requirement: String) -> ShapeError {
    ShapeError("\(op): \(operand.text) \(requirement)")
  }
}
