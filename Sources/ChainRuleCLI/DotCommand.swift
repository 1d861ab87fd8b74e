import ChainRule
import Foundation

/// `chainrule dot`: a saved model's computational graph as Graphviz DOT (or SVG).
enum DotCommand: Command {
  static let name = "dot"
  static let summary = "draw a saved model's computational graph (DOT; SVG, PNG, PDF via Graphviz)"
  static let options = ["--model", "--data", "--out", "--collapse", "--frames", "--html"]
  static let flags = ["--no-header"]
  static let help = """
    usage: chainrule dot --model MODEL.safetensors [--data FILE.csv] [--out graph.dot]
                         [--collapse SCOPES] [--frames DIR] [--html PAGE.html]

    Builds the model's graph and writes it as a Graphviz DOT document: one cluster per layer,
    parameters, ops with their shapes, edges labelled with local derivatives. Without --data
    the input is one row of zeros and the graph ends at the network's output; with --data it
    is the file's first row (standardised), the graph ends at the loss, and the gradients of
    one backward pass are shown (for tensors small enough to print).

    options:
      --model FILE   a model file written by `chainrule train` (required)
      --data FILE    CSV file whose first row is fed to the network
      --out FILE     output file (default: graph.dot); the extension names the format:
                     .dot (text), or .svg, .png, .pdf rendered by Graphviz `dot`
      --collapse S   comma-separated scopes drawn as one node each, e.g. loss or layer0
      --frames DIR   also write the backward pass as SVG frames step-01.svg, … into DIR
                     (needs --data and Graphviz `dot`)
      --html FILE    also write the interactive page: one self-contained HTML file that
                     steps through the backward pass (needs --data and Graphviz `dot`)
      --no-header    the --data file's first line is data; columns are numbered 1, 2, …
      -h, --help     this text
    """

  static func run(_ arguments: Arguments) throws(CLIError) {
    let modelPath = try arguments.required("--model")
    let out = arguments.string("--out") ?? "graph.dot"
    let format = try OutputFormat.drawing(out, option: "--out")
    try requireFolder(of: out, option: "--out")
    // Every refusal about the arguments comes before any file is read.
    let frames = arguments.string("--frames")
    if frames != nil && arguments.string("--data") == nil {
      throw CLIError(message: "--frames needs --data: the backward pass starts from the loss")
    }
    let page = arguments.string("--html")
    if let page {
      guard arguments.string("--data") != nil else {
        throw CLIError(message: "--html needs --data: the backward pass starts from the loss")
      }
      try requireFolder(of: page, option: "--html")
    }
    let loaded = try ModelBundle.load(modelPath, as: Double.self)
    let spec = loaded.spec
    let graph = Graph<Double>()
    let end: Node<Double>
    if let path = arguments.string("--data") {
      let table = try CSVTable.load(path, hasHeader: !arguments.has("--no-header"))
      let labelIndex = try Setup.column(spec.labelColumn, in: table)
      let features = try spec.features(table, as: Double.self)
      let width = features.shape[1]
      let x = Tensor(shape: [1, width], scalars: Array(features.scalars[0..<width]))
      let y = try spec.targets(table, labelIndex: labelIndex, rows: [0], as: Double.self)
      end = spec.loss(loaded.model(graph.input(x, name: "x")), graph.input(y, name: "y"))
      graph.backward(from: end)
    } else {
      let x = Tensor<Double>.zeros([1, spec.featureColumns.count])
      end = loaded.model(graph.input(x, name: "x")).named("output")
    }
    var options = DotOptions()
    options.collapse = (arguments.string("--collapse") ?? "").split(separator: ",").map {
      $0.trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty }
    let dot = graph.dot(reaching: end, options: options)
    do {
      if let frames {
        let urls = try graph.renderFrames(
          from: end, options: options, to: URL(fileURLWithPath: frames))
        print("wrote \(urls.count) frames into \(frames)")
      }
      if let page {
        try DotFile.write(
          try graph.html(from: end, options: options), to: URL(fileURLWithPath: page))
        print("wrote \(page) (interactive page)")
      }
      switch format {
      case .dot: try DotFile.write(dot, to: URL(fileURLWithPath: out))
      case .svg, .png, .pdf:
        let rendered = try Graphviz.render(dot, format: Graphviz.Format(rawValue: format.rawValue)!)
        try DotFile.write(rendered, to: URL(fileURLWithPath: out))
      }
    } catch {
      throw CLIError(message: error.description)
    }
    print("wrote \(out) (\(graph.nodeCount) nodes)")
  }
}
