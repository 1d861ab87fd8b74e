/// An embedding table (PyTorch's `nn.Embedding`): integer indices → learned vectors.
///
/// Shapes: table E: [count, dimension], initialised N(0, 1) as PyTorch; indices k of any
/// shape, whole numbers in 0..<count held as scalars; output k.shape + [dimension] with
/// `a[p] = E[k_p]`. Built on `Gather`, so Ē[r] sums the gradients of every position that
/// picked row r. Feed the indices as an input node with `requiresGradient: false`.
public final class Embedding<Scalar: TensorScalar>: Layer {
  /// E, [count, dimension].
  public let table: Parameter<Scalar>

  /// The scope and parameter-name prefix (`<name>.weight`, as PyTorch names E).
  public var name: String {
    didSet { table.name = "\(name).weight" }
  }

  /// The number of rows (the vocabulary).
  public var count: Int { table.value.shape[0] }
  /// The length of each vector.
  public var dimension: Int { table.value.shape[1] }

  /// A table of `count` vectors of `dimension`, drawn by `initializer` (default N(0, 1)).
  public init(
    count: Int, dimension: Int,
    initializer: Initializer = .normal(mean: 0, standardDeviation: 1),
    name: String = "embedding", using generator: inout some RandomNumberGenerator
  ) {
    require(
      count > 0 && dimension > 0,
      "Embedding: sizes must be positive (count \(count), dimension \(dimension))")
    table = Parameter(
      initializer.tensor([count, dimension], fanIn: count, fanOut: dimension, using: &generator),
      name: "\(name).weight")
    self.name = name
  }

  /// A table with given values [count, dimension].
  public init(table: Tensor<Scalar>, name: String = "embedding") {
    require(
      table.rank == 2 && table.shape[0] > 0,
      "Embedding: table \(table.shape) must be [count, dimension]")
    self.table = Parameter(table, name: "\(name).weight")
    self.name = name
  }

  /// `[table]`.
  public var parameters: [Parameter<Scalar>] { [table] }

  /// The rows of E at the indices held by `input`, built in the scope `name`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    input.graph.withScope(name) { input.graph.parameter(table).gather(input) }
  }
}
