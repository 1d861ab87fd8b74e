import ChainRule
import Foundation

/// The limits `train` puts on its options, shared with the checks of a model file: a file is
/// accepted only when `train` could have written it, so a damaged or hand-edited file is
/// refused by name before anything is allocated, never trusted into a trap, a huge
/// allocation, or plausible-looking wrong output.
enum Limits {
  /// Units per hidden layer (`--hidden`).
  static let layerSize = 1...100_000
  /// Weights of the whole network, counted in `Double` so no size can overflow.
  static let weights = 50_000_000
  /// `--batch-size`.
  static let batchSize = 1...1_000_000
  /// `--lr`.
  static let learningRate = 1e-12...1e6
  /// `--momentum` (SGD only; Adam's is 0).
  static let momentum = 0...0.999_999
  /// `--validation`: the held-out fraction; at most 0.9 so that training rows remain.
  static let validation = 0...0.9
  /// `--epochs`: epochs per run.
  static let epochsPerRun = 1...1_000_000
  /// `--seed`.
  static let seed = 0...Int.max
  /// Classes of a classification label.
  static let classes = 2...1000
  /// A standard deviation at or below this is a constant column, divided by 1 instead.
  static let smallestStd = 1e-12
  /// The largest standard deviation whose variance is a finite `Double`.
  static let largestStd = Double.greatestFiniteMagnitude.squareRoot()
  /// Adam steps per epoch: one per batch, at most one batch per row.
  static let stepsPerEpoch = 1 << 32
}

/// One metadata field that breaks the rules: which, what it holds, what it must be.
struct MetadataProblem: Error {
  /// The JSON path: `batchSize`, `hidden[0]`, `history[3].trainLoss`.
  var field: String
  /// The value as found (or a summary of it).
  var value: String
  /// The rule, `must be ≥ 1`.
  var rule: String

  /// `field "batchSize" is 0; must be ≥ 1`.
  var description: String { "field \"\(field)\" is \(value); \(rule)" }

  /// The problem when `value` is outside `range` (or, for `Double`, not finite).
  static func check<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ field: String)
    throws(MetadataProblem)
  {
    if let double = value as? Double, !double.isFinite {
      throw MetadataProblem(field: field, value: "\(value)", rule: "must be a finite number")
    }
    if value < range.lowerBound {
      throw MetadataProblem(field: field, value: "\(value)", rule: "must be ≥ \(range.lowerBound)")
    }
    if value > range.upperBound {
      throw MetadataProblem(field: field, value: "\(value)", rule: "must be ≤ \(range.upperBound)")
    }
  }
}

extension ModelSpec {
  /// The layer sizes, input to output.
  var layerSizes: [Int] { [featureColumns.count] + hidden + [outputSize] }

  /// The layers as the model format records them.
  var layers: [LayerRecord] {
    let sizes = layerSizes
    return (0..<(sizes.count - 1)).map { index in
      LayerRecord(
        kind: "dense", inputSize: sizes[index], outputSize: sizes[index + 1],
        activation: index == sizes.count - 2 ? Activation.none.rawValue : activation.rawValue)
    }
  }

  /// The command line's view of a file's description: a multilayer perceptron (dense layers,
  /// one hidden activation among relu, tanh and sigmoid, none on the output) with a data
  /// description.
  /// - Throws: `MetadataProblem` naming the field (as a JSON path) that does not fit.
  init(_ description: ModelDescription) throws(MetadataProblem) {
    guard let data = description.data else {
      throw MetadataProblem(
        field: "data", value: "missing",
        rule: "must describe the columns the model reads (save with data: to use the model "
          + "with chainrule)")
    }
    let layers = description.layers
    var activation = HiddenActivation.relu
    for (index, layer) in layers.enumerated() {
      guard layer.kind == "dense" else {
        throw MetadataProblem(
          field: "layers[\(index)].kind", value: CSVError.quoted(layer.kind),
          rule: "must be \"dense\": chainrule train, gradcheck and dot handle multilayer "
            + "perceptrons (predict and summary read every layer kind of a file the library "
            + "saved without chainrule.training; load other models with SavedModel.load(from:))")
      }
      let name = layer.activation ?? "none"
      if index == layers.count - 1 {
        guard name == "none" else {
          throw MetadataProblem(
            field: "layers[\(index)].activation", value: CSVError.quoted(name),
            rule: "must be \"none\" on the output layer (logits or a value)")
        }
      } else {
        guard let hidden = HiddenActivation(rawValue: name), index == 0 || hidden == activation
        else {
          throw MetadataProblem(
            field: "layers[\(index)].activation", value: CSVError.quoted(name),
            rule: "must be relu, tanh or sigmoid, the same in every hidden layer")
        }
        activation = hidden
      }
    }
    self.init(
      featureColumns: data.featureColumns, labelColumn: data.labelColumn, task: data.task,
      classes: data.classes, hidden: layers.dropLast().map { $0.outputSize ?? 0 },
      activation: activation, featureMean: data.featureMean, featureStd: data.featureStd,
      labelMean: data.labelMean, labelStd: data.labelStd)
  }

