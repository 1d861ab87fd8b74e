import ChainRule
import Foundation

// `swift run chainrule`: the seed 000 network (2 inputs → 1 tanh unit → 1 sigmoid unit,
// binary cross-entropy) on FORMULAS.md's worked case, with each gradient from the graph
// printed beside the course's hand-derived formula evaluated on the forward values.

let graph = Graph<Double>()
let x = graph.input(Tensor([[0.5, -1.0]]), name: "x")
let w1 = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
let b1 = graph.parameter(Tensor([0.1]), name: "b1")
let w2 = graph.parameter(Tensor([[0.7]]), name: "w2")
let b2 = graph.parameter(Tensor([-0.4]), name: "b2")
let y = graph.input(Tensor([[1.0]]), name: "y")
let a1 = (x.matmul(w1) + b1).tanh().named("a1")
let a2 = (a1.matmul(w2) + b2).sigmoid().named("a2")
let loss = (-(y * a2.log() + (1 - y) * (1 - a2).log())).sum().named("L")
graph.backward(from: loss)

/// Shortest text that reads back to the same Double (full precision), signed for alignment.
func show(_ value: Double) -> String { value < 0 ? "\(value)" : "+\(value)" }

let (x1, x2) = (x.value[0, 0], x.value[0, 1])
let (a1v, a2v, yv, w2v) = (a1.value.scalar, a2.value.scalar, y.value.scalar, w2.value.scalar)
print("ChainRule — seed 000: x → tanh → sigmoid → binary cross-entropy")
print("x = (\(x1), \(x2)), w[1] = (0.3, -0.2), b[1] = 0.1, w[2] = 0.7, b[2] = -0.4, y = 1\n")
print("forward")
print("  a[1] = tanh(x·w[1] + b[1])      = \(show(a1v))")
print("  a[2] = σ(a[1]·w[2] + b[2])      = \(show(a2v))")
print("  L    = −(y log a[2] + (1−y) log(1−a[2])) = \(show(loss.value.scalar))\n")

let rows: [(String, Double, String, Double)] = [
  ("dL/dw[2]", w2.gradient.scalar, "a[1]·(a[2] − y)", a1v * (a2v - yv)),
  ("dL/db[2]", b2.gradient.scalar, "a[2] − y", a2v - yv),
  (
    "dL/dw1[1]", w1.gradient[0, 0], "(a[2] − y)·w[2]·(1 − a[1]²)·x1",
    (a2v - yv) * w2v * (1 - a1v * a1v) * x1
  ),
  (
    "dL/dw2[1]", w1.gradient[1, 0], "(a[2] − y)·w[2]·(1 − a[1]²)·x2",
    (a2v - yv) * w2v * (1 - a1v * a1v) * x2
  ),
  (
    "dL/db[1]", b1.gradient.scalar, "(a[2] − y)·w[2]·(1 − a[1]²)",
    (a2v - yv) * w2v * (1 - a1v * a1v)
  ),
]
print("backward (graph)              hand-derived formula")
for (name, fromGraph, formula, fromFormula) in rows {
  let padded = name.padding(toLength: 10, withPad: " ", startingAt: 0)
  let text = formula.padding(toLength: 32, withPad: " ", startingAt: 0)
  let value = show(fromGraph).padding(toLength: 23, withPad: " ", startingAt: 0)
  print("  \(padded) \(value)  \(text) = \(show(fromFormula))")
}
