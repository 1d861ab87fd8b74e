import Foundation
import Testing

/// The README repeats examples whose code and output are tested where they live in `Docs/`
/// (TrainingExampleTests, GradientCheckDocumentationTests): these checks keep the copies equal.
@Suite("README")
struct ReadmeTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func text(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
  }

  /// The fenced blocks of a Markdown text opened with ```` ```language ````.
  static func blocks(_ markdown: String, language: String) -> [String] {
    let lines = markdown.components(separatedBy: "\n")
    var result: [String] = []
    var current: [String]?
    for line in lines {
      if current == nil, line == "```" + language {
        current = []
      } else if current != nil, line == "```" {
        result.append(current!.joined(separator: "\n"))
        current = nil
      } else {
        current?.append(line)
      }
    }
    return result
  }

  @Test func trainingExampleIsTheTestedOne() throws {
    let tested = try #require(
      Self.blocks(try Self.text("Docs/training-example.md"), language: "swift").first)
    #expect(Self.blocks(try Self.text("README.md"), language: "swift").contains(tested))
  }

  @Test func gradientCheckExampleAndReportAreTheTestedOnes() throws {
    let document = try Self.text("Docs/gradient-check.md")
    let readme = try Self.text("README.md")
    let code = try #require(Self.blocks(document, language: "swift").first)
    let report = try #require(Self.blocks(document, language: "text").first)
    #expect(Self.blocks(readme, language: "swift").contains(code))
    #expect(Self.blocks(readme, language: "text").contains(report))
  }
}
