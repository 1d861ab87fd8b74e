import Foundation
import Testing

@testable import ChainRule

/// Second derivatives of random graphs: dense Hessians against central differences of
/// gradients, and the second-order check (H·v against differences of ∇L) on ≥ 1,000 graphs.
@Suite("Second-order checks of random graphs")
struct SecondOrderFuzzTests {
  static let generator = RandomGraphGenerator.twiceDifferentiable()

  /// The leaves whose gradient backward computes (parameters, inputs that require one).
  static func leaves(_ graph: Graph<Double>) -> [Node<Double>] {
    graph.nodes.filter { $0.kind != .operation && $0.kind != .constant && $0.requiresGradient }
  }

  // The node-built Hessian over every differentiable leaf of a small random graph against
  // central differences of the backward gradient, element by element.
  @Test(arguments: 0..<40)
  func hessianOfARandomGraphMatchesDifferencesOfGradients(seed: Int) {
    let (graph, loss) = Self.generator.makeGraph(seed: UInt64(seed), steps: 2...5, as: Double.self)
    let leaves = Self.leaves(graph)
    guard leaves.map({ $0.value.count }).reduce(0, +) <= 48 else { return }
    let built = graph.hessian(of: loss, withRespectTo: leaves)
    let numeric = SecondDerivativeFormulaTests.hessianByDifferences(of: loss, withRespectTo: leaves)
    let worst = zip(built.scalars, numeric.scalars).map { abs($0 - $1) / (1e-5 + abs($1)) }.max()
    #expect((worst ?? 0) <= 1e-4, "seed \(seed): worst scaled error \(worst ?? 0)")
  }

  // gradgradcheck on 1,024 random graphs of twice-differentiable ops, with 0 failures; the
  // seeds of failures (and the share of vacuous checks) are printed.
  @Test func secondOrderCheckPassesOnRandomGraphs() {
    let count = 1_024
    let start = Date()
    var failures: [UInt64] = []
    var vacuous = 0
    for seed in 0..<UInt64(count) {
      let (graph, loss) = Self.generator.makeGraph(seed: seed, as: Double.self)
      let report = graph.checkSecondOrderGradients(
        of: loss, withRespectTo: Self.leaves(graph), seed: seed)
      switch report.status {
      case .passed: break
      case .vacuous: vacuous += 1
      case .failed:
        failures.append(seed)
        print("second-order check failed for seed \(seed):\n\(report)")
      }
    }
    let seconds = Date().timeIntervalSince(start)
    print(
      "second-order fuzz: \(count) graphs, \(failures.count) failed, \(vacuous) vacuous, "
        + "\(String(format: "%.1f", seconds)) s")
    #expect(failures.isEmpty, "failing seeds: \(failures)")
    // A vacuous check is a graph whose H·v is within atol of 0 everywhere (a loss linear in
    // its leaves, say): 66 of these 1,024 graphs.
    #expect(vacuous * 10 < count, "more than 10 % of the checks were vacuous")
  }

  // Forward over reverse against reverse over reverse: the JVP of the gradient nodes along v
  // (every op of a gradient graph, the support ops included, has a JVP rule) is H·v, which
  // hessianVectorProduct builds by a second reverse pass. Then forward mode's own check
  // (⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ and J·v by differences) on the gradient graph's output.
  @Test func forwardOverReverseEqualsReverseOverReverseOnRandomGraphs() {
    var failures: [UInt64] = []
    for seed in 0..<UInt64(128) {
      let (graph, loss) = Self.generator.makeGraph(seed: seed, as: Double.self)
      let leaves = Self.leaves(graph)
      var generator = SplitMix64(seed: seed)
      let v = leaves.map { randomTensor($0.shape, using: &generator) }
      let gradients = graph.gradients(of: loss, withRespectTo: leaves)
      let reverse = graph.hessianVectorProduct(of: loss, withRespectTo: leaves, vector: v)
      var ok = true
      for (gradient, product) in zip(gradients, reverse) {
        let forward = graph.jvp(of: gradient, withRespectTo: leaves, tangents: v)
        for (a, b) in zip(forward.scalars, product.value.scalars)
        where !(abs(a - b) <= 1e-9 * (1 + abs(b))) {
          ok = false
        }
      }
      let penalty = gradients.dropFirst().reduce(gradients[0].squared().sum()) {
        $0 + $1.squared().sum()
      }
      let check = graph.checkForwardMode(of: penalty, withRespectTo: leaves, seed: seed)
      if !ok || check.status == .failed {
        failures.append(seed)
        print("forward over reverse failed for seed \(seed) (H·v agree: \(ok)):\n\(check)")
      }
    }
    #expect(failures.isEmpty, "failing seeds: \(failures)")
  }

  /// tanh with its second derivative off by 1 %: the check must see it.
  struct SkewedTanh: UnaryElementwise {
    var name: String { "skewedTanh" }
    func apply<Scalar: TensorScalar>(_ x: Scalar) -> Scalar { Scalar.tanh(x) }
    func derivative<Scalar: TensorScalar>(x: Scalar, y: Scalar) -> Scalar { 1 - y * y }
    func secondDerivative<Scalar: TensorScalar>(x: Node<Scalar>, y: Node<Scalar>)
      -> Node<Scalar>?
    {
      -2.02 * y * (1 - y.squared())
    }
    func derivativeFormula(input: Int, operands: [String], output: String) -> String { "" }
  }

  @Test func theSecondOrderCheckCatchesAWrongSecondDerivative() {
    var generator = SplitMix64(seed: 8)
    for (operation, expected) in [
      (SkewedTanh() as any DifferentiableOperation, GradientCheckReport.Status.failed),
      (Tanh(), .passed),
    ] {
      let graph = Graph<Double>()
      let x = graph.input(randomTensor([3, 2], using: &generator), name: "x")
      let w = graph.parameter(randomTensor([2, 2], using: &generator), name: "w")
      let loss = graph.apply(operation, [x.matmul(w)]).sum()
      let report = graph.checkSecondOrderGradients(of: loss, withRespectTo: [w, x])
      #expect(report.status == expected, "\(operation.name):\n\(report)")
    }
  }
}
