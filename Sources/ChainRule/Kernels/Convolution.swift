import Foundation

/// A height and a width: a convolution's or pooling's kernel, stride, padding or dilation.
///
/// An integer literal means the same value on both axes, as PyTorch's `stride=2` does:
/// `Conv2D(stride: 2)` is `Conv2D(stride: Size2D(height: 2, width: 2))`.
public struct Size2D: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
  /// The size along the rows (axis 2 of NCHW).
  public var height: Int
  /// The size along the columns (axis 3 of NCHW).
  public var width: Int

  /// A size per axis.
  public init(height: Int, width: Int) {
    self.height = height
    self.width = width
  }

  /// The same size on both axes.
  public init(_ both: Int) { self.init(height: both, width: both) }

  /// The same size on both axes.
  public init(integerLiteral value: Int) { self.init(value) }

  /// `"2"` when both axes agree, else `"2×3"`.
  public var description: String { height == width ? "\(height)" : "\(height)×\(width)" }
}

/// Every size of one 2-D window sweep over an NCHW tensor — batch N, channels C, image H × W,
/// kernel kH × kW, stride, zero padding, dilation — and the output size OH × OW, with
/// `OH = ⌊(H + 2·padH − dilH·(kH − 1) − 1) / strideH⌋ + 1` (PyTorch's formula).
///
/// Window position (oh, ow), kernel tap (kh, kw) reads the input row `oh·strideH − padH +
/// kh·dilH` and column `ow·strideW − padW + kw·dilW`; a position outside the image is padding.
struct WindowGeometry: Sendable, Equatable {
  var batch: Int
  var channels: Int
  var height: Int
  var width: Int
  var kernel: Size2D
  var stride: Size2D
  var padding: Size2D
  var dilation: Size2D
  var outputHeight: Int
  var outputWidth: Int

  /// The geometry of a sweep over an input [N, C, H, W]; `nil` when the (dilated) kernel
  /// does not fit in the padded image.
  init?(
    input shape: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D
  ) {
    guard shape.count == 4 else { return nil }
    (batch, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
    (self.kernel, self.stride, self.padding, self.dilation) = (kernel, stride, padding, dilation)
    let spanH = dilation.height * (kernel.height - 1) + 1
    let spanW = dilation.width * (kernel.width - 1) + 1
    guard height + 2 * padding.height >= spanH, width + 2 * padding.width >= spanW else {
      return nil
    }
    outputHeight = (height + 2 * padding.height - spanH) / stride.height + 1
    outputWidth = (width + 2 * padding.width - spanW) / stride.width + 1
  }

  /// Output positions per image, OH · OW.
  var positions: Int { outputHeight * outputWidth }
  /// Kernel taps per output channel, C · kH · kW: the inner dimension of the product.
  var taps: Int { channels * kernel.height * kernel.width }
  /// Elements of the input.
  var inputCount: Int { batch * channels * height * width }

  /// Checks the hyper-parameters shared by convolution and pooling: kernel, stride and
  /// dilation at least 1, padding at least 0.
  static func validate(
    op: String, kernel: Size2D?, stride: Size2D, padding: Size2D, dilation: Size2D
  ) {
    if let problem = problem(kernel: kernel, stride: stride, padding: padding, dilation: dilation) {
      requirementFailure("\(op): \(problem)")
    }
  }

  /// What `validate` refuses, as a phrase (`"stride 0×1 must be positive"`), or `nil`.
  static func problem(kernel: Size2D?, stride: Size2D, padding: Size2D, dilation: Size2D)
    -> String?
  {
    if let kernel, kernel.height < 1 || kernel.width < 1 {
      return "kernel size \(kernel) must be positive"
    }
    if stride.height < 1 || stride.width < 1 { return "stride \(stride) must be positive" }
    if padding.height < 0 || padding.width < 0 { return "padding \(padding) must not be negative" }
    if dilation.height < 1 || dilation.width < 1 { return "dilation \(dilation) must be positive" }
    return nil
  }
}

/// The convolution kernels: im2col, the matrix products on the GEMM kernels, col2im.
///
/// With K = C·kH·kW taps and P = OH·OW positions, the batch is unfolded into one matrix
/// `cols` [K, N·P] (im2col: column n·P + p holds the K input values under the window at
/// position p of image n, 0 where it covers padding), so that the convolution is a single
/// product `Y [O, N·P] = W [O, K] · cols` and its two gradients are `W̄ = Ȳ · colsᵀ` and
/// `cols̄ = Wᵀ · Ȳ`, folded back onto the image by col2im (the sum over every window that
/// covered an input element). `Y [O, N·P]` is [N, O, P] with the first two axes swapped; the
/// forward pass writes each image's block [O, P] by a product of its own instead (the output
/// stride of the GEMM), the gradients reorder Ȳ once (a single stride cannot express it).
enum Convolution {
  /// y (+)= conv(x, w): x [N, C, H, W], w [O, C, kH, kW], y [N, O, OH, OW].
  ///
  /// Setting y, one product per image n, W [O, K] · cols[:, n·P ..< (n + 1)·P] (ldb N·P),
  /// written straight into y[n] [O, P] (ldc P): no [O, N·P] product to reorder. These are the
  /// same dot products in the same order as `forwardByOneProduct`'s (the kernel slices k
  /// alone, whatever m and n), so the same bits; adding, that one.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func forward<Scalar: TensorScalar>(
    _ g: WindowGeometry, x: Tensor<Scalar>, w: Tensor<Scalar>, into y: inout Tensor<Scalar>,
    accumulating: Bool, workspace: ConvolutionWorkspace
  ) {
    let (o, k, p, np) = (w.shape[0], g.taps, g.positions, g.batch * g.positions)
    guard o > 0, np > 0 else { return }
    guard !accumulating else {
      return forwardByOneProduct(
        g, x: x, w: w, into: &y, accumulating: true, workspace: workspace)
    }
    workspace.withScratch(Scalar.self, count: k * np) { cols in
      x.scalars.withUnsafeBufferPointer { im2col(g, $0, into: cols) }
      w.scalars.withUnsafeBufferPointer { w in
        y.withUnsafeMutableBufferPointer { y in
          for n in 0..<g.batch {
            Scalar.gemm(
              transposeA: false, transposeB: false, m: o, n: p, k: k, a: w.baseAddress!,
              lda: k, b: UnsafePointer(cols.baseAddress! + n * p), ldb: np, accumulate: false,
              c: y.baseAddress! + n * o * p, ldc: p)
          }
        }
      }
    }
  }

