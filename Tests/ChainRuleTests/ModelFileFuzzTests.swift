import Foundation
import Testing

@testable import ChainRule
@testable import ChainRuleCLI

/// Edits of model files written by `chainrule train`: a metadata field set to raw JSON text, a
/// tensor element set to a value, the bytes flipped or cut.
enum ModelEdit {
  /// A file's tensors (as Float) in file order, and its metadata.
  struct Contents {
    var tensors: [(name: String, tensor: Tensor<Float>)]
    var metadata: [String: String]
  }

  static func read(_ url: URL) throws -> Contents {
    let file = try SafeTensors.read(from: url)
    let tensors = try file.names.map { name in
      (name: name, tensor: try file.tensor(named: name, as: Float.self))
    }
    return Contents(tensors: tensors, metadata: file.metadata)
  }

  static func encode(_ contents: Contents) throws -> Data {
    try SafeTensors.encode(
      contents.tensors.map { (name: $0.name, tensor: SafeTensorsValue($0.tensor)) },
      metadata: contents.metadata)
  }

  /// Every leaf of a JSON tree with its path (`["history", 2, "trainLoss"]`).
  static func leaves(_ value: Any, _ path: [Any] = []) -> [[Any]] {
    if let object = value as? [String: Any] {
      return object.keys.sorted().flatMap { leaves(object[$0]!, path + [$0]) }
    }
    if let array = value as? [Any] {
      return array.isEmpty ? [path] : array.indices.flatMap { leaves(array[$0], path + [$0]) }
    }
    return [path]
  }

  /// `value` with the element at `path` replaced by `replacement`.
  static func replacing(_ value: Any, at path: ArraySlice<Any>, with replacement: Any) -> Any {
    guard let first = path.first else { return replacement }
    if var object = value as? [String: Any], let key = first as? String {
      object[key] = replacing(object[key] ?? NSNull(), at: path.dropFirst(), with: replacement)
      return object
    }
    if var array = value as? [Any], let index = first as? Int, array.indices.contains(index) {
      array[index] = replacing(array[index], at: path.dropFirst(), with: replacement)
      return array
    }
    return value
  }

  static func value(_ value: Any, at path: [Any]) -> Any? {
    var current: Any? = value
    for step in path {
      if let key = step as? String { current = (current as? [String: Any])?[key] }
      if let index = step as? Int {
        current = (current as? [Any]).flatMap { $0.indices.contains(index) ? $0[index] : nil }
      }
    }
    return current
  }

  /// The metadata JSON under `key` with the value at `path` replaced by the raw JSON `raw`
  /// (which may be invalid JSON, `1e400`, a huge integer: anything a damaged file can hold).
  static func setting(_ contents: Contents, key: String, path: [Any], raw: String) throws
    -> Contents
  {
    let tree = try JSONSerialization.jsonObject(with: Data(contents.metadata[key]!.utf8))
    let marker = "@@RAW-\(UUID().uuidString)@@"
    let edited = replacing(tree, at: path[...], with: marker)
    let text = String(
      decoding: try JSONSerialization.data(withJSONObject: edited, options: [.sortedKeys]),
      as: UTF8.self)
    var result = contents
    result.metadata[key] = text.replacingOccurrences(of: "\"\(marker)\"", with: raw)
    return result
  }

  /// A path as the messages write it: `history[2].trainLoss`.
  /// 1–3 bits of `bytes` flipped anywhere, and what was flipped.
  static func flippingBits(_ bytes: Data, using generator: inout SplitMix64) -> (Data, String) {
    var data = bytes
    var flips: [String] = []
    for _ in 0...(generator.next() % 3) {
      let position = Int(generator.next() % UInt64(data.count))
      let bit = UInt8(1) << (generator.next() % 8)
      data[position] ^= bit
      flips.append("byte \(position) ^ \(bit)")
    }
    return (data, "bit flips " + flips.joined(separator: ", "))
  }

  /// `bytes` cut at a random length, and where.
  static func truncating(_ bytes: Data, using generator: inout SplitMix64) -> (Data, String) {
    let length = Int(generator.next() % UInt64(bytes.count))
    return (bytes.prefix(length), "truncated to \(length) bytes")
  }

