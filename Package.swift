// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "ChainRule",
  products: [
    .library(name: "ChainRule", targets: ["ChainRule"]),
    .executable(name: "chainrule", targets: ["ChainRuleCLI"]),
    .executable(name: "chainrule-bench", targets: ["ChainRuleBench"]),
    .executable(name: "notebook-render", targets: ["NotebookRenderer"]),
  ],
  targets: [
    // SIMD kernels with runtime CPU dispatch: C is the only way to reach AVX2/AVX-512 without unsafeFlags.
    .target(name: "CChainRuleKernels"),
    .target(name: "ChainRule", dependencies: ["CChainRuleKernels"]),
    .executableTarget(name: "ChainRuleCLI", dependencies: ["ChainRule"]),
    // Counts heap allocations for the benchmark's allocations-per-step column; bench only.
    .target(name: "CMallocCounter"),
    .executableTarget(name: "ChainRuleBench", dependencies: ["ChainRule", "CMallocCounter"]),
    // Golden files are read from the source tree through #filePath, not bundled. The CLI is a
    // dependency so that `swift test` builds the `chainrule` binary the CLI tests run.
    .testTarget(
      name: "ChainRuleTests", dependencies: ["ChainRule", "NotebookSupport", "ChainRuleCLI"],
      exclude: ["Snapshots"]),
  ],
  swiftLanguageModes: [.v6]
)
