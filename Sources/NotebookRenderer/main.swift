// notebook-render: renders a notebook (Notebooks/NN-Name/main.swift) and what it prints to
// Notebooks/NN-Name/README.md, or with --check fails when that file is out of date.
import Foundation
import NotebookSupport

let usage = """
  usage: notebook-render [--check] [--output FILE | --executable PATH] NOTEBOOK_FOLDER...

  Renders each notebook folder's main.swift with the output of a run to README.md beside it.
  The output is read from FILE (one folder only), or by running PATH, by default
  .build/release/<Name> for a folder NN-<Name> (build it with `swift build -c release`).
  --check writes nothing and exits 1 when a README.md differs from the fresh render.
  """

func fail(_ message: String, status: Int32 = 2) -> Never {
  FileHandle.standardError.write(Data("notebook-render: \(message)\n".utf8))
  exit(status)
}

var check = false
var outputFile: String?
var executable: String?
var folders: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--check": check = true
  case "--output":
    guard let value = arguments.popFirst() else { fail("--output needs a file\n\(usage)") }
    outputFile = value
  case "--executable":
    guard let value = arguments.popFirst() else { fail("--executable needs a path\n\(usage)") }
    executable = value
  case "-h", "--help":
    print(usage)
    exit(0)
  default:
    if argument.hasPrefix("-") { fail("unknown option \(argument)\n\(usage)") }
    folders.append(argument)
  }
}
if folders.isEmpty { fail("no notebook folder given\n\(usage)") }
if folders.count > 1 && (outputFile != nil || executable != nil) {
  fail("--output and --executable take one notebook folder")
}

/// Runs `path` and returns its standard output; its standard error passes through.
func run(_ path: String) -> String {
  guard FileManager.default.isExecutableFile(atPath: path) else {
    fail("no notebook executable at \(path); build it first with `swift build -c release`")
  }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  let pipe = Pipe()
  process.standardOutput = pipe
  do { try process.run() } catch { fail("could not run \(path): \(error)") }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationReason == .exit, process.terminationStatus == 0 else {
    fail("\(path) failed with status \(process.terminationStatus)")
  }
  return String(decoding: data, as: UTF8.self)
}

/// The executable name of a folder `NN-Name`: `Name`.
func targetName(_ folder: URL) -> String {
  let name = folder.lastPathComponent
  guard let dash = name.firstIndex(of: "-"), name[..<dash].allSatisfy(\.isNumber) else {
    return name
  }
  return String(name[name.index(after: dash)...])
}

var stale: [String] = []
for path in folders {
  let folder = URL(fileURLWithPath: path).standardizedFileURL
  let sourceURL = folder.appendingPathComponent("main.swift")
  let markdownURL = folder.appendingPathComponent("README.md")
  guard let source = try? String(contentsOf: sourceURL, encoding: .utf8) else {
    fail("cannot read \(sourceURL.path)")
  }
  let output: String
  if let outputFile {
    guard let text = try? String(contentsOf: URL(fileURLWithPath: outputFile), encoding: .utf8)
    else { fail("cannot read \(outputFile)") }
    output = text
  } else {
    output = run(executable ?? ".build/release/\(targetName(folder))")
  }
  let markdown: String
  do {
    var document = try NotebookDocument(parsing: source, file: sourceURL.path)
    try document.attach(output: output)
    markdown = document.markdown()
  } catch {
    fail(error.description)
  }
  let committed = try? String(contentsOf: markdownURL, encoding: .utf8)
  if check {
    if committed == markdown {
      print("up to date: \(markdownURL.path)")
    } else {
      stale.append(markdownURL.path)
      let old = (committed ?? "").components(separatedBy: "\n")
      let new = markdown.components(separatedBy: "\n")
      let line =
        (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
      print("STALE: \(markdownURL.path) differs from a fresh render at line \(line + 1)")
      print("  committed: \(line < old.count ? old[line] : "(end of file)")")
      print("  fresh:     \(line < new.count ? new[line] : "(end of file)")")
    }
  } else if committed != markdown {
    do {
      try Data(markdown.utf8).write(to: markdownURL, options: .atomic)
    } catch {
      fail("cannot write \(markdownURL.path): \(error)")
    }
    print("wrote \(markdownURL.path)")
  } else {
    print("unchanged: \(markdownURL.path)")
  }
}
if !stale.isEmpty {
  print("\(stale.count) notebook(s) out of date: run Notebooks/check.sh --update and commit")
  exit(1)
}
