import ChainRule
import Foundation

// `chainrule [command] [options]`: dispatches to one subcommand; every failure becomes one
// line on standard error, `chainrule: error: …`, and a non-zero exit status (2 for a bad
// command line, 1 otherwise).

/// The subcommands, in the order `--help` lists them.
let commands = [
  DemoCommand.entry, TrainCommand.entry, PredictCommand.entry, GradcheckCommand.entry,
  DotCommand.entry, SummaryCommand.entry,
]

/// The commands' names, for messages.
let names = commands.map(\.name).joined(separator: ", ")

/// `chainrule --help`.
let overview = """
  chainrule — reverse-mode automatic differentiation on an explicit computational graph

  usage: chainrule [command] [options]

  commands:
  \(commands.map { "  " + $0.name.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.summary }
    .joined(separator: "\n"))
    help [cmd] this text, or a command's options

  Without a command, chainrule runs `demo`. `chainrule <command> --help` lists its options.
  """

/// Picks the subcommand from the first word and runs it with the rest.
@MainActor func run(_ words: [String]) throws(CLIError) {
  let first = words.first ?? "demo"
  if first == "help" || first == "--help" || first == "-h" {
    guard first == "help", words.count > 1 else { return print(overview) }
    guard let command = commands.first(where: { $0.name == words[1] }) else {
      throw .usage("help: unknown command \"\(words[1])\"; commands: \(names)")
    }
    return print(command.help)
  }
  if first == "--version" { return print("chainrule \(ChainRuleVersion.string)") }
  // Options without a command go to `demo`.
  let name = first.hasPrefix("-") ? "demo" : first
  guard let command = commands.first(where: { $0.name == name }) else {
    let suggestion = Arguments.closest(to: name, among: commands.map(\.name))
    throw .usage(
      "unknown command \"\(name)\"\(suggestion.map { " (did you mean \($0)?)" } ?? "")"
        + "; commands: \(names)")
  }
  try command.execute(first.hasPrefix("-") ? words : Array(words.dropFirst()))
}

do {
  try run(Array(CommandLine.arguments.dropFirst()))
} catch {
  Terminal.clearProgressLine()
  FileHandle.standardError.write(
    Data("chainrule: error: \(Terminal.oneLine(error.message))\n".utf8))
  exit(error.exitCode)
}
