import ChainRule
import Foundation

/// `chainrule summary`: what a model file holds, read without building the network.
enum SummaryCommand: Command {
  static let name = "summary"
  static let summary = "print a model file's layers, shapes, parameter counts and metadata"
  static let options: [String] = []
  static let positional = 1
  static let help = """
    usage: chainrule summary MODEL.safetensors

    Prints the layers of a model file (written by `chainrule train` or by the library's
    `Sequential.save(to:)`, every layer kind: dense, conv2d, maxPool2d, flatten, dropout,
    layerNorm, embedding, sequential) with their kinds, sizes, activations, parameter
    shapes and counts, each layer's output shape per example and its settings (kernel,
    stride, padding, …); the data the model reads (feature columns and their
    standardisation, the label, the class names); the optimizer state it carries; the training settings and history when
    `chainrule train` wrote it; and every metadata key. The description is checked against
    the tensors first, and no tensor is decoded. Files of the older format chainrule-mlp-1 are
    read too.

    options:
      -h, --help   this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    guard let path = arguments.positional.first else {
      throw .usage("summary: name the model file: chainrule summary MODEL.safetensors")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw CLIError(message: "\(path): no such file")
    }
    let file: SafeTensorsFile
    do {
      file = try SafeTensors.read(from: URL(fileURLWithPath: path))
    } catch {
      let named = SafeTensorsError(file: path, reason: error.reason)
      throw CLIError(message: "\(named) (not a safetensors model file)")
    }
    let description: ModelDescription
    do {
      description = try ModelDescription.read(from: file)
    } catch {
      throw CLIError(message: "\(path): not a chainrule model: \(ModelBundle.oneLine(error))")
    }
    print(lines(path, file, description).joined(separator: "\n"))
  }

  /// The summary's lines.
  static func lines(_ path: String, _ file: SafeTensorsFile, _ description: ModelDescription)
    -> [String]
  {
    let format = file.metadata[ModelDescription.formatKey] ?? "?"
    let shapes = (try? description.parameterShapes()) ?? []
    let outputs = (try? description.exampleShapes()) ?? []
    let total = shapes.map { $0.shape.reduce(1, *) }.reduce(0, +)
    let dtypes = Set(shapes.compactMap { file.info(named: $0.name)?.dtype.rawValue }).sorted()
    var lines = [
      "\(path): format \(format)"
        + (format == ModelDescription.legacyFormat
          ? " (older; read as \(ModelDescription.format))" : "")
        + ", \(description.layers.count) layer\(description.layers.count == 1 ? "" : "s"), "
        + "\(total) parameters (\(dtypes.joined(separator: ", ")))",
      "",
    ]
    var rows = [
      ["layer", "kind", "in", "out", "activation", "parameters", "shapes", "output", "settings"]
    ]
    for (index, layer) in description.layers.enumerated() {
      let own = shapes.filter { $0.name.hasPrefix("layer\(index).") }
      let (input, output) = sizes(layer)
      rows.append([
        "layer\(index)", layer.kind, input.map(String.init) ?? "-",
        output.map(String.init) ?? "-", layer.activation ?? "-",
        "\(own.map { $0.shape.reduce(1, *) }.reduce(0, +))",
        own.isEmpty
          ? "-"
          : own.map { "\($0.name.split(separator: ".").last!) \($0.shape)" }.joined(
            separator: ", "),
        outputs.indices.contains(index) ? outputs[index].map { "\($0)" } ?? "?" : "?",
        settings(layer),
      ])
    }
    lines += table(rows)
    lines.append("")
    lines.append(
      "input per example: "
        + (description.inputShape.map { "\($0)" }
          ?? description.data.map { "[\($0.featureColumns.count)] (the feature columns)" }
          ?? "not stored (save with inputShape: to check every layer's shapes)")
        + "; output shapes are per example, without the batch axis")
    if description.layers.contains(where: { $0.kind == "dropout" }) {
      lines.append(
        "dropout: loaded in evaluation mode (the identity); setTraining(true) resumes the saved "
          + "mask generators")
    }
    if let data = description.data {
      lines.append(
        "reads \(data.featureColumns.count) columns: "
          + ModelSpec.list(data.featureColumns.map { CSVError.quoted($0) })
          + " (standardised with the training rows' mean and std)")
      for (index, name) in data.featureColumns.enumerated().prefix(8) {
        lines.append(
          "  \(CSVError.quoted(name)): mean \(Format.significant(data.featureMean[index])), "
            + "std \(Format.significant(data.featureStd[index]))")
      }
      if data.featureColumns.count > 8 { lines.append("  …") }
      switch data.task {
      case .classification:
        lines.append(
          "predicts \(CSVError.quoted(data.labelColumn)): classification, "
            + "\(data.classes.count) classes: "
            + ModelSpec.list(data.classes.map { CSVError.quoted($0) }))
      case .regression:
        lines.append(
          "predicts \(CSVError.quoted(data.labelColumn)): regression, label mean "
            + "\(Format.significant(data.labelMean)), std \(Format.significant(data.labelStd))")
      }
    } else {
      lines.append("no data description (saved without data:)")
    }
    let state = file.names.filter { $0.hasPrefix(ModelDescription.optimizerPrefix) }
    lines.append(
      state.isEmpty
        ? "optimizer state: none"
        : "optimizer state: \(state.count) tensors ("
          + ModelSpec.list(
            state.map { String($0.dropFirst(ModelDescription.optimizerPrefix.count)) })
          + ")")
    if let training = try? ModelFile.decodeMetadata(
      TrainingState.self, key: ModelBundle.trainingKey, from: file.metadata)
    {
      var text =
        "trained by chainrule train: \(training.optimizer.rawValue) lr \(training.learningRate)"
      if training.optimizer == .sgd { text += " momentum \(training.momentum)" }
      text +=
        ", batch \(training.batchSize), seed \(training.seed), validation "
        + "\(training.validation), \(training.epochs) epochs on \(training.rowCount) rows"
      lines.append(text)
      if let last = training.history.last {
        var record = "  epoch \(last.epoch): loss \(Format.fixed(last.trainLoss, 4))"
        if let loss = last.validationLoss { record += ", val_loss \(Format.fixed(loss, 4))" }
        if let accuracy = last.validationAccuracy {
          record += ", val_acc \(Format.percent(accuracy))"
        }
        lines.append(record)
      }
    }
    lines.append(
      "metadata: "
        + file.metadata.keys.sorted().map { CSVError.quoted($0) }.joined(separator: ", "))
    return lines
  }

  /// The sizes a layer reads and gives along its feature axis: a dense layer's features, a
  /// convolution's channels, a layer norm's D, an embedding's vector length.
  static func sizes(_ layer: LayerRecord) -> (Int?, Int?) {
    switch layer.kind {
    case "dense": (layer.inputSize, layer.outputSize)
    case "conv2d": (layer.inputChannels, layer.outputChannels)
    case "layerNorm": (layer.normalizedShape?.last, layer.normalizedShape?.last)
    case "embedding": (nil, layer.dimension)
    default: (nil, nil)
    }
  }

  /// A layer's hyper-parameters beyond its sizes, in words.
  static func settings(_ layer: LayerRecord) -> String {
    func pair(_ value: [Int]?) -> String {
      guard let value, value.count == 2 else { return "?" }
      return value[0] == value[1] ? "\(value[0])" : "\(value[0])×\(value[1])"
    }
    switch layer.kind {
    case "conv2d":
      return "kernel \(pair(layer.kernelSize)), stride \(pair(layer.stride)), padding "
        + "\(pair(layer.padding)), dilation \(pair(layer.dilation)), bias"
    case "maxPool2d":
      return "kernel \(pair(layer.kernelSize)), stride \(pair(layer.stride)), padding "
        + "\(pair(layer.padding))"
    case "flatten": return "from axis \(layer.startAxis.map(String.init) ?? "?")"
    case "dropout": return "p \(layer.probability.map { Format.significant($0) } ?? "?")"
    case "layerNorm":
      return "over the last axis, eps \(layer.epsilon.map { "\($0)" } ?? "?"), affine"
    case "embedding": return "\(layer.count.map(String.init) ?? "?") rows"
    case "sequential":
      return "\(layer.layers?.count ?? 0) layers: "
        + (layer.layers ?? []).map(\.kind).joined(separator: ", ")
    default: return "-"
    }
  }

  /// Rows as left-aligned columns two spaces apart.
  static func table(_ rows: [[String]]) -> [String] {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
  }
}
