import Foundation
import Testing

@testable import ChainRule
@testable import ChainRuleCLI

/// Every layer kind of the library through the model file: built, trained a few Adam steps,
/// saved, loaded, and compared bit for bit with the network that was saved.
@Suite("model files: every layer kind")
struct SavedModelLayerTests {
  static let kinds = [
    "dense", "conv2d", "maxPool2d", "flatten", "dropout", "layerNorm", "embedding", "sequential",
  ]

  /// A small network holding `kind`, the shape of one example, a batch of 5 and its labels.
  static func network(_ kind: String) -> (
    model: Sequential<Float>, inputShape: [Int], x: Tensor<Float>, labels: Tensor<Float>
  ) {
    var generator = Xoshiro256StarStar(seed: 15)
    func random(_ shape: [Int]) -> Tensor<Float> {
      Tensor(
        shape: shape,
        scalars: (0..<shape.reduce(1, *)).map { _ in Float(generator.nextDouble(in: -1...1)) })
    }
    let layers: [any Layer<Float>]
    let shape: [Int]
    switch kind {
    case "dense":
      shape = [3]
      layers = [
        Dense(inputSize: 3, outputSize: 4, activation: .tanh, using: &generator),
        Dense(inputSize: 4, outputSize: 2, using: &generator),
      ]
    case "conv2d":
      // [N, 2, 6, 5] → conv (3×2 kernel, stride 2×1, padding 1×0, dilation 1×2) → [N, 3, 3, 3]:
      // OH = ⌊(6 + 2 − 3)/2⌋ + 1 = 3, OW = ⌊(5 − 3)/1⌋ + 1 = 3.
      shape = [2, 6, 5]
      layers = [
        Conv2d(
          inputChannels: 2, outputChannels: 3, kernelSize: Size2D(height: 3, width: 2),
          stride: Size2D(height: 2, width: 1), padding: Size2D(height: 1, width: 0),
          dilation: Size2D(height: 1, width: 2), activation: .relu,
          biasInitializer: .uniform(lower: -0.1, upper: 0.1), using: &generator),
        Flatten(), Dense(inputSize: 27, outputSize: 2, using: &generator),
      ]
    case "maxPool2d":
      // [N, 1, 7, 7] → conv 3×3 padding 1 → [N, 2, 7, 7] → pool 3, stride 2, padding 1 →
      // [N, 2, 4, 4] (⌊(7 + 2 − 3)/2⌋ + 1 = 4).
      shape = [1, 7, 7]
      layers = [
        Conv2d(
          inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1, activation: .relu,
          using: &generator),
        MaxPool2d(kernelSize: 3, stride: 2, padding: 1), Flatten(),
        Dense(inputSize: 32, outputSize: 2, using: &generator),
      ]
    case "flatten":
      shape = [2, 3]
      layers = [Flatten(startAxis: 1), Dense(inputSize: 6, outputSize: 2, using: &generator)]
    case "dropout":
      shape = [3]
      layers = [
        Dense(inputSize: 3, outputSize: 8, activation: .relu, using: &generator),
        Dropout(probability: 0.3, seed: 9), Dense(inputSize: 8, outputSize: 2, using: &generator),
      ]
    case "layerNorm":
      shape = [3]
      layers = [
        Dense(inputSize: 3, outputSize: 4, using: &generator), LayerNorm(size: 4, epsilon: 1e-3),
        Dense(inputSize: 4, outputSize: 2, using: &generator),
      ]
    case "sequential":
      // A Sequential inside the Sequential: its parameters are layer0.layer0.weight, …
      shape = [2, 3]
      layers = [
        Sequential<Float>([
          Flatten(), Dense(inputSize: 6, outputSize: 4, activation: .relu, using: &generator),
          Dropout(probability: 0.25, seed: 12),
        ]),
        Dense(inputSize: 4, outputSize: 2, using: &generator),
      ]
    default:  // embedding: two indices in 0..<5 per example
      shape = [2]
      layers = [
        Embedding(count: 5, dimension: 3, using: &generator), Flatten(),
        Dense(inputSize: 6, outputSize: 2, using: &generator),
      ]
    }
    let x =
      kind == "embedding"
      ? Tensor(shape: [5, 2], scalars: [0, 4, 1, 1, 2, 3, 4, 0, 3, 2])
      : random([5] + shape)
    return (Sequential(layers), shape, x, Tensor([0, 1, 1, 0, 1]))
  }

