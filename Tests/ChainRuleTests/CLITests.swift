import Foundation
import Testing

@testable import ChainRule
@testable import ChainRuleCLI

/// Runs the real `chainrule` executable (built by `swift test`, since the test target depends
/// on it) in a fresh folder and inspects its output, exit status and files.
@Suite("chainrule command line")
struct CLITests {
  /// The built binary: next to the test bundle, or in the package's .build/debug.
  static let executable: URL = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let candidates =
      [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
      + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
      + [root.appendingPathComponent(".build/debug")]
    let found = candidates.map { $0.appendingPathComponent("chainrule") }.first {
      FileManager.default.isExecutableFile(atPath: $0.path)
    }
    return found ?? root.appendingPathComponent(".build/debug/chainrule")
  }()

  static let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Data/digits/digits.csv").path

  /// What one run printed and returned.
  struct Result {
    var status: Int32
    var output: String
    var error: String
  }

  /// A scratch folder, removed by the caller.
  static func folder() throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("chainrule-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Runs `chainrule arguments…` in `folder`, output captured through files (no pipe limits).
  @discardableResult
  static func run(_ arguments: [String], in folder: URL) throws -> Result {
    let child = try runChildProcess(executable, arguments, in: folder)
    return Result(status: child.status, output: child.output, error: child.error)
  }

  /// 90 rows of three features around three class centres, integer labels 0, 1, 2.
  static func classificationCSV() -> String {
    var generator = SplitMix64(seed: 7)
    var lines = ["f1,f2,f3,label"]
    for row in 0..<90 {
      let label = row % 3
      let centre = Double(label) * 2
      let f = (0..<3).map { _ in centre + generator.nextNormal() * 0.7 }
      lines.append(f.map { String(format: "%.4f", $0) }.joined(separator: ",") + ",\(label)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// 60 rows of y = 3a − 2b + 0.5 + noise: a regression label (not whole numbers).
  static func regressionCSV() -> String {
    var generator = SplitMix64(seed: 11)
    var lines = ["a,b,y"]
    for _ in 0..<60 {
      let a = generator.nextDouble(in: -2...2)
      let b = generator.nextDouble(in: 0...5)
      let y = 3 * a - 2 * b + 0.5 + generator.nextNormal() * 0.1
      lines.append(String(format: "%.5f,%.5f,%.5f", a, b, y))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func write(_ text: String, _ name: String, in folder: URL) throws -> String {
    try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    return name
  }

  // MARK: Help and demo

  @Test func helpListsEveryCommandAndEachCommandHasHelp() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let overview = try Self.run(["--help"], in: folder)
    #expect(overview.status == 0)
    for command in ["demo", "train", "predict", "gradcheck", "dot", "summary"] {
      #expect(overview.output.contains("  \(command) "), "\(command) missing from --help")
      for words in [[command, "--help"], [command, "-h"], ["help", command]] {
        let help = try Self.run(words, in: folder)
        #expect(help.status == 0 && help.error.isEmpty)
        #expect(help.output.hasPrefix("usage: chainrule"), "\(words)")
      }
    }
  }

  /// Word `index` of `line` (split at spaces) as a number, or a failed requirement naming the
  /// line: a child that printed something else fails the test instead of crashing the runner
  /// (every index into child output goes through here or a `#require` on the count).
  static func number(_ line: some StringProtocol, word index: Int) throws -> Double {
    let words = line.split(separator: " ")
    let word = try #require(
      index < words.count ? words[index < 0 ? words.count + index : index] : nil,
      "no word \(index) in \"\(line)\"")
    return try #require(Double(word), "word \(index) of \"\(line)\" is not a number")
  }

  /// Every gradient the graph printed equals the hand-derived formula printed beside it
  /// (evaluated by the demo from the forward values: an independent computation), the
  /// training loss falls, and the drawings are written.
  @Test func demoPrintsMatchingGradientsFallingLossAndFiles() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try Self.run(["demo", "--out", "drawings"], in: folder)
    try Self.checkDemo(result, drawings: folder.appendingPathComponent("drawings"))
  }

  /// A demo child that fails (here: a bad option; under a leak checker: exit 1 with no output)
  /// is reported as failed expectations, and the runner goes on.
  @Test func aFailingDemoChildIsAFailedExpectationNotACrash() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try Self.run(["demo", "--steps", "-5"], in: folder)
    #expect(result.status == 2 && result.output.isEmpty)
    withKnownIssue("the checks of a successful demo fail on a failed one, without trapping") {
      try Self.checkDemo(result, drawings: folder.appendingPathComponent("drawings"))
    }
  }

  /// The demo's checks; `result` may come from a failed child.
  static func checkDemo(_ result: Result, drawings: URL) throws {
    #expect(result.status == 0, "\(result.error)")
    let lines = result.output.split(separator: "\n").map(String.init)
    let gradients = lines.filter { $0.hasPrefix("  dL/d") }
    try #require(gradients.count == 5, "expected 5 gradient lines in \(result.output)")
    for line in gradients {
      let fromGraph = try number(line, word: 1)
      let fromFormula = try number(line, word: -1)
      #expect(abs(fromGraph - fromFormula) <= 1e-15, "\(line)")
    }
    // FORMULAS.md's value of dL/db[2] for the worked case.
    #expect(gradients[1].contains("-0.5261438092395341"))
    #expect(result.output.contains("factored: ∂L/∂w1[0, 0] = (a2 − y) · w2 · (1 − a1²) · x[0, 0]"))
    let losses = try lines.filter { $0.hasPrefix("  step ") }.map { try number($0, word: 3) }
    #expect(losses.count >= 5)
    #expect(zip(losses, losses.dropFirst()).allSatisfy { $0 > $1 }, "\(losses)")
    let dot = try String(
      contentsOf: drawings.appendingPathComponent("seed000.dot"), encoding: .utf8)
    #expect(dot.hasPrefix("digraph ChainRule {"))
    let plot = try String(contentsOf: drawings.appendingPathComponent("loss.svg"), encoding: .utf8)
    #expect(plot.contains("<polyline"))
    if Graphviz.isInstalled {
      #expect(
        FileManager.default.fileExists(atPath: drawings.appendingPathComponent("seed000.svg").path))
    } else {
      // Said, not silent: CI installs Graphviz and fails without it unless told otherwise.
      print("SKIPPED (part of the demo test): no Graphviz, so seed000.svg was not checked")
    }
  }

  // MARK: Train, predict, gradcheck, dot

  @Test func trainPrintsOneLinePerEpochAndSavesModelAndPlot() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try Self.write(Self.classificationCSV(), "blobs.csv", in: folder)
    let result = try Self.run(
      [
        "train", "--data", data, "--label", "label", "--hidden", "8", "--epochs", "6",
        "--batch-size", "16", "--save", "m.safetensors", "--plot", "loss.svg",
      ], in: folder)
    #expect(result.status == 0, "\(result.error)")
    #expect(result.error.isEmpty)  // not a terminal: no progress bar
    #expect(result.output.contains("classification of \"label\" (3 classes)"))
    let epochs = result.output.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
    #expect(epochs.count == 6)
    #expect(epochs.last?.hasPrefix("epoch 6/6  loss ") == true, "\(result.output)")
    #expect(epochs.allSatisfy { $0.contains("val_acc") && $0.contains("samples/s") })
    #expect(result.output.contains("final: train loss"))
    let file = try SafeTensors.read(from: folder.appendingPathComponent("m.safetensors"))
    #expect(file.names.contains("layer0.weight") && file.names.contains("layer1.bias"))
    #expect(file.info(named: "layer0.weight")?.shape == [3, 8])
    #expect(file.metadata["chainrule.model"]?.contains("\"featureMean\"") == true)
    let plot = try String(contentsOf: folder.appendingPathComponent("loss.svg"), encoding: .utf8)
    #expect(plot.components(separatedBy: "<polyline").count == 3)  // train and validation
  }

