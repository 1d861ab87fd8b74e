import ChainRule
import Foundation

/// What `train` starts from: a fresh network built from the command line, or a saved one;
/// either way the data split into training and validation rows.
struct Setup {
  var spec: ModelSpec
  var training: TrainingState
  var model: Sequential<Float>
  var optimizerState: [String: Tensor<Float>] = [:]
  var split: (training: Dataset<Float>, validation: Dataset<Float>)

  /// A new network: the task, the classes and the standardisation come from the data.
  init(arguments: Arguments, table: CSVTable) throws(CLIError) {
    let label = try arguments.required("--label")
    let labelIndex = try Self.column(label, in: table)
    let table = try Self.complete(table, dropping: arguments.has("--drop-missing"))
    let numeric = table.isNumeric(column: labelIndex)
    let classes = table.classNames(inColumn: labelIndex)
    let integral =
      numeric
      && table.cells.allSatisfy {
        CSVTable.number($0[labelIndex])!.rounded() == CSVTable.number($0[labelIndex])!
      }
    let guessed: Task =
      !numeric || (integral && classes.count <= 20) ? .classification : .regression
    let task = try arguments.choice("--task", default: guessed)
    if task == .regression && !numeric {
      let row = table.cells.firstIndex { CSVTable.number($0[labelIndex]) == nil }!
      throw CLIError(
        message: "\(table.source), line \(table.lines[row]), column \(labelIndex + 1) "
          + "(\(CSVError.quoted(label))): \(CSVError.quoted(table.cells[row][labelIndex])) is not "
          + "a number; regression needs numbers (text labels are classes: drop --task regression)")
    }
    if task == .classification && classes.count > 1000 {
      throw CLIError(
        message: "\(table.source): column \"\(label)\" has \(classes.count) distinct values, "
          + "too many classes for classification (use --task regression)")
    }
    if task == .classification && classes.count < 2 {
      throw CLIError(
        message: "\(table.source): column \"\(label)\" has only one value "
          + "(\(CSVError.quoted(classes[0]))); classification needs at least two classes")
    }
    let optimizer = try arguments.choice("--optimizer", default: OptimizerKind.adam)
    training = TrainingState(
      optimizer: optimizer,
      learningRate: try arguments.double(
        "--lr", default: optimizer == .adam ? 0.01 : 0.1, in: Limits.learningRate),
      momentum: try arguments.double("--momentum", default: 0, in: Limits.momentum),
      batchSize: try arguments.int("--batch-size", default: 32, in: Limits.batchSize),
      seed: UInt64(try arguments.int("--seed", default: 1, in: Limits.seed)),
      validation: try arguments.double("--validation", default: 0.2, in: Limits.validation),
      epochs: 0, stepCount: 0, rowCount: table.rowCount, history: [])
    if training.optimizer == .adam && training.momentum != 0 {
      throw .usage("train: --momentum applies to --optimizer sgd only")
    }
    let hidden = try arguments.sizes("--hidden", default: [32])
    let activation = try arguments.choice("--activation", default: HiddenActivation.relu)
    let sizes = [table.columns.count - 1] + hidden + [task == .classification ? classes.count : 1]
    let weights = zip(sizes, sizes.dropFirst()).map { Double($0) * Double($1) }.reduce(0, +)
    guard weights <= Double(Limits.weights) else {
      throw .usage(
        "train: --hidden \(hidden.map(String.init).joined(separator: ",")) gives "
          + "\(Int(weights)) weights, more than the \(Limits.weights) this tool trains")
    }

    let order = Self.order(rows: table.rowCount, training: training)
    let trainingRows = order.training
    guard !trainingRows.isEmpty else {
      throw CLIError(
        message: "\(table.source): \(table.rowCount) row\(table.rowCount == 1 ? "" : "s") "
          + "leave no training rows after --validation \(training.validation)")
    }
    let featureIndices = table.columns.indices.filter { $0 != labelIndex }
    guard !featureIndices.isEmpty else {
      throw CLIError(message: "\(table.source): no feature columns besides \"\(label)\"")
    }
    // Standardisation from the training rows only (population standard deviation; a
    // constant column is divided by 1).
    var mean: [Double] = []
    var std: [Double] = []
    for index in featureIndices {
      var values: [Double] = []
      values.reserveCapacity(trainingRows.count)
      for row in trainingRows { values.append(try cellNumber(table, row, index)) }
      let (m, s) = try Self.moments(values, index, table)
      mean.append(m)
      std.append(s)
    }
    var labelMoments = (mean: 0.0, std: 1.0)
    if task == .regression {
      var values: [Double] = []
      for row in trainingRows { values.append(try cellNumber(table, row, labelIndex)) }
      labelMoments = try Self.moments(values, labelIndex, table)
    }
    let (labelMean, labelStd) = labelMoments
    spec = ModelSpec(
      featureColumns: featureIndices.map { table.columns[$0] }, labelColumn: label, task: task,
      classes: task == .classification ? classes : [], hidden: hidden, activation: activation,
      featureMean: mean, featureStd: std, labelMean: labelMean, labelStd: labelStd)
    var generator = Xoshiro256StarStar(seed: training.seed)
    model = spec.makeModel(Float.self, using: &generator)
    split = try Self.datasets(table, spec: spec, order: order)
  }

