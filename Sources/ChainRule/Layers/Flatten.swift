/// A layer that merges every axis after the batch into one (PyTorch's `nn.Flatten`):
/// [N, C, H, W] → [N, C·H·W], between convolutions and dense layers. No parameters.
public final class Flatten<Scalar: TensorScalar>: Layer {
  /// The first axis merged (1: keep the batch axis).
  public let startAxis: Int
  /// The layer's scope.
  public var name: String

  /// Merges the axes from `startAxis` (default 1) to the last.
  public init(startAxis: Int = 1, name: String = "flatten") {
    _ = Flattening(startAxis: startAxis)  // validates
    self.startAxis = startAxis
    self.name = name
  }

  /// None.
  public var parameters: [Parameter<Scalar>] { [] }

  /// The flattened node, built in the scope `name`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    input.graph.withScope(name) { input.flattened(from: startAxis) }
  }
}
