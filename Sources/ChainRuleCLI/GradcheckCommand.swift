import ChainRule
import Foundation

/// `chainrule gradcheck`: the model's backward pass against central differences on one batch.
enum GradcheckCommand: Command {
  static let name = "gradcheck"
  static let summary = "check a saved model's gradients against central differences"
  static let options = ["--model", "--data", "--batch-size", "--epsilon"]
  static let help = """
    usage: chainrule gradcheck --model MODEL.safetensors --data FILE.csv [--batch-size B]

    Builds the model's loss on the first B rows of the file (features standardised as in
    training, the label column as target) in Double precision, runs the chain rule backwards,
    and compares every parameter's gradient element by element with the central difference
    (L(w + ε) − L(w − ε)) / 2ε. Prints the report (largest absolute and relative error per
    parameter, the worst element) and exits with status 1 when any element fails
    |analytic − numeric| ≤ 1e-5 + 1e-3·|numeric|.

    options:
      --model FILE     a model file written by `chainrule train` (required)
      --data FILE      CSV file with the model's feature and label columns (required)
      --batch-size B   rows in the batch (default: 8)
      --epsilon E      the central-difference step ε (default: 1e-6)
      -h, --help       this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    let loaded = try ModelBundle.load(try arguments.required("--model"), as: Double.self)
    let table = try CSVTable.load(try arguments.required("--data"))
    let batchSize = try arguments.int("--batch-size", default: 8, in: 1...100_000)
    let epsilon = try arguments.double("--epsilon", default: 1e-6, in: 1e-12...1)
    let spec = loaded.spec
    let rows = min(batchSize, table.rows.count)
    let labelIndex = try Setup.column(spec.labelColumn, in: table)
    let features = try spec.features(table, as: Double.self)
    let width = features.shape[1]
    let x = Tensor(shape: [rows, width], scalars: Array(features.scalars[0..<(rows * width)]))
    let y = try spec.targets(
      table.rows.prefix(rows).map { $0[labelIndex] }, source: table.source,
      labelLine: { $0 + 2 }, as: Double.self)

    let graph = Graph<Double>()
    let loss = spec.loss(loaded.model(graph.input(x, name: "x")), graph.input(y, name: "y"))
    print(
      "model \(arguments.string("--model")!): loss on rows 1–\(rows) of \(table.source) = "
        + "\(loss.value.scalar)")
    let report = checkGradients(graph, loss: loss, epsilon: epsilon)
    print(report)
    if !report.failures.isEmpty {
      throw CLIError(
        message: "gradient check failed for \(report.failures.count) of "
          + "\(report.entries.count) parameters")
    }
    guard report.passed else {
      // Every gradient and its finite difference were below the absolute tolerance.
      throw CLIError(
        message: "gradient check was vacuous: no gradient element of the "
          + "\(report.entries.count) parameters was above the absolute tolerance, so nothing "
          + "was checked; try other rows")
    }
  }

  /// The one place the gradient check is called: `Graph.checkGradients` (Sources/ChainRule/
  /// Checking), every parameter node, default tolerances.
  static func checkGradients(_ graph: Graph<Double>, loss: Node<Double>, epsilon: Double)
    -> GradientCheckReport
  {
    graph.checkGradients(of: loss, epsilon: epsilon)
  }
}
