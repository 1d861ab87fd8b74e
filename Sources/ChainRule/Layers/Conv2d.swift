/// A 2-D convolution layer (PyTorch's `nn.Conv2d`): a = f(conv(x, W) + b), NCHW.
///
/// Shapes: x: [N, C, H, W], weight W: [O, C, kH, kW], bias b: [O] (one per output channel,
/// added by the `Conv2D` op itself), a: [N, O, OH, OW]. Initialised as Kaiming/He for ReLU by
/// default with fanIn = C·kH·kW (PyTorch's own default is Kaiming-uniform with a = √5,
/// a narrower range). Nodes sit in the scope `name`: `<name>.weight`, `<name>.bias`, `z`,
/// and `a` unless the activation is `.none`.
public final class Conv2d<Scalar: TensorScalar>: Layer {
  /// The kernels, [O, C, kH, kW].
  public let weight: Parameter<Scalar>
  /// One bias per output channel, [O].
  public let bias: Parameter<Scalar>
  /// Steps between window positions.
  public let stride: Size2D
  /// Zeros added on each side of the image.
  public let padding: Size2D
  /// Steps between kernel taps.
  public let dilation: Size2D
  /// The function applied after the convolution.
  public let activation: Activation

  /// The scope and parameter-name prefix; renames `weight` and `bias` when set.
  public var name: String {
    didSet {
      weight.name = "\(name).weight"
      bias.name = "\(name).bias"
    }
  }

  /// A layer with freshly initialised parameters.
  /// - Parameters:
  ///   - inputChannels: C.
  ///   - outputChannels: O, the number of kernels.
  ///   - kernelSize: kH × kW.
  ///   - stride: The step between windows, per axis (as `Conv2D`).
  ///   - padding: Zeros added on each side, per axis (as `Conv2D`).
  ///   - dilation: The spacing of the kernel's taps, per axis (as `Conv2D`).
  ///   - activation: applied after conv(x, W) + b.
  ///   - weightInitializer: rule for W (fanIn = C·kH·kW, fanOut = O·kH·kW).
  ///   - biasInitializer: rule for b.
  ///   - name: scope and parameter prefix; `Sequential` sets it to `layer<i>`.
  ///   - generator: the seeded source of the initial values (W first, then b).
  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
    padding: Size2D = 0, dilation: Size2D = 1, activation: Activation = .none,
    weightInitializer: Initializer = .heUniform, biasInitializer: Initializer = .zeros,
    name: String = "conv", using generator: inout some RandomNumberGenerator
  ) {
    require(
      inputChannels > 0 && outputChannels > 0 && kernelSize.height > 0 && kernelSize.width > 0,
      "Conv2d: channels and kernel size must be positive (inputChannels \(inputChannels), "
        + "outputChannels \(outputChannels), kernelSize \(kernelSize))")
    WindowGeometry.validate(
      op: "Conv2d", kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    let area = kernelSize.height * kernelSize.width
    let (fanIn, fanOut) = (inputChannels * area, outputChannels * area)
    let w: Tensor<Scalar> = weightInitializer.tensor(
      [outputChannels, inputChannels, kernelSize.height, kernelSize.width], fanIn: fanIn,
      fanOut: fanOut, using: &generator)
    let b: Tensor<Scalar> = biasInitializer.tensor(
      [outputChannels], fanIn: fanIn, fanOut: fanOut, using: &generator)
    self.weight = Parameter(w, name: "\(name).weight")
    self.bias = Parameter(b, name: "\(name).bias")
    (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
    self.activation = activation
    self.name = name
  }

  /// A layer with given values.
  /// - Precondition: `weight` is [O, C, kH, kW] and `bias` is [O].
  public init(
    weight: Tensor<Scalar>, bias: Tensor<Scalar>, stride: Size2D = 1, padding: Size2D = 0,
    dilation: Size2D = 1, activation: Activation = .none, name: String = "conv"
  ) {
    require(
      weight.rank == 4 && weight.shape[0] > 0
        && bias.shape == [weight.shape[0]],
      "Conv2d: weight \(weight.shape) must be [O, C, kH, kW] and bias \(bias.shape) [O]")
    WindowGeometry.validate(
      op: "Conv2d", kernel: 1, stride: stride, padding: padding, dilation: dilation)
    self.weight = Parameter(weight, name: "\(name).weight")
    self.bias = Parameter(bias, name: "\(name).bias")
    (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
    self.activation = activation
    self.name = name
  }

  /// `[weight, bias]`.
  public var parameters: [Parameter<Scalar>] { [weight, bias] }

  /// a = f(conv(x, W) + b), built in the scope `name`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    let graph = input.graph
    return graph.withScope(name) {
      let z = input.conv2d(
        graph.parameter(weight), bias: graph.parameter(bias), stride: stride, padding: padding,
        dilation: dilation
      ).named("z")
      return activation == .none ? z : activation(z).named("a")
    }
  }
}
