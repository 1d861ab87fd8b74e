import ChainRule
import Foundation

/// `chainrule predict`: a saved model's predictions for every row of a CSV file.
enum PredictCommand: Command {
  static let name = "predict"
  static let summary = "predictions of a saved model for every row of a CSV file"
  static let options = ["--model", "--data", "--out"]
  static let help = """
    usage: chainrule predict --model MODEL.safetensors --data FILE.csv [--out predictions.csv]

    Reads the model's feature columns (by name, in any order; other columns are ignored),
    standardises them as in training, and writes one CSV row per input row: `prediction` (the
    class's label value, or the predicted value) and, for classification, one probability
    column per class, `p_<class>`. When the file also has the label column, the accuracy (or
    RMSE) is reported on standard error.

    options:
      --model FILE   a model file written by `chainrule train` (required)
      --data FILE    CSV file with the model's feature columns (required)
      --out FILE     where to write the predictions, atomically (default: standard output)
      -h, --help     this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    if let out = arguments.string("--out") { try requireFolder(of: out, option: "--out") }
    let loaded = try ModelBundle.load(try arguments.required("--model"), as: Float.self)
    let table = try CSVTable.load(try arguments.required("--data"))
    let spec = loaded.spec
    let features = try spec.features(table, as: Float.self)
    let labelIndex = table.columns.firstIndex(of: spec.labelColumn)

    var lines: [String] = []
    lines.reserveCapacity(table.rows.count + 1)
    var header = ["prediction"]
    if spec.task == .classification { header += spec.classes.map { "p_\(ModelSpec.show($0))" } }
    lines.append(header.joined(separator: ","))
    var correct = 0
    var squaredError = 0.0
    let width = features.shape[1]
    for start in stride(from: 0, to: table.rows.count, by: 1024) {
      let end = min(start + 1024, table.rows.count)
      let chunk = Tensor(
        shape: [end - start, width], scalars: Array(features.scalars[start * width..<end * width]))
      let graph = Graph<Float>()
      let output = loaded.model(graph.input(chunk, name: "x"))
      let values: Tensor<Float> =
        spec.task == .classification ? output.softmax().value : output.value
      // Finite inputs and finite weights can still overflow (inputs far outside the training
      // range): refuse rather than print NaN probabilities.
      let outputs = values.shape[1]
      if let bad = values.scalars.firstIndex(where: { !$0.isFinite }) {
        throw CLIError(
          message: "\(table.source), line \(start + bad / outputs + 2): the model's output is "
            + "\(values.scalars[bad]) (its inputs are too far from the training data)")
      }
      for row in 0..<(end - start) {
        let truth = labelIndex.map { table.rows[start + row][$0] }
        switch spec.task {
        case .classification:
          let probabilities = (0..<spec.classes.count).map { Double(values[row, $0]) }
          let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
          let predicted = spec.classes[best]
          if truth == predicted { correct += 1 }
          lines.append(
            ([ModelSpec.show(predicted)] + probabilities.map { String(format: "%.6g", $0) })
              .joined(separator: ","))
        case .regression:
          let predicted = Double(values[row, 0]) * spec.labelStd + spec.labelMean
          if let truth { squaredError += (predicted - truth) * (predicted - truth) }
          lines.append(String(format: "%.9g", predicted))
        }
      }
    }
    let text = lines.joined(separator: "\n") + "\n"
    if let out = arguments.string("--out") {
      do {
        try DotFile.write(text, to: URL(fileURLWithPath: out))
      } catch {
        throw CLIError(message: error.description)
      }
      Terminal.error("wrote \(table.rows.count) predictions to \(out)\n")
    } else {
      print(text, terminator: "")
    }
    if labelIndex != nil {
      let count = Double(table.rows.count)
      let score =
        spec.task == .classification
        ? "accuracy \(correct)/\(table.rows.count) = \(Format.percent(Double(correct) / count))"
        : "RMSE \(Format.fixed((squaredError / count).squareRoot(), 4))"
      Terminal.error("\(spec.labelColumn) present in \(table.source): \(score)\n")
    }
  }
}