  /// y (+)= conv(x, w) as one product `Y [O, N·P] = W · cols`, then reordered to [N, O, P].
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func forwardByOneProduct<Scalar: TensorScalar>(
    _ g: WindowGeometry, x: Tensor<Scalar>, w: Tensor<Scalar>, into y: inout Tensor<Scalar>,
    accumulating: Bool, workspace: ConvolutionWorkspace
  ) {
    let (o, k, np) = (w.shape[0], g.taps, g.batch * g.positions)
    guard o > 0, np > 0 else { return }
    workspace.withScratch(Scalar.self, count: k * np + o * np) { scratch in
      let cols = UnsafeMutableBufferPointer(rebasing: scratch[0..<(k * np)])
      let product = UnsafeMutableBufferPointer(rebasing: scratch[(k * np)...])
      x.scalars.withUnsafeBufferPointer { im2col(g, $0, into: cols) }
      w.scalars.withUnsafeBufferPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: false, m: o, n: np, k: k, a: w.baseAddress!, lda: k,
          b: UnsafePointer(cols.baseAddress!), ldb: np, accumulate: false,
          c: product.baseAddress!, ldc: np)
      }
      y.withUnsafeMutableBufferPointer { y in
        swapLeadingAxes(
          UnsafePointer(product.baseAddress!), rows: o, blocks: g.batch, block: g.positions,
          into: y.baseAddress!, accumulating: accumulating)
      }
    }
  }

  /// x̄ (+)= convᵀ(ȳ, w), the transposed convolution: col2im(Wᵀ · Ȳ), x̄ [N, C, H, W].
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func inputGradient<Scalar: TensorScalar>(
    _ g: WindowGeometry, gradient: Tensor<Scalar>, w: Tensor<Scalar>,
    into x: inout Tensor<Scalar>, accumulating: Bool, workspace: ConvolutionWorkspace
  ) {
    if !accumulating { x.fill(with: 0) }
    let (o, k, np) = (w.shape[0], g.taps, g.batch * g.positions)
    guard o > 0, np > 0, k > 0 else { return }
    workspace.withScratch(Scalar.self, count: k * np + o * np) { scratch in
      let cols = UnsafeMutableBufferPointer(rebasing: scratch[0..<(k * np)])
      let product = UnsafeMutableBufferPointer(rebasing: scratch[(k * np)...])
      gradient.scalars.withUnsafeBufferPointer { ybar in
        swapLeadingAxes(
          ybar.baseAddress!, rows: g.batch, blocks: o, block: g.positions,
          into: product.baseAddress!, accumulating: false)
      }
      w.scalars.withUnsafeBufferPointer { w in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: k, n: np, k: o, a: w.baseAddress!, lda: k,
          b: UnsafePointer(product.baseAddress!), ldb: np, accumulate: false,
          c: cols.baseAddress!, ldc: np)
      }
      x.withUnsafeMutableBufferPointer { col2imAdding(g, UnsafePointer(cols.baseAddress!), $0) }
    }
  }

  /// w̄ (+)= Ȳ · colsᵀ: the weight gradient [O, C, kH, kW] of conv at input x for ȳ.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func weightGradient<Scalar: TensorScalar>(
    _ g: WindowGeometry, x: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into w: inout Tensor<Scalar>, accumulating: Bool, workspace: ConvolutionWorkspace
  ) {
    let (o, k, np) = (w.shape[0], g.taps, g.batch * g.positions)
    guard np > 0 else {
      if !accumulating { w.fill(with: 0) }
      return
    }
    guard o > 0, k > 0 else { return }
    workspace.withScratch(Scalar.self, count: k * np + o * np) { scratch in
      let cols = UnsafeMutableBufferPointer(rebasing: scratch[0..<(k * np)])
      let product = UnsafeMutableBufferPointer(rebasing: scratch[(k * np)...])
      x.scalars.withUnsafeBufferPointer { im2col(g, $0, into: cols) }
      gradient.scalars.withUnsafeBufferPointer { ybar in
        swapLeadingAxes(
          ybar.baseAddress!, rows: g.batch, blocks: o, block: g.positions,
          into: product.baseAddress!, accumulating: false)
      }
      w.withUnsafeMutableBufferPointer { w in
        Scalar.gemm(
          transposeA: false, transposeB: true, m: o, n: k, k: np,
          a: UnsafePointer(product.baseAddress!), lda: np, b: UnsafePointer(cols.baseAddress!),
          ldb: np, accumulate: accumulating, c: w.baseAddress!, ldc: k)
      }
    }
  }

  /// Both gradients of conv at input x for ȳ, sharing one permutation of ȳ: w̄ (+)= Ȳ · colsᵀ
  /// as `weightGradient`, then x̄ (+)= col2im(Wᵀ · Ȳ) as `inputGradient` (the same products on
  /// the same operands, so the same values as the two calls), accumulated into
  /// `gradients[0]` (x̄) and `gradients[1]` (w̄).
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func gradients<Scalar: TensorScalar>(
    _ g: WindowGeometry, x: Tensor<Scalar>, w: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], workspace: ConvolutionWorkspace
  ) {
    let (o, k, np) = (w.shape[0], g.taps, g.batch * g.positions)
    guard o > 0, np > 0, k > 0 else {
      inputGradient(
        g, gradient: gradient, w: w, into: &gradients[0], accumulating: true,
        workspace: workspace)
      weightGradient(
        g, x: x, gradient: gradient, into: &gradients[1], accumulating: true,
        workspace: workspace)
      return
    }
    workspace.withScratch(Scalar.self, count: k * np + o * np) { scratch in
      let cols = UnsafeMutableBufferPointer(rebasing: scratch[0..<(k * np)])
      let product = UnsafeMutableBufferPointer(rebasing: scratch[(k * np)...])
      gradient.scalars.withUnsafeBufferPointer { ybar in
        swapLeadingAxes(
          ybar.baseAddress!, rows: g.batch, blocks: o, block: g.positions,
          into: product.baseAddress!, accumulating: false)
      }
      x.scalars.withUnsafeBufferPointer { im2col(g, $0, into: cols) }
      gradients[1].withUnsafeMutableBufferPointer { wbar in
        Scalar.gemm(
          transposeA: false, transposeB: true, m: o, n: k, k: np,
          a: UnsafePointer(product.baseAddress!), lda: np, b: UnsafePointer(cols.baseAddress!),
          ldb: np, accumulate: true, c: wbar.baseAddress!, ldc: k)
      }
      w.scalars.withUnsafeBufferPointer { w in
        Scalar.gemm(
          transposeA: true, transposeB: false, m: k, n: np, k: o, a: w.baseAddress!, lda: k,
          b: UnsafePointer(product.baseAddress!), ldb: np, accumulate: false,
          c: cols.baseAddress!, ldc: np)
      }
      gradients[0].withUnsafeMutableBufferPointer {
        col2imAdding(g, UnsafePointer(cols.baseAddress!), $0)
      }
    }
  }

  /// y[n, o, :] += bias[o] for y [N, O, …].
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func addChannelBias<Scalar: TensorScalar>(
    _ bias: Tensor<Scalar>, to y: inout Tensor<Scalar>
  ) {
    let (channels, plane) = (bias.count, y.count / Swift.max(y.shape[0] * bias.count, 1))
    bias.scalars.withUnsafeBufferPointer { b in
      y.withUnsafeMutableBufferPointer { y in
        for start in stride(from: 0, to: y.count, by: plane) {
          let value = b[(start / plane) % channels]
          for e in start..<(start + plane) { y[e] += value }
        }
      }
    }
  }

  /// bias[o] += Σ_{n, p} g[n, o, p] for g [N, O, …]: the gradient of `addChannelBias`.
  ///
  /// Each plane g[n, o, :] is summed from 0 in order of p, then added to bias[o] in order of
  /// n. Four planes are summed side by side — four independent chains of additions instead of
  /// one, each in the same order as alone, so the same bits — since one chain waits on the
  /// adder's latency at every element.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func addChannelSums<Scalar: TensorScalar>(
    _ g: Tensor<Scalar>, to bias: inout Tensor<Scalar>
  ) {
    let channels = bias.count
    let plane = g.count / Swift.max(g.shape[0] * channels, 1)
    guard plane > 0 else { return }
    let planes = g.count / plane
    g.scalars.withUnsafeBufferPointer { g in
      bias.withUnsafeMutableBufferPointer { b in
        guard let g = g.baseAddress else { return }
        var k = 0
        while k + 4 <= planes {
          let (p0, p1, p2, p3) = (
            g + k * plane, g + (k + 1) * plane, g + (k + 2) * plane, g + (k + 3) * plane
          )
          var (s0, s1, s2, s3): (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
          for e in 0..<plane {
            s0 += p0[e]
            s1 += p1[e]
            s2 += p2[e]
            s3 += p3[e]
          }
          // In order of k: with fewer than 4 channels two of these may share one bias entry.
          b[k % channels] += s0
          b[(k + 1) % channels] += s1
          b[(k + 2) % channels] += s2
          b[(k + 3) % channels] += s3
          k += 4
        }
        for k in k..<planes {
          var sum: Scalar = 0
          for e in 0..<plane { sum += g[k * plane + e] }
          b[k % channels] += sum
        }
      }
    }
  }

  /// The window positions t in 0..<count whose index `t·step + offset` falls in 0..<limit:
  /// one contiguous range, so that the loops over it need no bounds test per element.
  @inline(__always)
  static func inside(offset: Int, step: Int, limit: Int, count: Int) -> Range<Int> {
    let first = offset >= 0 ? 0 : (step - 1 - offset) / step
    let end = limit - offset <= 0 ? 0 : (limit - offset + step - 1) / step
    let upper = Swift.min(end, count)
    return Swift.min(first, upper)..<upper
  }

  /// Sets `count` scalars to 0; the edge runs of im2col are mostly 0 or 1 long, too short to
  /// be worth a call to memset.
  @inline(__always)
  static func zero<Scalar: TensorScalar>(_ p: UnsafeMutablePointer<Scalar>, count: Int) {
    switch count {
    case 0: break
    case 1: p[0] = 0
    case 2: (p[0], p[1]) = (0, 0)
    default: p.update(repeating: 0, count: count)
    }
  }

  /// Unfolds x [N, C, H, W] into cols [K, N·P]: row (c, kh, kw), column n·P + oh·OW + ow.
  ///
  /// Per output row, the positions that read padding are a run at each end (zero-filled);
  /// the middle run reads the input with the column stride, a plain copy when it is 1.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func im2col<Scalar: TensorScalar>(
    _ g: WindowGeometry, _ x: UnsafeBufferPointer<Scalar>,
    into cols: UnsafeMutableBufferPointer<Scalar>
  ) {
    let (kh, kw, p, np) = (g.kernel.height, g.kernel.width, g.positions, g.batch * g.positions)
    let (outH, outW, plane) = (g.outputHeight, g.outputWidth, g.height * g.width)
    let stepW = g.stride.width
    guard p > 0, let source = x.baseAddress, let target = cols.baseAddress else { return }
    for c in 0..<g.channels {
      for i in 0..<kh {
        let rowOffset = i * g.dilation.height - g.padding.height
        let rows = inside(offset: rowOffset, step: g.stride.height, limit: g.height, count: outH)
        for j in 0..<kw {
          let columnOffset = j * g.dilation.width - g.padding.width
          let columns = inside(offset: columnOffset, step: stepW, limit: g.width, count: outW)
          let (left, right) = (columns.lowerBound, columns.upperBound)
          let row = target + ((c * kh + i) * kw + j) * np
          for n in 0..<g.batch {
            let image = source + (n * g.channels + c) * plane
            let out = row + n * p
            out.update(repeating: 0, count: rows.lowerBound * outW)
            for oh in rows {
              let to = out + oh * outW
              let line = image + (oh * g.stride.height + rowOffset) * g.width + columnOffset
              zero(to, count: left)
              if stepW == 1 {
                (to + left).update(from: line + left, count: right - left)
              } else {
                for ow in columns { to[ow] = line[ow * stepW] }
              }
              zero(to + right, count: outW - right)
            }
            (out + rows.upperBound * outW).update(
              repeating: 0, count: (outH - rows.upperBound) * outW)
          }
        }
      }
    }
  }

  /// Folds cols [K, N·P] back onto x [N, C, H, W], adding: each input element receives the
  /// sum of the entries of every window position that read it (padding entries are dropped),
  /// in the order of the rows (c, kh, kw) of cols.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func col2imAdding<Scalar: TensorScalar>(
    _ g: WindowGeometry, _ cols: UnsafePointer<Scalar>, _ x: UnsafeMutableBufferPointer<Scalar>
  ) {
    let (kh, kw, p, np) = (g.kernel.height, g.kernel.width, g.positions, g.batch * g.positions)
    let (outH, outW, plane) = (g.outputHeight, g.outputWidth, g.height * g.width)
    let stepW = g.stride.width
    guard p > 0, let target = x.baseAddress else { return }
    for c in 0..<g.channels {
      for i in 0..<kh {
        let rowOffset = i * g.dilation.height - g.padding.height
        let rows = inside(offset: rowOffset, step: g.stride.height, limit: g.height, count: outH)
        for j in 0..<kw {
          let columnOffset = j * g.dilation.width - g.padding.width
          let columns = inside(offset: columnOffset, step: stepW, limit: g.width, count: outW)
          let row = cols + ((c * kh + i) * kw + j) * np
          for n in 0..<g.batch {
            let image = target + (n * g.channels + c) * plane
            for oh in rows {
              let from = row + n * p + oh * outW
              let line = image + (oh * g.stride.height + rowOffset) * g.width + columnOffset
              if stepW == 1 {
                for ow in columns { line[ow] += from[ow] }
              } else {
                for ow in columns { line[ow * stepW] += from[ow] }
              }
            }
          }
        }
      }
    }
  }

  /// Swaps the two leading axes of a [rows, blocks, block] array: out[b, r, :] (+)= in[r, b, :].
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  static func swapLeadingAxes<Scalar: TensorScalar>(
    _ source: UnsafePointer<Scalar>, rows: Int, blocks: Int, block: Int,
    into target: UnsafeMutablePointer<Scalar>, accumulating: Bool
  ) {
    for r in 0..<rows {
      for b in 0..<blocks {
        let from = source + (r * blocks + b) * block
        let to = target + (b * rows + r) * block
        if accumulating {
          for e in 0..<block { to[e] += from[e] }
        } else {
          to.update(from: from, count: block)
        }
      }
    }
  }
}

