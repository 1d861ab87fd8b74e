import Foundation

// The model file of ChainRule, shared by the library (`Sequential.save(to:)`,
// `Sequential.load(from:)`) and the `chainrule` command line: one safetensors file holding the
// parameters (`layer0.weight`, …), optionally an optimizer's buffers (`optimizer.<key>`), and
// in `__metadata__`:
//
// - `chainrule.format`: `chainrule-model-2`;
// - `chainrule.model`: JSON of `ModelDescription`: the layers, one `LayerRecord` each (every
//   layer type of the library: dense, conv2d, maxPool2d, flatten, dropout, layerNorm,
//   embedding, a nested sequential; see LayerRecord.swift), optionally the shape of one
//   example, and optionally the data the model reads (`DataDescription`: columns,
//   standardisation, class names);
// - anything else the writer adds (the command line keeps its training state there).
//
// Files of format `chainrule-mlp-1` (written by `chainrule train` before this format) are read
// too: their description (hidden sizes, one activation) is converted to layer records.

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

/// The `chainrule.model` metadata of a model file: the architecture and, optionally, the
/// shape of one example and the data.
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
  /// The most axes `inputShape` (and a flatten layer's `startAxis`) may name.
  public static let largestRank = 32

  /// The layers, input to output; parameters are named `layer<i>.<name>` after their index.
  public var layers: [LayerRecord]
  /// The shape of one example as the first layer reads it, without the batch axis
  /// (`[1, 8, 8]` for 8×8 single-channel images): with it, the reader checks every layer's
  /// input against the previous layer's output, and `chainrule predict` reshapes a row's
  /// feature columns to it. Absent: `[featureColumns.count]` when there is a data
  /// description, else unknown (the checks then use what the records alone fix).
  public var inputShape: [Int]?
  /// What the model reads and predicts, when it was trained on a table.
  public var data: DataDescription?

  /// A description from its fields.
  public init(layers: [LayerRecord], inputShape: [Int]? = nil, data: DataDescription? = nil) {
    self.layers = layers
    self.inputShape = inputShape
    self.data = data
  }

  /// The parameters the layers hold, by name, with their shapes.
  /// - Throws: `ModelFileError.invalidMetadata` for an unknown layer kind, a missing, foreign
  ///   or out-of-range field, layers whose shapes do not chain, or a data description that
  ///   does not fit the layers.
  public func parameterShapes() throws(ModelFileError) -> [(name: String, shape: [Int])] {
    let checked = try checkedLayers()
    return checked.layers.enumerated().flatMap { index, layer in
      layer.parameterShapes(prefix: "layer\(index)")
    }
  }

  /// Per layer, the shape of its output for one example (without the batch axis), where the
  /// input shape fixes it; `nil` for a layer whose output the description leaves open.
  /// - Throws: as `parameterShapes()`.
  public func exampleShapes() throws(ModelFileError) -> [[Int]?] {
    try checkedLayers().outputs.map { shape in
      guard let shape, shape.count >= 1 else { return nil }
      let example = shape.dropFirst()
      return example.contains(nil) ? nil : example.map { $0! }
    }
  }

  /// Every record checked, then the shapes followed from the input through every layer.
  func checkedLayers() throws(ModelFileError) -> (layers: [CheckedLayer], outputs: [[Int?]?]) {
    guard !layers.isEmpty else {
      throw .invalidMetadata(key: Self.key, message: "field \"layers\" is empty")
    }
    var checked: [CheckedLayer] = []
    for (index, layer) in layers.enumerated() {
      checked.append(try layer.checked("layers[\(index)]"))
    }
    var shape: [Int?]?
    var source: String
    if let inputShape {
      guard (1...Self.largestRank).contains(inputShape.count),
        inputShape.allSatisfy({ (1...LayerRecord.largestSize).contains($0) })
      else {
        throw .invalidMetadata(
          key: Self.key,
          message: "field \"inputShape\" is \(inputShape); an example's shape has 1 to "
            + "\(Self.largestRank) axes of sizes 1…\(LayerRecord.largestSize)")
      }
      shape = [nil] + inputShape
      source = "the input"
      try Self.checkElementCount(shape, field: "inputShape")
      if let data, Self.elementCount(inputShape) != data.featureColumns.count {
        throw .invalidMetadata(
          key: Self.key,
          message: "field \"inputShape\" is \(inputShape) (\(Self.elementCount(inputShape)) "
            + "values per example); field \"data.featureColumns\" has "
            + "\(data.featureColumns.count) names")
      }
    } else if let data {
      shape = [nil, data.featureColumns.count]
      source = "the data's \(data.featureColumns.count) feature columns"
      if case .dense(let size, _, _) = checked[0], size != data.featureColumns.count {
        throw .invalidMetadata(
          key: Self.key,
          message: "field \"data.featureColumns\" has \(data.featureColumns.count) names; "
            + "layers[0] reads \(size) features")
      }
    } else {
      shape = nil
      source = "the input"
    }
    var outputs: [[Int?]?] = []
    for (index, layer) in checked.enumerated() {
      let field = "layers[\(index)]"
      shape = try layer.outputShape(shape, field: field, source: source)
      try Self.checkElementCount(shape, field: field)
      outputs.append(shape)
      source = field
    }
    if let data { try Self.check(data, output: shape, last: source) }
    return (checked, outputs)
  }

  /// The data description against the network's output.
  private static func check(_ data: DataDescription, output: [Int?]?, last: String)
    throws(ModelFileError)
  {
    let units: Int? = output.flatMap { $0.count == 2 ? $0[1] : nil }
    let problem: String? =
      if data.featureMean.count != data.featureColumns.count
        || data.featureStd.count != data.featureColumns.count
      {
        "fields \"data.featureMean\" and \"data.featureStd\" need one value per feature "
          + "column (\(data.featureColumns.count))"
      } else if units == nil {
        "the network outputs \(text(output)) (\(last)); a model of a table outputs [N, "
          + (data.task == .classification ? "classes]" : "1]")
      } else if data.task == .classification, data.classes.count != units {
        "field \"data.classes\" has \(data.classes.count) names; the last layer outputs "
          + "\(units!)"
      } else if data.task == .regression, units != 1 {
        "a regression model outputs one value; the last layer outputs \(units!)"
      } else {
        nil
      }
    if let problem { throw .invalidMetadata(key: Self.key, message: problem) }
  }

  /// The product of known sizes (each at most 2³¹ − 1, so a product of two cannot overflow;
  /// the running product is capped).
  static func elementCount(_ sizes: [Int]) -> Int {
    var count = 1
    for size in sizes {
      let (product, overflow) = count.multipliedReportingOverflow(by: size)
      count = overflow ? Int.max : product
    }
    return count
  }

  /// Refuses a shape with more than 2³¹ − 1 elements per example (where all are known).
  static func checkElementCount(_ shape: [Int?]?, field: String) throws(ModelFileError) {
    guard let shape, shape.count >= 1 else { return }
    let known = shape.dropFirst().compactMap { $0 }
    guard known.count == shape.count - 1 else { return }
    guard elementCount(known) <= LayerRecord.largestSize else {
      throw .invalidMetadata(
        key: key,
        message: "\(field) outputs \(text(shape)), more than \(LayerRecord.largestSize) values "
          + "per example")
    }
  }

  /// A partly known shape as messages write it: `[N, 16, 4, 4]`, `?` where unknown.
  static func text(_ shape: [Int?]?) -> String {
    guard let shape else { return "a tensor of unknown shape" }
    return "["
      + shape.enumerated().map { index, size in
        size.map(String.init) ?? (index == 0 ? "N" : "?")
      }.joined(separator: ", ") + "]"
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
///
/// The network is loaded in **evaluation mode** (`setTraining(false)`: dropout is the
/// identity), ready to predict; call `model.setTraining(true)` before training it further.
/// The mode is not stored in the file. (PyTorch's `load_state_dict` leaves a module in the
/// mode it was built in, training, which is why PyTorch code calls `model.eval()` after
/// loading; here the loader does it.) A dropout layer resumes its mask generator where the
/// saved one stopped, so a loaded model put back in training draws the masks the saved
/// model would have drawn next.
public struct SavedModel<Scalar: TensorScalar> {
  /// The network, its parameters loaded from the file, in evaluation mode.
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
  /// `ModelDescription.read(from:)` (and any further checks of the caller), all or nothing.
  /// - Throws: `ModelFileError.file` when a tensor cannot be decoded, `.invalidTensor` for a
  ///   NaN or an infinity in any tensor (also one that appears when F64 values beyond Float's
  ///   range are converted), naming the tensor, the element and the layer.
  public init(_ file: SafeTensorsFile, description: ModelDescription) throws(ModelFileError) {
    let layers = try description.checkedLayers().layers
    let model = Sequential(layers.map { $0.makeLayer(Scalar.self) })
    let state = file.names.filter { $0.hasPrefix(ModelDescription.optimizerPrefix) }.compactMap {
      name in file.info(named: name).map { Parameter(Tensor<Scalar>.zeros($0.shape), name: name) }
    }
    try ModelFile.load(file, into: model.parameters + state, converting: true)
    for parameter in model.parameters + state {
      if let problem = Self.nonFinite(parameter.value) {
        let owner = parameter.name.dropFirst(
          parameter.name.hasPrefix(ModelDescription.optimizerPrefix)
            ? ModelDescription.optimizerPrefix.count : 0
        ).split(separator: ".").first.flatMap {
          $0.hasPrefix("layer") ? Int($0.dropFirst("layer".count)) : nil
        }
        let layer = owner.flatMap { layers.indices.contains($0) ? $0 : nil }.map {
          " (layers[\($0)], a \(layers[$0].kind) layer)"
        }
        throw .invalidTensor(
          file: file.file, tensor: parameter.name,
          message: "holds \(problem.value) at \(problem.index)\(layer ?? ""); a model file "
            + "never holds a NaN or an infinity")
      }
    }
    model.setTraining(false)
    self.model = model
    self.description = description
    self.optimizerState = Dictionary(
      uniqueKeysWithValues: state.map {
        (String($0.name.dropFirst(ModelDescription.optimizerPrefix.count)), $0.value)
      })
    self.metadata = file.metadata
  }

  /// The first NaN or infinity of `tensor`, with its index ([i, j, …]).
  static func nonFinite(_ tensor: Tensor<Scalar>) -> (index: [Int], value: Scalar)? {
    let bad = tensor.scalars.withUnsafeBufferPointer { values in
      values.firstIndex { !$0.isFinite }
    }
    guard let bad else { return nil }
    return (rowMajorIndex(bad, shape: tensor.shape), tensor.scalars[bad])
  }
}

extension Sequential {
  /// Writes the network to `url` as a ChainRule model file, atomically: the parameters, the
  /// architecture (one `LayerRecord` per layer, every layer type of the library), and
  /// optionally the shape of one example, the data it reads, an optimizer's state
  /// (`optimizer.state`) and further metadata.
  ///
  /// Training or evaluation mode is not stored: `load(from:)` gives a network in evaluation
  /// mode. A dropout layer's generator state is stored, so masks resume where they stopped.
  /// - Parameters:
  ///   - url: where the file goes (written to a temporary file beside it, then renamed).
  ///   - inputShape: one example's shape without the batch axis (`[1, 8, 8]`), checked
  ///     against every layer; needed for `chainrule predict` to feed an input that is not a
  ///     row of features (`[featureColumns.count]`, the default with `data`).
  ///   - data: the columns the network reads and what it predicts, for `chainrule`.
  ///   - optimizerState: an optimizer's `state`, stored as `optimizer.<key>` tensors.
  ///   - metadata: further `__metadata__` entries (not the format's own keys).
  /// - Throws: `ModelFileError.invalidMetadata` for a layer the format cannot store, layers
  ///   whose shapes do not chain, or a metadata key of the format given in `metadata`;
  ///   `.file` when writing fails (the previous file, if any, is left untouched).
  public func save(
    to url: URL, inputShape: [Int]? = nil, data: DataDescription? = nil,
    optimizerState: [String: Tensor<Scalar>] = [:], metadata: [String: String] = [:]
  ) throws(ModelFileError) {
    var records: [LayerRecord] = []
    for layer in layers { records.append(try LayerRecord(layer)) }
    let description = ModelDescription(layers: records, inputShape: inputShape, data: data)
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
  /// and converted to `Scalar`, in evaluation mode (see `SavedModel`);
  /// `SavedModel.load(from:)` gives the rest of the file too.
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