  static func describe(_ path: [Any]) -> String {
    path.map { ($0 as? Int).map { "[\($0)]" } ?? ".\($0)" }.joined().trimmingPrefix(".")
      .description
  }
}

/// Whether a metadata value is one `train` could have written, stated independently of the
/// code under test from the rules in Docs/cli.md ("What a model file may hold"). `nil`: the
/// rules do not say (the fuzz then checks only that nothing traps and nothing wrong loads).
enum ModelRules {
  static func integer(_ raw: String) -> Int? { Int(raw) }
  static func number(_ raw: String) -> Double? {
    guard raw.first.map({ $0 == "-" || $0.isNumber }) == true, let value = Double(raw) else {
      return nil
    }
    return value.isFinite ? value : nil
  }

  static func valid(
    key: String, path: [Any], raw: String, original: Any?, model: Any, training: Any
  ) -> Bool? {
    let field = path.compactMap { $0 as? String }.last ?? ""
    let data = (model as? [String: Any])?["data"] as? [String: Any]
    let task = data?["task"] as? String
    let optimizer = (training as? [String: Any])?["optimizer"] as? String
    // The unchanged value is valid.
    if let original,
      raw == "\(original)" || (original as? String).map({ "\"\($0)\"" == raw }) == true
    {
      return true
    }
    if raw == "null" { return nil }  // optional fields may be absent, depending on others
    let int = integer(raw)
    let number = number(raw)
    switch (key, field) {
    case (ModelBundle.trainingKey, "batchSize"):
      return int.map { (1...1_000_000).contains($0) } ?? false
    case (ModelBundle.trainingKey, "learningRate"):
      return number.map { (1e-12...1e6).contains($0) } ?? false
    case (ModelBundle.trainingKey, "momentum"):
      guard let number else { return false }
      // SGD's momentum buffers are saved only when μ ≠ 0: the tensors fix whether it is 0.
      let wasZero = (original as? Double).map { $0 == 0 } ?? true
      return optimizer == "adam"
        ? number == 0 : (0...0.999_999).contains(number) && (number == 0) == wasZero
    case (ModelBundle.trainingKey, "validation"):
      return number.map { (0...0.9).contains($0) } ?? false
    case (ModelBundle.trainingKey, "epochs"), (ModelBundle.trainingKey, "epoch"):
      return false  // the history fixes both (and the original was handled above)
    case (ModelBundle.trainingKey, "stepCount"):
      guard let int else { return false }
      let epochs = ((training as? [String: Any])?["epochs"] as? Int) ?? 0
      return optimizer == "sgd" ? int == 0 : (epochs...(epochs << 32)).contains(int)
    case (ModelBundle.trainingKey, "seed"): return int.map { $0 >= 0 } ?? false
    case (ModelBundle.trainingKey, "optimizer"): return false  // the tensors fix it
    case (ModelBundle.trainingKey, "trainLoss"), (ModelBundle.trainingKey, "validationLoss"):
      return number.map { $0 >= 0 } ?? false
    case (ModelBundle.trainingKey, "trainAccuracy"),
      (ModelBundle.trainingKey, "validationAccuracy"):
      return number.map { (0...1).contains($0) } ?? false
    case (ModelBundle.modelKey, "inputSize"), (ModelBundle.modelKey, "outputSize"),
      (ModelBundle.modelKey, "task"), (ModelBundle.modelKey, "kind"):
      return false  // the tensors' shapes fix them (and any other kind has other fields)
    case (ModelBundle.modelKey, "featureMean"): return number != nil
    case (ModelBundle.modelKey, "featureStd"):
      return number.map { $0 > 1e-12 && $0 <= 1.3e154 } ?? false
    case (ModelBundle.modelKey, "labelMean"):
      return task == "classification" ? false : number != nil
    case (ModelBundle.modelKey, "labelStd"):
      return task == "classification" ? false : number.map { $0 > 1e-12 && $0 <= 1.3e154 } ?? false
    case (ModelBundle.modelKey, "activation"):
      // Valid only if the hidden layers still agree and the output layer stays "none".
      return ["\"relu\"", "\"tanh\"", "\"sigmoid\"", "\"none\""].contains(raw) ? nil : false
    case (ModelBundle.modelKey, "classes"):
      return raw.hasPrefix("\"") ? nil : false  // valid only if still distinct
    case (ModelBundle.modelKey, "featureColumns"), (ModelBundle.modelKey, "labelColumn"):
      return raw.hasPrefix("\"") ? nil : false
    default: return nil
    }
  }
}

