import Foundation
import Testing

@testable import ChainRule

/// The API corners of issue 15 against hand formulas with PyTorch's semantics: softmax along
/// any axis, reductions over several axes, batched matmul, transposes of any two axes, the
/// `none` loss reduction, cross-entropy over [batch, classes, …], and gradient hooks. The
/// gradient checks of the new and generalised ops run with the catalog (`OperationCatalog`).
@Suite("API corners")
struct APICornerTests {
  /// [2, 3, 2] with distinct values: x[i, j, k] = 0.3·i − 0.7·j + 0.45·k + 0.05·(i·j·k).
  static let cube = Tensor<Double>(
    shape: [2, 3, 2],
    scalars: (0..<12).map { n in
      let (i, j, k) = (Double(n / 6), Double(n / 2 % 3), Double(n % 2))
      return 0.3 * i - 0.7 * j + 0.45 * k + 0.05 * i * j * k
    })

  /// x[i, j, k] of `cube`.
  func at(_ i: Int, _ j: Int, _ k: Int) -> Double { Self.cube.scalars[i * 6 + j * 2 + k] }

  // softmax(x, dim=1)[i, j, k] = e^x[i,j,k] / Σ_j′ e^x[i,j′,k]; log_softmax its log.
  @Test func softmaxAndLogSoftmaxAlongAMiddleAxis() {
    let graph = Graph<Double>()
    let x = graph.input(Self.cube)
    let y = x.softmax(alongAxis: 1)
    let logY = x.logSoftmax(alongAxis: -2)
    for i in 0..<2 {
      for k in 0..<2 {
        let total = (0..<3).map { Foundation.exp(at(i, $0, k)) }.reduce(0, +)
        for j in 0..<3 {
          let p = Foundation.exp(at(i, j, k)) / total
          expectClose(y.value.scalars[i * 6 + j * 2 + k], p, relative: 1e-14)
          expectClose(logY.value.scalars[i * 6 + j * 2 + k], Foundation.log(p), relative: 1e-14)
        }
      }
    }
    #expect(y.shape == [2, 3, 2])
    #expect(x.softmax().operation?.name == "softmax")
    #expect(y.operation?.name == "softmax(axis: 1)")
  }

