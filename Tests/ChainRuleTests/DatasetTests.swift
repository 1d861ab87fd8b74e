import Testing

@testable import ChainRule

@Suite("Dataset")
struct DatasetTests {
  /// 10 examples; row i has features (i, 10 + i) and label i, so rows can be traced.
  func dataset() throws -> Dataset<Double> {
    try Dataset(
      features: Tensor((0..<10).map { [Double($0), Double(10 + $0)] }),
      labels: Tensor((0..<10).map(Double.init)))
  }

  @Test func batchesInOrderKeepTheShorterLastBatch() throws {
    let batches = try dataset().batches(size: 4)
    #expect(batches.map(\.features.shape) == [[4, 2], [4, 2], [2, 2]])
    #expect(batches.map(\.labels.shape) == [[4], [4], [2]])
    #expect(batches.flatMap(\.labels.scalars) == (0..<10).map(Double.init))
  }

  @Test func shuffledBatchesArePermutationsFixedBySeedAndRowsStayTogether() throws {
    let data = try dataset()
    var a = Xoshiro256StarStar(seed: 1)
    var b = Xoshiro256StarStar(seed: 1)
    let epoch1 = data.batches(size: 3, shuffledUsing: &a)
    #expect(epoch1.map(\.labels.count) == [3, 3, 3, 1])
    let labels = epoch1.flatMap(\.labels.scalars)
    #expect(labels.sorted() == (0..<10).map(Double.init))
    #expect(labels != (0..<10).map(Double.init))
    #expect(labels == data.batches(size: 3, shuffledUsing: &b).flatMap(\.labels.scalars))
    // The next epoch from the same generator is a different order.
    #expect(labels != data.batches(size: 3, shuffledUsing: &a).flatMap(\.labels.scalars))
    for batch in epoch1 {
      for row in 0..<batch.labels.count {
        #expect(batch.features[row, 0] == batch.labels[row])
        #expect(batch.features[row, 1] == batch.labels[row] + 10)
      }
    }
  }

  @Test func splitIsADisjointCover() throws {
    var generator = Xoshiro256StarStar(seed: 3)
    let (training, test) = try dataset().split(trainingCount: 7, using: &generator)
    #expect(training.count == 7 && test.count == 3)
    let all = (training.labels.scalars + test.labels.scalars).sorted()
    #expect(all == (0..<10).map(Double.init))
  }

  @Test func oneHotLabelsTravelAsRows() throws {
    let data = try Dataset(
      features: Tensor<Float>([[1], [2], [3]]), labels: Tensor([[1, 0], [0, 1], [1, 0]]))
    let batches = data.batches(size: 2)
    #expect(batches[1].labels == Tensor([[1, 0]]))
    #expect(batches[0].features == Tensor([[1], [2]]))
  }

  @Test func mismatchedRowsAreAnError() {
    #expect(
      throws: DatasetError(
        "features have 3 rows but labels 2 (features [3, 1], labels [2])")
    ) {
      try Dataset<Double>(features: Tensor([[1], [2], [3]]), labels: Tensor([0, 1]))
    }
    #expect(throws: DatasetError.self) {
      try Dataset<Double>(features: Tensor([1, 2]), labels: Tensor([0, 1]))
    }
  }
}
