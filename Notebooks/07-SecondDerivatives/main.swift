// # 7. Second derivatives
//
// The backward pass is itself a computational graph. `graph.gradients(of:withRespectTo:)`
// builds ∂L/∂x out of ordinary nodes of the same graph (PyTorch's `create_graph=True`, JAX's
// `grad`), so a gradient can be drawn, fed into further ops, and differentiated again: second
// and third derivatives, Hessians, Hessian-vector products. Every number below is checked
// against something the graph did not compute: a closed-form formula evaluated in plain Swift
// from the forward values, or central differences of first-order gradients.
//
// Run it with `swift run -c release SecondDerivatives`.
import ChainRule
import Foundation
import NotebookSupport

let notebook = Notebook()
let started = Date()

/// The k-th derivative of the element-wise `f` at `points`, each built from the last:
/// dᵏ/dxᵏ Σ f(x), element i of which depends on xᵢ only.
func derivative(_ order: Int, at points: [Double], of f: (Node<Double>) -> Node<Double>)
  -> [Double]
{
  let graph = Graph<Double>()
  let x = graph.input(Tensor(points), name: "x")
  var current = f(x)
  for _ in 0..<order { current = graph.gradients(of: current.sum(), withRespectTo: [x])[0] }
  return current.value.scalars
}

/// Prints one row per point: x, the graph's value, the formula's, and whether they agree to
/// 1e-12 (relative, or absolute near zero).
func table(_ name: String, graph: [Double], formula: [Double], at points: [Double]) {
  print(
    pad("x", 5), " ", pad("\(name) by graph", 18), " ", pad("\(name) by formula", 18), "  agree")
  for (x, (a, b)) in zip(points, zip(graph, formula)) {
    let agree = abs(a - b) <= 1e-12 * max(1, abs(b)) ? "yes" : "NO"
    print(pad(fixed(x, 2), 5), " ", pad(fmt(a, 12), 18), " ", pad(fmt(b, 12), 18), "  ", agree)
  }
}

let points = [-2.6, -0.8, -0.3, 0.45, 1.3, 4.2]

cell("tanh″ = −2·tanh·(1 − tanh²)")
// With t = tanh x: t′ = 1 − t², so t″ = d/dx (1 − t²) = −2t·t′ = −2t(1 − t²). The graph gets
// t″ by differentiating the gradient nodes of t′ once more.
table(
  "tanh″", graph: derivative(2, at: points) { $0.tanh() },
  formula: points.map { x in
    let t = tanh(x)
    return -2 * t * (1 - t * t)
  }, at: points)

cell("σ″ = σ(1 − σ)(1 − 2σ)")
// σ′ = σ(1 − σ), so σ″ = σ′(1 − σ) − σσ′ = σ′(1 − 2σ) = σ(1 − σ)(1 − 2σ): zero at x = 0, where
// the sigmoid turns from convex to concave.
table(
  "σ″", graph: derivative(2, at: points) { $0.sigmoid() },
  formula: points.map { x in
    let s = 1 / (1 + exp(-x))
    return s * (1 - s) * (1 - 2 * s)
  }, at: points)

cell("A third derivative: tanh‴ = −2(1 − tanh²)(1 − 3 tanh²)")
// Once more: t‴ = −2(t′·t′ + t·t″) = −2(t′² − 2t²t′) = −2t′(t′ − 2t²) = −2(1 − t²)(1 − 3t²).
// Three rounds of `gradients`, each differentiating the nodes the last one built.
table(
  "tanh‴", graph: derivative(3, at: points) { $0.tanh() },
  formula: points.map { x in
    let t = tanh(x)
    return -2 * (1 - t * t) * (1 - 3 * t * t)
  }, at: points)

