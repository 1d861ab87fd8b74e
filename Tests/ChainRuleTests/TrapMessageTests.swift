import Foundation
import Testing

/// Every documented misuse stops the program with its message on standard error — in a
/// release build too, where a failed `precondition` prints nothing but "Illegal instruction".
///
/// `chainrule-traps NAME` commits one misuse per run. The debug binary (built by `swift test`)
/// is run every time; the release binary when an up-to-date one exists (`swift build -c
/// release` builds it; `.ci/run` does and sets `CHAINRULE_RELEASE_TRAPS`, which makes its
/// absence a failure instead of a skip).
@Suite("misuse messages")
struct TrapMessageTests {
  /// Each trap's exact message, as the library words it.
  static let messages: [String: String] = [
    "tensor-negative-dimension": "Tensor: negative dimension in shape [2, -1]",
    "tensor-scalar-count": "Tensor: shape [2, 2] needs 4 scalars, got 3",
    "tensor-ragged-rows": "Tensor: ragged rows [2, 1] in a matrix literal",
    "tensor-ragged-blocks": "Tensor: ragged blocks in a rank-3 literal",
    "tensor-scalar": "Tensor.scalar: tensor of shape [2] has 2 elements",
    "tensor-index-count": "Tensor: 1 indices for a tensor of rank 2",
    "tensor-index-range": "Tensor: index 2 out of range for axis 1 of shape [1, 2]",
    "tensor-reshape": "Tensor: shape [2, 2] needs 4 scalars, got 3",
    "tensor-matmul-rank": "matmul: needs rank-2 operands, got [2] and [1, 1]",
    "tensor-matmul-inner": "matmul: inner dimensions 2 and 1 differ",
    "tensor-matmul-accumulate": "matmul: accumulating into [1], expected [1, 1]",
    "tensor-transposed": "transposed: needs a rank-2 tensor, got [2]",
    "tensor-sum-axis": "sum: axis 1 out of range for shape [2]",
    "tensor-add-assign": "+=: shapes [2] and [3] differ",
    "tensor-broadcast":
      #"+: "lhs" [2] and "rhs" [3] do not broadcast (axis -1: 2 vs 3)"#,
    "tensor-broadcasted-to": "broadcasted(to:): [2] does not broadcast to [3]",
    "tensor-summed-to-shape": "summed(toShape:): [3] does not broadcast to [2]",
    "graph-matmul-shapes": #"matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)"#,
    "graph-broadcast-shapes": #"add: "a" [2, 3] and "b" [2, 2] do not broadcast (axis -1: 3 vs 2)"#,
    "graph-operand-from-another-graph": "add: operand from another graph",
    "graph-forward-new-shape": #"matmul: "x" [2, 4] and "w" [3, 1] do not align (4 ≠ 3)"#,
    "graph-forward-wrong-shape": "wrongShape: forward produced [2], expected [1]",
    "scope-backward-over-placeholder":
      "backward: the graph holds a placeholder for an op that failed inside throwingShapeErrors "
      + #"(matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)); the scope throws that "#
      + "error when it ends",
    "scope-removed-node":
      "node #1 no longer exists: a throwingShapeErrors scope that failed removed it",
    "graph-set-op-value": "y: the value of an op node is computed, not set",
    "backward-output-from-another-graph": "backward: output node from another graph",
    "backward-seed-shape": "backward: seed shape [1] differs from output y [1, 2]",
    "backward-needs-seed": "backward: output y has shape [1, 2]; pass a seed gradient",
    "anomalies-output-from-another-graph": "backward: output node from another graph",
    "anomalies-needs-seed": "backward: output y has shape [1, 2]; pass a seed of that shape",
    "gradcheck-output-from-another-graph": "checkGradients: output node from another graph",
    "gradcheck-epsilon": "checkGradients: epsilon must be positive, got 0.0",
    "gradcheck-needs-seed": "checkGradients: output y has shape [1, 2]; pass a seed of that shape",
    "gradcheck-node-from-another-graph": "checkGradients: node w from another graph",
    "gradcheck-no-gradient":
      "checkGradients: no gradient is computed for c (a constant, an input made with "
      + "requiresGradient: false, or an op on such nodes only)",
    "dot-output-from-another-graph": "dot: output node from another graph",
    "dot-empty-graph": "dot: the graph has no nodes",
    "frames-output-from-another-graph": "backward frames: output node from another graph",
    "frames-seed-shape": "backward frames: seed shape [1] differs from output y [1, 2]",
    "frames-needs-seed": "backward frames: output y has shape [1, 2]; pass a seed gradient",
    "explain-node-from-another-graph": "explain: node from another graph",
    "jvp-tangent-shape": "jvp: tangent 0 has shape [2], but its node x has shape [1, 2]",
    "jvp-tangent-count": "jvp: 0 tangents for 1 nodes; give one per node",
    "jvp-node-from-another-graph": "jvp: node w from another graph",
    "jvp-node-twice": "jvp: node x is given twice",
    "gradients-no-node-built-vjp":
      "ruleless: this op has no node-built VJP (gradientNodes), so its gradient cannot be built "
      + "as graph nodes or differentiated again",
    "jvp-no-rule": "ruleless: this op has no JVP rule, so forward mode cannot pass it",
    "gradients-hooked-node":
      "gradients: y has a gradient hook, which acts in backward(from:) only; a gradient built as "
      + "nodes would skip it, so remove it first (removeHooks)",
    "jacobian-no-gradient":
      "jacobian: no gradient is computed for c (a constant, an input made with "
      + "requiresGradient: false, a frozen parameter, or an op on such nodes only)",
    "lineplot-too-small": "LinePlot: 100×440 is too small",
    "lineplot-counts": "LinePlot.add: 2 x values but 1 y values",
    "sparse-label-out-of-range":
      "sparseSoftmaxCrossEntropy: label 3.0 in row 1 is not a class index in 0..<3",
    "sparse-label-fractional":
      "sparseSoftmaxCrossEntropy: label 0.5 in row 0 is not a class index in 0..<3",
    "dense-sizes": "Dense: sizes must be positive (inputSize 0, outputSize 3)",
    "dense-shapes": "Dense: weight [2, 3] must be [in, out] and bias [2] must be [out]",
    "sgd-duplicate-names": #"SGD: two parameters are named "w"; state is keyed by name"#,
    "adam-duplicate-names": #"Adam: two parameters are named "w"; state is keyed by name"#,
    "sgd-nesterov-without-momentum": "SGD: Nesterov momentum needs momentum > 0",
    "dataset-split": "Dataset.split: trainingCount 5 is outside 0...4",
    "dataset-batches": "Dataset.batches: size 0 is not positive",
    "random-int-bound": "nextInt(below:): upper bound 0 is not positive",
    "random-graph-no-operations": "RandomGraphGenerator: no op with a usable check",
    "scalar-graph-output-from-another-graph": "backward: output from another scalar graph",
    "scalar-graph-operands-from-two-graphs": "multiply: operands from two different scalar graphs",
    "scalar-graph-node-before-remove-all":
      "scalar node 2 of a graph of 0 nodes: built before removeAll()",
    "notebook-largest-difference": "largestDifference: shapes [2] and [3] differ",
  ]

