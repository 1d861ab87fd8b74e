import Foundation
import Testing

@testable import ChainRule
@testable import ChainRuleCLI

/// Issue 16's problems, each through the real `chainrule` executable or the public API: CSV
/// files as people have them, outputs named by what they are, a gradient check that cannot
/// pass vacuously, a progress line that fits, and one model file for library and CLI.
@Suite("chainrule on real data")
struct RealDataCLITests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let iris = root.appendingPathComponent("Data/iris/iris.csv").path
  static let legacy = root.appendingPathComponent("Tests/ChainRuleTests/Snapshots/legacy")

  static func run(_ arguments: [String], in folder: URL) throws -> CLITests.Result {
    try CLITests.run(arguments, in: folder)
  }

  static func text(_ name: String, in folder: URL) throws -> String {
    try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
  }

  static func exists(_ name: String, in folder: URL) -> Bool {
    FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
  }

  // MARK: CSV

  /// RFC 4180: a BOM, CRLF, quoted fields with commas, doubled quotes and a line break; the
  /// record after the multi-line one starts on line 5.
  @Test func quotedFieldsCommasQuotesLineBreaksCRLFAndBOM() throws {
    let text =
      "\u{FEFF}\"size, cm\",\"note\",label\r\n1.5,\"say \"\"hi\"\"\",a\r\n"
      + "2,\"two\r\nlines\",\"b, c\"\r\n 3 , \"\" ,a\r\n"
    let table = try CSVTable(parsing: text, source: "q.csv")
    #expect(table.columns == ["size, cm", "note", "label"])
    #expect(
      table.cells == [["1.5", "say \"hi\"", "a"], ["2", "two\r\nlines", "b, c"], ["3", "", "a"]])
    #expect(table.lines == [2, 3, 5])
    #expect(try table.numbers(inColumn: 0) == [1.5, 2, 3])
    #expect(table.classNames(inColumn: 2) == ["a", "b, c"])
    #expect(throws: CSVError.self) { try table.rows }  // "say \"hi\"" is not a number
    #expect(
      CSVTable.field("b, c") == "\"b, c\"" && CSVTable.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
  }

  /// A quoted header names its columns without the quotes: the label is found, and a missing
  /// one is listed beside the real names (today: `has no column "label" (columns: "a", …)`).
  @Test func aQuotedHeaderIsReadAndAMissingColumnIsListedConsistently() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let body = CLITests.classificationCSV().split(separator: "\n").dropFirst()
    let csv = (["\"f1\",\"f2\",\"f3\",\"label\""] + body).joined(separator: "\n") + "\n"
    _ = try CLITests.write(csv, "quoted.csv", in: folder)
    let ok = try Self.run(
      ["train", "--data", "quoted.csv", "--label", "label", "--epochs", "1"], in: folder)
    #expect(ok.status == 0, "\(ok.error)")
    let missing = try Self.run(
      ["train", "--data", "quoted.csv", "--label", "colour", "--epochs", "1"], in: folder)
    #expect(missing.status == 1)
    #expect(
      missing.error.contains(
        #"quoted.csv, line 1: has no column "colour" (columns: "f1", "f2", "f3", "label")"#),
      "\(missing.error)")
  }

  /// Iris with the species as text: one command trains, one predicts names; the class names
  /// are in the model file (and in `summary`).
  @Test func irisWithStringLabelsTrainsAndPredictsNames() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let train = try Self.run(
      ["train", "--data", Self.iris, "--label", "species", "--epochs", "40", "--save", "iris.st"],
      in: folder)
    #expect(train.status == 0, "\(train.error)")
    #expect(train.output.contains("classification of \"species\" (3 classes)"))
    let predict = try Self.run(
      ["predict", "--model", "iris.st", "--data", Self.iris, "--out", "p.csv"], in: folder)
    #expect(predict.status == 0, "\(predict.error)")
    let lines = try Self.text("p.csv", in: folder).split(separator: "\n")
    #expect(lines.first == "prediction,p_setosa,p_versicolor,p_virginica")
    let truth = try CSVTable(contentsOf: URL(fileURLWithPath: Self.iris)).cells.map { $0[4] }
    try #require(lines.count == 151)
    let predicted = lines.dropFirst().map { String($0.split(separator: ",")[0]) }
    let correct = zip(predicted, truth).filter { $0 == $1 }.count
    #expect(Set(predicted).isSubset(of: ["setosa", "versicolor", "virginica"]))
    #expect(correct >= 135, "\(correct) of 150 correct")
    #expect(predict.error.contains("accuracy \(correct)/150"), "\(predict.error)")
    let saved = try SavedModel<Float>.load(from: folder.appendingPathComponent("iris.st"))
    #expect(saved.description.data?.classes == ["setosa", "versicolor", "virginica"])
    let summary = try Self.run(["summary", "iris.st"], in: folder)
    #expect(summary.status == 0, "\(summary.error)")
    #expect(summary.output.contains(#"3 classes: "setosa", "versicolor", "virginica""#))
  }

  /// A file without a header: columns are numbers, `--label 5`; predict needs `--no-header`
  /// too and says so when it is missing.
  @Test func aFileWithoutAHeaderUsesColumnNumbers() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let body = try String(contentsOfFile: Self.iris, encoding: .utf8).split(separator: "\n")
      .dropFirst().joined(separator: "\n")
    _ = try CLITests.write(body + "\n", "bare.csv", in: folder)
    let train = try Self.run(
      ["train", "--data", "bare.csv", "--no-header", "--label", "5", "--epochs", "2"], in: folder)
    #expect(train.status == 0, "\(train.error)")
    #expect(train.output.contains("classification of \"5\" (3 classes) from 4 features"))
    let predict = try Self.run(
      ["predict", "--model", "model.safetensors", "--data", "bare.csv", "--no-header"], in: folder)
    #expect(predict.status == 0, "\(predict.error)")
    #expect(predict.output.split(separator: "\n").count == 151)
    let without = try Self.run(
      ["predict", "--model", "model.safetensors", "--data", "bare.csv"], in: folder)
    #expect(without.status == 1)
    #expect(without.error.contains("pass --no-header"), "\(without.error)")
    let wrong = try Self.run(
      ["train", "--data", "bare.csv", "--no-header", "--label", "species"], in: folder)
    #expect(wrong.error.contains("the file has no header; columns are numbered 1…5"))
  }

  /// An empty cell is named by line, column and column name; `--drop-missing` leaves the row
  /// out and says how many.
  @Test func emptyCellsAreReportedOrDropped() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var lines = CLITests.classificationCSV().split(separator: "\n").map(String.init)
    lines[3] = "1.0,,2.0,0"  // line 4
    _ = try CLITests.write(lines.joined(separator: "\n") + "\n", "holes.csv", in: folder)
    let refused = try Self.run(
      ["train", "--data", "holes.csv", "--label", "label", "--epochs", "1"], in: folder)
    #expect(refused.status == 1)
    #expect(
      refused.error.contains(
        #"holes.csv, line 4, column 2 ("f2"): the cell is empty; fill it in (train --drop-missing leaves such rows out)"#
      ), "\(refused.error)")
    let dropped = try Self.run(
      ["train", "--data", "holes.csv", "--label", "label", "--epochs", "1", "--drop-missing"],
      in: folder)
    #expect(dropped.status == 0, "\(dropped.error)")
    #expect(dropped.error.contains("--drop-missing left out 1 row with empty cells (line 4)"))
    #expect(dropped.output.contains("71 training rows, 18 validation rows"), "\(dropped.output)")
  }

  // MARK: Outputs named by what they are

  /// `dot --out` writes what the extension says (PNG and PDF by their magic bytes), and
  /// refuses an extension it cannot honour before any work.
  @Test func dotWritesTheFormatItsExtensionNames() throws {
    let folder = try CLIDamagedFileTests.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    let refused = try Self.run(["dot", "--model", "missing.st", "--out", "g.jpg"], in: folder)
    #expect(refused.status == 1)
    #expect(
      refused.error.contains(
        "--out g.jpg: the name ends in .jpg; --out writes .dot, .svg, .png, .pdf"),
      "\(refused.error)")  // refused before the (missing) model is read
    let dot = try Self.run(["dot", "--model", "model.safetensors", "--out", "g.dot"], in: folder)
    #expect(dot.status == 0)
    #expect(try Self.text("g.dot", in: folder).hasPrefix("digraph"))
    guard Graphviz.isInstalled else {
      Issue.record("Graphviz `dot` is not installed: .svg, .png and .pdf drawings were not checked")
      return
    }
    let signatures: [(String, [UInt8])] = [
      ("g.png", [0x89, 0x50, 0x4E, 0x47]), ("g.pdf", Array("%PDF".utf8)),
    ]
    for (name, magic) in signatures {
      let result = try Self.run(["dot", "--model", "model.safetensors", "--out", name], in: folder)
      #expect(result.status == 0, "\(result.error)")
      let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
      #expect(Array(bytes[..<min(4, bytes.count)]) == magic, "\(name)")
    }
    let svg = try Self.run(["dot", "--model", "model.safetensors", "--out", "g.svg"], in: folder)
    #expect(svg.status == 0)
    #expect(try Self.text("g.svg", in: folder).contains("<svg"))
  }

  /// `train --plot` refuses a `.jpg` before training (no model saved) and writes a real PNG
  /// where rsvg-convert is present.
  @Test func trainPlotWritesSVGOrPNGAndRefusesOthersBeforeTraining() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let common = ["train", "--data", data, "--label", "label", "--epochs", "2"]
    let refused = try Self.run(common + ["--plot", "loss.jpg"], in: folder)
    #expect(refused.status == 1 && refused.output.isEmpty)
    #expect(refused.error.contains("--plot writes .svg, .png"))
    #expect(!Self.exists("model.safetensors", in: folder))
    let png = try Self.run(common + ["--plot", "loss.png"], in: folder)
    if OutputFormat.rsvgConvert != nil {
      #expect(png.status == 0, "\(png.error)")
      let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent("loss.png")))
      #expect(Array(bytes[..<min(4, bytes.count)]) == [0x89, 0x50, 0x4E, 0x47])
    } else {
      #expect(png.status == 1 && png.error.contains("rsvg-convert"))
      #expect(!Self.exists("model.safetensors", in: folder))
    }
  }

  // MARK: Gradient check

  /// Iris is sorted by species: the first rows are all setosa. The sample is stratified (two
  /// rows of each class here), the tolerances and step are the ones given, and a check in
  /// which nothing is above atol is vacuous and fails, never reads ok.
  @Test func gradcheckSamplesRowsByClassAndNeverPassesVacuously() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try #require(
      try Self.run(
        ["train", "--data", Self.iris, "--label", "species", "--epochs", "5", "--hidden", "6"],
        in: folder
      ).status == 0)
    let model = ["gradcheck", "--model", "model.safetensors", "--data", Self.iris]
    let check = try Self.run(model + ["--rows", "6", "--seed", "3", "--eps", "1e-5"], in: folder)
    #expect(check.status == 0, "\(check.error)")
    #expect(check.output.contains("rows per class: setosa 2, versicolor 2, virginica 2"))
    #expect(check.output.contains("eps = 1.0e-05"))
    #expect(check.output.contains("passed: 4 of 4 nodes"), "\(check.output)")
    let vacuous = try Self.run(model + ["--atol", "1000", "--rtol", "0"], in: folder)
    #expect(vacuous.status == 1)
    #expect(vacuous.output.contains("VACUOUS"), "\(vacuous.output)")
    let results = vacuous.output.split(separator: "\n").filter { $0.hasPrefix("layer") }
    #expect(results.count == 4 && results.allSatisfy { $0.hasSuffix("vacuous") }, "\(results)")
    #expect(vacuous.error.contains("gradient check was vacuous"), "\(vacuous.error)")
  }

  // MARK: Progress and durations

  /// The progress line at 40, 80 and 120 columns: never wider than the terminal, the ETA
  /// whole, the bar shrinking before fields go.
  @Test(arguments: [40, 80, 120])
  func theProgressLineFits(columns: Int) {
    let line = Progress.line(
      epoch: "3/10", batch: 12, of: 40, loss: 0.123456, accuracy: 0.875, throughput: 12345,
      remaining: 0.8, width: columns - 1)
    #expect(line.count <= columns - 1, "\(line)")
    #expect(line.hasPrefix("epoch 3/10") && line.hasSuffix("ETA 800 ms"), "\(line)")
    #expect(line.contains("12/40") && line.contains("loss 0.1235"), "\(line)")
    if columns >= 80 { #expect(line.contains("acc 87.5%") && line.contains("12345 samples/s")) }
    if columns >= 120 { #expect(line.contains(String(repeating: "·", count: 14))) }  // 20 cells
    if columns == 80 {
      #expect(line.contains("█") && !line.contains(String(repeating: "·", count: 14)))
    }
  }

  @Test func durationsShowMillisecondsForFastRuns() {
    #expect(Format.duration(0.0123) == "12 ms")
    #expect(Format.duration(0.8) == "800 ms")
    #expect(Format.duration(4.25) == "4.2 s" || Format.duration(4.25) == "4.3 s")
    #expect(Format.duration(187) == "3:07")
  }

  /// Runs `chainrule train` under a real pseudo-terminal of `columns` columns (Python's `pty`
  /// module) and checks every progress line drawn on it.
  @Test(arguments: [40, 80, 120])
  func theProgressBarFitsARealTerminal(columns: Int) throws {
    guard
      let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
      })
    else {
      // Said loudly; a failure, not a skip, so CI (which has python3) never passes quietly.
      Issue.record("python3 not found: the progress bar was NOT tested under a pseudo-terminal")
      return
    }
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let script = """
      import fcntl, os, pty, struct, sys, termios
      columns, out = int(sys.argv[1]), sys.argv[2]
      pid, fd = pty.fork()
      if pid == 0:
          fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
          os.execv(sys.argv[3], sys.argv[3:])
      chunks = []
      while True:
          try:
              chunk = os.read(fd, 65536)
          except OSError:
              break
          if not chunk:
              break
          chunks.append(chunk)
      _, status = os.waitpid(pid, 0)
      open(out, "wb").write(b"".join(chunks))
      sys.exit(os.waitstatus_to_exitcode(status))
      """
    try script.write(
      to: folder.appendingPathComponent("ttyrun.py"), atomically: true, encoding: .utf8)
    let child = try runChildProcess(
      URL(fileURLWithPath: python),
      [
        "ttyrun.py", "\(columns)", "tty.txt", CLITests.executable.path, "train", "--data", data,
        "--label", "label", "--epochs", "3", "--batch-size", "4",
      ], in: folder)
    #expect(child.status == 0, "\(child.error)")
    let screen = try Self.text("tty.txt", in: folder)
    // Each redraw starts with "\r ESC[2K"; a progress line runs to the next redraw, while an
    // epoch's summary line (standard output, allowed to wrap) ends in a line break.
    let drawn = screen.components(separatedBy: "\r\u{1B}[2K").dropFirst()
      .filter { !$0.isEmpty && !$0.contains("\n") && !$0.contains("\r") }
    try #require(!drawn.isEmpty, "no progress line was drawn: \(screen.debugDescription)")
    for line in drawn {
      #expect(line.count <= columns - 1, "\(line.count) > \(columns - 1): \(line)")
      #expect(line.hasPrefix("epoch "), "\(line)")
      let eta = try #require(line.range(of: "ETA "), "no ETA in \(line)")
      let value = line[eta.upperBound...]
      #expect(
        value.wholeMatch(of: /\d+ ms|\d+\.\d s|\d+:\d\d(:\d\d)?/) != nil, "ETA cut: \(line)")
      if columns >= 120 { #expect(line.contains("samples/s") && line.contains("█")) }
    }
    #expect(screen.contains("3 epochs in "))
  }

  /// Regression epochs show the RMSE in the label's units: √loss · labelStd, with labelStd
  /// read from the model file.
  @Test func regressionEpochsReportRMSEInTheTargetsUnits() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try CLITests.write(CLITests.regressionCSV(), "line.csv", in: folder)
    let result = try Self.run(
      ["train", "--data", data, "--label", "y", "--epochs", "3", "--hidden", "none"], in: folder)
    #expect(result.status == 0, "\(result.error)")
    let saved = try SavedModel<Float>.load(from: folder.appendingPathComponent("model.safetensors"))
    let std = try #require(saved.description.data?.labelStd)
    let epochs = result.output.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
    try #require(epochs.count == 3)
    for line in epochs {
      let words = line.split(separator: " ")
      let loss = try #require(words.firstIndex(of: "loss").flatMap { Double(words[$0 + 1]) })
      let rmse = try #require(words.firstIndex(of: "rmse").flatMap { Double(words[$0 + 1]) })
      #expect(abs(rmse - loss.squareRoot() * std) <= 2e-3 * max(1, rmse), "\(line)")
      #expect(line.contains("val_rmse"))
    }
    #expect(result.output.contains(" ms (") || result.output.contains(" s ("))
  }

  // MARK: One model file

  /// A model the CLI trained loads in the library in one call, and gives the probabilities
  /// `predict` printed.
  @Test func theLibraryLoadsWhatTheCLITrained() throws {
    let folder = try CLIDamagedFileTests.trained()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    let model = try Sequential<Float>.load(from: url)
    let saved = try SavedModel<Float>.load(from: url)
    #expect(model.parameters.map(\.value) == saved.model.parameters.map(\.value))
    #expect(saved.optimizerState.keys.contains("layer0.weight.m"))
    let data = try #require(saved.description.data)
    let table = try CSVTable(contentsOf: folder.appendingPathComponent("blobs.csv"))
    let predict = try Self.run(
      ["predict", "--model", "model.safetensors", "--data", "blobs.csv"], in: folder)
    let printed = predict.output.split(separator: "\n").dropFirst().map {
      $0.split(separator: ",").dropFirst().map { Double($0)! }
    }
    for row in [0, 17, 89] {
      let x = try (0..<3).map { column in
        Float(
          (try table.number(row: row, column: column) - data.featureMean[column])
            / data.featureStd[column])
      }
      let graph = Graph<Float>()
      let p = model(graph.input(Tensor(shape: [1, 3], scalars: x), name: "x")).softmax().value
      for k in 0..<3 { #expect(abs(Double(p[0, k]) - printed[row][k]) <= 1e-5, "row \(row)") }
    }
  }

  /// `save(to:)` and `load(from:)` round-trip a network built in code, with its data
  /// description and optimizer state; a layer kind the format does not know is refused.
  @Test func sequentialSavesAndLoadsInOneCall() throws {
    var generator = SplitMix64(seed: 5)
    let model = Sequential<Float>([
      Dense(inputSize: 3, outputSize: 4, activation: .tanh, using: &generator),
      Dense(inputSize: 4, outputSize: 2, activation: .sigmoid, using: &generator),
    ])
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-save-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    let data = DataDescription(
      featureColumns: ["a", "b", "c"], featureMean: [0, 1, 2], featureStd: [1, 1, 2],
      labelColumn: "kind", task: .classification, classes: ["x, y", "z"])
    let adam = Adam(parameters: model.parameters, learningRate: 0.01)
    try model.save(to: url, data: data, optimizerState: adam.state, metadata: ["note": "hi"])
    let saved = try SavedModel<Float>.load(from: url)
    #expect(saved.model.parameters.map(\.value) == model.parameters.map(\.value))
    #expect(saved.model.parameters.map(\.name) == model.parameters.map(\.name))
    #expect(saved.description.data == data && saved.metadata["note"] == "hi")
    #expect(Set(saved.optimizerState.keys) == Set(adam.state.keys))
    let x = Tensor<Float>([[0.5, -1, 2]])
    let (g1, g2) = (Graph<Float>(), Graph<Float>())
    #expect(model(g1.input(x, name: "x")).value == saved.model(g2.input(x, name: "x")).value)

    // The same file with a layer kind from a newer version.
    var contents = try ModelEdit.read(url)
    contents.metadata[ModelDescription.key] = contents.metadata[ModelDescription.key]!
      .replacingOccurrences(of: "\"kind\":\"dense\"", with: "\"kind\":\"conv3d\"")
    try ModelEdit.encode(contents).write(to: url)
    do {
      _ = try Sequential<Float>.load(from: url)
      Issue.record("an unknown layer kind was loaded")
    } catch {
      #expect(
        error.description.contains(
          #"layers[0].kind is "conv3d", a layer kind this version of ChainRule does not know"#),
        "\(error)")
    }
  }

  /// A file written by the CLI before the model format (chainrule-mlp-1, committed) loads in
  /// the library and the CLI, and predicts what it predicted then.
  @Test func aModelFileFromTheOldCLIStillLoads() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for name in ["legacy.safetensors", "blobs.csv"] {
      try FileManager.default.copyItem(
        at: Self.legacy.appendingPathComponent(name), to: folder.appendingPathComponent(name))
    }
    let saved = try SavedModel<Float>.load(
      from: folder.appendingPathComponent("legacy.safetensors"))
    #expect(saved.description.layers.map(\.kind) == ["dense", "dense"])
    #expect(saved.description.data?.classes == ["0", "1", "2"])
    let predict = try Self.run(
      ["predict", "--model", "legacy.safetensors", "--data", "blobs.csv", "--out", "p.csv"],
      in: folder)
    #expect(predict.status == 0, "\(predict.error)")
    let then = try String(
      contentsOf: Self.legacy.appendingPathComponent("predictions.csv"), encoding: .utf8)
    #expect(try Self.text("p.csv", in: folder) == then)
    let summary = try Self.run(["summary", "legacy.safetensors"], in: folder)
    #expect(summary.output.contains("format chainrule-mlp-1 (older; read as chainrule-model-2)"))
    #expect(summary.output.contains("layer0  dense  3   4    relu        16"), "\(summary.output)")
    let resumed = try Self.run(
      ["train", "--resume", "legacy.safetensors", "--data", "blobs.csv", "--save", "new.st"],
      in: folder)
    #expect(resumed.status == 0, "\(resumed.error)")
    let upgraded = try SafeTensors.read(from: folder.appendingPathComponent("new.st"))
    #expect(upgraded.metadata[ModelDescription.formatKey] == ModelDescription.format)
  }
}
