import Foundation

/// Reading and writing tensors in the safetensors format (Hugging Face), with Foundation only.
///
/// Layout of a file:
///
///     bytes 0..<8        N, the header length, as a little-endian UInt64
///     bytes 8..<8+N      the header: UTF-8 JSON, padded with spaces
///                        {"__metadata__": {"key": "value", …},
///                         "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, …}
///     bytes 8+N..<end    the data section: each tensor's elements, little-endian, row-major;
///                        data_offsets are relative to its start
///
/// The tensors' byte ranges must tile the data section exactly: no overlap, no gap, no bytes
/// left over. `read` checks all of that (and every field of every entry) before it returns,
/// and reports the first problem as a `SafeTensorsError` naming the byte offset and tensor.
/// `write` emits the tensors in the order given, the metadata keys sorted, and pads the header
/// to a multiple of 8 bytes, so equal inputs give byte-identical files; it replaces the file
/// atomically.
public enum SafeTensors {
  /// The header key that holds the file's string-to-string metadata.
  public static let metadataKey = "__metadata__"

  /// Writes `tensors` (in this order) and `metadata` to `url`, replacing any file there
  /// atomically: a failed write leaves the previous file untouched.
  /// - Throws: `invalidName` for an empty, duplicate or reserved name; `writeFailed` when the
  ///   folder does not exist or the file system refuses.
  public static func write<Scalar: TensorScalar>(
    _ tensors: [(name: String, tensor: Tensor<Scalar>)], metadata: [String: String] = [:],
    to url: URL
  ) throws(SafeTensorsError) {
    try write(
      tensors.map { (name: $0.name, tensor: SafeTensorsValue($0.tensor)) }, metadata: metadata,
      to: url, beforeRename: { _ in })
  }

  /// Writes tensors of mixed dtypes (in this order) and `metadata` to `url`, atomically.
  public static func write(
    _ tensors: [(name: String, tensor: SafeTensorsValue)], metadata: [String: String] = [:],
    to url: URL
  ) throws(SafeTensorsError) {
    try write(tensors, metadata: metadata, to: url, beforeRename: { _ in })
  }

  /// `write` with a hook between the complete temporary file and the rename (for tests).
  static func write(
    _ tensors: [(name: String, tensor: SafeTensorsValue)], metadata: [String: String],
    to url: URL, beforeRename: (URL) throws -> Void
  ) throws(SafeTensorsError) {
    let data: Data
    do {
      data = try encode(tensors, metadata: metadata)
    } catch {
      throw SafeTensorsError(file: url.path, reason: error.reason)
    }
    do {
      try AtomicFile.write(data, to: url, beforeRename: beforeRename)
    } catch {
      throw SafeTensorsError(file: url.path, reason: .writeFailed(message: error.message))
    }
  }

