import Foundation
import Testing

@testable import ChainRule

/// `Graph.throwingShapeErrors`: a shape mismatch inside the scope is thrown (not a stop), the
/// graph is left as it was, and the first error is the one reported.
@Suite("throwing shape errors")
struct ShapeErrorScopeTests {
  /// The example of Docs/errors.md, verbatim (checked below), returning what it printed.
  static func documentedExample() -> [String] {
    var printed: [String] = []
    func print(_ item: Any) { printed.append("\(item)") }
    let graph = Graph<Float>()
    let x = graph.input(Tensor.zeros([4, 3]), name: "x")
    let w1 = graph.parameter(Tensor.zeros([2, 5]), name: "W1")
    do {
      let z = try graph.throwingShapeErrors { x.matmul(w1).tanh() }
      print(z.shape)
    } catch {
      print(error)  // matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)
    }
    return printed
  }

  @Test func theDocumentedExampleIsThisOneAndPrintsTheError() throws {
    #expect(
      Self.documentedExample() == [#"matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)"#])
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let document = try String(
      contentsOf: root.appendingPathComponent("Docs/errors.md"), encoding: .utf8)
    let block = try #require(ReadmeTests.blocks(document, language: "swift").first)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let indented = block.split(separator: "\n", omittingEmptySubsequences: false)
      .map { "    " + $0 }.joined(separator: "\n")
    #expect(source.contains(indented), "Docs/errors.md's example differs from the tested one")
  }

  /// x: [2, 3] ("x"), w: [3, 1] ("w"), and a graph to build in.
  static func operands() -> (Graph<Double>, x: Node<Double>, w: Node<Double>) {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1, 2], [1, 0.25, -0.5]]), name: "x")
    let w = graph.parameter(Tensor([[0.3], [-0.2], [0.1]]), name: "w")
    return (graph, x, w)
  }

  @Test func matmulMismatchThrowsTheErrorTheOpDescribes() {
    let (graph, x, w) = Self.operands()
    // Independent of the graph's path: the op's own check on the same operands.
    let expected = ShapeError.matmul(
      ShapeError.Operand(name: "w", shape: [3, 1]), ShapeError.Operand(name: "x", shape: [2, 3]))
    #expect(throws: expected) { try graph.throwingShapeErrors { w.matmul(x) } }
  }

  @Test func everyNodeOperatorIsCovered() {
    let (graph, x, w) = Self.operands()
    let row = graph.input(Tensor([[1, 2]]), name: "row")
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x + row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x * row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x - row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x / row } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x.sum(alongAxis: 2) } }
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { x.reshaped([4]) } }
    #expect(throws: ShapeError.self) {
      try graph.throwingShapeErrors { x.meanSquaredError(w) }
    }
    // A layer is ops on nodes: a Dense for 4 inputs fed 3 features.
    var generator = SplitMix64(seed: 1)
    let layer = Dense<Double>(inputSize: 4, outputSize: 2, using: &generator)
    #expect(throws: ShapeError.self) { try graph.throwingShapeErrors { layer(x) } }
    #expect(graph.nodeCount == 3, "every failed scope removed its nodes")
  }

  @Test func aFailedScopeLeavesTheGraphAsItWasAndBuildingGoesOn() throws {
    let (graph, x, w) = Self.operands()
    let before = graph.nodeCount
    #expect(throws: ShapeError.self) {
      try graph.throwingShapeErrors {
        let z = x.matmul(w).tanh()  // fine: [2, 1]
        return (z + graph.constant(Tensor([[1], [2], [3]]))).sum()  // [2, 1] + [3, 1] fails
      }
    }
    #expect(graph.nodeCount == before)
    // The corrected line, built after the failure, gives what a fresh graph gives, bitwise.
    let loss = try graph.throwingShapeErrors { x.matmul(w).tanh().sum() }
    graph.backward(from: loss)
    let (fresh, freshX, freshW) = Self.operands()
    let freshLoss = freshX.matmul(freshW).tanh().sum()
    fresh.backward(from: freshLoss)
    #expect(loss.value == freshLoss.value)
    #expect(w.gradient == freshW.gradient)
    #expect(graph.nodeCount == fresh.nodeCount)
  }

  @Test func onlyTheFirstErrorIsThrownAndPlaceholdersHaveShapeZero() {
    let (graph, x, w) = Self.operands()
    var placeholderShapes: [[Int]] = []
    let first = ShapeError.matmul(
      ShapeError.Operand(name: "x", shape: [2, 3]), ShapeError.Operand(name: "x", shape: [2, 3]))
    #expect(throws: first) {
      try graph.throwingShapeErrors {
        let bad = x.matmul(x)  // the first mistake
        let worse = bad.matmul(w)  // built on a placeholder: no second error
        let unrelated = w.matmul(w)  // an independent, later mistake: not the one thrown
        placeholderShapes = [bad.shape, worse.shape, unrelated.shape]
      }
    }
    #expect(placeholderShapes == [[0], [0], [0]])
  }

  @Test func aSucceedingScopeReturnsItsResultAndKeepsItsNodes() throws {
    let (graph, x, w) = Self.operands()
    let y = try graph.throwingShapeErrors { x.matmul(w) }
    // y = x · w row by row, from the numbers above.
    let row0: Double = 0.5 * 0.3 + (-1) * (-0.2) + 2 * 0.1
    let row1: Double = 1 * 0.3 + 0.25 * (-0.2) + (-0.5) * 0.1
    expectClose(y.value, Tensor([[row0], [row1]]), relative: 1e-15, "x · w")
    #expect(graph.nodeCount == 3)
    #expect(y.kind == .operation)
  }

  @Test func nestedScopesEachThrowTheirOwnError() throws {
    let (graph, x, w) = Self.operands()
    var innerError: ShapeError?
    let y = try graph.throwingShapeErrors {
      let z = x.matmul(w)
      do throws(ShapeError) {
        _ = try graph.throwingShapeErrors { z.matmul(x) }  // [2, 1] · [2, 3]: fails
      } catch {
        innerError = error
      }
      return z.tanh()  // the outer scope goes on and succeeds
    }
    #expect(innerError?.description.hasPrefix("matmul:") == true)
    #expect(graph.nodeCount == 4)  // x, w, z, tanh — and nothing of the inner scope
    #expect(y.inputs.first?.kind == .operation)
  }

  // MARK: The arguments of issue 15's ops

  /// One bad argument: what is built, and the message the scope must throw (written out by
  /// hand from the operands below: x [2, 3], x3 [2, 3, 4], w [3, 1], the image img
  /// [1, 1, 4, 4], the kernel k [1, 1, 3, 3], the table E [5, 2] and the indices ids
  /// [1, 7, 0], whose 7 is not a row of E).
  struct BadArgument: Sendable, CustomStringConvertible {
    var description: String
    var expected: String
    var build: @Sendable (Graph<Double>, Operands) -> Node<Double>
    init(
      _ description: String, _ expected: String,
      _ build: @escaping @Sendable (Graph<Double>, Operands) -> Node<Double>
    ) {
      (self.description, self.expected, self.build) = (description, expected, build)
    }
  }

  /// The named operands of the bad-argument cases.
  struct Operands {
    var x, x3, w, img, k, table, ids: Node<Double>
  }

  static func toolboxOperands() -> (Graph<Double>, Operands) {
    let graph = Graph<Double>()
    func leaf(_ shape: [Int], _ name: String) -> Node<Double> {
      let count = shape.reduce(1, *)
      return graph.input(
        Tensor(shape: shape, scalars: (0..<count).map { Double($0 % 7) / 4 - 0.5 }), name: name)
    }
    let ids = graph.input(Tensor([1, 7, 0]), name: "ids", requiresGradient: false)
    return (
      graph,
      Operands(
        x: leaf([2, 3], "x"), x3: leaf([2, 3, 4], "x3"), w: leaf([3, 1], "w"),
        img: leaf([1, 1, 4, 4], "img"), k: leaf([1, 1, 3, 3], "k"), table: leaf([5, 2], "E"),
        ids: ids)
    )
  }

  static let badArguments: [BadArgument] = [
    // Axes: the one given, negative or not, is the one named.
    BadArgument("transposed, axis past the end", #"transposed(0, 5): "x" [2, 3] has no axis 5"#) {
      $1.x.transposed(0, 5)
    },
    BadArgument("transposed, negative axis", #"transposed(-3, 1): "x" [2, 3] has no axis -3"#) {
      $1.x.transposed(-3, 1)
    },
    BadArgument("transposed of rank 3", #"transposed(1, 3): "x3" [2, 3, 4] has no axis 3"#) {
      $1.x3.transposed(1, 3)
    },
    BadArgument("max along axes", #"max(axes: [0, 2]): "x" [2, 3] has no axis 2"#) {
      $1.x.max(alongAxes: [0, 2])
    },
    BadArgument(
      "min along a repeated axis",
      #"min(axes: [1, -1], kept): "x" [2, 3] cannot reduce axes [1, -1]: one repeats"#
    ) { $1.x.min(alongAxes: [1, -1], keepingDimension: true) },
    BadArgument("max along no axes", #"max(axes: []): "x" [2, 3] cannot be reduced over no axes"#) {
      $1.x.max(alongAxes: [])
    },
    BadArgument("max along one axis", #"max(axis: -3): "x" [2, 3] has no axis -3"#) {
      $1.x.max(alongAxis: -3)
    },
    BadArgument("min along one axis", #"min(axis: 2): "x" [2, 3] has no axis 2"#) {
      $1.x.min(alongAxis: 2)
    },
    BadArgument("logSumExp", #"logSumExp(axis: 2): "x" [2, 3] has no axis 2"#) {
      $1.x.logSumExp(alongAxis: 2)
    },
    BadArgument("sum along axes", #"sum(axes: [0, 3], kept): "x3" [2, 3, 4] has no axis 3"#) {
      $1.x3.sum(alongAxes: [0, 3], keepingDimension: true)
    },
    BadArgument("sum along one axis", #"sum(axis: -3): "x" [2, 3] has no axis -3"#) {
      $1.x.sum(alongAxis: -3)
    },
    BadArgument("mean along one axis", #"mean(axis: -4): "x" [2, 3] has no axis -4"#) {
      $1.x.mean(alongAxis: -4)
    },
    BadArgument(
      "mean along a repeated axis",
      #"mean(axes: [-1, 2]): "x3" [2, 3, 4] cannot reduce axes [-1, 2]: one repeats"#
    ) { $1.x3.mean(alongAxes: [-1, 2]) },
    BadArgument("softmax", #"softmax(axis: 2): "x" [2, 3] has no axis 2"#) {
      $1.x.softmax(alongAxis: 2)
    },
    BadArgument("logSoftmax", #"logSoftmax(axis: -3): "x" [2, 3] has no axis -3"#) {
      $1.x.logSoftmax(alongAxis: -3)
    },
    BadArgument("concat, no such axis", #"concat(axis: 2): "x" [2, 3] has no axis 2"#) {
      $0.concat([$1.x, $1.w], alongAxis: 2)
    },
    BadArgument(
      "concat, other sizes differ", #"concat(axis: 0): "w" [3, 1] and "x" [2, 3] differ off axis 0"#
    ) { $0.concat([$1.x, $1.w], alongAxis: 0) },
    BadArgument("concat of nothing", "concat(axis: 0): needs at least one operand") {
      graph, _ in graph.concat([], alongAxis: 0)
    },
    BadArgument("slice, index", #"slice[2]: "x" [2, 3] has no index 2 on axis 0 (size 2)"#) {
      $1.x[2]
    },
    BadArgument("slice, step", #"slice[:, ::0]: "x" [2, 3] axis 1: step 0 is not positive"#) {
      $1.x[.all, .stride(by: 0)]
    },
    BadArgument(
      "slice, too many indices",
      #"slice[0, 0, 0]: "x" [2, 3] has rank 2, fewer axes than 3 indices"#
    ) { $1.x[0, 0, 0] },
    BadArgument(
      "gather, index",
      #"gather: index 7 at position [1] is not a row of the table (0..<5), for table "E" [5, 2] and indices "ids" [3]"#
    ) { $1.table.gather($1.ids) },
    BadArgument(
      "gather, negative fixed index",
      #"gather: index -1 at position [0] is not a row of the table (0..<5), for table "E" [5, 2] and indices "constant#7" [1]"#
    ) { $1.table.gather([-1]) },
    BadArgument("gather, no table", #"gather: "s" [] must be a non-empty table [rows, …]"#) {
      $1.x3[0, 0, 0].named("s").gather($1.ids)
    },
    BadArgument("where", #"where: "x" [2, 3] and "w" [3, 1] do not broadcast (axis -2: 2 vs 3)"#) {
      $0.where($1.x, $1.x, $1.w)
    },
    BadArgument(
      "maximum", #"maximum: "x" [2, 3] and "w" [3, 1] do not broadcast (axis -2: 2 vs 3)"#
    ) { $1.x.maximum($1.w) },
    BadArgument("pow", #"pow: "x" [2, 3] and "w" [3, 1] do not broadcast (axis -2: 2 vs 3)"#) {
      $1.x.pow($1.w)
    },
    BadArgument(
      "clamp, no bound",
      #"clamp: "x" [2, 3] cannot be clamped: give at least one bound (min: or max:)"#
    ) { $1.x.clamp() },
    BadArgument(
      "clamp, NaN bound",
      #"clamp: "x" [2, 3] cannot be clamped: a bound is NaN (min: Optional(nan), max: nil)"#
    ) { $1.x.clamp(min: .nan) },
    BadArgument(
      "conv2d, stride",
      #"conv2d(stride: 0): stride 0 must be positive, for "img" [1, 1, 4, 4] and "k" [1, 1, 3, 3]"#
    ) { $1.img.conv2d($1.k, stride: 0) },
    BadArgument(
      "conv2d, padding",
      #"conv2d(padding: -1×0): padding -1×0 must not be negative, for "img" [1, 1, 4, 4] and "k" [1, 1, 3, 3]"#
    ) { $1.img.conv2d($1.k, padding: Size2D(height: -1, width: 0)) },
    BadArgument(
      "conv2d, dilation",
      #"conv2d(dilation: 0): dilation 0 must be positive, for "img" [1, 1, 4, 4] and "k" [1, 1, 3, 3]"#
    ) { $1.img.conv2d($1.k, dilation: 0) },
    BadArgument(
      "conv2d, channels",
      #"conv2d: kernel "k" [1, 1, 3, 3] takes 1 input channels, but "x4" [1, 3, 2, 4] has 3"#
    ) { $1.x3.reshaped([1, 3, 2, 4]).named("x4").conv2d($1.k) },
    BadArgument(
      "maxPool2d, padding",
      #"maxPool2d(kernel: 2, padding: 2): "img" [1, 1, 4, 4] cannot be pooled: padding 2 must be at most half the kernel size 2"#
    ) { $1.img.maxPool2d(kernelSize: 2, padding: 2) },
    BadArgument(
      "maxPool2d, kernel",
      #"maxPool2d(kernel: 0): "img" [1, 1, 4, 4] cannot be pooled: kernel size 0 must be positive"#
    ) { $1.img.maxPool2d(kernelSize: 0) },
    BadArgument(
      "maxPool2d, stride",
      #"maxPool2d(kernel: 2, stride: 0×1): "img" [1, 1, 4, 4] cannot be pooled: stride 0×1 must be positive"#
    ) { $1.img.maxPool2d(kernelSize: 2, stride: Size2D(height: 0, width: 1)) },
    BadArgument(
      "maxPool2d, rank",
      #"maxPool2d(kernel: 2): "x" [2, 3] must be [batch, channels, height, width] (NCHW)"#
    ) { $1.x.maxPool2d(kernelSize: 2) },
    BadArgument(
      "permute",
      #"permute[0, 0]: "x" [2, 3] cannot be permuted by [0, 0]: not each of its axes once"#
    ) { $1.x.permuted([0, 0]) },
    BadArgument(
      "batched matmul", #"matmul: "x3" [2, 3, 4] and "x3" [2, 3, 4] do not align (4 ≠ 2)"#
    ) { $1.x3.matmul($1.x3) },
    BadArgument(
      "layer norm, epsilon",
      #"layerNormalization(epsilon: -1.0): "x" [2, 3] cannot be normalised: epsilon -1.0 must not be negative"#
    ) { $1.x.layerNormalized(epsilon: -1) },
    BadArgument(
      "flattened, negative axis",
      #"flatten(from: -1): "x" [2, 3] cannot be flattened from a negative axis"#
    ) { $1.x.flattened(from: -1) },
    BadArgument(
      "flattened, axis past the end", #"flatten(from: 2): "x" [2, 3] has no axis 2 to flatten from"#
    ) { $1.x.flattened(from: 2) },
  ]

  /// Every bad argument of issue 15's ops throws inside the scope, naming the op, the argument
  /// and the shapes, and leaves the graph as it was — where it used to stop the process for
  /// an axis of `transposed` or of max/min over several axes, a stride, a kernel, a bound, an
  /// ε or an index.
  @Test(arguments: badArguments)
  func aBadArgumentThrowsNamingTheOpTheArgumentAndTheShapes(_ bad: BadArgument) {
    let (graph, operands) = Self.toolboxOperands()
    let before = graph.nodeCount
    #expect(throws: ShapeError(bad.expected)) {
      try graph.throwingShapeErrors { bad.build(graph, operands) }
    }
    #expect(graph.nodeCount == before, "the failed scope removed its nodes")
  }

  /// Docs/errors.md's examples of argument errors are messages tested above.
  @Test func theDocumentedArgumentErrorsAreTestedOnes() throws {
    let document = try ReadmeTests.text("Docs/errors.md")
    let block = try #require(ReadmeTests.blocks(document, language: "text").dropFirst().first)
    let tested = Set(Self.badArguments.map(\.expected))
    let lines = block.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    for line in lines { #expect(tested.contains(line), "\(line)") }
  }

  /// The ops without arguments (sin, cos, sqrt, abs, pow to a number, stopGradient) and the
  /// ones above, built on a node that already failed, add no second error and do not stop:
  /// the first mistake is the one thrown.
  @Test func opsBuiltOnAFailedNodeKeepTheFirstError() {
    let (graph, o) = Self.toolboxOperands()
    let first = ShapeError(#"transposed(0, 5): "x" [2, 3] has no axis 5"#)
    #expect(throws: first) {
      try graph.throwingShapeErrors {
        let bad = o.x.transposed(0, 5)
        let chain = bad.sin().cos().sqrt().abs().pow(2).stopGradient().clamp(min: 0)
        _ = graph.concat([chain, o.x], alongAxis: 1).transposed(0, 1).max(alongAxes: [0, 1])
        _ = chain.min(alongAxis: 1).logSumExp(alongAxis: 0).softmax().layerNormalized()
        _ = chain.flattened(from: 0).gather(o.ids).conv2d(o.k).maxPool2d(kernelSize: 2)
        _ = graph.where(chain, o.x, o.x).maximum(o.w).minimum(o.w).sum(alongAxes: [0, 1])
        return o.table.gather(bad)
      }
    }
  }

  /// The same ops with good arguments build what they always built (the rejected path is
  /// taken only for a bad argument): a negative axis counts from the end.
  @Test func goodArgumentsStillBuild() throws {
    let (graph, o) = Self.toolboxOperands()
    let nodes = try graph.throwingShapeErrors {
      [
        o.x.transposed(-1, 0), o.x3.max(alongAxes: [-1, 0]), o.x.min(alongAxis: -2),
        o.x3.sum(alongAxes: [2, 0], keepingDimension: true), o.x.mean(alongAxis: -1),
        graph.concat([o.x, o.x], alongAxis: -1), o.table.gather([4, 4]),
        o.img.conv2d(o.k, padding: 1), o.img.maxPool2d(kernelSize: 2, padding: 1),
        o.x.clamp(max: 0), o.x.flattened(from: 0), o.x.layerNormalized(epsilon: 0),
      ]
    }
    #expect(
      nodes.map(\.shape) == [
        [3, 2], [3], [3], [1, 3, 1], [2], [2, 6], [2, 2], [1, 1, 4, 4], [1, 1, 3, 3], [2, 3],
        [6], [2, 3],
      ])
  }
}
