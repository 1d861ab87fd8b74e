import Foundation
import Testing

@testable import ChainRule

/// The convolution and pooling ops against direct loops written from their definitions, and
/// the issue-13 rules of every op added with them (node-built VJP against `vjp`, JVP against
/// the VJP by ⟨u, J v⟩ = ⟨Jᵀ u, v⟩).
@Suite("Convolution and pooling ops")
struct ConvolutionOpTests {
  /// y[n, o, i, j] = Σ_{c, a, b} w[o, c, a, b] · x[n, c, i·s − p + a·d, j·s − p + b·d],
  /// summed term by term from the definition (0 outside the image).
  static func directConvolution(
    _ x: Tensor<Double>, _ w: Tensor<Double>, stride: Size2D, padding: Size2D, dilation: Size2D
  ) -> Tensor<Double> {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + 2 * padding.height - dilation.height * (kh - 1) - 1) / stride.height + 1
    let ow = (wd + 2 * padding.width - dilation.width * (kw - 1) - 1) / stride.width + 1
    var y = Tensor<Double>.zeros([n, o, oh, ow])
    for b in 0..<n {
      for k in 0..<o {
        for i in 0..<oh {
          for j in 0..<ow {
            var sum = 0.0
            for ch in 0..<c {
              for a in 0..<kh {
                for e in 0..<kw {
                  let r = i * stride.height - padding.height + a * dilation.height
                  let q = j * stride.width - padding.width + e * dilation.width
                  if r >= 0 && r < h && q >= 0 && q < wd { sum += w[k, ch, a, e] * x[b, ch, r, q] }
                }
              }
            }
            y.scalars[y.offset(of: [b, k, i, j])] = sum
          }
        }
      }
    }
    return y
  }

  static let convolutionCases: [(String, [Int], [Int], Size2D, Size2D, Size2D)] = [
    ("plain", [2, 3, 6, 5], [4, 3, 3, 3], 1, 0, 1),
    ("stride 2, padding 1", [1, 2, 7, 7], [3, 2, 3, 3], 2, 1, 1),
    (
      "stride 1×3, padding 2×0, dilation 2×1", [2, 1, 8, 9], [2, 1, 3, 2],
      Size2D(height: 1, width: 3), Size2D(height: 2, width: 0), Size2D(height: 2, width: 1)
    ),
    ("1×1 kernel", [3, 4, 2, 3], [5, 4, 1, 1], 1, 0, 1),
  ]

  @Test(arguments: convolutionCases.map(\.0))
  func convolutionMatchesTheDefinitionInBothPrecisions(_ name: String) {
    let (_, xShape, wShape, stride, padding, dilation) = Self.convolutionCases.first {
      $0.0 == name
    }!
    var generator = SplitMix64(seed: 15)
    let x = randomTensor(xShape, using: &generator)
    let w = randomTensor(wShape, using: &generator)
    let expected = Self.directConvolution(
      x, w, stride: stride, padding: padding, dilation: dilation)
    let op = Conv2D(stride: stride, padding: padding, dilation: dilation)
    expectClose(op.forward([x, w]), expected, relative: 1e-13, absolute: 1e-14, name)
    // Float: the same products on the single-precision kernels, within Float rounding.
    let single = op.forward([x.converted(to: Float.self), w.converted(to: Float.self)])
    expectClose(single.converted(to: Double.self), expected, relative: 1e-5, absolute: 1e-5)
  }

  @Test func transposedConvolutionIsTheAdjointOfConvolution() {
    // ⟨conv(x, w), u⟩ = ⟨x, convᵀ(u, w)⟩ and = ⟨w, corr(x, u)⟩, with conv from the definition.
    var generator = SplitMix64(seed: 16)
    let x = randomTensor([2, 3, 7, 6], using: &generator)
    let w = randomTensor([4, 3, 3, 2], using: &generator)
    let (stride, padding, dilation): (Size2D, Size2D, Size2D) = (2, 1, Size2D(height: 2, width: 1))
    let y = Self.directConvolution(x, w, stride: stride, padding: padding, dilation: dilation)
    let u = randomTensor(y.shape, using: &generator)
    let transposed = ConvTranspose2D(
      outputSize: Size2D(height: 7, width: 6), stride: stride, padding: padding,
      dilation: dilation
    ).forward([u, w])
    let correlation = Conv2DWeightGradient(
      kernelSize: Size2D(height: 3, width: 2), stride: stride, padding: padding,
      dilation: dilation
    ).forward([x, u])
    let reference = dot(y, u)
    expectClose(dot(x, transposed), reference, relative: 1e-12)
    expectClose(dot(w, correlation), reference, relative: 1e-12)
  }

  @Test func maxPoolingMatchesTheDefinitionAndItsTieConvention() {
    // [1, 1, 4, 4], 3×3 windows, stride 1: the window maxima by hand.
    let x = Tensor<Double>(
      shape: [1, 1, 4, 4], scalars: [1, 5, 2, 0, 3, 5, 4, 1, 0, 2, 9, 2, 1, 1, 3, 7])
    let graph = Graph<Double>()
    let input = graph.input(x, name: "x")
    let y = input.maxPool2d(kernelSize: 3, stride: 1)
    #expect(y.value.scalars == [9, 9, 9, 9])
    graph.backward(from: y.sum())
    // Every window picks the 9 at (2, 2): it receives all four gradients.
    var expected = Tensor<Double>.zeros([1, 1, 4, 4])
    expected.scalars[10] = 4
    #expect(input.gradient == expected)

    // Ties: 2×2 windows, stride 2; the left window holds 5 at (0, 1) and (1, 0) — the first
    // in row-major order, (0, 1), takes ȳ; the right one holds 7 three times: (0, 2) wins.
    let tied = Graph<Double>()
    let t = tied.input(Tensor(shape: [1, 1, 2, 4], scalars: [1, 5, 7, 7, 5, 2, 7, 0]))
    let pooled = t.maxPool2d(kernelSize: 2)
    #expect(pooled.value.scalars == [5, 7])
    tied.backward(from: pooled, seed: Tensor(shape: [1, 1, 1, 2], scalars: [10, 20]))
    #expect(t.gradient.scalars == [0, 10, 20, 0, 0, 0, 0, 0])

    let padded = MaxPool2D(kernelSize: 2, stride: 1, padding: 1)
      .forward([Tensor<Double>(shape: [1, 1, 1, 2], scalars: [-3, -4])])
    // Padding is −∞, never 0: the corner windows see only −3 or −4.
    #expect(padded.shape == [1, 1, 2, 3])
    #expect(padded.scalars == [-3, -3, -4, -3, -3, -4])

    // NaN propagates: a window holding a NaN pools to NaN.
    let nan = MaxPool2D(kernelSize: 2).forward([
      Tensor<Double>(shape: [1, 1, 2, 2], scalars: [1, .nan, 3, 2])
    ])
    #expect(nan.scalars[0].isNaN)
  }

  @Test func badShapesNameTheOperandAndTheRule() throws {
    let graph = Graph<Double>()
    let x = graph.input(Tensor.zeros([1, 3, 4, 4]), name: "image")
    let w = graph.input(Tensor.zeros([2, 2, 3, 3]), name: "kernel")
    do {
      _ = try graph.throwingShapeErrors { x.conv2d(w) }
      Issue.record("3 channels into a kernel for 2 must fail")
    } catch {
      #expect(error.description.contains("kernel"))
      #expect(error.description.contains("takes 2 input channels"))
    }
    let big = graph.input(Tensor.zeros([4, 3, 5, 5]), name: "big")
    do {
      _ = try graph.throwingShapeErrors { x.conv2d(big) }
      Issue.record("a 5×5 kernel on a 4×4 image must fail")
    } catch {
      #expect(error.description.contains("smaller than the kernel"))
    }
    do {
      _ = try graph.throwingShapeErrors {
        graph.input(Tensor.zeros([4, 4])).maxPool2d(kernelSize: 2)
      }
      Issue.record("pooling a matrix must fail")
    } catch {
      #expect(error.description.contains("NCHW"))
    }
  }

  // MARK: Node-built VJPs and JVPs of the ops added with the convolutions

  static let newOperations: [any CatalogedOperation.Type] = [
    Conv2D.self, ConvTranspose2D.self, Conv2DWeightGradient.self, MaxPool2D.self,
    MaxPool2DRoute.self, Flattening.self, LayerNormalization.self,
  ]
  static let newCases: [(String, OperationCheck)] = newOperations.flatMap { op in
    op.checks.map { ("\(op): \($0.description)", $0) }
  }

  /// The checked node and its operands, values drawn as the gradient checks draw them.
  static func build(_ caseName: String) -> (Graph<Double>, Node<Double>, SplitMix64) {
    let check = newCases.first { $0.0 == caseName }!.1
    var generator = SplitMix64(seed: UInt64(caseName.utf8.count))
    let graph = Graph<Double>()
    let inputs = check.inputShapes.map {
      graph.input(randomTensor($0, domain: check.domain, using: &generator))
    }
    return (graph, check.build(graph, inputs), generator)
  }

  @Test(arguments: newCases.map(\.0))
  func nodeBuiltGradientEqualsTheVJP(_ caseName: String) {
    let (graph, output, start) = Self.build(caseName)
    var generator = start
    let operation = output.operation!
    let operands = output.inputs
    let gradient = graph.input(randomTensor(output.shape, using: &generator), name: "ȳ")
    let nodes = operation.gradientNodes(
      operands, output: output, gradient: gradient, needs: operands.map { _ in true })
    let shares = operation.vjp(
      operands.map(\.value), output: output.value, gradient: gradient.value)
    #expect(nodes.count == operands.count)
    for (slot, share) in shares.enumerated() {
      if let node = nodes[slot] {
        expectClose(
          node.value.summed(toShape: share.shape), share, relative: 1e-12, absolute: 1e-12,
          "\(caseName) operand \(slot)")
      } else {
        // No node: the operand takes no gradient (max pooling's routes in x), so the VJP's
        // share must be zero.
        #expect(share == Tensor.zeros(share.shape), "\(caseName) operand \(slot)")
      }
    }
    let none = operation.gradientNodes(
      operands, output: output, gradient: gradient, needs: operands.map { _ in false })
    #expect(none.allSatisfy { $0 == nil })
  }

  @Test(arguments: newCases.map(\.0))
  func jvpIsTheTransposeOfTheVJP(_ caseName: String) {
    // ⟨u, J v⟩ = Σᵢ ⟨(Jᵀ u)ᵢ, vᵢ⟩ for a random cotangent u and tangents vᵢ.
    let (_, output, start) = Self.build(caseName)
    var generator = start
    let operation = output.operation!
    let values = output.inputs.map(\.value)
    let tangents = values.map { randomTensor($0.shape, using: &generator) }
    let u = randomTensor(output.shape, using: &generator)
    let forwardMode = operation.jvp(values, output: output.value, tangents: tangents)
    #expect(forwardMode.shape == output.shape)
    let shares = operation.vjp(values, output: output.value, gradient: u)
    let reverse = zip(shares, tangents).map { dot($0.summed(toShape: $1.shape), $1) }.reduce(0, +)
    expectClose(dot(u, forwardMode), reverse, relative: 1e-12, absolute: 1e-12, caseName)
    // A nil tangent is zero: one tangent at a time, the two parts add up to the whole.
    var parts = 0.0
    for slot in values.indices {
      var one: [Tensor<Double>?] = values.map { _ in nil }
      one[slot] = tangents[slot]
      parts += dot(u, operation.jvp(values, output: output.value, tangents: one))
    }
    expectClose(parts, dot(u, forwardMode), relative: 1e-12, absolute: 1e-12, caseName)
  }

  @Test func convolutionGradientNodesCanBeDifferentiatedAgain() {
    // L = ⟨x̄, r⟩ with x̄ = convᵀ(ȳ, w) built as nodes: ∂L/∂w by backward against a
    // central difference of the same L in w.
    var generator = SplitMix64(seed: 17)
    let graph = Graph<Double>()
    let x = graph.input(randomTensor([1, 2, 5, 5], using: &generator), name: "x")
    let w = graph.input(randomTensor([3, 2, 3, 3], using: &generator), name: "w")
    let y = x.conv2d(w, stride: 2, padding: 1)
    let ybar = graph.input(randomTensor(y.shape, using: &generator), name: "ȳ")
    let nodes = y.operation!.gradientNodes(
      [x, w], output: y, gradient: ybar, needs: [true, true])
    let r = graph.constant(randomTensor(x.shape, using: &generator))
    let s = graph.constant(randomTensor(w.shape, using: &generator))
    let loss = (nodes[0]! * r).sum() + (nodes[1]! * s).sum()
    graph.backward(from: loss)
    // L is bilinear, so a central difference has no truncation error, only the rounding of
    // L itself (ε·|L|/h ≈ 1e−14 · 100 / 1e−6): the tolerance allows for that, no more.
    for node in [x, w, ybar] {
      expectClose(
        node.gradient, centralDifference(of: loss, withRespectTo: node), relative: 1e-7,
        absolute: 1e-7, "∂L/∂\(node.label)")
    }
  }

  private func dot(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 }
  }
}
