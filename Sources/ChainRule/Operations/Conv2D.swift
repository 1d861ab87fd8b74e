/// Two-dimensional convolution (PyTorch's `conv2d`: a cross-correlation, the kernel not
/// flipped), NCHW layout as in PyTorch, with stride, zero padding and dilation.
///
/// x: [N, C, H, W], weight w: [O, C, kH, kW], y: [N, O, OH, OW] with
/// `OH = ⌊(H + 2·padH − dilH·(kH − 1) − 1) / strideH⌋ + 1` (OW likewise):
///
///     y[n, o, i, j] = Σ_{c, a, b} w[o, c, a, b] · x[n, c, i·sH − pH + a·dH, j·sW − pW + b·dW]
///
/// reading 0 outside the image, plus `bias[o]` when a third operand bias [O] is given (as
/// PyTorch's `conv2d(input, weight, bias)`; fused because a per-channel add is no broadcast
/// of NumPy's trailing-axes kind). y is bilinear in (x, w), so the VJPs are linear maps of
/// ȳ: `x̄ = convᵀ(ȳ, w)` (the transposed convolution: every input element collects ȳ·w from
/// each window that read it), `w̄[o, c, a, b] = Σ_{n, i, j} ȳ[n, o, i, j] · x[n, c, …]` (the
/// correlation of x with ȳ) and `b̄[o] = Σ_{n, i, j} ȳ[n, o, i, j]`; the JVP is
/// `ẏ = conv(ẋ, w) + conv(x, ẇ) + ḃ`.
///
/// Computed as one matrix product on the GEMM kernels after im2col (see `Convolution`), in a
/// scratch workspace the node reuses; the gradients are two more products and a col2im.
/// Numerics: sums of C·kH·kW products per element in the kernel's order, as in `MatMul`.
public struct Conv2D: CatalogedOperation {
  /// Steps between window positions.
  public let stride: Size2D
  /// Zeros added on each side of the image.
  public let padding: Size2D
  /// Steps between kernel taps (1: adjacent pixels).
  public let dilation: Size2D
  let workspace = ConvolutionWorkspace()

  public var name: String {
    let options = convolutionOptions(stride, padding, dilation)
    return options.isEmpty ? "conv2d" : "conv2d(" + options.joined(separator: ", ") + ")"
  }

  /// A convolution with these options (PyTorch's defaults: stride 1, padding 0, dilation 1).
  /// - Precondition: stride and dilation at least 1, padding at least 0.
  public init(stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) {
    WindowGeometry.validate(
      op: "conv2d", kernel: nil, stride: stride, padding: padding, dilation: dilation)
    (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
  }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    guard operands.count == 2 || operands.count == 3 else {
      throw ShapeError(
        "\(name): takes an input, a weight and an optional bias, not "
          + "\(operands.count) operands")
    }
    let (x, w) = (operands[0], operands[1])
    let g = try convolutionGeometry(op: name, x, w, stride, padding, dilation)
    if operands.count == 3, operands[2].shape != [w.shape[0]] {
      throw ShapeError.invalid(
        op: name, operands[2], "must be a bias [\(w.shape[0])], one per output channel")
    }
    return [g.batch, w.shape[0], g.outputHeight, g.outputWidth]
  }

