import ChainRule
import Foundation

/// `chainrule gradcheck`: the model's backward pass against central differences on a sample
/// of rows.
enum GradcheckCommand: Command {
  static let name = "gradcheck"
  static let summary = "check a saved model's gradients against central differences"
  static let options = ["--model", "--data", "--rows", "--seed", "--atol", "--rtol", "--eps"]
  static let flags = ["--no-header"]
  static let help = """
    usage: chainrule gradcheck --model MODEL.safetensors --data FILE.csv [--rows N] [--seed S]
                               [--atol A] [--rtol R] [--eps E]

    Builds the model's loss on N rows of the file drawn with seed S (features standardised as
    in training, the label column as target) in Double precision, runs the chain rule
    backwards, and compares every parameter's gradient element by element with the central
    difference. For classification the rows are stratified: the classes take turns, so a file
    sorted by class (iris) still gives a batch with every class. Prints the report (largest
    absolute and relative error per parameter, the worst element, ok / FAIL / vacuous) and
    exits with status 1 when any element fails |analytic − numeric| ≤ atol + rtol·|numeric|,
    or when the check is vacuous: every gradient and its difference within atol of zero, so
    nothing was checked (a vacuous parameter beside checked ones is marked, not failed).

    options:
      --model FILE   a model file written by `chainrule train` (required)
      --data FILE    CSV file with the model's feature and label columns (required)
      --rows N       rows in the batch (default: 8; all rows when the file has fewer)
      --seed S       seed of the row sample (default: 1)
      --atol A       absolute tolerance (default: 1e-5)
      --rtol R       relative tolerance (default: 1e-3)
      --eps E        the central-difference step ε (default: 1e-6)
      --no-header    the file's first line is data; columns are numbered 1, 2, …
      -h, --help     this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    let modelPath = try arguments.required("--model")
    let dataPath = try arguments.required("--data")
    let count = try arguments.int("--rows", default: 8, in: 1...100_000)
    let seed = UInt64(try arguments.int("--seed", default: 1, in: Limits.seed))
    let atol = try arguments.double("--atol", default: 1e-5, in: 0...1e6)
    let rtol = try arguments.double("--rtol", default: 1e-3, in: 0...1e6)
    let epsilon = try arguments.double("--eps", default: 1e-6, in: 1e-12...1)
    let loaded = try ModelBundle.load(modelPath, as: Double.self)
    let table = try CSVTable.load(dataPath, hasHeader: !arguments.has("--no-header"))
    let spec = loaded.spec
    let labelIndex = try Setup.column(spec.labelColumn, in: table)
    let rows = try sample(count, of: table, spec: spec, labelIndex: labelIndex, seed: seed)
    let features = try spec.features(table, as: Double.self)
    let width = features.shape[1]
    var scalars: [Double] = []
    for row in rows { scalars += features.scalars[row * width..<(row + 1) * width] }
    let x = Tensor(shape: [rows.count, width], scalars: scalars)
    let y = try spec.targets(table, labelIndex: labelIndex, rows: rows, as: Double.self)

    let graph = Graph<Double>()
    let loss = spec.loss(loaded.model(graph.input(x, name: "x")), graph.input(y, name: "y"))
    let lines = rows.map { table.lines[$0] }
    print(
      "model \(modelPath): loss on \(rows.count) rows of \(table.source) (seed \(seed), lines "
        + "\(ModelSpec.list(lines.map(String.init)))) = \(loss.value.scalar)")
    if spec.task == .classification {
      var perClass = [Int](repeating: 0, count: spec.classes.count)
      for row in rows {
        if let index = CSVTable.classIndex(of: table.cells[row][labelIndex], in: spec.classes) {
          perClass[index] += 1
        }
      }
      print(
        "rows per class: "
          + zip(spec.classes, perClass).map { "\($0) \($1)" }.joined(separator: ", "))
    }
    let report = graph.checkGradients(
      of: loss, epsilon: epsilon, absoluteTolerance: atol, relativeTolerance: rtol)
    print(report)
    switch report.status {
    case .passed: break
    case .failed:
      throw CLIError(
        message: "gradient check failed for \(report.failures.count) of "
          + "\(report.entries.count) parameters")
    case .vacuous:
      throw CLIError(
        message: "gradient check was vacuous: no gradient element of the "
          + "\(report.entries.count) parameters was above the absolute tolerance \(atol), so "
          + "nothing was checked; try other rows (--seed, --rows) or a smaller --atol")
    }
  }

  /// `count` row indices drawn with `seed`. Classification: stratified, the classes (in
  /// class-index order) taking turns, each class's rows in a seeded shuffled order, so every
  /// class is represented whenever `count` ≥ the number of classes. Regression: the first
  /// `count` of a seeded shuffle. The result is sorted by row.
  static func sample(
    _ count: Int, of table: CSVTable, spec: ModelSpec, labelIndex: Int, seed: UInt64
  ) throws(CLIError) -> [Int] {
    var generator = Xoshiro256StarStar(seed: seed)
    let order = generator.permutation(of: table.rowCount)
    guard spec.task == .classification else { return order.prefix(count).sorted() }
    var byClass = [[Int]](repeating: [], count: spec.classes.count)
    for row in order {
      let cell = table.cells[row][labelIndex]
      guard let index = CSVTable.classIndex(of: cell, in: spec.classes) else {
        // The targets report it with its line.
        _ = try spec.targets(table, labelIndex: labelIndex, rows: [row], as: Double.self)
        continue
      }
      byClass[index].append(row)
    }
    var picked: [Int] = []
    var round = 0
    while picked.count < min(count, table.rowCount) {
      for rows in byClass where round < rows.count && picked.count < count {
        picked.append(rows[round])
      }
      round += 1
    }
    return picked.sorted()
  }
}
