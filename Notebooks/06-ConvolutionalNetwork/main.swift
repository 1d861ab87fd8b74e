// # 6. A convolutional network on the digits
//
// Notebook 5's multilayer perceptron sees an image as 64 unrelated numbers: moving a stroke
// by one pixel gives it a different input altogether. A convolutional network looks at the
// image through small windows that slide over it, with the same weights at every position,
// so it learns strokes and corners wherever they are. Here a small one learns the same
// digits, with the same split, seed, optimizer and number of epochs as the MLP it is
// compared with.
//
// Run it with `swift run -c release ConvolutionalNetwork` (a few seconds).
import ChainRule
import Foundation
import NotebookSupport

let notebook = Notebook()
let started = Date()

cell("The data, as images")
// The same 1,797 images, split with seed 2024 into 1,437 for training and 360 held out. A
// convolution wants an image tensor: [batch, channels, height, width] (NCHW, as PyTorch),
// so each row of 64 pixels becomes a [1, 8, 8] image with one channel.
let table = try CSVTable(
  contentsOf: notebook.packageRoot.appendingPathComponent("Data/digits/digits.csv"))
let all: Dataset<Double> = try table.dataset(labelColumn: "label")
let data = try Dataset(features: all.features * (1.0 / 16), labels: all.labels)
var splitter = Xoshiro256StarStar(seed: 2024)
let (training, test) = data.split(trainingCount: 1437, using: &splitter)
print("training:", training.count, "  held out:", test.count)
print(
  "one batch of 32 as images:",
  training.batches(size: 32)[0].features.reshaped([32, 1, 8, 8]).shape)

/// Ten epochs of batches of 32 with Adam (learning rate 0.01), each batch's pixels reshaped
/// by `shape`; returns the held-out accuracy after each epoch.
@MainActor func train(
  _ model: Sequential<Double>, shape: (Int) -> [Int], generator: inout Xoshiro256StarStar
) -> [Double] {
  let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
  var accuracies: [Double] = []
  for _ in 1...10 {
    model.setTraining(true)
    for batch in training.batches(size: 32, shuffledUsing: &generator) {
      let graph = Graph<Double>()
      let pixels = graph.input(
        batch.features.reshaped(shape(batch.features.shape[0])), name: "pixels",
        requiresGradient: false)
      let loss = model(pixels).softmaxCrossEntropy(labels: graph.input(batch.labels))
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
    }
    model.setTraining(false)
    let graph = Graph<Double>()
    let logits = model(graph.input(test.features.reshaped(shape(test.count)))).value
    let right = (0..<test.count).filter { row in
      let best = (0..<10).max { logits[row, $0] < logits[row, $1] }!
      return Double(best) == test.labels[row]
    }.count
    accuracies.append(Double(right) / Double(test.count))
  }
  return accuracies
}

cell("The baseline: the MLP of notebook 5")
// 64 → 32 (ReLU) → 10, initialised and shuffled by the generator that made the split, as in
// notebook 5 and `DigitsTests`, but trained for ten epochs.
var mlpGenerator = splitter
let mlp = Sequential<Double>([
  Dense(
    inputSize: 64, outputSize: 32, activation: .relu, weightInitializer: .heUniform,
    using: &mlpGenerator),
  Dense(inputSize: 32, outputSize: 10, using: &mlpGenerator),
])
let mlpStart = Date()
let mlpAccuracies = train(mlp, shape: { [$0, 64] }, generator: &mlpGenerator)
notebook.note("MLP training took \(fixed(Date().timeIntervalSince(mlpStart), 2)) s")
print("parameters:", mlp.parameters.map(\.value.count).reduce(0, +))
print("held-out accuracy after 10 epochs:", fixed(100 * mlpAccuracies.last!, 1) + "%")

cell("The convolutional network")
// Two convolutions with 3×3 kernels and padding 1 (the image keeps its size), each followed
// by ReLU and a 2×2 max pooling that halves the image: 8×8 → 4×4 → 2×2. Then `Flatten` turns
// the 16 channels of 2×2 into 64 features for a dense layer to 10 scores. Fewer parameters
// than the MLP: a 3×3 kernel is shared by every position of the image.
var cnnGenerator = splitter
let cnn = Sequential<Double>([
  Conv2d(
    inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1, activation: .relu,
    using: &cnnGenerator),
  MaxPool2d(kernelSize: 2),
  Conv2d(
    inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1, activation: .relu,
    using: &cnnGenerator),
  MaxPool2d(kernelSize: 2),
  Flatten(),
  Dense(inputSize: 64, outputSize: 10, using: &cnnGenerator),
])
let probe = Graph<Double>()
var node = probe.input(Tensor.zeros([1, 1, 8, 8]), name: "image")
print("input".padding(toLength: 22, withPad: " ", startingAt: 0), node.shape)
for layer in cnn.layers {
  node = layer(node)
  let kind = String(describing: type(of: layer)).split(separator: "<")[0]
  print("\(layer.name) \(kind)".padding(toLength: 22, withPad: " ", startingAt: 0), node.shape)
}
print("parameters:", cnn.parameters.map(\.value.count).reduce(0, +))

cell("Training it")
// The same ten epochs, batches and optimizer. The held-out accuracy after each epoch, beside
// the MLP's:
let cnnStart = Date()
let cnnAccuracies = train(cnn, shape: { [$0, 1, 8, 8] }, generator: &cnnGenerator)
notebook.note("CNN training took \(fixed(Date().timeIntervalSince(cnnStart), 2)) s")
print("epoch    MLP     CNN")
for epoch in 0..<10 {
  print(
    pad(String(epoch + 1), 5), pad(fixed(100 * mlpAccuracies[epoch], 1) + "%", 7),
    pad(fixed(100 * cnnAccuracies[epoch], 1) + "%", 7))
}
var plot = LinePlot(
  title: "Held-out accuracy on the digits", xLabel: "epoch", yLabel: "accuracy (%)")
let epochs = (1...10).map(Double.init)
plot.add("MLP 64→32→10", x: epochs, y: mlpAccuracies.map { 100 * $0 })
plot.add("CNN conv8-pool-conv16-pool-dense", x: epochs, y: cnnAccuracies.map { 100 * $0 })
try notebook.figure(svg: plot.svg, at: "figures/accuracy.svg", caption: "Held-out accuracy")

cell("What the first layer learnt")
// The eight 3×3 kernels of the first convolution, one character per weight from the most
// negative (` `) to the most positive (`@`): edge and stroke detectors, slid over the image.
let kernels = cnn.parameters[0].value
let (low, high) = (kernels.scalars.min()!, kernels.scalars.max()!)
let ramp = Array(" .:-=+*#%@")
var rows = ["", "", ""]
for k in 0..<8 {
  for row in 0..<3 {
    let line = (0..<3).map { column -> Character in
      let value = (kernels[k, 0, row, column] - low) / (high - low)
      return ramp[min(ramp.count - 1, Int(value * Double(ramp.count)))]
    }
    rows[row] += "|" + String(line) + "|  "
  }
}
for line in rows { print(line) }
notebook.note("notebook 6 took \(fixed(Date().timeIntervalSince(started), 2)) s")
