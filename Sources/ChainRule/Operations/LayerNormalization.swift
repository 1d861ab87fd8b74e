/// Normalisation over the last axis without the affine part (PyTorch's `layer_norm` with
/// no weight and bias): each row of the last axis, of length D, to mean 0 and variance 1.
///
/// For a row x: μ = (1/D) Σ xᵢ, σ² = (1/D) Σ (xᵢ − μ)² (the biased variance, as PyTorch),
/// s = 1/√(σ² + ε), yᵢ = (xᵢ − μ)·s. The Jacobian is symmetric,
/// `∂yᵢ/∂xⱼ = s·(δᵢⱼ − 1/D − yᵢyⱼ/D)`, so VJP and JVP are the same map:
/// `x̄ = s·(ȳ − mean(ȳ) − y·mean(ȳ ⊙ y))` and `ẏ = s·(ẋ − mean(ẋ) − y·mean(ẋ ⊙ y))`.
/// One fused op rather than a composite of mean, subtract, square and sqrt: two passes over
/// each row, no intermediate tensors, and nothing allocated on a built graph. The `LayerNorm`
/// layer scales by γ and shifts by β with broadcasting ops.
public struct LayerNormalization: CatalogedOperation {
  /// ε added to the variance (PyTorch's default 1e−5).
  public let epsilon: Double
  public var name: String { "layerNormalization" }

  /// Normalisation over the last axis with `epsilon` added to the variance.
  /// - Precondition: epsilon ≥ 0.
  public init(epsilon: Double = 1e-5) {
    require(epsilon >= 0, "layerNormalization: epsilon \(epsilon) must not be negative")
    self.epsilon = epsilon
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let x = operands[0]
    guard let last = x.shape.last, last > 0 else {
      throw ShapeError.invalid(op: name, x, "needs a non-empty last axis to normalise over")
    }
    return x.shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    var y = Tensor<Scalar>.zeros(inputs[0].shape)
    forward(inputs, into: &y)
    return y
  }

  /// (μ, s) of the row of `x` that starts at `start`.
  @inline(__always)
  private func moments<Scalar: TensorScalar>(
    _ x: UnsafeBufferPointer<Scalar>, _ start: Int, _ d: Int
  ) -> (Scalar, Scalar) {
    var sum: Scalar = 0
    for i in start..<(start + d) { sum += x[i] }
    let mean = sum / Scalar(d)
    var squares: Scalar = 0
    for i in start..<(start + d) { squares += (x[i] - mean) * (x[i] - mean) }
    return (mean, 1 / Scalar.sqrt(squares / Scalar(d) + Scalar(epsilon)))
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    let d = inputs[0].shape.last!
    inputs[0].scalars.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        for start in stride(from: 0, to: x.count, by: d) {
          let (mean, s) = moments(x, start, d)
          for i in start..<(start + d) { y[i] = (x[i] - mean) * s }
        }
      }
    }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var shares = [Tensor<Scalar>.zeros(inputs[0].shape)]
    accumulateVJP(inputs, output: output, gradient: gradient, into: &shares, needs: [true])
    return shares
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }
    applyJacobian(inputs[0], output, gradient, into: &gradients[0])
  }

  /// r += J·v = s·(v − mean(v) − y·mean(v ⊙ y)) row by row (J is symmetric).
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  private func applyJacobian<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ v: Tensor<Scalar>, into r: inout Tensor<Scalar>
  ) {
    let d = x.shape.last!
    x.scalars.withUnsafeBufferPointer { x in
      y.scalars.withUnsafeBufferPointer { y in
        v.scalars.withUnsafeBufferPointer { v in
          r.withUnsafeMutableBufferPointer { r in
            for start in stride(from: 0, to: x.count, by: d) {
              let (_, s) = moments(x, start, d)
              var (meanV, meanVY): (Scalar, Scalar) = (0, 0)
              for i in start..<(start + d) {
                meanV += v[i]
                meanVY += v[i] * y[i]
              }
              (meanV, meanVY) = (meanV / Scalar(d), meanVY / Scalar(d))
              for i in start..<(start + d) { r[i] += s * (v[i] - meanV - y[i] * meanVY) }
            }
          }
        }
      }
    }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    guard needs[0] else { return [nil] }
    // s = 1/√(σ² + ε) and the row means as nodes of shape [..., 1], so that they broadcast
    // over the last axis and the result stays differentiable in x, y and ȳ.
    let x = inputs[0]
    let rows = Array(x.shape.dropLast()) + [1]
    func rowMean(_ node: Node<Scalar>) -> Node<Scalar> {
      node.mean(alongAxis: -1).reshaped(rows)
    }
    let centered = x - rowMean(x)
    let s = 1 / (rowMean(centered * centered) + Scalar(epsilon)).sqrt()
    return [s * (gradient - rowMean(gradient) - output * rowMean(gradient * output))]
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    var result = Tensor<Scalar>.zeros(output.shape)
    if let dx = tangents[0] { applyJacobian(inputs[0], output, dx, into: &result) }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "s·(δ − 1/D − \(output)\(output)ᵀ/D)"
  }

  public static let checks = [
    OperationCheck("rows of [3, 5]", [[3, 5]]) { _, x in x[0].layerNormalized() },
    OperationCheck("last axis of [2, 2, 4], ε = 0.1", [[2, 2, 4]]) { _, x in
      x[0].layerNormalized(epsilon: 0.1)
    },
  ]
}

extension Node {
  /// This node normalised over its last axis to mean 0 and variance 1 (ε added to the
  /// variance), PyTorch's `layer_norm` without weight and bias.
  public func layerNormalized(epsilon: Double = 1e-5) -> Node {
    guard epsilon >= 0 else {
      return rejected(
        by: "layerNormalization(epsilon: \(epsilon))",
        "cannot be normalised: epsilon \(epsilon) must not be negative")
    }
    return graph.apply(LayerNormalization(epsilon: epsilon), [self])
  }
}
