import ChainRule
import Foundation

/// What the network learns: classes of the label column, or its value.
typealias Task = DataDescription.Task

/// The hidden layers' activation (the output layer has none: logits or a value).
enum HiddenActivation: String, Codable, CaseIterable {
  case relu
  case tanh
  case sigmoid

  var activation: Activation {
    switch self {
    case .relu: .relu
    case .tanh: .tanh
    case .sigmoid: .sigmoid
    }
  }
}

/// The optimizer that updates the weights.
enum OptimizerKind: String, Codable, CaseIterable {
  case sgd
  case adam
}

/// Everything needed to rebuild the network and prepare its input: the command line's view
/// of a model file's `ModelDescription` (a multilayer perceptron: dense layers, one hidden
/// activation, none on the output), stored under `chainrule.model`.
struct ModelSpec: Equatable {
  /// The CSV columns the network reads, in order.
  var featureColumns: [String]
  /// The CSV column it predicts.
  var labelColumn: String
  var task: Task
  /// Classification: the class names (label cells as written), in class-index order.
  var classes: [String]
  /// Hidden layer sizes, e.g. [32, 16].
  var hidden: [Int]
  var activation: HiddenActivation
  /// Per-feature mean and standard deviation of the training rows: the network sees
  /// (x − mean) / std.
  var featureMean: [Double]
  var featureStd: [Double]
  /// Regression: the label's mean and standard deviation (the network predicts the
  /// standardised label).
  var labelMean: Double
  var labelStd: Double

  /// The data part of the file's description.
  var data: DataDescription {
    DataDescription(
      featureColumns: featureColumns, featureMean: featureMean, featureStd: featureStd,
      labelColumn: labelColumn, task: task, classes: classes, labelMean: labelMean,
      labelStd: labelStd)
  }
  /// Output units: one per class, or one value.
  var outputSize: Int { task == .classification ? classes.count : 1 }

  /// The network, freshly initialised from `generator` (He for ReLU, Glorot otherwise), or
  /// all zeros (`initialised: false`, for weights about to be loaded).
  /// - Precondition: the sizes passed `validate()` or `train`'s option checks.
  func makeModel<Scalar: TensorScalar>(
    _: Scalar.Type, initialised: Bool = true, using generator: inout some RandomNumberGenerator
  ) -> Sequential<Scalar> {
    let sizes = layerSizes
    var layers: [any Layer<Scalar>] = []
    for index in 0..<(sizes.count - 1) {
      let last = index == sizes.count - 2
      let rule: Initializer = activation == .relu && !last ? .heUniform : .glorotUniform
      layers.append(
        Dense<Scalar>(
          inputSize: sizes[index], outputSize: sizes[index + 1],
          activation: last ? .none : activation.activation,
          weightInitializer: initialised ? rule : .zeros, using: &generator))
    }
    return Sequential(layers)
  }

  /// The standardised feature matrix of `table`'s rows (`DataDescription.features`).
  func features<Scalar: TensorScalar>(_ table: CSVTable, as _: Scalar.Type) throws(CLIError)
    -> Tensor<Scalar>
  {
    try data.features(table, as: Scalar.self)
  }

  /// The training target of each label cell (column `labelIndex` of `table`): its class
  /// index, or the standardised value.
  /// - Throws: `CLIError` for a label that is not one of the model's classes, or an empty or
  ///   non-numeric regression label, naming its line.
  func targets<Scalar: TensorScalar>(
    _ table: CSVTable, labelIndex: Int, rows: some Collection<Int>, as _: Scalar.Type
  ) throws(CLIError) -> Tensor<Scalar> {
    var scalars: [Scalar] = []
    scalars.reserveCapacity(rows.count)
    for row in rows {
      let cell = table.cells[row][labelIndex]
      switch task {
      case .classification:
        guard let index = CSVTable.classIndex(of: cell, in: classes) else {
          throw CLIError(
            message: "\(table.source), line \(table.lines[row]), column \(labelIndex + 1) "
              + "(\(CSVError.quoted(table.columns[labelIndex]))): label \(CSVError.quoted(cell)) "
              + "is not one of the model's classes (\(Self.list(classes.map { CSVError.quoted($0) })))"
          )
        }
        scalars.append(Scalar(index))
      case .regression:
        let label = try cellNumber(table, row, labelIndex)
        let z = (label - labelMean) / labelStd
        guard Scalar(z).isFinite else {
          throw CLIError(
            message: "\(table.source), line \(table.lines[row]): label \(label) standardises to "
              + "\(z) (mean \(labelMean), std \(labelStd)), beyond the range of \(Scalar.self)")
        }
        scalars.append(Scalar(z))
      }
    }
    return Tensor(shape: [rows.count], scalars: scalars)
  }

