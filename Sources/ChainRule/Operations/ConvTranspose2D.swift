/// The transposed 2-D convolution (PyTorch's `conv_transpose2d` without bias), NCHW: the
/// adjoint of `Conv2D` in its input, and so the input gradient of a convolution.
///
/// u: [N, O, OH, OW], weight w: [O, C, kH, kW] (PyTorch's transposed-convolution layout,
/// [in, out, kH, kW]), z: [N, C, H, W], where H × W is `outputSize` — several sizes sweep to
/// the same OH × OW, so it is given, as PyTorch's `output_padding` picks one. Defined by
/// ⟨conv(x, w), u⟩ = ⟨x, convᵀ(u, w)⟩ for every x [N, C, H, W]:
///
///     z[n, c, h, v] = Σ_{o, i, j, a, b: i·sH − pH + a·dH = h, j·sW − pW + b·dW = v}
///                     u[n, o, i, j] · w[o, c, a, b]
///
/// Bilinear in (u, w): `ū = conv(z̄, w)` and `w̄ = corr(z̄, u)` (the weight gradient of
/// conv at input z̄ for the output gradient u); JVP `ż = convᵀ(u̇, w) + convᵀ(u, ẇ)`. Computed
/// as col2im(Wᵀ · U) on the GEMM kernels (see `Convolution`).
public struct ConvTranspose2D: CatalogedOperation {
  /// H × W of the result: the size of the convolution's input.
  public let outputSize: Size2D
  /// The stride of the convolution this transposes.
  public let stride: Size2D
  /// The padding of the convolution this transposes.
  public let padding: Size2D
  /// The dilation of the convolution this transposes.
  public let dilation: Size2D
  let workspace = ConvolutionWorkspace()

  public var name: String {
    let options = ["size: \(outputSize)"] + convolutionOptions(stride, padding, dilation)
    return "convTranspose2d(" + options.joined(separator: ", ") + ")"
  }

  /// The transpose of `Conv2D(stride:padding:dilation:)` for inputs of `outputSize`.
  /// - Precondition: outputSize, stride and dilation at least 1, padding at least 0.
  public init(outputSize: Size2D, stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) {
    WindowGeometry.validate(
      op: "convTranspose2d", kernel: outputSize, stride: stride, padding: padding,
      dilation: dilation)
    (self.outputSize, self.stride, self.padding, self.dilation) =
      (outputSize, stride, padding, dilation)
  }

  /// The shape of the convolution's input, [N, C, H, W], for u [N, O, …] and w [O, C, …].
  private func imageShape(_ u: [Int], _ w: [Int]) -> [Int] {
    [u[0], w[1], outputSize.height, outputSize.width]
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (u, w) = (operands[0], operands[1])
    guard u.shape.count == 4 else {
      throw ShapeError.invalid(op: name, u, "must be [batch, channels, height, width] (NCHW)")
    }
    guard w.shape.count == 4, w.shape[0] == u.shape[1] else {
      throw ShapeError.invalid(
        op: name, w, "must be a kernel [\(u.shape[1]) (channels of \(u.text)), out, kH, kW]")
    }
    let image = ShapeError.Operand(name: "image", shape: imageShape(u.shape, w.shape))
    let g = try convolutionGeometry(op: name, image, w, stride, padding, dilation)
    guard [g.outputHeight, g.outputWidth] == Array(u.shape[2...]) else {
      throw ShapeError.invalid(
        op: name, u,
        "does not match a convolution of a \(outputSize) image, which gives "
          + "\(g.outputHeight)×\(g.outputWidth)")
    }
    return image.shape
  }

  func geometry<Scalar>(_ u: Tensor<Scalar>, _ w: Tensor<Scalar>) -> WindowGeometry {
    WindowGeometry(
      input: imageShape(u.shape, w.shape), kernel: Size2D(height: w.shape[2], width: w.shape[3]),
      stride: stride, padding: padding, dilation: dilation)!
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    var z = Tensor<Scalar>.zeros(imageShape(inputs[0].shape, inputs[1].shape))
    forward(inputs, into: &z)
    return z
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    Convolution.inputGradient(
      geometry(inputs[0], inputs[1]), gradient: inputs[0], w: inputs[1], into: &output,
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
    let g = geometry(inputs[0], inputs[1])
    if needs[0] {  // ū += conv(z̄, w)
      Convolution.forward(
        g, x: gradient, w: inputs[1], into: &gradients[0], accumulating: true,
        workspace: workspace)
    }
    if needs[1] {  // w̄ += corr(z̄, u)
      Convolution.weightGradient(
        g, x: gradient, gradient: inputs[0], into: &gradients[1], accumulating: true,
        workspace: workspace)
    }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (u, w) = (inputs[0], inputs[1])
    return [
      needs[0]
        ? gradient.conv2d(w, stride: stride, padding: padding, dilation: dilation) : nil,
      needs[1]
        ? u.graph.apply(
          Conv2DWeightGradient(
            kernelSize: Size2D(height: w.shape[2], width: w.shape[3]), stride: stride,
            padding: padding, dilation: dilation), [gradient, u]) : nil,
    ]
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let g = geometry(inputs[0], inputs[1])
    var result = Tensor<Scalar>.zeros(output.shape)
    if let du = tangents[0] {  // convᵀ(u̇, w)
      Convolution.inputGradient(
        g, gradient: du, w: inputs[1], into: &result, accumulating: true, workspace: workspace)
    }
    if let dw = tangents[1] {  // + convᵀ(u, ẇ)
      Convolution.inputGradient(
        g, gradient: inputs[0], w: dw, into: &result, accumulating: true, workspace: workspace)
    }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    input == 0 ? "conv(ȳ, \(operands[1]))" : "corr(ȳ, \(operands[0]))"
  }

  public static let checks = [
    OperationCheck("u [2, 3, 3, 3], w [3, 2, 2, 2] → [2, 2, 4, 4]", [[2, 3, 3, 3], [3, 2, 2, 2]]) {
      _, x in x[0].convTranspose2d(x[1], outputSize: 4)
    },
    OperationCheck(
      "stride 2, padding 1: u [1, 2, 3, 3], w [2, 2, 3, 3] → [1, 2, 6, 5]",
      [[1, 2, 3, 3], [2, 2, 3, 3]]
    ) { _, x in
      x[0].convTranspose2d(
        x[1], outputSize: Size2D(height: 6, width: 5), stride: 2, padding: 1)
    },
  ]
}

extension Node {
  /// The transposed convolution of this node u [N, O, OH, OW] with `weight` [O, C, kH, kW]
  /// onto an image of `outputSize`: [N, C, H, W], the adjoint of `conv2d` with the same
  /// stride, padding and dilation.
  public func convTranspose2d(
    _ weight: Node, outputSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
    dilation: Size2D = 1
  ) -> Node {
    graph.apply(
      ConvTranspose2D(
        outputSize: outputSize, stride: stride, padding: padding, dilation: dilation),
      [self, weight])
  }
}
