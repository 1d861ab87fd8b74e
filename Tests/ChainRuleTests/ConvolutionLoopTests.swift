import Testing

@testable import ChainRule

/// The data-movement loops around the convolution GEMM — im2col, col2im, the window-maximum
/// scan of max pooling — against plain per-element loops written from their definitions,
/// bit for bit in Float and Double: they only move or select values (col2im adds in the same
/// order), so any difference is a bug, not rounding.
@Suite("Convolution loops against per-element references")
struct ConvolutionLoopTests {
  /// (input [N, C, H, W], kernel, stride, padding, dilation): stride 1 (the copy path), strided,
  /// dilated, padding wider than the kernel (rows and columns wholly in padding), odd sizes.
  static let geometries: [([Int], Size2D, Size2D, Size2D, Size2D)] = [
    ([2, 3, 6, 5], 3, 1, 1, 1),
    ([1, 2, 7, 7], 3, 2, 1, 1),
    (
      [2, 1, 8, 9], Size2D(height: 3, width: 2), Size2D(height: 1, width: 3),
      Size2D(height: 2, width: 0), Size2D(height: 2, width: 1)
    ),
    ([3, 4, 2, 3], 1, 1, 0, 1),
    ([1, 2, 3, 4], 2, 1, 3, 1),
    ([2, 2, 5, 7], Size2D(height: 2, width: 3), 2, Size2D(height: 0, width: 4), 2),
    ([1, 1, 9, 4], 3, Size2D(height: 3, width: 1), 2, Size2D(height: 1, width: 2)),
    ([2, 3, 28, 28], 3, 1, 1, 1),
  ]

  static func geometry(_ index: Int) -> WindowGeometry {
    let (shape, kernel, stride, padding, dilation) = geometries[index]
    return WindowGeometry(
      input: shape, kernel: kernel, stride: stride, padding: padding, dilation: dilation)!
  }

  /// cols[(c, i, j), n·P + oh·OW + ow] = x[n, c, oh·sH − pH + i·dH, ow·sW − pW + j·dW], or 0.
  static func referenceIm2col<Scalar: TensorScalar>(_ g: WindowGeometry, _ x: [Scalar]) -> [Scalar]
  {
    let (kh, kw, p) = (g.kernel.height, g.kernel.width, g.positions)
    var cols = [Scalar](repeating: -1, count: g.taps * g.batch * p)
    for c in 0..<g.channels {
      for i in 0..<kh {
        for j in 0..<kw {
          for n in 0..<g.batch {
            for oh in 0..<g.outputHeight {
              for ow in 0..<g.outputWidth {
                let ih = oh * g.stride.height - g.padding.height + i * g.dilation.height
                let iw = ow * g.stride.width - g.padding.width + j * g.dilation.width
                let inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                let column = n * p + oh * g.outputWidth + ow
                cols[((c * kh + i) * kw + j) * g.batch * p + column] =
                  inside ? x[((n * g.channels + c) * g.height + ih) * g.width + iw] : 0
              }
            }
          }
        }
      }
    }
    return cols
  }

  /// x[n, c, ih, iw] += cols[(c, i, j), …] for every window position that read it, in the
  /// order (c, i, j, n, oh, ow).
  static func referenceCol2im<Scalar: TensorScalar>(
    _ g: WindowGeometry, _ cols: [Scalar], onto start: [Scalar]
  ) -> [Scalar] {
    let (kh, kw, p) = (g.kernel.height, g.kernel.width, g.positions)
    var x = start
    for c in 0..<g.channels {
      for i in 0..<kh {
        for j in 0..<kw {
          for n in 0..<g.batch {
            for oh in 0..<g.outputHeight {
              for ow in 0..<g.outputWidth {
                let ih = oh * g.stride.height - g.padding.height + i * g.dilation.height
                let iw = ow * g.stride.width - g.padding.width + j * g.dilation.width
                guard ih >= 0 && ih < g.height && iw >= 0 && iw < g.width else { continue }
                x[((n * g.channels + c) * g.height + ih) * g.width + iw] +=
                  cols[((c * kh + i) * kw + j) * g.batch * p + n * p + oh * g.outputWidth + ow]
              }
            }
          }
        }
      }
    }
    return x
  }