  /// A saved network and its training state; the data must have its columns.
  init(resuming loaded: ModelBundle.Loaded<Float>, table: CSVTable, dropMissing: Bool)
    throws(CLIError)
  {
    spec = loaded.spec
    training = loaded.training
    model = loaded.model
    optimizerState = loaded.optimizerState
    _ = try Self.column(spec.labelColumn, in: table)
    let table = try Self.complete(table, dropping: dropMissing)
    let order = Self.order(rows: table.rowCount, training: training)
    guard !order.training.isEmpty else {
      throw CLIError(
        message: "\(table.source): \(table.rowCount) row\(table.rowCount == 1 ? "" : "s") "
          + "leave no training rows after the model's validation fraction \(training.validation)")
    }
    if table.rowCount != training.rowCount {
      Terminal.error(
        "chainrule: warning: \(table.source) has \(table.rowCount) rows, the model was "
          + "trained on \(training.rowCount); the training/validation split differs\n")
    }
    split = try Self.datasets(table, spec: spec, order: order)
  }

  /// The index of column `name` (a column number for a file without a header).
  static func column(_ name: String, in table: CSVTable) throws(CLIError) -> Int {
    do {
      return try table.columnIndex(named: name)
    } catch {
      throw CLIError(message: error.description)
    }
  }

  /// `table` when no cell is empty; with `dropping`, the table without the rows that have an
  /// empty cell (their count and first lines said on standard error), else an error naming
  /// the first empty cell.
  static func complete(_ table: CSVTable, dropping: Bool) throws(CLIError) -> CSVTable {
    let all = Array(table.columns.indices)
    guard dropping else {
      for row in 0..<table.rowCount {
        if let column = all.first(where: { table.cells[row][$0].isEmpty }) {
          _ = try cellNumber(table, row, column)
        }
      }
      return table
    }
    let (kept, dropped) = table.droppingRows(withEmptyCellsIn: all)
    if !dropped.isEmpty {
      let shown = dropped.prefix(5).map(String.init).joined(separator: ", ")
      Terminal.error(
        "chainrule: --drop-missing left out \(dropped.count) row\(dropped.count == 1 ? "" : "s") "
          + "with empty cells (line\(dropped.count == 1 ? "" : "s") \(shown)"
          + "\(dropped.count > 5 ? ", …" : ""))\n")
    }
    guard kept.rowCount > 0 else {
      throw CLIError(message: "\(table.source): every row has an empty cell")
    }
    return kept
  }

  /// The rows in an order drawn from the seed, cut into training and validation rows.
  static func order(rows: Int, training: TrainingState) -> (training: [Int], validation: [Int]) {
    var generator = Xoshiro256StarStar(seed: training.seed ^ 0x5EED_DA7A_5EED_DA7A)
    let order = generator.permutation(of: rows)
    let held = Int((Double(rows) * training.validation).rounded())
    return (Array(order[held...]), Array(order[..<held]))
  }

  /// The mean and population standard deviation of column `column`'s training values (a
  /// standard deviation ≤ 1e-12, a constant column, is replaced by 1).
  /// - Throws: `CLIError` naming the column when its values are too large for the sum or the
  ///   sum of squares to be a finite `Double` (values near ±1e308, or spread beyond ±1e154):
  ///   standardising them would feed NaN to the network.
  static func moments(_ values: [Double], _ column: Int, _ table: CSVTable) throws(CLIError)
    -> (mean: Double, std: Double)
  {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
    guard mean.isFinite, variance.isFinite else {
      let largest = values.map(abs).max() ?? 0
      throw CLIError(
        message: "\(table.source): column \(column + 1) (\(CSVError.quoted(table.columns[column])))"
          + " has values up to ±\(largest), too large to standardise (its "
          + "\(mean.isFinite ? "variance" : "mean") overflows a Double); rescale the column")
    }
    let std = variance.squareRoot()
    return (mean, std > Limits.smallestStd ? std : 1)
  }

  static func datasets(
    _ table: CSVTable, spec: ModelSpec, order: (training: [Int], validation: [Int])
  ) throws(CLIError) -> (training: Dataset<Float>, validation: Dataset<Float>) {
    let labelIndex = try column(spec.labelColumn, in: table)
    let features = try spec.features(table, as: Float.self)
    let targets = try spec.targets(
      table, labelIndex: labelIndex, rows: 0..<table.rowCount, as: Float.self)
    let all: Dataset<Float>
    do {
      all = try Dataset(features: features, labels: targets)
    } catch {
      throw CLIError(message: "\(table.source): \(error)")
    }
    return (all.subset(order.training), all.subset(order.validation))
  }
}