cell("The gradient graph, drawn")
// y = tanh(w·x) with w = 1.5 and x = 0.5. The gradient ∂y/∂w = x·(1 − y²) is built as nodes
// (violet: derivative order 1), and its own gradient ∂²y/∂w² = −2x²·y·(1 − y²) as more nodes
// (green: order 2). `graph.gradientGraphDot(of:gradients:)` draws them beside the forward
// pass: a solid edge joins nodes of one order, a dashed edge is a gradient node reading a value
// of a lower order — the backward pass reuses the forward values, here w·x and x.
let small = Graph<Double>()
let sx = small.input(Tensor(0.5), name: "x")
let sw = small.parameter(Tensor(1.5), name: "w")
let sy = (sw * sx).tanh().named("y")
let dyw = small.gradients(of: sy, withRespectTo: [sw])[0]
let d2yw = small.gradients(of: dyw, withRespectTo: [sw])[0].named("∂²y/∂w²")
let t = sy.value.scalar
print(
  "∂y/∂w   by graph", fmt(dyw.value.scalar, 12), "  x·(1 − y²)       =", fmt(0.5 * (1 - t * t), 12))
print(
  "∂²y/∂w² by graph", fmt(d2yw.value.scalar, 12), "  −2x²·y·(1 − y²) =",
  fmt(-2 * 0.25 * t * (1 - t * t), 12))
let orders = (0..<small.nodeCount).map { small.nodes[$0].derivativeOrder }
print(
  "nodes: \(orders.filter { $0 == 0 }.count) forward, \(orders.filter { $0 == 1 }.count) of "
    + "order 1, \(orders.filter { $0 == 2 }.count) of order 2")
let gradientDot = small.gradientGraphDot(of: sy, gradients: [dyw, d2yw])
try notebook.write(gradientDot, to: "figures/gradient-graph.dot")
if Graphviz.isInstalled {
  try Graphviz.render(gradientDot, format: .svg, to: notebook.url("figures/gradient-graph.svg"))
} else {
  notebook.note("Graphviz dot not found: keeping the committed figures/gradient-graph.svg")
}
notebook.showFigure(
  at: "figures/gradient-graph.svg",
  caption: "y = tanh(w·x): the forward pass, its gradient (order 1) and the gradient of that")

// Seed 002's data and its regression ŷ = w·x + b with MSE = (1/N) Σ (yᵢ − ŷᵢ)².
let xs = [1.0, 2.0, 3.0, 4.0, 5.0]
let ys = [2.2, 2.8, 4.5, 3.7, 5.5]
func regression(w: Double, b: Double) -> (Graph<Double>, Node<Double>, Node<Double>, Node<Double>) {
  let graph = Graph<Double>()
  let x = graph.input(Tensor(xs), name: "x")
  let y = graph.input(Tensor(ys), name: "y")
  let weight = graph.parameter(Tensor(w), name: "w")
  let bias = graph.parameter(Tensor(b), name: "b")
  return (graph, weight, bias, (y - (weight * x + bias)).squared().mean().named("MSE"))
}

cell("The Hessian of the mean squared error is (2/N)·XᵀX")
// With X = [x 1] (a column of ones for the bias) and θ = (w, b), MSE = (1/N)‖y − Xθ‖², so
// ∇MSE = −(2/N)·Xᵀ(y − Xθ) and H = (2/N)·XᵀX = (2/N)·[[Σx², Σx], [Σx, N]]: the same at every θ,
// since the loss is quadratic. `graph.hessian(of:withRespectTo:)` builds it column by column
// from Hessian-vector products.
let n = Double(xs.count)
let (sumX, sumY) = (xs.reduce(0, +), ys.reduce(0, +))
let sumXX = xs.reduce(0) { $0 + $1 * $1 }
let sumXY = zip(xs, ys).reduce(0) { $0 + $1.0 * $1.1 }
let closedForm = [2 / n * sumXX, 2 / n * sumX, 2 / n * sumX, 2]
print("(2/N)·XᵀX =", closedForm.map { fmt($0, 6) })
for (w, b) in [(0.4, 0.1), (-3.0, 7.5)] {
  let (graph, weight, bias, mse) = regression(w: w, b: b)
  let h = graph.hessian(of: mse, withRespectTo: [weight, bias]).scalars
  let worst = zip(h, closedForm).map { abs($0 - $1) }.max()!
  print(
    "at w = \(fmt(w)), b = \(fmt(b)): H =", h.map { fmt($0, 6) }, " largest difference",
    worst < 1e-12 ? "< 1e-12" : fmt(worst))
}

