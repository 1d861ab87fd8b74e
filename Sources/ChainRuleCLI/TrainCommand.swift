import ChainRule
import Foundation

/// `chainrule train`: a multilayer perceptron on a CSV file, saved with its optimizer state
/// so that `--resume` continues exactly where it stopped.
enum TrainCommand: Command {
  static let name = "train"
  static let summary = "train a multilayer perceptron on a CSV file; save, resume, plot"
  static let options = [
    "--data", "--label", "--task", "--hidden", "--activation", "--epochs", "--batch-size", "--lr",
    "--optimizer", "--momentum", "--seed", "--validation", "--save", "--plot", "--resume",
  ]
  static let flags = ["--no-header", "--drop-missing"]
  static let help = """
    usage: chainrule train --data FILE.csv --label COLUMN [options]
           chainrule train --resume MODEL.safetensors --data FILE.csv [--epochs N] [options]

    Trains a multilayer perceptron: every column but the label is a feature, standardised with
    the training rows' mean and standard deviation (kept in the model file). The task follows
    from the label column — class names (text such as setosa) or whole numbers with at most 20
    distinct values: classification (softmax cross-entropy; the class names are kept in the
    model and printed by predict); other numbers: regression (mean squared error of the
    standardised label; each epoch also shows the RMSE in the label's units) — unless --task
    says otherwise. Each epoch visits the training rows in an order
    drawn from (seed, epoch), so a resumed run is bitwise the same as an uninterrupted one.

    On a terminal a progress bar shows epoch, batch, loss, accuracy, samples/s and ETA on
    standard error; every epoch ends with one line on standard output.

    options:
      --data FILE          CSV file (RFC 4180): a header row, then rows; feature columns
                           hold numbers, the label numbers or class names (required)
      --label COLUMN       the column to predict (required unless resuming)
      --task KIND          classification|regression (default: from the label column)
      --hidden SIZES       hidden layer sizes, e.g. 32,16; "none" for no hidden layer (default: 32)
      --activation F       relu|tanh|sigmoid for the hidden layers (default: relu)
      --epochs N           epochs to train, on resume: more epochs (default: 10)
      --batch-size B       rows per step (default: 32)
      --lr X               learning rate (default: 0.01 for adam, 0.1 for sgd)
      --optimizer NAME     sgd|adam (default: adam)
      --momentum M         SGD momentum in [0, 1) (default: 0)
      --seed S             seed of the initial weights, the split and the shuffles (default: 1)
      --validation F       fraction of rows held out for validation, in [0, 0.9] (default: 0.2)
      --save FILE          model file to write (default: model.safetensors; on resume: the
                           resumed file), replaced atomically after the last epoch
      --plot FILE          write the loss curves (train and validation): FILE.svg, or
                           FILE.png when rsvg-convert is installed
      --resume FILE        continue from a saved model: weights, optimizer state, epoch count;
                           the architecture and settings come from the file
      --no-header          the file's first line is data; columns are numbered 1, 2, …
                           (e.g. --label 5)
      --drop-missing       leave out rows with an empty cell (default: refuse them)
      -h, --help           this text
    """

  /// Settings fixed by the model file when resuming; giving one is an error.
  private static let fixedOnResume = [
    "--label", "--task", "--hidden", "--activation", "--optimizer", "--momentum", "--seed",
    "--validation", "--batch-size",
  ]

