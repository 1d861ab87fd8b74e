import Foundation
import Testing

@testable import ChainRule

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `chainrule train --save` killed with SIGKILL at seeded random moments, half of them aimed
/// at the save itself (the moment its temporary file appears): the model file is always the
/// old one or the new one, byte for byte, never a mixture; at most the one temporary file of
/// that destination is left, and the next save leaves none.
///
/// `CHAINRULE_KILL_COUNT` sets the number of kills (default 6), `CHAINRULE_KILL_SEED` the seed.
@Suite("kill during save")
struct SaveInterruptionTests {
  @Test func aKilledSaveLeavesTheOldOrTheNewFileAndNoDebris() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var rows = ["f1,f2,f3,f4,label"]
    var generator = SplitMix64(seed: 3)
    for row in 0..<8 {
      rows.append(
        (0..<4).map { _ in String(generator.nextDouble(in: 0...1)) }.joined(separator: ",")
          + ",\(row % 2)")
    }
    _ = try CLITests.write(rows.joined(separator: "\n") + "\n", "data.csv", in: folder)
    // A wide network on 8 rows: little training, a 4.4 MB file (weights and Adam's m and v).
    func arguments(seed: Int, save: String) -> [String] {
      [
        "train", "--data", "data.csv", "--label", "label", "--hidden", "600,600", "--epochs", "1",
        "--batch-size", "8", "--validation", "0", "--seed", "\(seed)", "--save", save,
      ]
    }
    // The two files a save can leave: the references, written by uninterrupted runs.
    var references: [Data] = []
    var duration = 0.0
    for seed in [1, 2] {
      let start = Date()
      let result = try CLITests.run(arguments(seed: seed, save: "reference\(seed).st"), in: folder)
      duration = max(duration, Date().timeIntervalSince(start))
      try #require(result.status == 0, "\(result.error)")
      references.append(try Data(contentsOf: folder.appendingPathComponent("reference\(seed).st")))
    }
    try #require(references[0] != references[1])

    let environment = ProcessInfo.processInfo.environment
    let kills = Int(environment["CHAINRULE_KILL_COUNT"] ?? "") ?? 6
    var random = SplitMix64(seed: UInt64(environment["CHAINRULE_KILL_SEED"] ?? "") ?? 11)
    let model = folder.appendingPathComponent("model.st")
    let temporary = folder.appendingPathComponent(".model.st.tmp")
    /// The temporary file's change time (nil: absent): a save truncates and rewrites it, so a
    /// new time means this run's save had begun; an old one is a previous kill's leftover.
    func stamp() -> [Int]? {
      var info = stat()
      guard lstat(temporary.path, &info) == 0 else { return nil }
      return [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_size)]
    }
    var (killed, duringSave, leftovers, completed) = (0, 0, 0, 0)
    for attempt in 0..<kills {
      let before = stamp()
      let process = Process()
      process.executableURL = CLITests.executable
      process.arguments = arguments(seed: 1 + attempt % 2, save: "model.st")
      process.currentDirectoryURL = folder
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      if attempt % 2 == 0 {
        // Any moment of the run.
        usleep(UInt32(random.nextDouble(in: 0...(duration * 1.1)) * 1e6))
      } else {
        // Aimed at the save: once the temporary file exists, within a few milliseconds.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && (stamp() == nil || stamp() == before) && Date() < deadline {
          usleep(100)
        }
        usleep(UInt32(random.next() % 4000))
      }
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      if process.terminationReason == .uncaughtSignal {
        killed += 1
      } else {
        completed += 1
      }
      let after = stamp()
      if after != nil && after != before && process.terminationReason == .uncaughtSignal {
        duringSave += 1
      }
      if FileManager.default.fileExists(atPath: model.path) {
        let bytes = try Data(contentsOf: model)
        #expect(references.contains(bytes), "kill \(attempt): model.st is neither old nor new")
        #expect(throws: Never.self) { try SafeTensors.read(from: model) }
      }
      // Nothing but the one temporary name can be left over.
      let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
      let expected: Set = [
        "data.csv", "reference1.st", "reference2.st", "model.st", ".model.st.tmp",
      ]
      #expect(
        names.subtracting(expected).filter { !$0.hasPrefix(".stdout") && !$0.hasPrefix(".stderr") }
          .isEmpty, "\(names)")
    }
    // The next save reuses and removes the temporary file.
    let result = try CLITests.run(arguments(seed: 2, save: "model.st"), in: folder)
    #expect(result.status == 0, "\(result.error)")
    leftovers = FileManager.default.fileExists(atPath: temporary.path) ? 1 : 0
    #expect(leftovers == 0)
    #expect(try Data(contentsOf: model) == references[1])
    print(
      "kill during save: \(kills) runs, \(killed) killed (\(duringSave) inside the save: "
        + "its temporary file written and left), \(completed) finished first; model always old or new; "
        + "\(leftovers) leftovers after the next save")
  }
}