  /// The loss of `output` against `targets` ([batch]): softmax cross-entropy over class
  /// indices, or the mean squared error of the standardised value.
  func loss<Scalar>(_ output: Node<Scalar>, _ targets: Node<Scalar>) -> Node<Scalar> {
    switch task {
    case .classification: output.softmaxCrossEntropy(labels: targets).named("loss")
    case .regression:
      output.meanSquaredError(targets.reshaped([targets.shape[0], 1])).named("loss")
    }
  }

  /// Correct predictions of `output` ([batch, classes]) for class indices `targets`.
  static func correct<Scalar>(_ output: Tensor<Scalar>, _ targets: Tensor<Scalar>) -> Int {
    let classes = output.shape[1]
    var count = 0
    output.scalars.withUnsafeBufferPointer { scores in
      for row in 0..<output.shape[0] {
        var best = 0
        for c in 1..<classes where scores[row * classes + c] > scores[row * classes + best] {
          best = c
        }
        if Scalar(best) == targets.scalars[row] { count += 1 }
      }
    }
    return count
  }

  /// A label value as written in a CSV: `3` rather than `3.0`.
  static func show(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
  }

  static func list(_ names: [String]) -> String {
    names.count <= 8
      ? names.joined(separator: ", ")
      : names.prefix(4).joined(separator: ", ") + ", …, " + names.suffix(2).joined(separator: ", ")
  }
}

extension DataDescription {
  /// The standardised feature matrix of `table`'s rows, columns picked by name.
  ///
  /// Columns are looked up in a dictionary built once (a search per name made 80,000-column
  /// files quadratic). A value whose standardised form is beyond `Scalar`'s range (1e300 for
  /// a model trained on values near 0) is refused rather than fed to the network as ∞.
  /// - Throws: `CLIError` naming a feature column the table lacks, or the line and column of
  ///   a value out of range.
  func features<Scalar: TensorScalar>(_ table: CSVTable, as _: Scalar.Type) throws(CLIError)
    -> Tensor<Scalar>
  {
    let columnIndex = Dictionary(
      table.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    var indices: [Int] = []
    indices.reserveCapacity(featureColumns.count)
    for name in featureColumns {
      guard let index = columnIndex[name] else {
        let hint =
          table.hasHeader && featureColumns.allSatisfy { Int($0) != nil }
          ? "; the model was trained on a file without a header: pass --no-header" : ""
        throw CLIError(
          message: "\(table.source): has no column \(CSVError.quoted(name)), which the model "
            + "reads (the model's columns: \(ModelSpec.list(featureColumns.map { CSVError.quoted($0) })))"
            + hint)
      }
      indices.append(index)
    }
    var scalars: [Scalar] = []
    scalars.reserveCapacity(table.rowCount * indices.count)
    for row in 0..<table.rowCount {
      for (feature, index) in indices.enumerated() {
        let value = try cellNumber(table, row, index)
        let z = (value - featureMean[feature]) / featureStd[feature]
        let scalar = Scalar(z)
        guard scalar.isFinite else {
          throw CLIError(
            message: "\(table.source), line \(table.lines[row]), column \(index + 1) "
              + "(\(CSVError.quoted(table.columns[index]))): \(value) standardises to "
              + "\(z) (mean \(featureMean[feature]), std \(featureStd[feature])), beyond the "
              + "range of \(Scalar.self); the model was not trained on values like it")
        }
        scalars.append(scalar)
      }
    }
    return Tensor(shape: [table.rowCount, indices.count], scalars: scalars)
  }
}

/// One epoch's numbers, kept in the model file so a resumed run continues the loss curve.
struct EpochRecord: Codable, Equatable {
  var epoch: Int
  var trainLoss: Double
  var trainAccuracy: Double?
  var validationLoss: Double?
  var validationAccuracy: Double?
}

/// How the model was trained and how far, stored as JSON under `chainrule.training`: enough to
/// resume exactly (the epoch count, Adam's step count; the shuffles derive from seed and epoch).
struct TrainingState: Codable, Equatable {
  var optimizer: OptimizerKind
  var learningRate: Double
  var momentum: Double
  var batchSize: Int
  var seed: UInt64
  var validation: Double
  /// Completed epochs.
  var epochs: Int
  /// Adam's t.
  var stepCount: Int
  /// Rows in the data file the model was trained on.
  var rowCount: Int
  var history: [EpochRecord]
}

/// A model file as `chainrule` uses it: the library's model format (`Sequential.save(to:)`,
/// `SavedModel`) with the command line's training state under `chainrule.training`.
enum ModelBundle {
  static let modelKey = ModelDescription.key
  static let trainingKey = "chainrule.training"
  static let optimizerPrefix = ModelDescription.optimizerPrefix

