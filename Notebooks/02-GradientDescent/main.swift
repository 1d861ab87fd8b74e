// # 2. Gradient descent and linear regression; the perceptron
//
// Course document: seed 002, *Regresión lineal y redes neuronales*. Gradient descent moves a
// parameter against the slope of the loss, `w ← w − α · gradient`, with α the learning rate.
// We fit a line that way, compare it with the least-squares answer, then meet the perceptron
// of the "epic Saturday night" and the four activation functions of the course.
//
// Run it with `swift run -c release GradientDescent`.
import ChainRule
import Foundation
import NotebookSupport

let notebook = Notebook()

cell("Data on a noisy line")
// Forty points around y = 1.5·x + 0.8 with Gaussian noise (σ = 0.3), x in [0, 2], from a
// seeded generator so every run draws the same points.
var generator = Xoshiro256StarStar(seed: 2)
let count = 40
let xs = (0..<count).map { 2 * Double($0) / Double(count - 1) }
let ys = xs.map { 1.5 * $0 + 0.8 + generator.nextNormal(standardDeviation: 0.3) }
for i in stride(from: 0, to: count, by: 8) {
  print("x =", fixed(xs[i], 3), "  y =", fixed(ys[i], 3))
}

cell("The gradient of the mean squared error")
// The prediction is ŷ = w·x + b and the loss MSE = (1/N) Σ (yᵢ − ŷᵢ)². Its gradient, by hand:
// dMSE/dw = −(2/N) Σ xᵢ (yᵢ − ŷᵢ) and dMSE/db = −(2/N) Σ (yᵢ − ŷᵢ). The graph gets the same
// from `backward`.
let graph = Graph<Double>()
let x = graph.input(Tensor(xs), name: "x")
let y = graph.input(Tensor(ys), name: "y")
let w = graph.parameter(Tensor(0.0), name: "w")
let b = graph.parameter(Tensor(0.0), name: "b")
let prediction = (w * x + b).named("ŷ")
let mse = (y - prediction).squared().mean().named("MSE")
graph.backward(from: mse)
let residuals = (0..<count).map { ys[$0] - prediction.value[$0] }
let n = Double(count)
let handW = -2 / n * zip(xs, residuals).map(*).reduce(0, +)
let handB = -2 / n * residuals.reduce(0, +)
print("at w = 0, b = 0:  MSE =", fmt(mse.value.scalar))
print("dMSE/dw  by hand", fmt(handW, 10), "  by graph", fmt(w.gradient.scalar, 10))
print("dMSE/db  by hand", fmt(handB, 10), "  by graph", fmt(b.gradient.scalar, 10))

cell("Gradient descent")
// Each step: zero the gradients, run the graph forward with the new parameters, backward,
// and let `SGD` apply w ← w − α · dMSE/dw (and the same for b), with α = 0.1.
let optimizer = SGD(parameters: graph.parameters, learningRate: 0.1)
var losses: [Double] = []
for step in 0...300 {
  optimizer.zeroGradients()
  graph.forward()
  losses.append(mse.value.scalar)
  if [0, 1, 2, 5, 10, 20, 50, 100, 200, 300].contains(step) {
    print(
      "step", pad(String(step), 3), "  MSE", fixed(mse.value.scalar, 6),
      "  w", fixed(w.value.scalar, 4), "  b", fixed(b.value.scalar, 4))
  }
  if step == 300 { break }
  graph.backward(from: mse)
  optimizer.step()
}

cell("The closed form")
// Least squares has an exact answer: w* = Σ (xᵢ − x̄)(yᵢ − ȳ) / Σ (xᵢ − x̄)² and
// b* = ȳ − w*·x̄. Gradient descent should have walked to it.
let meanX = xs.reduce(0, +) / n
let meanY = ys.reduce(0, +) / n
let covariance: Double = zip(xs, ys).map { ($0 - meanX) * ($1 - meanY) }.reduce(0, +)
let variance: Double = xs.map { ($0 - meanX) * ($0 - meanX) }.reduce(0, +)
let bestW = covariance / variance
let bestB = meanY - bestW * meanX
print("closed form:       w* =", fixed(bestW, 6), "  b* =", fixed(bestB, 6))
print("gradient descent:  w  =", fixed(w.value.scalar, 6), "  b  =", fixed(b.value.scalar, 6))
print("differences:", fmt(abs(w.value.scalar - bestW), 2), fmt(abs(b.value.scalar - bestB), 2))
// How fast did it get there? The MSE itself levels off at the noise floor MSE* (the closed
// form's MSE), so on a linear axis its curve is flat after step 10 of 300. The excess
// MSE − MSE* on a logarithmic axis shows the whole walk: gradient descent on a quadratic
// shrinks it by a constant factor per step, a straight line, until it reaches rounding.
let bestMSE =
  zip(xs, ys).map { (x, y) in (y - bestW * x - bestB) * (y - bestW * x - bestB) }
  .reduce(0, +) / n
