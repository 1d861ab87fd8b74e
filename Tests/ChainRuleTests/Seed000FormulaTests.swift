import Foundation
import Testing

@testable import ChainRule

/// Seed 000: 2 inputs → 1 tanh unit → 1 output unit, `f(g(h(x)))` as a graph.
/// Every gradient the course derives by hand, recomputed in plain Swift from forward values.
@Suite("Seed 000 formulas")
struct Seed000FormulaTests {
  /// The two losses under which the course's output gradient is `a[2] − y`.
  enum Loss: String, CaseIterable, CustomStringConvertible {
    /// Sigmoid output, L = −(y·log a2 + (1 − y)·log(1 − a2)).
    case sigmoidCrossEntropy
    /// Identity output, L = ½(a2 − y)².
    case identityHalfSquaredError
    var description: String { rawValue }
  }

  /// One network: its inputs, parameters and the forward values the formulas use.
  struct Network {
    let graph = Graph<Double>()
    let x1: Double, x2: Double, y: Double
    let w1: Node<Double>, b1: Node<Double>, w2: Node<Double>, b2: Node<Double>
    let a1: Node<Double>, a2: Node<Double>, loss: Node<Double>

    init(
      x: (Double, Double), w1: (Double, Double), b1: Double, w2: Double, b2: Double, y: Double,
      loss kind: Loss
    ) {
      (x1, x2, self.y) = (x.0, x.1, y)
      let xNode = graph.input(Tensor([[x.0, x.1]]), name: "x")
      self.w1 = graph.parameter(Tensor([[w1.0], [w1.1]]), name: "w1")
      self.b1 = graph.parameter(Tensor([b1]), name: "b1")
      self.w2 = graph.parameter(Tensor([[w2]]), name: "w2")
      self.b2 = graph.parameter(Tensor([b2]), name: "b2")
      let target = graph.input(Tensor([[y]]), name: "y")
      a1 = (xNode.matmul(self.w1) + self.b1).tanh().named("a1")
      let z2 = (a1.matmul(self.w2) + self.b2).named("z2")
      switch kind {
      case .sigmoidCrossEntropy:
        a2 = z2.sigmoid().named("a2")
        loss = (-(target * a2.log() + (1 - target) * (1 - a2).log())).sum().named("L")
      case .identityHalfSquaredError:
        a2 = z2
        loss = ((a2 - target).squared() * 0.5).sum().named("L")
      }
      graph.backward(from: loss)
    }

    /// FORMULAS.md's worked case.
    static func worked(_ loss: Loss) -> Network {
      Network(x: (0.5, -1.0), w1: (0.3, -0.2), b1: 0.1, w2: 0.7, b2: -0.4, y: 1, loss: loss)
    }

    /// A second case away from the worked numbers, so that no formula fits by accident.
    static func other(_ loss: Loss) -> Network {
      Network(x: (-1.3, 0.8), w1: (-0.9, 1.7), b1: -0.25, w2: -1.4, b2: 0.6, y: 0, loss: loss)
    }

    var a1Value: Double { a1.value.scalar }
    var a2Value: Double { a2.value.scalar }
    var w2Value: Double { w2.value.scalar }
  }

  static let networks: [(Loss, Bool)] = Loss.allCases.flatMap { [($0, true), ($0, false)] }

  static func build(_ loss: Loss, worked: Bool) -> Network {
    worked ? .worked(loss) : .other(loss)
  }

  // dw[2] = ∂L/∂a2 · ∂a2/∂z2 · ∂z2/∂w2 = (a[2] − y) · a[1]
  @Test(arguments: networks)
  func seed000_dw2_equals_a1_times_a2_minus_y(_ loss: Loss, worked: Bool) {
    let n = Self.build(loss, worked: worked)
    expectClose(n.w2.gradient.scalar, n.a1Value * (n.a2Value - n.y), "dw[2]")
  }

  // db[2] = (a[2] − y) · ∂z2/∂b2 = a[2] − y
  @Test(arguments: networks)
  func seed000_db2_equals_a2_minus_y(_ loss: Loss, worked: Bool) {
    let n = Self.build(loss, worked: worked)
    expectClose(n.b2.gradient.scalar, n.a2Value - n.y, "db[2]")
  }

  // dw1[1] = (a[2] − y) · w[2] · tanh'(z1) · x1, with tanh'(z1) = 1 − a[1]²
  @Test(arguments: networks)
  func seed000_dw1_1_equals_a2_minus_y_times_w2_times_1_minus_a1_squared_times_x1(
    _ loss: Loss, worked: Bool
  ) {
    let n = Self.build(loss, worked: worked)
    let expected = (n.a2Value - n.y) * n.w2Value * (1 - n.a1Value * n.a1Value) * n.x1
    expectClose(n.w1.gradient[0, 0], expected, "dw1[1]")
  }

  // dw2[1] = (a[2] − y) · w[2] · (1 − a[1]²) · x2
  @Test(arguments: networks)
  func seed000_dw2_1_equals_a2_minus_y_times_w2_times_1_minus_a1_squared_times_x2(
    _ loss: Loss, worked: Bool
  ) {
    let n = Self.build(loss, worked: worked)
    let expected = (n.a2Value - n.y) * n.w2Value * (1 - n.a1Value * n.a1Value) * n.x2
    expectClose(n.w1.gradient[1, 0], expected, "dw2[1]")
  }

  // db[1] = (a[2] − y) · w[2] · (1 − a[1]²)
  @Test(arguments: networks)
  func seed000_db1_equals_a2_minus_y_times_w2_times_1_minus_a1_squared(
    _ loss: Loss, worked: Bool
  ) {
    let n = Self.build(loss, worked: worked)
    let expected = (n.a2Value - n.y) * n.w2Value * (1 - n.a1Value * n.a1Value)
    expectClose(n.b1.gradient.scalar, expected, "db[1]")
  }

  @Test func seed000_workedCase_reproduces_FORMULAS_values() {
    let n = Network.worked(.sigmoidCrossEntropy)
    expectClose(n.a1Value, 0.4218990052500079, "a[1]")
    expectClose(n.a2Value, 0.4738561907604659, "a[2]")
    expectClose(n.loss.value.scalar, 0.7468513983407549, "L")
    expectClose(n.w2.gradient.scalar, -0.22197954973660933, "dw[2]")
    expectClose(n.b2.gradient.scalar, -0.5261438092395341, "db[2]")
    expectClose(n.w1.gradient, Tensor([[-0.1513718003069349], [0.3027436006138698]]), "dw[1]")
    expectClose(n.b1.gradient.scalar, -0.3027436006138698, "db[1]")
  }

  // p ← p − η · dL/dp with η = 0.5, using the library's gradients.
  @Test func seed000_sgdStep_reproduces_FORMULAS_values() {
    let n = Network.worked(.sigmoidCrossEntropy)
    let learningRate = 0.5
    for parameter in n.graph.parameters {
      parameter.value = parameter.value - parameter.gradient * learningRate
    }
    expectClose(n.w2.parameter!.value.scalar, 0.8109897748683046, "w[2]")
    expectClose(n.b2.parameter!.value.scalar, -0.13692809538023298, "b[2]")
    expectClose(
      n.w1.parameter!.value, Tensor([[0.3756859001534674], [-0.35137180030693493]]), "w[1]")
    expectClose(n.b1.parameter!.value.scalar, 0.2513718003069349, "b[1]")
    // The parameter nodes see the new values after forward().
    n.graph.forward()
    #expect(n.w2.value == n.w2.parameter!.value)
  }
}
