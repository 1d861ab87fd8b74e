import Foundation

/// A graph of scalar (`Double`) nodes, micrograd's `Value` without a heap object per node.
///
/// Building is the hot path (micrograd's workload is build + backward every step), so the
/// node-building calls are `@inlinable`: inlined into the caller's loop, a node costs an
/// append and no call.
///
/// Every node is one row (op, operands, value, gradient) in storage the graph owns, so building
/// a node appends a row and backward is one reverse loop over the rows: no allocation per node
/// once the storage has grown, and no recursion. Use it for networks of individual neurons
/// (the way micrograd teaches); use `Graph` for tensors.
///
/// ```swift
/// let g = ScalarGraph()
/// let x = g.leaf(0.5), w = g.leaf(-1.5)
/// let y = (x * w + 1).tanh()
/// g.backward(from: y)
/// print(w.gradient)   // x · (1 − y²)
/// ```
public final class ScalarGraph {
  /// The primitive each node computes; composites (`-`, `/`) are built from these.
  @usableFromInline enum Op: UInt8 {
    case leaf, add, multiply, negate, power, exp, log, tanh, sigmoid, relu
  }

  /// One node: what it computes, from which operands, and its value and gradient.
  @usableFromInline struct Row {
    @usableFromInline var op: Op
    @usableFromInline var lhs: Int32
    @usableFromInline var rhs: Int32
    @usableFromInline var value: Double
    @usableFromInline var gradient: Double

    @usableFromInline init(op: Op, lhs: Int32, rhs: Int32, value: Double, gradient: Double) {
      (self.op, self.lhs, self.rhs, self.value, self.gradient) = (op, lhs, rhs, value, gradient)
    }
  }

  /// The nodes in creation order: `rows[0..<rowCount]` of storage the graph owns, so that adding
  /// a node is a capacity check and a store (an array's append also checks, by a call, that its
  /// buffer is not shared). Exclusivity is checked statically for these three; the dynamic
  /// check on every append would cost more than the append itself.
  @usableFromInline @exclusivity(unchecked) var rows: UnsafeMutablePointer<Row>
  @usableFromInline @exclusivity(unchecked) var rowCount = 0
  @usableFromInline @exclusivity(unchecked) var capacity: Int

  /// Names given with `ScalarNode.named(_:)`, for drawings only (see `ScalarGraph+Dot`).
  var names: [Int32: String] = [:]

  /// An empty graph with room for `capacity` nodes before its storage grows.
  public init(capacity: Int = 0) {
    self.capacity = Swift.max(capacity, 16)
    rows = .allocate(capacity: self.capacity)
  }

  deinit { rows.deallocate() }  // a Row is plain data: nothing to deinitialize

  /// The number of nodes.
  public var count: Int { rowCount }

  /// Makes room for `capacity` nodes in total.
  public func reserveCapacity(_ capacity: Int) {
    if capacity > self.capacity { grow(to: capacity) }
  }

  /// Moves the nodes to storage for at least `minimum` of them (twice the old, as an array).
  @usableFromInline @inline(never)
  func grow(to minimum: Int) {
    let larger = Swift.max(minimum, 2 * capacity)
    let moved = UnsafeMutablePointer<Row>.allocate(capacity: larger)
    moved.moveInitialize(from: rows, count: rowCount)
    rows.deallocate()
    (rows, capacity) = (moved, larger)
  }

  /// Removes every node but keeps the storage, so the next build allocates nothing.
  public func removeAll() {
    rowCount = 0
    names.removeAll()
  }

  /// A leaf node holding `value` (an input or a parameter).
  @inlinable @inline(__always)
  public func leaf(_ value: Double) -> ScalarNode {
    append(.leaf, -1, -1, value)
  }

  @inlinable @inline(__always)
  func append(_ op: Op, _ a: Int32, _ b: Int32, _ value: Double) -> ScalarNode {
    if _slowPath(rowCount == capacity) { grow(to: rowCount + 1) }
    (rows + rowCount).initialize(to: Row(op: op, lhs: a, rhs: b, value: value, gradient: 0))
    rowCount += 1
    return ScalarNode(graph: self, index: Int32(rowCount - 1))
  }

  /// The row of `node`, which must be a node of the graph as it is now (not one from before
  /// `removeAll()`).
  @inlinable @inline(__always)
  func row(_ node: ScalarNode) -> UnsafeMutablePointer<Row> {
    if _slowPath(Int(node.index) >= rowCount) { Self.staleNode(node.index, rowCount) }
    return rows + Int(node.index)
  }

  /// Stops with a message: a node past the graph's end was built before `removeAll()`.
  @usableFromInline @inline(never)
  static func staleNode(_ index: Int32, _ count: Int) -> Never {
    requirementFailure(
      "scalar node \(index) of a graph of \(count) nodes: built before removeAll()")
  }

  /// A node a ∘ b of two nodes, which must both be rows of this graph.
  @inlinable @inline(__always)
  func append(_ op: Op, _ a: ScalarNode, _ b: ScalarNode, _ value: Double) -> ScalarNode {
    if _slowPath(a.graph !== b.graph) { Self.operandsFromTwoGraphs(op) }
    return append(op, a.index, b.index, value)
  }

  /// Stops with a message naming the op: an index into another graph's rows means nothing here.
  @usableFromInline @inline(never)
  static func operandsFromTwoGraphs(_ op: Op) -> Never {
    requirementFailure("\(op): operands from two different scalar graphs")
  }