/// Mutates model files written by `train --save` with a fixed seed for a time budget, loads
/// every one through `ModelBundle.load` (the code the commands use) and a subset through the
/// real `chainrule` executable. Each must load correctly or be refused with one clear line;
/// none may trap, and none that the rules call invalid may load.
///
/// `CHAINRULE_FUZZ_SECONDS` sets the budget (default 2 s, so `swift test` stays fast),
/// `CHAINRULE_FUZZ_SEED` the seed; a failure prints `seed` and `case`, which reproduce it with
/// `CHAINRULE_FUZZ_SEED=<seed> CHAINRULE_FUZZ_CASE=<case>`.
@Suite("model-file fuzz")
struct ModelFileFuzzTests {
  static let extremes = [
    "0", "1", "-1", "2", "5", "0.5", "-0.5", "1.5", "1000001", "2147483648", "4611686018427387904",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e30", "1e308",
    "-1e308", "1e400", "-1e400", "1e-13", "5e-324", "NaN", "null", "true", "\"x\"", "\"\"",
    "\"a\\u0007b\"", "\"a,b\"", "\"f1\"", "\"label\"", "\"tanh\"", "\"sgd\"", "\"regression\"",
    "[]", "{}", "[1,2]",
  ]

  /// What happened to one case.
  struct Tally {
    var cases = 0
    var loaded = 0
    var refused = 0
    var throughExecutable = 0
    var knownBad = 0
    var failures = 0
  }

  static func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

  /// Three models: classification with Adam, regression with SGD and momentum, classification
  /// with plain SGD (no optimizer tensors).
  static func baseModels(in folder: URL) throws -> [(model: URL, data: String)] {
    let blobs = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let line = try CLITests.write(CLITests.regressionCSV(), "line.csv", in: folder)
    let runs = [
      ("adam.st", ["--data", blobs, "--label", "label", "--hidden", "4,3"]),
      (
        "momentum.st",
        [
          "--data", line, "--label", "y", "--hidden", "3", "--optimizer", "sgd", "--momentum",
          "0.9",
        ]
      ),
      ("sgd.st", ["--data", blobs, "--label", "label", "--hidden", "none", "--optimizer", "sgd"]),
    ]
    var models: [(URL, String)] = []
    for (name, arguments) in runs {
      let result = try CLITests.run(
        ["train", "--epochs", "2", "--save", name] + arguments, in: folder)
      try #require(result.status == 0, "\(result.error)")
      models.append((folder.appendingPathComponent(name), arguments[1]))
    }
    return models
  }

