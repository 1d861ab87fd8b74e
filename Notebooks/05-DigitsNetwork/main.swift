// # 5. A real network on real data
//
// Everything of the first four notebooks at work on a real task: recognising handwritten
// digits. The data are the 1,797 8×8 images of the UCI *Optical Recognition of Handwritten
// Digits* set (`Data/digits/digits.csv`, see its README for source and licence). A multilayer
// perceptron 64 → 32 (ReLU) → 10 learns them with softmax cross-entropy and Adam; then we look
// at what it gets wrong and check its gradients numerically.
//
// Run it with `swift run -c release DigitsNetwork` (a few seconds).
import ChainRule
import Foundation
import NotebookSupport

let notebook = Notebook()
let started = Date()

/// An 8×8 image (64 values, 0 to 1) as ASCII art, one character per pixel, darker is more ink.
func asciiArt(_ pixels: [Double]) -> [String] {
  let ramp = Array(" .:-=+*#%@")
  return (0..<8).map { row in
    String(
      (0..<8).map { column in
        ramp[min(ramp.count - 1, Int(pixels[row * 8 + column] * Double(ramp.count)))]
      })
  }
}

cell("The data")
// Each row holds 64 pixel counts (0 to 16, row-major) and the digit. We scale the pixels to
// [0, 1] and split the rows, with a fixed seed, into 1,437 for training and 360 held out.
let table = try CSVTable(
  contentsOf: notebook.packageRoot.appendingPathComponent("Data/digits/digits.csv"))
let all: Dataset<Double> = try table.dataset(labelColumn: "label")
let data = try Dataset(features: all.features * (1.0 / 16), labels: all.labels)
var generator = Xoshiro256StarStar(seed: 2024)
let (training, test) = data.split(trainingCount: 1437, using: &generator)
print("examples:", data.count, "  features:", data.features.shape[1])
print("training:", training.count, "  held out:", test.count)
var perDigit = [Int](repeating: 0, count: 10)
for label in data.labels.scalars { perDigit[Int(label)] += 1 }
print("examples per digit:", perDigit.map(String.init).joined(separator: " "))
print("the first training example, a", Int(training.labels[0]), "")
let first = Array(training.features.scalars[0..<64])
for line in asciiArt(first) { print("  |" + line + "|") }

cell("The model")
// Two `Dense` layers: 64 → 32 with ReLU, then 32 → 10 scores (logits), one per digit. The
// loss `softmaxCrossEntropy(labels:)` turns the scores into probabilities with a softmax and
// takes −log of the right digit's probability, averaged over the batch.
let model = Sequential<Double>([
  Dense(
    inputSize: 64, outputSize: 32, activation: .relu, weightInitializer: .heUniform,
    using: &generator),
  Dense(inputSize: 32, outputSize: 10, using: &generator),
])
for parameter in model.parameters {
  print(parameter.name.padding(toLength: 14, withPad: " ", startingAt: 0), parameter.value.shape)
}
print("parameters:", model.parameters.map(\.value.count).reduce(0, +))

/// The predicted digit and the probabilities for each row of `features`.
@MainActor func predict(_ features: Tensor<Double>) -> (
  digits: [Int], probabilities: Tensor<Double>
) {
  let graph = Graph<Double>()
  let probabilities = model(graph.input(features, name: "pixels")).softmax().value
  let digits = (0..<features.shape[0]).map { row in
    (0..<10).max { probabilities[row, $0] < probabilities[row, $1] }!
  }
  return (digits, probabilities)
}

/// The fraction of `dataset` predicted right.
@MainActor func accuracy(_ dataset: Dataset<Double>) -> Double {
  let digits = predict(dataset.features).digits
  let right = digits.indices.filter { Double(digits[$0]) == dataset.labels[$0] }.count
  return Double(right) / Double(dataset.count)
}