/// Scratch memory that a convolution node reuses from run to run, so that a built graph's
/// forward and backward passes allocate nothing for im2col and the products.
///
/// One workspace per op value. The lock is a guard, not a bottleneck: graphs are used from
/// one thread at a time, but an op value applied in two graphs on two threads must not share
/// the memory — the caller that finds the workspace busy works in a temporary buffer instead.
/// Hence `@unchecked Sendable`: every access to `storage` holds `lock`.
final class ConvolutionWorkspace: @unchecked Sendable {
  private let lock = NSLock()
  private var storage: UnsafeMutableRawPointer?
  private var byteCount = 0

  deinit { storage?.deallocate() }

  /// Runs `body` on `count` scalars of scratch holding stale values.
  func withScratch<Scalar: TensorScalar, Result>(
    _: Scalar.Type, count: Int, _ body: (UnsafeMutableBufferPointer<Scalar>) -> Result
  ) -> Result {
    let bytes = count * MemoryLayout<Scalar>.stride
    guard lock.try() else {
      let temporary = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: count)
      temporary.initialize(repeating: 0)
      defer { temporary.deallocate() }
      return body(temporary)
    }
    defer { lock.unlock() }
    if bytes > byteCount {
      storage?.deallocate()
      storage = UnsafeMutableRawPointer.allocate(
        byteCount: bytes, alignment: MemoryLayout<Double>.alignment)
      byteCount = bytes
    }
    // Scalars are trivial types, so the bytes may be rebound from Float to Double and back;
    // every kernel writes its scratch before reading it.
    let typed = storage!.bindMemory(to: Scalar.self, capacity: count)
    return body(UnsafeMutableBufferPointer(start: typed, count: count))
  }
}
