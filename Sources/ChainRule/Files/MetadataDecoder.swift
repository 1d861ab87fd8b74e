/// Decodes a `Decodable` value from a JSON metadata string, naming the field of every problem.
///
/// Why not `JSONDecoder`: on Linux it reports a number that does not fit its field (`1e30` or
/// `2.5` for an `Int`, `1e400` for a `Double`) as "The given data was not valid JSON." with
/// no field at all, and it merges duplicate keys silently. A damaged model file must be
/// refused with the field's name, so this small `Decoder` walks the tree of `HeaderJSON` (the
/// strict parser the safetensors header already uses, numbers kept as their exact text) and
/// throws `DecodingError`s whose coding path is the JSON path of the offending value.
enum MetadataDecoder {
  /// Decodes `Value` from JSON `text`.
  /// - Throws: `DecodingError` (`dataCorrupted` with the byte offset for invalid JSON; a
  ///   coding path to the field for a missing key, a wrong type or a number out of range).
  static func decode<Value: Decodable>(_: Value.Type, from text: String) throws -> Value {
    let tree: HeaderJSON.Value
    do {
      tree = try HeaderJSON.parse(Array(text.utf8))
    } catch {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: [], debugDescription: "invalid JSON at byte \(error.offset): \(error.message)"
        ))
    }
    return try Value(from: TreeDecoder(tree, path: []))
  }
}

/// A coding key for array elements and dictionary keys.
private struct IndexKey: CodingKey {
  var stringValue: String
  var intValue: Int?
  init(stringValue: String) { self.stringValue = stringValue }
  init(intValue: Int) {
    self.stringValue = "\(intValue)"
    self.intValue = intValue
  }
}

private struct TreeDecoder: Decoder {
  let value: HeaderJSON.Value
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(_ value: HeaderJSON.Value, path: [any CodingKey]) {
    self.value = value
    self.codingPath = path
  }

  func mismatch(_ expected: String) -> DecodingError {
    .typeMismatch(
      Any.self,
      .init(
        codingPath: codingPath,
        debugDescription: "expected \(expected), found \(value.typeDescription)"))
  }

  func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let members) = value.kind else { throw mismatch("an object") }
    var fields: [String: HeaderJSON.Value] = [:]
    for member in members { fields[member.key] = member.value }  // keys are unique (parser)
    return KeyedDecodingContainer(Keyed<Key>(decoder: self, fields: fields))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let elements) = value.kind else { throw mismatch("an array") }
    return Unkeyed(elements: elements, codingPath: codingPath)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

  /// The number's exact text, or a type mismatch.
  func numberText() throws -> String {
    guard case .number(let text) = value.kind else { throw mismatch("a number") }
    return text
  }

  func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
    let text = try numberText()
    guard let result = T(text) else {
      let whole = Double(text).map { $0 == $0.rounded() } ?? true  // 1e30 is whole, 2.5 not
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: codingPath,
          debugDescription: "\(text) is not "
            + (whole ? "in \(T.self)'s range \(T.min)...\(T.max)" : "a whole number")))
    }
    return result
  }

  func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_: T.Type) throws -> T {
    let text = try numberText()
    guard let result = T(text), result.isFinite else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: codingPath, debugDescription: "\(text) is beyond \(T.self)'s range"))
    }
    return result
  }
}

private struct Single: SingleValueDecodingContainer {
  let decoder: TreeDecoder
  var codingPath: [any CodingKey] { decoder.codingPath }

  func decodeNil() -> Bool {
    if case .null = decoder.value.kind { return true }
    return false
  }
  func decode(_: Bool.Type) throws -> Bool {
    guard case .bool(let value) = decoder.value.kind else {
      throw decoder.mismatch("true or false")
    }
    return value
  }
  func decode(_: String.Type) throws -> String {
    guard case .string(let value) = decoder.value.kind else { throw decoder.mismatch("a string") }
    return value
  }
  func decode(_: Double.Type) throws -> Double { try decoder.floatingPoint(Double.self) }
  func decode(_: Float.Type) throws -> Float { try decoder.floatingPoint(Float.self) }
  func decode(_: Int.Type) throws -> Int { try decoder.integer(Int.self) }
  func decode(_: Int8.Type) throws -> Int8 { try decoder.integer(Int8.self) }
  func decode(_: Int16.Type) throws -> Int16 { try decoder.integer(Int16.self) }
  func decode(_: Int32.Type) throws -> Int32 { try decoder.integer(Int32.self) }
  func decode(_: Int64.Type) throws -> Int64 { try decoder.integer(Int64.self) }
  func decode(_: UInt.Type) throws -> UInt { try decoder.integer(UInt.self) }
  func decode(_: UInt8.Type) throws -> UInt8 { try decoder.integer(UInt8.self) }
  func decode(_: UInt16.Type) throws -> UInt16 { try decoder.integer(UInt16.self) }
  func decode(_: UInt32.Type) throws -> UInt32 { try decoder.integer(UInt32.self) }
  func decode(_: UInt64.Type) throws -> UInt64 { try decoder.integer(UInt64.self) }
  func decode<T: Decodable>(_: T.Type) throws -> T { try T(from: decoder) }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
  /// The object's own decoder.
  let decoder: TreeDecoder
  let fields: [String: HeaderJSON.Value]
  var codingPath: [any CodingKey] { decoder.codingPath }

