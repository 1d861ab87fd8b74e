import Foundation
import Testing

@testable import ChainRule

@Suite("model files")
struct ModelFileTests {
  /// The architecture record a CLI might keep in the metadata.
  struct Architecture: Codable, Equatable {
    var layers: [Int]
    var activation: String
  }

  /// A two-layer model's parameters with values drawn from `seed`.
  static func parameters(seed: UInt64) -> [Parameter<Float>] {
    var generator = SplitMix64(seed: seed)
    return [("layer0.weight", [2, 3]), ("layer0.bias", [3]), ("layer1.weight", [3, 1])].map {
      name, shape in
      let scalars = (0..<shape.reduce(1, *)).map { _ in Float(generator.nextDouble(in: -1...1)) }
      return Parameter(Tensor(shape: shape, scalars: scalars), name: name)
    }
  }

  @Test func saveAndLoadRestoresEveryParameterAndTheMetadata() throws {
    let folder = try makeModelFileScratchFolder("model")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let trained = Self.parameters(seed: 1)
    let architecture = Architecture(layers: [2, 3, 1], activation: "tanh")
    let metadata = [
      "architecture": try ModelFile.encodeMetadata(architecture, key: "architecture"),
      "epochs": "200",
    ]
    try ModelFile.save(trained, metadata: metadata, to: url)
    #expect(metadata["architecture"] == #"{"activation":"tanh","layers":[2,3,1]}"#)

    let fresh = Self.parameters(seed: 2)
    fresh[0].gradient = Tensor(shape: [2, 3], repeating: 9)
    let loaded = try ModelFile.load(into: fresh, from: url)
    #expect(loaded == metadata)
    for (original, restored) in zip(trained, fresh) {
      #expect(restored.value.scalars.map(\.bitPattern) == original.value.scalars.map(\.bitPattern))
      #expect(restored.gradient == Tensor.zeros(original.value.shape))
    }
    #expect(
      try ModelFile.decodeMetadata(Architecture.self, key: "architecture", from: loaded)
        == architecture)
  }

  @Test func aMismatchedFileChangesNothingAndListsEveryProblem() throws {
    let folder = try makeModelFileScratchFolder("mismatch")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    // The file: layer0.weight fits, layer0.bias has the wrong shape, layer1.weight is missing,
    // and an extra tensor is present.
    try SafeTensors.write(
      [
        ("layer0.weight", Tensor<Float>(shape: [2, 3], repeating: 7)),
        ("layer0.bias", Tensor<Float>(shape: [4], repeating: 7)),
        ("extra", Tensor<Float>(1)),
      ], to: url)
    let model = Self.parameters(seed: 3)
    let before = model.map(\.value)

    let error = #expect(throws: ModelFileError.self) { try ModelFile.load(into: model, from: url) }
    #expect(
      error
        == .mismatch(
          file: url.path,
          problems: [
            .shapeMismatch("layer0.bias", file: [4], model: [3]), .missingTensor("layer1.weight"),
            .unexpectedTensor("extra"),
          ]))
    #expect(model.map(\.value) == before, "a rejected file must not change any parameter")
    #expect(
      error?.description == """
        \(url.path): does not match the model, nothing was loaded:
          - parameter "layer0.bias": file has shape [4], model expects [3]
          - parameter "layer1.weight" is not in the file
          - tensor "extra" in the file matches no parameter of the model
        """)
  }

  @Test func dtypeMustMatchUnlessConverting() throws {
    let folder = try makeModelFileScratchFolder("dtype")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("double.safetensors")
    let doubles = [Parameter(Tensor<Double>([0.1, -0.25]), name: "w")]
    try ModelFile.save(doubles, to: url)

    let floats = [Parameter(Tensor<Float>([0, 0]), name: "w")]
    #expect(
      throws: ModelFileError.mismatch(
        file: url.path, problems: [.dtypeMismatch("w", file: "F64", model: "F32")])
    ) {
      try ModelFile.load(into: floats, from: url)
    }
    #expect(floats[0].value == Tensor([0, 0]))
    try ModelFile.load(into: floats, from: url, converting: true)
    #expect(floats[0].value == Tensor([Float(0.1), -0.25]))
  }

  @Test func duplicateParameterNamesAreRejected() throws {
    let folder = try makeModelFileScratchFolder("duplicate")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let twins = [
      Parameter(Tensor<Float>([1]), name: "w"), Parameter(Tensor<Float>([2]), name: "w"),
    ]
    #expect(
      throws: SafeTensorsError(
        file: url.path, reason: .invalidName("w", message: "is used by two tensors"))
    ) {
      try ModelFile.save(twins, to: url)
    }
    try ModelFile.save([twins[0]], to: url)
    #expect(throws: ModelFileError.mismatch(file: url.path, problems: [.duplicateParameter("w")])) {
      try ModelFile.load(into: twins, from: url)
    }
    #expect(twins.map(\.value) == [Tensor([1]), Tensor([2])])
  }

  @Test func aCorruptFileChangesNothing() throws {
    let folder = try makeModelFileScratchFolder("corrupt")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    try ModelFile.save(Self.parameters(seed: 4), to: url)
    var bytes = try Data(contentsOf: url)
    bytes.removeLast()  // the last tensor is now one byte short
    try bytes.write(to: url)

    let model = Self.parameters(seed: 5)
    let before = model.map(\.value)
    let error = #expect(throws: ModelFileError.self) { try ModelFile.load(into: model, from: url) }
    guard case .file(let fileError) = error else {
      Issue.record("expected a file error, got \(String(describing: error))")
      return
    }
    #expect(fileError.file == url.path)
    #expect(model.map(\.value) == before)
  }

  @Test func missingOrMalformedMetadataIsReported() throws {
    #expect(
      throws: ModelFileError.invalidMetadata(
        key: "architecture", message: #"missing (the file has "epochs")"#)
    ) {
      try ModelFile.decodeMetadata(Architecture.self, key: "architecture", from: ["epochs": "3"])
    }
    let error = #expect(throws: ModelFileError.self) {
      try ModelFile.decodeMetadata(
        Architecture.self, key: "architecture", from: ["architecture": #"{"layers":[2]}"#])
    }
    #expect(
      error?.description.hasPrefix(#"metadata "architecture": cannot decode Architecture"#) == true)
  }
}

/// The metadata decoder names the JSON path of every problem (Foundation's `JSONDecoder` on
/// Linux reports a number that does not fit as "not valid JSON", with no field).
@Suite("model files: metadata decoding")
struct MetadataDecoderTests {
  struct Record: Codable, Equatable {
    var epoch: Int
    var loss: Double
    var accuracy: Double?
  }
  struct State: Codable, Equatable {
    var name: String
    var seed: UInt64
    var sizes: [Int]
    var history: [Record]
    var flag: Bool
  }

  func problem(_ json: String) -> String? {
    do {
      _ = try ModelFile.decodeMetadata(State.self, key: "k", from: ["k": json])
      return nil
    } catch {
      return error.description
    }
  }

  static let valid =
    #"{"name":"n","seed":18446744073709551615,"sizes":[3,4],"flag":true,"#
    + #""history":[{"epoch":1,"loss":0.5},{"epoch":2,"loss":0.25,"accuracy":1}]}"#

  @Test func decodesWhatJSONEncoderWritesBitwise() throws {
    var generator = SplitMix64(seed: 5)
    let state = State(
      name: "a \"quoted\" name\n", seed: .max, sizes: [1, 100_000],
      history: (1...50).map {
        Record(
          epoch: $0, loss: Double(bitPattern: generator.next() >> 2),
          accuracy: $0 % 2 == 0 ? nil : generator.nextDouble(in: 0...1))
      }, flag: false)
    let text = try ModelFile.encodeMetadata(state, key: "k")
    let decoded = try ModelFile.decodeMetadata(State.self, key: "k", from: ["k": text])
    #expect(decoded == state)
    #expect(decoded.history.map(\.loss.bitPattern) == state.history.map(\.loss.bitPattern))
    #expect(problem(Self.valid) == nil)
  }

  @Test(arguments: [
    (#""sizes":[3,4]"#, #""sizes":[3,1e30]"#, #"field "sizes[1]": 1e30 is not in Int's range"#),
    (#""sizes":[3,4]"#, #""sizes":[3,2.5]"#, #"field "sizes[1]": 2.5 is not a whole number"#),
    (
      #""sizes":[3,4]"#, #""sizes":[3,9223372036854775808]"#,
      #"field "sizes[1]": 9223372036854775808 is not in Int's range"#
    ),
    (#""seed":18446744073709551615"#, #""seed":-1"#, #"field "seed": -1 is not in UInt64's range"#),
    (#""loss":0.5"#, #""loss":1e400"#, #"field "history[0].loss": 1e400 is beyond Double's range"#),
    (
      #""loss":0.5"#, #""loss":"x""#, #"field "history[0].loss": expected a number, found a string"#
    ),
    (#""epoch":2,"#, "", #"field "history[1].epoch" is missing"#),
    (#""flag":true"#, #""flag":1"#, #"field "flag": expected true or false, found the number 1"#),
    (#""name":"n""#, #""name":"n","name":"m""#, #"duplicate key "name""#),
    (#""name":"n""#, #""name":NaN"#, "invalid JSON at byte 8"),
  ])
  func everyProblemNamesItsField(_ original: String, _ replacement: String, _ expected: String) {
    #expect(Self.valid.contains(original))
    let json = Self.valid.replacingOccurrences(of: original, with: replacement)
    let description = problem(json)
    #expect(description?.hasPrefix(#"metadata "k": cannot decode State: "#) == true)
    #expect(description?.contains(expected) == true, "\(description ?? "decoded")")
  }
}