  /// Two epochs, save, resume for two more: bitwise the same file (weights, optimizer state,
  /// metadata) as four epochs straight; for Adam and for SGD with momentum.
  @Test(arguments: [["--optimizer", "adam"], ["--optimizer", "sgd", "--momentum", "0.9"]])
  func resumingIsBitwiseTheSameAsTrainingStraight(optimizer: [String]) throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try Self.write(Self.classificationCSV(), "blobs.csv", in: folder)
    let common = [
      "train", "--data", data, "--label", "label", "--hidden", "6,5", "--batch-size", "7",
    ]
    try #require(
      try Self.run(common + optimizer + ["--epochs", "4", "--save", "straight.st"], in: folder)
        .status == 0)
    try #require(
      try Self.run(common + optimizer + ["--epochs", "2", "--save", "part.st"], in: folder)
        .status == 0)
    let resumed = try Self.run(
      ["train", "--data", data, "--resume", "part.st", "--epochs", "2"], in: folder)
    #expect(resumed.status == 0, "\(resumed.error)")
    #expect(resumed.output.contains("resuming after epoch 2"))
    #expect(resumed.output.contains("epoch 4/4"))

    let straight = try SafeTensors.read(from: folder.appendingPathComponent("straight.st"))
    let twice = try SafeTensors.read(from: folder.appendingPathComponent("part.st"))
    #expect(straight.names == twice.names)
    #expect(straight.names.contains { $0.hasPrefix("optimizer.") })
    for name in straight.names {
      let a: Tensor<Float> = try straight.tensor(named: name)
      let b: Tensor<Float> = try twice.tensor(named: name)
      #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(name)")
    }
    #expect(straight.metadata == twice.metadata)
    let bytes = { (name: String) in try Data(contentsOf: folder.appendingPathComponent(name)) }
    #expect(try bytes("straight.st") == bytes("part.st"))
  }

  /// A linear model (no hidden layer) on a regression label: the predictions written by
  /// `predict` equal ((x − mean)/std)·W + b, rescaled by the label's std and mean, computed
  /// here from the file's tensors and metadata.
  @Test func predictMatchesTheModelComputedByHand() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try Self.write(Self.regressionCSV(), "line.csv", in: folder)
    let train = try Self.run(
      ["train", "--data", data, "--label", "y", "--hidden", "none", "--epochs", "40"], in: folder)
    #expect(train.status == 0, "\(train.error)")
    #expect(train.output.hasPrefix("regression of \"y\""))
    let predict = try Self.run(
      ["predict", "--model", "model.safetensors", "--data", data, "--out", "p.csv"], in: folder)
    #expect(predict.status == 0, "\(predict.error)")
    #expect(predict.error.contains("RMSE"))

    let file = try SafeTensors.read(from: folder.appendingPathComponent("model.safetensors"))
    let w: Tensor<Float> = try file.tensor(named: "layer0.weight")
    let b: Tensor<Float> = try file.tensor(named: "layer0.bias")
    try #require(w.shape == [2, 1] && b.shape == [1], "shapes \(w.shape), \(b.shape)")
    struct Spec: Decodable {
      var featureMean: [Double]
      var featureStd: [Double]
      var labelMean: Double
      var labelStd: Double
    }
    struct Description: Decodable { var data: Spec }
    let spec = try JSONDecoder().decode(
      Description.self, from: Data(try #require(file.metadata["chainrule.model"]).utf8)
    ).data
    try #require(spec.featureMean.count == 2 && spec.featureStd.count == 2)
    let rows = try CSVTable(contentsOf: folder.appendingPathComponent(data)).rows
    let written = try String(contentsOf: folder.appendingPathComponent("p.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(written.first == "prediction")
    #expect(written.count == rows.count + 1)
    var squaredError = 0.0
    for (row, line) in zip(rows, written.dropFirst()) {
      let z0 = Float((row[0] - spec.featureMean[0]) / spec.featureStd[0])
      let z1 = Float((row[1] - spec.featureMean[1]) / spec.featureStd[1])
      let out = z0 * w[0, 0] + z1 * w[1, 0] + b[0]
      let expected = Double(out) * spec.labelStd + spec.labelMean
      let predicted = try #require(Double(line), "\(line) is not a number")
      #expect(abs(predicted - expected) <= 1e-4 * max(1, abs(expected)), "\(line) vs \(expected)")
      squaredError += (expected - row[2]) * (expected - row[2])
    }
    // y is linear in (a, b) with noise 0.1: the fitted line is close.
    #expect((squaredError / Double(rows.count)).squareRoot() < 0.5)
  }

  @Test func predictGradcheckAndDotOnATrainedClassifier() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try Self.write(Self.classificationCSV(), "blobs.csv", in: folder)
    #expect(
      try Self.run(
        [
          "train", "--data", data, "--label", "label", "--hidden", "5", "--epochs", "3",
          "--activation", "tanh",
        ], in: folder
      ).status == 0)

    let predict = try Self.run(
      ["predict", "--model", "model.safetensors", "--data", data], in: folder)
    #expect(predict.status == 0, "\(predict.error)")
    let rows = predict.output.split(separator: "\n")
    #expect(rows.first == "prediction,p_0,p_1,p_2")
    #expect(rows.count == 91)
    for row in rows.dropFirst() {
      let fields = try row.split(separator: ",").map {
        try #require(Double($0), "\(row) holds a field that is not a number")
      }
      try #require(fields.count == 4, "\(row) should have a prediction and 3 probabilities")
      let probabilities = Array(fields.dropFirst())
      #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
      let best = try #require(probabilities.indices.max { probabilities[$0] < probabilities[$1] })
      #expect(fields[0] == Double(best))
    }
    #expect(predict.error.contains("accuracy"))

    let check = try Self.run(
      ["gradcheck", "--model", "model.safetensors", "--data", data, "--rows", "5"],
      in: folder)
    #expect(check.status == 0, "\(check.error)")
    #expect(check.output.contains("Gradient check of loss"))
    #expect(check.output.contains("layer0.weight") && check.output.contains("layer1.bias"))
    #expect(check.output.contains("passed: 4 of 4 nodes"))

    let dot = try Self.run(
      ["dot", "--model", "model.safetensors", "--data", data, "--out", "g.dot"], in: folder)
    #expect(dot.status == 0, "\(dot.error)")
    let text = try String(contentsOf: folder.appendingPathComponent("g.dot"), encoding: .utf8)
    #expect(text.hasPrefix("digraph ChainRule {"))
    #expect(text.contains("layer0.weight") && text.contains("(loss)"))
  }

  // MARK: Bad input

  /// Each bad command line or file: exactly one line on standard error, `chainrule: error: `
  /// and what was wrong, nothing on standard output, the expected exit status, no crash.
  @Test(
    arguments: [
      (["train", "--data", "missing.csv", "--label", "label"], "missing.csv: no such file", 1),
      (["train", "--data", "letters.csv", "--label", "label"], "line 3, column 2 (\"f2\")", 1),
      (["train", "--data", "short.csv", "--label", "label"], "line 4: has 2 fields", 1),
      (["train", "--data", "blobs.csv", "--label", "colour"], "has no column \"colour\"", 1),
      (["train", "--data", "blobs.csv"], "--label is required", 2),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--epocs", "3"],
        "did you mean --epochs?", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--epochs", "0"], "--epochs must be", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--lr", "fast"],
        "--lr must be a number", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--hidden", "8,x"], "--hidden must be",
        2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--activation", "swish"],
        "relu|tanh|sigmoid", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--validation", "0.95"],
        "--validation", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--epochs"], "--epochs needs a value",
        2
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "stray"],
        "unexpected argument \"stray\"", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--resume", "model.safetensors", "--hidden", "4"],
        "cannot be given with --resume", 2
      ),
      (
        ["train", "--data", "blobs.csv", "--resume", "garbage.safetensors"], "garbage.safetensors",
        1
      ),
      (
        ["train", "--data", "blobs.csv", "--label", "label", "--plot", "loss.jpg"],
        "--plot loss.jpg: the name ends in .jpg; --plot writes .svg, .png", 1
      ),
      (
        ["predict", "--model", "garbage.safetensors", "--data", "blobs.csv"],
        "garbage.safetensors: ", 1
      ),
      (
        ["predict", "--model", "blobs.csv", "--data", "blobs.csv"], "not a safetensors model file",
        1
      ),
      (
        ["predict", "--model", "plain.safetensors", "--data", "blobs.csv"], "not a chainrule model",
        1
      ),
      (["predict", "--model", "missing.safetensors", "--data", "blobs.csv"], "no such file", 1),
      (
        ["predict", "--model", "model.safetensors", "--data", "other.csv"], "has no column \"f1\"",
        1
      ),
      (
        ["predict", "--model", "model.safetensors", "--data", "blobs.csv", "--out", "nope/p.csv"],
        "does not exist", 1
      ),
      (
        ["gradcheck", "--model", "model.safetensors", "--data", "letters.csv"],
        "is not a finite number", 1
      ),
      (["dot", "--model", "model.safetensors", "--out", "nope/g.dot"], "does not exist", 1),
      (["dot"], "--model is required", 2),
      (["trian"], "unknown command \"trian\" (did you mean train?)", 2),
      (["demo", "--steps", "-5"], "--steps must be", 2),
    ] as [([String], String, Int32)])
  func badInputIsOneLineOnStandardError(arguments: [String], message: String, status: Int32)
    throws
  {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try Self.write(Self.classificationCSV(), "blobs.csv", in: folder)
    _ = try Self.write("f1,f2,f3,label\n1,2,3,0\n4,x,6,1\n", "letters.csv", in: folder)
    _ = try Self.write("f1,f2,f3,label\n1,2,3,0\n4,5,6,1\n7,8\n", "short.csv", in: folder)
    _ = try Self.write("a,b,label\n1,2,0\n", "other.csv", in: folder)
    _ = try Self.write("this is not a model", "garbage.safetensors", in: folder)
    try SafeTensors.write(
      [(name: "w", tensor: Tensor<Float>([1, 2]))],
      to: folder.appendingPathComponent("plain.safetensors"))
    if arguments.contains("model.safetensors") {
      try #require(
        try Self.run(
          ["train", "--data", "blobs.csv", "--label", "label", "--hidden", "4", "--epochs", "1"],
          in: folder
        ).status == 0)
    }
    let before = try? Data(contentsOf: folder.appendingPathComponent("model.safetensors"))

    let result = try Self.run(arguments, in: folder)
    #expect(result.status == status, "\(arguments): \(result.error)")
    #expect(result.output.isEmpty, "\(arguments) printed \(result.output)")
    #expect(result.error.hasPrefix("chainrule: error: "), "\(result.error)")
    #expect(result.error.contains(message), "\(result.error)")
    #expect(result.error.filter { $0 == "\n" }.count == 1, "\(result.error)")
    // A failed command never touches an existing model file.
    #expect((try? Data(contentsOf: folder.appendingPathComponent("model.safetensors"))) == before)
  }
}