  var allKeys: [Key] { fields.keys.compactMap(Key.init(stringValue:)) }
  func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

  func single(_ key: Key) throws -> Single {
    guard let value = fields[key.stringValue] else {
      throw DecodingError.keyNotFound(
        key, .init(codingPath: codingPath, debugDescription: "missing"))
    }
    return Single(decoder: TreeDecoder(value, path: codingPath + [key]))
  }

  func decodeNil(forKey key: Key) throws -> Bool { try single(key).decodeNil() }
  func decode(_: Bool.Type, forKey key: Key) throws -> Bool { try single(key).decode(Bool.self) }
  func decode(_: String.Type, forKey key: Key) throws -> String {
    try single(key).decode(String.self)
  }
  func decode(_: Double.Type, forKey key: Key) throws -> Double {
    try single(key).decode(Double.self)
  }
  func decode(_: Float.Type, forKey key: Key) throws -> Float { try single(key).decode(Float.self) }
  func decode(_: Int.Type, forKey key: Key) throws -> Int { try single(key).decode(Int.self) }
  func decode(_: Int8.Type, forKey key: Key) throws -> Int8 { try single(key).decode(Int8.self) }
  func decode(_: Int16.Type, forKey key: Key) throws -> Int16 { try single(key).decode(Int16.self) }
  func decode(_: Int32.Type, forKey key: Key) throws -> Int32 { try single(key).decode(Int32.self) }
  func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try single(key).decode(Int64.self) }
  func decode(_: UInt.Type, forKey key: Key) throws -> UInt { try single(key).decode(UInt.self) }
  func decode(_: UInt8.Type, forKey key: Key) throws -> UInt8 { try single(key).decode(UInt8.self) }
  func decode(_: UInt16.Type, forKey key: Key) throws -> UInt16 {
    try single(key).decode(UInt16.self)
  }
  func decode(_: UInt32.Type, forKey key: Key) throws -> UInt32 {
    try single(key).decode(UInt32.self)
  }
  func decode(_: UInt64.Type, forKey key: Key) throws -> UInt64 {
    try single(key).decode(UInt64.self)
  }
  func decode<T: Decodable>(_: T.Type, forKey key: Key) throws -> T {
    try T(from: single(key).decoder)
  }
  func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try single(key).decoder.container(keyedBy: type)
  }
  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try single(key).decoder.unkeyedContainer()
  }
  func superDecoder() throws -> any Decoder { decoder }
  func superDecoder(forKey key: Key) throws -> any Decoder { try single(key).decoder }
}

private struct Unkeyed: UnkeyedDecodingContainer {
  let elements: [HeaderJSON.Value]
  let codingPath: [any CodingKey]
  var currentIndex = 0
  var count: Int? { elements.count }
  var isAtEnd: Bool { currentIndex >= elements.count }

  /// The next element's decoder; advances.
  mutating func next() throws -> TreeDecoder {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        Any.self,
        .init(
          codingPath: codingPath + [IndexKey(intValue: currentIndex)],
          debugDescription: "the array has only \(elements.count) elements"))
    }
    defer { currentIndex += 1 }
    return TreeDecoder(
      elements[currentIndex], path: codingPath + [IndexKey(intValue: currentIndex)])
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, case .null = elements[currentIndex].kind else { return false }
    currentIndex += 1
    return true
  }
  mutating func decode(_: Bool.Type) throws -> Bool {
    try Single(decoder: next()).decode(Bool.self)
  }
  mutating func decode(_: String.Type) throws -> String {
    try Single(decoder: next()).decode(String.self)
  }
  mutating func decode(_: Double.Type) throws -> Double {
    try Single(decoder: next()).decode(Double.self)
  }
  mutating func decode(_: Float.Type) throws -> Float {
    try Single(decoder: next()).decode(Float.self)
  }
  mutating func decode(_: Int.Type) throws -> Int { try Single(decoder: next()).decode(Int.self) }
  mutating func decode(_: Int8.Type) throws -> Int8 {
    try Single(decoder: next()).decode(Int8.self)
  }
  mutating func decode(_: Int16.Type) throws -> Int16 {
    try Single(decoder: next()).decode(Int16.self)
  }
  mutating func decode(_: Int32.Type) throws -> Int32 {
    try Single(decoder: next()).decode(Int32.self)
  }
  mutating func decode(_: Int64.Type) throws -> Int64 {
    try Single(decoder: next()).decode(Int64.self)
  }
  mutating func decode(_: UInt.Type) throws -> UInt {
    try Single(decoder: next()).decode(UInt.self)
  }
  mutating func decode(_: UInt8.Type) throws -> UInt8 {
    try Single(decoder: next()).decode(UInt8.self)
  }
  mutating func decode(_: UInt16.Type) throws -> UInt16 {
    try Single(decoder: next()).decode(UInt16.self)
  }
  mutating func decode(_: UInt32.Type) throws -> UInt32 {
    try Single(decoder: next()).decode(UInt32.self)
  }
  mutating func decode(_: UInt64.Type) throws -> UInt64 {
    try Single(decoder: next()).decode(UInt64.self)
  }
  mutating func decode<T: Decodable>(_: T.Type) throws -> T { try T(from: next()) }
  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try next().container(keyedBy: type)
  }
  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    try next().unkeyedContainer()
  }
  mutating func superDecoder() throws -> any Decoder { try next() }
}
