/// The routing of max pooling as an op of its own: values moved along the argmax positions
/// that x's windows pick, so that `MaxPool2D`'s gradient can be built as graph nodes and
/// differentiated again.
///
/// Operands x [N, C, H, W] (deciding the routes: each window's first maximum, as in
/// `MaxPool2D`) and v. `.scatter` (the VJP of max pooling): v [N, C, OH, OW] → r [N, C, H, W],
/// `r[p] = Σ_{q: argmax q = p} v[q]`. `.gather` (its JVP, and the adjoint of scatter):
/// v [N, C, H, W] → r [N, C, OH, OW], `r[q] = v[argmax q]`; gather(x, x) = maxPool(x).
///
/// Linear in v, so v̄ is the other direction applied to r̄ and the JVP is the same direction
/// applied to v̇. The routes are piecewise constant in x: ∂r/∂x = 0 wherever the argmaxes do
/// not change (x̄ = 0, as the indices of `Gather` get), and undefined at ties.
public struct MaxPool2DRoute: CatalogedOperation {
  /// Which way values move along the routes.
  public enum Direction: String, Sendable {
    /// Output-shaped values onto the input pixels they came from (max pooling's VJP).
    case scatter
    /// Input-shaped values picked at each window's argmax (max pooling's JVP).
    case gather

    /// The adjoint direction.
    var reversed: Direction { self == .scatter ? .gather : .scatter }
  }

  /// Which way values move.
  public let direction: Direction
  /// The pooling's window.
  public let kernelSize: Size2D
  /// The pooling's stride.
  public let stride: Size2D
  /// The pooling's padding.
  public let padding: Size2D

  public var name: String { "maxPool2dRoute(\(direction.rawValue), \(pooling.name))" }

  private var pooling: MaxPool2D {
    MaxPool2D(kernelSize: kernelSize, stride: stride, padding: padding)
  }

  /// The routes of `MaxPool2D(kernelSize:stride:padding:)`, moving values `direction`.
  public init(direction: Direction, kernelSize: Size2D, stride: Size2D, padding: Size2D = 0) {
    _ = MaxPool2D(kernelSize: kernelSize, stride: stride, padding: padding)  // validates
    (self.direction, self.kernelSize, self.stride, self.padding) =
      (direction, kernelSize, stride, padding)
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (x, v) = (operands[0], operands[1])
    let pooled = try pooling.outputShape([x])
    let expected = direction == .scatter ? pooled : x.shape
    guard v.shape == expected else {
      throw ShapeError.invalid(
        op: name, v, "must have shape \(expected) to \(direction.rawValue) along \(x.text)")
    }
    return direction == .scatter ? x.shape : pooled
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let shape =
      direction == .scatter ? inputs[0].shape : pooling.forward([inputs[0]]).shape
    var r = Tensor<Scalar>.zeros(shape)
    forward(inputs, into: &r)
    return r
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    output.fill(with: 0)
    route(direction, inputs[0], inputs[1], into: &output)
  }

  /// r += route(v) in `direction`.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  func route<Scalar: TensorScalar>(
    _ direction: Direction, _ x: Tensor<Scalar>, _ v: Tensor<Scalar>, into r: inout Tensor<Scalar>
  ) {
    let g = pooling.geometry(x.shape)
    x.scalars.withUnsafeBufferPointer { x in
      v.scalars.withUnsafeBufferPointer { v in
        r.withUnsafeMutableBufferPointer { r in
          switch direction {
          case .scatter: g.scatterAdding(v, along: x, into: r)
          case .gather: g.forEachWindowMaximum(x) { q, p in r[q] += v[p] }
          }
        }
      }
    }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var shares = [Tensor<Scalar>.zeros(inputs[0].shape), Tensor<Scalar>.zeros(inputs[1].shape)]
    accumulateVJP(inputs, output: output, gradient: gradient, into: &shares, needs: [true, true])
    return shares
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    // x̄ = 0: the routes are piecewise constant in x. v̄ += the adjoint route of r̄.
    if needs[1] { route(direction.reversed, inputs[0], gradient, into: &gradients[1]) }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let adjoint = MaxPool2DRoute(
      direction: direction.reversed, kernelSize: kernelSize, stride: stride, padding: padding)
    return [nil, needs[1] ? inputs[0].graph.apply(adjoint, [inputs[0], gradient]) : nil]
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    var result = Tensor<Scalar>.zeros(output.shape)
    if let dv = tangents[1] { route(direction, inputs[0], dv, into: &result) }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "0" : "[routes of \(operands[0])]"
  }

  public static let checks = [
    OperationCheck(
      "scatter [1, 2, 2, 2] along 2×2 windows of [1, 2, 4, 4]", [[1, 2, 4, 4], [1, 2, 2, 2]],
      domain: .distinct
    ) { graph, x in
      graph.apply(MaxPool2DRoute(direction: .scatter, kernelSize: 2, stride: 2), [x[0], x[1]])
    },
    OperationCheck(
      "gather [1, 1, 5, 4] at overlapping 3×3 windows, stride 2, padding 1",
      [[1, 1, 5, 4], [1, 1, 5, 4]], domain: .distinct
    ) { graph, x in
      graph.apply(
        MaxPool2DRoute(direction: .gather, kernelSize: 3, stride: 2, padding: 1), [x[0], x[1]])
    },
    OperationCheck(
      "scatter onto overlapping 3×3 windows, stride 1, of [1, 1, 4, 4]",
      [[1, 1, 4, 4], [1, 1, 2, 2]], domain: .distinct
    ) { graph, x in
      graph.apply(MaxPool2DRoute(direction: .scatter, kernelSize: 3, stride: 1), [x[0], x[1]])
    },
  ]
}
