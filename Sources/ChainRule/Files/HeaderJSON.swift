/// A strict JSON reader and writer for safetensors headers.
///
/// Foundation's `JSONSerialization` forgets key order, merges duplicate keys silently, turns
/// integers into floating-point `NSNumber`s and reports errors without a byte offset. A
/// safetensors header needs none of that, so this small recursive-descent parser (RFC 8259)
/// keeps the byte offset of every value for error messages, keeps object keys in file order,
/// rejects duplicate keys and keeps numbers as their exact text.
struct HeaderJSON {
  /// A parsed JSON value and the byte offset (from the start of the header) where it begins.
  struct Value {
    /// The JSON value itself.
    enum Kind {
      case object([Member])
      case array([Value])
      case string(String)
      /// The number's text exactly as written, e.g. `"-12"` or `"2.5e3"`.
      case number(String)
      case bool(Bool)
      case null
    }
    var kind: Kind
    var offset: Int

    /// A short name for the value's type, used in messages ("an array", "a string", …).
    var typeDescription: String {
      switch kind {
      case .object: "an object"
      case .array: "an array"
      case .string: "a string"
      case .number(let text): "the number \(text)"
      case .bool(let value): "\(value)"
      case .null: "null"
      }
    }

    /// The value as a non-negative integer that fits in `Int`, or nil (fractions, exponents,
    /// negative numbers, overflow and non-numbers are all nil).
    var nonNegativeInteger: Int? {
      guard case .number(let text) = kind, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
      else { return nil }
      return Int(text)
    }
  }

  /// One `"key": value` pair of an object.
  struct Member {
    var key: String
    var keyOffset: Int
    var value: Value
  }

  /// A syntax error at a byte offset from the start of the header.
  struct SyntaxError: Error {
    var offset: Int
    var message: String
  }

  /// Objects and arrays nested deeper than this are rejected instead of overflowing the stack.
  static let maximumDepth = 64

  private let bytes: [UInt8]
  private var position = 0

