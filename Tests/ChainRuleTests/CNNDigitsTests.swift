import Foundation
import Testing

@testable import ChainRule

/// The real experiment of the convolutional toolbox: a small CNN against the 64→32→10 MLP
/// on the UCI 8×8 digits, same split, same seed, same optimizer and schedule.
@Suite("Digits: CNN against the MLP")
struct CNNDigitsTests {
  /// Trains `model` for 10 epochs of batches of 32 with Adam (lr 0.01) on pixels shaped by
  /// `shape` and returns the held-out accuracy and the training time in seconds.
  static func trainAndEvaluate(
    _ model: Sequential<Float>, training: Dataset<Float>, test: Dataset<Float>,
    shape: @escaping (Int) -> [Int], generator: inout Xoshiro256StarStar
  ) -> (accuracy: Double, seconds: Double) {
    let start = Date()
    let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
    model.setTraining(true)
    for _ in 0..<10 {
      for batch in training.batches(size: 32, shuffledUsing: &generator) {
        let graph = Graph<Float>()
        let pixels = graph.input(
          batch.features.reshaped(shape(batch.features.shape[0])), name: "pixels",
          requiresGradient: false)
        let loss = model(pixels).softmaxCrossEntropy(
          labels: graph.input(batch.labels, name: "digit"))
        optimizer.zeroGradients()
        graph.backward(from: loss)
        optimizer.step()
      }
    }
    let seconds = Date().timeIntervalSince(start)
    model.setTraining(false)
    let graph = Graph<Float>()
    let logits = model(graph.input(test.features.reshaped(shape(test.count)))).value
    var correct = 0
    for row in 0..<test.count {
      let scores = (0..<10).map { logits[row, $0] }
      if Float(scores.indices.max { scores[$0] < scores[$1] }!) == test.labels[row] {
        correct += 1
      }
    }
    return (Double(correct) / Double(test.count), seconds)
  }

  /// Conv 1→8 (3×3, padding 1, ReLU) → max pool 2 → conv 8→16 (3×3, padding 1, ReLU) → max
  /// pool 2 → flatten (16·2·2 = 64) → dense 64→10: 80 + 1,168 + 650 = 1,898 parameters,
  /// against the MLP's 2,410.
  static func convolutionalNetwork(using generator: inout Xoshiro256StarStar) -> Sequential<Float> {
    Sequential<Float>([
      Conv2d(
        inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1, activation: .relu,
        using: &generator),
      MaxPool2d(kernelSize: 2),
      Conv2d(
        inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1, activation: .relu,
        using: &generator),
      MaxPool2d(kernelSize: 2),
      Flatten(),
      Dense(inputSize: 64, outputSize: 10, using: &generator),
    ])
  }

  // Like the MLP smoke test, this holds training to account, not gradients (those are held by
  // the gradient checks and the fuzz). The bound can fail: the CNN must beat the MLP trained
  // here on the same split with the same seed, by at least one test image.
  @Test func aSmallCNNBeatsTheMLPOnHeldOutDigits() throws {
    let all: Dataset<Float> = try CSVTable(contentsOf: DigitsTests.file).dataset(
      labelColumn: "label")
    let data = try Dataset(features: all.features * (1 / 16), labels: all.labels)

    // The MLP exactly as DigitsTests trains it: seed 2024, 1,437 training images.
    var generator = Xoshiro256StarStar(seed: 2024)
    let (training, test) = data.split(trainingCount: 1437, using: &generator)
    let mlp = Sequential<Float>([
      Dense(
        inputSize: 64, outputSize: 32, activation: .relu, weightInitializer: .heUniform,
        using: &generator),
      Dense(inputSize: 32, outputSize: 10, using: &generator),
    ])
    let mlpResult = Self.trainAndEvaluate(
      mlp, training: training, test: test, shape: { [$0, 64] }, generator: &generator)

    // The CNN: the same split (the same seed drawn the same way), its own initial weights.
    var cnnGenerator = Xoshiro256StarStar(seed: 2024)
    let (cnnTraining, cnnTest) = data.split(trainingCount: 1437, using: &cnnGenerator)
    #expect(cnnTest.labels == test.labels && cnnTraining.features == training.features)
    let cnn = Self.convolutionalNetwork(using: &cnnGenerator)
    #expect(cnn.parameters.map(\.value.count).reduce(0, +) == 1898)
    let cnnResult = Self.trainAndEvaluate(
      cnn, training: cnnTraining, test: cnnTest, shape: { [$0, 1, 8, 8] },
      generator: &cnnGenerator)

    print(
      "digits: MLP 64→32→10 \(mlpResult.accuracy) in \(mlpResult.seconds) s; "
        + "CNN \(cnnResult.accuracy) in \(cnnResult.seconds) s (\(test.count) held out)")
    #expect(
      cnnResult.accuracy > mlpResult.accuracy,
      "CNN \(cnnResult.accuracy) does not beat the MLP's \(mlpResult.accuracy)")
  }
}
