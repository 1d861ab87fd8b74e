extension Graph {
  /// A plain-text listing of the graph, one node per line in creation order: id, label, kind or
  /// op with its operands, shape, and (optionally) every value in full precision.
  ///
  /// ```text
  /// #0 x = input [1, 2] = [0.5, -1.0]
  /// #1 w1 = parameter [2, 1] = [0.3, -0.2]
  /// #2 matmul#2 = matmul(#0 x, #1 w1) [1, 1] = [0.35]
  /// ```
  /// Values are printed with Swift's shortest round-trip form, so the listing is enough to
  /// rebuild the graph exactly (the fuzz tests print it for a failing graph).
  /// - Parameter includingValues: Whether to print the values (default `true`).
  public func listing(includingValues: Bool = true) -> String {
    records.indices.map { id in
      let record = records[id]
      let scope = record.scope.isEmpty ? "" : " in \(record.scope.joined(separator: "/"))"
      let what: String
      if let operation = record.operation {
        let operands = record.inputs.map { "#\($0) \(label(of: $0))" }.joined(separator: ", ")
        what = "\(operation.name)(\(operands))"
      } else {
        what = "\(record.kind)"
      }
      let value = values[id]
      let scalars = includingValues ? " = \(value.scalars)" : ""
      return "#\(id) \(label(of: id)) = \(what) \(value.shape)\(scope)\(scalars)"
    }.joined(separator: "\n")
  }
}
