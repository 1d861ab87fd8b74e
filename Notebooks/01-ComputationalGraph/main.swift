// # 1. The computational graph
//
// Course document: seed 000, *Computational Graph (f(g(h(x))))*. A network is a composition of
// functions; the derivative of a composition is the product of the local derivatives along
// the way (the chain rule). Here the library builds that composition as a graph of nodes, walks
// it backwards, and we check every number against the hand-derived formulas of the course.
//
// Run it with `swift run -c release ComputationalGraph`.
import ChainRule
import Foundation
import NotebookSupport

let notebook = Notebook()

cell("f(g(h(x))) and the chain rule")
// Take h(x) = x², g(u) = tanh u and f(v) = eᵛ, so y = f(g(h(x))) = exp(tanh(x²)). The chain
// rule multiplies the three local derivatives: dy/dx = f′(g) · g′(h) · h′(x) =
// e^g · (1 − g²) · 2x. The graph computes the same number by walking back from y.
let chain = Graph<Double>()
let x = chain.input(Tensor([[0.8]]), name: "x")
let h = x.squared().named("h")
let g = h.tanh().named("g")
let y = g.exp().named("y")
chain.backward(from: y)

let (xv, hv, gv, yv) = (0.8, h.value.scalar, g.value.scalar, y.value.scalar)
print("h = x²     =", pad(fmt(hv), 8), "   h′(x) = 2x     =", fmt(2 * xv))
print("g = tanh h =", pad(fmt(gv), 8), "   g′(h) = 1 − g² =", fmt(1 - gv * gv))
print("y = exp g  =", pad(fmt(yv), 8), "   f′(g) = e^g    =", fmt(yv))
print("by hand:   dy/dx = e^g · (1 − g²) · 2x =", fmt(yv * (1 - gv * gv) * 2 * xv, 12))
print("by graph:  x.gradient                 =", fmt(x.gradient.scalar, 12))

cell("The chain rule as the library explains it")
// `graph.explain` lists every path from an element to the output with its local derivatives,
// as formulas in the graph's names and as numbers of this forward pass.
print(try chain.explain(y, withRespectTo: x, at: [0, 0]))

cell("The two-layer network of the course")
// Two inputs → one tanh unit → one sigmoid unit, binary cross-entropy loss:
// z1 = x·w1 + b1, a1 = tanh z1, z2 = a1·w2 + b2, a2 = σ(z2),
// L = −(y·log a2 + (1 − y)·log(1 − a2)). `Examples.seed000()` builds it on the worked case of
// the course (x = (0.5, −1), w1 = (0.3, −0.2), b1 = 0.1, w2 = 0.7, b2 = −0.4, y = 1).
let net = Examples.seed000()
for node in [net.z1, net.a1, net.z2, net.a2, net.loss] {
  print(
    node.label.padding(toLength: 3, withPad: " ", startingAt: 0), "=", fmt(node.value.scalar, 12))
}

cell("Five gradients by hand and by the graph")
// The course derives, from the graph of the previous slide:
// dw[2] = a[1]·(a[2] − y), db[2] = a[2] − y, dw1[1] = (a[2] − y)·w[2]·(1 − a[1]²)·x1,
// dw2[1] = (a[2] − y)·w[2]·(1 − a[1]²)·x2 and db[1] = (a[2] − y)·w[2]·(1 − a[1]²).
// We compute them from the forward values and read the library's from one backward pass.
net.graph.backward(from: net.loss)
let a1 = net.a1.value.scalar
let a2 = net.a2.value.scalar
let target = net.y.value.scalar
let w2 = net.w2.value.scalar
let delta1 = (a2 - target) * w2 * (1 - a1 * a1)
let rows: [(String, String, Double, Double)] = [
  ("dw[2]", "a1·(a2 − y)", a1 * (a2 - target), net.w2.gradient.scalar),
  ("db[2]", "a2 − y", a2 - target, net.b2.gradient.scalar),
  ("dw1[1]", "(a2 − y)·w2·(1 − a1²)·x1", delta1 * 0.5, net.w1.gradient[0, 0]),
  ("dw2[1]", "(a2 − y)·w2·(1 − a1²)·x2", delta1 * -1.0, net.w1.gradient[1, 0]),
  ("db[1]", "(a2 − y)·w2·(1 − a1²)", delta1, net.b1.gradient[0]),
]
print("gradient  formula                         by hand            by graph        agree")
for (name, formula, hand, graph) in rows {
  let agree = abs(hand - graph) <= 1e-12 * max(1, abs(hand)) ? "yes" : "NO"
  print(
    name.padding(toLength: 9, withPad: " ", startingAt: 0),
    formula.padding(toLength: 30, withPad: " ", startingAt: 0),
    pad(fmt(hand, 12), 17), pad(fmt(graph, 12), 18), " ", agree)
}

cell("One gradient, path by path")
// The same chain rule, spelled out for dw1[1] (the element w1[0, 0]): one path from the
// weight to the loss, and its factors in the course's order.
print(try net.graph.explain(net.loss, withRespectTo: net.w1, at: [0, 0]))