  @Test func mutatedModelFilesLoadCorrectlyOrAreRefusedClearly() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let bases = try Self.baseModels(in: folder)
    let contents = try bases.map { try ModelEdit.read($0.model) }
    let bytes = try bases.map { try Data(contentsOf: $0.model) }
    let seed = UInt64(Self.environment("CHAINRULE_FUZZ_SEED") ?? "") ?? 20_261_201
    let budget = Double(Self.environment("CHAINRULE_FUZZ_SECONDS") ?? "") ?? 2
    let only = Int(Self.environment("CHAINRULE_FUZZ_CASE") ?? "")
    // A trap kills the runner before any message: the case being run is always in this file.
    let current = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-model-fuzz-current-case.txt")
    let start = Date()
    var tally = Tally()
    var index = only ?? 0
    while only == nil
      ? Date().timeIntervalSince(start) < budget || tally.cases < 60 : tally.cases < 1
    {
      defer {
        index += 1
        tally.cases += 1
      }
      var generator = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
      let which = Int(generator.next() % UInt64(bases.count))
      let (data, description, expectation) = try Self.mutate(
        bytes[which], contents[which], using: &generator)
      let label =
        "seed \(seed), case \(index) (\(bases[which].model.lastPathComponent): \(description))"
      try Data(label.utf8).write(to: current)
      let url = folder.appendingPathComponent("case.st")
      try data.write(to: url)
      let failuresBefore = tally.failures
      func fail(_ message: String) {
        tally.failures += 1
        Issue.record("\(label): \(message)")
      }

      var loaded: ModelBundle.Loaded<Float>?
      do {
        loaded = try ModelBundle.load(url.path, as: Float.self)
        tally.loaded += 1
      } catch {
        tally.refused += 1
        let message = error.message
        if message.isEmpty || message.contains("\n")
          || message.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
          || !message.hasPrefix(url.path)
        {
          fail("unclear refusal: \(message.debugDescription)")
        }
        if case .refuse(let field?) = expectation, !message.contains(field) {
          fail("refused without naming \(field): \(message)")
        }
        if case .load = expectation { fail("refused a valid file: \(message)") }
      }
      var usable = false
      if let loaded {
        if case .refuse = expectation { fail("accepted an invalid file") }
        usable = try Self.checkLoaded(
          loaded, data: folder.appendingPathComponent(bases[which].data), fail)
      }
      if case .refuse = expectation { tally.knownBad += 1 }

      // A subset through the real executable: same verdict, one clear line, never a signal.
      if index % 40 == 0 || only != nil {
        tally.throughExecutable += 1
        let result = try CLITests.run(
          ["predict", "--model", "case.st", "--data", bases[which].data, "--out", "p.csv"],
          in: folder)
        // Refused on load, or loaded but unusable on this data (inputs that standardise
        // beyond Float, outputs that overflow): exit 1; usable: exit 0.
        if result.status != (usable ? 0 : 1) {
          fail("chainrule predict exited \(result.status): \(result.error)")
        }
        if result.status != 0
          && (!result.error.hasPrefix("chainrule: error: ")
            || result.error.filter({ $0 == "\n" }).count != 1)
        {
          fail("chainrule predict's message is not one line: \(result.error.debugDescription)")
        }
        if loaded != nil && index % 80 == 0 {
          let resumed = try CLITests.run(
            [
              "train", "--resume", "case.st", "--data", bases[which].data, "--epochs", "1",
              "--save", "r.st",
            ],
            in: folder)
          if resumed.status == 0 {
            do {
              _ = try ModelBundle.load(folder.appendingPathComponent("r.st").path, as: Float.self)
            } catch {
              fail("train --resume saved a file that does not load: \(error.message)")
            }
          } else if resumed.status != 1 || !resumed.error.hasPrefix("chainrule: error: ")
            || resumed.error.filter({ $0 == "\n" }).count != 1
          {
            fail("train --resume exited \(resumed.status): \(resumed.error.debugDescription)")
          }
        }
      }
      if tally.failures > failuresBefore && tally.failures > 20 { break }
    }
    try? FileManager.default.removeItem(at: current)
    print(
      "model-file fuzz (seed \(seed), \(budget) s): \(tally.cases) mutated files, "
        + "\(tally.loaded) loaded, \(tally.refused) refused (\(tally.knownBad) known invalid), "
        + "\(tally.throughExecutable) through chainrule; \(tally.failures) failures, 0 traps")
    #expect(tally.failures == 0)
  }

  /// What the rules say about a mutated file.
  enum Expectation {
    /// Must be refused, naming this field or tensor when given.
    case refuse(String?)
    /// Must load.
    case load
    /// The rules do not say; only the generic checks apply.
    case either
  }

  /// One mutation of a base file, drawn from `generator`.
  static func mutate(
    _ bytes: Data, _ contents: ModelEdit.Contents, using generator: inout SplitMix64
  ) throws -> (Data, String, Expectation) {
    switch generator.next() % 10 {
    case 0, 1:  // flip 1–3 bits anywhere
      let (data, what) = ModelEdit.flippingBits(bytes, using: &generator)
      return (data, what, .either)
    case 2:  // truncate
      let (data, what) = ModelEdit.truncating(bytes, using: &generator)
      return (data, what, .refuse(nil))
    case 3:  // a tensor element set to a non-finite value (or, for Adam's v, a negative one)
      var edited = contents
      let which = Int(generator.next() % UInt64(edited.tensors.count))
      var tensor = edited.tensors[which].tensor
      let element = Int(generator.next() % UInt64(tensor.count))
      let isV = edited.tensors[which].name.hasSuffix(".v")
      let values: [Float] = [.nan, .infinity, -.infinity] + (isV ? [-1] : [])
      let value = values[Int(generator.next() % UInt64(values.count))]
      tensor.withUnsafeMutableBufferPointer { $0[element] = value }
      edited.tensors[which].tensor = tensor
      let name = edited.tensors[which].name
      return (
        try ModelEdit.encode(edited), "\(name)[\(element)] = \(value)", .refuse("\"\(name)\"")
      )
    default:  // a metadata field set to an extreme value
      let key = generator.next() % 2 == 0 ? ModelBundle.modelKey : ModelBundle.trainingKey
      let model = try JSONSerialization.jsonObject(
        with: Data(contents.metadata[ModelBundle.modelKey]!.utf8))
      let training = try JSONSerialization.jsonObject(
        with: Data(contents.metadata[ModelBundle.trainingKey]!.utf8))
      let tree = key == ModelBundle.modelKey ? model : training
      let paths = ModelEdit.leaves(tree)
      let path = paths[Int(generator.next() % UInt64(paths.count))]
      let raw = extremes[Int(generator.next() % UInt64(extremes.count))]
      let edited = try ModelEdit.setting(contents, key: key, path: path, raw: raw)
      let original = ModelEdit.value(tree, at: path)
      let field = ModelEdit.describe(path)
      let verdict = ModelRules.valid(
        key: key, path: path, raw: raw, original: original, model: model, training: training)
      // Fields checked against other fields or the tensors are refused by the first rule
      // they break, which may name the other side; invalid JSON is refused by byte offset.
      let relational = ["layers", "data.task", "optimizer", "momentum"].contains {
        field.hasPrefix($0)
      }
      let named = !relational && raw != "NaN" && !field.isEmpty
      let expectation: Expectation =
        switch verdict {
        case true?: .load
        case false?: .refuse(named ? "\"\(field)" : nil)
        case nil: .either
        }
      return (try ModelEdit.encode(edited), "\(key) \(field) = \(raw)", expectation)
    }
  }

  /// A model that loaded holds finite weights and usable statistics; returns whether it is
  /// also usable on `data`: its inputs standardise within Float and its outputs are finite
  /// (probabilities then sum to 1). An unusable model must be refused by the commands.
  static func checkLoaded(
    _ loaded: ModelBundle.Loaded<Float>, data: URL, _ fail: (String) -> Void
  ) throws -> Bool {
    for parameter in loaded.model.parameters where !parameter.value.scalars.allSatisfy(\.isFinite) {
      fail("loaded non-finite values in \(parameter.name)")
    }
    for (name, tensor) in loaded.optimizerState where !tensor.scalars.allSatisfy(\.isFinite) {
      fail("loaded non-finite optimizer state \(name)")
    }
    let spec = loaded.spec
    if !spec.featureStd.allSatisfy({ $0 > 0 && $0.isFinite })
      || !spec.featureMean.allSatisfy(\.isFinite)
    {
      fail("loaded unusable statistics \(spec.featureMean) \(spec.featureStd)")
    }
    if spec.task == .classification && Set(spec.classes).count != spec.classes.count {
      fail("loaded duplicate classes \(spec.classes)")
    }
    let table = try CSVTable(contentsOf: data)
    guard let features = try? spec.features(table, as: Float.self) else { return false }
    let graph = Graph<Float>()
    let output = loaded.model(graph.input(features, name: "x"))
    guard output.value.scalars.allSatisfy(\.isFinite) else { return false }
    if spec.task == .classification {
      let probabilities = output.softmax().value
      for row in 0..<probabilities.shape[0] {
        let sum = (0..<probabilities.shape[1]).map { Double(probabilities[row, $0]) }.reduce(0, +)
        if !(abs(sum - 1) < 1e-3) {
          fail("probabilities of row \(row) sum to \(sum)")
          return false
        }
      }
    }
    return true
  }
}

