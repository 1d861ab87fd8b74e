/// A handle to one node of a `Graph`: cheap to copy, and the way graph code reads like the
/// math (`x.matmul(w) + b`, `z.tanh()`). Each op file adds its method here.
public struct Node<Scalar: TensorScalar>: Hashable, CustomStringConvertible {
  /// The graph that owns the node.
  public let graph: Graph<Scalar>
  /// The node's position in creation order.
  public let id: Int

  init(graph: Graph<Scalar>, id: Int) {
    self.graph = graph
    self.id = id
  }

  public static func == (a: Node, b: Node) -> Bool { a.graph === b.graph && a.id == b.id }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(ObjectIdentifier(graph))
    hasher.combine(id)
  }

  /// The value from the last evaluation.
  ///
  /// Setting it feeds an input or constant (call `graph.forward()` afterwards to
  /// re-evaluate), or sets a parameter's value; an op node's value cannot be set.
  public var value: Tensor<Scalar> {
    get {
      graph.requireNode(id)
      return graph.values[id]
    }
    nonmutating set {
      let record = graph.record(id)
      switch record.kind {
      case .input, .constant: graph.values[id] = newValue
      case .parameter:
        record.parameter!.value = newValue
        graph.values[id] = newValue
      case .operation:
        requirementFailure("\(label): the value of an op node is computed, not set")
      }
    }
  }

  /// ∂L/∂node from the last `backward(from:)`; zeros where the node does not reach the output
  /// or needs no gradient (see `requiresGradient`).
  public var gradient: Tensor<Scalar> {
    graph.requireNode(id)
    return graph.gradients[id] ?? Tensor.zeros(value.shape)
  }

  /// Whether backward computes this node's gradient: parameters that are not frozen, inputs
  /// made with `requiresGradient: true` (the default), and ops on at least one such node. Constants and
  /// everything computed from constants and gradient-free inputs alone have none.
  public var requiresGradient: Bool {
    graph.requireNode(id)
    return graph.requiresGradient(id)
  }

  /// The value's shape.
  public var shape: [Int] { value.shape }

  /// The name given at creation (or with `named(_:)`), if any.
  public var name: String? { graph.record(id).name }

  /// The name, or a generated one such as `tanh#4`, as used in messages.
  public var label: String { graph.label(of: id) }

  /// Whether the node is an input, constant, parameter or op.
  public var kind: Graph<Scalar>.Kind { graph.record(id).kind }

  /// The op that computes the node; `nil` for leaves.
  public var operation: (any DifferentiableOperation)? { graph.record(id).operation }

  /// The nodes this one is computed from, in operand order.
  public var inputs: [Node<Scalar>] { graph.record(id).inputs.map { Node(graph: graph, id: $0) } }

  /// The `Parameter` behind a parameter node.
  public var parameter: Parameter<Scalar>? { graph.record(id).parameter }

  /// 0 for a node of the forward pass; 1 for a node built as part of a gradient (the
  /// backward pass as a graph), 2 for one built as part of the gradient of a gradient, and so
  /// on. Drawings tell the orders apart.
  public var derivativeOrder: Int { graph.record(id).derivativeOrder }

  /// The scope path the node was created in (outermost first), e.g. `["layer0"]`.
  public var scope: [String] { graph.record(id).scope }

  /// Gives the node a name and returns it, for chaining: `(x.matmul(w)).named("z1")`.
  @discardableResult
  public func named(_ name: String) -> Node {
    graph.rename(id, to: name)
    return self
  }

  public var description: String { "\(label) \(shape)" }

  /// A constant node in the same graph, for mixing numbers into graph expressions.
  func constant(_ scalar: Scalar) -> Node { graph.constant(Tensor(scalar)) }
}
