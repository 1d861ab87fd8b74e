import Foundation
import Testing

@testable import ChainRule

/// Safetensors files exchanged with the reference Python library (`safetensors.numpy`).
///
/// The fixture below is defined independently in Tests/Interop/safetensors_interop.py: same
/// names, dtypes, shapes, bit patterns and metadata. `Tests/Interop/run.sh` runs both
/// directions with a fresh Python environment and `CHAINRULE_INTEROP_DIR` set; without it the
/// live tests are skipped, and the committed file that Python wrote
/// (Tests/Interop/Fixtures/python_written.safetensors, safetensors 0.8.0) is still checked.
@Suite("safetensors interop with Python")
struct InteropTests {
  /// The folder shared with the Python script, when run from Tests/Interop/run.sh.
  static let directory = ProcessInfo.processInfo.environment["CHAINRULE_INTEROP_DIR"].map {
    URL(fileURLWithPath: $0)
  }
  static let pythonFileName = "python_written.safetensors"
  static let swiftFileName = "swift_written.safetensors"
  /// Written after the Python file was read and checked, so run.sh knows the test ran.
  static let markerFileName = "swift_read_python.ok"

  /// 0, −0, +∞, −∞, a NaN with a payload, the smallest subnormal, the largest finite value, 1/3.
  static let float32Specials: [UInt32] = [
    0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_1234, 0x0000_0001, 0x7F7F_FFFF,
    0x3EAA_AAAB,
  ]
  /// The same kinds of values in binary64.
  static let float64Specials: [UInt64] = [
    0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
    0x7FF8_0000_0000_BEEF, 0x0000_0000_0000_0001, 0x7FEF_FFFF_FFFF_FFFF, 0x3FD5_5555_5555_5555,
  ]

  /// The tensors both sides agree on.
  static let fixture: [(name: String, tensor: SafeTensorsValue)] = [
    // (i − 2.5) · 0.1 in binary64, rounded to binary32, row-major [2, 3].
    (
      "float32/matrix",
      .float32(Tensor(shape: [2, 3], scalars: (0..<6).map { Float((Double($0) - 2.5) * 0.1) }))
    ),
    ("float32/specials", .float32(Tensor(float32Specials.map(Float.init(bitPattern:))))),
    ("float32/empty", .float32(Tensor(shape: [0, 4], scalars: []))),
    (
      "float64/specials",
      .float64(Tensor(shape: [2, 4], scalars: float64Specials.map(Double.init(bitPattern:))))
    ),
    ("float64/scalar", .float64(Tensor(2.5))),
  ]

  static func metadata(writer: String) -> [String: String] {
    [
      "architecture": #"{"activation":"tanh","layers":[2,3,1]}"#,
      "note": "ñandú ∂L/∂w \"quoted\"\n\ttab",
      "writer": writer,
    ]
  }

  /// Checks names, dtypes, shapes, bit patterns and metadata of a file against the fixture.
  func expectFixture(in file: SafeTensorsFile, writer: String) throws {
    #expect(Set(file.names) == Set(Self.fixture.map(\.name)))
    #expect(file.metadata == Self.metadata(writer: writer))
    for (name, expected) in Self.fixture {
      let info = try #require(file.info(named: name), "\(name) missing")
      #expect(info.dtype == expected.dtype, "\(name)")
      #expect(info.shape == expected.shape, "\(name)")
      switch expected {
      case .float32(let tensor):
        let actual = try file.tensor(named: name, as: Float.self)
        #expect(actual.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(name)")
      case .float64(let tensor):
        let actual = try file.tensor(named: name, as: Double.self)
        #expect(actual.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(name)")
      }
    }
  }

  @Test func readsTheCommittedFileWrittenByPython() throws {
    let url = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Interop/Fixtures").appendingPathComponent(Self.pythonFileName)
    try expectFixture(in: SafeTensors.read(from: url), writer: "python")
  }

  @Test(.enabled(if: directory != nil, "CHAINRULE_INTEROP_DIR is not set"))
  func writesTheFixtureForPython() throws {
    let url = try #require(Self.directory).appendingPathComponent(Self.swiftFileName)
    try SafeTensors.write(Self.fixture, metadata: Self.metadata(writer: "swift"), to: url)
    try expectFixture(in: SafeTensors.read(from: url), writer: "swift")
  }

  @Test(
    .enabled(
      if: directory.map {
        FileManager.default.fileExists(atPath: $0.appendingPathComponent(pythonFileName).path)
      } ?? false,
      "no \(pythonFileName) in CHAINRULE_INTEROP_DIR"))
  func readsTheFileWrittenByPython() throws {
    let folder = try #require(Self.directory)
    let marker = folder.appendingPathComponent(Self.markerFileName)
    try? FileManager.default.removeItem(at: marker)
    try expectFixture(
      in: SafeTensors.read(from: folder.appendingPathComponent(Self.pythonFileName)),
      writer: "python")
    try Data("ok\n".utf8).write(to: marker)
  }
}
