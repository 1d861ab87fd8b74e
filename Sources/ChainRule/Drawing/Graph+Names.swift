/// The names drawings and explanations give nodes: the user's name, qualified by its scope
/// where two nodes share it (`layer0.a`, `layer1.a`); an unnamed constant's number (`1`); an
/// unnamed op's expression in its operands' names (`x·w1`, `log(1 − a2)`).
struct NodeNames {
  /// The name of every node, by id.
  private(set) var names: [String]

  /// An unnamed op's expression longer than this is replaced by `op#id`.
  static let longestExpression = 40

  /// Names for every node of `graph`, computed once in creation order (an expression only
  /// reads its operands' names, which come first).
  init<Scalar: TensorScalar>(_ graph: Graph<Scalar>) {
    var counts: [String: Int] = [:]
    for record in graph.records {
      if let name = record.name { counts[name, default: 0] += 1 }
    }
    var qualifiedCounts: [String: Int] = [:]
    func qualified(_ record: Graph<Scalar>.Record) -> String {
      (record.scope + [record.name!]).joined(separator: ".")
    }
    for record in graph.records where record.name != nil && counts[record.name!]! > 1 {
      qualifiedCounts[qualified(record), default: 0] += 1
    }
    names = []
    names.reserveCapacity(graph.records.count)
    for (id, record) in graph.records.enumerated() {
      if let name = record.name {
        if counts[name]! == 1 {
          names.append(name)
        } else {
          let long = qualified(record)
          names.append(qualifiedCounts[long]! == 1 ? long : long + "#\(id)")
        }
        continue
      }
      switch record.kind {
      case .input, .parameter:
        names.append(graph.label(of: id))
      case .constant:
        let value = graph.values[id]
        let first = value.scalars.first.map { Double($0) }
        if let first, value.scalars.allSatisfy({ Double($0) == first }) {
          names.append(DotText.shortest(first))
        } else {
          names.append(graph.label(of: id))
        }
      case .operation:
        let text = ChainText.expression(
          operation: record.operation!, operands: record.inputs.map { names[$0] })
        names.append(
          text.count <= Self.longestExpression ? text : "\(record.operation!.name)#\(id)")
      }
    }
  }

  subscript(id: Int) -> String { names[id] }
}

extension Graph {
  /// The name a drawing or explanation shows for node `id` (see `NodeNames`).
  func displayName(of id: Int) -> String { NodeNames(self)[id] }
}
