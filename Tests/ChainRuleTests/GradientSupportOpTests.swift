import Testing

@testable import ChainRule

/// The internal ops that node-built gradients are made of (Operations/GradientSupport): each
/// op's tensor VJP against central differences, its node-built VJP against its tensor VJP, and
/// its JVP against the VJP (⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ with random u and v).
@Suite("Gradient support ops")
struct GradientSupportOpTests {
  struct Case: Sendable {
    var name: String
    var shapes: [[Int]]
    var domain: CheckDomain = .anywhere
    var build: @Sendable (Graph<Double>, [Node<Double>]) -> Node<Double>
  }

  /// op′ on (x, y = op(x), ȳ): y is the forward node, built from x, as the builder passes it.
  static func elementwiseGradient<Op: UnaryElementwise>(
    _ op: Op, _ graph: Graph<Double>, _ x: [Node<Double>]
  ) -> Node<Double> {
    graph.apply(ElementwiseGradient(op: op), [x[0], graph.apply(op, [x[0]]), x[1]])
  }

  /// op′[slot] on (operands, y = op(operands), ȳ), the last input being ȳ: a careful op's
  /// VJP share, its derivatives those of the op's plain formula.
  static func share<Op: CarefulVJP>(
    _ op: Op, _ slot: Int, _ graph: Graph<Double>, _ x: [Node<Double>]
  ) -> Node<Double> {
    let operands = Array(x.dropLast())
    let y = graph.apply(op, operands)
    return graph.apply(
      VJPShare(op: op, slot: slot, operandCount: operands.count), operands + [y, x.last!])
  }

  static let cases: [Case] = [
    Case(name: "div′[0]", shapes: [[2, 3], [3], [2, 3]], domain: .awayFromZero) { g, x in
      share(Divide(), 0, g, x)
    },
    Case(name: "div′[1]", shapes: [[2, 3], [3], [2, 3]], domain: .awayFromZero) { g, x in
      share(Divide(), 1, g, x)
    },
    Case(name: "pow′[0]", shapes: [[2, 2], [2, 2], [2, 2]], domain: .positive) { g, x in
      share(Power(), 0, g, x)
    },
    Case(name: "pow′[1]", shapes: [[2, 2], [2], [2, 2]], domain: .positive) { g, x in
      share(Power(), 1, g, x)
    },
    Case(name: "binaryCrossEntropy′[0]", shapes: [[4], [4], []], domain: .probability) { g, x in
      share(BinaryCrossEntropy(), 0, g, x)
    },
    Case(name: "binaryCrossEntropy′[1], none", shapes: [[3], [3], [3]], domain: .probability) {
      g, x in share(BinaryCrossEntropy(reduction: .none), 1, g, x)
    },
    Case(name: "binaryCrossEntropyWithLogits′[0]", shapes: [[4], [4], []]) { g, x in
      share(BinaryCrossEntropyWithLogits(), 0, g, x)
    },
    Case(name: "binaryCrossEntropyWithLogits′[1], sum", shapes: [[4], [4], []]) { g, x in
      share(BinaryCrossEntropyWithLogits(reduction: .sum), 1, g, x)
    },
    Case(name: "broadcast [4] to [3, 4]", shapes: [[4]]) { g, x in
      g.apply(BroadcastTo(shape: [3, 4]), [x[0]])
    },
    Case(name: "broadcast [] to [2, 3]", shapes: [[]]) { g, x in
      g.apply(BroadcastTo(shape: [2, 3]), [x[0]])
    },
    Case(name: "sum [3, 4] to [3, 1]", shapes: [[3, 4]]) { g, x in
      g.apply(SumToShape(shape: [3, 1]), [x[0]])
    },
    Case(name: "sum [2, 3, 4] to [4]", shapes: [[2, 3, 4]]) { g, x in
      g.apply(SumToShape(shape: [4]), [x[0]])
    },
    Case(name: "tanh′", shapes: [[2, 3], [2, 3]]) { g, x in
      elementwiseGradient(Tanh(), g, x)
    },
    Case(name: "sigmoid′", shapes: [[2, 3], [2, 3]]) { g, x in
      elementwiseGradient(Sigmoid(), g, x)
    },
    Case(name: "log′", shapes: [[2, 3], [2, 3]], domain: .positive) { g, x in
      elementwiseGradient(Log(), g, x)
    },
    Case(name: "sqrt′", shapes: [[4], [4]], domain: .positive) { g, x in
      elementwiseGradient(Sqrt(), g, x)
    },
    Case(name: "pow(1.5)′", shapes: [[4], [4]], domain: .positive) { g, x in
      elementwiseGradient(ScalarPower(exponent: 1.5), g, x)
    },
    Case(name: "exp′", shapes: [[3], [3]]) { g, x in
      elementwiseGradient(Exp(), g, x)
    },
    Case(name: "sin′", shapes: [[3], [3]]) { g, x in
      elementwiseGradient(Sin(), g, x)
    },
    Case(name: "cos′", shapes: [[3], [3]]) { g, x in
      elementwiseGradient(Cos(), g, x)
    },
    Case(name: "square′", shapes: [[3], [3]]) { g, x in
      elementwiseGradient(Square(), g, x)
    },
    Case(name: "relu′ (f″ = 0)", shapes: [[2, 3], [2, 3]], domain: .awayFromZero) { g, x in
      elementwiseGradient(ReLU(), g, x)
    },
    Case(name: "argmax mask, axis 1 of [3, 4]", shapes: [[3, 4]], domain: .distinct) { g, x in
      g.apply(ExtremumMask(axis: 1, ofMaximum: true), [x[0]])
    },
    Case(name: "argmin mask, axis 0 of [3, 4]", shapes: [[3, 4]], domain: .distinct) { g, x in
      g.apply(ExtremumMask(axis: 0, ofMaximum: false), [x[0]])
    },
    Case(name: "scatter of slice [:, 1::2] of [2, 5]", shapes: [[2, 2]]) { g, x in
      g.apply(SliceScatter(slicing: Slicing([.all, .stride(from: 1, by: 2)]), shape: [2, 5]), x)
    },
    Case(name: "scatter rows [2, 0, 2] into [3, 4]", shapes: [[3, 4]]) { g, x in
      g.apply(RowScatter(rows: 3), [x[0], g.constant(Tensor([2, 0, 2]))])
    },
  ]

