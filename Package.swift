// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "ChainRule",
  products: [
    .library(name: "ChainRule", targets: ["ChainRule"]),
    .executable(name: "chainrule", targets: ["ChainRuleCLI"]),
    .executable(name: "chainrule-bench", targets: ["ChainRuleBench"]),
    .executable(name: "notebook-render", targets: ["NotebookRenderer"]),
    .executable(name: "chainrule-traps", targets: ["ChainRuleTraps"]),
  ],
  targets: [
    // SIMD kernels with runtime CPU dispatch: C is the only way to reach AVX2/AVX-512 without unsafeFlags.
    .target(name: "CChainRuleKernels"),
    .target(name: "ChainRule", dependencies: ["CChainRuleKernels"]),
    .executableTarget(name: "ChainRuleCLI", dependencies: ["ChainRule"]),
    // Commits one documented misuse per run, so a test can check each message in a release build.
    .executableTarget(name: "ChainRuleTraps", dependencies: ["ChainRule", "NotebookSupport"]),
    // Counts heap allocations: the benchmark's allocations-per-step column, and the tests that
    // hold a built graph's training step to none (AllocationTests).
    .target(name: "CMallocCounter"),
    .executableTarget(name: "ChainRuleBench", dependencies: ["ChainRule", "CMallocCounter"]),
    // Notebooks: literate executables (Notebooks/NN-Name/main.swift), rendered to README.md beside
    // them by notebook-render; NotebookSupport holds the cell markers, the parser and helpers.
    .target(name: "NotebookSupport", dependencies: ["ChainRule"]),
    .executableTarget(name: "NotebookRenderer", dependencies: ["NotebookSupport"]),
    .executableTarget(
      name: "ComputationalGraph", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/01-ComputationalGraph", exclude: ["README.md", "figures"]),
    .executableTarget(
      name: "GradientDescent", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/02-GradientDescent", exclude: ["README.md", "figures"]),
    .executableTarget(
      name: "Backpropagation", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/03-Backpropagation", exclude: ["README.md"]),
    .executableTarget(
      name: "MatrixForm", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/04-MatrixForm", exclude: ["README.md"]),
    .executableTarget(
      name: "DigitsNetwork", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/05-DigitsNetwork", exclude: ["README.md", "figures"]),
    .executableTarget(
      name: "ConvolutionalNetwork", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/07-ConvolutionalNetwork", exclude: ["README.md", "figures"]),
    .executableTarget(
      name: "SecondDerivatives", dependencies: ["ChainRule", "NotebookSupport"],
      path: "Notebooks/06-SecondDerivatives", exclude: ["README.md", "figures"]),
    // Golden files are read from the source tree through #filePath, not bundled. The CLI and
    // the traps are dependencies so that `swift test` builds the binaries the tests run.
    .testTarget(
      name: "ChainRuleTests",
      dependencies: [
        "ChainRule", "NotebookSupport", "ChainRuleCLI", "ChainRuleTraps", "CMallocCounter",
      ],
      exclude: ["Snapshots"]),
    // A user's view: imports Foundation next to ChainRule, public API only (no @testable).
    .testTarget(name: "ChainRuleUserTests", dependencies: ["ChainRule"]),
  ],
  swiftLanguageModes: [.v6]
)
