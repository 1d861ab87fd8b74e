/// A max-pooling layer (PyTorch's `nn.MaxPool2d`): the maximum of each window of an NCHW
/// input, [N, C, H, W] → [N, C, OH, OW]. No parameters; see `MaxPool2D` for the gradient's
/// convention at ties (the first maximum of a window).
public final class MaxPool2d<Scalar: TensorScalar>: Layer {
  /// kH × kW of the window.
  public let kernelSize: Size2D
  /// Steps between windows.
  public let stride: Size2D
  /// −∞ padding on each side.
  public let padding: Size2D
  /// The layer's scope.
  public var name: String

  /// Pools windows of `kernelSize`, `stride` apart (default: `kernelSize`, as PyTorch).
  /// - Precondition: as `MaxPool2D(kernelSize:stride:padding:)`.
  public init(
    kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, name: String = "pool"
  ) {
    let op = MaxPool2D(kernelSize: kernelSize, stride: stride, padding: padding)  // validates
    (self.kernelSize, self.stride, self.padding) = (op.kernelSize, op.stride, op.padding)
    self.name = name
  }

  /// None.
  public var parameters: [Parameter<Scalar>] { [] }

  /// The pooled node, built in the scope `name`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    input.graph.withScope(name) {
      input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
  }
}