/// Whether a value of a layer record (or the input shape) may load, stated from the field
/// table of `LayerRecord` (Docs/cli.md, "Layer records"), independently of the loader. `nil`:
/// the rules do not say (the value is well-formed but may break the chain of shapes).
enum LayerRules {
  static let fixedByTensors: Set<String> = [
    "inputSize", "outputSize", "inputChannels", "outputChannels", "count", "dimension",
    "normalizedShape",
  ]

  /// The record a path points into, through nested sequentials: its JSON object, its field
  /// path as messages write it (`layers[3].layers[1]`), and where the field's name sits in
  /// `path`; nil outside the layers.
  static func record(_ path: [Any], in model: Any) -> (
    record: [String: Any], text: String, fieldIndex: Int
  )? {
    var (object, text, i) = (model as? [String: Any], "", 0)
    var found: [String: Any]?
    while i + 1 < path.count, (path[i] as? String) == "layers", let index = path[i + 1] as? Int {
      let records = object?["layers"] as? [[String: Any]] ?? []
      guard records.indices.contains(index) else { return nil }
      found = records[index]
      object = found
      text += (text.isEmpty ? "" : ".") + "layers[\(index)]"
      i += 2
    }
    guard let found, i < path.count else { return nil }
    return (found, text, i)
  }

