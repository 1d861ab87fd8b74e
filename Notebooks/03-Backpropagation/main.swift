// # 3. Back-propagation by hand and by graph
//
// Course document: seed 001, *Basic neural networks: feed forward, back propagation*. Sigmoid
// units, z(L) = w(L)·a(L−1) + b(L), a(L) = σ(z(L)), and the squared error C0 = (a(L) − y)²
// (no ½). The document derives the gradients with the chain rule, one factor per arrow of the
// graph; here every one of them is computed by hand from the forward values and set beside
// what the library's backward pass finds.
//
// Run it with `swift run -c release Backpropagation`.
import ChainRule
import NotebookSupport

/// σ′(z) written with the output, as the course does: σ′ = out · (1 − out).
func sigmoidPrime(_ out: Double) -> Double { out * (1 - out) }

cell("The last layer")
// A chain of one unit per layer: a(L−2) → a(L−1) → a(L). For the last layer the chain rule
// gives three products of three factors each:
// dC0/dw(L) = a(L−1) · σ′(z(L)) · 2(a(L) − y), dC0/db(L) = σ′(z(L)) · 2(a(L) − y) and
// dC0/da(L−1) = w(L) · σ′(z(L)) · 2(a(L) − y).
let graph = Graph<Double>()
let a0 = graph.input(Tensor(0.6), name: "a(L-2)")
let w1 = graph.parameter(Tensor(0.9), name: "w(L-1)")
let b1 = graph.parameter(Tensor(-0.1), name: "b(L-1)")
let a1 = (w1 * a0 + b1).sigmoid().named("a(L-1)")
let w2 = graph.parameter(Tensor(-1.2), name: "w(L)")
let b2 = graph.parameter(Tensor(0.3), name: "b(L)")
let a2 = (w2 * a1 + b2).sigmoid().named("a(L)")
let y = graph.input(Tensor(1.0), name: "y")
let cost = (a2 - y).squared().named("C0")
graph.backward(from: cost)

let (x0, x1, x2, target) = (a0.value.scalar, a1.value.scalar, a2.value.scalar, y.value.scalar)
print(
  "a(L−2) =", fmt(x0), "  a(L−1) =", fmt(x1), "  a(L) =", fmt(x2), "  C0 =", fmt(cost.value.scalar))
let last = sigmoidPrime(x2) * 2 * (x2 - target)
let dA1 = w2.value.scalar * last
print(agreement("dC0/dw(L)", hand: Tensor(x1 * last), graph: w2.gradient))
print(agreement("dC0/db(L)", hand: Tensor(last), graph: b2.gradient))
print(agreement("dC0/da(L−1)", hand: Tensor(dA1), graph: a1.gradient))
print(
  "dC0/dw(L) =", fmt(x1, 6), "·", fmt(sigmoidPrime(x2), 6), "·", fmt(2 * (x2 - target), 6), "=",
  fmt(x1 * last, 10))

cell("One layer earlier")
// The same pattern one layer back, with dC0/da(L−1) in the place of 2(a(L) − y):
// dC0/dw(L−1) = a(L−2) · σ′(z(L−1)) · dC0/da(L−1), and likewise for b(L−1) and a(L−2).
// Back-propagation is this reuse: each layer needs only the gradient handed back by the next.
print(agreement("dC0/dw(L−1)", hand: Tensor(x0 * sigmoidPrime(x1) * dA1), graph: w1.gradient))
print(agreement("dC0/db(L−1)", hand: Tensor(sigmoidPrime(x1) * dA1), graph: b1.gradient))
print(
  agreement(
    "dC0/da(L−2)", hand: Tensor(w1.value.scalar * sigmoidPrime(x1) * dA1), graph: a0.gradient))

cell("Several outputs")
// With outputs j = 0, 1 the cost is C0 = Σj (aj − yj)², and an activation of the previous
// layer reaches the cost through every output:
// dC0/dak(L−1) = Σj wjk · σ′(zj) · 2(aj − yj).
let wide = Graph<Double>()
let previous = wide.input(Tensor([[0.2], [-0.6], [0.9]]), name: "a(L-1)")
let weights = wide.parameter(Tensor([[0.5, -0.3, 0.8], [-1.1, 0.4, 0.25]]), name: "W(L)")
let outputs = (weights.matmul(previous) + wide.parameter(Tensor([[0.1], [-0.2]]), name: "b"))
  .sigmoid()
let targets = Tensor<Double>([[1], [0]])
wide.backward(from: (outputs - wide.input(targets, name: "y")).squared().sum())
let handPrevious = Tensor(
  shape: [3, 1],
  scalars: (0..<3).map { k in
    (0..<2).reduce(0.0) { sum, j in
      let aj = outputs.value[j, 0]
      return sum + weights.value[j, k] * sigmoidPrime(aj) * 2 * (aj - targets[j, 0])
    }
  })
