import Foundation
import Testing

@testable import ChainRule

/// A real data set: the UCI 8×8 handwritten digits (Data/digits), 1,797 images.
@Suite("Digits (UCI, real data)")
struct DigitsTests {
  static let file = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Data/digits/digits.csv")

  @Test func fileHasTheDocumentedShape() throws {
    let table = try CSVTable(contentsOf: Self.file)
    let rows = try table.rows
    #expect(table.columns == (0..<64).map { "pixel\($0)" } + ["label"])
    #expect(rows.count == 1797)
    #expect(rows.allSatisfy { row in row.allSatisfy { (0...16).contains($0) } })
    #expect(Set(rows.map { $0[64] }) == Set((0..<10).map(Double.init)))
  }

  // Training outcomes pass even with gradients that are slightly off: the gradients are
  // held to account by the formula, oracle, fuzz and mutation tests, not here.
  @Test("Smoke test: an MLP reaches 95 % on held-out digits")
  func mlpReachesNinetyFivePercentOnHeldOutDigits() throws {
    let start = Date()
    let all: Dataset<Float> = try CSVTable(contentsOf: Self.file).dataset(labelColumn: "label")
    // Pixels 0–16 scaled to [0, 1].
    let data = try Dataset(features: all.features * (1 / 16), labels: all.labels)
    var generator = Xoshiro256StarStar(seed: 2024)
    let (training, test) = data.split(trainingCount: 1437, using: &generator)

    let model = Sequential<Float>([
      Dense(
        inputSize: 64, outputSize: 32, activation: .relu, weightInitializer: .heUniform,
        using: &generator),
      Dense(inputSize: 32, outputSize: 10, using: &generator),
    ])
    let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
    for _ in 0..<10 {
      for batch in training.batches(size: 32, shuffledUsing: &generator) {
        let graph = Graph<Float>()
        let logits = model(graph.input(batch.features, name: "pixels"))
        let loss = logits.softmaxCrossEntropy(labels: graph.input(batch.labels, name: "digit"))
        optimizer.zeroGradients()
        graph.backward(from: loss)
        optimizer.step()
      }
    }

    let graph = Graph<Float>()
    let logits = model(graph.input(test.features)).value
    var correct = 0
    for row in 0..<test.count {
      let scores = (0..<10).map { logits[row, $0] }
      if Float(scores.indices.max { scores[$0] < scores[$1] }!) == test.labels[row] {
        correct += 1
      }
    }
    let accuracy = Double(correct) / Double(test.count)
    let seconds = Date().timeIntervalSince(start)
    print("digits: held-out accuracy \(correct)/\(test.count) = \(accuracy), \(seconds) s")
    #expect(accuracy >= 0.95, "held-out accuracy \(accuracy)")
  }
}
