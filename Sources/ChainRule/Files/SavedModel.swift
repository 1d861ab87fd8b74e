import Foundation

// The model file of ChainRule, shared by the library (`Sequential.save(to:)`,
// `Sequential.load(from:)`) and the `chainrule` command line: one safetensors file holding the
// parameters (`layer0.weight`, …), optionally an optimizer's buffers (`optimizer.<key>`), and
// in `__metadata__`:
//
// - `chainrule.format`: `chainrule-model-2`;
// - `chainrule.model`: JSON of `ModelDescription`: the layers, one `LayerRecord` each, and
//   optionally the data the model reads (`DataDescription`: columns, standardisation, class
//   names);
// - anything else the writer adds (the command line keeps its training state there).
//
// Files of format `chainrule-mlp-1` (written by `chainrule train` before this format) are read
// too: their description (hidden sizes, one activation) is converted to layer records.

/// One layer of a saved network: its kind and settings, the architecture record of a model
/// file.
///
/// The record is open to new kinds: a kind is a string, sizes and activation are optional,
/// and `settings` holds any further numbers a kind needs (kernel sizes, strides, rates). A
/// kind this version does not know is refused by name when loading, never guessed. Adding a
/// layer kind = a case in `init(_:)` (layer → record), in `parameterShapes(prefix:)` and in
/// `makeLayer(name:)` (record → layer).
public struct LayerRecord: Codable, Equatable, Sendable {
  /// The layer kind: `"dense"`.
  public var kind: String
  /// Input features per example (dense: rows of W).
  public var inputSize: Int?
  /// Output units (dense: columns of W).
  public var outputSize: Int?
  /// The activation's name (`Activation.rawValue`: `none`, `relu`, `tanh`, …).
  public var activation: String?
  /// Further numbers of kinds that need them, by name.
  public var settings: [String: Double]?

  /// The kinds this version reads and writes.
  public static let knownKinds = ["dense"]

  /// A record from its fields.
  public init(
    kind: String, inputSize: Int? = nil, outputSize: Int? = nil, activation: String? = nil,
    settings: [String: Double]? = nil
  ) {
    self.kind = kind
    self.inputSize = inputSize
    self.outputSize = outputSize
    self.activation = activation
    self.settings = settings
  }

  /// The record of `layer`.
  /// - Throws: `ModelFileError.invalidMetadata` for a layer type the format has no kind for.
  public init<Scalar: TensorScalar>(_ layer: any Layer<Scalar>) throws(ModelFileError) {
    if let dense = layer as? Dense<Scalar> {
      self.init(
        kind: "dense", inputSize: dense.inputSize, outputSize: dense.outputSize,
        activation: dense.activation.rawValue)
      return
    }
    throw .invalidMetadata(
      key: ModelDescription.key,
      message: "layer \"\(layer.name)\" is a \(type(of: layer)), which the model format cannot "
        + "store yet (it stores: \(Self.knownKinds.joined(separator: ", ")))")
  }

  /// The parameters the layer holds, named with `prefix` (`layer0`) as `Sequential` names
  /// them, with their shapes.
  /// - Throws: `ModelFileError.invalidMetadata` for an unknown kind or a missing or
  ///   non-positive size; `field` names the record in the message (`layers[0]`).
  public func parameterShapes(prefix: String, field: String) throws(ModelFileError)
    -> [(name: String, shape: [Int])]
  {
    switch kind {
    case "dense":
      let sizes = try positive(inputSize, "inputSize", field)
      let units = try positive(outputSize, "outputSize", field)
      _ = try activationValue(field)
      return [("\(prefix).weight", [sizes, units]), ("\(prefix).bias", [units])]
    default:
      throw .invalidMetadata(
        key: ModelDescription.key,
        message: "\(field).kind is \(CSVError.quoted(kind)), a layer kind this version of "
          + "ChainRule does not know (it knows: \(Self.knownKinds.joined(separator: ", "))); "
          + "the file was written by a newer version or is damaged")
    }
  }