  /// Checks every field against what `train` writes, in an order that makes each check safe
  /// (sizes before products of sizes). Fields are named by their JSON path in the file.
  /// - Throws: `MetadataProblem` for the first field that breaks a rule.
  func validate() throws(MetadataProblem) {
    try data.validate()
    for (index, size) in hidden.enumerated() {
      try MetadataProblem.check(size, in: Limits.layerSize, "layers[\(index)].outputSize")
    }
    let sizes = layerSizes
    let weights = zip(sizes, sizes.dropFirst()).map { Double($0) * Double($1) }.reduce(0, +)
    guard weights <= Double(Limits.weights) else {
      throw MetadataProblem(
        field: "layers", value: "\(sizes)",
        rule: "gives \(Int(weights)) weights, more than the \(Limits.weights) train allows")
    }
  }
}

extension DataDescription {
  /// Checks every field of the data description against what `train` writes. Fields are
  /// named by their JSON path in the file (`data.featureStd[2]`).
  /// - Throws: `MetadataProblem` for the first field that breaks a rule.
  func validate() throws(MetadataProblem) {
    guard !featureColumns.isEmpty else {
      throw MetadataProblem(field: "data.featureColumns", value: "[]", rule: "must name a column")
    }
    var seen: [String: Int] = [:]
    for (index, name) in featureColumns.enumerated() {
      try Self.checkName(name, "data.featureColumns[\(index)]")
      if let first = seen.updateValue(index, forKey: name) {
        throw MetadataProblem(
          field: "data.featureColumns[\(index)]", value: CSVError.quoted(name),
          rule: "must differ from every other column (it repeats data.featureColumns[\(first)])")
      }
    }
    try Self.checkName(labelColumn, "data.labelColumn")
    if let index = seen[labelColumn] {
      throw MetadataProblem(
        field: "data.labelColumn", value: CSVError.quoted(labelColumn),
        rule: "must not be a feature column (it is data.featureColumns[\(index)])")
    }
    switch task {
    case .classification:
      try MetadataProblem.check(classes.count, in: Limits.classes, "data.classes.count")
      var names: [String: Int] = [:]
      for (index, name) in classes.enumerated() {
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
          throw MetadataProblem(
            field: "data.classes[\(index)]", value: CSVError.quoted(name),
            rule: "must not hold a control character")
        }
        if let first = names.updateValue(index, forKey: name) {
          throw MetadataProblem(
            field: "data.classes[\(index)]", value: CSVError.quoted(name),
            rule: "must differ from every other class (it repeats data.classes[\(first)])")
        }
      }
      if labelMean != 0 || labelStd != 1 {
        throw MetadataProblem(
          field: labelMean != 0 ? "data.labelMean" : "data.labelStd",
          value: "\(labelMean != 0 ? labelMean : labelStd)",
          rule: "must be \(labelMean != 0 ? 0 : 1) for classification")
      }
    case .regression:
      guard classes.isEmpty else {
        throw MetadataProblem(
          field: "data.classes", value: "\(classes.count) values",
          rule: "must be empty for regression")
      }
      try MetadataProblem.check(
        labelMean, in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude,
        "data.labelMean")
      try Self.checkStd(labelStd, "data.labelStd")
    }
    for (name, values) in [("data.featureMean", featureMean), ("data.featureStd", featureStd)]
    where values.count != featureColumns.count {
      throw MetadataProblem(
        field: name, value: "\(values.count) values",
        rule: "must have one per feature column (\(featureColumns.count))")
    }
    for (index, mean) in featureMean.enumerated() where !mean.isFinite {
      throw MetadataProblem(
        field: "data.featureMean[\(index)]", value: "\(mean)", rule: "must be a finite number")
    }
    for (index, std) in featureStd.enumerated() {
      try Self.checkStd(std, "data.featureStd[\(index)]")
    }
  }

  /// A name a CSV header can hold: not empty, no control character, no spaces around it
  /// (the reader trims them). A comma is fine: the reader takes quoted names.
  private static func checkName(_ name: String, _ field: String) throws(MetadataProblem) {
    let plain =
      !name.isEmpty
      && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
      && name.trimmingCharacters(in: .whitespaces) == name
    guard plain else {
      throw MetadataProblem(
        field: field, value: CSVError.quoted(name),
        rule: "must be a CSV column name (not empty; no control character or surrounding "
          + "space)")
    }
  }

  /// A standard deviation `train` can have computed: above the constant-column threshold
  /// (train divides a constant column by 1) and with a finite variance.
  private static func checkStd(_ std: Double, _ field: String) throws(MetadataProblem) {
    guard std.isFinite, std > Limits.smallestStd, std <= Limits.largestStd else {
      throw MetadataProblem(
        field: field, value: "\(std)",
        rule: "must be a standard deviation in (\(Limits.smallestStd), \(Limits.largestStd)]")
    }
  }
}