  static let names = messages.keys.sorted()

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The debug binary, found as the CLI tests find `chainrule`.
  static let debugBinary: URL = {
    let candidates =
      [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
      + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
      + [root.appendingPathComponent(".build/debug")]
    let found = candidates.map { $0.appendingPathComponent("chainrule-traps") }.first {
      FileManager.default.isExecutableFile(atPath: $0.path)
    }
    return found ?? root.appendingPathComponent(".build/debug/chainrule-traps")
  }()

  /// `CHAINRULE_RELEASE_TRAPS` if set (CI), else `.build/release/chainrule-traps` if it is
  /// newer than every source file it is built from; `nil` otherwise (a stale binary would
  /// test old code).
  static let releaseBinary: URL? = {
    if let path = ProcessInfo.processInfo.environment["CHAINRULE_RELEASE_TRAPS"] {
      return URL(fileURLWithPath: path)
    }
    let binary = root.appendingPathComponent(".build/release/chainrule-traps")
    guard let built = modificationDate(binary) else { return nil }
    let sources = ["Sources/ChainRule", "Sources/NotebookSupport", "Sources/ChainRuleTraps"]
    for folder in sources {
      let files = FileManager.default.enumerator(
        at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
      while let file = files?.nextObject() as? URL {
        if let date = modificationDate(file), date > built { return nil }
      }
    }
    return binary
  }()

  static func modificationDate(_ url: URL) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
  }

  /// What one run of `binary name` did.
  struct Run {
    var signalled: Bool
    var status: Int32
    var error: String
  }

  /// Runs `binary arguments…`, standard error captured through a file; the backtracer is off
  /// (it adds a second of symbolication per crash and nothing the test reads).
  static func run(_ binary: URL, _ arguments: [String]) throws -> (Run, output: String) {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("chainrule-traps-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    let child = try runChildProcess(binary, arguments, in: folder, environment: environment)
    let run = Run(signalled: child.signalled, status: child.status, error: child.error)
    return (run, child.output)
  }

  /// Runs one trap and checks that it died by a trap signal, its message on a line of its own
  /// as `fatalError` prints it: `Module/File.swift:LINE: Fatal error: MESSAGE`.
  static func expectTrap(_ name: String, binary: URL) throws {
    let message = try #require(messages[name])
    let (run, output) = try Self.run(binary, [name])
    // SIGILL on x86-64 (ud2), SIGTRAP on arm64 (brk).
    #expect(run.signalled && [4, 5].contains(run.status), "\(name): \(run) \(output)")
    let lines = run.error.split(separator: "\n").map(String.init)
    #expect(
      lines.contains { $0.hasSuffix(": Fatal error: " + message) },
      "\(name): expected \"Fatal error: \(message)\" on stderr, got:\n\(run.error)")
  }

  @Test func theTestKnowsEveryTrapAndEveryTrapExists() throws {
    let (run, output) = try Self.run(Self.debugBinary, ["--list"])
    #expect(!run.signalled && run.status == 0, "\(run)")
    let listed = output.split(separator: "\n").map(String.init)
    #expect(listed.sorted() == Self.names, "traps listed by the binary differ from the test's")
    #expect(Set(listed).count == listed.count, "a trap name is listed twice")
  }

  @Test func anUnknownNameIsAUsageError() throws {
    let (run, output) = try Self.run(Self.debugBinary, ["no-such-trap"])
    #expect(!run.signalled && run.status == 2)
    #expect(output.contains("usage:"))
  }

  @Test(arguments: names)
  func debugBuildPrintsTheMessage(name: String) throws {
    try Self.expectTrap(name, binary: Self.debugBinary)
  }

  @Test(
    .enabled(
      if: releaseBinary != nil,
      "SKIPPED: no release build newer than the sources; `swift build -c release` (CI does)"),
    arguments: names)
  func releaseBuildPrintsTheMessage(name: String) throws {
    let binary = try #require(Self.releaseBinary)
    #expect(
      FileManager.default.isExecutableFile(atPath: binary.path), "no executable at \(binary.path)")
    try Self.expectTrap(name, binary: binary)
  }
}