  static func valid(path: [Any], raw: String, original: Any?, model: Any) -> Bool? {
    let place = record(path, in: model)
    let field = place.flatMap { path[$0.fieldIndex] as? String }
    // JSONSerialization reads true as 1: a flag's rule comes before the comparison below.
    if let field, ["bias", "affine"].contains(field) { return raw == "true" }
    if let original,
      raw == "\(original)" || (original as? String).map({ "\"\($0)\"" == raw }) == true
    {
      return true
    }
    let names = path.compactMap { $0 as? String }
    guard names.first == "layers" || names.first == "inputShape" else {
      // The data description: the library checks only its counts against the layers.
      return raw == "null" ? false : nil
    }
    if names.first == "inputShape" { return Int(raw).map { $0 >= 1 ? nil : false } ?? false }
    guard let place, let field else { return nil }
    let kind = place.record["kind"] as? String
    let int = Int(raw)
    let number = ModelRules.number(raw)
    switch field {
    case "kind": return false
    case "activation":
      if raw == "null" { return kind == "dense" ? true : false }
      return Activation.allCases.contains { "\"\($0.rawValue)\"" == raw }
    case _ where raw == "null": return false
    case "kernelSize" where kind == "conv2d": return false
    case _ where fixedByTensors.contains(field): return false
    case "kernelSize", "stride", "dilation":
      return int.map { (1...Int(Int32.max)).contains($0) ? nil : false } ?? false
    case "padding": return int.map { (0...Int(Int32.max)).contains($0) ? nil : false } ?? false
    case "startAxis": return int.map { (0..<32).contains($0) ? nil : false } ?? false
    case "probability": return number.map { $0 >= 0 && $0 < 1 } ?? false
    case "generator": return UInt64(raw) != nil
    case "epsilon": return number.map { $0 >= 0 } ?? false
    default: return nil
    }
  }
}

/// The model-file fuzz for files the library writes with every layer kind: mutated files are
/// loaded through `SavedModel.load` (and, for the one with a data description, through
/// `ModelBundle.loadPredictor`, and a subset through `chainrule predict` and `summary`). Each
/// must load — and then run on an input of its stored shape without a trap — or be refused
/// with a message; every mutation the record rules call invalid must be refused.
///
/// Same controls as `ModelFileFuzzTests`: `CHAINRULE_FUZZ_SECONDS`, `CHAINRULE_FUZZ_SEED`,
/// `CHAINRULE_FUZZ_CASE`; the case being run is in
/// `$TMPDIR/chainrule-layer-fuzz-current-case.txt`.
@Suite("model-file fuzz: every layer kind")
struct LayerFileFuzzTests {
  static let extremes =
    ModelFileFuzzTests.extremes + [
      "[0,0,0,0]", "[3]", "[1,1]", "false", "\"conv2d\"", "\"dropout\"", "\"flatten\"",
      "18446744073709551615", "0.999", "3", "7", "31", "32",
    ]

