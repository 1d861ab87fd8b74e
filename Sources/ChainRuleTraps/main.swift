// chainrule-traps: commits one documented misuse of the library, chosen by name, so that a test
// can check that its message reaches standard error — in a release build above all, where a
// failed `precondition` prints no message. `chainrule-traps --list` prints every name.
//
// Each case is the smallest user code that meets the check; the messages expected are written
// in Tests/ChainRuleTests/TrapMessageTests.swift, not here, so that neither side can drift.

import ChainRule
import Foundation
import NotebookSupport

/// An op whose forward pass disagrees with its declared output shape: an op author's mistake.
struct WrongShapeOperation: DifferentiableOperation {
  var name: String { "wrongShape" }
  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] { [1] }
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor.zeros([2])
  }
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] { inputs.map { Tensor.zeros($0.shape) } }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "0" }
}

/// A user's op with a forward pass and a VJP but neither optional rule (no `gradientNodes`, no
/// `jvp`): y = x.
struct RulelessOperation: DifferentiableOperation {
  var name: String { "ruleless" }
  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> { inputs[0] }
  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] { [gradient] }
  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "1" }
}

/// A graph holding x: [1, 2] (named "x") and y = x + x: [1, 2] (named "y").
func vectorGraph() -> (Graph<Double>, x: Node<Double>, y: Node<Double>) {
  let graph = Graph<Double>()
  let x = graph.parameter(Tensor([[1, 2]]), name: "x")
  return (graph, x, (x + x).named("y"))
}

/// A graph holding a scalar loss (named "loss") of a parameter "w".
func scalarGraph() -> (Graph<Double>, w: Node<Double>, loss: Node<Double>) {
  let graph = Graph<Double>()
  let w = graph.parameter(Tensor([0.5]), name: "w")
  return (graph, w, w.tanh().sum().named("loss"))
}

