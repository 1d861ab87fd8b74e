/// The element-wise function a `Dense` layer applies after its affine map.
public enum Activation: String, Sendable, CaseIterable {
  /// The identity: a = z.
  case none
  /// a = σ(z) = 1 / (1 + e⁻ᶻ).
  case sigmoid
  /// a = tanh z.
  case tanh
  /// a = max(z, 0).
  case relu
  /// a = 1 if z > 0 else 0 (the perceptron's threshold; its derivative is 0).
  case step

  /// Applies the activation to `z` as a graph node; `none` returns `z` itself.
  public func callAsFunction<Scalar>(_ z: Node<Scalar>) -> Node<Scalar> {
    switch self {
    case .none: z
    case .sigmoid: z.sigmoid()
    case .tanh: z.tanh()
    case .relu: z.relu()
    case .step: z.step()
    }
  }
}
