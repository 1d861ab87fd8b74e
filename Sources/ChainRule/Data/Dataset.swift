/// Examples as rows of two tensors: features [count, featureCount] and labels [count] (class
/// indices or values) or [count, k] (one-hot rows, several targets).
///
/// Mini-batches are copied out row by row, in order or in a seeded shuffled order, so a seed
/// fixes every epoch's batches on every machine.
public struct Dataset<Scalar: TensorScalar>: Sendable {
  /// [count, featureCount].
  public let features: Tensor<Scalar>
  /// [count] or [count, k].
  public let labels: Tensor<Scalar>

  /// One mini-batch: the selected rows of `features` and `labels`.
  public struct Batch: Sendable {
    /// [batchSize, featureCount].
    public var features: Tensor<Scalar>
    /// [batchSize] or [batchSize, k].
    public var labels: Tensor<Scalar>
  }

  /// A dataset over the given tensors.
  /// - Throws: `DatasetError` when features are not a matrix, or labels are not rank 1 or 2,
  ///   or their row counts differ.
  public init(features: Tensor<Scalar>, labels: Tensor<Scalar>) throws(DatasetError) {
    guard features.rank == 2 else {
      throw DatasetError("features must be [count, featureCount], got \(features.shape)")
    }
    guard labels.rank == 1 || labels.rank == 2 else {
      throw DatasetError("labels must be [count] or [count, k], got \(labels.shape)")
    }
    guard labels.shape[0] == features.shape[0] else {
      throw DatasetError(
        "features have \(features.shape[0]) rows but labels \(labels.shape[0]) "
          + "(features \(features.shape), labels \(labels.shape))")
    }
    self.features = features
    self.labels = labels
  }

  /// The number of examples.
  public var count: Int { features.shape[0] }

  /// The examples at `indices`, in that order.
  public func subset(_ indices: some Collection<Int>) -> Dataset {
    let batch = rows(Array(indices))
    return Dataset(checked: batch.features, batch.labels)
  }

  /// Splits into a training part of `trainingCount` examples and the rest, after a shuffle
  /// drawn from `generator`.
  /// - Precondition: 0 ≤ trainingCount ≤ count.
  public func split(
    trainingCount: Int, using generator: inout some RandomNumberGenerator
  ) -> (training: Dataset, test: Dataset) {
    require(
      (0...count).contains(trainingCount),
      "Dataset.split: trainingCount \(trainingCount) is outside 0...\(count)")
    let order = generator.permutation(of: count)
    return (subset(order[..<trainingCount]), subset(order[trainingCount...]))
  }

  /// The examples in order, cut into batches of `size`; the last is shorter when `size` does
  /// not divide `count`.
  public func batches(size: Int) -> [Batch] {
    batches(size: size, order: Array(0..<count))
  }

  /// One epoch: the examples in an order drawn from `generator` (Fisher–Yates), cut into
  /// batches of `size`, the last possibly shorter. Passing the same generator on each epoch
  /// gives a new, reproducible order every time.
  public func batches(size: Int, shuffledUsing generator: inout some RandomNumberGenerator)
    -> [Batch]
  {
    batches(size: size, order: generator.permutation(of: count))
  }

  private func batches(size: Int, order: [Int]) -> [Batch] {
    require(size > 0, "Dataset.batches: size \(size) is not positive")
    return stride(from: 0, to: order.count, by: size).map { start in
      rows(Array(order[start..<min(start + size, order.count)]))
    }
  }

  private init(checked features: Tensor<Scalar>, _ labels: Tensor<Scalar>) {
    self.features = features
    self.labels = labels
  }

  /// Copies the rows at `indices` of both tensors.
  private func rows(_ indices: [Int]) -> Batch {
    Batch(features: gather(features, indices), labels: gather(labels, indices))
  }

  private func gather(_ tensor: Tensor<Scalar>, _ indices: [Int]) -> Tensor<Scalar> {
    let width = tensor.rank == 1 ? 1 : tensor.shape[1]
    var scalars = [Scalar]()
    scalars.reserveCapacity(indices.count * width)
    let source = tensor.scalars
    for index in indices { scalars.append(contentsOf: source[index * width..<(index + 1) * width]) }
    var shape = tensor.shape
    shape[0] = indices.count
    return Tensor(shape: shape, scalars: scalars)
  }
}

/// Tensors that cannot form a dataset; the message names the shapes.
public struct DatasetError: Error, Equatable, CustomStringConvertible {
  /// What was wrong.
  public let description: String
  init(_ description: String) { self.description = "Dataset: " + description }
}