/// Every misuse, by name. Each closure must stop the program; returning is a failure.
let traps: [(name: String, trigger: () -> Void)] = [
  // Tensors
  ("tensor-negative-dimension", { _ = Tensor<Float>(shape: [2, -1], scalars: []) }),
  ("tensor-scalar-count", { _ = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3]) }),
  ("tensor-ragged-rows", { _ = Tensor<Float>([[1, 2], [3]]) }),
  ("tensor-ragged-blocks", { _ = Tensor<Float>([[[1, 2]], [[1, 2], [3, 4]]]) }),
  ("tensor-scalar", { _ = Tensor<Float>([1, 2]).scalar }),
  ("tensor-index-count", { _ = Tensor<Float>([[1, 2]])[0] }),
  ("tensor-index-range", { _ = Tensor<Float>([[1, 2]])[0, 2] }),
  ("tensor-reshape", { _ = Tensor<Float>([1, 2, 3]).reshaped([2, 2]) }),
  ("tensor-matmul-rank", { _ = Tensor<Float>([1, 2]).matmul(Tensor([[1]])) }),
  ("tensor-matmul-inner", { _ = Tensor<Float>([[1, 2]]).matmul(Tensor([[1, 2]])) }),
  (
    "tensor-matmul-accumulate",
    {
      var result = Tensor<Float>([0])
      Tensor<Float>([[1]]).matmul(Tensor([[1]]), into: &result, accumulating: true)
    }
  ),
  ("tensor-transposed", { _ = Tensor<Float>([1, 2]).transposed() }),
  ("tensor-sum-axis", { _ = Tensor<Float>([1, 2]).sum(alongAxis: 1) }),
  (
    "tensor-add-assign",
    {
      var a = Tensor<Float>([1, 2])
      a += Tensor([1, 2, 3])
    }
  ),
  ("tensor-broadcast", { _ = Tensor<Float>([1, 2]) + Tensor([1, 2, 3]) }),
  ("tensor-broadcasted-to", { _ = Tensor<Float>([1, 2]).broadcasted(to: [3]) }),
  ("tensor-summed-to-shape", { _ = Tensor<Float>([1, 2]).summed(toShape: [3]) }),
  // Building and running a graph
  (
    "graph-matmul-shapes",
    {
      let graph = Graph<Float>()
      let x = graph.input(Tensor.zeros([4, 3]), name: "x")
      let w = graph.parameter(Tensor.zeros([2, 5]), name: "W1")
      _ = x.matmul(w)
    }
  ),
  (
    "graph-broadcast-shapes",
    {
      let graph = Graph<Float>()
      let a = graph.input(Tensor.zeros([2, 3]), name: "a")
      let b = graph.input(Tensor.zeros([2, 2]), name: "b")
      _ = a + b
    }
  ),
  ("graph-operand-from-another-graph", { _ = vectorGraph().x + vectorGraph().x }),
  (
    "graph-forward-new-shape",
    {
      let graph = Graph<Float>()
      let x = graph.input(Tensor.zeros([2, 3]), name: "x")
      let w = graph.parameter(Tensor.zeros([3, 1]), name: "w")
      _ = x.matmul(w)
      x.value = Tensor.zeros([2, 4])
      graph.forward()
    }
  ),
  (
    "graph-forward-wrong-shape",
    {
      let graph = Graph<Float>()
      _ = graph.apply(WrongShapeOperation(), [graph.input(Tensor([1]))])
    }
  ),
  (
    "scope-backward-over-placeholder",
    {
      let graph = Graph<Float>()
      let x = graph.input(Tensor.zeros([4, 3]), name: "x")
      let w = graph.parameter(Tensor.zeros([2, 5]), name: "W1")
      _ = try? graph.throwingShapeErrors { graph.backward(from: x.matmul(w).sum()) }
    }
  ),
  (
    "scope-removed-node",
    {
      let graph = Graph<Float>()
      let x = graph.input(Tensor.zeros([4, 3]), name: "x")
      var kept: Node<Float>?
      _ = try? graph.throwingShapeErrors {
        kept = x.tanh()
        _ = x.matmul(x)
      }
      _ = kept?.value
    }
  ),
  ("graph-set-op-value", { vectorGraph().y.value = Tensor([[0, 0]]) }),
  ("backward-output-from-another-graph", { Graph<Double>().backward(from: vectorGraph().y) }),
  (
    "backward-seed-shape",
    {
      let (graph, _, y) = vectorGraph()
      graph.backward(from: y, seed: Tensor([1]))
    }
  ),
  (
    "backward-needs-seed",
    {
      let (graph, _, y) = vectorGraph()
      graph.backward(from: y)
    }
  ),
  (
    "anomalies-output-from-another-graph",
    { try? Graph<Double>().backwardDetectingAnomalies(from: vectorGraph().y) }
  ),
  (
    "anomalies-needs-seed",
    {
      let (graph, _, y) = vectorGraph()
      try? graph.backwardDetectingAnomalies(from: y)
    }
  ),
  (
    "gradcheck-output-from-another-graph",
    { _ = Graph<Double>().checkGradients(of: scalarGraph().loss) }
  ),
  (
    "gradcheck-epsilon",
    {
      let (graph, _, loss) = scalarGraph()
      _ = graph.checkGradients(of: loss, epsilon: 0)
    }
  ),
  (
    "gradcheck-needs-seed",
    {
      let (graph, _, y) = vectorGraph()
      _ = graph.checkGradients(of: y)
    }
  ),
  (
    "gradcheck-node-from-another-graph",
    {
      let (graph, _, loss) = scalarGraph()
      _ = graph.checkGradients(of: loss, withRespectTo: [scalarGraph().w])
    }
  ),
  (
    "gradcheck-no-gradient",
    {
      let graph = Graph<Double>()
      let c = graph.constant(Tensor([1]), name: "c")
      _ = graph.checkGradients(of: c.sum(), withRespectTo: [c])
    }
  ),
  // Drawings and explanations
  ("dot-output-from-another-graph", { _ = Graph<Double>().dot(reaching: vectorGraph().y) }),
  ("dot-empty-graph", { _ = Graph<Double>().dot() }),
  (
    "frames-output-from-another-graph",
    { _ = Graph<Double>().backwardFrames(from: vectorGraph().y) }
  ),
  (
    "frames-seed-shape",
    {
      let (graph, _, y) = vectorGraph()
      _ = graph.backwardFrames(from: y, seed: Tensor([1]))
    }
  ),
  (
    "frames-needs-seed",
    {
      let (graph, _, y) = vectorGraph()
      _ = graph.backwardFrames(from: y)
    }
  ),
  (
    "explain-node-from-another-graph",
    {
      let (graph, _, loss) = scalarGraph()
      _ = try? graph.explain(loss, withRespectTo: scalarGraph().w)
    }
  ),
  // Forward mode (Graph+ForwardMode.swift).
  (
    "jvp-tangent-shape",
    {
      let (graph, x, y) = vectorGraph()
      _ = graph.jvp(of: y, withRespectTo: x, tangent: Tensor([1, 2]))
    }
  ),
  (
    "jvp-tangent-count",
    {
      let (graph, x, y) = vectorGraph()
      _ = graph.jvp(of: y, withRespectTo: [x], tangents: [])
    }
  ),
  (
    "jvp-node-from-another-graph",
    {
      let (graph, _, loss) = scalarGraph()
      _ = graph.jvp(of: loss, withRespectTo: scalarGraph().w, tangent: Tensor([1]))
    }
  ),
  (
    "jvp-node-twice",
    {
      let (graph, x, y) = vectorGraph()
      let tangent = Tensor<Double>([[1, 2]])
      _ = graph.jvp(of: y, withRespectTo: [x, x], tangents: [tangent, tangent])
    }
  ),
  (
    "jacobian-no-gradient",
    {
      let graph = Graph<Double>()
      let c = graph.constant(Tensor([1]), name: "c")
      _ = graph.jacobian(of: c.exp(), withRespectTo: [c], mode: .forward)
    }
  ),
  // Gradients built as nodes (Graph+Gradients.swift) and the optional rules' defaults.
  (
    "gradients-no-node-built-vjp",
    {
      let (graph, x, _) = vectorGraph()
      let y = graph.apply(RulelessOperation(), [x]).sum()
      _ = graph.gradients(of: y, withRespectTo: [x])
    }
  ),
  (
    "jvp-no-rule",
    {
      let (graph, x, _) = vectorGraph()
      let y = graph.apply(RulelessOperation(), [x])
      _ = graph.jvp(of: y, withRespectTo: x, tangent: Tensor([[1, 2]]))
    }
  ),
  (
    "gradients-hooked-node",
    {
      let (graph, x, y) = vectorGraph()
      y.registerHook { _ in nil }
      _ = graph.gradients(of: y.sum(), withRespectTo: [x])
    }
  ),
  ("lineplot-too-small", { _ = LinePlot(title: "t", xLabel: "x", yLabel: "y", width: 100) }),
  (
    "lineplot-counts",
    {
      var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
      plot.add("loss", x: [1, 2], y: [1])
    }
  ),
  // Losses
  (
    "sparse-label-out-of-range",
    {
      let graph = Graph<Float>()
      let logits = graph.input(Tensor.zeros([2, 3]), name: "logits")
      _ = logits.softmaxCrossEntropy(labels: graph.input(Tensor([0, 3]), name: "labels"))
    }
  ),
  (
    "sparse-label-fractional",
    {
      let graph = Graph<Float>()
      let logits = graph.input(Tensor.zeros([2, 3]), name: "logits")
      _ = logits.softmaxCrossEntropy(labels: graph.input(Tensor([0.5, 1]), name: "labels"))
    }
  ),
  // Layers and optimizers
  (
    "dense-sizes",
    {
      var generator = SplitMix64(seed: 1)
      _ = Dense<Float>(inputSize: 0, outputSize: 3, using: &generator)
    }
  ),
  ("dense-shapes", { _ = Dense<Float>(weight: Tensor.zeros([2, 3]), bias: Tensor.zeros([2])) }),
  (
    "sgd-duplicate-names",
    {
      _ = SGD(
        parameters: [Parameter<Float>(Tensor(1), name: "w"), Parameter(Tensor(2), name: "w")],
        learningRate: 0.1)
    }
  ),
  (
    "adam-duplicate-names",
    {
      _ = Adam(
        parameters: [Parameter<Float>(Tensor(1), name: "w"), Parameter(Tensor(2), name: "w")],
        learningRate: 0.1)
    }
  ),
  (
    "sgd-nesterov-without-momentum",
    {
      _ = SGD(
        parameters: [Parameter<Float>(Tensor(1), name: "w")], learningRate: 0.1, nesterov: true)
    }
  ),
  // Data, random numbers, checking tools, notebooks
  (
    "dataset-split",
    {
      var generator = SplitMix64(seed: 1)
      let data = try! Dataset<Float>(features: Tensor.zeros([4, 2]), labels: Tensor.zeros([4]))
      _ = data.split(trainingCount: 5, using: &generator)
    }
  ),
  (
    "dataset-batches",
    {
      let data = try! Dataset<Float>(features: Tensor.zeros([4, 2]), labels: Tensor.zeros([4]))
      _ = data.batches(size: 0)
    }
  ),
  (
    "random-int-bound",
    {
      var generator = SplitMix64(seed: 1)
      _ = generator.nextInt(below: 0)
    }
  ),
  ("random-graph-no-operations", { _ = RandomGraphGenerator(operations: []) }),
  (
    "scalar-graph-output-from-another-graph",
    {
      let (graph, other) = (ScalarGraph(), ScalarGraph())
      graph.backward(from: other.leaf(1))
    }
  ),
  (
    "scalar-graph-operands-from-two-graphs",
    {
      let (graph, other) = (ScalarGraph(), ScalarGraph())
      _ = graph.leaf(1) * other.leaf(2)
    }
  ),
  (
    "scalar-graph-node-before-remove-all",
    {
      let graph = ScalarGraph()
      let stale = graph.leaf(1) + graph.leaf(2)
      graph.removeAll()
      print(stale.value)
    }
  ),
  ("notebook-largest-difference", { _ = largestDifference(Tensor([1, 2]), Tensor([1, 2, 3])) }),
]

let arguments = CommandLine.arguments.dropFirst()
if arguments == ["--list"] {
  for trap in traps { print(trap.name) }
} else if arguments.count == 1, let trap = traps.first(where: { $0.name == arguments.first }) {
  trap.trigger()
  print("chainrule-traps: \(trap.name) did not stop the program")
  exit(1)
} else {
  print("usage: chainrule-traps --list | chainrule-traps <name>")
  exit(2)
}
