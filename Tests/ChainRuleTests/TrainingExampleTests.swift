import Foundation
import Testing

@testable import ChainRule

/// The training example of Docs/training-example.md: the code between the markers below is
/// the document's code block, character for character (a test compares them), so the
/// README's example always compiles and runs.
@Suite("Training example in Docs")
struct TrainingExampleTests {
  /// Runs the example and returns its model and the loss of its last step.
  func runExample() -> (Sequential<Double>, Double) {
    var lastLoss = Double.nan
    // BEGIN training-example
    var generator = Xoshiro256StarStar(seed: 42)
    let model = Sequential<Double>([
      Dense(inputSize: 2, outputSize: 4, activation: .tanh, using: &generator),
      Dense(inputSize: 4, outputSize: 1, using: &generator),
    ])
    let optimizer = Adam(parameters: model.parameters, learningRate: 0.05)

    // XOR: four examples as rows, one target each.
    let x = Tensor<Double>([[0, 0], [0, 1], [1, 0], [1, 1]])
    let y = Tensor<Double>([[0], [1], [1], [0]])
    for step in 0..<500 {
      // A fresh graph each step; the parameters live in the model.
      let graph = Graph<Double>()
      let logits = model(graph.input(x, name: "x"))
      let loss = logits.binaryCrossEntropyWithLogits(graph.input(y, name: "y"))
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
      if step % 100 == 0 { print("step \(step): loss \(loss.value.scalar)") }
      lastLoss = loss.value.scalar
    }
    // END training-example
    return (model, lastLoss)
  }

  @Test("Smoke test: the documented example learns XOR")
  func exampleLearnsXOR() {
    let (model, loss) = runExample()
    #expect(loss < 0.05)
    let graph = Graph<Double>()
    let logits = model(graph.input(Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]))).value
    #expect(logits.scalars.map { $0 > 0 } == [false, true, true, false])
  }

  @Test func documentShowsExactlyThisCode() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let document = try String(
      contentsOf: root.appendingPathComponent("Docs/training-example.md"), encoding: .utf8)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    #expect(codeBlock(of: document) == markedRegion(of: source))
  }

  /// The lines of the first ```swift block.
  func codeBlock(of markdown: String) -> [String] {
    let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(of: "```swift") else { return [] }
    let end = lines[(start + 1)...].firstIndex(of: "```") ?? lines.endIndex
    return Array(lines[(start + 1)..<end])
  }

  /// The lines between the BEGIN and END markers, without the 4-space function indentation
  /// and without the line that records the loss for the test.
  func markedRegion(of source: String) -> [String] {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard
      let begin = lines.firstIndex(where: { $0.hasSuffix("// BEGIN training-example") }),
      let end = lines.firstIndex(where: { $0.hasSuffix("// END training-example") })
    else { return [] }
    return lines[(begin + 1)..<end]
      .filter { !$0.contains("lastLoss") }
      .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : $0 }
  }
}
