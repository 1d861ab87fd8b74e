import Foundation
import Testing

@testable import ChainRule

/// Seed 004: the matrix form of the backward pass.
///
/// Layout used here: **columns are examples** (features × batch), as in the document:
/// Z(j) = W(j−1) · Y(j−1) + b(j−1), Y(j) = f(Z(j)). The document's cost gradient starts as
/// δy = y − yₖ and it descends along +δy, so the graph is seeded with δy at the output:
/// every "d" below is the document's quantity, not the negated gradient of a cost.
///
/// Independence: the expected values are computed by `Hand`, from the parameters and the
/// input alone, with the test's own matrix arithmetic (`PlainMatrix`): its own forward pass,
/// then the document's formulas layer by layer, each from the hand-computed quantity of the
/// layer above. No library gradient (and no library forward value) enters an expectation.
/// `seed004_rowLayout_gives_the_transposed_gradients` checks the library's other layout
/// (batch × features) against the same hand computation, transposed.
@Suite("Seed 004 formulas")
struct Seed004FormulaTests {
  /// The values of one network: X [3, batch], W0 [4, 3], b0 [4, 1], W1 [2, 4], b1 [2, 1],
  /// and the target y [2, batch], all drawn from `seed`.
  struct Values {
    let x: PlainMatrix, w0: PlainMatrix, b0: PlainMatrix, w1: PlainMatrix, b1: PlainMatrix
    let target: PlainMatrix

    init(seed: UInt64, batch: Int) {
      var generator = SplitMix64(seed: seed)
      func draw(_ shape: [Int]) -> PlainMatrix {
        PlainMatrix(randomTensor(shape, using: &generator))
      }
      x = draw([3, batch])
      w0 = draw([4, 3])
      b0 = draw([4, 1])
      w1 = draw([2, 4])
      b1 = draw([2, 1])
      target = draw([2, batch])
    }
  }

  /// The document's computation by hand: forward, then δy and the four formulas per layer.
  struct Hand {
    let y1: PlainMatrix, y2: PlainMatrix, deltaY: PlainMatrix
    let dZ2: PlainMatrix, dY1: PlainMatrix, dW1: PlainMatrix, db1: PlainMatrix
    let dZ1: PlainMatrix, dX: PlainMatrix, dW0: PlainMatrix, db0: PlainMatrix

    init(_ v: Values) {
      // Forward: Z1 = W0·X + b0, Y1 = tanh Z1, Z2 = W1·Y1 + b1, Y2 = σ(Z2).
      y1 = (v.w0 • v.x).addingToEveryColumn(v.b0).map { Foundation.tanh($0) }
      y2 = (v.w1 • y1).addingToEveryColumn(v.b1).map { 1 / (1 + Foundation.exp(-$0)) }
      deltaY = v.target.zip(y2) { $0 - $1 }  // δy = y − yₖ
      // Layer 2: dZ2 = δy ⊙ σ′ = δy ⊙ Y2(1 − Y2); dX(1) = W1ᵀ·dZ2 is layer 1's δy.
      dZ2 = deltaY.zip(y2) { $0 * $1 * (1 - $1) }
      dY1 = (v.w1.transposed • dZ2)
      dW1 = (dZ2 • y1.transposed)
      db1 = dZ2.rowSums
      // Layer 1: dZ1 = dY1 ⊙ tanh′ = dY1 ⊙ (1 − Y1²); dX = W0ᵀ·dZ1.
      dZ1 = dY1.zip(y1) { $0 * (1 - $1 * $1) }
      dX = (v.w0.transposed • dZ1)
      dW0 = (dZ1 • v.x.transposed)
      db0 = dZ1.rowSums
    }
  }

  /// The library's graph in the document's layout, seeded with the hand-computed δy.
  struct Network {
    let graph = Graph<Double>()
    let x: Node<Double>, w0: Node<Double>, b0: Node<Double>, z1: Node<Double>, y1: Node<Double>
    let w1: Node<Double>, b1: Node<Double>, z2: Node<Double>, y2: Node<Double>

    init(_ v: Values, deltaY: PlainMatrix) {
      x = graph.input(v.x.tensor, name: "X")
      w0 = graph.parameter(v.w0.tensor, name: "W0")
      b0 = graph.parameter(v.b0.tensor, name: "b0")
      w1 = graph.parameter(v.w1.tensor, name: "W1")
      b1 = graph.parameter(v.b1.tensor, name: "b1")
      z1 = (w0.matmul(x) + b0).named("Z1")
      y1 = z1.tanh().named("Y1")
      z2 = (w1.matmul(y1) + b1).named("Z2")
      y2 = z2.sigmoid().named("Y2")
      graph.backward(from: y2, seed: deltaY.tensor)
    }
  }