print("dC0/da(L−1) by hand:", handPrevious.scalars.map { fmt($0, 8) }.joined(separator: ", "))
print(agreement("dC0/da(L−1)", hand: handPrevious, graph: previous.gradient))

cell("The average over n examples")
// The cost of a training set is the mean of the examples' costs, C = (1/n) Σk Ck, so every
// gradient is the mean of the per-example gradients: dC/dw = (1/n) Σk dCk/dw. Five examples
// through the last-layer unit: per example dCk/dw = xk · σ′(zk) · 2(ak − yk).
let xs: [Double] = [0.1, 0.5, -0.4, 0.9, 0.3]
let ys: [Double] = [1, 0, 1, 1, 0]
let batch = Graph<Double>()
let w = batch.parameter(Tensor(0.7), name: "w")
let b = batch.parameter(Tensor(-0.2), name: "b")
let a = (w * batch.input(Tensor(xs), name: "x") + b).sigmoid()
batch.backward(from: (a - batch.input(Tensor(ys), name: "y")).squared().mean())
let perExample = (0..<5).map { k in xs[k] * sigmoidPrime(a.value[k]) * 2 * (a.value[k] - ys[k]) }
print("dCk/dw per example:", perExample.map { fmt($0, 6) }.joined(separator: ", "))
let average = perExample.reduce(0, +) / 5
print("their mean", fmt(average, 12), "  the graph's dC/dw", fmt(w.gradient.scalar, 12))
print(agreement("dC/dw", hand: Tensor(average), graph: w.gradient))

cell("The 3 → 4 → 2 network with a batch of 100")
// The document's matrix example: 3 inputs, 4 sigmoid units, 2 sigmoid outputs, and 100
// examples as the columns of X [3, 100]. The targets Y [2, 100] come from a fixed "teacher"
// network, so there is something to learn. The cost is the mean over examples of Σj (aj − yj)².
// By hand, with ⊙ the element-wise product:
// δ2 = 2(A2 − Y) ⊙ A2(1 − A2) / n, dW2 = δ2 · A1ᵀ, db2 = Σ δ2 over examples;
// δ1 = (W2ᵀ δ2) ⊙ A1(1 − A1), dW1 = δ1 · Xᵀ, db1 = Σ δ1 over examples.
var generator = Xoshiro256StarStar(seed: 1)
let n = 100
let inputs = uniformTensor([3, n], using: &generator)
let teacher = uniformTensor([2, 3], in: -3...3, using: &generator)
let labels = teacher.matmul(inputs).map { 1 / (1 + Double.exp(-$0)) }
let net = Graph<Double>()
let X = net.input(inputs, name: "X")
let W1 = net.parameter(uniformTensor([4, 3], using: &generator), name: "W1")
let B1 = net.parameter(uniformTensor([4, 1], using: &generator), name: "b1")
let W2 = net.parameter(uniformTensor([2, 4], using: &generator), name: "W2")
let B2 = net.parameter(uniformTensor([2, 1], using: &generator), name: "b2")
let A1 = (W1.matmul(X) + B1).sigmoid().named("A1")
let A2 = (W2.matmul(A1) + B2).sigmoid().named("A2")
let C = (A2 - net.input(labels, name: "Y")).squared().sum(alongAxis: 0).mean().named("C")
net.backward(from: C)

let ones = Tensor<Double>.ones([1])
let delta2 = (A2.value - labels) * 2 * A2.value * (ones - A2.value) * (1 / Double(n))
let dW2 = delta2.matmul(A1.value, transposeSelf: false, transposeOther: true)
let db2 = delta2.sum(alongAxis: 1, keepingDimension: true)
let delta1 =
  W2.value.matmul(delta2, transposeSelf: true, transposeOther: false) * A1.value
  * (ones - A1.value)
let dW1 = delta1.matmul(inputs, transposeSelf: false, transposeOther: true)
let db1 = delta1.sum(alongAxis: 1, keepingDimension: true)
print("cost C =", fmt(C.value.scalar, 8))
print(agreement("dC/dW2", hand: dW2, graph: W2.gradient))
print(agreement("dC/db2", hand: db2, graph: B2.gradient))
print(agreement("dC/dW1", hand: dW1, graph: W1.gradient))
print(agreement("dC/db1", hand: db1, graph: B1.gradient))
print("dC/dW1 =")
print(W1.gradient.map { ($0 * 1e6).rounded() / 1e6 })

cell("Learning with these gradients")
// The update of the document, w ← w − r · dC/dw with r = 0.1 … which moves slowly with
// sigmoids, so here r = 2 for 500 steps, every step a forward pass, a backward pass and an
// update of all four parameters.
let optimizer = SGD(parameters: net.parameters, learningRate: 2)
for step in 0...500 {
  if step % 100 == 0 { print("step", pad(String(step), 3), "  cost", fixed(C.value.scalar, 6)) }
  if step == 500 { break }
  optimizer.zeroGradients()
  net.backward(from: C)
  optimizer.step()
  net.forward()
}