  static func run(_ arguments: Arguments) throws(CLIError) {
    let dataPath = try arguments.required("--data")
    let plotPath = arguments.string("--plot")
    let plotFormat = try plotPath.map { path throws(CLIError) in
      try OutputFormat.chart(path, option: "--plot")
    }
    var resumed: (String, ModelBundle.Loaded<Float>)?
    if let path = arguments.string("--resume") {
      resumed = (path, try ModelBundle.load(path, as: Float.self))
    }
    if let (path, _) = resumed {
      for option in fixedOnResume where arguments.string(option) != nil {
        throw .usage(
          "train: \(option) cannot be given with --resume: \(path) fixes it "
            + "(only --epochs, --lr, --save and --plot may be given)")
      }
    }
    let table = try CSVTable.load(dataPath, hasHeader: !arguments.has("--no-header"))
    let setup: Setup
    if let (_, loaded) = resumed {
      setup = try Setup(
        resuming: loaded, table: table, dropMissing: arguments.has("--drop-missing"))
    } else {
      setup = try Setup(arguments: arguments, table: table)
    }
    var training = setup.training
    training.learningRate = try arguments.double(
      "--lr", default: training.learningRate, in: Limits.learningRate)
    let epochs = try arguments.int("--epochs", default: 10, in: Limits.epochsPerRun)
    let savePath = arguments.string("--save") ?? resumed?.0 ?? "model.safetensors"
    try requireFolder(of: savePath, option: "--save")
    if let plotPath { try requireFolder(of: plotPath, option: "--plot") }

    let spec = setup.spec
    let model = setup.model
    let optimizer: any Optimizer<Float>
    let adam: Adam<Float>?
    switch training.optimizer {
    case .adam:
      adam = Adam(parameters: model.parameters, learningRate: Float(training.learningRate))
      optimizer = adam!
    case .sgd:
      adam = nil
      optimizer = SGD(
        parameters: model.parameters, learningRate: Float(training.learningRate),
        momentum: Float(training.momentum))
    }
    do {
      try optimizer.loadState(setup.optimizerState)
    } catch {
      throw CLIError(message: "\(resumed?.0 ?? "model"): \(error)")
    }
    adam?.stepCount = training.stepCount

    let (trainSet, validationSet) = setup.split
    let parameterCount = model.parameters.map(\.value.count).reduce(0, +)
    let layout = ([spec.featureColumns.count] + spec.hidden + [spec.outputSize]).map(String.init)
    print(
      "\(spec.task.rawValue) of \"\(spec.labelColumn)\""
        + (spec.task == .classification ? " (\(spec.classes.count) classes)" : "")
        + " from \(spec.featureColumns.count) features; \(trainSet.count) training rows, "
        + "\(validationSet.count) validation rows")
    print(
      "network \(layout.joined(separator: " → ")) (\(spec.activation.rawValue)), "
        + "\(parameterCount) parameters; \(training.optimizer.rawValue) lr "
        + "\(training.learningRate), batch \(training.batchSize), seed \(training.seed)"
        + (resumed != nil ? "; resuming after epoch \(training.epochs)" : ""))
    fflush(nil)

    let first = training.epochs
    let batchesPerEpoch = (trainSet.count + training.batchSize - 1) / training.batchSize
    var progress = Progress(
      epochs: first..<(first + epochs), batchesPerEpoch: batchesPerEpoch,
      samplesPerEpoch: trainSet.count)
    for epoch in first..<(first + epochs) {
      var generator = Xoshiro256StarStar(seed: epochSeed(training.seed, epoch))
      var lossSum = 0.0
      var correct = 0
      var seen = 0
      let batches = trainSet.batches(size: training.batchSize, shuffledUsing: &generator)
      for (index, batch) in batches.enumerated() {
        let graph = Graph<Float>()
        let output = model(graph.input(batch.features, name: "x"))
        let loss = spec.loss(output, graph.input(batch.labels, name: "y"))
        optimizer.zeroGradients()
        graph.backward(from: loss)
        optimizer.step()
        let value = Double(loss.value.scalar)
        guard value.isFinite else {
          // The loss is computed before the step: on the first batch no update has been made,
          // so the starting weights (a file's, when resuming) are at fault, not the rate.
          guard epoch > first || index > 0 else {
            throw CLIError(
              message: "\(resumed.map { "\($0.0): the model's" } ?? "the new model's") loss is "
                + "\(value) on the first batch, before any update: \(Self.largestWeight(model)); "
                + "the weights do not fit this data (nothing was saved)")
          }
          throw CLIError(
            message: "training diverged: loss \(value) at epoch \(epoch + 1), batch \(index + 1); "
              + "try a smaller --lr (nothing was saved)")
        }
        let count = batch.features.shape[0]
        lossSum += value * Double(count)
        seen += count
        if spec.task == .classification {
          correct += ModelSpec.correct(output.value, batch.labels)
        }
        progress.batchDone(
          epoch: epoch, batch: index + 1, samples: count, loss: lossSum / Double(seen),
          accuracy: spec.task == .classification ? Double(correct) / Double(seen) : nil)
      }
      var record = EpochRecord(
        epoch: epoch + 1, trainLoss: lossSum / Double(seen),
        trainAccuracy: spec.task == .classification ? Double(correct) / Double(seen) : nil)
      if validationSet.count > 0 {
        let result = Evaluation(model: model, spec: spec, data: validationSet)
        guard result.loss.isFinite else {
          throw CLIError(
            message: "training diverged: validation loss \(result.loss) after epoch \(epoch + 1); "
              + "try a smaller --lr (nothing was saved)")
        }
        record.validationLoss = result.loss
        record.validationAccuracy = result.accuracy
      }
      training.history.append(record)
      training.epochs = epoch + 1
      Terminal.say(line(record, of: first + epochs, spec: spec, throughput: progress.throughput))
    }
    training.stepCount = adam?.stepCount ?? training.stepCount
    let elapsed = Date().timeIntervalSince(progress.start)

    let final = Evaluation(model: model, spec: spec, data: trainSet)
    var summary = "final: train " + final.summary(spec)
    if validationSet.count > 0 {
      summary +=
        "; validation "
        + Evaluation(model: model, spec: spec, data: validationSet)
        .summary(spec)
    }
    print(summary)
    print(
      "\(epochs) epoch\(epochs == 1 ? "" : "s") in \(Format.duration(elapsed)) "
        + "(\(Int(progress.throughput)) samples/s)")

    // Every parameter is updated at every step here, so Adam's per-parameter step counts all
    // equal the metadata's `stepCount`: the file keeps that one number, not the `.step` tensors.
    let savedState = optimizer.state.filter { !$0.key.hasSuffix(".step") }
    try ModelBundle.save(
      model: model, optimizerState: savedState, spec: spec, training: training,
      to: URL(fileURLWithPath: savePath))
    print("saved \(savePath) (epoch \(training.epochs))")
    if let plotPath, let plotFormat {
      try plot(
        training.history, spec: spec,
        source: URL(fileURLWithPath: dataPath).lastPathComponent, to: plotPath, as: plotFormat)
      print("wrote \(plotPath)")
    }
  }