print(
  "MSE* =", fixed(bestMSE, 6), "  excess after 10, 100, 300 steps:",
  [10, 100, 300].map { fmt(losses[$0] - bestMSE, 2) }.joined(separator: ", "))
var lossPlot = LinePlot(
  title: "Gradient descent: the MSE above its minimum", xLabel: "step",
  yLabel: "MSE − MSE* (log scale)")
lossPlot.yScale = .logarithmic
lossPlot.add("α = 0.1", x: losses.indices.map(Double.init), y: losses.map { $0 - bestMSE })
try notebook.figure(
  svg: lossPlot.svg, at: "figures/loss.svg", caption: "The excess loss falling, step by step")
var fitPlot = LinePlot(title: "The fitted line", xLabel: "x", yLabel: "y")
fitPlot.legendPlacement = .topLeft
fitPlot.add("data", x: xs, y: ys, style: .points)
fitPlot.add(
  "gradient descent", x: [0, 2], y: [b.value.scalar, 2 * w.value.scalar + b.value.scalar])
try notebook.figure(svg: fitPlot.svg, at: "figures/fit.svg", caption: "Data and fitted line")

cell("The perceptron: an epic Saturday night")
// Two yes/no questions: X1, video games? X2, pizza? The neuron adds them with weights and a
// bias, b = −threshold, and fires (Y = 1) when w·x + b > 0. With w = (5, 4) and b = −6 only
// both together make an epic night: the perceptron computes a logical AND.
let night = Graph<Double>()
let questions = night.input(Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), name: "X")
let weights = night.parameter(Tensor([[5], [4]]), name: "w")
let bias = night.parameter(Tensor([-6]), name: "b")
let sums = questions.matmul(weights) + bias
let epic = sums.step()
print("games  pizza   w·x + b   epic night")
for row in 0..<4 {
  print(
    pad(fixed(questions.value[row, 0], 0), 5), pad(fixed(questions.value[row, 1], 0), 6),
    pad(fixed(sums.value[row, 0], 0), 9), pad(fixed(epic.value[row, 0], 0), 12))
}
// The step's derivative is 0 wherever it is defined, so no gradient reaches the weights:
// the reason back-propagation needs smooth activations.
night.backward(from: epic.sum())
print("gradient through the step:  dw =", weights.gradient.scalars, "  db =", bias.gradient.scalars)

cell("Activation functions")
// Step, sigmoid, tanh and ReLU, each computed by the library on x ∈ [−4, 4]. Backward from
// their sum gives each one's derivative element by element (the library's conventions at 0:
// the step's derivative is 0, ReLU's is 0).
let grid = (0...80).map { -4 + Double($0) / 10 }
let activations = Graph<Double>()
let z = activations.input(Tensor(grid), name: "z")
let curves: [(String, Node<Double>)] = [
  ("step", z.step()), ("sigmoid", z.sigmoid()), ("tanh", z.tanh()), ("ReLU", z.relu()),
]
var activationPlot = LinePlot(title: "Activation functions", xLabel: "z", yLabel: "f(z)")
activationPlot.legendPlacement = .topLeft
for (name, node) in curves {
  // Joining samples with straight lines would draw the step's jump between z = 0 and z = 0.1
  // as a ramp; where a curve jumps, a vertical segment at the jump is drawn instead.
  var x: [Double] = []
  var y: [Double] = []
  for (index, value) in node.value.scalars.enumerated() {
    if index > 0, abs(value - y.last!) > 0.5 {
      x.append(grid[index - 1])
      y.append(value)
    }
    x.append(grid[index])
    y.append(value)
  }
  activationPlot.add(name, x: x, y: y)
}
try notebook.figure(
  svg: activationPlot.svg, at: "figures/activations.svg", caption: "Step, sigmoid, tanh, ReLU")
print("z           ", [-2.0, -0.5, 0, 0.5, 2].map { pad(fixed($0, 1), 7) }.joined())
for (name, node) in curves {
  activations.backward(from: node.sum())
  let shown = [20, 35, 40, 45, 60].map { pad(fixed(z.gradient[$0], 4), 7) }.joined()
  print("d\(name)/dz".padding(toLength: 12, withPad: " ", startingAt: 0), shown)
}