  @Test(arguments: cases.map(\.name))
  func supportOpRulesAgree(_ name: String) {
    let testCase = Self.cases.first { $0.name == name }!
    var generator = SplitMix64(seed: UInt64(name.utf8.count))
    let graph = Graph<Double>()
    let inputs = testCase.shapes.map {
      graph.input(randomTensor($0, domain: testCase.domain, using: &generator))
    }
    let output = testCase.build(graph, inputs)
    let u = randomTensor(output.shape, using: &generator)
    let weights = graph.constant(u)
    let loss = (output * weights).sum()

    // Tensor VJP against central differences (vacuous for the masks, whose derivative is 0).
    let report = graph.checkGradients(
      of: loss, withRespectTo: inputs, absoluteTolerance: 1e-8, relativeTolerance: 1e-6)
    let isMask = output.operation is ExtremumMask
    #expect(report.status == (isMask ? .vacuous : .passed), "\(name):\n\(report)")

    // Node-built VJP against the tensor VJP, for the op at the output.
    let operation = output.operation!
    let seed = graph.constant(u)
    let shares = operation.gradientNodes(
      output.inputs, output: output, gradient: seed, needs: output.inputs.map { _ in true })
    let expected = operation.vjp(output.inputs.map(\.value), output: output.value, gradient: u)
    for (slot, operand) in output.inputs.enumerated() {
      expectClose(
        shares[slot]?.value.summed(toShape: operand.shape) ?? .zeros(operand.shape),
        expected[slot].summed(toShape: operand.shape), relative: 1e-12, absolute: 1e-14,
        "\(name): node-built share \(slot)")
    }

    // JVP against VJP: ⟨u, J·v⟩ = Σᵢ ⟨Jᵢᵀ·u, vᵢ⟩.
    let tangents = output.inputs.map { randomTensor($0.shape, using: &generator) }
    let forwardMode = operation.jvp(
      output.inputs.map(\.value), output: output.value, tangents: tangents)
    let left = zip(forwardMode.scalars, u.scalars).reduce(0) { $0 + $1.0 * $1.1 }
    var right = 0.0
    for (slot, operand) in output.inputs.enumerated() {
      let share = expected[slot].summed(toShape: operand.shape)
      right += zip(share.scalars, tangents[slot].scalars).reduce(0) { $0 + $1.0 * $1.1 }
    }
    // An index operand has no tangent and no gradient: its random tangent adds nothing.
    expectClose(left, right, relative: 1e-12, absolute: 1e-13, "\(name): ⟨u, Jv⟩ = ⟨Jᵀu, v⟩")
  }
}
