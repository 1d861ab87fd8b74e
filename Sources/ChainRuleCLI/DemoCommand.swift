import ChainRule
import Foundation

/// `chainrule demo`: the seed 000 network (2 inputs → 1 tanh unit → 1 sigmoid unit, binary
/// cross-entropy) on FORMULAS.md's worked case — forward values, each gradient from the graph
/// beside the course's hand-derived formula, the chain rule spelled out for one weight — then
/// the same network trained on eight points, and the drawings written to a folder.
enum DemoCommand: Command {
  static let name = "demo"
  static let summary = "seed 000 network: gradients vs hand formulas, chain rule, training"
  static let options = ["--out", "--steps"]
  static let help = """
    usage: chainrule [demo] [--out DIR] [--steps N]

    The seed 000 network of the course (x → tanh → sigmoid → binary cross-entropy) on its
    worked case: the forward values, every gradient from the graph beside the hand-derived
    formula, the chain rule for ∂L/∂w1[0, 0] path by path; then the same network trained with
    SGD (η = 0.5) on eight points, the loss printed as it falls.

    Writes into DIR: seed000.dot (the graph with values and gradients), seed000.svg (when
    Graphviz `dot` is installed) and loss.svg (the training curve).

    options:
      --out DIR    folder for the drawings (default: chainrule-demo)
      --steps N    training steps, 1…100000 (default: 60)
      -h, --help   this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    let folderName = arguments.string("--out") ?? "chainrule-demo"
    let folder = URL(fileURLWithPath: folderName)
    /// A file in the folder, as the user named the folder.
    func shown(_ file: String) -> String { (folderName as NSString).appendingPathComponent(file) }
    let steps = try arguments.int("--steps", default: 60, in: 1...100_000)
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw CLIError(
        message: "cannot create the folder \(folder.path): \(error.localizedDescription)")
    }

    let seed = Examples.seed000()
    seed.graph.backward(from: seed.loss)
    printWorkedCase(seed)

    print("\nchain rule for one weight (graph.explain)")
    do {
      let explanation = try seed.graph.explain(seed.loss, withRespectTo: seed.w1, at: [0, 0])
      print(
        explanation.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
    } catch {
      throw CLIError(message: "explain: \(error)")
    }

    let history = train(steps: steps)

    print("\nfiles")
    let dot = seed.graph.dot(reaching: seed.loss)
    try write(dot, to: folder.appendingPathComponent("seed000.dot"))
    print("  \(shown("seed000.dot"))")
    if Graphviz.isInstalled {
      do {
        let svg = try Graphviz.render(dot, format: .svg)
        try DotFile.write(svg, to: folder.appendingPathComponent("seed000.svg"))
        print("  \(shown("seed000.svg"))  (rendered by Graphviz)")
      } catch {
        throw CLIError(message: error.description)
      }
    } else {
      print("  (Graphviz `dot` not found: no seed000.svg; install graphviz to get it)")
    }
    var plot = LinePlot(
      title: "Seed 000 network: training loss (SGD, η = 0.5)", xLabel: "step",
      yLabel: "binary cross-entropy")
    plot.add("loss", x: history.indices.map(Double.init), y: history)
    do {
      try plot.write(to: folder.appendingPathComponent("loss.svg"))
    } catch {
      throw CLIError(message: error.description)
    }
    print("  \(shown("loss.svg"))")
  }

  /// Shortest text that reads back to the same Double (full precision), signed for alignment.
  private static func show(_ value: Double) -> String { value < 0 ? "\(value)" : "+\(value)" }

  private static func printWorkedCase(_ seed: Examples.Seed000) {
    let (x1, x2) = (seed.x.value[0, 0], seed.x.value[0, 1])
    let a1 = seed.a1.value.scalar
    let a2 = seed.a2.value.scalar
    let y = seed.y.value.scalar
    let w2 = seed.w2.value.scalar
    print("ChainRule — seed 000: x → tanh → sigmoid → binary cross-entropy")
    print("x = (\(x1), \(x2)), w[1] = (0.3, -0.2), b[1] = 0.1, w[2] = 0.7, b[2] = -0.4, y = 1\n")
    print("forward")
    print("  a[1] = tanh(x·w[1] + b[1])      = \(show(a1))")
    print("  a[2] = σ(a[1]·w[2] + b[2])      = \(show(a2))")
    print("  L    = −(y log a[2] + (1−y) log(1−a[2])) = \(show(seed.loss.value.scalar))\n")

    let delta = (a2 - y) * w2 * (1 - a1 * a1)
    let rows: [(String, Double, String, Double)] = [
      ("dL/dw[2]", seed.w2.gradient.scalar, "a[1]·(a[2] − y)", a1 * (a2 - y)),
      ("dL/db[2]", seed.b2.gradient.scalar, "a[2] − y", a2 - y),
      ("dL/dw1[1]", seed.w1.gradient[0, 0], "(a[2] − y)·w[2]·(1 − a[1]²)·x1", delta * x1),
      ("dL/dw2[1]", seed.w1.gradient[1, 0], "(a[2] − y)·w[2]·(1 − a[1]²)·x2", delta * x2),
      ("dL/db[1]", seed.b1.gradient.scalar, "(a[2] − y)·w[2]·(1 − a[1]²)", delta),
    ]
    print("backward (graph)              hand-derived formula")
    for (name, fromGraph, formula, fromFormula) in rows {
      let padded = name.padding(toLength: 10, withPad: " ", startingAt: 0)
      let text = formula.padding(toLength: 32, withPad: " ", startingAt: 0)
      let value = show(fromGraph).padding(toLength: 23, withPad: " ", startingAt: 0)
      print("  \(padded) \(value)  \(text) = \(show(fromFormula))")
    }
  }

  /// Trains the seed 000 network, from the worked case's weights, on eight points labelled
  /// 1 when x1 > x2 (the worked case is the first), by full-batch SGD with η = 0.5; prints
  /// the loss as it falls and returns it per step (before each update, then the final one).
  private static func train(steps: Int) -> [Double] {
    let points: [[Double]] = [
      [0.5, -1.0], [1.0, -0.5], [0.8, 0.2], [0.2, -0.8],
      [-0.5, 1.0], [-1.0, 0.5], [-0.2, 0.8], [-0.8, -0.2],
    ]
    let labels: [[Double]] = [[1], [1], [1], [1], [0], [0], [0], [0]]
    let model = Sequential<Double>([
      Dense(weight: Tensor([[0.3], [-0.2]]), bias: Tensor([0.1]), activation: .tanh),
      Dense(weight: Tensor([[0.7]]), bias: Tensor([-0.4]), activation: .sigmoid),
    ])
    let optimizer = SGD(parameters: model.parameters, learningRate: 0.5)
    let graph = Graph<Double>()
    let probability = model(graph.input(Tensor(points), name: "x"))
    let loss = probability.binaryCrossEntropy(graph.input(Tensor(labels), name: "y"))
    print("\ntraining on 8 points (label 1 when x1 > x2), full batch, SGD η = 0.5")
    var history: [Double] = []
    let every = max(1, steps / 10)
    for step in 0...steps {
      graph.forward()
      history.append(loss.value.scalar)
      if step % every == 0 || step == steps {
        let correct = zip(probability.value.scalars, labels).filter { ($0 > 0.5) == ($1[0] == 1) }
        print(
          "  step \(String(step).padding(toLength: 5, withPad: " ", startingAt: 0))"
            + " loss \(Format.fixed(loss.value.scalar, 6))  accuracy \(correct.count)/8")
      }
      guard step < steps else { break }
      optimizer.zeroGradients()
      graph.backward(from: loss)
      optimizer.step()
    }
    return history
  }

  private static func write(_ text: String, to url: URL) throws(CLIError) {
    do {
      try DotFile.write(text, to: url)
    } catch {
      throw CLIError(message: error.description)
    }
  }
}
