/// How formulas are put together in explanations: infix templates for the primitive ops and
/// the parentheses a compound factor needs inside a product.
enum ChainText {
  /// `text` in parentheses when it is a sum, a difference or starts with a minus sign, so it
  /// can stand as a factor or an operand: `1 − a1²` → `(1 − a1²)`; `w2` stays `w2`.
  static func grouped(_ text: String) -> String {
    isCompound(text) ? "(" + text + ")" : text
  }

  /// Whether `text` needs parentheses as a factor: a top-level ` + `, ` − ` or `·`/`/` next to
  /// them, or a leading minus sign, outside any parentheses already there.
  static func isCompound(_ text: String) -> Bool {
    if text.hasPrefix("−") || text.hasPrefix("-") { return true }
    var depth = 0
    var previous: Character = " "
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      switch character {
      case "(", "[": depth += 1
      case ")", "]": depth -= 1
      case "+", "−", "-":
        if depth == 0 && previous == " " { return true }
      default: break
      }
      previous = character
      index = text.index(after: index)
    }
    return false
  }

  /// An op applied to operand names, written the way the course writes it: `a + b`,
  /// `a − b`, `a·b`, `a/b`, `−a`, `a²`, `log(a)`, `σ(a)`, `tanh(a)`; other ops as
  /// `name(a, b)`.
  static func expression(operation: any DifferentiableOperation, operands: [String]) -> String {
    let a = operands.first ?? ""
    let b = operands.count > 1 ? operands[1] : ""
    switch operation {
    case is Add: return "\(a) + \(b)"
    case is Subtract: return "\(a) − \(grouped(b))"
    case is Multiply, is MatMul: return "\(grouped(a))·\(grouped(b))"
    case is Divide: return "\(grouped(a))/\(grouped(b))"
    case is Negate: return "−\(grouped(a))"
    case is Square: return "\(grouped(a))²"
    case is Sigmoid: return "σ(\(a))"
    default: return "\(operation.name)(\(operands.joined(separator: ", ")))"
    }
  }
}
