/// A building block of a model: it owns `Parameter`s and adds its computation to whatever
/// graph its input node lives in, so one model can be used in a fresh graph per step or in
/// one graph built once and re-run.
public protocol Layer<Scalar>: AnyObject {
  /// The element type, `Float` or `Double`.
  associatedtype Scalar: TensorScalar

  /// The layer's name: its graph scope (a DOT cluster) and the prefix of its parameters'
  /// names (`layer0` → `layer0.weight`). Setting it renames the parameters.
  var name: String { get set }

  /// The trainable parameters, in a fixed order, each named `<name>.<role>`.
  var parameters: [Parameter<Scalar>] { get }

  /// Adds the layer's nodes to `input.graph` and returns the output node.
  func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar>

  /// Switches between training (`true`, the state of a new layer) and evaluation (`false`),
  /// PyTorch's `train()` and `eval()`: only layers that behave differently (`Dropout`) act
  /// on it; the default does nothing, and `Sequential` passes it to every layer. It takes
  /// effect at the next evaluation of graphs already built from the layer.
  func setTraining(_ isTraining: Bool)
}

extension Layer {
  /// Does nothing: the layer computes the same in training and evaluation.
  public func setTraining(_ isTraining: Bool) {}
}
