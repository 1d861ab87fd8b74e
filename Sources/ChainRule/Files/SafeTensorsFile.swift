import Foundation

/// The element types ChainRule reads and writes in safetensors files.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
  /// IEEE 754 binary32, little-endian (`Float`).
  case float32 = "F32"
  /// IEEE 754 binary64, little-endian (`Double`).
  case float64 = "F64"

  /// Bytes per element: 4 or 8.
  public var byteCount: Int {
    switch self {
    case .float32: 4
    case .float64: 8
    }
  }

  /// The dtype that stores `Scalar` exactly.
  public init<Scalar: TensorScalar>(_: Scalar.Type) {
    self = Scalar.self == Float.self ? .float32 : .float64
  }
}

/// A tensor of either scalar type, for writing files that mix F32 and F64.
public enum SafeTensorsValue: Equatable, Sendable {
  /// Stored as F32.
  case float32(Tensor<Float>)
  /// Stored as F64.
  case float64(Tensor<Double>)

  /// Wraps `tensor` with the dtype of its scalar type.
  public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
    if let tensor = tensor as? Tensor<Float> {
      self = .float32(tensor)
    } else if let tensor = tensor as? Tensor<Double> {
      self = .float64(tensor)
    } else {
      self = .float64(tensor.converted(to: Double.self))
    }
  }

  /// F32 or F64.
  public var dtype: SafeTensorsDType {
    switch self {
    case .float32: .float32
    case .float64: .float64
    }
  }

  /// The tensor's shape.
  public var shape: [Int] {
    switch self {
    case .float32(let tensor): tensor.shape
    case .float64(let tensor): tensor.shape
    }
  }

  /// The number of elements.
  public var count: Int {
    switch self {
    case .float32(let tensor): tensor.count
    case .float64(let tensor): tensor.count
    }
  }

  /// Appends the elements, row-major and little-endian, to `data`.
  func appendLittleEndianBytes(to data: inout Data) {
    switch self {
    case .float32(let tensor): Self.append(tensor.scalars, bitPattern: \.bitPattern, to: &data)
    case .float64(let tensor): Self.append(tensor.scalars, bitPattern: \.bitPattern, to: &data)
    }
  }

  private static func append<Element, Bits: FixedWidthInteger>(
    _ scalars: [Element], bitPattern: (Element) -> Bits, to data: inout Data
  ) {
    if 1.littleEndian == 1 {
      scalars.withUnsafeBytes { data.append(contentsOf: $0) }  // memory order is file order
    } else {
      for scalar in scalars {
        withUnsafeBytes(of: bitPattern(scalar).littleEndian) { data.append(contentsOf: $0) }
      }
    }
  }
}

/// A safetensors file that has been read and fully validated: tensor names, dtypes and shapes,
/// the `__metadata__` strings, and the raw data from which tensors are decoded on request.
///
/// ```swift
/// let file = try SafeTensors.read(from: url)
/// let w = try file.tensor(named: "layer0.weight", as: Float.self)
/// ```
public struct SafeTensorsFile: Sendable {
  /// Where one tensor is stored and how to interpret its bytes.
  public struct TensorInfo: Equatable, Sendable {
    /// The tensor's name (a key of the header).
    public var name: String
    /// Its element type.
    public var dtype: SafeTensorsDType
    /// Its shape, outermost dimension first; `[]` for a scalar.
    public var shape: [Int]
    /// Its bytes, relative to the start of the data section (`data_offsets`).
    public var dataOffsets: Range<Int>
  }

  /// The file's path (or `"<memory>"`), used in error messages.
  public let file: String
  /// Every tensor, in the order of their bytes in the file.
  public let tensors: [TensorInfo]
  /// The `__metadata__` strings (empty when the file has none).
  public let metadata: [String: String]
  /// The whole file's bytes.
  let bytes: Data
  /// The file offset where the data section begins (8 + header length).
  let dataStart: Int

  /// The tensor names, in the order of their bytes in the file.
  public var names: [String] { tensors.map(\.name) }

  /// The tensor called `name`, if the file has one.
  public func info(named name: String) -> TensorInfo? {
    tensors.first { $0.name == name }
  }

  /// Decodes the tensor called `name` as `Tensor<Scalar>`.
  ///
  /// - Parameters:
  ///   - name: The tensor's name in the file.
  ///   - scalar: The element type to decode into.
  ///   - converting: When false (the default) the stored dtype must be `Scalar`'s, so the
  ///     values come back bit for bit. When true, F32 is widened to `Double` exactly and F64 is
  ///     rounded to the nearest `Float`.
  /// - Throws: `tensorNotFound` or `dtypeMismatch`.
  public func tensor<Scalar: TensorScalar>(
    named name: String, as scalar: Scalar.Type = Scalar.self, converting: Bool = false
  ) throws(SafeTensorsError) -> Tensor<Scalar> {
    guard let info = info(named: name) else {
      throw SafeTensorsError(file: file, reason: .tensorNotFound(name, available: names))
    }
    let requested = SafeTensorsDType(Scalar.self)
    guard converting || info.dtype == requested else {
      throw SafeTensorsError(
        file: file,
        reason: .dtypeMismatch(
          tensor: name, stored: info.dtype.rawValue, requested: requested.rawValue))
    }
    let count = info.shape.reduce(1, *)
    let start = dataStart + info.dataOffsets.lowerBound
    let scalars = bytes.withUnsafeBytes { raw in
      Self.decode(raw, from: start, count: count, dtype: info.dtype, as: Scalar.self)
    }
    return Tensor(shape: info.shape, scalars: scalars)
  }

  /// Reads `count` little-endian elements of `dtype` starting at byte `start` as `Scalar`s.
  private static func decode<Scalar: TensorScalar>(
    _ raw: UnsafeRawBufferPointer, from start: Int, count: Int, dtype: SafeTensorsDType,
    as _: Scalar.Type
  ) -> [Scalar] {
    let hostIsLittleEndian = 1.littleEndian == 1
    if hostIsLittleEndian && dtype == SafeTensorsDType(Scalar.self)
      && MemoryLayout<Scalar>.size == dtype.byteCount
    {
      // Same layout as memory: one copy.
      return [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: raw[start..<start + count * dtype.byteCount]))
        initialized = count
      }
    }
    switch dtype {
    case .float32:
      return (0..<count).map { index in
        let bits = raw.loadUnaligned(fromByteOffset: start + 4 * index, as: UInt32.self)
        return Scalar(Float(bitPattern: UInt32(littleEndian: bits)))
      }
    case .float64:
      return (0..<count).map { index in
        let bits = raw.loadUnaligned(fromByteOffset: start + 8 * index, as: UInt64.self)
        return Scalar(Double(bitPattern: UInt64(littleEndian: bits)))
      }
    }
  }
}