  // softmax along axis 0 of a matrix is the row softmax of its transpose, transposed back.
  @Test func softmaxAlongAxisZeroIsTheTransposedRowSoftmax() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]))
    expectClose(x.softmax(alongAxis: 0).value, x.transposed().softmax().transposed().value)
  }

  // sum(x, dim=(0, 2)) [j] = Σ_i Σ_k x[i, j, k]; keepdim gives [1, 3, 1]; mean divides by 4.
  @Test func sumAndMeanOverSeveralAxes() {
    let graph = Graph<Double>()
    let x = graph.input(Self.cube)
    let expected = (0..<3).map { j in at(0, j, 0) + at(0, j, 1) + at(1, j, 0) + at(1, j, 1) }
    expectClose(x.sum(alongAxes: [0, 2]).value, Tensor(expected), relative: 1e-14)
    let kept = x.sum(alongAxes: [2, -3], keepingDimension: true)
    #expect(kept.shape == [1, 3, 1])
    expectClose(kept.value.scalars.reduce(0, +), expected.reduce(0, +), relative: 1e-14)
    let mean = x.mean(alongAxes: [0, 2], keepingDimension: true)
    expectClose(mean.value, Tensor(shape: [1, 3, 1], scalars: expected.map { $0 / 4 }))
    #expect(x.sum(alongAxis: 1, keepingDimension: true).shape == [2, 1, 2])
    #expect(x.mean(alongAxis: -1, keepingDimension: true).shape == [2, 3, 1])
    // x̄ = ȳ broadcast back, divided by n = 4 for the mean: every element gets 1/4 of
    // its column's seed.
    graph.backward(from: mean, seed: Tensor(shape: [1, 3, 1], scalars: [1, 2, 3]))
    let seedOfJ = (0..<12).map { n in Double(n / 2 % 3 + 1) / 4 }
    expectClose(x.gradient, Tensor(shape: [2, 3, 2], scalars: seedOfJ))
  }

  // amax(x, dim=(0, 2)): values as PyTorch; the gradient goes to the first maximal element
  // in row-major order of each reduced block (a stated convention at ties).
  @Test func maxAndMinOverSeveralAxes() {
    let graph = Graph<Double>()
    let x = graph.input(
      Tensor(shape: [2, 2, 2], scalars: [1, 5, 3, 0, 5, 2, -1, 0]))
    let maximum = x.max(alongAxes: [0, 2])  // blocks j = 0: {1, 5, 5, 2}; j = 1: {3, 0, −1, 0}
    #expect(maximum.value == Tensor([5.0, 3.0]))
    graph.backward(from: maximum, seed: Tensor([1.0, 10.0]))
    // The tie 5 at [0, 0, 1] and [1, 0, 0]: the first in row-major order takes ȳ.
    #expect(x.gradient == Tensor(shape: [2, 2, 2], scalars: [0, 1, 10, 0, 0, 0, 0, 0]))
    let minimum = x.min(alongAxes: [-1, 0], keepingDimension: true)
    #expect(minimum.shape == [1, 2, 1])
    #expect(minimum.value.scalars == [1, -1])
    #expect(x.max(alongAxes: [1]).operation is Max)
  }

  // matmul(A, B)[b] = A[b] · B[b] with the batch axes broadcast: a plain triple loop.
  @Test func batchedMatmulBroadcastsTheBatchAxes() {
    var generator = SplitMix64(seed: 15)
    let a = randomTensor([2, 1, 3, 4], using: &generator)
    let b = randomTensor([3, 4, 2], using: &generator)
    let graph = Graph<Double>()
    let (aNode, bNode) = (graph.input(a), graph.input(b))
    let y = aNode.matmul(bNode)
    #expect(y.shape == [2, 3, 3, 2])
    #expect(y.operation is BatchedMatMul)
    for p in 0..<2 {
      for q in 0..<3 {
        for i in 0..<3 {
          for j in 0..<2 {
            var sum = 0.0
            for k in 0..<4 { sum += a.scalars[p * 12 + i * 4 + k] * b.scalars[q * 8 + k * 2 + j] }
            expectClose(y.value.scalars[((p * 3 + q) * 3 + i) * 2 + j], sum, relative: 1e-13)
          }
        }
      }
    }
    // Ā[p] = Σ_q Ȳ[p, q] · B[q]ᵀ: with Ȳ = 1, Ā[p, i, k] = Σ_q Σ_j B[q, k, j].
    graph.backward(from: y.sum())
    for k in 0..<4 {
      var expected = 0.0
      for q in 0..<3 { for j in 0..<2 { expected += b.scalars[q * 8 + k * 2 + j] } }
      expectClose(aNode.gradient.scalars[k], expected, relative: 1e-13)
      expectClose(aNode.gradient.scalars[12 + 2 * 4 + k], expected, relative: 1e-13)
    }
  }

  // torch.matmul's vectors: [k]·[k] is the dot product, [m, k]·[k] is [m], [k]·[b, k, n]
  // is [b, n]; two matrices still take MatMul.
  @Test func matmulPromotesVectorsAndKeepsTheMatrixFastPath() {
    let graph = Graph<Double>()
    let v = graph.input(Tensor([1.0, 2.0, 3.0]))
    let m = graph.input(Tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]))
    let batch = graph.input(Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Double.init)))
    let dot = v.matmul(v)
    #expect(dot.shape == [])
    #expect(dot.value.scalar == 14)
    #expect(m.matmul(v).value == Tensor([-2.0, 5.5]))
    #expect(v.matmul(batch).shape == [2, 2])
    // [1, 2, 3]·[[0, 1], [2, 3], [4, 5]] = [16, 22]; the second batch adds 6·(1 + 2 + 3).
    #expect(v.matmul(batch).value == Tensor([[16.0, 22.0], [52.0, 58.0]]))
    #expect(m.matmul(m.transposed()).operation is MatMul)
  }

  // transpose(x, 0, 2)[k, j, i] = x[i, j, k]; permute([2, 0, 1])[k, i, j] = x[i, j, k].
  @Test func transposeOfAnyTwoAxesAndPermute() {
    let graph = Graph<Double>()
    let x = graph.input(Self.cube)
    let swapped = x.transposed(0, -1)
    let permuted = x.permuted([2, 0, 1])
    #expect(swapped.shape == [2, 3, 2])
    #expect(permuted.shape == [2, 2, 3])
    for i in 0..<2 {
      for j in 0..<3 {
        for k in 0..<2 {
          #expect(swapped.value.scalars[k * 6 + j * 2 + i] == at(i, j, k))
          #expect(permuted.value.scalars[k * 6 + i * 3 + j] == at(i, j, k))
        }
      }
    }
    #expect(Self.cube.transposed(1, 2).transposed(1, 2) == Self.cube)
    #expect(graph.input(Tensor([[1.0, 2.0]])).transposed(0, 1).operation is Transpose)
  }

  // reduction='none' gives the per-element terms; their sum and mean are the other two.
  @Test func noneReductionGivesTheTermsOfEveryLoss() {
    let graph = Graph<Double>()
    let p = graph.input(Tensor([[0.9, 0.2], [0.6, 0.05]]))
    let y = graph.constant(Tensor([[1.0, 0.0], [0.0, 1.0]]))
    let terms = p.binaryCrossEntropy(y, reduction: .none)
    let expected = zip(p.value.scalars, y.value.scalars).map { p, y in
      -(y * Foundation.log(p) + (1 - y) * Foundation.log(1 - p))
    }
    expectClose(terms.value, Tensor(shape: [2, 2], scalars: expected), relative: 1e-14)
    expectClose(p.binaryCrossEntropy(y).value.scalar, expected.reduce(0, +) / 4)
    let z = graph.input(Tensor([[-3.0, 0.5], [2.0, 0.0]]))
    let logitTerms = z.binaryCrossEntropyWithLogits(y, reduction: .none)
    for (i, (z, y)) in zip(z.value.scalars, y.value.scalars).enumerated() {
      let s = 1 / (1 + Foundation.exp(-z))
      expectClose(
        logitTerms.value.scalars[i], -(y * Foundation.log(s) + (1 - y) * Foundation.log(1 - s)))
    }
    // ∂(Σ w ⊙ terms)/∂z = w ⊙ (σ(z) − y): each term's own seed, no 1/n.
    let weights = Tensor([[1.0, 2.0], [3.0, 4.0]])
    graph.backward(from: logitTerms, seed: weights)
    let sigmoidMinusY = zip(z.value.scalars, y.value.scalars).enumerated().map { i, pair in
      weights.scalars[i] * (1 / (1 + Foundation.exp(-pair.0)) - pair.1)
    }
    expectClose(z.gradient, Tensor(shape: [2, 2], scalars: sigmoidMinusY), relative: 1e-13)
    // MSE: (ŷ − y)² per element, Σ, and mean.
    let squared = p.meanSquaredError(y, reduction: .none)
    let errors = zip(p.value.scalars, y.value.scalars).map { ($0 - $1) * ($0 - $1) }
    expectClose(squared.value, Tensor(shape: [2, 2], scalars: errors))
    expectClose(p.meanSquaredError(y, reduction: .sum).value.scalar, errors.reduce(0, +))
    expectClose(p.meanSquaredError(y).value.scalar, errors.reduce(0, +) / 4)
  }

  // cross_entropy over [B, C, d]: ℓ[b, j] = −log softmax(z[b, :, j])[k[b, j]], mean over
  // the B·d positions; soft targets give −Σ_c t log p.
  @Test func crossEntropyOverAClassAxisOne() {
    var generator = SplitMix64(seed: 1501)
    let logits = randomTensor([2, 3, 2], using: &generator)
    let labels: [[Double]] = [[2, 0], [1, 1]]
    let graph = Graph<Double>()
    let z = graph.input(logits)
    func logProbability(_ b: Int, _ c: Int, _ j: Int) -> Double {
      let column = (0..<3).map { logits.scalars[b * 6 + $0 * 2 + j] }
      let m = column.max()!
      return column[c] - m - Foundation.log(column.map { Foundation.exp($0 - m) }.reduce(0, +))
    }
    var expected: [Double] = []
    for b in 0..<2 { for j in 0..<2 { expected.append(-logProbability(b, Int(labels[b][j]), j)) } }
    let sparse = z.softmaxCrossEntropy(labels: graph.constant(Tensor(labels)), reduction: .none)
    expectClose(sparse.value, Tensor(shape: [2, 2], scalars: expected), relative: 1e-13)
    let mean = z.softmaxCrossEntropy(labels: graph.constant(Tensor(labels)))
    expectClose(mean.value.scalar, expected.reduce(0, +) / 4, relative: 1e-13)
    // ∂L/∂z[b, c, j] = (p[b, c, j] − [c = k[b, j]])/4.
    graph.backward(from: mean)
    for b in 0..<2 {
      for c in 0..<3 {
        for j in 0..<2 {
          let target = c == Int(labels[b][j]) ? 1.0 : 0.0
          let gradient = (Foundation.exp(logProbability(b, c, j)) - target) / 4
          expectClose(z.gradient.scalars[b * 6 + c * 2 + j], gradient, relative: 1e-12)
        }
      }
    }
    // One-hot targets along axis 1 give the same terms.
    var oneHot = Tensor<Double>.zeros([2, 3, 2])
    for b in 0..<2 { for j in 0..<2 { oneHot.scalars[b * 6 + Int(labels[b][j]) * 2 + j] = 1 } }
    let dense = z.softmaxCrossEntropy(targets: graph.constant(oneHot), reduction: .none)
    expectClose(dense.value, sparse.value, relative: 1e-14)
    expectClose(
      z.softmaxCrossEntropy(targets: graph.constant(oneHot), reduction: .sum).value.scalar,
      expected.reduce(0, +), relative: 1e-13)
  }

  @Test func badAxesAndShapesAreNamed() {
    func message(_ op: any DifferentiableOperation, _ shapes: [[Int]]) -> String {
      let operands = shapes.enumerated().map { ShapeError.Operand(name: "x\($0)", shape: $1) }
      do {
        _ = try op.outputShape(operands)
        return "no error"
      } catch {
        return error.description
      }
    }
    #expect(message(Softmax(axis: 3), [[2, 3]]) == "softmax(axis: 3): \"x0\" [2, 3] has no axis 3")
    #expect(message(Sum(axes: [0, -2]), [[2, 3]]).contains("one repeats"))
    #expect(message(Mean(axes: [2]), [[2, 3]]).contains("has no axis 2"))
    #expect(message(Permute([0, 0]), [[2, 3]]).contains("not each of its axes once"))
    #expect(message(BatchedMatMul(), [[2, 3, 4], [3, 2, 2]]).contains("x0"))
    #expect(
      message(BatchedMatMul(), [[2, 3, 4], [3, 4, 2]])
        == "batchedMatmul: the batch axes of \"x0\" [2, 3, 4] and \"x1\" [3, 4, 2] do not broadcast"
    )
    #expect(
      message(SparseSoftmaxCrossEntropy(), [[2, 3, 4], [2, 3]]).contains("must be [2, 4]"))
  }
}