  /// Writes parameters, optimizer state and metadata to `url` atomically.
  static func save<Scalar: TensorScalar>(
    model: Sequential<Scalar>, optimizerState: [String: Tensor<Scalar>], spec: ModelSpec,
    training: TrainingState, to url: URL
  ) throws(CLIError) {
    do {
      try model.save(
        to: url, data: spec.data, optimizerState: optimizerState,
        metadata: [trainingKey: try ModelFile.encodeMetadata(training, key: trainingKey)])
    } catch {
      throw CLIError(message: "cannot save the model: \(error)")
    }
  }

  /// A model read from a file: the network (its weights loaded) and everything stored with it.
  struct Loaded<Scalar: TensorScalar> {
    var model: Sequential<Scalar>
    var spec: ModelSpec
    var training: TrainingState
    var optimizerState: [String: Tensor<Scalar>]
    /// The file's format: `chainrule-model-2`, or `chainrule-mlp-1` for an older file.
    var format: String
  }

  /// Reads a model file, all or nothing, converting its tensors to `Scalar`.
  ///
  /// Nothing is trusted before it is checked, in this order: the safetensors layer (byte
  /// ranges, dtypes); the description (`ModelDescription.read`: known layer kinds, sizes that
  /// chain, every parameter present with its shape); every metadata field against `train`'s
  /// limits (`ModelSpec.validate`, `TrainingState.validate`); the optimizer's tensors against
  /// the optimizer the metadata names — only then is the network allocated, and it is no
  /// larger than the file. Last, every value: no NaN or infinity (ReLU(NaN) = 0 would hide
  /// one behind plausible output), no negative Adam `v`.
  /// - Throws: `CLIError` naming the file and the field or tensor that is wrong.
  static func load<Scalar: TensorScalar>(_ path: String, as _: Scalar.Type) throws(CLIError)
    -> Loaded<Scalar>
  {
    try load(try read(path), path: path)
  }

  /// The safetensors layer of the file at `path` (byte ranges, dtypes), errors naming the
  /// path as given.
  static func read(_ path: String) throws(CLIError) -> SafeTensorsFile {
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: path) else {
      throw CLIError(message: "\(path): no such file")
    }
    do {
      return try SafeTensors.read(from: url)
    } catch {
      let named = SafeTensorsError(file: path, reason: error.reason)  // the path as given
      throw CLIError(message: "\(named) (not a safetensors model file)")
    }
  }