  /// One Adam step on the cross-entropy of `x` against `labels`.
  static func step(
    _ model: Sequential<Float>, _ optimizer: Adam<Float>, _ x: Tensor<Float>,
    _ labels: Tensor<Float>
  ) {
    let graph = Graph<Float>()
    let logits = model(graph.input(x, name: "x", requiresGradient: false))
    let loss = logits.softmaxCrossEntropy(labels: graph.input(labels, name: "y"))
    optimizer.zeroGradients()
    graph.backward(from: loss)
    optimizer.step()
  }

  static func output(_ model: Sequential<Float>, _ x: Tensor<Float>) -> Tensor<Float> {
    model(Graph<Float>().input(x, name: "x", requiresGradient: false)).value
  }

  static func bits(_ tensor: Tensor<Float>) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

  static func scratch(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-\(name)-\(UUID().uuidString).safetensors")
  }

  /// Saved after two Adam steps, loaded, the network gives the same output bits (in
  /// evaluation mode, the loaded network's mode); one more step of each, from the saved Adam
  /// state and (for dropout) the saved mask generator, gives the same parameter bits.
  @Test(arguments: kinds)
  func aNetworkOfEveryKindRoundTripsBitForBit(kind: String) throws {
    let (model, inputShape, x, labels) = Self.network(kind)
    let adam = Adam(parameters: model.parameters, learningRate: 0.01)
    for _ in 0..<2 { Self.step(model, adam, x, labels) }
    let url = Self.scratch(kind)
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url, inputShape: inputShape, optimizerState: adam.state)

    let saved = try SavedModel<Float>.load(from: url)
    let records = try model.layers.map { try LayerRecord($0) }
    #expect(saved.description.layers == records)
    #expect(saved.description.layers.map(\.kind).contains(kind))
    #expect(saved.description.inputShape == inputShape)
    #expect(saved.model.parameters.map(\.name) == model.parameters.map(\.name))
    for (original, loaded) in zip(model.parameters, saved.model.parameters) {
      #expect(Self.bits(loaded.value) == Self.bits(original.value), "\(original.name)")
    }
    // The loaded network is in evaluation mode; the original is put there to compare.
    let inner = saved.model.layers.flatMap { ($0 as? Sequential<Float>)?.layers ?? [$0] }
    for case let dropout as Dropout<Float> in inner { #expect(!dropout.isTraining) }
    model.setTraining(false)
    #expect(Self.bits(Self.output(saved.model, x)) == Self.bits(Self.output(model, x)))
    #expect(saved.model.layers.map { "\(type(of: $0))" } == model.layers.map { "\(type(of: $0))" })

    // Resuming: both back in training, one step each from the same state.
    model.setTraining(true)
    saved.model.setTraining(true)
    let resumed = Adam(parameters: saved.model.parameters, learningRate: 0.01)
    try resumed.loadState(saved.optimizerState)
    #expect(resumed.stepCount == adam.stepCount)
    Self.step(model, adam, x, labels)
    Self.step(saved.model, resumed, x, labels)
    for (original, loaded) in zip(model.parameters, saved.model.parameters) {
      #expect(Self.bits(loaded.value) == Self.bits(original.value), "\(original.name) resumed")
    }
  }