@Suite("Gradient hooks")
struct GradientHookTests {
  // y = tanh(x)·w, L = Σ y: a hook on y sees ∂L/∂y = 1 once per pass; replacing it by 3
  // makes every upstream gradient three times larger, parameters included.
  @Test func aHookSeesTheCompletedGradientAndItsReplacementFlowsUpstream() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0]]))
    let w = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w")
    let hidden = x.tanh()
    let y = hidden.matmul(w)
    // Fan-out: hidden is used twice, so its hook must see the sum of both shares.
    let loss = y.sum() + hidden.sum()
    graph.backward(from: loss)
    let plainX = x.gradient
    let plainHidden = hidden.gradient
    let plainW = w.gradient
    graph.zeroGradients()

    var seen: [Tensor<Double>] = []
    hidden.registerHook { gradient in
      seen.append(gradient)
      return gradient * 3
    }
    graph.backward(from: loss)
    #expect(seen == [plainHidden])  // once, complete (w + 1 per element)
    expectClose(hidden.gradient, plainHidden * 3)
    expectClose(x.gradient, plainX * 3)
    expectClose(w.gradient, plainW)  // w is not upstream of hidden
    hidden.removeHooks()
    graph.zeroGradients()
    graph.backward(from: loss)
    expectClose(x.gradient, plainX)
    #expect(seen.count == 1)
  }

  @Test func hooksRunInOrderAndNilKeepsTheGradient() {
    let graph = Graph<Double>()
    let w = graph.parameter(Tensor([2.0, -1.0]), name: "w")
    let loss = (w * w).sum()
    var order: [String] = []
    w.registerHook { _ in
      order.append("observe")
      return nil
    }
    w.registerHook { gradient in
      order.append("clip")
      return gradient.map { Swift.min(Swift.max($0, -1), 1) }
    }
    graph.backward(from: loss)
    #expect(order == ["observe", "clip"])
    // ∂L/∂w = 2w = [4, −2], clipped to [1, −1] for the node and for the parameter.
    #expect(w.gradient == Tensor([1.0, -1.0]))
    #expect(graph.parameters[0].gradient == Tensor([1.0, -1.0]))
  }

  @Test func aHookOnAnUnreachedNodeIsNotCalled() {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([1.0]))
    let unused = x.exp()
    let loss = x.squared().sum()
    var calls = 0
    unused.registerHook { _ in
      calls += 1
      return nil
    }
    graph.backward(from: loss)
    #expect(calls == 0)
  }
}