  func geometry<Scalar>(_ x: Tensor<Scalar>, _ w: Tensor<Scalar>) -> WindowGeometry {
    WindowGeometry(
      input: x.shape, kernel: Size2D(height: w.shape[2], width: w.shape[3]), stride: stride,
      padding: padding, dilation: dilation)!
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let g = geometry(inputs[0], inputs[1])
    var y = Tensor<Scalar>.zeros([g.batch, inputs[1].shape[0], g.outputHeight, g.outputWidth])
    forward(inputs, into: &y)
    return y
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    Convolution.forward(
      geometry(inputs[0], inputs[1]), x: inputs[0], w: inputs[1], into: &output,
      accumulating: false, workspace: workspace)
    if inputs.count == 3 { Convolution.addChannelBias(inputs[2], to: &output) }
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    var shares = inputs.map { Tensor<Scalar>.zeros($0.shape) }
    accumulateVJP(
      inputs, output: output, gradient: gradient, into: &shares, needs: inputs.map { _ in true })
    return shares
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    let g = geometry(inputs[0], inputs[1])
    if needs[0] && needs[1] {  // both, on one permutation of ȳ
      Convolution.gradients(
        g, x: inputs[0], w: inputs[1], gradient: gradient, into: &gradients,
        workspace: workspace)
    } else if needs[0] {  // x̄ += convᵀ(ȳ, w)
      Convolution.inputGradient(
        g, gradient: gradient, w: inputs[1], into: &gradients[0], accumulating: true,
        workspace: workspace)
    } else if needs[1] {  // w̄ += Ȳ · colsᵀ
      Convolution.weightGradient(
        g, x: inputs[0], gradient: gradient, into: &gradients[1], accumulating: true,
        workspace: workspace)
    }
    if inputs.count == 3 && needs[2] {  // b̄ += Σ_{n, i, j} ȳ
      Convolution.addChannelSums(gradient, to: &gradients[2])
    }
  }

  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (x, w) = (inputs[0], inputs[1])
    let graph = x.graph
    return [
      needs[0]
        ? graph.apply(
          ConvTranspose2D(
            outputSize: Size2D(height: x.shape[2], width: x.shape[3]), stride: stride,
            padding: padding, dilation: dilation), [gradient, w]) : nil,
      needs[1]
        ? graph.apply(
          Conv2DWeightGradient(
            kernelSize: Size2D(height: w.shape[2], width: w.shape[3]), stride: stride,
            padding: padding, dilation: dilation), [x, gradient]) : nil,
    ]
      + (inputs.count == 3
        ? [needs[2] ? gradient.sum(alongAxis: 3).sum(alongAxis: 2).sum(alongAxis: 0) : nil] : [])
  }

  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let g = geometry(inputs[0], inputs[1])
    var result = Tensor<Scalar>.zeros(output.shape)
    if let dx = tangents[0] {  // conv(ẋ, w)
      Convolution.forward(
        g, x: dx, w: inputs[1], into: &result, accumulating: true, workspace: workspace)
    }
    if let dw = tangents[1] {  // + conv(x, ẇ)
      Convolution.forward(
        g, x: inputs[0], w: dw, into: &result, accumulating: true, workspace: workspace)
    }
    if tangents.count == 3, let db = tangents[2] { Convolution.addChannelBias(db, to: &result) }
    return result
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    switch input {
    case 0: "convᵀ(ȳ, \(operands[1]))"
    case 1: "corr(\(operands[0]), ȳ)"
    default: "Σ_{n,i,j} ȳ"
    }
  }

  public static let checks = [
    OperationCheck(
      "with bias: [2, 2, 4, 3] ⋆ [3, 2, 2, 2] + [3]", [[2, 2, 4, 3], [3, 2, 2, 2], [3]]
    ) { _, x in
      x[0].conv2d(x[1], bias: x[2])
    },
    OperationCheck("x [2, 2, 4, 4] ⋆ w [3, 2, 2, 2]", [[2, 2, 4, 4], [3, 2, 2, 2]]) { _, x in
      x[0].conv2d(x[1])
    },
    OperationCheck(
      "stride 2, padding 1: [1, 2, 5, 5] ⋆ [2, 2, 3, 3]", [[1, 2, 5, 5], [2, 2, 3, 3]]
    ) { _, x in
      x[0].conv2d(x[1], stride: 2, padding: 1)
    },
    OperationCheck(
      "dilation 2, padding 1×0, stride 1×2: [1, 1, 5, 6] ⋆ [2, 1, 2, 2]",
      [[1, 1, 5, 6], [2, 1, 2, 2]]
    ) { _, x in
      x[0].conv2d(
        x[1], stride: Size2D(height: 1, width: 2), padding: Size2D(height: 1, width: 0),
        dilation: 2)
    },
  ]
}

/// `["stride: 2", "padding: 1"]`: the options that differ from PyTorch's defaults, for names.
func convolutionOptions(_ stride: Size2D, _ padding: Size2D, _ dilation: Size2D) -> [String] {
  var parts: [String] = []
  if stride != 1 { parts.append("stride: \(stride)") }
  if padding != 0 { parts.append("padding: \(padding)") }
  if dilation != 1 { parts.append("dilation: \(dilation)") }
  return parts
}

/// The geometry of conv(x, w) for operands x [N, C, H, W] and w [O, C, kH, kW].
/// - Throws: `ShapeError` naming the operand whose rank, channels or size does not fit.
func convolutionGeometry(
  op: String, _ x: ShapeError.Operand, _ w: ShapeError.Operand, _ stride: Size2D,
  _ padding: Size2D, _ dilation: Size2D
) throws(ShapeError) -> WindowGeometry {
  guard x.shape.count == 4 else {
    throw ShapeError.invalid(op: op, x, "must be [batch, channels, height, width] (NCHW)")
  }
  guard w.shape.count == 4 else {
    throw ShapeError.invalid(
      op: op, w, "must be a kernel [outChannels, inChannels, kernelHeight, kernelWidth]")
  }
  guard w.shape[1] == x.shape[1] else {
    throw ShapeError(
      "\(op): kernel \(w.text) takes \(w.shape[1]) input channels, but \(x.text) has "
        + "\(x.shape[1])")
  }
  guard w.shape[2] >= 1, w.shape[3] >= 1 else {
    throw ShapeError.invalid(op: op, w, "has an empty kernel")
  }
  let kernel = Size2D(height: w.shape[2], width: w.shape[3])
  guard
    let g = WindowGeometry(
      input: x.shape, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
  else {
    throw ShapeError.invalid(
      op: op, x,
      "is smaller than the kernel \(kernel) (dilation \(dilation)) with padding \(padding)")
  }
  return g
}

extension Node {
  /// The 2-D convolution of this NCHW node [N, C, H, W] with `weight` [O, C, kH, kW], plus
  /// `bias` [O] per output channel when given (PyTorch's `conv2d`): [N, O, OH, OW].
  public func conv2d(
    _ weight: Node, bias: Node? = nil, stride: Size2D = 1, padding: Size2D = 0,
    dilation: Size2D = 1
  ) -> Node {
    let operands = [self, weight] + (bias.map { [$0] } ?? [])
    if let problem = WindowGeometry.problem(
      kernel: nil, stride: stride, padding: padding, dilation: dilation)
    {
      let options = convolutionOptions(stride, padding, dilation).joined(separator: ", ")
      return graph.rejecting(
        ShapeError(
          "conv2d(\(options)): \(problem), for \(operand.text) and \(weight.operand.text)"),
        operands: operands)
    }
    return graph.apply(Conv2D(stride: stride, padding: padding, dilation: dilation), operands)
  }
}