cell("One Newton step lands on the least-squares line")
// Newton's method θ₁ = θ₀ − H⁻¹·∇MSE(θ₀) minimises a quadratic in one step, from any start:
// θ₁ is the least-squares line w* = (NΣxy − ΣxΣy)/(NΣx² − (Σx)²), b* = (Σy − w*Σx)/N. Gradient
// and Hessian come from the graph; the 2 × 2 inverse is written out.
let slope = (n * sumXY - sumX * sumY) / (n * sumXX - sumX * sumX)
let intercept = (sumY - slope * sumX) / n
print("least squares: w* =", fmt(slope, 12), "  b* =", fmt(intercept, 12))
for (w, b) in [(0.4, 0.1), (-3.0, 7.5), (25.0, -40.0)] {
  let (graph, weight, bias, mse) = regression(w: w, b: b)
  let gradient = graph.gradients(of: mse, withRespectTo: [weight, bias]).map(\.value.scalar)
  let h = graph.hessian(of: mse, withRespectTo: [weight, bias])
  let (p, q, r) = (h[0, 0], h[0, 1], h[1, 1])
  let determinant = p * r - q * q  // H⁻¹ = [[r, −q], [−q, p]] / (pr − q²)
  let newW = w - (r * gradient[0] - q * gradient[1]) / determinant
  let newB = b - (-q * gradient[0] + p * gradient[1]) / determinant
  let on =
    abs(newW - slope) <= 1e-12 * max(1, abs(slope))
    && abs(newB - intercept) <= 1e-12 * max(1, abs(intercept))
  print(
    "from (\(pad(fmt(w), 3)), \(pad(fmt(b), 3))): MSE", pad(fmt(mse.value.scalar, 6), 8),
    "→ (\(fmt(newW, 12)), \(fmt(newB, 12)))", on ? "= (w*, b*)" : "MISSES the line")
}

cell("The Hessian of the seed 000 loss over its 5 parameters")
// The network of notebook 1: L(w1, b1, w2, b2), five parameter elements (w1 has two), so H is
// 5 × 5. Against it: central differences of the first-order gradient that `backward` computes
// with the tensor rules (independent of the node-built ones), column j being
// (8(∇(θ + εeⱼ) − ∇(θ − εeⱼ)) − (∇(θ + 2εeⱼ) − ∇(θ − 2εeⱼ)))/12ε with ε = 10⁻⁴ (error O(ε⁴)).
let net = Examples.seed000()
let parameters = [net.w1, net.b1, net.w2, net.b2]
let hessian = net.graph.hessian(of: net.loss, withRespectTo: parameters)
@MainActor func gradientVector() -> [Double] {
  net.graph.forward()
  net.graph.backward(from: net.loss)
  return parameters.flatMap { $0.gradient.scalars }
}
var differences = [Double](repeating: 0, count: 25)
var column = 0
let epsilon = 1e-4
for parameter in parameters {
  let original = parameter.value
  for element in 0..<original.count {
    func at(_ step: Double) -> [Double] {
      var moved = original.scalars
      moved[element] += step
      parameter.value = Tensor(shape: original.shape, scalars: moved)
      return gradientVector()
    }
    let (plus, minus, plus2, minus2) = (
      at(epsilon), at(-epsilon), at(2 * epsilon), at(-2 * epsilon)
    )
    for row in 0..<5 {
      differences[row * 5 + column] =
        (8 * (plus[row] - minus[row]) - (plus2[row] - minus2[row])) / (12 * epsilon)
    }
    parameter.value = original
    column += 1
  }
}
net.graph.forward()
let names = ["w1[0]", "w1[1]", "b1", "w2", "b2"]
print("H (graph)      " + names.map { pad($0, 10) }.joined())
for row in 0..<5 {
  print(pad(names[row], 6), "        " + (0..<5).map { pad(fmt(hessian[row, $0], 4), 10) }.joined())
}
let largest = zip(hessian.scalars, differences).map { abs($0 - $1) }.max()!
let asymmetry = (0..<5).flatMap { i in (0..<5).map { j in abs(hessian[i, j] - hessian[j, i]) } }
  .max()!