  /// Reads and validates the safetensors file at `url`.
  /// - Throws: `readFailed` when the file cannot be read; any other reason when its contents
  ///   are not a valid safetensors file of F32/F64 tensors.
  public static func read(from url: URL) throws(SafeTensorsError) -> SafeTensorsFile {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
      throw SafeTensorsError(file: url.path, reason: .readFailed(message: "no such file"))
    }
    guard !isFolder.boolValue else {
      throw SafeTensorsError(file: url.path, reason: .readFailed(message: "it is a folder"))
    }
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw SafeTensorsError(
        file: url.path, reason: .readFailed(message: error.localizedDescription))
    }
    return try decode(data, file: url.path)
  }

  // MARK: Encoding

  /// The bytes of a safetensors file holding `tensors` (in this order) and `metadata`.
  /// - Throws: `invalidName` for an empty, duplicate or reserved (`__metadata__`) name.
  public static func encode<Scalar: TensorScalar>(
    _ tensors: [(name: String, tensor: Tensor<Scalar>)], metadata: [String: String] = [:]
  ) throws(SafeTensorsError) -> Data {
    try encode(
      tensors.map { (name: $0.name, tensor: SafeTensorsValue($0.tensor)) }, metadata: metadata)
  }

  /// The bytes of a safetensors file holding tensors of mixed dtypes (in this order) and
  /// `metadata`.
  /// - Throws: `invalidName` for an empty, duplicate or reserved (`__metadata__`) name.
  public static func encode(
    _ tensors: [(name: String, tensor: SafeTensorsValue)], metadata: [String: String] = [:]
  ) throws(SafeTensorsError) -> Data {
    var seen: Set<String> = []
    for (name, _) in tensors {
      var problem: String?
      if name.isEmpty {
        problem = "a tensor needs a non-empty name"
      } else if name == metadataKey {
        problem = "is reserved for the metadata"
      } else if !seen.insert(name).inserted {
        problem = "is used by two tensors"
      }
      if let problem {
        throw SafeTensorsError(file: "<memory>", reason: .invalidName(name, message: problem))
      }
    }

    var entries: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.sorted { $0.key < $1.key }.map {
        HeaderJSON.quoted($0.key) + ":" + HeaderJSON.quoted($0.value)
      }
      entries.append(HeaderJSON.quoted(metadataKey) + ":{" + pairs.joined(separator: ",") + "}")
    }
    var offset = 0
    for (name, tensor) in tensors {
      let end = offset + tensor.count * tensor.dtype.byteCount
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      entries.append(
        HeaderJSON.quoted(name) + ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
          + "\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    // Pad with spaces so the data section starts at a multiple of 8 bytes.
    header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

    var data = Data(capacity: 8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: header)
    for (_, tensor) in tensors {
      tensor.appendLittleEndianBytes(to: &data)
    }
    return data
  }

  // MARK: Decoding

  /// Parses and validates the bytes of a safetensors file.
  /// - Parameters:
  ///   - data: The file's bytes.
  ///   - file: The name used in error messages.
  public static func decode(
    _ data: Data, file: String = "<memory>"
  ) throws(SafeTensorsError) -> SafeTensorsFile {
    func failure(_ reason: SafeTensorsError.Reason) -> SafeTensorsError {
      SafeTensorsError(file: file, reason: reason)
    }
    guard data.count >= 8 else { throw failure(.fileTooShort(byteCount: data.count)) }
    let headerLength = data.withUnsafeBytes {
      UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    }
    guard headerLength <= UInt64(data.count - 8) else {
      throw failure(.headerLengthExceedsFile(headerLength: headerLength, available: data.count - 8))
    }
    let dataStart = 8 + Int(headerLength)
    let header = data.withUnsafeBytes { [UInt8]($0[8..<dataStart]) }
    if let bad = HeaderJSON.firstInvalidUTF8Offset(in: header) {
      throw failure(.invalidUTF8(byteOffset: 8 + bad))
    }
    let root: HeaderJSON.Value
    do {
      root = try HeaderJSON.parse(header)
    } catch {
      throw failure(.invalidJSON(byteOffset: 8 + error.offset, message: error.message))
    }
    guard case .object(let members) = root.kind else {
      throw failure(.headerNotObject(found: root.typeDescription))
    }

    let dataByteCount = data.count - dataStart
    var metadata: [String: String] = [:]
    var tensors: [SafeTensorsFile.TensorInfo] = []
    var entryOffsets: [Int] = []  // file offset of each tensor's entry, for messages
    for member in members {
      if member.key == metadataKey {
        metadata = try parseMetadata(member.value, file: file)
      } else {
        let info = try parseEntry(member, dataByteCount: dataByteCount, file: file)
        tensors.append(info)
        entryOffsets.append(8 + member.keyOffset)
      }
    }

    // The byte ranges, sorted, must tile 0..<dataByteCount exactly.
    let order = tensors.indices.sorted {
      (tensors[$0].dataOffsets.lowerBound, tensors[$0].dataOffsets.upperBound, $0)
        < (tensors[$1].dataOffsets.lowerBound, tensors[$1].dataOffsets.upperBound, $1)
    }
    var covered = 0
    var previous: Int? = nil
    for index in order {
      let range = tensors[index].dataOffsets
      if range.lowerBound < covered, let previous {
        throw failure(
          .overlappingTensors(
            tensor: tensors[index].name, range: range, other: tensors[previous].name,
            otherRange: tensors[previous].dataOffsets, fileOffset: entryOffsets[index]))
      }
      if range.lowerBound > covered {
        throw failure(
          .gapBeforeTensor(
            tensor: tensors[index].name, gap: covered..<range.lowerBound,
            fileOffset: dataStart + covered))
      }
      covered = range.upperBound
      previous = index
    }
    if covered < dataByteCount {
      throw failure(
        .trailingBytes(gap: covered..<dataByteCount, fileOffset: dataStart + covered))
    }

    return SafeTensorsFile(
      file: file, tensors: order.map { tensors[$0] }, metadata: metadata, bytes: data,
      dataStart: dataStart)
  }

  /// `__metadata__` must be an object whose values are strings (or null: no metadata).
  private static func parseMetadata(
    _ value: HeaderJSON.Value, file: String
  ) throws(SafeTensorsError) -> [String: String] {
    func failure(_ reason: SafeTensorsError.Reason) -> SafeTensorsError {
      SafeTensorsError(file: file, reason: reason)
    }
    if case .null = value.kind { return [:] }
    guard case .object(let members) = value.kind else {
      throw failure(
        .invalidMetadata(
          byteOffset: 8 + value.offset,
          message: "must be an object of strings, found \(value.typeDescription)"))
    }
    var metadata: [String: String] = [:]
    for member in members {
      guard case .string(let text) = member.value.kind else {
        throw failure(
          .invalidMetadata(
            byteOffset: 8 + member.value.offset,
            message: "value of \"\(member.key.escapingControlCharacters)\" must be a string, "
              + "found \(member.value.typeDescription)"))
      }
      metadata[member.key] = text
    }
    return metadata
  }

  /// Validates one tensor entry: exactly the fields dtype, shape and data_offsets, with a
  /// supported dtype, a non-negative integer shape and offsets within the data section whose
  /// length matches shape × dtype size.
  private static func parseEntry(
    _ member: HeaderJSON.Member, dataByteCount: Int, file: String
  ) throws(SafeTensorsError) -> SafeTensorsFile.TensorInfo {
    let name = member.key
    func failure(_ reason: SafeTensorsError.Reason) -> SafeTensorsError {
      SafeTensorsError(file: file, reason: reason)
    }
    func invalid(_ offset: Int, _ message: String) -> SafeTensorsError {
      failure(.invalidEntry(tensor: name, byteOffset: 8 + offset, message: message))
    }
    guard case .object(let fields) = member.value.kind else {
      throw invalid(
        member.value.offset,
        "entry must be an object with dtype, shape and data_offsets, found "
          + member.value.typeDescription)
    }
    var dtypeValue: HeaderJSON.Value?
    var shapeValue: HeaderJSON.Value?
    var offsetsValue: HeaderJSON.Value?
    for field in fields {
      switch field.key {
      case "dtype": dtypeValue = field.value
      case "shape": shapeValue = field.value
      case "data_offsets": offsetsValue = field.value
      default:
        throw invalid(
          field.keyOffset,
          "unexpected field \"\(field.key.escapingControlCharacters)\" (allowed: dtype, shape, data_offsets)"
        )
      }
    }
    guard let dtypeValue else { throw invalid(member.value.offset, "missing field \"dtype\"") }
    guard let shapeValue else { throw invalid(member.value.offset, "missing field \"shape\"") }
    guard let offsetsValue else {
      throw invalid(member.value.offset, "missing field \"data_offsets\"")
    }

    guard case .string(let dtypeName) = dtypeValue.kind else {
      throw invalid(
        dtypeValue.offset, "dtype must be a string, found \(dtypeValue.typeDescription)")
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw failure(
        .unsupportedDType(tensor: name, dtype: dtypeName, byteOffset: 8 + dtypeValue.offset))
    }

    guard case .array(let dimensionValues) = shapeValue.kind else {
      throw failure(
        .invalidShape(
          tensor: name, byteOffset: 8 + shapeValue.offset,
          message: "shape must be an array of non-negative integers, found "
            + shapeValue.typeDescription))
    }
    var shape: [Int] = []
    for (axis, value) in dimensionValues.enumerated() {
      guard let dimension = value.nonNegativeInteger else {
        throw failure(
          .invalidShape(
            tensor: name, byteOffset: 8 + value.offset,
            message: "shape[\(axis)] must be a non-negative integer, found \(value.typeDescription)"
          ))
      }
      shape.append(dimension)
    }

    guard case .array(let bounds) = offsetsValue.kind, bounds.count == 2,
      let begin = bounds[0].nonNegativeInteger, let end = bounds[1].nonNegativeInteger
    else {
      throw invalid(
        offsetsValue.offset, "data_offsets must be [begin, end] with non-negative integers")
    }
    guard begin <= end, end <= dataByteCount else {
      throw failure(
        .offsetsOutOfRange(
          tensor: name, begin: begin, end: end, dataByteCount: dataByteCount,
          byteOffset: 8 + offsetsValue.offset))
    }

    // Element count (multiplied in order, as `Tensor` does) × element size, without trapping.
    var count: Int? = 1
    for dimension in shape {
      count = count.flatMap { partial in
        let (product, overflow) = partial.multipliedReportingOverflow(by: dimension)
        return overflow ? nil : product
      }
    }
    let expected = count.flatMap { elements in
      let (product, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
      return overflow ? nil : product
    }
    guard expected == end - begin else {
      throw failure(
        .byteCountMismatch(
          tensor: name, shape: shape, dtype: dtype.rawValue, expected: expected,
          actual: end - begin, byteOffset: 8 + offsetsValue.offset))
    }
    return SafeTensorsFile.TensorInfo(
      name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
  }
}