  static func values<Scalar: TensorScalar>(
    _: Scalar.Type, _ count: Int, using generator: inout SplitMix64
  ) -> [Scalar] {
    (0..<count).map { _ in Scalar(Double(generator.next() % 2001) / 1000 - 1) }
  }

  /// Equal element by element, sign of zero included (the data hold no NaN).
  static func identical<Scalar: TensorScalar>(_ a: [Scalar], _ b: [Scalar]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0 == $1 && $0.sign == $1.sign }
  }

  func checkIm2colAndCol2im<Scalar: TensorScalar>(_: Scalar.Type, _ index: Int) {
    let g = Self.geometry(index)
    var generator = SplitMix64(seed: 40 + UInt64(index))
    let x = Self.values(Scalar.self, g.inputCount, using: &generator)
    var cols = [Scalar](repeating: -7, count: g.taps * g.batch * g.positions)
    x.withUnsafeBufferPointer { x in
      cols.withUnsafeMutableBufferPointer { Convolution.im2col(g, x, into: $0) }
    }
    #expect(
      Self.identical(cols, Self.referenceIm2col(g, x)), "im2col, geometry \(index), \(Scalar.self)")

    let spread = Self.values(Scalar.self, cols.count, using: &generator)
    var folded = x
    spread.withUnsafeBufferPointer { s in
      folded.withUnsafeMutableBufferPointer { Convolution.col2imAdding(g, s.baseAddress!, $0) }
    }
    let expected = Self.referenceCol2im(g, spread, onto: x)
    // Bit for bit: the same additions in the same order.
    #expect(Self.identical(folded, expected), "col2im, geometry \(index), \(Scalar.self)")
  }

  @Test(arguments: 0..<geometries.count)
  func im2colAndCol2imMatchTheDefinitionBitForBit(_ index: Int) {
    checkIm2colAndCol2im(Float.self, index)
    checkIm2colAndCol2im(Double.self, index)
  }

  /// The (q, p) pairs of the general scan: the first maximum in row-major order, a NaN
  /// counting as the maximum (the first NaN).
  static func referenceMaxima<Scalar: TensorScalar>(_ g: WindowGeometry, _ x: [Scalar]) -> [Int] {
    var result: [Int] = []
    for plane in 0..<(g.batch * g.channels) {
      for i in 0..<g.outputHeight {
        for j in 0..<g.outputWidth {
          var best: Int? = nil
          for a in 0..<g.kernel.height {
            for b in 0..<g.kernel.width {
              let (r, c) = (
                i * g.stride.height - g.padding.height + a, j * g.stride.width - g.padding.width + b
              )
              guard r >= 0 && r < g.height && c >= 0 && c < g.width else { continue }
              let p = (plane * g.height + r) * g.width + c
              guard let current = best else {
                best = p
                continue
              }
              if x[current].isNaN { continue }
              if x[p].isNaN || x[p] > x[current] { best = p }
            }
          }
          result.append(best!)
        }
      }
    }
    return result
  }

  func checkMaxima<Scalar: TensorScalar>(
    _: Scalar.Type, shape: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, seed: UInt64
  ) {
    let g = WindowGeometry(
      input: shape, kernel: kernel, stride: stride, padding: padding, dilation: 1)!
    var generator = SplitMix64(seed: seed)
    // Few distinct values, so that ties are common, and some NaNs.
    let x: [Scalar] = (0..<g.inputCount).map { _ in
      let r = generator.next() % 8
      return r == 7 ? .nan : Scalar(Double(r % 4))
    }
    var pairs: [Int] = []
    x.withUnsafeBufferPointer { x in
      g.forEachWindowMaximum(x) { q, p in
        #expect(q == pairs.count)
        pairs.append(p)
      }
    }
    #expect(pairs == Self.referenceMaxima(g, x), "\(shape) \(kernel) \(stride) \(padding)")
  }

  @Test func windowMaximaMatchTheFirstMaximumRuleOnTiesAndNaN() {
    // 2×2 stride 2 without padding (the unrolled path), even and odd sizes; then the general
    // scan with padding, overlap and non-square windows.
    let cases: [([Int], Size2D, Size2D, Size2D)] = [
      ([2, 3, 8, 6], 2, 2, 0), ([1, 2, 7, 5], 2, 2, 0), ([3, 1, 3, 3], 2, 2, 0),
      ([1, 1, 2, 2], 2, 2, 0), ([1, 2, 6, 6], 2, 2, 1), ([1, 2, 6, 7], 2, 1, 0),
      ([2, 1, 7, 5], 3, 2, 1),
      (
        [1, 2, 5, 6], Size2D(height: 2, width: 3), Size2D(height: 2, width: 1),
        Size2D(height: 1, width: 0)
      ),
    ]
    for (seed, (shape, kernel, stride, padding)) in cases.enumerated() {
      checkMaxima(
        Float.self, shape: shape, kernel: kernel, stride: stride, padding: padding,
        seed: UInt64(seed))
      checkMaxima(
        Double.self, shape: shape, kernel: kernel, stride: stride, padding: padding,
        seed: UInt64(seed) + 100)
    }
  }
}

