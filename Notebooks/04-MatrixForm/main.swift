// # 4. The matrix form of the backward pass
//
// Course document: seed 004, *Implementación (lógica backwards)*. Written for a whole batch at
// once, with the examples as columns (features × batch), each layer j turns the gradient that
// reaches its output, dY, into four matrices:
//
// | quantity | formula |
// | --- | --- |
// | dZ(j) | dY(j) ⊙ f′(·) |
// | dX(j−1) | W(j−1)ᵀ @ dZ(j) |
// | dW(j−1) | dZ(j) @ Y(j−1)ᵀ |
// | db(j−1) | sum(dZ(j), axis = examples) |
//
// and hands dX back as the next layer's dY. We compute them by hand with tensors and compare
// with the library's graph: they agree to 1e-14 (relative), the last two or three digits of
// a Double, which is all that summing in a different order can change.
//
// Run it with `swift run -c release MatrixForm`.
import ChainRule
import NotebookSupport

cell("A network in the document's layout")
// 4 inputs → 5 tanh units → 3 sigmoid outputs, a batch of 8 examples as the columns of
// X [4, 8]; the cost J = ½ Σ (y − yk)² over outputs and examples.
var generator = Xoshiro256StarStar(seed: 4)
let batch = 8
let input = uniformTensor([4, batch], using: &generator)
let target = uniformTensor([3, batch], in: 0...1, using: &generator)
let graph = Graph<Double>()
let X = graph.input(input, name: "X")
let W0 = graph.parameter(uniformTensor([5, 4], using: &generator), name: "W0")
let b0 = graph.parameter(uniformTensor([5, 1], using: &generator), name: "b0")
let W1 = graph.parameter(uniformTensor([3, 5], using: &generator), name: "W1")
let b1 = graph.parameter(uniformTensor([3, 1], using: &generator), name: "b1")
let Y1 = (W0.matmul(X) + b0).tanh().named("Y1")
let Y2 = (W1.matmul(Y1) + b1).sigmoid().named("Y2")
let J = ((graph.input(target, name: "y") - Y2).squared().sum() * 0.5).named("J")
graph.backward(from: J)
print("X", X.shape, "→ Y1", Y1.shape, "→ Y2", Y2.shape, "   J =", fmt(J.value.scalar, 8))

cell("The backward pass by hand")
// The document starts from δy = y − yk, the negative of ∂J/∂yk (it then *adds* δ·r to the
// weights, which is the same descent). We follow it literally, so every hand result is the
// negative of the library's gradient, and compare dW with −∂J/∂W.
let ones = Tensor<Double>.ones([1])
// Last layer, f = σ, f′ = Y2 ⊙ (1 − Y2).
let dY2 = target - Y2.value
let dZ2 = dY2 * Y2.value * (ones - Y2.value)
let dX1 = W1.value.matmul(dZ2, transposeSelf: true, transposeOther: false)
let dW1 = dZ2.matmul(Y1.value, transposeSelf: false, transposeOther: true)
let db1 = dZ2.sum(alongAxis: 1, keepingDimension: true)
// Hidden layer, f = tanh, f′ = 1 − Y1²; its dY is the dX handed back.
let dZ1 = dX1 * (ones - Y1.value * Y1.value)
let dX0 = W0.value.matmul(dZ1, transposeSelf: true, transposeOther: false)
let dW0 = dZ1.matmul(input, transposeSelf: false, transposeOther: true)
let db0 = dZ1.sum(alongAxis: 1, keepingDimension: true)
print(agreement("dW1 = dZ2 @ Y1ᵀ", hand: dW1, graph: W1.gradient * -1, tolerance: 1e-14))
print(agreement("db1 = Σ dZ2", hand: db1, graph: b1.gradient * -1, tolerance: 1e-14))
print(agreement("dX1 = W1ᵀ @ dZ2", hand: dX1, graph: Y1.gradient * -1, tolerance: 1e-14))
print(agreement("dW0 = dZ1 @ Xᵀ", hand: dW0, graph: W0.gradient * -1, tolerance: 1e-14))
print(agreement("db0 = Σ dZ1", hand: db0, graph: b0.gradient * -1, tolerance: 1e-14))
print(agreement("dX0 = W0ᵀ @ dZ1", hand: dX0, graph: X.gradient * -1, tolerance: 1e-14))

cell("What the matrices hold")
// dW1 [3, 5] has one entry per weight, summed over the 8 examples; db1 [3, 1] is a column.
print("dW1 (by hand) =")
print(dW1.map { ($0 * 1e6).rounded() / 1e6 })
print("db1 (by hand) =")
print(db1.map { ($0 * 1e6).rounded() / 1e6 })

cell("The same network with examples as rows")
// The library's layers keep a batch as rows (batch × features): Z = X·W + b. The formulas
// hold transposed: dZ = dY ⊙ f′, dX = dZ @ Wᵀ, dW = Xᵀ @ dZ, db = Σ dZ over rows. Built with
// the transposed tensors, the row layout's gradients are the transposes of the column ones.
let rows = Graph<Double>()
let Xr = rows.input(input.transposed(), name: "X")
let W0r = rows.parameter(W0.value.transposed(), name: "W0")
let b0r = rows.parameter(b0.value.reshaped([5]), name: "b0")
let W1r = rows.parameter(W1.value.transposed(), name: "W1")
let b1r = rows.parameter(b1.value.reshaped([3]), name: "b1")
let Y1r = (Xr.matmul(W0r) + b0r).tanh()
let Y2r = (Y1r.matmul(W1r) + b1r).sigmoid()
let Jr = (rows.input(target.transposed(), name: "y") - Y2r).squared().sum() * 0.5
rows.backward(from: Jr)
print("J (rows) =", fmt(Jr.value.scalar, 8))
print(agreement("dW1 (rows)ᵀ", hand: dW1, graph: W1r.gradient.transposed() * -1, tolerance: 1e-14))
print(agreement("db1 (rows)", hand: db1.reshaped([3]), graph: b1r.gradient * -1, tolerance: 1e-14))
print(agreement("dW0 (rows)ᵀ", hand: dW0, graph: W0r.gradient.transposed() * -1, tolerance: 1e-14))
print(agreement("dX0 (rows)ᵀ", hand: dX0, graph: Xr.gradient.transposed() * -1, tolerance: 1e-14))

cell("Descending along δ")
// The update of the document, W ← W + r · dW with its sign convention (the same as
// W ← W − r · ∂J/∂W), repeated by hand for 200 steps with r = 0.5: J falls.
var (w0, c0, w1, c1) = (W0.value, b0.value, W1.value, b1.value)
for step in 0...200 {
  let y1 = (w0.matmul(input) + c0).map { Double.tanh($0) }
  let y2 = (w1.matmul(y1) + c1).map { 1 / (1 + Double.exp(-$0)) }
  if step % 50 == 0 {
    let cost = ((target - y2) * (target - y2)).sum().scalar * 0.5
    print("step", pad(String(step), 3), "  J", fixed(cost, 6))
  }
  let dZ2 = (target - y2) * y2 * (ones - y2)
  let dZ1 = w1.matmul(dZ2, transposeSelf: true, transposeOther: false) * (ones - y1 * y1)
  w1 = w1 + dZ2.matmul(y1, transposeSelf: false, transposeOther: true) * 0.5
  c1 = c1 + dZ2.sum(alongAxis: 1, keepingDimension: true) * 0.5
  w0 = w0 + dZ1.matmul(input, transposeSelf: false, transposeOther: true) * 0.5
  c0 = c0 + dZ1.sum(alongAxis: 1, keepingDimension: true) * 0.5
}
