import CMallocCounter
import Dispatch
import Foundation

/// One measured workload: the median time of a step, and the heap allocations per step.
struct Measurement {
  var workload: String
  var medianSeconds: Double
  var allocationsPerStep: Double
  /// Extra figures for the table (GFLOP/s, nodes/s).
  var extra: [(String, Double)] = []
}

/// Times `step` after `warmup` calls: at least `iterations` samples and `minimumSeconds` of
/// sampling; reports the median (robust to the noise of a shared machine) and the average
/// allocation count per step, measured over the same steps.
func measure(
  _ workload: String, warmup: Int, iterations: Int, minimumSeconds: Double,
  _ step: () -> Void
) -> Measurement {
  for _ in 0..<warmup { step() }
  var samples: [Double] = []
  samples.reserveCapacity(max(iterations, 1024))
  let allocationsBefore = cr_allocation_count()
  var steps = 0
  let start = DispatchTime.now().uptimeNanoseconds
  while samples.count < iterations
    || Double(DispatchTime.now().uptimeNanoseconds - start) < minimumSeconds * 1e9
  {
    let t0 = DispatchTime.now().uptimeNanoseconds
    step()
    let t1 = DispatchTime.now().uptimeNanoseconds
    samples.append(Double(t1 - t0) / 1e9)
    steps += 1
    if samples.count == samples.capacity { break }  // the sample buffer must not grow mid-run
  }
  // Allocations made by the sample buffer itself are none: its capacity was reserved above.
  let allocations = Double(cr_allocation_count() - allocationsBefore) / Double(steps)
  samples.sort()
  return Measurement(
    workload: workload, medianSeconds: samples[samples.count / 2],
    allocationsPerStep: allocations)
}

/// Formats seconds with a unit that keeps three significant digits readable.
func formatDuration(_ seconds: Double) -> String {
  if seconds < 1e-6 { return String(format: "%.1f ns", seconds * 1e9) }
  if seconds < 1e-3 { return String(format: "%.2f µs", seconds * 1e6) }
  return String(format: "%.3f ms", seconds * 1e3)
}