extension ConvolutionLoopTests {
  func checkJointGradients<Scalar: TensorScalar>(_: Scalar.Type, _ index: Int) {
    let (shape, kernel, stride, padding, dilation) = Self.geometries[index]
    let g = Self.geometry(index)
    var generator = SplitMix64(seed: 70 + UInt64(index))
    let x = Tensor(shape: shape, scalars: Self.values(Scalar.self, g.inputCount, using: &generator))
    let wShape = [3, shape[1], kernel.height, kernel.width]
    let w = Tensor(
      shape: wShape, scalars: Self.values(Scalar.self, wShape.reduce(1, *), using: &generator))
    let yShape = [g.batch, 3, g.outputHeight, g.outputWidth]
    let ybar = Tensor(
      shape: yShape, scalars: Self.values(Scalar.self, yShape.reduce(1, *), using: &generator))
    let start = [
      Tensor(shape: shape, scalars: Self.values(Scalar.self, g.inputCount, using: &generator)),
      Tensor(shape: wShape, scalars: Self.values(Scalar.self, w.count, using: &generator)),
    ]
    let op = Conv2D(stride: stride, padding: padding, dilation: dilation)
    let y = op.forward([x, w])
    var joint = start
    op.accumulateVJP([x, w], output: y, gradient: ybar, into: &joint, needs: [true, true])
    var separate = start
    op.accumulateVJP([x, w], output: y, gradient: ybar, into: &separate, needs: [true, false])
    op.accumulateVJP([x, w], output: y, gradient: ybar, into: &separate, needs: [false, true])
    for i in 0..<2 {
      #expect(
        Self.identical(joint[i].scalars, separate[i].scalars),
        "operand \(i), geometry \(index), \(Scalar.self)")
    }
  }

  /// Both gradients in one pass (one permutation of ȳ) equal the two computed alone.
  @Test(arguments: 0..<geometries.count)
  func jointConvolutionGradientsEqualTheSeparateOnes(_ index: Int) {
    checkJointGradients(Float.self, index)
    checkJointGradients(Double.self, index)
  }
}

extension ConvolutionLoopTests {
  /// The same bits: sign, exponent and significand (so a NaN's payload and the sign of zero
  /// count).
  static func sameBits<Scalar: TensorScalar>(_ a: [Scalar], _ b: [Scalar]) -> Bool {
    a.count == b.count
      && zip(a, b).allSatisfy {
        $0.sign == $1.sign && $0.exponentBitPattern == $1.exponentBitPattern
          && $0.significandBitPattern == $1.significandBitPattern
      }
  }