cell("The graph, drawn")
// `graph.dot(reaching:)` writes the graph in Graphviz's DOT language: one column per scope
// (the two layers and the loss), every node with its name as the course writes it (`x·w1`,
// `1 − a2`), its value and its gradient; every edge with its local derivative (`∂a1/∂z1`) or,
// where the operand is a vector, the vector–Jacobian product that carries the gradient back
// (`w̄1 = xᵀ·ȳ`; the bias sums over the batch). The notebook writes `figures/seed000.dot` and,
// when Graphviz's `dot` is installed, renders it to the SVG below.
let dot = net.graph.dot(reaching: net.loss)
try notebook.write(dot, to: "figures/seed000.dot")
if Graphviz.isInstalled {
  try Graphviz.render(dot, format: .svg, to: notebook.url("figures/seed000.svg"))
} else {
  notebook.note("Graphviz dot not found: keeping the committed figures/seed000.svg")
}
print("nodes:", net.graph.nodeCount, "  DOT lines:", dot.split(separator: "\n").count)
notebook.showFigure(at: "figures/seed000.svg", caption: "The seed 000 network after backward")

cell("The backward pass, frame by frame")
// `graph.backwardSteps(from:options:)` replays the reverse walk as a flip-book: one frame per
// node whose gradient is completed, that node highlighted, the edges its gradient came along
// drawn red, and the title the chain-rule product just computed, with its numbers. The loss's
// eleven primitive nodes are collapsed into one (`options.collapse = ["loss"]`), so the walk
// reads as the course writes it: ∂L/∂a2 through the whole loss, then layer by layer.
// `renderFrames` writes every frame as SVG into `figures/backward/`; two are shown below.
var frameOptions = DotOptions()
frameOptions.collapse = ["loss"]
let steps = net.graph.backwardSteps(from: net.loss, options: frameOptions)
for step in steps {
  print(
    step.title.replacingOccurrences(of: "\n", with: "  ").replacingOccurrences(
      of: "  =", with: " ="))
}
if Graphviz.isInstalled {
  try net.graph.renderFrames(
    from: net.loss, options: frameOptions, to: notebook.url("figures/backward"))
} else {
  notebook.note("Graphviz dot not found: keeping the committed figures/backward/*.svg")
}
let z2Step = steps.firstIndex { $0.node == "z2" }! + 1
notebook.showFigure(
  at: String(format: "figures/backward/step-%02d.svg", z2Step),
  caption: "Backward step \(z2Step): dL/dz2 = dL/da2 · da2/dz2 = a2 − y")
notebook.showFigure(
  at: String(format: "figures/backward/step-%02d.svg", steps.count), caption: "The last step")

cell("The backward pass, interactive")
// `graph.html(from:options:)` puts the drawing and the same frames into one self-contained page,
// [figures/backward.html](figures/backward.html) (no network: open it from disk). Step through
// the backward pass with ◀ ▶ or the slider, each step titled with its chain-rule product; click
// a node for its op, shapes, value and gradient as grids (`…` until the step that completes
// it) and, for every edge into it, the local derivative or the VJP with the share of the
// gradient it hands back, in numbers; choose a parameter element in "explain" to light up every
// path of `explain` for it, with the text beside the drawing. The state is in the address, so a
// view can be linked:
// [figures/backward.html#step=3&node=z2](figures/backward.html#step=3&node=z2) is the frame of
// ∂L/∂z2 above with z2's details;
// [figures/backward.html#step=0&path=w1[0,0]](figures/backward.html#step=0&path=w1[0,0]) the two
// paths from w1[0, 0] to the loss. Pass `checked: graph.checkGradients(of: loss)` or
// `expected: [b1: myFormula]` and the page colours each compared node ok, FAIL or vacuous.
if Graphviz.isInstalled {
  let page = try net.graph.html(from: net.loss, options: frameOptions)
  try notebook.write(page, to: "figures/backward.html")
}
print(
  "page: figures/backward.html (\(steps.count) steps; open figures/backward.html#step=3&node=z2)")

cell("One SGD step")
// Every parameter moves against its gradient: p ← p − η · dL/dp, with η = 0.5. We apply the
// update by hand to copies, let the library's `SGD` do it to the real parameters, compare, and
// evaluate the loss again.
let eta = 0.5
let expected = net.graph.parameters.map { $0.value - $0.gradient * eta }
let sgd = SGD(parameters: net.graph.parameters, learningRate: eta)
sgd.step()
for (parameter, hand) in zip(net.graph.parameters, expected) {
  let same = parameter.value.isApproximatelyEqual(to: hand, relativeTolerance: 1e-12)
  print(
    parameter.name.padding(toLength: 3, withPad: " ", startingAt: 0), "→",
    parameter.value.scalars.map { fmt($0, 12) }.joined(separator: ", "),
    same ? "(= p − η·dp)" : "(DIFFERS from p − η·dp)")
}
let before = net.loss.value.scalar
net.graph.forward()
print("loss before:", fmt(before, 12), "  after one step:", fmt(net.loss.value.scalar, 12))
