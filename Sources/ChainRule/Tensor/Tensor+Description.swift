import Foundation

extension Tensor: CustomStringConvertible {
  /// The tensor printed the way NumPy prints an array: nested brackets, elements with up to
  /// eight decimals, trailing zeros trimmed (`1.` for one), right-aligned columns, and
  /// `...` in place of the middle of axes longer than six when the tensor has over 1,000 elements.
  ///
  /// ```
  /// [[ 0.3 ]
  ///  [-0.2 ]]
  /// ```
  public var description: String {
    let summarize = count > 1000
    let useScientific = scalars.contains { value in
      let magnitude = abs(value)
      return value.isFinite && magnitude != 0 && (magnitude >= 1e8 || magnitude < 1e-4)
    }
    let texts = Self.alignDecimalPoints(scalars.map { Self.format($0, scientific: useScientific) })
    let width = texts.map(\.count).max() ?? 0
    if rank == 0 { return texts[0] }
    return render(
      axis: 0, offset: 0, texts: texts, width: width, summarize: summarize, indent: 1)
  }

  private func render(
    axis: Int, offset: Int, texts: [String], width: Int, summarize: Bool, indent: Int
  ) -> String {
    let length = shape[axis]
    let stride = shape[(axis + 1)...].reduce(1, *)
    let indices: [Int?] =
      summarize && length > 6
      ? Array(0..<3) + [nil] + Array((length - 3)..<length) : Array(0..<length)
    if axis == rank - 1 {
      let items = indices.map { index in
        index.map {
          String(repeating: " ", count: width - texts[offset + $0].count) + texts[offset + $0]
        }
          ?? "..."
      }
      return "[" + items.joined(separator: " ") + "]"
    }
    let separator =
      "\n" + String(repeating: "\n", count: rank - axis - 2)
      + String(repeating: " ", count: indent)
    let items = indices.map { index in
      index.map {
        render(
          axis: axis + 1, offset: offset + $0 * stride, texts: texts, width: width,
          summarize: summarize, indent: indent + 1)
      } ?? "..."
    }
    return "[" + items.joined(separator: separator) + "]"
  }

  /// Pads integer parts on the left and fractions on the right so the points line up, as
  /// NumPy does (`[1.  2.5]`).
  private static func alignDecimalPoints(_ texts: [String]) -> [String] {
    let parts = texts.map { text -> (Substring, Substring)? in
      guard let point = text.firstIndex(of: "."), !text.contains("e") else { return nil }
      return (text[..<point], text[text.index(after: point)...])
    }
    let integerWidth = parts.compactMap { $0?.0.count }.max() ?? 0
    let fractionWidth = parts.compactMap { $0?.1.count }.max() ?? 0
    return zip(texts, parts).map { text, part in
      guard let (integer, fraction) = part else { return text }
      return String(repeating: " ", count: integerWidth - integer.count) + integer + "." + fraction
        + String(repeating: " ", count: fractionWidth - fraction.count)
    }
  }

  private static func format(_ value: Scalar, scientific: Bool) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let double = Double(value)
    if scientific { return String(format: "%.8e", double) }
    var text = String(format: "%.8f", double)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }
}