/// Damaged model files and awkward CSVs through the real executable: each refused before any
/// work with one line naming the file and the field, tensor, line or column.
@Suite("chainrule command line: damaged files")
struct CLIDamagedFileTests {
  /// A model trained by `chainrule train` (Adam, hidden 4) on `blobs.csv`, in a fresh folder.
  static func trained(_ extra: [String] = []) throws -> URL {
    let folder = try CLITests.folder()
    _ = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let result = try CLITests.run(
      ["train", "--data", "blobs.csv", "--label", "label", "--hidden", "4", "--epochs", "2"]
        + extra, in: folder)
    try #require(result.status == 0, "\(result.error)")
    return folder
  }

  /// Runs `arguments` and requires a refusal: exit 1, one line, `chainrule: error: `, the
  /// expected text, nothing on standard output.
  static func expectRefusal(_ arguments: [String], in folder: URL, _ expected: String) throws {
    let result = try CLITests.run(arguments, in: folder)
    #expect(result.status == 1, "\(arguments): \(result.error)")
    #expect(result.output.isEmpty || arguments[0] == "train", "\(result.output)")
    #expect(result.error.hasPrefix("chainrule: error: "), "\(result.error)")
    #expect(result.error.filter { $0 == "\n" }.count == 1, "\(result.error.debugDescription)")
    #expect(result.error.contains(expected), "expected \(expected) in \(result.error)")
    #expect(!result.error.contains("diverged"), "\(result.error)")
  }

