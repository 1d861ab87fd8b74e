/// Layers applied one after another: output = fₙ(… f₁(f₀(x))).
///
/// The i-th layer is renamed `layer<i>` (or `<name>.layer<i>` when the sequence itself has a
/// name, as when it is nested), so every parameter has a stable, readable name:
/// `layer0.weight`, `layer0.bias`, `layer1.weight`, …
public final class Sequential<Scalar: TensorScalar>: Layer {
  /// The layers, in application order.
  public let layers: [any Layer<Scalar>]

  /// The prefix of the layers' names; empty for a top-level model.
  public var name: String {
    didSet { renameLayers() }
  }

  /// Chains `layers`, renaming each to `layer<i>` (prefixed by `name` when it is not empty).
  public init(_ layers: [any Layer<Scalar>], name: String = "") {
    self.layers = layers
    self.name = name
    renameLayers()
  }

  /// Every layer's parameters, layer by layer.
  public var parameters: [Parameter<Scalar>] { layers.flatMap { $0.parameters } }

  /// The parameters keyed by name (`"layer0.weight"` → its `Parameter`).
  /// - Precondition: the names are unique (always so for the names `Sequential` assigns,
  ///   unless a layer is renamed by hand or used twice).
  public var namedParameters: [String: Parameter<Scalar>] {
    Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) })
  }

  /// Feeds `input` through every layer in turn.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    layers.reduce(input) { node, layer in layer(node) }
  }

  /// Sets training (`true`) or evaluation (`false`) mode on every layer.
  public func setTraining(_ isTraining: Bool) {
    for layer in layers { layer.setTraining(isTraining) }
  }

  private func renameLayers() {
    for (index, layer) in layers.enumerated() {
      layer.name = name.isEmpty ? "layer\(index)" : "\(name).layer\(index)"
    }
  }
}
