import Dispatch
import Foundation
import Testing

@testable import ChainRule

/// The thread-safety contract of `Graph`: independent graphs (each with its own parameters
/// and optimizer) train on separate threads at once, bitwise as they train one after another.
/// Run under ThreadSanitizer by `.ci/sanitizers`.
@Suite("threads")
struct ThreadSafetyTests {
  /// Trains a 128 → 256 → 10 network for a few Adam steps on a graph built once and re-run, from
  /// `seed`; returns the final parameters' bit patterns. The first product, [128, 128] · [128,
  /// 256], is large enough to be cut into blocks for the GEMM's worker threads, which every
  /// graph shares.
  static func train(seed: UInt64) -> [UInt64] {
    var generator = Xoshiro256StarStar(seed: seed)
    let model = Sequential<Double>([
      Dense(inputSize: 128, outputSize: 256, activation: .relu, using: &generator),
      Dense(inputSize: 256, outputSize: 10, using: &generator),
    ])
    let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
    let features = Tensor<Double>(
      shape: [128, 128], scalars: (0..<128 * 128).map { _ in generator.nextNormal() })
    let labels = Tensor<Double>((0..<128).map { _ in Double(generator.nextInt(below: 10)) })
    let graph = Graph<Double>()
    let x = graph.input(features, name: "x", requiresGradient: false)
    let y = graph.input(labels, name: "y", requiresGradient: false)
    let loss = model(x).softmaxCrossEntropy(labels: y)
    for _ in 0..<3 {
      graph.forward()
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
    }
    return model.parameters.flatMap { $0.value.scalars.map(\.bitPattern) }
  }

  /// One result slot per thread, written under a lock.
  final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[UInt64]?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: [UInt64]) {
      lock.lock()
      slots[index] = value
      lock.unlock()
    }
    var values: [[UInt64]?] {
      lock.lock()
      defer { lock.unlock() }
      return slots
    }
  }

  @Test func independentGraphsOnThreadsTrainBitwiseAsInSeries() {
    // Seed 1 twice: the same computation on two threads at once must agree too.
    let seeds: [UInt64] = [1, 2, 1, 3]
    let serial = seeds.map(Self.train(seed:))
    let results = Results(count: seeds.count)
    let group = DispatchGroup()
    for (index, seed) in seeds.enumerated() {
      group.enter()
      let thread = Thread {
        results.set(index, Self.train(seed: seed))
        group.leave()
      }
      thread.start()
    }
    group.wait()
    for (index, parallel) in results.values.enumerated() {
      #expect(parallel == serial[index], "seed \(seeds[index]) on thread \(index)")
    }
    #expect(serial[0] != serial[1], "different seeds train different weights")
  }
}
