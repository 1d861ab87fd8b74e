import Dispatch
import Foundation

/// A fixed set of threads that compute the blocks of one matrix product.
///
/// Unlike `DispatchQueue.concurrentPerform`, a call allocates nothing: the job is plain data
/// (`GemmJob`) parked in a slot for the duration of the call, and the threads are started once
/// and wait on semaphores between calls. Calls are serialised by a lock, so concurrent callers
/// take turns rather than oversubscribing the cores.
final class WorkerPool: @unchecked Sendable {
  /// The pool for the GEMM: one worker per core beyond the calling thread's.
  static let shared = WorkerPool(workers: max(0, Gemm.coreCount - 1))

  private let workerCount: Int
  private let start: [DispatchSemaphore]
  private let finished = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  /// The current job; set under `lock` before the workers are woken.
  private var job: GemmJob?

  init(workers: Int) {
    workerCount = workers
    start = (0..<workers).map { _ in DispatchSemaphore(value: 0) }
    for worker in 0..<workers {
      let thread = Thread { [unowned self] in self.serve(worker) }
      thread.name = "ChainRule GEMM worker \(worker + 1)"
      thread.start()
    }
  }

  /// Computes every block of `job` in `0..<parts`: block 0 on the calling thread, the others
  /// on the workers (blocks beyond the worker count on the caller too), and returns when all
  /// are done.
  func run(_ job: GemmJob, parts: Int) {
    guard parts > 1, workerCount > 0 else {
      for part in 0..<parts { job.run(part: part) }
      return
    }
    lock.lock()
    defer { lock.unlock() }
    self.job = job
    let helpers = min(workerCount, parts - 1)
    for worker in 0..<helpers { start[worker].signal() }
    job.run(part: 0)
    for part in (helpers + 1)..<max(helpers + 1, parts) { job.run(part: part) }
    for _ in 0..<helpers { finished.wait() }
    self.job = nil
  }

  /// A worker's loop: wait for a job, run its part (worker i runs part i + 1), report back.
  private func serve(_ worker: Int) {
    while true {
      start[worker].wait()
      job!.run(part: worker + 1)
      finished.signal()
    }
  }
}