extension TrainingState {
  /// Checks every field against what `train` writes for a model described by `spec`.
  /// - Throws: `MetadataProblem` for the first field that breaks a rule.
  func validate(for spec: ModelSpec) throws(MetadataProblem) {
    try MetadataProblem.check(learningRate, in: Limits.learningRate, "learningRate")
    switch optimizer {
    case .sgd: try MetadataProblem.check(momentum, in: Limits.momentum, "momentum")
    case .adam:
      guard momentum == 0 else {
        throw MetadataProblem(field: "momentum", value: "\(momentum)", rule: "must be 0 for adam")
      }
    }
    try MetadataProblem.check(batchSize, in: Limits.batchSize, "batchSize")
    guard seed <= UInt64(Limits.seed.upperBound) else {
      throw MetadataProblem(field: "seed", value: "\(seed)", rule: "must be ≤ \(Int.max)")
    }
    try MetadataProblem.check(validation, in: Limits.validation, "validation")
    try MetadataProblem.check(rowCount, in: 1...Int.max, "rowCount")
    let held = Int((Double(rowCount) * validation).rounded())
    guard held < rowCount else {
      throw MetadataProblem(
        field: "rowCount", value: "\(rowCount)",
        rule: "must leave training rows after validation \(validation)")
    }
    // Each saved run adds one record per epoch, so the history bounds the epoch count.
    try MetadataProblem.check(epochs, in: 1...Int.max, "epochs")
    guard history.count == epochs else {
      throw MetadataProblem(
        field: "epochs", value: "\(epochs)",
        rule: "must equal the number of records in \"history\" (\(history.count))")
    }
    for (index, record) in history.enumerated() {
      try record.validate("history[\(index)]", epoch: index + 1, task: spec.task)
    }
    switch optimizer {
    case .sgd:
      guard stepCount == 0 else {
        throw MetadataProblem(field: "stepCount", value: "\(stepCount)", rule: "must be 0 for sgd")
      }
    case .adam:
      // One step per batch, at least one batch per epoch.
      let (most, overflow) = epochs.multipliedReportingOverflow(by: Limits.stepsPerEpoch)
      try MetadataProblem.check(
        stepCount, in: epochs...(overflow ? Int.max : most), "stepCount")
    }
  }
}