  /// "largest weight magnitude 3.2e+38 in layer0.weight", for a message about bad weights.
  static func largestWeight(_ model: Sequential<Float>) -> String {
    var largest: (value: Float, name: String) = (0, "")
    for parameter in model.parameters {
      let top = parameter.value.scalars.map(abs).max() ?? 0
      if top > largest.value { largest = (top, parameter.name) }
    }
    return "largest weight magnitude \(largest.value) in \(largest.name)"
  }

  /// The seed of epoch `epoch`'s shuffle: a function of (seed, epoch) only, so resuming after
  /// any epoch draws the same order as an uninterrupted run.
  static func epochSeed(_ seed: UInt64, _ epoch: Int) -> UInt64 {
    var mixer = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
    return mixer.next()
  }

  /// One epoch's line; for regression the losses (mean squared error of the standardised
  /// label) come with the RMSE in the label's own units, √loss · labelStd.
  private static func line(
    _ record: EpochRecord, of total: Int, spec: ModelSpec, throughput: Double
  ) -> String {
    func rmse(_ loss: Double) -> String { Format.significant(loss.squareRoot() * spec.labelStd) }
    let regression = spec.task == .regression
    var text = "epoch \(record.epoch)/\(total)  loss \(Format.fixed(record.trainLoss, 4))"
    if regression { text += "  rmse \(rmse(record.trainLoss))" }
    if let accuracy = record.trainAccuracy { text += "  acc \(Format.percent(accuracy))" }
    if let loss = record.validationLoss {
      text += "  val_loss \(Format.fixed(loss, 4))"
      if regression { text += "  val_rmse \(rmse(loss))" }
    }
    if let accuracy = record.validationAccuracy { text += "  val_acc \(Format.percent(accuracy))" }
    return text + "  \(Int(throughput)) samples/s"
  }

  private static func plot(
    _ history: [EpochRecord], spec: ModelSpec, source: String, to path: String,
    as format: OutputFormat
  ) throws(CLIError) {
    var plot = LinePlot(
      title: "\(source): loss per epoch, predicting \"\(spec.labelColumn)\"", xLabel: "epoch",
      yLabel: spec.task == .classification ? "cross-entropy" : "mean squared error (standardised)")
    let epochs = history.map { Double($0.epoch) }
    plot.add("train", x: epochs, y: history.map(\.trainLoss))
    if history.contains(where: { $0.validationLoss != nil }) {
      plot.add("validation", x: epochs, y: history.map { $0.validationLoss ?? .nan })
    }
    do {
      switch format {
      case .png:
        try DotFile.write(try OutputFormat.png(fromSVG: plot.svg), to: URL(fileURLWithPath: path))
      default: try plot.write(to: URL(fileURLWithPath: path))
      }
    } catch let error as DrawingError {
      throw CLIError(message: error.description)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError(message: "\(error)")
    }
  }

}

/// Loss and accuracy (classification) or RMSE in label units (regression) on a whole set,
/// evaluated in chunks.
struct Evaluation {
  var loss: Double
  var accuracy: Double?
  var rootMeanSquaredError: Double?

  init(model: Sequential<Float>, spec: ModelSpec, data: Dataset<Float>) {
    var lossSum = 0.0
    var correct = 0
    for chunk in data.batches(size: 1024) {
      let graph = Graph<Float>()
      let output = model(graph.input(chunk.features, name: "x"))
      let loss = spec.loss(output, graph.input(chunk.labels, name: "y"))
      lossSum += Double(loss.value.scalar) * Double(chunk.features.shape[0])
      if spec.task == .classification { correct += ModelSpec.correct(output.value, chunk.labels) }
    }
    loss = lossSum / Double(max(data.count, 1))
    switch spec.task {
    case .classification: accuracy = Double(correct) / Double(max(data.count, 1))
    case .regression: rootMeanSquaredError = loss.squareRoot() * spec.labelStd
    }
  }

  func summary(_ spec: ModelSpec) -> String {
    var text = "loss \(Format.fixed(loss, 4))"
    if let accuracy { text += " accuracy \(Format.percent(accuracy))" }
    if let rootMeanSquaredError { text += " RMSE \(Format.fixed(rootMeanSquaredError, 4))" }
    return text
  }
}
