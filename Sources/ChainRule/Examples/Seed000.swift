/// Ready-made networks from the course notes, for the command-line tool, the notebooks and the
/// tests.
public enum Examples {
  /// The seed 000 network (FORMULAS.md) on its worked case, with every node named as the
  /// course names it.
  ///
  /// 2 inputs → 1 hidden unit with tanh → 1 output unit with sigmoid, binary cross-entropy:
  /// `z1 = x·w1 + b1`, `a1 = tanh z1`, `z2 = a1·w2 + b2`, `a2 = σ(z2)`,
  /// `L = −(y·log a2 + (1 − y)·log(1 − a2))`. Shapes: x [1, 2], w1 [2, 1], b1 [1], w2 [1, 1],
  /// b2 [1], y [1, 1]; z1, a1, z2, a2, L are [1, 1].
  public struct Seed000 {
    /// The graph holding every node below.
    public let graph: Graph<Double>
    /// The input row x = (0.5, −1.0): [1, 2].
    public let x: Node<Double>
    /// Layer-1 weights w1 = (0.3, −0.2)ᵀ: [2, 1], scope `layer1`.
    public let w1: Node<Double>
    /// Layer-1 bias b1 = 0.1: [1], scope `layer1`.
    public let b1: Node<Double>
    /// z1 = x·w1 + b1: [1, 1].
    public let z1: Node<Double>
    /// a1 = tanh z1: [1, 1].
    public let a1: Node<Double>
    /// Layer-2 weight w2 = 0.7: [1, 1], scope `layer2`.
    public let w2: Node<Double>
    /// Layer-2 bias b2 = −0.4: [1], scope `layer2`.
    public let b2: Node<Double>
    /// z2 = a1·w2 + b2: [1, 1].
    public let z2: Node<Double>
    /// a2 = σ(z2): [1, 1].
    public let a2: Node<Double>
    /// The target y = 1: [1, 1], scope `loss`.
    public let y: Node<Double>
    /// L = −(y·log a2 + (1 − y)·log(1 − a2)): [1, 1], scope `loss`.
    public let loss: Node<Double>
  }

  /// Builds the seed 000 network on the worked case of FORMULAS.md from primitive ops, in
  /// scopes `layer1`, `layer2` and `loss`; the forward pass is already done (L ≈ 0.7469) and no
  /// backward pass has run.
  public static func seed000() -> Seed000 {
    let graph = Graph<Double>()
    let x = graph.input(Tensor([[0.5, -1.0]]), name: "x")
    let (w1, b1, z1, a1) = graph.withScope("layer1") {
      let w1 = graph.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
      let b1 = graph.parameter(Tensor([0.1]), name: "b1")
      let z1 = (x.matmul(w1) + b1).named("z1")
      return (w1, b1, z1, z1.tanh().named("a1"))
    }
    let (w2, b2, z2, a2) = graph.withScope("layer2") {
      let w2 = graph.parameter(Tensor([[0.7]]), name: "w2")
      let b2 = graph.parameter(Tensor([-0.4]), name: "b2")
      let z2 = (a1.matmul(w2) + b2).named("z2")
      return (w2, b2, z2, z2.sigmoid().named("a2"))
    }
    let (y, loss) = graph.withScope("loss") {
      let y = graph.input(Tensor([[1.0]]), name: "y")
      let loss = -(y * a2.log() + (1 - y) * (1 - a2).log())
      return (y, loss.named("L"))
    }
    return Seed000(
      graph: graph, x: x, w1: w1, b1: b1, z1: z1, a1: a1, w2: w2, b2: b2, z2: z2, a2: a2, y: y,
      loss: loss)
  }
}
