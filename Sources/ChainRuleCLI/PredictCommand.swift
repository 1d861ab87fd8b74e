import ChainRule
import Foundation

/// `chainrule predict`: a saved model's predictions for every row of a CSV file.
enum PredictCommand: Command {
  static let name = "predict"
  static let summary = "predictions of a saved model for every row of a CSV file"
  static let options = ["--model", "--data", "--out"]
  static let flags = ["--no-header"]
  static let help = """
    usage: chainrule predict --model MODEL.safetensors --data FILE.csv [--out predictions.csv]

    Reads the model's feature columns (by name, in any order; other columns are ignored),
    standardises them as in training, and writes one CSV row per input row: `prediction` (the
    class's name as the training file wrote it, e.g. setosa or 3, or the predicted value) and,
    for classification, one probability column per class, `p_<class>`. When the file also has the label column, the accuracy (or
    RMSE) is reported on standard error.

    options:
      --model FILE   a model file written by `chainrule train`, or by the library's
                     `Sequential.save(to:data:)` with any layers but embeddings (a CNN
                     saved with `inputShape: [1, 8, 8]` gets each row reshaped to it)
                     (required)
      --data FILE    CSV file with the model's feature columns (required)
      --out FILE     where to write the predictions, atomically (default: standard output)
      --no-header    the file's first line is data; columns are numbered 1, 2, …
      -h, --help     this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    if let out = arguments.string("--out") { try requireFolder(of: out, option: "--out") }
    let loaded = try ModelBundle.loadPredictor(try arguments.required("--model"), as: Float.self)
    let table = try CSVTable.load(
      try arguments.required("--data"), hasHeader: !arguments.has("--no-header"))
    let spec = loaded.data
    let features = try spec.features(table, as: Float.self)
    let labelIndex = table.columns.firstIndex(of: spec.labelColumn)

    var lines: [String] = []
    lines.reserveCapacity(table.rowCount + 1)
    var header = ["prediction"]
    if spec.task == .classification { header += spec.classes.map { CSVTable.field("p_" + $0) } }
    lines.append(header.joined(separator: ","))
    var correct = 0
    var squaredError = 0.0
    let width = features.shape[1]
    var scored = 0
    // Batches of up to 1,024 rows, fewer when a layer's output per row is large (a CNN's
    // feature maps), so a batch's largest activation stays near 2²⁴ values.
    let rows = max(1, min(1024, (1 << 24) / max(1, loaded.largestActivation)))
    for start in stride(from: 0, to: table.rowCount, by: rows) {
      let end = min(start + rows, table.rowCount)
      let chunk = Tensor(
        shape: [end - start] + loaded.inputShape,
        scalars: Array(features.scalars[start * width..<end * width]))
      let graph = Graph<Float>()
      let output = loaded.model(graph.input(chunk, name: "x"))
      let values: Tensor<Float> =
        spec.task == .classification ? output.softmax().value : output.value
      // Finite inputs and finite weights can still overflow (inputs far outside the training
      // range): refuse rather than print NaN probabilities.
      let outputs = values.shape[1]
      if let bad = values.scalars.firstIndex(where: { !$0.isFinite }) {
        throw CLIError(
          message:
            "\(table.source), line \(table.lines[start + bad / outputs]): the model's output is "
            + "\(values.scalars[bad]) (its inputs are too far from the training data)")
      }
      for row in 0..<(end - start) {
        // The label cell, when the file has the column and the cell is not empty.
        let truth = labelIndex.map { table.cells[start + row][$0] }.flatMap {
          $0.isEmpty ? nil : $0
        }
        switch spec.task {
        case .classification:
          let probabilities = (0..<spec.classes.count).map { Double(values[row, $0]) }
          let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
          if let truth {
            scored += 1
            if CSVTable.classIndex(of: truth, in: spec.classes) == best { correct += 1 }
          }
          lines.append(
            ([CSVTable.field(spec.classes[best])] + probabilities.map { String(format: "%.6g", $0) })
              .joined(separator: ","))
        case .regression:
          let predicted = Double(values[row, 0]) * spec.labelStd + spec.labelMean
          if let truth, let value = CSVTable.number(truth) {
            scored += 1
            squaredError += (predicted - value) * (predicted - value)
          }
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
      Terminal.error("wrote \(table.rowCount) predictions to \(out)\n")
    } else {
      print(text, terminator: "")
    }
    if labelIndex != nil && scored > 0 {
      let count = Double(scored)
      let score =
        spec.task == .classification
        ? "accuracy \(correct)/\(scored) = \(Format.percent(Double(correct) / count))"
        : "RMSE \(Format.fixed((squaredError / count).squareRoot(), 4))"
      Terminal.error("\(spec.labelColumn) present in \(table.source): \(score)\n")
    }
  }
}