  /// Reverse-mode differentiation: ∂output/∂node for every node, in one reverse loop.
  ///
  /// Each node hands its gradient ḡ to its operands with the local derivative:
  /// a + b → (ḡ, ḡ); a · b → (ḡ·b, ḡ·a); aⁿ → ḡ·n·aⁿ⁻¹; eᵃ → ḡ·y; ln a → ḡ/a;
  /// tanh a → ḡ·(1 − y²); σ(a) → ḡ·y(1 − y); relu a → ḡ·[a > 0]; −a → −ḡ.
  public func backward(from output: ScalarNode) {
    require(output.graph === self, "backward: output from another scalar graph")
    let end = Int(output.index)
    _ = self.row(output)  // stops on a node from before removeAll()
    let row = rows
    for i in 0...end { row[i].gradient = 0 }
    row[end].gradient = 1
    for i in stride(from: end, through: 0, by: -1) {
      let g = row[i].gradient
      let a = Int(row[i].lhs)
      let b = Int(row[i].rhs)
      switch row[i].op {
      case .leaf: continue
      case .add:
        row[a].gradient += g
        row[b].gradient += g
      case .multiply:
        row[a].gradient += g * row[b].value
        row[b].gradient += g * row[a].value
      case .negate: row[a].gradient -= g
      case .power:
        let n = row[b].value
        row[a].gradient += g * n * Foundation.pow(row[a].value, n - 1)
      case .exp: row[a].gradient += g * row[i].value
      case .log: row[a].gradient += g / row[a].value
      case .tanh: row[a].gradient += g * (1 - row[i].value * row[i].value)
      case .sigmoid: row[a].gradient += g * row[i].value * (1 - row[i].value)
      case .relu: row[a].gradient += row[a].value > 0 ? g : 0
      }
    }
  }
}

/// A handle to one node of a `ScalarGraph`; arithmetic on handles builds new nodes.
public struct ScalarNode {
  /// The graph that owns the node.
  public let graph: ScalarGraph
  /// The node's position in creation order.
  public let index: Int32

  @usableFromInline init(graph: ScalarGraph, index: Int32) {
    self.graph = graph
    self.index = index
  }

  /// The forward value.
  @inlinable public var value: Double { graph.row(self).pointee.value }
  /// ∂output/∂self from the last `backward(from:)`.
  public var gradient: Double { graph.row(self).pointee.gradient }

  @inlinable @inline(__always)
  func unary(_ op: ScalarGraph.Op, _ value: Double) -> ScalarNode {
    graph.append(op, index, -1, value)
  }

  /// tanh(self).
  @inlinable @inline(__always)
  public func tanh() -> ScalarNode { unary(.tanh, Foundation.tanh(value)) }
  /// eˢᵉˡᶠ.
  public func exp() -> ScalarNode { unary(.exp, Foundation.exp(value)) }
  /// ln(self).
  public func log() -> ScalarNode { unary(.log, Foundation.log(value)) }
  /// σ(self) = 1 / (1 + e⁻ˢᵉˡᶠ).
  public func sigmoid() -> ScalarNode {
    let x = value
    return unary(
      .sigmoid, x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)))
  }
  /// max(0, self); its derivative at 0 is taken to be 0, as in `ReLU`.
  public func relu() -> ScalarNode { unary(.relu, Swift.max(0, value)) }
  /// selfⁿ for a constant exponent.
  public func power(_ exponent: Double) -> ScalarNode {
    let n = graph.leaf(exponent)
    return graph.append(.power, index, n.index, Foundation.pow(value, exponent))
  }

  /// a + b, a new node; ∂/∂a = 1, ∂/∂b = 1.
  @inlinable @inline(__always) public static func + (a: ScalarNode, b: ScalarNode) -> ScalarNode {
    a.graph.append(.add, a, b, a.value + b.value)
  }
  /// a · b, a new node; ∂/∂a = b, ∂/∂b = a.
  @inlinable @inline(__always) public static func * (a: ScalarNode, b: ScalarNode) -> ScalarNode {
    a.graph.append(.multiply, a, b, a.value * b.value)
  }
  /// −a, a new node; ∂/∂a = −1.
  public static prefix func - (a: ScalarNode) -> ScalarNode { a.unary(.negate, -a.value) }
  /// a − b, built as a + (−b).
  public static func - (a: ScalarNode, b: ScalarNode) -> ScalarNode { a + -b }
  /// a / b, built as a · b⁻¹ (so ∂/∂b = −a / b²).
  public static func / (a: ScalarNode, b: ScalarNode) -> ScalarNode { a * b.power(-1) }
  /// a + b for a constant b (a leaf node).
  public static func + (a: ScalarNode, b: Double) -> ScalarNode { a + a.graph.leaf(b) }
  /// a + b for a constant a (a leaf node).
  public static func + (a: Double, b: ScalarNode) -> ScalarNode { b.graph.leaf(a) + b }
  /// a · b for a constant b (a leaf node).
  public static func * (a: ScalarNode, b: Double) -> ScalarNode { a * a.graph.leaf(b) }
  /// a · b for a constant a (a leaf node).
  public static func * (a: Double, b: ScalarNode) -> ScalarNode { b.graph.leaf(a) * b }
  /// a − b for a constant b, built as a + (−b).
  public static func - (a: ScalarNode, b: Double) -> ScalarNode { a + a.graph.leaf(-b) }
  /// a − b for a constant a, built as a + (−b).
  public static func - (a: Double, b: ScalarNode) -> ScalarNode { b.graph.leaf(a) + -b }
}
