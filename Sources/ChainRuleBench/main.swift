import CMallocCounter
import ChainRule
import Foundation

// chainrule-bench: the performance workloads W1–W5 (see BENCHMARKS.md), each step timed after
// warm-up, reported as the median with the heap allocations per step.
//
//   swift run -c release chainrule-bench            full run, a table
//   swift run -c release chainrule-bench --json     the same as JSON lines (for the peer script)
//   swift run -c release chainrule-bench --quick    a smoke run (CI)
//   swift run -c release chainrule-bench --sweep    how cost grows (JSON lines, for run.sh)
//   chainrule-bench --plot-sweep=RESULTS --out=DIR   draws the sweeps of RESULTS as SVG

var arguments = Set(CommandLine.arguments.dropFirst())
// --only W1,W4 runs a subset (for profiling one workload).
let only = arguments.first { $0.hasPrefix("--only=") }.map {
  Set($0.dropFirst(7).split(separator: ",").map(String.init))
}
arguments = arguments.filter { !$0.hasPrefix("--only=") }
if let results = arguments.first(where: { $0.hasPrefix("--plot-sweep=") }) {
  let out = arguments.first { $0.hasPrefix("--out=") }.map { String($0.dropFirst(6)) } ?? "."
  do {
    try Sweep.plot(
      results: URL(fileURLWithPath: String(results.dropFirst(13))),
      into: URL(fileURLWithPath: out))
    exit(0)
  } catch {
    FileHandle.standardError.write(Data("chainrule-bench: \(error)\n".utf8))
    exit(1)
  }
}
if arguments.contains("--sweep") {
  for point in Sweep.run(quick: arguments.contains("--quick")) {
    print(
      "{\"sweep\": \"\(point.sweep)\", \"x\": \(point.x), \"peer\": \"chainrule\", "
        + "\"median_us\": \(point.seconds * 1e6)}")
  }
  exit(0)
}
let unknown = arguments.subtracting(["--json", "--quick"])
guard unknown.isEmpty else {
  FileHandle.standardError.write(
    Data("chainrule-bench: unknown option \(unknown.sorted()[0])\n".utf8))
  exit(2)
}
let quick = arguments.contains("--quick")
let json = arguments.contains("--json")

/// Whether the workload named `name` (W1…W5) was selected.
func selected(_ name: String) -> Bool { only?.contains(name) ?? true }

/// Prints one measurement as a table row or a JSON line.
func report(_ measurement: Measurement, json: Bool) {
  if json {
    var fields: [String: Any] = [
      "workload": measurement.workload.split(separator: " ").prefix(1).joined(),
      "name": measurement.workload, "peer": "chainrule",
      "median_us": measurement.medianSeconds * 1e6,
      "allocations_per_step": measurement.allocationsPerStep,
    ]
    // The same keys as Benchmarks/peers/peers.py.
    let jsonKeys = ["GFLOP/s": "gflops", "nodes/s": "nodes_per_second"]
    for (key, value) in measurement.extra { fields[jsonKeys[key] ?? key] = value }
    if measurement.workload.hasPrefix("W5") {
      fields["workload"] = "W5 n=" + measurement.workload.split(separator: "=").last!
    }
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  } else {
    let extra = measurement.extra.map { String(format: "%@ %.4g", $0.0, $0.1) }.joined(
      separator: ", ")
    let name = measurement.workload.padding(toLength: 34, withPad: " ", startingAt: 0)
    let time = formatDuration(measurement.medianSeconds).padding(
      toLength: 12, withPad: " ", startingAt: 0)
    print(
      "\(name) \(time) allocs/step \(String(format: "%-6.4g", measurement.allocationsPerStep)) \(extra)"
    )
  }
}

if !json {
  print("chainrule-bench — median of timed steps after warm-up")
  if cr_allocation_counting_available() == 0 { print("(allocation counting unavailable here)") }
}
if selected("W1") { report(seedNetworkWorkload(quick: quick), json: json) }
if selected("W2") {
  report(
    mlpWorkload("W2 MLP 784→128→10, batch 64", sizes: [784, 128, 10], batch: 64, quick: quick),
    json: json)
}
if selected("W3") {
  report(
    mlpWorkload(
      "W3 MLP 784→1024→1024→10, batch 256", sizes: [784, 1024, 1024, 10], batch: 256,
      quick: quick),
    json: json)
}
if selected("W2-Adam") {
  report(
    mlpWorkload(
      "W2-Adam MLP 784→128→10, batch 64", sizes: [784, 128, 10], batch: 64, optimizer: .adam,
      quick: quick),
    json: json)
}
if selected("W2-paired") {
  let (sgd, adam) = pairedOptimizerWorkload(quick: quick)
  report(sgd, json: json)
  report(adam, json: json)
}
if selected("W3-Adam") {
  report(
    mlpWorkload(
      "W3-Adam MLP 784→1024→1024→10, batch 256", sizes: [784, 1024, 1024, 10], batch: 256,
      optimizer: .adam, quick: quick),
    json: json)
}
if selected("W4") { report(scalarMLPWorkload(quick: quick), json: json) }
if selected("W5") {
  for n in [64, 128, 256, 512, 1024] { report(matmulWorkload(n: n, quick: quick), json: json) }
}
if selected("Conv") { report(convolutionWorkload(quick: quick), json: json) }
if selected("Conv-layers") { report(toolboxLayersWorkload(quick: quick), json: json) }
