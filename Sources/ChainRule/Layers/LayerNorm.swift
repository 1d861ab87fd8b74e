/// Layer normalisation over the last axis (PyTorch's `nn.LayerNorm(D)`), with a learnable
/// scale γ and shift β: a = γ ⊙ (x − μ)/√(σ² + ε) + β per row of the last axis.
///
/// Shapes: x: [..., D], gain γ: [D] (initially ones), shift β: [D] (initially zeros), a: x's
/// shape; μ and σ² are the row's mean and biased variance, ε = 1e−5 by default, as PyTorch.
/// Built from the fused `LayerNormalization` op and broadcasting multiply and add.
public final class LayerNorm<Scalar: TensorScalar>: Layer {
  /// γ, [D].
  public let gain: Parameter<Scalar>
  /// β, [D].
  public let shift: Parameter<Scalar>
  /// ε added to the variance.
  public let epsilon: Double

  /// The scope and parameter-name prefix (`<name>.weight` for γ and `<name>.bias` for β, as
  /// PyTorch names them); renames the parameters when set.
  public var name: String {
    didSet {
      gain.name = "\(name).weight"
      shift.name = "\(name).bias"
    }
  }

  /// Normalisation over a last axis of `size` elements: γ = 1, β = 0.
  /// - Precondition: size > 0, epsilon ≥ 0.
  public init(size: Int, epsilon: Double = 1e-5, name: String = "layerNorm") {
    require(size > 0, "LayerNorm: size must be positive, not \(size)")
    _ = LayerNormalization(epsilon: epsilon)  // validates
    self.gain = Parameter(Tensor.ones([size]), name: "\(name).weight")
    self.shift = Parameter(Tensor.zeros([size]), name: "\(name).bias")
    self.epsilon = epsilon
    self.name = name
  }

  /// `[gain, shift]`.
  public var parameters: [Parameter<Scalar>] { [gain, shift] }

  /// γ ⊙ normalise(x) + β, built in the scope `name`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    let graph = input.graph
    return graph.withScope(name) {
      let normalized = input.layerNormalized(epsilon: epsilon).named("x̂")
      return (normalized * graph.parameter(gain) + graph.parameter(shift)).named("a")
    }
  }
}