cell("Training")
// Fifteen epochs of mini-batches of 32 in a fresh shuffled order each epoch. Each step builds
// a graph for its batch, runs backward from the loss and lets Adam (learning rate 0.01) update
// the parameters. We record every batch's loss and, after each epoch, the held-out accuracy.
let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
var batchLosses: [Double] = []
var epochLosses: [Double] = []
for epoch in 1...15 {
  var sum = 0.0
  let batches = training.batches(size: 32, shuffledUsing: &generator)
  for batch in batches {
    let graph = Graph<Double>()
    let logits = model(graph.input(batch.features, name: "pixels"))
    let loss = logits.softmaxCrossEntropy(labels: graph.input(batch.labels, name: "digit"))
    optimizer.zeroGradients()
    graph.backward(from: loss)
    optimizer.step()
    batchLosses.append(loss.value.scalar)
    sum += loss.value.scalar
  }
  epochLosses.append(sum / Double(batches.count))
  if epoch <= 3 || epoch % 3 == 0 {
    print(
      "epoch", pad(String(epoch), 2), "  mean loss", fixed(epochLosses.last!, 4),
      "  held-out accuracy", fixed(100 * accuracy(test), 1) + "%")
  }
}
notebook.note("training took \(fixed(Date().timeIntervalSince(started), 2)) s")
var lossPlot = LinePlot(
  title: "Softmax cross-entropy while training", xLabel: "epoch", yLabel: "loss")
let perBatch = Double(batchLosses.count) / Double(epochLosses.count)
lossPlot.add("each batch", x: batchLosses.indices.map { Double($0 + 1) / perBatch }, y: batchLosses)
lossPlot.add("epoch mean", x: epochLosses.indices.map { Double($0 + 1) }, y: epochLosses)
try notebook.figure(svg: lossPlot.svg, at: "figures/loss.svg", caption: "Training loss")

cell("Accuracy")
// The share of digits the model gets right, on the examples it learnt from and on the 360 it
// never saw, and the confusion matrix of the held-out ones: row = true digit, column =
// predicted digit, the diagonal is right.
print("training accuracy: ", fixed(100 * accuracy(training), 1) + "%")
print("held-out accuracy: ", fixed(100 * accuracy(test), 1) + "%")
let (predicted, probabilities) = predict(test.features)
var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
for row in 0..<test.count { confusion[Int(test.labels[row])][predicted[row]] += 1 }
print("true\\predicted " + (0..<10).map { pad(String($0), 4) }.joined())
for digit in 0..<10 {
  print(
    pad(String(digit), 14) + " "
      + confusion[digit].map { pad($0 == 0 ? "." : String($0), 4) }.joined())
}

cell("What it gets wrong")
// The first four held-out digits the model misreads, with the probability it gave to its
// answer and to the right one. Some are hard even for a person.
let wrong = (0..<test.count).filter { Double(predicted[$0]) != test.labels[$0] }
print(wrong.count, "of", test.count, "held-out digits misread")
for row in wrong.prefix(4) {
  let truth = Int(test.labels[row])
  let guess = predicted[row]
  print("")
  print(
    "example \(row): a \(truth), read as \(guess)  (p(\(guess)) = \(fixed(probabilities[row, guess], 2)),"
      + " p(\(truth)) = \(fixed(probabilities[row, truth], 2)))")
  let pixels = Array(test.features.scalars[row * 64..<(row + 1) * 64])
  for line in asciiArt(pixels) { print("  |" + line + "|") }
}

cell("A gradient check of the trained model")
// Are the gradients that trained the model right? For 40 held-out examples the library's
// `checkGradients` runs one backward pass and compares every element of every parameter with
// a central difference in Double; the table gives each parameter's worst element by its
// [row, column] index, and a parameter whose gradient is within atol of zero everywhere is
// marked vacuous rather than ok.
let probe = test.subset(0..<40)
let checkGraph = Graph<Double>()
let checkLoss = model(checkGraph.input(probe.features, name: "pixels"))
  .softmaxCrossEntropy(labels: checkGraph.input(probe.labels, name: "digit")).named("loss")
let check = checkGraph.checkGradients(of: checkLoss)
print(check)
precondition(check.passed, "the trained model's gradients disagree with central differences")
notebook.note("notebook 5 took \(fixed(Date().timeIntervalSince(started), 2)) s")
