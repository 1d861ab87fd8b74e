/// The weight gradient of a 2-D convolution as an op of its own: the correlation of an
/// input x with an output gradient u, so that `Conv2D`'s gradient can be built as graph
/// nodes and differentiated again.
///
/// x: [N, C, H, W], u: [N, O, OH, OW] (OH × OW the convolution's output size for a kernel of
/// `kernelSize`), result [O, C, kH, kW]:
///
///     r[o, c, a, b] = Σ_{n, i, j} u[n, o, i, j] · x[n, c, i·sH − pH + a·dH, j·sW − pW + b·dW]
///
/// so that ⟨r, v⟩ = ⟨conv(x, v), u⟩ for every kernel v. Bilinear in (x, u): `x̄ = convᵀ(u, r̄)`
/// and `ū = conv(x, r̄)`; JVP `ṙ = corr(ẋ, u) + corr(x, u̇)`. Computed as U · colsᵀ on the GEMM
/// kernels (see `Convolution`).
public struct Conv2DWeightGradient: CatalogedOperation {
  /// kH × kW of the kernel whose gradient this is.
  public let kernelSize: Size2D
  /// The convolution's stride.
  public let stride: Size2D
  /// The convolution's padding.
  public let padding: Size2D
  /// The convolution's dilation.
  public let dilation: Size2D
  let workspace = ConvolutionWorkspace()

  public var name: String {
    let options = ["kernel: \(kernelSize)"] + convolutionOptions(stride, padding, dilation)
    return "conv2dWeightGradient(" + options.joined(separator: ", ") + ")"
  }

  /// The weight gradient of `Conv2D(stride:padding:dilation:)` with a kernel of `kernelSize`.
  /// - Precondition: kernelSize, stride and dilation at least 1, padding at least 0.
  public init(kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) {
    WindowGeometry.validate(
      op: "conv2dWeightGradient", kernel: kernelSize, stride: stride, padding: padding,
      dilation: dilation)
    (self.kernelSize, self.stride, self.padding, self.dilation) =
      (kernelSize, stride, padding, dilation)
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (x, u) = (operands[0], operands[1])
    guard u.shape.count == 4 else {
      throw ShapeError.invalid(op: name, u, "must be [batch, channels, height, width] (NCHW)")
    }
    let kernel = ShapeError.Operand(
      name: "kernel",
      shape: [u.shape[1], x.shape.count == 4 ? x.shape[1] : 0, kernelSize.height, kernelSize.width]
    )
    let g = try convolutionGeometry(op: name, x, kernel, stride, padding, dilation)
    guard [g.batch, g.outputHeight, g.outputWidth] == [u.shape[0], u.shape[2], u.shape[3]] else {
      throw ShapeError.invalid(
        op: name, u,
        "does not match the convolution of \(x.text), which gives [\(g.batch), _, "
          + "\(g.outputHeight), \(g.outputWidth)]")
    }
    return kernel.shape
  }

  func geometry<Scalar>(_ x: Tensor<Scalar>) -> WindowGeometry {
    WindowGeometry(
      input: x.shape, kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)!
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    var r = Tensor<Scalar>.zeros(
      [inputs[1].shape[1], inputs[0].shape[1], kernelSize.height, kernelSize.width])
    forward(inputs, into: &r)
    return r
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    Convolution.weightGradient(
      geometry(inputs[0]), x: inputs[0], gradient: inputs[1], into: &output,
      accumulating: false, workspace: workspace)
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
    let g = geometry(inputs[0])
    if needs[0] {  // x̄ += convᵀ(u, r̄)
      Convolution.inputGradient(
        g, gradient: inputs[1], w: gradient, into: &gradients[0], accumulating: true,
        workspace: workspace)
    }
    if needs[1] {  // ū += conv(x, r̄)
      Convolution.forward(
        g, x: inputs[0], w: gradient, into: &gradients[1], accumulating: true,
        workspace: workspace)
    }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (x, u) = (inputs[0], inputs[1])
    return [
      needs[0]
        ? u.convTranspose2d(
          gradient, outputSize: Size2D(height: x.shape[2], width: x.shape[3]), stride: stride,
          padding: padding, dilation: dilation) : nil,
      needs[1]
        ? x.conv2d(gradient, stride: stride, padding: padding, dilation: dilation) : nil,
    ]
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let g = geometry(inputs[0])
    var result = Tensor<Scalar>.zeros(output.shape)
    if let dx = tangents[0] {  // corr(ẋ, u)
      Convolution.weightGradient(
        g, x: dx, gradient: inputs[1], into: &result, accumulating: true, workspace: workspace)
    }
    if let du = tangents[1] {  // + corr(x, u̇)
      Convolution.weightGradient(
        g, x: inputs[0], gradient: du, into: &result, accumulating: true, workspace: workspace)
    }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "convᵀ(\(operands[1]), ȳ)" : "conv(\(operands[0]), ȳ)"
  }

  public static let checks = [
    OperationCheck("x [2, 2, 4, 4], u [2, 3, 3, 3] → [3, 2, 2, 2]", [[2, 2, 4, 4], [2, 3, 3, 3]]) {
      _, x in x[0].graph.apply(Conv2DWeightGradient(kernelSize: 2), [x[0], x[1]])
    },
    OperationCheck(
      "stride 2, padding 1, dilation 1×2: x [1, 2, 5, 6], u [1, 2, 3, 3] → [2, 2, 2, 2]",
      [[1, 2, 5, 6], [1, 2, 3, 3]]
    ) { _, x in
      x[0].graph.apply(
        Conv2DWeightGradient(
          kernelSize: 2, stride: 2, padding: 1, dilation: Size2D(height: 1, width: 2)),
        [x[0], x[1]])
    },
  ]
}