  func checkPooling<Scalar: TensorScalar>(
    _: Scalar.Type, shape: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, seed: UInt64
  ) {
    let op = MaxPool2D(kernelSize: kernel, stride: stride, padding: padding)
    let g = op.geometry(shape)
    var generator = SplitMix64(seed: seed)
    // Few distinct values (ties), −0 beside +0, and NaNs with distinct payloads, so that
    // picking the wrong one of two tied or NaN pixels shows in the bits.
    let x: [Scalar] = (0..<g.inputCount).map { i in
      switch generator.next() % 10 {
      case 0: -0.0
      case 1:
        Scalar(
          sign: .plus, exponentBitPattern: Scalar.infinity.exponentBitPattern,
          significandBitPattern: 1 << (Scalar.significandBitCount - 1)
            | Scalar.RawSignificand(i % 64 + 1))
      case 2: -.infinity
      case let r: Scalar(Double(r % 3))
      }
    }
    let outputCount = g.batch * g.channels * g.positions
    // Gradients and a starting x̄ holding −0, which `+ 0` at a loser would turn into +0.
    let ybar: [Scalar] = (0..<outputCount).map { _ in
      generator.next() % 4 == 0 ? -0.0 : Scalar(Double(generator.next() % 201) / 100 - 1)
    }
    let start: [Scalar] = (0..<g.inputCount).map { _ in
      generator.next() % 3 == 0 ? -0.0 : Scalar(Double(generator.next() % 201) / 100 - 1)
    }
    let winners = Self.referenceMaxima(g, x)
    var expectedBar = start
    for (q, p) in winners.enumerated() { expectedBar[p] += ybar[q] }
    var scattered = [Scalar](repeating: 0, count: g.inputCount)
    for (q, p) in winners.enumerated() { scattered[p] += ybar[q] }

    let input = Tensor(shape: shape, scalars: x)
    let y = op.forward([input])
    let gradient = Tensor(shape: y.shape, scalars: ybar)
    var gradients = [Tensor(shape: shape, scalars: start)]
    op.accumulateVJP([input], output: y, gradient: gradient, into: &gradients, needs: [true])
    let route = MaxPool2DRoute(
      direction: .scatter, kernelSize: kernel, stride: stride, padding: padding
    ).forward([input, gradient])
    let label = "\(Scalar.self) \(shape) \(kernel) \(stride) \(padding)"
    // As Bools first, so that a failure names the case, not thousands of values.
    let (forward, vjp, scatter) = (
      Self.sameBits(y.scalars, winners.map { x[$0] }),
      Self.sameBits(gradients[0].scalars, expectedBar), Self.sameBits(route.scalars, scattered)
    )
    #expect(forward, "forward, \(label)")
    #expect(vjp, "VJP, \(label)")
    #expect(scatter, "route scatter, \(label)")
  }

  /// Max pooling's output, its VJP and the route's scatter against the per-element rule —
  /// the first maximum in row-major order, the first NaN winning — bit for bit: the 2×2
  /// stride-2 vector loops (4 windows a step, the last 4 of a row again) and the general scan.
  @Test func maxPoolingValuesAndGradientsMatchTheRuleBitForBit() {
    let cases: [([Int], Size2D, Size2D, Size2D)] = [
      ([2, 3, 28, 28], 2, 2, 0),  // 14 windows a row: 3 vector steps, the last 4 again
      ([1, 3, 14, 14], 2, 2, 0),  // 7 windows a row: 4, then the last 4 again
      ([1, 2, 7, 35], 2, 2, 0),  // odd sizes: 17 windows a row, the last column unread
      ([2, 1, 4, 32], 2, 2, 0),  // exactly 4 vector steps
      ([1, 1, 5, 9], 2, 2, 0),  // exactly one
      ([2, 2, 6, 7], 2, 2, 0),  // 3 windows a row: one at a time
      ([1, 2, 9, 20], 2, 2, 1),  // padding: the general scan
      ([2, 1, 7, 19], 3, 2, 1),
      ([1, 2, 6, 18], Size2D(height: 2, width: 3), Size2D(height: 1, width: 2), 0),
    ]
    for (seed, (shape, kernel, stride, padding)) in cases.enumerated() {
      checkPooling(
        Float.self, shape: shape, kernel: kernel, stride: stride, padding: padding,
        seed: 200 + UInt64(seed))
      checkPooling(
        Double.self, shape: shape, kernel: kernel, stride: stride, padding: padding,
        seed: 300 + UInt64(seed))
    }
  }
}

