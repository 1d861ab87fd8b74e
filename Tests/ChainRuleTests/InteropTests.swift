import Foundation
import Testing

@testable import ChainRule

/// Safetensors files exchanged with the reference Python library (`safetensors.numpy`).
///
/// The fixture below is defined independently in Tests/Interop/safetensors_interop.py: same
/// names, dtypes, shapes, bit patterns and metadata. The round trip (Python writes, Swift
/// reads; Swift writes, Python reads) runs inside `swift test` whenever a Python with
/// `safetensors` and `numpy` is found: `CHAINRULE_PYTHON` names it (then it must work, or the
/// test fails), else `python3` on PATH is tried. Without one the round trip is reported as
/// skipped, by name, and the committed file that Python wrote
/// (Tests/Interop/Fixtures/python_written.safetensors, safetensors 0.8.0) is still checked.
/// `.ci/run` and `Tests/Interop/run.sh` make a virtual environment with both packages.
@Suite("safetensors interop with Python")
struct InteropTests {
  static let script = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Interop/safetensors_interop.py")
  static let pythonFileName = "python_written.safetensors"
  static let swiftFileName = "swift_written.safetensors"

  /// The Python to run: `CHAINRULE_PYTHON` if set, else `python3` on PATH when it imports
  /// safetensors and numpy; `nil` when there is none.
  static let python: String? = {
    if let chosen = ProcessInfo.processInfo.environment["CHAINRULE_PYTHON"] { return chosen }
    let probe = try? run(["python3", "-c", "import safetensors, numpy"])
    return probe?.status == 0 ? "python3" : nil
  }()

  /// Runs a command found on PATH; returns its exit status and its output (both streams).
  static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
  }

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

  @Test(
    .enabled(
      if: python != nil,
      "needs Python with safetensors and numpy: set CHAINRULE_PYTHON, or pip install them"))
  func roundTripWithPythonsSafetensors() throws {
    let python = try #require(Self.python)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-interop-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let fromPython = folder.appendingPathComponent(Self.pythonFileName)
    let fromSwift = folder.appendingPathComponent(Self.swiftFileName)

    // Python → Swift: Python's file read and checked by Swift.
    let write = try Self.run([python, Self.script.path, "write", fromPython.path])
    try #require(write.status == 0, "python write failed (\(write.status)): \(write.output)")
    try expectFixture(in: SafeTensors.read(from: fromPython), writer: "python")

    // Swift → Python: Swift's file read back here and checked by Python's own fixture.
    try SafeTensors.write(Self.fixture, metadata: Self.metadata(writer: "swift"), to: fromSwift)
    try expectFixture(in: SafeTensors.read(from: fromSwift), writer: "swift")
    let read = try Self.run([python, Self.script.path, "read", fromSwift.path])
    #expect(read.status == 0, "python read failed (\(read.status)): \(read.output)")
  }
}