  /// Each trap and each wrong acceptance listed in issue 11, with the field it must name.
  @Test(
    arguments: [
      (ModelBundle.trainingKey, "batchSize", "0", #"field "batchSize" is 0; must be ≥ 1"#),
      (ModelBundle.trainingKey, "batchSize", "-1", #"field "batchSize" is -1; must be ≥ 1"#),
      (
        ModelBundle.trainingKey, "batchSize", "9223372036854775807",
        #"field "batchSize" is 9223372036854775807; must be ≤ 1000000"#
      ),
      (
        ModelBundle.trainingKey, "validation", "-0.5", #"field "validation" is -0.5; must be ≥ 0"#
      ),
      (ModelBundle.trainingKey, "validation", "5", #"field "validation" is 5.0; must be ≤ 0.9"#),
      (
        ModelBundle.trainingKey, "validation", "1.0", #"field "validation" is 1.0; must be ≤ 0.9"#
      ),
      (ModelBundle.trainingKey, "validation", "1e308", #"field "validation" is 1e+308"#),
      (ModelBundle.trainingKey, "epochs", "-1", #"field "epochs" is -1; must be ≥ 1"#),
      (
        ModelBundle.trainingKey, "epochs", "9223372036854775807",
        #"field "epochs" is 9223372036854775807; must equal the number of records in "history" (2)"#
      ),
      (
        ModelBundle.trainingKey, "stepCount", "9223372036854775807",
        #"field "stepCount" is 9223372036854775807; must be ≤ 8589934592"#
      ),
      (
        ModelBundle.trainingKey, "learningRate", "0",
        #"field "learningRate" is 0.0; must be ≥ 1e-12"#
      ),
      (ModelBundle.trainingKey, "learningRate", "-0.01", #"field "learningRate" is -0.01"#),
      (
        ModelBundle.trainingKey, "momentum", "-1",
        #"field "momentum" is -1.0; must be 0 for adam"#
      ),
      (
        ModelBundle.trainingKey, "seed", "1e400", #"field "seed": 1e400 is not in UInt64's range"#
      ),
      (
        ModelBundle.modelKey, "layers.0.outputSize", "100000000",
        #"field "layers[1].inputSize" is 4; layers[0] outputs 100000000"#
      ),
      (
        ModelBundle.modelKey, "layers.0.outputSize", "4611686018427387904",
        #"field "layers[0].outputSize" is 4611686018427387904; a model file holds sizes up to"#
      ),
      (
        ModelBundle.modelKey, "data.featureStd.1", "-1",
        #"field "data.featureStd[1]" is -1.0; must be a standard deviation"#
      ),
      (ModelBundle.modelKey, "data.featureStd.1", "0", #"field "data.featureStd[1]" is 0.0"#),
      (
        ModelBundle.modelKey, "data.featureMean.2", "1e400",
        #"field "data.featureMean[2]": 1e400 is beyond Double's range"#
      ),
      (
        ModelBundle.modelKey, "data.classes.1", "\"0\"",
        #"field "data.classes[1]" is "0"; must differ from every other class"#
      ),
      (
        ModelBundle.modelKey, "data.featureColumns.1", "\"f1\"",
        #"field "data.featureColumns[1]" is "f1"; must differ"#
      ),
      (
        ModelBundle.modelKey, "data.labelColumn", "\"a\\rb\"",
        #"field "data.labelColumn" is "a\rb"; must be a CSV column name"#
      ),
    ] as [(String, String, String, String)])
  func aDamagedFieldIsRefusedByName(key: String, path: String, raw: String, message: String)
    throws
  {
    let path: [Any] = path.split(separator: ".").map { Int($0).map { $0 as Any } ?? String($0) }
    let folder = try Self.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let edited = try ModelEdit.setting(try ModelEdit.read(url), key: key, path: path, raw: raw)
    try ModelEdit.encode(edited).write(to: folder.appendingPathComponent("bad.st"))
    try Self.expectRefusal(
      ["train", "--resume", "bad.st", "--data", "blobs.csv", "--epochs", "1"], in: folder,
      message)
    try Self.expectRefusal(
      ["predict", "--model", "bad.st", "--data", "blobs.csv"], in: folder, message)
    // Nothing was saved over the damaged file.
    #expect(
      try ModelEdit.encode(edited) == Data(contentsOf: folder.appendingPathComponent("bad.st")))
  }

  /// ReLU(NaN) = 0 would keep the loss finite: a NaN weight must be refused, naming the
  /// tensor and element, by predict and by resume (which would otherwise save it again).
  @Test(arguments: [Float.nan, .infinity, -.infinity])
  func aNonFiniteWeightIsRefusedNamingTheTensor(value: Float) throws {
    let folder = try Self.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    var contents = try ModelEdit.read(folder.appendingPathComponent("model.safetensors"))
    let index = try #require(contents.tensors.firstIndex { $0.name == "layer0.weight" })
    contents.tensors[index].tensor.withUnsafeMutableBufferPointer { $0[5] = value }  // [1, 1]
    try ModelEdit.encode(contents).write(to: folder.appendingPathComponent("bad.st"))
    let expected = "bad.st: tensor \"layer0.weight\" holds \(value) at [1, 1]"
    try Self.expectRefusal(
      ["predict", "--model", "bad.st", "--data", "blobs.csv"], in: folder, expected)
    try Self.expectRefusal(
      ["train", "--resume", "bad.st", "--data", "blobs.csv", "--save", "out.st"], in: folder,
      expected)
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.st").path))
  }

  @Test func aNegativeAdamSecondMomentIsRefused() throws {
    let folder = try Self.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    var contents = try ModelEdit.read(folder.appendingPathComponent("model.safetensors"))
    let index = try #require(contents.tensors.firstIndex { $0.name == "optimizer.layer1.bias.v" })
    contents.tensors[index].tensor.withUnsafeMutableBufferPointer { $0[0] = -0.5 }
    try ModelEdit.encode(contents).write(to: folder.appendingPathComponent("bad.st"))
    try Self.expectRefusal(
      ["train", "--resume", "bad.st", "--data", "blobs.csv"], in: folder,
      "tensor \"optimizer.layer1.bias.v\" holds -0.5 at [0]; Adam's second moment v is never negative"
    )
  }

  /// Finite weights too large for the data make the first loss infinite before any update:
  /// that is the file's fault, and the message says so instead of "try a smaller --lr".
  @Test func hugeWeightsAreBlamedOnTheFileNotTheLearningRate() throws {
    let folder = try Self.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    var contents = try ModelEdit.read(folder.appendingPathComponent("model.safetensors"))
    for index in contents.tensors.indices where contents.tensors[index].name.hasSuffix("weight") {
      contents.tensors[index].tensor = contents.tensors[index].tensor.map { $0 * 3e37 }
    }
    try ModelEdit.encode(contents).write(to: folder.appendingPathComponent("bad.st"))
    try Self.expectRefusal(
      ["train", "--resume", "bad.st", "--data", "blobs.csv"], in: folder,
      "bad.st: the model's loss is")
    let result = try CLITests.run(
      ["train", "--resume", "bad.st", "--data", "blobs.csv"], in: folder)
    #expect(result.error.contains("before any update"), "\(result.error)")
    // predict refuses the overflowing output instead of printing NaN probabilities.
    try Self.expectRefusal(
      ["predict", "--model", "bad.st", "--data", "blobs.csv"], in: folder, "the model's output is")
  }

  /// A column of ±1e308 overflows the mean or variance: refused before training, naming it.
  @Test func aColumnTooLargeToStandardiseIsRefusedByName() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let rows = (0..<20).map { "\($0 % 2 == 0 ? "1e308" : "-1e308"),\(Double($0) / 10),\($0 % 2)" }
    _ = try CLITests.write(
      (["big,small,label"] + rows).joined(separator: "\n"), "big.csv", in: folder)
    try Self.expectRefusal(
      ["train", "--data", "big.csv", "--label", "label", "--validation", "0"], in: folder,
      "big.csv: column 1 (\"big\") has values up to ±1e+308, too large to standardise")
    #expect(
      !FileManager.default.fileExists(
        atPath: folder.appendingPathComponent("model.safetensors").path))
  }

  /// A value far outside what the model was trained on standardises beyond Float: predict
  /// names its line and column instead of printing NaN.
  @Test func aValueBeyondFloatAfterStandardisingIsRefusedByLine() throws {
    let folder = try Self.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try CLITests.write("f1,f2,f3\n1,2,3\n1,1e300,3\n", "far.csv", in: folder)
    try Self.expectRefusal(
      ["predict", "--model", "model.safetensors", "--data", "far.csv"], in: folder,
      "far.csv, line 3, column 2 (\"f2\"): 1e+300 standardises to")
  }

  /// Bytes that are not UTF-8 are located; a raw carriage return or escape sequence in a
  /// field is shown escaped, so the message stays one line and cannot drive the terminal.
  @Test func awkwardBytesInACSVAreLocatedAndEscaped() throws {
    let folder = try Self.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    try (Data("f1,f2,f3,label\n1,2,3,0\n1,".utf8) + Data([0xE9]) + Data(",3,1\n".utf8)).write(
      to: folder.appendingPathComponent("latin1.csv"))
    try Self.expectRefusal(
      ["train", "--data", "latin1.csv", "--label", "label"], in: folder,
      "latin1.csv, line 3 (byte offset 25): is not valid UTF-8 (byte 0xE9)")
    _ = try CLITests.write("f1,f2,f3,label\n1,2\r9,3,0\n1,\u{1B}[2J,3,1\n", "cr.csv", in: folder)
    try Self.expectRefusal(
      ["predict", "--model", "model.safetensors", "--data", "cr.csv"], in: folder,
      #"cr.csv, line 2, column 2 ("f2"): "2\r9" is not a finite number"#)
    _ = try CLITests.write("f1,f2,f3,label\n1,2,3,0\n1\0abc,2,3,1\n", "nul.csv", in: folder)
    try Self.expectRefusal(
      ["train", "--data", "nul.csv", "--label", "label"], in: folder,
      #""1\0abc" is not a finite number"#)
  }
}
