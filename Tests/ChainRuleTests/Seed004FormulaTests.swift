import Foundation
import Testing

@testable import ChainRule

/// Seed 004: the matrix form of the backward pass.
///
/// Layout used here: **columns are examples** (features × batch), as in the document:
/// Z(j) = W(j−1) · Y(j−1) + b(j−1), Y(j) = f(Z(j)). The document's cost gradient starts as
/// δy = y − yₖ and it descends along +δy, so the graph is seeded with δy at the output:
/// every "d" below is the document's quantity, not the negated gradient of a cost.
/// `seed004_rowLayout_gives_the_transposed_gradients` checks the other layout (batch × features).
@Suite("Seed 004 formulas")
struct Seed004FormulaTests {
  struct Network {
    let graph = Graph<Double>()
    let x: Node<Double>, w0: Node<Double>, b0: Node<Double>, z1: Node<Double>, y1: Node<Double>
    let w1: Node<Double>, b1: Node<Double>, z2: Node<Double>, y2: Node<Double>
    let deltaY: PlainMatrix

    init() {
      var generator = SplitMix64(seed: 4)
      let batch = 5
      x = graph.input(randomTensor([3, batch], using: &generator), name: "X")
      w0 = graph.parameter(randomTensor([4, 3], using: &generator), name: "W0")
      b0 = graph.parameter(randomTensor([4, 1], using: &generator), name: "b0")
      w1 = graph.parameter(randomTensor([2, 4], using: &generator), name: "W1")
      b1 = graph.parameter(randomTensor([2, 1], using: &generator), name: "b1")
      z1 = (w0.matmul(x) + b0).named("Z1")
      y1 = z1.tanh().named("Y1")
      z2 = (w1.matmul(y1) + b1).named("Z2")
      y2 = z2.sigmoid().named("Y2")
      let target = PlainMatrix(randomTensor([2, batch], using: &generator))
      deltaY = target.zip(PlainMatrix(y2.value)) { $0 - $1 }  // δy = y − yₖ
      graph.backward(from: y2, seed: deltaY.tensor)
    }
  }

  // dZ(j) = dY(j) ⊙ f'(·): sigmoid' = Y2(1 − Y2) at the output, tanh' = 1 − Y1² below it,
  // where dY(1) is the dX handed back by layer 2.
  @Test func seed004_dZ_equals_dY_times_fprime() {
    let n = Network()
    let y2 = PlainMatrix(n.y2.value)
    expectClose(n.z2.gradient, n.deltaY.zip(y2) { $0 * $1 * (1 - $1) }.tensor, "dZ2")
    let y1 = PlainMatrix(n.y1.value)
    expectClose(
      n.z1.gradient, PlainMatrix(n.y1.gradient).zip(y1) { $0 * (1 - $1 * $1) }.tensor, "dZ1")
  }

  // dX(j−1) = W(j−1)ᵀ @ dZ(j): what layer 2 hands back as layer 1's δy, and layer 1's dX.
  @Test func seed004_dX_equals_Wt_at_dZ() {
    let n = Network()
    let dZ2 = PlainMatrix(n.z2.gradient)
    expectClose(n.y1.gradient, (PlainMatrix(n.w1.value).transposed • dZ2).tensor, "dY1")
    let dZ1 = PlainMatrix(n.z1.gradient)
    expectClose(n.x.gradient, (PlainMatrix(n.w0.value).transposed • dZ1).tensor, "dX")
  }

  // dW(j−1) = dZ(j) @ Y(j−1)ᵀ
  @Test func seed004_dW_equals_dZ_at_Yprev_transposed() {
    let n = Network()
    let dW1 = PlainMatrix(n.z2.gradient) • PlainMatrix(n.y1.value).transposed
    expectClose(n.w1.gradient, dW1.tensor, "dW1")
    let dW0 = PlainMatrix(n.z1.gradient) • PlainMatrix(n.x.value).transposed
    expectClose(n.w0.gradient, dW0.tensor, "dW0")
  }

  // db(j−1) = sum(dZ(j), axis = examples): summed along the batch columns.
  @Test func seed004_db_equals_sum_of_dZ_over_examples() {
    let n = Network()
    expectClose(n.b1.gradient, PlainMatrix(n.z2.gradient).rowSums.tensor, "db1")
    expectClose(n.b0.gradient, PlainMatrix(n.z1.gradient).rowSums.tensor, "db0")
  }

  // Batch × features: Z = X·Wᵀ + bᵀ gives the same numbers with every matrix transposed.
  @Test func seed004_rowLayout_gives_the_transposed_gradients() {
    let columns = Network()
    let graph = Graph<Double>()
    let x = graph.input(columns.x.value.transposed(), name: "X")
    let w0 = graph.parameter(columns.w0.value.transposed(), name: "W0")
    let b0 = graph.parameter(columns.b0.value.reshaped([4]), name: "b0")
    let w1 = graph.parameter(columns.w1.value.transposed(), name: "W1")
    let b1 = graph.parameter(columns.b1.value.reshaped([2]), name: "b1")
    let z2 = (x.matmul(w0) + b0).tanh().matmul(w1) + b1
    let output = z2.sigmoid()
    graph.backward(from: output, seed: columns.deltaY.tensor.transposed())
    expectClose(output.value, columns.y2.value.transposed(), "Y2ᵀ")
    expectClose(w1.gradient, columns.w1.gradient.transposed(), "dW1ᵀ")
    expectClose(w0.gradient, columns.w0.gradient.transposed(), "dW0ᵀ")
    expectClose(b1.gradient, columns.b1.gradient.reshaped([2]), "db1")
    expectClose(b0.gradient, columns.b0.gradient.reshaped([4]), "db0")
    expectClose(x.gradient, columns.x.gradient.transposed(), "dXᵀ")
  }
}