  /// The test above can fail: a dropout layer whose generator were not saved would draw other
  /// masks after loading, and a loaded network left in training would not match in evaluation.
  @Test func dropoutMasksDependOnTheSavedGenerator() throws {
    let (model, inputShape, x, _) = Self.network("dropout")
    let url = Self.scratch("dropout-generator")
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url, inputShape: inputShape)
    let reference = Self.bits(Self.output(model, x))  // in training: the first mask
    let loaded = try Sequential<Float>.load(from: url)
    loaded.setTraining(true)
    #expect(Self.bits(Self.output(loaded, x)) == reference)
    let other = try Sequential<Float>.load(from: url)
    other.setTraining(true)
    let dropout = try #require(other.layers[1] as? Dropout<Float>)
    dropout.generator = Xoshiro256StarStar(seed: 10)
    #expect(Self.bits(Self.output(other, x)) != reference)
    other.setTraining(false)
    #expect(Self.bits(Self.output(other, x)) != reference)
  }

  /// The convolutional network of the digits experiment, trained a little, saved with its
  /// data description and the shape of one image, predicts the same classes after loading —
  /// in the library and through `chainrule predict`, which reshapes each row of 64 pixel
  /// columns to [1, 8, 8]; `chainrule summary` prints its layers.
  @Test func aSavedCNNPredictsTheSameDigitsInTheLibraryAndThroughTheCLI() throws {
    let table = try CSVTable(contentsOf: DigitsTests.file)
    let all: Dataset<Float> = try table.dataset(labelColumn: "label")
    let images = all.features * (1 / 16)
    var generator = Xoshiro256StarStar(seed: 2024)
    let cnn = CNNDigitsTests.convolutionalNetwork(using: &generator)
    let adam = Adam(parameters: cnn.parameters, learningRate: 0.01)
    let training = try Dataset(
      features: Tensor(shape: [320, 64], scalars: Array(images.scalars[0..<(320 * 64)])),
      labels: Tensor(shape: [320], scalars: Array(all.labels.scalars[0..<320])))
    for batch in training.batches(size: 32, shuffledUsing: &generator) {
      Self.step(
        cnn, adam, batch.features.reshaped([batch.features.shape[0], 1, 8, 8]), batch.labels)
    }
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("cnn.st")
    let columns = table.columns.filter { $0 != "label" }
    let data = DataDescription(
      featureColumns: columns, featureMean: Array(repeating: 0, count: 64),
      featureStd: Array(repeating: 16, count: 64), labelColumn: "label", task: .classification,
      classes: (0..<10).map(String.init))
    try cnn.save(to: url, inputShape: [1, 8, 8], data: data, optimizerState: adam.state)

    let loaded = try Sequential<Float>.load(from: url)
    cnn.setTraining(false)
    let x = images.reshaped([all.count, 1, 8, 8])
    let probabilities = cnn(Graph<Float>().input(x, name: "x")).softmax().value
    #expect(Self.bits(Self.output(loaded, x)) == Self.bits(Self.output(cnn, x)))
    let classes = (0..<all.count).map { row in
      let p = (0..<10).map { Double(probabilities[row, $0]) }
      return String(p.indices.max { p[$0] < p[$1] }!)
    }
    let correct = zip(classes, all.labels.scalars).filter { $0 == String(Int($1)) }.count
    #expect(correct > all.count / 2, "the CNN trained too little to show anything: \(correct)")

    try FileManager.default.copyItem(
      at: DigitsTests.file, to: folder.appendingPathComponent("d.csv"))
    let predict = try CLITests.run(
      ["predict", "--model", "cnn.st", "--data", "d.csv", "--out", "p.csv"], in: folder)
    #expect(predict.status == 0, "\(predict.error)")
    let printed = try String(contentsOf: folder.appendingPathComponent("p.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
    #expect(printed == classes)
    #expect(predict.error.contains("accuracy \(correct)/\(all.count)"), "\(predict.error)")

    let summary = try CLITests.run(["summary", "cnn.st"], in: folder)
    #expect(summary.status == 0, "\(summary.error)")
    for expected in [
      "6 layers, 6090 parameters (F32)", "layer0  conv2d     1    16   relu        160",
      "[16, 8, 8]",
      "kernel 3, stride 1, padding 1, dilation 1, bias", "layer1  maxPool2d", "[16, 4, 4]",
      "layer4  flatten", "[128]", "from axis 1", "input per example: [1, 8, 8]",
      "weight [16, 1, 3, 3], bias [16]", "optimizer state: 18 tensors",
    ] {
      #expect(summary.output.contains(expected), "\(expected) in\n\(summary.output)")
    }
  }

  /// `chainrule summary` on every other kind: dropout, layer norm, embedding.
  @Test func summaryPrintsDropoutLayerNormAndEmbedding() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for kind in ["dropout", "layerNorm", "embedding", "sequential"] {
      let (model, inputShape, _, _) = Self.network(kind)
      try model.save(to: folder.appendingPathComponent("\(kind).st"), inputShape: inputShape)
      let summary = try CLITests.run(["summary", "\(kind).st"], in: folder)
      #expect(summary.status == 0, "\(summary.error)")
      let expected =
        switch kind {
        case "dropout": ["layer1  dropout", "p 0.3", "dropout: loaded in evaluation mode"]
        case "layerNorm": ["layer1  layerNorm  4   4", "weight [4], bias [4]", "eps 0.001"]
        case "embedding":
          ["layer0  embedding  -   3", "weight [5, 3]", "5 rows", "[2, 3]", "[6]"]
        default:
          [
            "layer0  sequential", "3 layers: flatten, dense, dropout", "weight [6, 4], bias [4]",
            "28", "[4]",
          ]
        }
      for text in expected {
        #expect(summary.output.contains(text), "\(text) in\n\(summary.output)")
      }
    }
  }

  // MARK: Refusals

  /// A network with every kind but embedding: [N, 2, 6, 5] → conv → [3, 3, 3] → pool (3,
  /// stride 1, padding 1) → [3, 3, 3] → dropout → flatten → 27 → dense → 4 → layer norm →
  /// dense → 2. Layer indices: conv 0, pool 1, dropout 2, flatten 3, dense 4, norm 5, dense 6.
  static func everyKind() -> Sequential<Float> {
    var generator = Xoshiro256StarStar(seed: 16)
    return Sequential([
      Conv2d(
        inputChannels: 2, outputChannels: 3, kernelSize: Size2D(height: 3, width: 2),
        stride: Size2D(height: 2, width: 1), padding: Size2D(height: 1, width: 0),
        dilation: Size2D(height: 1, width: 2), activation: .relu, using: &generator),
      MaxPool2d(kernelSize: 3, stride: 1, padding: 1), Dropout(probability: 0.25, seed: 3),
      Flatten(), Dense(inputSize: 27, outputSize: 4, activation: .tanh, using: &generator),
      LayerNorm(size: 4), Dense(inputSize: 4, outputSize: 2, using: &generator),
    ])
  }

  /// Writes `everyKind()` (or the embedding network) with an Adam state, returns its bytes.
  static func baseFile(embedding: Bool = false) throws -> Data {
    let model = embedding ? network("embedding").model : everyKind()
    let shape = embedding ? [2] : [2, 6, 5]
    let x = embedding ? network("embedding").x : network("conv2d").x
    let adam = Adam(parameters: model.parameters, learningRate: 0.01)
    step(model, adam, x, Tensor([0, 1, 1, 0, 1]))
    let url = scratch("base")
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url, inputShape: shape, optimizerState: adam.state)
    return try Data(contentsOf: url)
  }

  /// The refusal of a file, or nil when it loads (and then runs on an input of its shape).
  static func refusal(_ data: Data) throws -> String? {
    let url = scratch("edited")
    defer { try? FileManager.default.removeItem(at: url) }
    try data.write(to: url)
    do {
      let saved = try SavedModel<Float>.load(from: url)
      if let shape = saved.description.inputShape {
        _ = output(saved.model, Tensor(shape: [1] + shape, repeating: 0))
      }
      return nil
    } catch {
      return error.description
    }
  }

  @Test(
    arguments: [
      ("layers.0.kind", #""conv3d""#, #"layers[0].kind is "conv3d", a layer kind this version"#),
      ("layers.0.kernelSize", "null", #"field "layers[0].kernelSize" is missing; a conv2d layer"#),
      (
        "layers.2.startAxis", "1",
        #"field "layers[2].startAxis" is present; a dropout layer has no such field"#
      ),
      ("layers.4.settings", #"{"a":1}"#, #"field "layers[4].settings" is present"#),
      (
        "layers.0.stride.0", "0",
        #"field "layers[0].stride[0]" is 0; a conv2d layer needs a positive size"#
      ),
      (
        "layers.0.padding.1", "-1",
        #"field "layers[0].padding[1]" is -1; a conv2d layer needs a size of at least 0"#
      ),
      (
        "layers.0.kernelSize", "[3]",
        #"field "layers[0].kernelSize" is [3]; a conv2d layer needs [height, width]"#
      ),
      (
        "layers.0.outputChannels", "4294967296",
        #"field "layers[0].outputChannels" is 4294967296; a model file holds sizes up to 2147483647"#
      ),
      (
        "layers.0.outputChannels", "1e30",
        #"field "layers[0].outputChannels": 1e30 is not in Int's range"#
      ),
      ("layers.0.dilation.1", "2.5", #"field "layers[0].dilation[1]": 2.5 is not a whole number"#),
      (
        "layers.0.inputChannels", "3",
        #"field "layers[0].inputChannels" is 3; the input has 2 channels"#
      ),
      (
        "layers.0.kernelSize.0", "5",
        #"field "layers[4].inputSize" is 27; layers[3] outputs 18"#
      ),
      ("layers.0.bias", "false", #"field "layers[0].bias" is false; this version's Conv2d"#),
      ("layers.0.activation", #""swish""#, #"field "layers[0].activation" is "swish"; known:"#),
      (
        "inputShape.2", "1",
        "layers[0]: its 3×2 kernel (dilation 1×2) spans more than the input padded by 1×0"
      ),
      ("inputShape.0", "0", #"field "inputShape" is [0, 6, 5]"#),
      (
        "layers.1.padding.0", "2",
        #"field "layers[1].padding" is [2, 1]; max pooling pads at most half the kernel"#
      ),
      (
        "layers.2.probability", "1",
        #"field "layers[2].probability" is 1.0; a dropout probability is in [0, 1)"#
      ),
      (
        "layers.2.generator", "[0,0,0,0]",
        #"field "layers[2].generator" is [0, 0, 0, 0]; the generator's state is four words"#
      ),
      ("layers.2.generator.0", "-1", #"field "layers[2].generator[0]": -1 is not in UInt64's"#),
      (
        "layers.3.startAxis", "4",
        #"field "layers[3].startAxis" is 4; layers[2] gives [N, 3, 3, 3], which has no axis 4"#
      ),
      ("layers.3.startAxis", "-1", #"field "layers[3].startAxis" is -1; an axis is in 0..<32"#),
      ("layers.4.inputSize", "26", #"field "layers[4].inputSize" is 26; layers[3] outputs 27"#),
      ("layers.5.epsilon", "-1", #"field "layers[5].epsilon" is -1.0; ε must not be negative"#),
      ("layers.5.affine", "false", #"field "layers[5].affine" is false"#),
      (
        "layers.5.normalizedShape", "[4,1]",
        #"field "layers[5].normalizedShape" is [4, 1]; this version normalises the last axis"#
      ),
      (
        "layers.5.normalizedShape.0", "5",
        #"field "layers[5].normalizedShape" is [5]; layers[4] gives [N, 4]"#
      ),
      ("layers", "[]", #"field "layers" is empty"#),
    ] as [(String, String, String)])
  func aDamagedRecordIsRefusedNamingTheFieldAndLayer(path: String, raw: String, expected: String)
    throws
  {
    let base = try Self.baseFile()
    let url = Self.scratch("record")
    defer { try? FileManager.default.removeItem(at: url) }
    try base.write(to: url)
    let steps: [Any] = path.split(separator: ".").map { Int($0).map { $0 as Any } ?? String($0) }
    let edited = try ModelEdit.setting(
      try ModelEdit.read(url), key: ModelDescription.key, path: steps, raw: raw)
    let refusal = try Self.refusal(try ModelEdit.encode(edited))
    #expect(refusal?.contains(expected) == true, "\(refusal ?? "loaded")")
    #expect(try Self.refusal(base) == nil)
  }

  /// The records inside a nested `Sequential` are checked like the others, named by their
  /// path.
  @Test func nestedRecordsAreCheckedByTheirPath() throws {
    let (model, shape, _, _) = Self.network("sequential")
    let url = Self.scratch("nested")
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url, inputShape: shape)
    let base = try Data(contentsOf: url)
    #expect(try Self.refusal(base) == nil)
    for (path, raw, expected) in [
      (
        ["layers", 0, "layers", 2, "probability"], "1",
        #"field "layers[0].layers[2].probability" is 1.0; a dropout probability is in [0, 1)"#
      ),
      (
        ["layers", 0, "layers", 1, "inputSize"], "5",
        #"field "layers[0].layers[1].inputSize" is 5; layers[0].layers[0] outputs 6"#
      ),
      (["layers", 0, "layers"], "[]", #"field "layers[0].layers" is empty"#),
      (["layers", 1, "inputSize"], "3", #"field "layers[1].inputSize" is 3; layers[0] outputs 4"#),
    ] as [([Any], String, String)] {
      let edited = try ModelEdit.setting(
        try ModelEdit.read(url), key: ModelDescription.key, path: path, raw: raw)
      let refusal = try Self.refusal(try ModelEdit.encode(edited))
      #expect(refusal?.contains(expected) == true, "\(refusal ?? "loaded")")
    }
  }

  @Test func embeddingRecordsAreCheckedToo() throws {
    let base = try Self.baseFile(embedding: true)
    #expect(try Self.refusal(base) == nil)
    let url = Self.scratch("embedding")
    defer { try? FileManager.default.removeItem(at: url) }
    try base.write(to: url)
    for (path, raw, expected) in [
      (["layers", 0, "count"], "0", #"field "layers[0].count" is 0; a embedding layer needs a"#),
      (["layers", 0, "dimension"], "4", #"field "layers[2].inputSize" is 6; layers[1] outputs 8"#),
      (["layers", 0, "dimension"], "null", #"field "layers[0].dimension" is missing"#),
    ] as [([Any], String, String)] {
      let edited = try ModelEdit.setting(
        try ModelEdit.read(url), key: ModelDescription.key, path: path, raw: raw)
      let refusal = try Self.refusal(try ModelEdit.encode(edited))
      #expect(refusal?.contains(expected) == true, "\(refusal ?? "loaded")")
    }
  }

  /// Tensors that disagree with the records, or hold values no model holds.
  @Test func aDamagedTensorIsRefusedNamingTheTensorAndLayer() throws {
    let base = try Self.baseFile()
    let url = Self.scratch("tensor")
    defer { try? FileManager.default.removeItem(at: url) }
    try base.write(to: url)
    let contents = try ModelEdit.read(url)
    func edit(_ name: String, _ change: (inout ModelEdit.Contents, Int) -> Void) throws -> String? {
      var edited = contents
      let index = try #require(edited.tensors.firstIndex { $0.name == name }, "\(name)")
      change(&edited, index)
      return try Self.refusal(try ModelEdit.encode(edited))
    }
    func set(_ element: Int, _ value: Float) -> (inout ModelEdit.Contents, Int) -> Void {
      { contents, index in
        contents.tensors[index].tensor.withUnsafeMutableBufferPointer { $0[element] = value }
      }
    }
    let cases: [(String, (inout ModelEdit.Contents, Int) -> Void, String)] = [
      (
        "layer0.weight", set(1, .nan),
        #"tensor "layer0.weight" holds nan at [0, 0, 0, 1] (layers[0], a conv2d layer)"#
      ),
      (
        "optimizer.layer5.weight.m", set(2, -.infinity),
        #"tensor "optimizer.layer5.weight.m" holds -inf at [2] (layers[5], a layerNorm layer)"#
      ),
      (
        "layer5.bias", { contents, index in contents.tensors.remove(at: index) },
        #"parameter "layer5.bias" is not in the file"#
      ),
      (
        "layer0.weight",
        { contents, index in
          contents.tensors[index].tensor = Tensor(shape: [3, 2, 3, 3], repeating: 0)
        },
        #"parameter "layer0.weight": file has shape [3, 2, 3, 3], model expects [3, 2, 3, 2]"#
      ),
      (
        "layer4.bias",
        { contents, _ in contents.tensors.append((name: "layer9.weight", tensor: Tensor([1]))) },
        #"tensor "layer9.weight" in the file matches no parameter of the model"#
      ),
    ]
    for (name, change, expected) in cases {
      let refusal = try edit(name, change)
      #expect(refusal?.contains(expected) == true, "\(refusal ?? "loaded")")
    }

    // F64 beyond Float's range becomes ∞ when converted: refused, not loaded as ∞.
    var wide = contents.tensors.map { (name: $0.name, tensor: SafeTensorsValue($0.tensor)) }
    let index = try #require(wide.firstIndex { $0.name == "layer6.weight" })
    wide[index].tensor = SafeTensorsValue(Tensor<Double>(shape: [4, 2], repeating: 1e300))
    let refusal = try Self.refusal(try SafeTensors.encode(wide, metadata: contents.metadata))
    #expect(
      refusal?.contains(#"tensor "layer6.weight" holds inf at [0, 0] (layers[6], a dense layer)"#)
        == true, "\(refusal ?? "loaded")")

    // A dtype the format does not store (the header's "F32" of one tensor made "I32").
    var bytes = base
    let header = Data("\"dtype\":\"F32\"".utf8)
    let at = try #require(bytes.range(of: header))
    bytes.replaceSubrange(at, with: Data("\"dtype\":\"I32\"".utf8))
    let dtype = try Self.refusal(bytes)
    #expect(dtype?.contains("I32") == true, "\(dtype ?? "loaded")")
  }

  /// A layer of your own, also inside a nested `Sequential`, is refused by name on save; no
  /// file is written.
  @Test func aLayerTheFormatCannotStoreIsRefusedOnSave() throws {
    final class Twice: Layer {
      var name = "twice"
      var parameters: [Parameter<Float>] { [] }
      func callAsFunction(_ input: Node<Float>) -> Node<Float> { input * 2 }
    }
    let url = Self.scratch("refused")
    for (model, expected) in [
      (Sequential<Float>([Twice()]), #"layer "layer0" is a Twice, which the model format"#),
      (
        Sequential<Float>([Sequential<Float>([Flatten(), Twice()])]),
        #"layer "layer0.layer1" is a Twice, which the model format"#
      ),
    ] {
      let error = #expect(throws: ModelFileError.self) { try model.save(to: url) }
      #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
      #expect(!FileManager.default.fileExists(atPath: url.path))
    }
  }
}
