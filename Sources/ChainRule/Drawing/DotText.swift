import Foundation

/// Text helpers shared by the drawings and the explanations: DOT string escaping and
/// deterministic number formatting.
enum DotText {
  /// `text` as a DOT double-quoted string: `\` → `\\`, `"` → `\"`, and every line break
  /// (`\n`, `\r`, `\r\n`) → the DOT line break `\n`. `<`, `>`, `{`, `|` need nothing in a quoted
  /// string (they only matter in HTML-like and record labels, which are not used).
  static func quoted(_ text: String) -> String {
    "\"" + escaped(text) + "\""
  }

  /// The body of a quoted DOT string, without the quotes.
  static func escaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "\\": result += "\\\\"
      case "\"": result += "\\\""
      case "\n", "\r", "\r\n": result += "\\n"
      default: result.append(character)
      }
    }
    return result
  }

  /// Several lines as one quoted DOT label, each line escaped, joined by DOT line breaks.
  static func label(_ lines: [String]) -> String {
    "\"" + lines.map(escaped).joined(separator: "\\n") + "\""
  }

  /// `value` with `digits` significant digits (`%.*g`): `0.4219`, `-0.2`, `1e-05`, `nan`;
  /// negative zero prints as `0`. The C library's formatting is deterministic.
  static func number(_ value: Double, digits: Int = 4) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return "0" }
    return String(format: "%.*g", digits, value)
  }

  /// The shortest text that reads back as `value` (`0.1`, `1`, `-0.5`): Swift's own
  /// round-trip formatting without a trailing `.0`.
  static func shortest(_ value: Double) -> String {
    let text = value == 0 ? "0" : "\(value)"
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
  }

  /// A tensor's values with nested brackets: `0.5`, `[0.5, -1]`, `[[0.3], [-0.2]]`.
  static func tensor<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, digits: Int = 4) -> String {
    let texts = tensor.scalars.map { number(Double($0), digits: digits) }
    if tensor.rank == 0 { return texts[0] }
    return nested(shape: tensor.shape[...], texts: texts[...])
  }

  private static func nested(shape: ArraySlice<Int>, texts: ArraySlice<String>) -> String {
    guard let length = shape.first else { return texts.first ?? "" }
    let inner = shape.dropFirst()
    let stride = inner.reduce(1, *)
    let items = (0..<length).map { index -> String in
      let start = texts.startIndex + index * stride
      return nested(shape: inner, texts: texts[start..<(start + stride)])
    }
    return "[" + items.joined(separator: ", ") + "]"
  }

  /// A shape as `[1, 2]` (`[]` for a scalar).
  static func shape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }

  /// A flat row-major index as a multi-index suffix: `[0, 1]`.
  static func index(_ flat: Int, shape: [Int]) -> String {
    "[" + rowMajorIndex(flat, shape: shape).map(String.init).joined(separator: ", ") + "]"
  }
}
