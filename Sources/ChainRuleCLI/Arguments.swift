import Foundation

/// A failure the command reports as one line, `chainrule: error: <message>`, and an exit code.
struct CLIError: Error {
  /// What went wrong and where (file, line, column, option).
  var message: String
  /// 2 for a bad command line, 1 for anything else.
  var exitCode: Int32 = 1

  /// A bad command line: unknown option, missing or malformed value.
  static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
}

/// The options after a subcommand, parsed by hand: `--name value`, `--name=value` and bare
/// flags such as `--help`. Every option may appear once; anything unknown is an error that
/// names it (and the closest known option).
struct Arguments {
  /// The command's name, for messages (`train`).
  let command: String
  private var values: [String: String] = [:]
  private var flags: Set<String> = []
  /// Words that are not options (for a command that takes a file name, `summary FILE`).
  private(set) var positional: [String] = []

  /// Parses `words` against the command's known options (which take a value) and flags.
  /// - Throws: `CLIError.usage` for an unknown option, a repeated one, a missing value or a
  ///   positional argument.
  init(
    _ words: [String], command: String, options: [String], flags known: [String],
    positional allowed: Int = 0
  ) throws(CLIError) {
    self.command = command
    var index = 0
    while index < words.count {
      let word = words[index]
      index += 1
      guard word.hasPrefix("-"), word.count > 1 else {
        guard positional.count < allowed else {
          throw .usage("\(command): unexpected argument \"\(word)\" (options start with --)")
        }
        positional.append(word)
        continue
      }
      let name = word == "-h" ? "--help" : String(word.prefix { $0 != "=" })
      let inline = word.contains("=") ? String(word.drop { $0 != "=" }.dropFirst()) : nil
      if known.contains(name) || name == "--help" {
        guard inline == nil else { throw .usage("\(command): \(name) takes no value") }
        flags.insert(name)
      } else if options.contains(name) {
        guard values[name] == nil else { throw .usage("\(command): \(name) given twice") }
        if let inline {
          values[name] = inline
        } else {
          guard index < words.count, !words[index].hasPrefix("--") else {
            throw .usage("\(command): \(name) needs a value")
          }
          values[name] = words[index]
          index += 1
        }
      } else {
        let suggestion = Self.closest(to: name, among: options + known)
        throw .usage(
          "\(command): unknown option \(name)"
            + (suggestion.map { " (did you mean \($0)?)" } ?? "")
            + "; see chainrule \(command) --help")
      }
    }
  }

  /// Whether the flag was given.
  func has(_ flag: String) -> Bool { flags.contains(flag) }

  /// The option's text, or `nil` when it was not given.
  func string(_ name: String) -> String? { values[name] }

  /// The option's text.
  /// - Throws: `CLIError.usage` when it was not given.
  func required(_ name: String) throws(CLIError) -> String {
    guard let value = values[name] else { throw .usage("\(command): \(name) is required") }
    return value
  }

  /// The option as a whole number in `range`, or `fallback` when not given.
  func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(CLIError)
    -> Int
  {
    guard let text = values[name] else { return fallback }
    guard let value = Int(text), range.contains(value) else {
      throw .usage(
        "\(command): \(name) must be a whole number in \(Self.show(range)), got \"\(text)\"")
    }
    return value
  }

  /// The option as a finite number in `range`, or `fallback` when not given.
  func double(_ name: String, default fallback: Double, in range: ClosedRange<Double>)
    throws(CLIError) -> Double
  {
    guard let text = values[name] else { return fallback }
    guard let value = Double(text), value.isFinite, range.contains(value) else {
      throw .usage("\(command): \(name) must be a number in \(Self.show(range)), got \"\(text)\"")
    }
    return value
  }

  /// The option as a comma-separated list of positive whole numbers (`32,16`), or `fallback`.
  func sizes(_ name: String, default fallback: [Int]) throws(CLIError) -> [Int] {
    guard let text = values[name] else { return fallback }
    if text.isEmpty || text == "none" { return [] }
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let sizes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard sizes.count == parts.count, sizes.allSatisfy(Limits.layerSize.contains) else {
      throw .usage(
        "\(command): \(name) must be layer sizes such as 32,16 (positive whole numbers), "
          + "got \"\(text)\"")
    }
    return sizes
  }

  /// The option as one of a fixed set of words, or `fallback`.
  func choice<Value: RawRepresentable & CaseIterable>(
    _ name: String, default fallback: Value
  ) throws(CLIError) -> Value where Value.RawValue == String {
    guard let text = values[name] else { return fallback }
    guard let value = Value(rawValue: text) else {
      let names = Value.allCases.map(\.rawValue).joined(separator: "|")
      throw .usage("\(command): \(name) must be one of \(names), got \"\(text)\"")
    }
    return value
  }

  private static func show<T>(_ range: ClosedRange<T>) -> String {
    "[\(range.lowerBound), \(range.upperBound)]"
  }

  /// The known option within edit distance 2 of `name`, if exactly one is closest.
  static func closest(to name: String, among known: [String]) -> String? {
    let scored = known.map { ($0, distance(Array(name), Array($0))) }.filter { $0.1 <= 2 }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return scored.filter { $0.1 == best.1 }.count == 1 ? best.0 : nil
  }

  /// Levenshtein distance.
  private static func distance(_ a: [Character], _ b: [Character]) -> Int {
    var previous = Array(0...b.count)
    for (i, ca) in a.enumerated() {
      var current = [i + 1]
      for (j, cb) in b.enumerated() {
        current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
      }
      previous = current
    }
    return previous[b.count]
  }
}

/// A subcommand: its help text, the options it accepts, and what it does.
protocol Command: SendableMetatype {
  /// The word after `chainrule`.
  static var name: String { get }
  /// One line for the command list.
  static var summary: String { get }
  /// The full `--help` text.
  static var help: String { get }
  /// Options that take a value.
  static var options: [String] { get }
  /// Options without a value (besides `--help`).
  static var flags: [String] { get }
  /// How many words that are not options the command takes (a file name).
  static var positional: Int { get }
  /// Runs the command; returns normally on success.
  static func run(_ arguments: Arguments) throws(CLIError)
}

extension Command {
  static var flags: [String] { [] }
  static var positional: Int { 0 }

  /// The command as a value, for the list `main.swift` dispatches on.
  static var entry: CommandEntry {
    CommandEntry(name: name, summary: summary, help: help) { words throws(CLIError) in
      let arguments = try Arguments(
        words, command: name, options: options, flags: flags, positional: positional)
      guard !arguments.has("--help") else { return print(help) }
      try run(arguments)
    }
  }
}

/// A subcommand's name, texts and entry point (values rather than existential metatypes).
struct CommandEntry: Sendable {
  let name: String
  let summary: String
  let help: String
  /// Parses the words after the command's name and runs it.
  let execute: @Sendable ([String]) throws(CLIError) -> Void
}