  /// 60 feature columns f0…f59 (one [2, 6, 5] example per row) and a label of two classes.
  static func csv() -> String {
    var generator = SplitMix64(seed: 61)
    var lines = [((0..<60).map { "f\($0)" } + ["label"]).joined(separator: ",")]
    for row in 0..<20 {
      let values = (0..<60).map { _ in String(format: "%.3f", generator.nextDouble(in: -2...2)) }
      lines.append((values + ["\(row % 2 == 0 ? "a" : "b")"]).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Four files: every kind but embedding; the embedding network; every kind again with a
  /// data description for `data.csv`; a network with a `Sequential` inside.
  static func bases(in folder: URL) throws -> [Data] {
    let model = SavedModelLayerTests.everyKind()
    let url = folder.appendingPathComponent("base.st")
    try model.save(
      to: url, inputShape: [2, 6, 5],
      data: DataDescription(
        featureColumns: (0..<60).map { "f\($0)" }, featureMean: Array(repeating: 0.5, count: 60),
        featureStd: Array(repeating: 1.5, count: 60), labelColumn: "label",
        task: .classification, classes: ["a", "b"]))
    let (nested, shape, _, _) = SavedModelLayerTests.network("sequential")
    let nestedURL = folder.appendingPathComponent("nested.st")
    try nested.save(to: nestedURL, inputShape: shape)
    return [
      try SavedModelLayerTests.baseFile(), try SavedModelLayerTests.baseFile(embedding: true),
      try Data(contentsOf: url), try Data(contentsOf: nestedURL),
    ]
  }

  @Test func mutatedFilesOfEveryLayerKindLoadAndRunOrAreRefused() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try CLITests.write(Self.csv(), "data.csv", in: folder)
    let bases = try Self.bases(in: folder)
    var contents: [ModelEdit.Contents] = []
    for (index, bytes) in bases.enumerated() {
      let url = folder.appendingPathComponent("base\(index).st")
      try bytes.write(to: url)
      contents.append(try ModelEdit.read(url))
    }
    let environment = ModelFileFuzzTests.environment
    let seed = UInt64(environment("CHAINRULE_FUZZ_SEED") ?? "") ?? 20_261_215
    let budget = Double(environment("CHAINRULE_FUZZ_SECONDS") ?? "") ?? 2
    let only = Int(environment("CHAINRULE_FUZZ_CASE") ?? "")
    let current = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-layer-fuzz-current-case.txt")
    let start = Date()
    var (cases, loaded, refused, knownBad, executable, failures) = (0, 0, 0, 0, 0, 0)
    var index = only ?? 0
    while only == nil ? Date().timeIntervalSince(start) < budget || cases < 60 : cases < 1 {
      defer {
        index += 1
        cases += 1
      }
      var generator = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
      let which = Int(generator.next() % UInt64(bases.count))
      let (data, description, expectation) = try Self.mutate(
        bases[which], contents[which], using: &generator)
      let label = "seed \(seed), case \(index) (base \(which): \(description))"
      try Data(label.utf8).write(to: current)
      let url = folder.appendingPathComponent("case.st")
      try data.write(to: url)
      func fail(_ message: String) {
        failures += 1
        Issue.record("\(label): \(message)")
      }

      var saved: SavedModel<Float>?
      do {
        saved = try SavedModel<Float>.load(from: url)
        loaded += 1
      } catch {
        refused += 1
        let message = error.description
        if message.isEmpty
          || message.unicodeScalars.contains(where: {
            $0 != "\n" && $0.properties.generalCategory == .control
          })
        {
          fail("unclear refusal: \(message.debugDescription)")
        }
        if case .refuse(let field?) = expectation, !message.contains(field) {
          fail("refused without naming \(field): \(message)")
        }
        if case .load = expectation { fail("refused a valid file: \(message)") }
      }
      if case .refuse = expectation { knownBad += 1 }
      if let saved {
        if case .refuse = expectation { fail("accepted an invalid file") }
        for parameter in saved.model.parameters
          + saved.optimizerState.map({ Parameter($1, name: $0) })
        where !parameter.value.scalars.allSatisfy(\.isFinite) {
          fail("loaded non-finite values in \(parameter.name)")
        }
        // The stored input shape was checked against every layer: the network must run on
        // it (an embedding reads indices: zeros are valid ones).
        if let shape = saved.description.inputShape {
          let graph = Graph<Float>()
          let output = saved.model(graph.input(Tensor(shape: [2] + shape, repeating: 0)))
          let expected = try saved.description.exampleShapes().last ?? nil
          if let expected, output.shape != [2] + expected {
            fail("output \(output.shape), the description says [2] + \(expected)")
          }
        }
      }

      // The file with a data description: the predict loader agrees with the library on
      // what loads, and a subset runs through the executable.
      guard which == 2 else { continue }
      let predictor = try? ModelBundle.loadPredictor(url.path, as: Float.self)
      if predictor != nil && saved == nil {
        fail("loadPredictor accepted what the library refused")
      }
      if index % 10 == 0 || only != nil {
        executable += 1
        for arguments in [
          ["predict", "--model", "case.st", "--data", "data.csv", "--out", "p.csv"],
          ["summary", "case.st"],
        ] {
          let result = try CLITests.run(arguments, in: folder)
          // summary reads the description and decodes no tensor (a NaN weight is not its
          // business); predict loads everything.
          let verdict =
            arguments[0] == "predict"
            ? predictor != nil
            : (try? ModelDescription.read(from: SafeTensors.read(from: url))) != nil
          if result.status != 0
            && (result.status != 1 || !result.error.hasPrefix("chainrule: error: ")
              || result.error.filter({ $0 == "\n" }).count != 1)
          {
            fail(
              "chainrule \(arguments[0]) exited \(result.status): \(result.error.debugDescription)")
          }
          // predict may still refuse a loaded model whose outputs overflow on this data.
          if (result.status == 0) != verdict && (arguments[0] == "summary" || result.status == 0) {
            fail("chainrule \(arguments[0]) exited \(result.status), the loader said \(verdict)")
          }
        }
      }
      if failures > 20 { break }
    }
    try? FileManager.default.removeItem(at: current)
    print(
      "layer-file fuzz (seed \(seed), \(budget) s): \(cases) mutated files, \(loaded) loaded, "
        + "\(refused) refused (\(knownBad) known invalid), \(executable) through chainrule; "
        + "\(failures) failures, 0 traps")
    #expect(failures == 0)
  }

  /// One mutation of a base file.
  static func mutate(
    _ bytes: Data, _ contents: ModelEdit.Contents, using generator: inout SplitMix64
  ) throws -> (Data, String, ModelFileFuzzTests.Expectation) {
    switch generator.next() % 8 {
    case 0:  // flip 1–3 bits anywhere
      let (data, what) = ModelEdit.flippingBits(bytes, using: &generator)
      return (data, what, .either)
    case 1:  // truncate
      let (data, what) = ModelEdit.truncating(bytes, using: &generator)
      return (data, what, .refuse(nil))
    case 2:  // a tensor element set to a non-finite value
      var edited = contents
      let which = Int(generator.next() % UInt64(edited.tensors.count))
      var tensor = edited.tensors[which].tensor
      let element = Int(generator.next() % UInt64(tensor.count))
      let values: [Float] = [.nan, .infinity, -.infinity]
      let value = values[Int(generator.next() % 3)]
      tensor.withUnsafeMutableBufferPointer { $0[element] = value }
      edited.tensors[which].tensor = tensor
      let name = edited.tensors[which].name
      return (
        try ModelEdit.encode(edited), "\(name)[\(element)] = \(value)", .refuse("\"\(name)\"")
      )
    default:  // a field of the description set to an extreme value
      let key = ModelDescription.key
      let model = try JSONSerialization.jsonObject(with: Data(contents.metadata[key]!.utf8))
      let paths = ModelEdit.leaves(model)
      let path = paths[Int(generator.next() % UInt64(paths.count))]
      let raw = extremes[Int(generator.next() % UInt64(extremes.count))]
      let edited = try ModelEdit.setting(contents, key: key, path: path, raw: raw)
      let original = ModelEdit.value(model, at: path)
      let field = ModelEdit.describe(path)
      let verdict = LayerRules.valid(path: path, raw: raw, original: original, model: model)
      // A value that is well-formed but of the wrong size is refused where the shapes stop
      // chaining, which may be a later layer; a malformed one names its own layer.
      let place = LayerRules.record(path, in: model)
      let own = place?.text
      let name = place.map { "\(path[$0.fieldIndex])" } ?? ""
      let named =
        raw != "NaN" && place != nil
        && !(LayerRules.fixedByTensors.contains(name)
          || ["kind", "kernelSize", "layers"].contains(name))
      let expectation: ModelFileFuzzTests.Expectation =
        switch verdict {
        case true?: .load
        case false?: .refuse(named ? own : nil)
        case nil: .either
        }
      return (try ModelEdit.encode(edited), "\(field) = \(raw)", expectation)
    }
  }
}
