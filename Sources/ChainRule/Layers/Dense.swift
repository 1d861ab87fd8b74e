/// A fully connected layer: a = f(x · W + b), batches as rows.
///
/// Shapes: x: [batch, inputSize], weight W: [inputSize, outputSize], bias b: [outputSize]
/// (broadcast over the rows), a: [batch, outputSize]. In the graph the layer's nodes sit in
/// the scope `name` (a cluster in drawings): the parameter nodes `<name>.weight` and
/// `<name>.bias`, the pre-activation `z` and, unless the activation is `.none`, `a`.
public final class Dense<Scalar: TensorScalar>: Layer {
  /// The weight matrix, [inputSize, outputSize].
  public let weight: Parameter<Scalar>
  /// The bias vector, [outputSize].
  public let bias: Parameter<Scalar>
  /// The function applied after the affine map.
  public let activation: Activation

  /// The scope and parameter-name prefix; renames `weight` and `bias` when set.
  public var name: String {
    didSet { renameParameters() }
  }

  /// The number of input features.
  public var inputSize: Int { weight.value.shape[0] }
  /// The number of output units.
  public var outputSize: Int { weight.value.shape[1] }

  /// A layer with freshly initialised parameters.
  /// - Parameters:
  ///   - inputSize: features per example (rows of W).
  ///   - outputSize: units (columns of W).
  ///   - activation: applied after x · W + b.
  ///   - weightInitializer: rule for W (fanIn = inputSize, fanOut = outputSize).
  ///   - biasInitializer: rule for b.
  ///   - name: scope and parameter prefix; `Sequential` sets it to `layer<i>`.
  ///   - generator: the seeded source of the initial values (W first, then b).
  public init(
    inputSize: Int, outputSize: Int, activation: Activation = .none,
    weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
    name: String = "dense", using generator: inout some RandomNumberGenerator
  ) {
    require(
      inputSize > 0 && outputSize > 0,
      "Dense: sizes must be positive (inputSize \(inputSize), outputSize \(outputSize))")
    let w: Tensor<Scalar> = weightInitializer.tensor(
      [inputSize, outputSize], fanIn: inputSize, fanOut: outputSize, using: &generator)
    let b: Tensor<Scalar> = biasInitializer.tensor(
      [outputSize], fanIn: inputSize, fanOut: outputSize, using: &generator)
    self.weight = Parameter(w, name: "\(name).weight")
    self.bias = Parameter(b, name: "\(name).bias")
    self.activation = activation
    self.name = name
  }

  /// A layer with given values, e.g. a worked example from the course notes.
  /// - Precondition: `weight` is [in, out] and `bias` is [out].
  public init(
    weight: Tensor<Scalar>, bias: Tensor<Scalar>, activation: Activation = .none,
    name: String = "dense"
  ) {
    require(
      weight.rank == 2 && bias.shape == [weight.shape.last ?? -1],
      "Dense: weight \(weight.shape) must be [in, out] and bias \(bias.shape) must be [out]")
    self.weight = Parameter(weight, name: "\(name).weight")
    self.bias = Parameter(bias, name: "\(name).bias")
    self.activation = activation
    self.name = name
  }

  /// `[weight, bias]`.
  public var parameters: [Parameter<Scalar>] { [weight, bias] }

  /// a = f(x · W + b), built in the scope `name`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    let graph = input.graph
    return graph.withScope(name) {
      let z = (input.matmul(graph.parameter(weight)) + graph.parameter(bias)).named("z")
      return activation == .none ? z : activation(z).named("a")
    }
  }

  private func renameParameters() {
    weight.name = "\(name).weight"
    bias.name = "\(name).bias"
  }
}
