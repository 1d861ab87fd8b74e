/// The axes from `startAxis` on merged into one (PyTorch's `flatten(start_dim:)`, as
/// `nn.Flatten` uses with start 1): [N, C, H, W] → [N, C·H·W].
///
/// A reshape: the same elements in row-major order, so Y = X viewed as the new shape and
/// X̄ = Ȳ viewed as X's shape; no arithmetic, exact. Unlike `Reshape`, whose value shares
/// its operand's storage, Flattening copies into a buffer of its own: on a built graph the
/// operand's next in-place forward then finds its storage unshared, and a training step
/// allocates nothing.
public struct Flattening: CatalogedOperation {
  /// The first axis merged (non-negative); the axes before it are kept.
  public let startAxis: Int
  public var name: String { "flatten(from: \(startAxis))" }

  /// Merges the axes from `startAxis` (default 1, the batch kept) to the last.
  /// - Precondition: startAxis ≥ 0.
  public init(startAxis: Int = 1) {
    require(startAxis >= 0, "flatten: startAxis \(startAxis) must not be negative")
    self.startAxis = startAxis
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let x = operands[0]
    guard startAxis < x.shape.count else {
      throw ShapeError.invalid(op: name, x, "has no axis \(startAxis) to flatten from")
    }
    return Array(x.shape[..<startAxis]) + [x.shape[startAxis...].reduce(1, *)]
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let x = inputs[0]
    return x.reshaped(Array(x.shape[..<startAxis]) + [x.shape[startAxis...].reduce(1, *)])
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    output.withUnsafeMutableBufferPointer { y in
      inputs[0].scalars.withUnsafeBufferPointer { x in
        y.baseAddress!.update(from: x.baseAddress!, count: x.count)
      }
    }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [gradient.reshaped(inputs[0].shape)]
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard needs[0] else { return }
    gradients[0].withUnsafeMutableBufferPointer { xbar in
      gradient.scalars.withUnsafeBufferPointer { ybar in
        for i in ybar.indices { xbar[i] += ybar[i] }
      }
    }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [needs[0] ? gradient.reshaped(inputs[0].shape) : nil]
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    tangents[0]?.reshaped(output.shape) ?? Tensor.zeros(output.shape)
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    "reshape(ȳ)"
  }

  public static let checks = [
    OperationCheck("[2, 3, 2, 2] from axis 1", [[2, 3, 2, 2]]) { _, x in x[0].flattened() },
    OperationCheck("[2, 3, 4] from axis 0", [[2, 3, 4]]) { _, x in x[0].flattened(from: 0) },
  ]
}

extension Node {
  /// This node with the axes from `startAxis` (default 1) merged into one, as PyTorch's
  /// `flatten(start_dim:)`: [N, C, H, W] → [N, C·H·W].
  public func flattened(from startAxis: Int = 1) -> Node {
    guard startAxis >= 0 else {
      return rejected(
        by: "flatten(from: \(startAxis))", "cannot be flattened from a negative axis")
    }
    return graph.apply(Flattening(startAxis: startAxis), [self])
  }
}
