/// Why a safetensors file could not be read or written, and where.
///
/// `description` names the file, the byte offset (counted from the start of the file) and,
/// where one is involved, the tensor, e.g.
/// `model.safetensors: byte 61: tensor "w": shape [2, 3] of F32 needs 24 bytes, data_offsets [0, 20] hold 20`.
public struct SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file's path (or `"<memory>"` for bytes decoded without a file).
  public var file: String
  /// What went wrong.
  public var reason: Reason

  /// Creates an error for `file`.
  public init(file: String, reason: Reason) {
    self.file = file
    self.reason = reason
  }

  /// `"<file>: <what went wrong and where>"`.
  public var description: String { "\(file): \(reason.message)" }

  /// The specific problem; byte offsets are counted from the start of the file.
  public enum Reason: Equatable, Sendable {
    /// The file has fewer than the 8 bytes of the header length.
    case fileTooShort(byteCount: Int)
    /// The header length (bytes 0..<8) is larger than what follows it in the file.
    case headerLengthExceedsFile(headerLength: UInt64, available: Int)
    /// The header is not valid UTF-8 at `byteOffset`.
    case invalidUTF8(byteOffset: Int)
    /// The header is not valid JSON at `byteOffset`.
    case invalidJSON(byteOffset: Int, message: String)
    /// The header is valid JSON but not an object.
    case headerNotObject(found: String)
    /// A tensor's entry is malformed (not an object, a missing or unknown field, a field of
    /// the wrong type, or a name that may not be used).
    case invalidEntry(tensor: String, byteOffset: Int, message: String)
    /// A dtype other than `F32` and `F64`.
    case unsupportedDType(tensor: String, dtype: String, byteOffset: Int)
    /// A shape that is not an array of non-negative integers.
    case invalidShape(tensor: String, byteOffset: Int, message: String)
    /// `data_offsets` is not `[begin, end]` with `begin ≤ end ≤` the data section's size.
    case offsetsOutOfRange(
      tensor: String, begin: Int, end: Int, dataByteCount: Int, byteOffset: Int)
    /// The shape and dtype need a different number of bytes than `data_offsets` hold
    /// (`expected` is nil when the byte count overflows `Int`).
    case byteCountMismatch(
      tensor: String, shape: [Int], dtype: String, expected: Int?, actual: Int, byteOffset: Int)
    /// Two tensors share bytes.
    case overlappingTensors(
      tensor: String, range: Range<Int>, other: String, otherRange: Range<Int>, fileOffset: Int)
    /// Bytes of the data section before `tensor` belong to no tensor.
    case gapBeforeTensor(tensor: String, gap: Range<Int>, fileOffset: Int)
    /// Bytes at the end of the data section belong to no tensor.
    case trailingBytes(gap: Range<Int>, fileOffset: Int)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(byteOffset: Int, message: String)
    /// A tensor name that cannot be written (empty, duplicate, or `__metadata__`).
    case invalidName(String, message: String)
    /// No tensor of that name is in the file.
    case tensorNotFound(String, available: [String])
    /// The tensor is stored with another dtype and conversion was not requested.
    case dtypeMismatch(tensor: String, stored: String, requested: String)
    /// The file system refused to read the file.
    case readFailed(message: String)
    /// The file system refused to write the file; any previous file is untouched.
    case writeFailed(message: String)

    /// A sentence for people: what is wrong, and where.
    public var message: String {
      switch self {
      case .fileTooShort(let count):
        return "file is \(count) bytes long, shorter than the 8-byte header length"
      case .headerLengthExceedsFile(let length, let available):
        return "bytes 0..<8: header length \(length) exceeds the \(available) bytes after it"
      case .invalidUTF8(let offset):
        return "byte \(offset): header is not valid UTF-8"
      case .invalidJSON(let offset, let message):
        return "byte \(offset): header is not valid JSON: \(message)"
      case .headerNotObject(let found):
        return "byte 8: header must be a JSON object, found \(found)"
      case .invalidEntry(let tensor, let offset, let message):
        return "byte \(offset): tensor \"\(tensor.escapingControlCharacters)\": \(message)"
      case .unsupportedDType(let tensor, let dtype, let offset):
        return
          "byte \(offset): tensor \"\(tensor.escapingControlCharacters)\": unsupported dtype \"\(dtype.escapingControlCharacters)\" "
          + "(ChainRule reads F32 and F64)"
      case .invalidShape(let tensor, let offset, let message):
        return "byte \(offset): tensor \"\(tensor.escapingControlCharacters)\": \(message)"
      case .offsetsOutOfRange(let tensor, let begin, let end, let size, let offset):
        return
          "byte \(offset): tensor \"\(tensor.escapingControlCharacters)\": data_offsets [\(begin), \(end)] "
          + "are not within the \(size)-byte data section (need begin ≤ end ≤ \(size))"
      case .byteCountMismatch(
        let tensor, let shape, let dtype, let expected, let actual, let offset):
        let need = expected.map { "\($0) bytes" } ?? "a byte count that overflows Int"
        return
          "byte \(offset): tensor \"\(tensor.escapingControlCharacters)\": shape \(shape) of \(dtype) needs \(need), "
          + "data_offsets hold \(actual)"
      case .overlappingTensors(let tensor, let range, let other, let otherRange, let offset):
        return
          "byte \(offset): tensor \"\(tensor.escapingControlCharacters)\" (data_offsets [\(range.lowerBound), "
          + "\(range.upperBound)]) overlaps tensor \"\(other.escapingControlCharacters)\" (data_offsets "
          + "[\(otherRange.lowerBound), \(otherRange.upperBound)])"
      case .gapBeforeTensor(let tensor, let gap, let offset):
        return "byte \(offset): data bytes [\(gap.lowerBound), \(gap.upperBound)) before "
          + "tensor \"\(tensor.escapingControlCharacters)\" belong to no tensor"
      case .trailingBytes(let gap, let offset):
        return "byte \(offset): data bytes [\(gap.lowerBound), \(gap.upperBound)) at the end of "
          + "the file belong to no tensor"
      case .invalidMetadata(let offset, let message):
        return "byte \(offset): __metadata__: \(message)"
      case .invalidName(let name, let message):
        return "tensor name \"\(name.escapingControlCharacters)\": \(message)"
      case .tensorNotFound(let name, let available):
        let list = available.map { "\"\($0.escapingControlCharacters)\"" }.joined(separator: ", ")
        return
          "no tensor named \"\(name.escapingControlCharacters)\" (the file has \(list.isEmpty ? "none" : list))"
      case .dtypeMismatch(let tensor, let stored, let requested):
        return
          "tensor \"\(tensor.escapingControlCharacters)\" is stored as \(stored), not \(requested) "
          + "(pass converting: true to convert)"
      case .readFailed(let message):
        return "cannot read: \(message)"
      case .writeFailed(let message):
        return "cannot write: \(message)"
      }
    }
  }
}
