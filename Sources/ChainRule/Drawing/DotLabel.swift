/// Graphviz HTML-like labels for the drawings: a node is a small table (its name in bold, its
/// op and shape in grey, its value and gradient as aligned grids of numbers or, when large,
/// as a summary), so columns of numbers line up the way a course writes a matrix.
///
/// HTML-like labels are written `label=<…>`; inside them only `&`, `<`, `>` and `"` need
/// escaping, and a line break is a `<BR/>`.
enum DotLabel {
  /// `text` escaped for an HTML-like label.
  static func escaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "\n", "\r", "\r\n": result += "<BR/>"
      default: result.append(character)
      }
    }
    return result
  }

  /// One row of a label: text spanning the table's two columns.
  static func row(_ html: String) -> String {
    "<TR><TD COLSPAN=\"2\">\(html)</TD></TR>"
  }

  /// A labelled row, `value  0.5  -1`: the caption on the left, the grid on the right.
  static func row(caption: String, _ html: String, color: String? = nil) -> String {
    let open = color.map { "<FONT COLOR=\"\($0)\">" } ?? ""
    let close = color == nil ? "" : "</FONT>"
    return "<TR><TD ALIGN=\"RIGHT\" VALIGN=\"MIDDLE\">\(open)\(escaped(caption))\(close)</TD>"
      + "<TD ALIGN=\"LEFT\">\(open)\(html)\(close)</TD></TR>"
  }

  /// Two labelled grids side by side in one row: `value [grid]   grad [grid]`.
  static func row(
    pair first: (caption: String, html: String, color: String?),
    _ second: (caption: String, html: String, color: String?)
  ) -> String {
    func cells(_ cell: (caption: String, html: String, color: String?)) -> String {
      let open = cell.color.map { "<FONT COLOR=\"\($0)\">" } ?? ""
      let close = cell.color == nil ? "" : "</FONT>"
      return "<TD VALIGN=\"MIDDLE\">\(open)\(escaped(cell.caption))\(close)</TD>"
        + "<TD>\(open)\(cell.html)\(close)</TD>"
    }
    return "<TR><TD COLSPAN=\"2\"><TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"2\" "
      + "CELLPADDING=\"0\"><TR>\(cells(first))\(cells(second))</TR></TABLE></TD></TR>"
  }

  /// The whole label from its rows.
  static func table(_ rows: [String]) -> String {
    "<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">"
      + rows.joined() + "</TABLE>>"
  }

  /// A tensor as an aligned grid (rank ≤ 2, at most `maximum` elements and
  /// `maximumColumns` columns: one cell per element, right-aligned, a row per matrix row) or,
  /// otherwise, as min / max and mean on two lines. Never empty: an empty tensor says so.
  static func tensor<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, maximum: Int, digits: Int)
    -> String
  {
    let maximumColumns = 6
    if tensor.count == 0 { return "(empty " + DotText.shape(tensor.shape) + ")" }
    let columns = tensor.rank == 0 ? 1 : tensor.shape[tensor.rank - 1]
    guard tensor.rank <= 2, tensor.count <= maximum, columns <= maximumColumns else {
      let (low, mean, high) = statistics(tensor)
      return "min " + escaped(DotText.number(low, digits: digits)) + "  max "
        + escaped(DotText.number(high, digits: digits)) + "<BR/>mean "
        + escaped(DotText.number(mean, digits: digits))
    }
    let texts = tensor.scalars.map { DotText.number(Double($0), digits: digits) }
    var rows = ""
    for start in stride(from: 0, to: texts.count, by: columns) {
      rows += "<TR>"
      for text in texts[start..<(start + columns)] {
        rows += "<TD ALIGN=\"RIGHT\">\(escaped(text))</TD>"
      }
      rows += "</TR>"
    }
    return "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"2\">"
      + "\(rows)</TABLE>"
  }

  /// `[64, 32]  min −0.31  mean 0.002  max 0.29`: what a large tensor holds, in one line.
  static func summary<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, digits: Int) -> String {
    let (low, mean, high) = statistics(tensor)
    return DotText.shape(tensor.shape) + "  min " + DotText.number(low, digits: digits)
      + "  mean " + DotText.number(mean, digits: digits) + "  max "
      + DotText.number(high, digits: digits)
  }

  /// The smallest element, the mean and the largest element.
  static func statistics<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>)
    -> (min: Double, mean: Double, max: Double)
  {
    let values = tensor.scalars.map { Double($0) }
    guard !values.isEmpty else { return (.nan, .nan, .nan) }
    return (values.min()!, values.reduce(0, +) / Double(values.count), values.max()!)
  }
}