extension EpochRecord {
  /// The numbers of epoch `epoch`: losses finite and ≥ 0, accuracies in [0, 1] and present
  /// exactly for classification.
  func validate(_ field: String, epoch expected: Int, task: Task) throws(MetadataProblem) {
    guard epoch == expected else {
      throw MetadataProblem(field: "\(field).epoch", value: "\(epoch)", rule: "must be \(expected)")
    }
    try MetadataProblem.check(
      trainLoss, in: 0...Double.greatestFiniteMagnitude, "\(field).trainLoss")
    if let validationLoss {
      try MetadataProblem.check(
        validationLoss, in: 0...Double.greatestFiniteMagnitude, "\(field).validationLoss")
    }
    let accuracies: [(name: String, value: Double?, required: Bool)] = [
      ("trainAccuracy", trainAccuracy, task == .classification),
      ("validationAccuracy", validationAccuracy, task == .classification && validationLoss != nil),
    ]
    for (name, value, required) in accuracies {
      switch (value, required) {
      case (let value?, true): try MetadataProblem.check(value, in: 0...1, "\(field).\(name)")
      case (nil, false): break
      case (nil, true):
        throw MetadataProblem(
          field: "\(field).\(name)", value: "missing", rule: "must be present for classification")
      case (let value?, false):
        throw MetadataProblem(
          field: "\(field).\(name)", value: "\(value)",
          rule: "must be absent "
            + (task == .regression ? "for regression" : "when there is no validation loss"))
      }
    }
  }
}

extension ModelBundle {
  /// The tensors a file for `spec` and `training` holds, by name: each layer's weight
  /// [in, out] and bias [out], and the optimizer's buffers (Adam: `m` and `v` of every
  /// parameter; SGD with momentum: `momentum`; plain SGD: none).
  static func expectedTensors(_ spec: ModelSpec, _ training: TrainingState) -> [String: [Int]] {
    var tensors: [String: [Int]] = [:]
    let sizes = spec.layerSizes
    let buffers =
      switch training.optimizer {
      case .adam: ["m", "v"]
      case .sgd: training.momentum != 0 ? ["momentum"] : []
      }
    for index in 0..<(sizes.count - 1) {
      let parameters = [
        ("layer\(index).weight", [sizes[index], sizes[index + 1]]),
        ("layer\(index).bias", [sizes[index + 1]]),
      ]
      for (name, shape) in parameters {
        tensors[name] = shape
        for buffer in buffers { tensors["\(optimizerPrefix)\(name).\(buffer)"] = shape }
      }
    }
    return tensors
  }

  /// The first tensor whose name or shape differs from what the metadata describes, as one
  /// line, or nil when the file holds exactly the expected tensors.
  static func tensorProblem(
    _ file: SafeTensorsFile, expected: [String: [Int]], _ spec: ModelSpec,
    _ training: TrainingState
  ) -> String? {
    let layout = spec.layerSizes.map(String.init).joined(separator: " → ")
    let state =
      switch training.optimizer {
      case .adam: "adam keeps m and v per parameter"
      case .sgd where training.momentum != 0:
        "sgd with momentum \(training.momentum) keeps a momentum buffer per parameter"
      case .sgd: "sgd with momentum 0 keeps no optimizer state"
      }
    for name in file.names {
      guard let shape = expected[name] else {
        return "tensor \(CSVError.quoted(name)) is not part of the network the metadata "
          + "describes (\(layout); \(state))"
      }
      if let info = file.info(named: name), info.shape != shape {
        return "tensor \"\(name)\" has shape \(info.shape); the metadata's network "
          + "(\(layout)) needs \(shape)"
      }
    }
    let names = Set(file.names)
    if let missing = expected.keys.sorted().first(where: { !names.contains($0) }) {
      return "tensor \"\(missing)\" is missing (\(layout); \(state))"
    }
    return nil
  }

  /// The first element that no file written by `train` holds: a NaN or infinity anywhere, or
  /// a negative Adam second moment (a mean of squares), as one line naming the tensor and
  /// the element.
  static func valueProblem<Scalar: TensorScalar>(_ name: String, _ tensor: Tensor<Scalar>)
    -> String?
  {
    let nonNegative = name.hasPrefix(optimizerPrefix) && name.hasSuffix(".v")
    let bad = tensor.scalars.withUnsafeBufferPointer { values in
      values.firstIndex { !$0.isFinite || (nonNegative && $0 < 0) }
    }
    guard let bad else { return nil }
    let index = rowMajorIndex(bad, shape: tensor.shape)
    let value = tensor.scalars[bad]
    return "tensor \"\(name)\" holds \(value) at \(index)"
      + (value.isFinite ? "; Adam's second moment v is never negative" : "")
  }
}