  /// The layer, all parameters zero (for values about to be loaded).
  /// - Precondition: `parameterShapes(prefix:field:)` accepted the record.
  func makeLayer<Scalar: TensorScalar>(_: Scalar.Type) -> any Layer<Scalar> {
    Dense<Scalar>(
      weight: .zeros([inputSize!, outputSize!]), bias: .zeros([outputSize!]),
      activation: Activation(rawValue: activation ?? "none")!)
  }

  private func positive(_ value: Int?, _ name: String, _ field: String) throws(ModelFileError)
    -> Int
  {
    guard let value, value > 0 else {
      throw .invalidMetadata(
        key: ModelDescription.key,
        message: "field \"\(field).\(name)\" is \(value.map(String.init) ?? "missing"); "
          + "a \(kind) layer needs a positive size")
    }
    return value
  }

  private func activationValue(_ field: String) throws(ModelFileError) -> Activation {
    guard let found = Activation(rawValue: activation ?? "none") else {
      throw .invalidMetadata(
        key: ModelDescription.key,
        message: "field \"\(field).activation\" is \(CSVError.quoted(activation ?? "")); "
          + "known: \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return found
  }
}

/// What a model reads and predicts, so that raw CSV rows can be fed to it: the feature
/// columns with their standardisation, the label column, and the class names or the label's
/// scale.
public struct DataDescription: Codable, Equatable, Sendable {
  /// Whether the label is a class or a value.
  public enum Task: String, Codable, Sendable, CaseIterable {
    /// Class indices into `classes`; the network outputs one logit per class.
    case classification
    /// A value; the network outputs the standardised value (z = (y − labelMean) / labelStd).
    case regression
  }

  /// The columns the network reads, in order.
  public var featureColumns: [String]
  /// Per feature, the training rows' mean: the network sees (x − mean) / std.
  public var featureMean: [Double]
  /// Per feature, the training rows' standard deviation (1 for a constant column).
  public var featureStd: [Double]
  /// The column the network predicts.
  public var labelColumn: String
  /// Classification or regression.
  public var task: Task
  /// Classification: the class names, in class-index order (empty for regression).
  public var classes: [String]
  /// Regression: the label's mean (0 for classification).
  public var labelMean: Double
  /// Regression: the label's standard deviation (1 for classification).
  public var labelStd: Double

  /// A description from its fields.
  public init(
    featureColumns: [String], featureMean: [Double], featureStd: [Double], labelColumn: String,
    task: Task, classes: [String] = [], labelMean: Double = 0, labelStd: Double = 1
  ) {
    self.featureColumns = featureColumns
    self.featureMean = featureMean
    self.featureStd = featureStd
    self.labelColumn = labelColumn
    self.task = task
    self.classes = classes
    self.labelMean = labelMean
    self.labelStd = labelStd
  }
}

/// The `chainrule.model` metadata of a model file: the architecture and, optionally, the data.
public struct ModelDescription: Codable, Equatable, Sendable {
  /// The metadata key of the format name.
  public static let formatKey = "chainrule.format"
  /// The format this version writes.
  public static let format = "chainrule-model-2"
  /// The format of files written by `chainrule train` before `format`, still read.
  public static let legacyFormat = "chainrule-mlp-1"
  /// The metadata key of the description's JSON.
  public static let key = "chainrule.model"
  /// The prefix of optimizer buffers among the tensors.
  public static let optimizerPrefix = "optimizer."

  /// The layers, input to output; parameters are named `layer<i>.<name>` after their index.
  public var layers: [LayerRecord]
  /// What the model reads and predicts, when it was trained on a table.
  public var data: DataDescription?

  /// A description from its fields.
  public init(layers: [LayerRecord], data: DataDescription? = nil) {
    self.layers = layers
    self.data = data
  }

  /// The parameters the layers hold, by name, with their shapes.
  /// - Throws: `ModelFileError.invalidMetadata` for an unknown layer kind, a bad size, layers
  ///   whose sizes do not chain, or a data description that does not fit the layers.
  public func parameterShapes() throws(ModelFileError) -> [(name: String, shape: [Int])] {
    guard !layers.isEmpty else {
      throw .invalidMetadata(key: Self.key, message: "field \"layers\" is empty")
    }
    var shapes: [(name: String, shape: [Int])] = []
    for (index, layer) in layers.enumerated() {
      shapes += try layer.parameterShapes(prefix: "layer\(index)", field: "layers[\(index)]")
      if index > 0, let input = layer.inputSize, let previous = layers[index - 1].outputSize,
        input != previous
      {
        throw .invalidMetadata(
          key: Self.key,
          message: "field \"layers[\(index)].inputSize\" is \(input); layers[\(index - 1)] "
            + "outputs \(previous)")
      }
    }
    if let data {
      let problem: String? =
        if data.featureColumns.count != layers[0].inputSize {
          "field \"data.featureColumns\" has \(data.featureColumns.count) names; layers[0] "
            + "reads \(layers[0].inputSize ?? 0) features"
        } else if data.featureMean.count != data.featureColumns.count
          || data.featureStd.count != data.featureColumns.count
        {
          "fields \"data.featureMean\" and \"data.featureStd\" need one value per feature "
            + "column (\(data.featureColumns.count))"
        } else if data.task == .classification, data.classes.count != layers.last?.outputSize {
          "field \"data.classes\" has \(data.classes.count) names; the last layer outputs "
            + "\(layers.last?.outputSize ?? 0)"
        } else if data.task == .regression, layers.last?.outputSize != 1 {
          "a regression model outputs one value; the last layer outputs "
            + "\(layers.last?.outputSize ?? 0)"
        } else {
          nil
        }
      if let problem { throw .invalidMetadata(key: Self.key, message: problem) }
    }
    return shapes
  }

  /// The description stored in `file`'s metadata (format 2, or converted from format 1),
  /// checked against the file's tensors: every parameter the layers need is there with its
  /// shape, and every other tensor is an optimizer buffer. Nothing is allocated, so a damaged
  /// description cannot ask for more memory than the file holds.
  /// - Throws: `ModelFileError.invalidMetadata` naming the field, or `.mismatch` listing the
  ///   tensors that differ.
  public static func read(from file: SafeTensorsFile) throws(ModelFileError) -> ModelDescription {
    let description: ModelDescription
    switch file.metadata[formatKey] {
    case format?:
      description = try ModelFile.decodeMetadata(
        ModelDescription.self, key: key, from: file.metadata)
    case legacyFormat?:
      description = try ModelFile.decodeMetadata(LegacySpec.self, key: key, from: file.metadata)
        .description
    case let other:
      throw .invalidMetadata(
        key: formatKey,
        message: "is \(other.map { CSVError.quoted($0) } ?? "missing"), expected \"\(format)\" "
          + "(or \"\(legacyFormat)\"): not a ChainRule model file, or one from a newer version")
    }
    let shapes = try description.parameterShapes()
    var problems: [ModelFileError.Problem] = []
    for (name, shape) in shapes {
      guard let info = file.info(named: name) else {
        problems.append(.missingTensor(name))
        continue
      }
      if info.shape != shape {
        problems.append(.shapeMismatch(name, file: info.shape, model: shape))
      }
    }
    let names = Set(shapes.map(\.name))
    for name in file.names where !names.contains(name) && !name.hasPrefix(optimizerPrefix) {
      problems.append(.unexpectedTensor(name))
    }
    guard problems.isEmpty else { throw .mismatch(file: file.file, problems: problems) }
    return description
  }
}

/// A model file's contents: the network with its weights, its description, the optimizer's
/// buffers (keys without the `optimizer.` prefix) and the metadata.
public struct SavedModel<Scalar: TensorScalar> {
  /// The network, its parameters loaded from the file.
  public var model: Sequential<Scalar>
  /// The architecture and the data the model reads.
  public var description: ModelDescription
  /// The optimizer's buffers, as `Optimizer.state` names them (`layer0.weight.m`).
  public var optimizerState: [String: Tensor<Scalar>]
  /// All of the file's metadata, including the entries of the format.
  public var metadata: [String: String]

  /// Reads the model file at `url`, converting its tensors to `Scalar`.
  /// - Throws: `ModelFileError` naming the file and the field or tensor that is wrong.
  public static func load(from url: URL) throws(ModelFileError) -> SavedModel {
    let file: SafeTensorsFile
    do {
      file = try SafeTensors.read(from: url)
    } catch {
      throw .file(error)
    }
    return try SavedModel(file, description: try ModelDescription.read(from: file))
  }

  /// The network of an already-read file whose `description` came from
  /// `ModelDescription.read(from:)` (and any further checks of the caller).
  /// - Throws: `ModelFileError` when a tensor cannot be decoded.
  public init(_ file: SafeTensorsFile, description: ModelDescription) throws(ModelFileError) {
    let layers = description.layers.map { $0.makeLayer(Scalar.self) }
    let model = Sequential(layers)
    let state = file.names.filter { $0.hasPrefix(ModelDescription.optimizerPrefix) }.compactMap {
      name in file.info(named: name).map { Parameter(Tensor<Scalar>.zeros($0.shape), name: name) }
    }
    try ModelFile.load(file, into: model.parameters + state, converting: true)
    self.model = model
    self.description = description
    self.optimizerState = Dictionary(
      uniqueKeysWithValues: state.map {
        (String($0.name.dropFirst(ModelDescription.optimizerPrefix.count)), $0.value)
      })
    self.metadata = file.metadata
  }
}

extension Sequential {
  /// Writes the network to `url` as a ChainRule model file, atomically: the parameters, the
  /// architecture (one `LayerRecord` per layer), and optionally the data it reads, an
  /// optimizer's state (`optimizer.state`) and further metadata.
  /// - Throws: `ModelFileError.invalidMetadata` for a layer the format cannot store, or a
  ///   metadata key of the format given in `metadata`; `.file` when writing fails (the
  ///   previous file, if any, is left untouched).
  public func save(
    to url: URL, data: DataDescription? = nil, optimizerState: [String: Tensor<Scalar>] = [:],
    metadata: [String: String] = [:]
  ) throws(ModelFileError) {
    var records: [LayerRecord] = []
    for layer in layers { records.append(try LayerRecord(layer)) }
    let description = ModelDescription(layers: records, data: data)
    _ = try description.parameterShapes()
    for key in [ModelDescription.formatKey, ModelDescription.key] where metadata[key] != nil {
      throw .invalidMetadata(key: key, message: "is written by the format; do not pass it")
    }
    var all = metadata
    all[ModelDescription.formatKey] = ModelDescription.format
    all[ModelDescription.key] = try ModelFile.encodeMetadata(description, key: ModelDescription.key)
    let state = optimizerState.sorted { $0.key < $1.key }.map {
      Parameter($0.value, name: ModelDescription.optimizerPrefix + $0.key)
    }
    do {
      try ModelFile.save(parameters + state, metadata: all, to: url)
    } catch {
      throw .file(error)
    }
  }

  /// The network saved at `url` by `save(to:)` (or by `chainrule train`), its weights loaded
  /// and converted to `Scalar`; `SavedModel.load(from:)` gives the rest of the file too.
  /// - Throws: `ModelFileError` naming the file and the field or tensor that is wrong.
  public static func load(from url: URL) throws(ModelFileError) -> Sequential {
    try SavedModel<Scalar>.load(from: url).model
  }
}

/// The `chainrule.model` JSON of format `chainrule-mlp-1`: a multilayer perceptron given by its
/// hidden sizes and one hidden activation (the output layer has none).
private struct LegacySpec: Decodable {
  var featureColumns: [String]
  var labelColumn: String
  var task: DataDescription.Task
  var classes: [Double]
  var hidden: [Int]
  var activation: String
  var featureMean: [Double]
  var featureStd: [Double]
  var labelMean: Double
  var labelStd: Double

  var description: ModelDescription {
    let sizes = [featureColumns.count] + hidden + [task == .classification ? classes.count : 1]
    let layers = (0..<(sizes.count - 1)).map { index in
      LayerRecord(
        kind: "dense", inputSize: sizes[index], outputSize: sizes[index + 1],
        activation: index == sizes.count - 2 ? "none" : activation)
    }
    let names = classes.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : "\($0)" }
    return ModelDescription(
      layers: layers,
      data: DataDescription(
        featureColumns: featureColumns, featureMean: featureMean, featureStd: featureStd,
        labelColumn: labelColumn, task: task, classes: names, labelMean: labelMean,
        labelStd: labelStd))
  }
}