  /// The document's seed, and a second case away from it (another batch size and values),
  /// so that no formula fits by accident.
  static let cases: [(seed: UInt64, batch: Int)] = [(4, 5), (404, 3)]

  static func run(_ index: Int) -> (Hand, Network) {
    let values = Values(seed: cases[index].seed, batch: cases[index].batch)
    let hand = Hand(values)
    return (hand, Network(values, deltaY: hand.deltaY))
  }

  // The forward values the formulas start from: Y1 = tanh(W0·X + b0), Y2 = σ(W1·Y1 + b1).
  @Test(arguments: cases.indices)
  func seed004_forward_matches_the_hand_computation(_ index: Int) {
    let (hand, n) = Self.run(index)
    expectClose(n.y1.value, hand.y1.tensor, "Y1")
    expectClose(n.y2.value, hand.y2.tensor, "Y2")
  }

  // dZ(j) = dY(j) ⊙ f'(·): sigmoid' = Y2(1 − Y2) at the output, tanh' = 1 − Y1² below it,
  // where dY(1) = W1ᵀ·dZ2 is what layer 2 hands back.
  @Test(arguments: cases.indices)
  func seed004_dZ_equals_dY_times_fprime(_ index: Int) {
    let (hand, n) = Self.run(index)
    expectClose(n.z2.gradient, hand.dZ2.tensor, "dZ2")
    expectClose(n.z1.gradient, hand.dZ1.tensor, "dZ1")
  }

  // dX(j−1) = W(j−1)ᵀ @ dZ(j): what layer 2 hands back as layer 1's δy, and layer 1's dX.
  @Test(arguments: cases.indices)
  func seed004_dX_equals_Wt_at_dZ(_ index: Int) {
    let (hand, n) = Self.run(index)
    expectClose(n.y1.gradient, hand.dY1.tensor, "dY1")
    expectClose(n.x.gradient, hand.dX.tensor, "dX")
  }

  // dW(j−1) = dZ(j) @ Y(j−1)ᵀ
  @Test(arguments: cases.indices)
  func seed004_dW_equals_dZ_at_Yprev_transposed(_ index: Int) {
    let (hand, n) = Self.run(index)
    expectClose(n.w1.gradient, hand.dW1.tensor, "dW1")
    expectClose(n.w0.gradient, hand.dW0.tensor, "dW0")
  }

  // db(j−1) = sum(dZ(j), axis = examples): summed along the batch columns.
  @Test(arguments: cases.indices)
  func seed004_db_equals_sum_of_dZ_over_examples(_ index: Int) {
    let (hand, n) = Self.run(index)
    expectClose(n.b1.gradient, hand.db1.tensor, "db1")
    expectClose(n.b0.gradient, hand.db0.tensor, "db0")
  }

  // Batch × features: Z = X·Wᵀ + bᵀ, the same network with every matrix transposed, so its
  // gradients are the hand computation's, transposed (biases as rows [n]).
  @Test(arguments: cases.indices)
  func seed004_rowLayout_gives_the_transposed_gradients(_ index: Int) {
    let v = Values(seed: Self.cases[index].seed, batch: Self.cases[index].batch)
    let hand = Hand(v)
    let graph = Graph<Double>()
    let x = graph.input(v.x.transposed.tensor, name: "X")
    let w0 = graph.parameter(v.w0.transposed.tensor, name: "W0")
    let b0 = graph.parameter(Tensor(v.b0.transposed.rows[0]), name: "b0")
    let w1 = graph.parameter(v.w1.transposed.tensor, name: "W1")
    let b1 = graph.parameter(Tensor(v.b1.transposed.rows[0]), name: "b1")
    let output = ((x.matmul(w0) + b0).tanh().matmul(w1) + b1).sigmoid()
    graph.backward(from: output, seed: hand.deltaY.transposed.tensor)
    expectClose(output.value, hand.y2.transposed.tensor, "Y2ᵀ")
    expectClose(w1.gradient, hand.dW1.transposed.tensor, "dW1ᵀ")
    expectClose(w0.gradient, hand.dW0.transposed.tensor, "dW0ᵀ")
    expectClose(b1.gradient, Tensor(hand.db1.transposed.rows[0]), "db1")
    expectClose(b0.gradient, Tensor(hand.db0.transposed.rows[0]), "db0")
    expectClose(x.gradient, hand.dX.transposed.tensor, "dXᵀ")
  }
}
