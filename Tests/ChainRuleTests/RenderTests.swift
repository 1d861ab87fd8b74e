import Foundation
import Testing

@testable import ChainRule

@Suite struct RenderTests {
  func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "chainrule-render-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }

  @Test func atomicWriteReplacesAndLeavesNoTemporaryFile() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("graph.dot")
    try DotFile.write("first", to: url)
    try DotFile.write("digraph { a -> b }\n", to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == "digraph { a -> b }\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["graph.dot"])
  }

  @Test func writeIntoAMissingFolderNamesThePath() {
    let url = URL(fileURLWithPath: "/nonexistent-chainrule-folder/graph.dot")
    #expect {
      try DotFile.write("x", to: url)
    } throws: { error in
      guard case .writeFailed(let path, _) = error as? DrawingError else { return false }
      return path == url.path
    }
  }

  @Test func dotIsSearchedInPath() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(Graphviz.locateDot(searchPath: folder.path) == nil)
    #expect(Graphviz.locateDot(searchPath: "") == nil)
    let fake = folder.appendingPathComponent("dot")
    let created = FileManager.default.createFile(
      atPath: fake.path, contents: Data("#!/bin/sh\n".utf8),
      attributes: [.posixPermissions: 0o755])
    try #require(created)
    #expect(Graphviz.locateDot(searchPath: "/nonexistent:\(folder.path)")?.path == fake.path)
  }

  @Test func failingDotReportsItsStatusAndStandardError() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let fake = folder.appendingPathComponent("dot")
    let created = FileManager.default.createFile(
      atPath: fake.path,
      contents: Data("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n".utf8),
      attributes: [.posixPermissions: 0o755])
    try #require(created)
    #expect {
      _ = try Graphviz.render("digraph {", format: .svg, executable: fake)
    } throws: { error in
      guard case .dotFailed(_, _, let status, let standardError) = error as? DrawingError else {
        return false
      }
      return status == 3 && standardError == "syntax error in line 1\n"
        && (error as! DrawingError).description.hasSuffix("status 3: syntax error in line 1")
    }
  }

  @Test func missingDotIsATypedError() {
    let error = DrawingError.dotNotFound(searchPath: "/usr/bin")
    #expect(error.description.contains("`dot` was not found in PATH (/usr/bin)"))
  }

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func realDotRejectsBrokenDocumentsWithItsMessage() {
    #expect {
      _ = try Graphviz.render("digraph { a -> }", format: .svg)
    } throws: { error in
      guard case .dotFailed(_, _, let status, let standardError) = error as? DrawingError else {
        return false
      }
      return status != 0 && standardError.lowercased().contains("syntax error")
    }
  }

  @Test(.enabled(if: Graphviz.isInstalled, needsGraphviz))
  func realDotRendersSeed000ToSVGAndPNG() throws {
    let network = seed000AfterBackward()
    let dot = network.graph.dot(reaching: network.loss)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let svgURL = folder.appendingPathComponent("seed000.svg")
    try Graphviz.render(dot, format: .svg, to: svgURL)
    let svg = try String(contentsOf: svgURL, encoding: .utf8)
    #expect(svg.contains("<svg"))
    #expect(svg.contains(">layer1</text>"))
    #expect(svg.contains("∂a1/∂z1 = 0.822"))
    let png = try Graphviz.render(dot, format: .png)
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))  // the PNG signature
  }
  // `chainrule dot --collapse --frames` on a trained classifier: the collapsed scope is one
  // node, and one SVG frame per node with a gradient is written.
  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED cliWritesCollapsedDrawingsAndFrames: Graphviz `dot` is not on PATH"))
  func cliWritesCollapsedDrawingsAndFrames() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let train = try CLITests.run(
      ["train", "--data", data, "--label", "label", "--hidden", "5", "--epochs", "1"], in: folder)
    #expect(train.status == 0, "\(train.error)")
    let run = try CLITests.run(
      [
        "dot", "--model", "model.safetensors", "--data", data, "--out", "g.dot", "--collapse",
        "layer0", "--frames", "frames",
      ], in: folder)
    #expect(run.status == 0, "\(run.error)")
    let text = try String(contentsOf: folder.appendingPathComponent("g.dot"), encoding: .utf8)
    #expect(text.contains("scope layer0: "))
    #expect(!text.contains("<B>layer0.weight</B>"))
    let frames = try FileManager.default.contentsOfDirectory(
      atPath: folder.appendingPathComponent("frames").path
    ).sorted()
    // loss, layer1's z, its bias, x·W product and weight, the collapsed layer0, x: 7 frames.
    #expect(frames.first == "step-01.svg" && frames.count == 7, "\(frames)")
    #expect(run.output.contains("wrote \(frames.count) frames into frames"))
    let refused = try CLITests.run(
      ["dot", "--model", "model.safetensors", "--frames", "frames"], in: folder)
    #expect(refused.status == 1 && refused.error.contains("--frames needs --data"))
  }
  /// Debian's `chromium`, when installed.
  static let chromium: URL? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].map {
    URL(fileURLWithPath: $0)
  }.first { FileManager.default.isExecutableFile(atPath: $0.path) }

  /// Runs headless Chromium on `url` with `arguments` (`--dump-dom`, `--screenshot=…`) and
  /// returns its standard output.
  static func chromium(_ arguments: [String], url: String) throws -> String {
    let process = Process()
    process.executableURL = chromium!
    process.arguments =
      ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments + [url]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  /// The text of the element with id `id` in a dumped DOM (up to its first `<`).
  static func element(_ id: String, in dom: String) -> String? {
    guard let start = dom.range(of: "id=\"\(id)\">") else { return nil }
    return String(dom[start.upperBound...].prefix { $0 != "<" })
  }

  // The interactive page of seed 000 (loss collapsed), loaded in a real headless Chromium: the
  // URL fragment picks the step and the node, and the DOM the script builds shows them. (Clicks
  // and steps are driven through Selenium in PageBrowserTests.)
  @Test(
    .enabled(
      if: Graphviz.isInstalled && RenderTests.chromium != nil,
      "SKIPPED interactivePageStepsInChromium: needs Graphviz `dot` and Debian's `chromium`"))
  func interactivePageStepsInChromium() throws {
    let network = Examples.seed000()
    var options = DotOptions()
    options.collapse = ["loss"]
    let page = try network.graph.html(from: network.loss, options: options)
    // Self-contained: nothing is fetched (the only URLs are SVG's XML namespaces).
    #expect(!page.contains("src=") && !page.contains("href=\"http") && !page.contains("@import"))
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("seed000.html")
    try DotFile.write(page, to: url)
    let a2 = network.a2.value.scalar
    let n = { (value: Double) in DotText.number(value, digits: 3) }
    // Step 3 completes ∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2; the details panel shows z2.
    let dom = try Self.chromium(["--dump-dom"], url: url.absoluteString + "#step=3&node=z2")
    #expect(Self.element("step-label", in: dom) == "Step 3 of 12", "\(dom.prefix(2000))")
    #expect(
      Self.element("step-title", in: dom)
        == "Step 3 of 12\n∂L/∂z2 = ∂L/∂a2 · ∂a2/∂z2\n= \(n((a2 - 1) / (a2 * (1 - a2)))) · "
        + "\(n(a2 * (1 - a2))) = \(n(a2 - 1))")
    #expect(Self.element("detail-name", in: dom) == "z2")
    #expect(Self.element("detail-value", in: dom) == n(network.z2.value.scalar))
    #expect(Self.element("detail-grad", in: dom) == n(a2 - 1))
    #expect(dom.contains("<div class=\"frame\" data-step=\"3\">"))  // shown
    #expect(dom.contains("<div class=\"frame\" data-step=\"2\" hidden=\"\">"))
    // Another step and node: the DOM follows the fragment.
    let other = try Self.chromium(["--dump-dom"], url: url.absoluteString + "#step=12&node=w1")
    #expect(Self.element("step-label", in: other) == "Step 12 of 12")
    #expect(Self.element("detail-name", in: other) == "w1")
    #expect(Self.element("detail-op", in: other) == "parameter  [2, 1]")
    let overview = try Self.chromium(["--dump-dom"], url: url.absoluteString)
    #expect(Self.element("step-label", in: overview) == "after backward")
  }
}