  /// `load(_:as:)` of an already-read file.
  static func load<Scalar: TensorScalar>(_ file: SafeTensorsFile, path: String)
    throws(CLIError) -> Loaded<Scalar>
  {
    let description: ModelDescription
    let training: TrainingState
    do {
      description = try ModelDescription.read(from: file)
    } catch {
      throw CLIError(message: "\(path): not a chainrule model: \(Self.oneLine(error))")
    }
    let spec: ModelSpec
    do {
      spec = try ModelSpec(description)
      try spec.validate()
    } catch {
      throw CLIError(message: "\(path): \(modelKey) metadata: \(error.description)")
    }
    do {
      training = try ModelFile.decodeMetadata(
        TrainingState.self, key: trainingKey, from: file.metadata)
    } catch {
      throw CLIError(message: "\(path): not a chainrule model: \(error)")
    }
    do {
      try training.validate(for: spec)
    } catch {
      throw CLIError(message: "\(path): \(trainingKey) metadata: \(error.description)")
    }
    if let problem = tensorProblem(
      file, expected: expectedTensors(spec, training), spec, training)
    {
      throw CLIError(message: "\(path): \(problem)")
    }
    let saved: SavedModel<Scalar> = try network(file, description, path: path)
    for parameter in saved.model.parameters {
      if let problem = valueProblem(parameter.name, parameter.value) {
        throw CLIError(message: "\(path): \(problem) (a model file never does; it is damaged)")
      }
    }
    for (key, value) in saved.optimizerState.sorted(by: { $0.key < $1.key }) {
      if let problem = valueProblem(optimizerPrefix + key, value) {
        throw CLIError(message: "\(path): \(problem) (a model file never does; it is damaged)")
      }
    }
    return Loaded(
      model: saved.model, spec: spec, training: training, optimizerState: saved.optimizerState,
      format: file.metadata[ModelDescription.formatKey] ?? "")
  }

  /// The network of a checked file, all or nothing; a NaN or infinite value is named with
  /// the path as given.
  static func network<Scalar: TensorScalar>(
    _ file: SafeTensorsFile, _ description: ModelDescription, path: String
  ) throws(CLIError) -> SavedModel<Scalar> {
    do {
      return try SavedModel(file, description: description)
    } catch .invalidTensor(_, let tensor, let message) {
      throw CLIError(
        message: "\(path): tensor \"\(tensor)\" \(message): the file is damaged")
    } catch {
      throw CLIError(message: Self.oneLine(error))
    }
  }

  /// A model file as `predict` uses it: any network of the library's format that reads the
  /// feature columns of a table, with the data description that says which.
  struct Predictor<Scalar: TensorScalar> {
    /// The network, in evaluation mode.
    var model: Sequential<Scalar>
    var data: DataDescription
    /// One example's shape: `[featureColumns.count]`, or the file's `inputShape` (a CNN's
    /// `[1, 8, 8]`), which the row of features is reshaped to.
    var inputShape: [Int]
    /// The most values one layer outputs per example, to size the batches.
    var largestActivation: Int
  }

  /// The most values one layer of a model `predict` runs may output per example.
  static let largestActivation = Limits.weights