print("largest |H − differences|:", largest < 1e-8 ? "< 1e-8" : fmt(largest))
print("largest |H − Hᵀ|:", asymmetry < 1e-15 ? "< 1e-15" : fmt(asymmetry))

cell("A Hessian-vector product, without the matrix")
// H·v = ∇(vᵀ∇L): differentiate the scalar ⟨∇L, v⟩ once more (Pearlmutter 1994). One extra
// backward pass over the gradient graph, never an n × n matrix, so it scales to any number of
// parameters (Newton–CG, curvature along a direction). The vector is an input node: feed a new
// v and call `forward()` for the next product. Checked against the matrix of central
// differences of the previous cell times v.
let vector = parameters.map { net.graph.input(Tensor.zeros($0.shape)) }
let products = net.graph.hessianVectorProduct(
  of: net.loss, withRespectTo: parameters, vector: vector)
for v in [[1.0, 0, 0, 0, 0], [0.5, -1, 0.25, 2, -0.75]] {
  var offset = 0
  for part in vector {
    part.value = Tensor(shape: part.shape, scalars: Array(v[offset..<(offset + part.value.count)]))
    offset += part.value.count
  }
  net.graph.forward()
  let hv = products.flatMap { $0.value.scalars }
  let numeric = (0..<5).map { i in (0..<5).reduce(0) { $0 + differences[i * 5 + $1] * v[$1] } }
  let worst = zip(hv, numeric).map { abs($0 - $1) }.max()!
  print(
    "v =", v.map { fmt($0) }, "→ H·v =", hv.map { fmt($0, 5) },
    worst < 1e-8 ? "(= differences·v to 1e-8)" : "(DIFFERS by \(fmt(worst)))")
}

cell("Forward mode against reverse mode")
// `graph.jvp(of:withRespectTo:tangents:)` pushes a tangent v forward through the graph and gives
// J·v, one column of the Jacobian per pass; `backward(from:seed: u)` pulls u back and gives
// uᵀ·J, one row per pass. They are the same linear map, so ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ for every u, v
// (HIPS autograd's check), here for a 2 → 3 tanh layer, with its Jacobian built both ways.
let layer = Graph<Double>()
let input = layer.input(Tensor([[0.5, -1.0]]), name: "x")
let weights = layer.parameter(Tensor([[0.3, -0.2, 0.8], [0.1, 0.6, -0.4]]), name: "W")
let hidden = input.matmul(weights).tanh().named("a")
let v = Tensor([[0.7, -0.3]])
let u = Tensor([[1.0, -2.0, 0.5]])
let jv = layer.jvp(of: hidden, withRespectTo: input, tangent: v)
layer.backward(from: hidden, seed: u)
let left = zip(u.scalars, jv.scalars).reduce(0) { $0 + $1.0 * $1.1 }
let right = zip(input.gradient.scalars, v.scalars).reduce(0) { $0 + $1.0 * $1.1 }
print("J·v =", jv.scalars.map { fmt($0, 6) }, "  Jᵀ·u =", input.gradient.scalars.map { fmt($0, 6) })
print("⟨u, J·v⟩ =", fmt(left, 12), "  ⟨Jᵀ·u, v⟩ =", fmt(right, 12))
let byColumns = layer.jacobian(of: hidden, withRespectTo: [input], mode: .forward)
let byRows = layer.jacobian(of: hidden, withRespectTo: [input], mode: .reverse)
let gap = zip(byColumns.scalars, byRows.scalars).map { abs($0 - $1) }.max()!
print(
  "Jacobian [3, 2] by forward mode (2 passes) and by reverse mode (3 passes) agree:",
  gap < 1e-15 ? "yes" : "NO (\(fmt(gap)))")
notebook.note("ran in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