  private init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Parses one JSON value that spans all of `bytes` (surrounding whitespace allowed).
  static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> Value {
    var parser = HeaderJSON(bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.position == bytes.count else {
      throw SyntaxError(
        offset: parser.position, message: "unexpected \(parser.current) after the JSON value")
    }
    return value
  }

  /// The first byte offset where `bytes` is not valid UTF-8, or nil if all of it is.
  ///
  /// ASCII bytes (the common case) are skipped one comparison each; the decoder starts at the
  /// first byte ≥ 0x80, which is always at a scalar boundary.
  static func firstInvalidUTF8Offset(in bytes: some Collection<UInt8>) -> Int? {
    guard let firstNonASCII = bytes.firstIndex(where: { $0 >= 0x80 }) else { return nil }
    var offset = bytes.distance(from: bytes.startIndex, to: firstNonASCII)
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes[firstNonASCII...].makeIterator()
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let scalar): offset += scalar.count
      case .emptyInput: return nil
      case .error: return offset
      }
    }
  }

  // MARK: Parsing

  /// A readable name for the byte at the current position.
  private var current: String {
    guard position < bytes.count else { return "end of header" }
    let byte = bytes[position]
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "byte 0x\(String(byte, radix: 16, uppercase: true))"
  }

  private mutating func skipWhitespace() {
    while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
      position += 1
    }
  }

  private func fail(_ message: String) -> SyntaxError {
    SyntaxError(offset: position, message: message)
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
    guard position < bytes.count, bytes[position] == byte else {
      throw fail("expected \(what), found \(current)")
    }
    position += 1
  }

  private mutating func parseValue(depth: Int) throws(SyntaxError) -> Value {
    let start = position
    guard position < bytes.count else { throw fail("expected a value, found end of header") }
    switch bytes[position] {
    case UInt8(ascii: "{"):
      guard depth < Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth)") }
      return Value(kind: .object(try parseObject(depth: depth + 1)), offset: start)
    case UInt8(ascii: "["):
      guard depth < Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth)") }
      return Value(kind: .array(try parseArray(depth: depth + 1)), offset: start)
    case UInt8(ascii: "\""):
      return Value(kind: .string(try parseString()), offset: start)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return Value(kind: .number(try parseNumber()), offset: start)
    case UInt8(ascii: "t"):
      try parseLiteral("true")
      return Value(kind: .bool(true), offset: start)
    case UInt8(ascii: "f"):
      try parseLiteral("false")
      return Value(kind: .bool(false), offset: start)
    case UInt8(ascii: "n"):
      try parseLiteral("null")
      return Value(kind: .null, offset: start)
    default:
      throw fail("expected a value, found \(current)")
    }
  }

  private mutating func parseLiteral(_ word: String) throws(SyntaxError) {
    for byte in word.utf8 { try expect(byte, "'\(word)'") }
  }

  private mutating func parseObject(depth: Int) throws(SyntaxError) -> [Member] {
    position += 1  // {
    var members: [Member] = []
    var seen: Set<String> = []
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
      position += 1
      return members
    }
    while true {
      skipWhitespace()
      let keyOffset = position
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
        throw fail("expected a quoted key, found \(current)")
      }
      let key = try parseString()
      guard seen.insert(key).inserted else {
        throw SyntaxError(offset: keyOffset, message: "duplicate key \"\(key)\"")
      }
      skipWhitespace()
      try expect(UInt8(ascii: ":"), "':' after key \"\(key)\"")
      skipWhitespace()
      let value = try parseValue(depth: depth)
      members.append(Member(key: key, keyOffset: keyOffset, value: value))
      skipWhitespace()
      if position < bytes.count, bytes[position] == UInt8(ascii: ",") {
        position += 1
        continue
      }
      try expect(UInt8(ascii: "}"), "',' or '}' in an object")
      return members
    }
  }

  private mutating func parseArray(depth: Int) throws(SyntaxError) -> [Value] {
    position += 1  // [
    var elements: [Value] = []
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
      position += 1
      return elements
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      if position < bytes.count, bytes[position] == UInt8(ascii: ",") {
        position += 1
        continue
      }
      try expect(UInt8(ascii: "]"), "',' or ']' in an array")
      return elements
    }
  }

  private mutating func parseNumber() throws(SyntaxError) -> String {
    let start = position
    func digits(_ parser: inout HeaderJSON) -> Int {
      let first = parser.position
      while parser.position < parser.bytes.count,
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position])
      {
        parser.position += 1
      }
      return parser.position - first
    }
    if bytes[position] == UInt8(ascii: "-") { position += 1 }
    let integerStart = position
    let integerDigits = digits(&self)
    guard integerDigits > 0 else { throw fail("expected a digit, found \(current)") }
    if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") {
      throw SyntaxError(offset: integerStart, message: "number with a leading zero")
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      position += 1
      guard digits(&self) > 0 else { throw fail("expected a digit after '.', found \(current)") }
    }
    if position < bytes.count,
      bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")
    {
      position += 1
      if position < bytes.count,
        bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
      {
        position += 1
      }
      guard digits(&self) > 0 else {
        throw fail("expected a digit in the exponent, found \(current)")
      }
    }
    return String(decoding: bytes[start..<position], as: UTF8.self)
  }

  /// Parses a string. The UTF-8 bytes are collected and decoded once at the closing quote:
  /// appending each run between escapes to a `String.UnicodeScalarView` copied the whole
  /// string so far every time, which made a metadata string with many escaped quotes (the
  /// column names of an 80,000-column model) quadratic.
  private mutating func parseString() throws(SyntaxError) -> String {
    position += 1  // opening quote
    var utf8: [UInt8] = []
    var runStart = position
    while true {
      guard position < bytes.count else { throw fail("unterminated string") }
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: "\""):
        utf8.append(contentsOf: bytes[runStart..<position])
        position += 1
        return String(decoding: utf8, as: UTF8.self)
      case UInt8(ascii: "\\"):
        utf8.append(contentsOf: bytes[runStart..<position])
        utf8.append(contentsOf: UTF8.encode(try parseEscape())!)
        runStart = position
      case 0x00..<0x20:
        throw fail("unescaped control character \(current) in a string")
      default:
        position += 1
      }
    }
  }

  /// Parses `\x` or `\uXXXX` (with a following low surrogate where needed).
  private mutating func parseEscape() throws(SyntaxError) -> Unicode.Scalar {
    let start = position
    position += 1  // backslash
    guard position < bytes.count else { throw fail("unterminated escape") }
    let letter = bytes[position]
    position += 1
    switch letter {
    case UInt8(ascii: "\""): return "\""
    case UInt8(ascii: "\\"): return "\\"
    case UInt8(ascii: "/"): return "/"
    case UInt8(ascii: "b"): return "\u{08}"
    case UInt8(ascii: "f"): return "\u{0C}"
    case UInt8(ascii: "n"): return "\n"
    case UInt8(ascii: "r"): return "\r"
    case UInt8(ascii: "t"): return "\t"
    case UInt8(ascii: "u"):
      let high = try parseHexQuad()
      if (0xD800..<0xDC00).contains(high) {
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
          bytes[position + 1] == UInt8(ascii: "u")
        else { throw SyntaxError(offset: start, message: "unpaired surrogate in \\u escape") }
        position += 2
        let low = try parseHexQuad()
        guard (0xDC00..<0xE000).contains(low) else {
          throw SyntaxError(offset: start, message: "unpaired surrogate in \\u escape")
        }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
      }
      guard let scalar = Unicode.Scalar(high) else {
        throw SyntaxError(offset: start, message: "unpaired surrogate in \\u escape")
      }
      return scalar
    default:
      throw SyntaxError(offset: start, message: "invalid escape in a string")
    }
  }

  private mutating func parseHexQuad() throws(SyntaxError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard position < bytes.count, let digit = hexDigitValue(bytes[position]) else {
        throw fail("expected a hex digit in \\u escape, found \(current)")
      }
      value = value << 4 | digit
      position += 1
    }
    return value
  }

  private func hexDigitValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  // MARK: Writing

  /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
  /// everything else written as UTF-8.
  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}
