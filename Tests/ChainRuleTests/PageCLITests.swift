import Foundation
import Testing

@testable import ChainRule

/// `chainrule dot --html`: the interactive page of a trained model's backward pass.
@Suite struct PageCLITests {
  // The page is written beside the DOT file, self-contained, with one step per frame that
  // `--frames` writes (the same backward pass), and Chromium shows its last step.
  @Test(
    .enabled(
      if: Graphviz.isInstalled,
      "SKIPPED cliWritesTheInteractivePage: Graphviz `dot` is not on PATH"))
  func cliWritesTheInteractivePage() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let train = try CLITests.run(
      ["train", "--data", data, "--label", "label", "--hidden", "3", "--epochs", "1"], in: folder)
    #expect(train.status == 0, "\(train.error)")
    let run = try CLITests.run(
      [
        "dot", "--model", "model.safetensors", "--data", data, "--html", "page.html",
        "--frames", "frames",
      ], in: folder)
    #expect(run.status == 0, "\(run.error)")
    #expect(run.output.contains("wrote page.html (interactive page)"))
    let url = folder.appendingPathComponent("page.html")
    let page = try String(contentsOf: url, encoding: .utf8)
    let frames = try FileManager.default.contentsOfDirectory(
      atPath: folder.appendingPathComponent("frames").path)
    // Step 0 (the overview) and one step per frame.
    #expect(page.components(separatedBy: "<div class=\"frame\"").count - 1 == frames.count + 1)
    #expect(page.contains("max=\"\(frames.count)\""))
    #expect(!page.contains("src=") && !page.contains("href=\"http"))
    // The explain menu offers the first layer's weight elements.
    #expect(page.contains("<option value=\"layer0.weight[0,0]\">"), "\(page.prefix(3000))")
    if RenderTests.chromium != nil {
      let dom = try RenderTests.chromium(
        ["--dump-dom"], url: url.absoluteString + "#step=\(frames.count)")
      #expect(
        RenderTests.element("step-label", in: dom) == "Step \(frames.count) of \(frames.count)")
    } else {
      print("SKIPPED (Chromium part of cliWritesTheInteractivePage): Debian's chromium is missing")
    }
  }

  @Test func htmlNeedsData() throws {
    let folder = try CLITests.folder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try CLITests.write(CLITests.classificationCSV(), "blobs.csv", in: folder)
    let train = try CLITests.run(
      ["train", "--data", data, "--label", "label", "--hidden", "3", "--epochs", "1"], in: folder)
    #expect(train.status == 0, "\(train.error)")
    let refused = try CLITests.run(
      ["dot", "--model", "model.safetensors", "--html", "page.html"], in: folder)
    #expect(refused.status == 1 && refused.error.contains("--html needs --data"))
    // The argument refusals come before the model is read: a missing model is not reached.
    for option in ["--html", "--frames"] {
      let early = try CLITests.run(
        ["dot", "--model", "absent.safetensors", option, "out"], in: folder)
      #expect(early.status == 1 && early.error.contains("\(option) needs --data"), "\(early.error)")
      #expect(!early.error.contains("absent.safetensors"), "\(early.error)")
    }
    let missing = try CLITests.run(
      ["dot", "--model", "model.safetensors", "--data", data, "--html", "nowhere/page.html"],
      in: folder)
    #expect(missing.status == 1 && missing.error.contains("--html nowhere/page.html: folder"))
  }
}
