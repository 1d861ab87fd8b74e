import Foundation
import Synchronization
import Testing

@testable import ChainRule

/// A fresh empty folder under the system temporary folder.
func makeModelFileScratchFolder(_ label: String) throws -> URL {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("chainrule-\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  return folder
}

/// The bytes of a safetensors file built by hand: `declaredLength` (default: the header's
/// byte count) as little-endian UInt64, then the header bytes, then `data`.
func handcraftedFile(
  header: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil
) -> Data {
  var bytes = Data()
  withUnsafeBytes(of: (declaredLength ?? UInt64(header.count)).littleEndian) {
    bytes.append(contentsOf: $0)
  }
  bytes.append(contentsOf: header)
  bytes.append(contentsOf: data)
  return bytes
}

/// `handcraftedFile` with a UTF-8 header.
func handcraftedFile(_ header: String, dataByteCount: Int = 0) -> Data {
  handcraftedFile(header: Array(header.utf8), data: Array(repeating: 0, count: dataByteCount))
}

@Suite("safetensors files")
struct SafeTensorsTests {
  /// Floats whose bits are easy to get wrong: signed zero, infinities, a NaN with a payload,
  /// the smallest subnormal and the largest finite value.
  static let awkwardFloats: [Float] = [
    0, -0.0, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234), .leastNonzeroMagnitude,
    .greatestFiniteMagnitude, 1 / 3,
  ]
  static let awkwardDoubles: [Double] = [
    0, -0.0, .infinity, -.infinity, Double(bitPattern: 0x7FF8_0000_0000_BEEF),
    .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1 / 3,
  ]

  // MARK: Round trips

  @Test func floatRoundTripIsBitwiseIncludingScalarAndEmptyTensors() throws {
    let matrix = Tensor<Float>(shape: [2, 4], scalars: Self.awkwardFloats)
    let scalar = Tensor<Float>(-1.5)
    let empty = Tensor<Float>(shape: [0, 3], scalars: [])
    let metadata = ["note": "ñandú ∂L/∂w \"quoted\"\n\ttab \u{01}", "json": #"{"a":[1,2]}"#]
    let data = try SafeTensors.encode(
      [("matrix", matrix), ("scalar", scalar), ("empty", empty)], metadata: metadata)
    let file = try SafeTensors.decode(data)

    #expect(file.names == ["matrix", "scalar", "empty"])
    #expect(file.metadata == metadata)
    #expect(file.info(named: "scalar")?.shape == [])
    #expect(file.info(named: "empty")?.shape == [0, 3])
    #expect(file.info(named: "empty")?.dataOffsets == 36..<36)
    let back = try file.tensor(named: "matrix", as: Float.self)
    #expect(back.shape == [2, 4])
    #expect(back.scalars.map(\.bitPattern) == Self.awkwardFloats.map(\.bitPattern))
    #expect(try file.tensor(named: "scalar", as: Float.self) == scalar)
    #expect(try file.tensor(named: "empty", as: Float.self).shape == [0, 3])
  }

  @Test func doubleRoundTripThroughAFileIsBitwise() throws {
    let folder = try makeModelFileScratchFolder("roundtrip")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let vector = Tensor<Double>(Self.awkwardDoubles)
    let cube = Tensor<Double>(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6].map { $0 / 7 })
    try SafeTensors.write(
      [("v", vector), ("cube", cube), ("s", Tensor(Double.pi))], metadata: [:], to: url)

    let file = try SafeTensors.read(from: url)
    #expect(file.names == ["v", "cube", "s"])
    #expect(file.metadata.isEmpty)
    #expect(file.tensors.allSatisfy { $0.dtype == .float64 })
    let back = try file.tensor(named: "v", as: Double.self)
    #expect(back.scalars.map(\.bitPattern) == Self.awkwardDoubles.map(\.bitPattern))
    #expect(try file.tensor(named: "cube", as: Double.self) == cube)
    #expect(try file.tensor(named: "s", as: Double.self).scalar == .pi)
  }

  @Test func mixedDTypesRoundTrip() throws {
    let data = try SafeTensors.encode([
      ("f", .float32(Tensor<Float>([1.25, -2]))), ("d", .float64(Tensor<Double>([0.1]))),
    ])
    let file = try SafeTensors.decode(data)
    #expect(file.info(named: "f")?.dtype == .float32)
    #expect(file.info(named: "d")?.dtype == .float64)
    #expect(try file.tensor(named: "f", as: Float.self) == Tensor([1.25, -2]))
    #expect(try file.tensor(named: "d", as: Double.self) == Tensor([0.1]))
  }

  @Test func bytesFollowTheSpecification() throws {
    // 1 = 0x3F800000 and -2 = 0xC0000000 as F32, little-endian. The 54-byte header is padded
    // with two spaces to 56 so that the data starts at byte 64.
    let data = try SafeTensors.encode([("a", Tensor<Float>([1, -2]))])
    let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  "#
    var expected: [UInt8] = [56, 0, 0, 0, 0, 0, 0, 0]
    expected += Array(header.utf8)
    expected += [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
    #expect([UInt8](data) == expected)
  }

  @Test func outputIsDeterministicWithSortedMetadata() throws {
    let tensors = [("b", Tensor<Double>([1, 2])), ("a", Tensor<Double>(3))]
    var metadata: [String: String] = [:]
    for key in ["zeta", "alpha", "mu", "beta", "omega"] { metadata[key] = key.uppercased() }
    let first = try SafeTensors.encode(tensors, metadata: metadata)
    let second = try SafeTensors.encode(
      tensors, metadata: Dictionary(uniqueKeysWithValues: metadata.reversed()))
    #expect(first == second)
    let header = String(decoding: first[8..<(8 + Int(first[0]))], as: UTF8.self)
    #expect(header.hasPrefix(#"{"__metadata__":{"alpha":"ALPHA","beta":"BETA","mu""#))
    #expect(header.range(of: #""b":"#)!.lowerBound < header.range(of: #""a":"#)!.lowerBound)
    #expect((8 + Int(first[0])) % 8 == 0)
  }

  @Test func conversionBetweenF32AndF64OnlyOnRequest() throws {
    let doubles = Tensor<Double>([0.1, 1e40, -2.5])
    let file = try SafeTensors.decode(try SafeTensors.encode([("w", doubles)]))
    #expect(
      throws: SafeTensorsError(
        file: "<memory>", reason: .dtypeMismatch(tensor: "w", stored: "F64", requested: "F32"))
    ) {
      try file.tensor(named: "w", as: Float.self)
    }
    // F64 → F32 rounds to nearest (1e40 overflows to +∞); F32 → F64 is exact.
    let narrowed = try file.tensor(named: "w", as: Float.self, converting: true)
    #expect(narrowed.scalars == [Float(0.1), .infinity, -2.5])
    let floats = try SafeTensors.decode(try SafeTensors.encode([("v", narrowed)]))
    let widened = try floats.tensor(named: "v", as: Double.self, converting: true)
    #expect(widened.scalars == [Double(Float(0.1)), .infinity, -2.5])
  }

  @Test func missingTensorNamesTheAvailableOnes() throws {
    let file = try SafeTensors.decode(try SafeTensors.encode([("w", Tensor<Float>([1]))]))
    let error = #expect(throws: SafeTensorsError.self) {
      try file.tensor(named: "b", as: Float.self)
    }
    #expect(error?.reason == .tensorNotFound("b", available: ["w"]))
    #expect(error?.description == #"<memory>: no tensor named "b" (the file has "w")"#)
  }

  @Test(arguments: [
    ("", "a tensor needs a non-empty name"), ("__metadata__", "is reserved for the metadata"),
    ("w", "is used by two tensors"),
  ])
  func invalidNamesAreRejectedOnWrite(name: String, message: String) {
    let tensors = [("w", Tensor<Float>([1])), (name, Tensor<Float>([2]))]
    #expect(
      throws: SafeTensorsError(file: "<memory>", reason: .invalidName(name, message: message))
    ) {
      try SafeTensors.encode(tensors)
    }
  }

  // MARK: Atomic writes

  @Test func writeIntoMissingFolderFailsClearly() throws {
    let folder = try makeModelFileScratchFolder("missing")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("no/such/folder/model.safetensors")
    let error = #expect(throws: SafeTensorsError.self) {
      try SafeTensors.write([("w", Tensor<Float>([1]))], to: url)
    }
    #expect(
      error?.reason
        == .writeFailed(message: "folder \(url.deletingLastPathComponent().path) does not exist"))
    #expect(error?.description.hasPrefix(url.path + ": cannot write: folder ") == true)
  }

  @Test func interruptedWriteLeavesThePreviousFileIntact() throws {
    let folder = try makeModelFileScratchFolder("interrupted")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    try SafeTensors.write([("w", Tensor<Float>([1, 2]))], to: url)
    let before = try Data(contentsOf: url)

    struct SimulatedCrash: Error {}
    var temporaryFile: URL?
    let error = #expect(throws: SafeTensorsError.self) {
      try SafeTensors.write(
        [(name: "w", tensor: SafeTensorsValue(Tensor<Float>([3, 4, 5])))], metadata: [:],
        to: url,
        beforeRename: { temporary in
          temporaryFile = temporary
          // The new file is complete next to the old one, but not yet in its place.
          #expect(try SafeTensors.read(from: temporary).info(named: "w")?.shape == [3])
          throw SimulatedCrash()
        })
    }
    #expect(error?.description.contains("SimulatedCrash") == true)
    #expect(try Data(contentsOf: url) == before)
    #expect(temporaryFile.map { FileManager.default.fileExists(atPath: $0.path) } == false)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
  }

  /// A save killed before its rename leaves `.<name>.tmp` (the one temporary name of that
  /// destination): the next save truncates and reuses it, so nothing is left afterwards.
  @Test func aStaleTemporaryFromAKilledSaveIsReusedByTheNextSave() throws {
    let folder = try makeModelFileScratchFolder("stale")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let stale = folder.appendingPathComponent(".model.safetensors.tmp")
    #expect(AtomicFile.temporaryURL(for: url) == stale)
    try Data(repeating: 0xAB, count: 100_000).write(to: stale)  // half a killed save
    try SafeTensors.write([("w", Tensor<Float>([1, 2, 3]))], to: url)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path) == [url.lastPathComponent])
    let w: Tensor<Float> = try SafeTensors.read(from: url).tensor(named: "w")
    #expect(w == Tensor([1, 2, 3]))
  }

  /// A leftover temporary name that is a hard link to another file is removed, not written
  /// through: the other file keeps its bytes.
  @Test func aHardLinkedLeftoverIsNotWrittenThrough() throws {
    let folder = try makeModelFileScratchFolder("linked")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let precious = folder.appendingPathComponent("precious.txt")
    try Data("keep me".utf8).write(to: precious)
    try FileManager.default.linkItem(at: precious, to: AtomicFile.temporaryURL(for: url))
    try SafeTensors.write([("w", Tensor<Float>([4]))], to: url)
    #expect(try Data(contentsOf: precious) == Data("keep me".utf8))
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        == ["model.safetensors", "precious.txt"])
  }

  /// Two threads saving different files to one destination at once take turns on the
  /// temporary file's lock: every read in between sees one of the two whole files, and no
  /// temporary file is left.
  @Test func concurrentSavesToOneDestinationTakeTurns() throws {
    let folder = try makeModelFileScratchFolder("concurrent")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let contents = [
      Tensor<Float>(shape: [20_000], repeating: 1), Tensor(shape: [30_000], repeating: 2),
    ]
    try SafeTensors.write([("w", contents[0])], to: url)
    let failures = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 3) { thread in
      for _ in 0..<25 {
        do {
          if thread < 2 {
            try SafeTensors.write([("w", contents[thread])], to: url)
          } else {
            let w: Tensor<Float> = try SafeTensors.read(from: url).tensor(named: "w")
            if !contents.contains(w) { failures.withLock { $0 += 1 } }
          }
        } catch {
          failures.withLock { $0 += 1 }
        }
      }
    }
    #expect(failures.withLock { $0 } == 0)
    let w: Tensor<Float> = try SafeTensors.read(from: url).tensor(named: "w")
    #expect(contents.contains(w))
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path) == [url.lastPathComponent])
  }

  /// Root ignores folder permissions, so this runs only for other users (as in most CI).
  @Test(.enabled(if: getuid() != 0, "running as root, which may write into read-only folders"))
  func writeIntoReadOnlyFolderFailsAndKeepsThePreviousFile() throws {
    let folder = try makeModelFileScratchFolder("read-only")
    let manager = FileManager.default
    defer {
      try? manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
      try? manager.removeItem(at: folder)
    }
    let url = folder.appendingPathComponent("model.safetensors")
    try SafeTensors.write([("w", Tensor<Float>([1, 2]))], to: url)
    let before = try Data(contentsOf: url)
    try manager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)

    let error = #expect(throws: SafeTensorsError.self) {
      try SafeTensors.write([("w", Tensor<Float>([3]))], to: url)
    }
    #expect(error?.description.contains("cannot create a temporary file in \(folder.path)") == true)
    #expect(try Data(contentsOf: url) == before)
    #expect(try manager.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
  }

  @Test func invalidTensorsLeaveThePreviousFileIntact() throws {
    let folder = try makeModelFileScratchFolder("invalid")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    try SafeTensors.write([("w", Tensor<Double>([1, 2]))], to: url)
    let before = try Data(contentsOf: url)
    #expect(throws: SafeTensorsError.self) {
      try SafeTensors.write([("w", Tensor<Double>([1])), ("w", Tensor<Double>([2]))], to: url)
    }
    #expect(try Data(contentsOf: url) == before)
  }

  @Test func writeOverAFolderFailsAndKeepsIt() throws {
    let folder = try makeModelFileScratchFolder("over-folder")
    defer { try? FileManager.default.removeItem(at: folder) }
    let target = folder.appendingPathComponent("model.safetensors")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    #expect(
      throws: SafeTensorsError(
        file: target.path, reason: .writeFailed(message: "\(target.path) is a folder"))
    ) {
      try SafeTensors.write([("w", Tensor<Float>([1]))], to: target)
    }
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
  }

  @Test func readingAMissingFileFailsClearly() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-\(UUID().uuidString).safetensors")
    #expect(throws: SafeTensorsError(file: url.path, reason: .readFailed(message: "no such file")))
    {
      try SafeTensors.read(from: url)
    }
  }

  // MARK: Validation of handcrafted files

  /// Decodes `data` and returns the error's reason (nil if it decoded).
  func reason(_ data: Data) -> SafeTensorsError.Reason? {
    do {
      _ = try SafeTensors.decode(data, file: "bad.safetensors")
      return nil
    } catch {
      #expect(error.file == "bad.safetensors")
      return error.reason
    }
  }

  @Test func truncatedLengthAndHeader() {
    #expect(reason(Data([1, 0, 0, 0, 0])) == .fileTooShort(byteCount: 5))
    #expect(reason(Data()) == .fileTooShort(byteCount: 0))
    #expect(
      reason(handcraftedFile(header: Array("{}".utf8), declaredLength: 100))
        == .headerLengthExceedsFile(headerLength: 100, available: 2))
    #expect(
      reason(handcraftedFile(header: [], declaredLength: .max))
        == .headerLengthExceedsFile(headerLength: .max, available: 0))
  }

  @Test func headerMustBeUTF8JSONObject() {
    // Byte 0xFF at header offset 3 → file byte 8 + 3.
    let badUTF8 = handcraftedFile(header: Array(#"{"a"#.utf8) + [0xFF] + Array(#"":1}"#.utf8))
    #expect(reason(badUTF8) == .invalidUTF8(byteOffset: 11))
    #expect(
      reason(handcraftedFile(#"{"a": }"#))
        == .invalidJSON(byteOffset: 14, message: "expected a value, found '}'"))
    #expect(
      reason(handcraftedFile(""))
        == .invalidJSON(byteOffset: 8, message: "expected a value, found end of header"))
    #expect(
      reason(handcraftedFile(#"{"a":{}, "a":{}}"#))
        == .invalidJSON(byteOffset: 17, message: #"duplicate key "a""#))
    #expect(
      reason(handcraftedFile(#"{} x"#))
        == .invalidJSON(byteOffset: 11, message: "unexpected 'x' after the JSON value"))
    #expect(reason(handcraftedFile("[1, 2]")) == .headerNotObject(found: "an array"))
    #expect(reason(handcraftedFile(#""text""#)) == .headerNotObject(found: "a string"))
    let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
    #expect(
      reason(handcraftedFile(#"{"a":"# + deep + "}"))
        == .invalidJSON(byteOffset: 8 + 5 + 63, message: "nested deeper than 64"))
  }

  @Test func paddingAndEmptyHeadersAreValid() throws {
    let file = try SafeTensors.decode(handcraftedFile("  {}      "))
    #expect(file.names.isEmpty && file.metadata.isEmpty)
    let nullMetadata = try SafeTensors.decode(handcraftedFile(#"{"__metadata__":null}"#))
    #expect(nullMetadata.metadata.isEmpty)
    let escaped = try SafeTensors.decode(
      handcraftedFile(#"{"__metadata__":{"k":"\u00f1\ud83d\ude00\n\/"}}"#))
    #expect(escaped.metadata == ["k": "ñ😀\n/"])
  }

  @Test func malformedEntries() {
    #expect(
      reason(handcraftedFile(#"{"w": 3}"#))
        == .invalidEntry(
          tensor: "w", byteOffset: 14,
          message: "entry must be an object with dtype, shape and data_offsets, found the number 3"
        ))
    #expect(
      reason(handcraftedFile(#"{"w":{"dtype":"F32","shape":[]}}"#))
        == .invalidEntry(tensor: "w", byteOffset: 13, message: #"missing field "data_offsets""#))
    #expect(
      reason(handcraftedFile(#"{"w":{"dtype":"F32","shape":[],"data_offset":[0,4]}}"#))
        == .invalidEntry(
          tensor: "w", byteOffset: 39,
          message: #"unexpected field "data_offset" (allowed: dtype, shape, data_offsets)"#))
    #expect(
      reason(
        handcraftedFile(#"{"w":{"dtype":32,"shape":[],"data_offsets":[0,4]}}"#, dataByteCount: 4))
        == .invalidEntry(
          tensor: "w", byteOffset: 22, message: "dtype must be a string, found the number 32"))
    #expect(
      reason(handcraftedFile(#"{"w":{"dtype":"F32","shape":[],"data_offsets":[0]}}"#))
        == .invalidEntry(
          tensor: "w", byteOffset: 54,
          message: "data_offsets must be [begin, end] with non-negative integers"))
    #expect(
      reason(handcraftedFile(#"{"w":{"dtype":"F32","shape":[],"data_offsets":[-4,0]}}"#))
        == .invalidEntry(
          tensor: "w", byteOffset: 54,
          message: "data_offsets must be [begin, end] with non-negative integers"))
  }

  @Test(arguments: ["F16", "BF16", "I64", "f32", "float32"])
  func unsupportedDTypes(dtype: String) {
    let header = #"{"w":{"dtype":""# + dtype + #"","shape":[1],"data_offsets":[0,4]}}"#
    let expected = SafeTensorsError.Reason.unsupportedDType(
      tensor: "w", dtype: dtype, byteOffset: 22)
    #expect(reason(handcraftedFile(header, dataByteCount: 4)) == expected)
    #expect(expected.message.contains(#"tensor "w": unsupported dtype ""# + dtype))
  }

  @Test(arguments: [
    ("[2, -1]", 40, "shape[1] must be a non-negative integer, found the number -1"),
    ("[2.5]", 37, "shape[0] must be a non-negative integer, found the number 2.5"),
    ("[2e0]", 37, "shape[0] must be a non-negative integer, found the number 2e0"),
    (#"["2"]"#, 37, "shape[0] must be a non-negative integer, found a string"),
    ("[true]", 37, "shape[0] must be a non-negative integer, found true"),
    (
      "[99999999999999999999]", 37,
      "shape[0] must be a non-negative integer, found the number 99999999999999999999"
    ),
    ("4", 36, "shape must be an array of non-negative integers, found the number 4"),
  ])
  func invalidShapes(shape: String, offset: Int, message: String) {
    let header = #"{"w":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,4]}}"#
    #expect(
      reason(handcraftedFile(header, dataByteCount: 4))
        == .invalidShape(tensor: "w", byteOffset: offset, message: message))
  }

  @Test func shapeMustMatchTheByteCount() {
    let header = #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#
    let expected = SafeTensorsError.Reason.byteCountMismatch(
      tensor: "w", shape: [2, 3], dtype: "F32", expected: 24, actual: 20, byteOffset: 57)
    #expect(reason(handcraftedFile(header, dataByteCount: 20)) == expected)
    #expect(
      SafeTensorsError(file: "m.safetensors", reason: expected).description
        == #"m.safetensors: byte 57: tensor "w": shape [2, 3] of F32 needs 24 bytes, data_offsets hold 20"#
    )
    // 2^40 · 2^40 elements overflow Int: reported, not trapped.
    let huge = #"{"w":{"dtype":"F64","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}"#
    #expect(
      reason(handcraftedFile(huge, dataByteCount: 8))
        == .byteCountMismatch(
          tensor: "w", shape: [1 << 40, 1 << 40], dtype: "F64", expected: nil, actual: 8,
          byteOffset: 81))
    // Overflow before a zero dimension is still rejected: the element count is multiplied
    // in order, so such a shape cannot become a Tensor.
    let overflowThenZero =
      #"{"w":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}"#
    #expect(
      reason(handcraftedFile(overflowThenZero))
        == .byteCountMismatch(
          tensor: "w", shape: [1 << 40, 1 << 40, 0], dtype: "F32", expected: nil, actual: 0,
          byteOffset: 83))
    // A leading zero dimension makes the tensor empty whatever the others are.
    let empty = #"{"w":{"dtype":"F64","shape":[0,1099511627776],"data_offsets":[0,0]}}"#
    #expect(reason(handcraftedFile(empty)) == nil)
  }

  @Test func offsetsMustLieInTheDataSection() {
    let beyond = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    #expect(
      reason(handcraftedFile(beyond, dataByteCount: 8))
        == .offsetsOutOfRange(tensor: "w", begin: 4, end: 12, dataByteCount: 8, byteOffset: 55))
    let backwards = #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#
    #expect(
      reason(handcraftedFile(backwards, dataByteCount: 8))
        == .offsetsOutOfRange(tensor: "w", begin: 8, end: 4, dataByteCount: 8, byteOffset: 55))
  }

  @Test func tensorsMustTileTheDataSection() {
    let overlap =
      #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
      + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    #expect(
      reason(handcraftedFile(overlap, dataByteCount: 12))
        == .overlappingTensors(
          tensor: "b", range: 4..<12, other: "a", otherRange: 0..<8, fileOffset: 62))
    // b is listed first but its bytes come second: order in the header does not matter.
    let gap =
      #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"#
      + #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    let gapData = handcraftedFile(gap, dataByteCount: 12)
    let dataStart = 8 + gap.utf8.count
    #expect(reason(gapData) == .gapBeforeTensor(tensor: "b", gap: 4..<8, fileOffset: dataStart + 4))
    let trailing = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    #expect(
      reason(handcraftedFile(trailing, dataByteCount: 7))
        == .trailingBytes(gap: 4..<7, fileOffset: 8 + trailing.utf8.count + 4))
    #expect(
      reason(handcraftedFile("{}", dataByteCount: 3)) == .trailingBytes(gap: 0..<3, fileOffset: 10))
  }

  @Test func tensorsAreListedInDataOrder() throws {
    let header =
      #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"#
      + #""e":{"dtype":"F64","shape":[0],"data_offsets":[8,8]},"#
      + #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    let file = try SafeTensors.decode(handcraftedFile(header, dataByteCount: 8))
    #expect(file.names == ["a", "b", "e"])
  }

  @Test func metadataMustBeAnObjectOfStrings() {
    #expect(
      reason(handcraftedFile(#"{"__metadata__":[1]}"#))
        == .invalidMetadata(byteOffset: 24, message: "must be an object of strings, found an array")
    )
    #expect(
      reason(handcraftedFile(#"{"__metadata__":{"epochs":10}}"#))
        == .invalidMetadata(
          byteOffset: 34, message: #"value of "epochs" must be a string, found the number 10"#))
  }

  /// Every truncation and many single-byte corruptions of a valid file either decode or throw;
  /// none may trap.
  @Test func corruptedFilesNeverTrap() throws {
    let valid = try SafeTensors.encode(
      [("w", Tensor<Float>([[1, 2], [3, 4]])), ("b", Tensor<Float>([5]))], metadata: ["k": "v"])
    for length in 0..<valid.count {
      #expect(reason(valid.prefix(length)) != nil, "prefix of \(length) bytes decoded")
    }
    var generator = SplitMix64(seed: 7)
    var decoded = 0
    for position in 0..<valid.count {
      for _ in 0..<4 {
        var corrupted = valid
        corrupted[position] = UInt8(truncatingIfNeeded: generator.next())
        if let file = try? SafeTensors.decode(corrupted) {
          decoded += 1
          for name in file.names {
            _ = try file.tensor(named: name, as: Double.self, converting: true)
          }
        }
      }
    }
    // Corrupting data bytes (or the padding) still gives a valid file; most header bytes do not.
    #expect(decoded > 0 && decoded < 4 * valid.count)
  }
}