extension ConvolutionLoopTests {
  func checkChannelSums<Scalar: TensorScalar>(_: Scalar.Type, shape: [Int], seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    let g = Tensor(shape: shape, scalars: Self.values(Scalar.self, count, using: &generator))
    let start = Self.values(Scalar.self, shape[1], using: &generator)
    // Each plane summed from 0 in order, then added to its channel in order of the batch.
    var expected = start
    let plane = shape.dropFirst(2).reduce(1, *)
    for n in 0..<shape[0] {
      for o in 0..<shape[1] {
        var sum: Scalar = 0
        for e in 0..<plane { sum += g.scalars[(n * shape[1] + o) * plane + e] }
        expected[o] += sum
      }
    }
    var bias = Tensor(shape: [shape[1]], scalars: start)
    Convolution.addChannelSums(g, to: &bias)
    #expect(Self.identical(bias.scalars, expected), "\(Scalar.self) \(shape)")
  }

  /// The bias gradient (four planes summed side by side) against one plane at a time, bit
  /// for bit: one channel (four planes of one bias entry in one step), fewer channels than
  /// four, plane counts not a multiple of four, an empty batch.
  @Test func channelSumsMatchThePlaneByPlaneSumsBitForBit() {
    let shapes = [
      [5, 1, 3, 7], [64, 1, 3, 5], [33, 2, 7, 3], [3, 3, 4, 4], [2, 5, 1, 9], [4, 16, 28, 28],
      [1, 2, 1, 1], [0, 3, 2, 2],
      [3, 2, 6],
    ]
    for (seed, shape) in shapes.enumerated() {
      checkChannelSums(Float.self, shape: shape, seed: 400 + UInt64(seed))
      checkChannelSums(Double.self, shape: shape, seed: 500 + UInt64(seed))
    }
  }
}

extension ConvolutionLoopTests {
  func checkForwardPerImage<Scalar: TensorScalar>(
    _: Scalar.Type, _ g: WindowGeometry, outputs: Int, seed: UInt64
  ) {
    var generator = SplitMix64(seed: seed)
    let x = Tensor(
      shape: [g.batch, g.channels, g.height, g.width],
      scalars: Self.values(Scalar.self, g.inputCount, using: &generator))
    let wShape = [outputs, g.channels, g.kernel.height, g.kernel.width]
    let w = Tensor(
      shape: wShape, scalars: Self.values(Scalar.self, wShape.reduce(1, *), using: &generator))
    let yShape = [g.batch, outputs, g.outputHeight, g.outputWidth]
    // Stale values in y: both must overwrite them.
    var perImage = Tensor(
      shape: yShape, scalars: Self.values(Scalar.self, yShape.reduce(1, *), using: &generator))
    var oneProduct = perImage
    let workspace = ConvolutionWorkspace()
    Convolution.forward(
      g, x: x, w: w, into: &perImage, accumulating: false, workspace: workspace)
    Convolution.forwardByOneProduct(
      g, x: x, w: w, into: &oneProduct, accumulating: false, workspace: workspace)
    #expect(
      Self.identical(perImage.scalars, oneProduct.scalars),
      "\(Scalar.self) \(g.batch)×\(g.channels)×\(g.height)×\(g.width), \(outputs) outputs")
  }

  /// The forward pass's products per image, written into y [N, O, P] by the output stride,
  /// against the single product over the batch and its reordering: the same bits, on every
  /// geometry, a product too small for the blocked kernel, and depths past one k slice of
  /// the kernel (256 in Float, 128 in Double).
  @Test func forwardPerImageEqualsTheSingleProductBitForBit() {
    var cases = (0..<Self.geometries.count).map { (Self.geometry($0), 3) }
    cases += [
      (WindowGeometry(input: [3, 1, 3, 3], kernel: 2, stride: 1, padding: 0, dilation: 1)!, 1),
      (WindowGeometry(input: [2, 32, 6, 6], kernel: 3, stride: 1, padding: 1, dilation: 1)!, 5),
      (WindowGeometry(input: [3, 16, 7, 7], kernel: 3, stride: 1, padding: 1, dilation: 1)!, 17),
    ]
    for (index, (g, outputs)) in cases.enumerated() {
      checkForwardPerImage(Float.self, g, outputs: outputs, seed: 600 + UInt64(index))
      checkForwardPerImage(Double.self, g, outputs: outputs, seed: 700 + UInt64(index))
    }
  }
}