  /// Reads a model file for `predict`, all or nothing.
  ///
  /// A file that carries `chainrule.training` was written by `chainrule train` and is held to
  /// everything `load(_:as:)` checks. Any other file was saved by the library
  /// (`Sequential.save(to:data:)`): it may hold every layer kind of the format, and needs the
  /// library's checks (layer records, shapes that chain from the input to [N, classes] or
  /// [N, 1], tensors, finite values), a data description with the rules of `train`'s, no
  /// embedding (it reads indices, not standardised columns) and at most `largestActivation`
  /// values per example in any layer.
  /// - Throws: `CLIError` naming the file and the field or tensor that is wrong.
  static func loadPredictor<Scalar: TensorScalar>(_ path: String, as _: Scalar.Type)
    throws(CLIError) -> Predictor<Scalar>
  {
    let file = try read(path)
    if file.metadata[trainingKey] != nil {
      let loaded: Loaded<Scalar> = try load(file, path: path)
      return Predictor(
        model: loaded.model, data: loaded.spec.data,
        inputShape: [loaded.spec.featureColumns.count],
        largestActivation: loaded.spec.layerSizes.max() ?? 1)
    }
    let description: ModelDescription
    let shapes: [[Int]?]
    do {
      description = try ModelDescription.read(from: file)
      shapes = try description.exampleShapes()
    } catch {
      throw CLIError(message: "\(path): not a chainrule model: \(Self.oneLine(error))")
    }
    do throws(MetadataProblem) {
      guard let data = description.data else {
        throw MetadataProblem(
          field: "data", value: "missing",
          rule: "must describe the columns the model reads (save with data: to use the model "
            + "with chainrule)")
      }
      try data.validate()
      func embedding(_ layers: [LayerRecord], _ path: String) -> String? {
        for (index, layer) in layers.enumerated() {
          if layer.kind == "embedding" { return "\(path)[\(index)]" }
          if let found = embedding(layer.layers ?? [], "\(path)[\(index)].layers") { return found }
        }
        return nil
      }
      if let field = embedding(description.layers, "layers") {
        throw MetadataProblem(
          field: "\(field).kind", value: "\"embedding\"",
          rule: "chainrule predict feeds standardised feature columns, not the indices an "
            + "embedding reads (use the model from the library)")
      }
      for (index, shape) in shapes.enumerated() {
        let count = shape.map { $0.reduce(1, *) } ?? 0
        guard count <= largestActivation else {
          throw MetadataProblem(
            field: "layers[\(index)]", value: "\(description.layers[index].kind)",
            rule: "outputs \(shape ?? []) per example, more than the \(largestActivation) "
              + "values chainrule predict handles")
        }
      }
    } catch {
      throw CLIError(message: "\(path): \(modelKey) metadata: \(error.description)")
    }
    let saved: SavedModel<Scalar> = try network(file, description, path: path)
    let data = description.data!
    return Predictor(
      model: saved.model, data: data,
      inputShape: description.inputShape ?? [data.featureColumns.count],
      largestActivation: shapes.map { $0.map { $0.reduce(1, *) } ?? 1 }.max() ?? 1)
  }

  /// An error's description on one line (a mismatch lists its problems on several).
  static func oneLine(_ error: some Error) -> String {
    "\(error)".split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      .joined(separator: " ")
  }
}

extension CSVTable {
  /// Reads a CSV file, turning every problem into a one-line `CLIError`.
  static func load(_ path: String, hasHeader: Bool = true) throws(CLIError) -> CSVTable {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
      throw CLIError(message: "\(path): no such file")
    }
    guard !isFolder.boolValue else {
      throw CLIError(message: "\(path): is a folder, not a CSV file")
    }
    // Parsed from the bytes, with the path as given, so that messages name the file as the
    // user wrote it (and bytes that are not UTF-8 by line and offset).
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    } catch {
      throw CLIError(message: "\(path): cannot be read: \(error.localizedDescription)")
    }
    let table: CSVTable
    do {
      table = try CSVTable(data: data, source: path, hasHeader: hasHeader)
    } catch {
      throw CLIError(message: error.description)
    }
    guard table.rowCount > 0 else { throw CLIError(message: "\(path): has a header but no rows") }
    return table
  }
}

/// Fails early, before any work, when the folder an output goes into does not exist.
func requireFolder(of path: String, option: String) throws(CLIError) {
  let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
  var isFolder: ObjCBool = false
  guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder),
    isFolder.boolValue
  else {
    throw CLIError(message: "\(option) \(path): folder \(folder.path) does not exist")
  }
}

/// A cell as a number, as a one-line `CLIError` (an empty cell says how to drop such rows).
func cellNumber(_ table: CSVTable, _ row: Int, _ column: Int) throws(CLIError) -> Double {
  do {
    return try table.number(row: row, column: column)
  } catch {
    throw CLIError(
      message: error.description
        + (error.isEmptyCell ? "; fill it in (train --drop-missing leaves such rows out)" : ""))
  }
}
