/// A computational graph: a DAG of nodes, each a leaf (input, constant, parameter) or an
/// operation on earlier nodes — the `f(g(h(x)))` picture.
///
/// Nodes live in an arena in creation order, which is already a topological order: an op can
/// only use nodes that exist. Values are computed as nodes are built, so `node.value` is ready
/// at once; `forward()` re-evaluates everything after new inputs are fed, and
/// `backward(from:)` applies the chain rule in reverse order.
///
/// ```swift
/// let g = Graph<Double>()
/// let x = g.input(Tensor([[0.5, -1.0]]), name: "x")
/// let w = g.parameter(Tensor([[0.3], [-0.2]]), name: "w1")
/// let a = (x.matmul(w)).tanh()
/// g.backward(from: a.sum())
/// print(w.gradient)
/// ```
///
/// Threads: a graph is not thread-safe, and neither are its nodes, the `Parameter`s it reads
/// and writes, layers or optimizers — use each from one thread at a time (a shared model
/// trained from two threads, even on two graphs, races on its parameters' values and
/// gradients). Independent graphs, each with its own parameters and optimizer, may run on
/// separate threads at once and give bitwise the results they give one after another: the
/// library keeps no other shared mutable state than the matrix product's worker threads,
/// which take one caller at a time. `Tensor` is a `Sendable` value: pass it between threads.
///
/// Errors: a shape mismatch or other misuse stops the program with a message naming it (in
/// release builds too); `throwingShapeErrors(_:)` throws shape errors instead, for notebooks
/// and REPLs. Docs/errors.md lists which errors throw and which stop.
public final class Graph<Scalar: TensorScalar> {
  /// What a node is.
  public enum Kind: Sendable, Equatable {
    /// A leaf whose value is fed from outside (data, labels).
    case input
    /// A leaf whose value is fixed at creation.
    case constant
    /// A leaf backed by a trainable `Parameter`.
    case parameter
    /// The output of an `DifferentiableOperation` on earlier nodes.
    case operation
  }

  /// Everything the graph knows about one node except its value and gradient.
  struct Record {
    var kind: Kind
    var operation: (any DifferentiableOperation)?
    var inputs: [Int]
    var name: String?
    var scope: [String]
    var parameter: Parameter<Scalar>?
    /// For inputs: whether backward computes ∂L/∂input (parameters always, constants never).
    var requiresGradient = true
    /// An op whose operands did not fit, built inside `throwingShapeErrors`: not evaluated,
    /// its value an empty placeholder, removed when the scope ends.
    var isPlaceholder = false
    /// 0 for the forward pass; n + 1 for a node built as part of a gradient of nodes whose
    /// order is at most n (see `Node.derivativeOrder`).
    var derivativeOrder = 0
  }

  // The storage below is read and written on every step of forward and backward. Each
  // access is a short, non-overlapping one made by this module, so the dynamic exclusivity
  // check (a measurable share of a small graph's step) is turned off for it.
  @exclusivity(unchecked) private(set) var records: [Record] = []
  /// Forward values, indexed by node id; a parameter node's value is its `Parameter`'s.
  @exclusivity(unchecked) var values = NodeValues<Scalar>()
  /// ∂L/∂node from the last backward pass, indexed by node id; `nil` where no path led or
  /// no gradient was needed.
  @exclusivity(unchecked) var gradients: [Tensor<Scalar>?] = []
  private var scopeStack: [String] = []
  /// Per open `throwingShapeErrors` scope, innermost last: the first shape error inside it.
  /// (Read by every forward and backward pass, as the storage above.)
  @exclusivity(unchecked) private var shapeErrorScopes: [ShapeError?] = []

  /// Per-node buffers that forward and backward reuse from run to run (see `Graph+Execution`).
  @exclusivity(unchecked) var execution = ExecutionState<Scalar>()
  /// Gradient hooks by node id (`Graph+Hooks`); empty unless a hook was registered. (Read by
  /// every backward pass, as the storage above.)
  @exclusivity(unchecked) var gradientHooks: [Int: [GradientHook]] = [:]

  /// Creates an empty graph.
  public init() {}

  /// The number of nodes.
  public var nodeCount: Int { records.count }

  /// Every node, in creation (topological) order.
  public var nodes: [Node<Scalar>] { records.indices.map { Node(graph: self, id: $0) } }

  // MARK: Leaves

  /// A leaf whose value is fed later with `node.value = …` (data, labels).
  ///
  /// With `requiresGradient: false` backward skips ∂L/∂input (and every product that only
  /// serves it): the choice for training data, where that gradient is never read.
  public func input(
    _ value: Tensor<Scalar>, name: String? = nil, requiresGradient: Bool = true
  ) -> Node<Scalar> {
    append(
      Record(
        kind: .input, inputs: [], name: name, scope: scopeStack,
        requiresGradient: requiresGradient),
      value: value)
  }

  /// A leaf with a fixed value.
  public func constant(_ value: Tensor<Scalar>, name: String? = nil) -> Node<Scalar> {
    append(
      Record(kind: .constant, inputs: [], name: name, scope: scopeStack, requiresGradient: false),
      value: value)
  }

  /// A leaf backed by `parameter`: its value is read from the parameter at every `forward()`,
  /// and backward adds this graph's gradient into `parameter.gradient`.
  public func parameter(_ parameter: Parameter<Scalar>) -> Node<Scalar> {
    append(
      Record(
        kind: .parameter, inputs: [], name: parameter.name, scope: scopeStack,
        parameter: parameter),
      value: parameter.value)
  }

  /// A leaf backed by a new `Parameter` holding `value`.
  public func parameter(_ value: Tensor<Scalar>, name: String) -> Node<Scalar> {
    parameter(Parameter(value, name: name))
  }

  /// The `Parameter` objects of the graph's parameter nodes, in creation order, each once.
  public var parameters: [Parameter<Scalar>] {
    var seen = Set<ObjectIdentifier>()
    return records.compactMap(\.parameter).filter { seen.insert(ObjectIdentifier($0)).inserted }
  }

  // MARK: Operations

  /// Adds a node computing `operation` on `inputs`, evaluated at once.
  ///
  /// A shape mismatch is a programming error: it stops with the message of the `ShapeError`,
  /// which names the op, the operands and their shapes — unless the node is built inside
  /// `throwingShapeErrors(_:)`, which throws that error instead.
  public func apply(
    _ operation: any DifferentiableOperation, _ inputs: [Node<Scalar>], name: String? = nil
  ) -> Node<Scalar> {
    for input in inputs {
      require(input.graph === self, "\(operation.name): operand from another graph")
    }
    var record = Record(
      kind: .operation, operation: operation, inputs: inputs.map(\.id), name: name,
      scope: scopeStack)
    guard !shapeErrorScopes.isEmpty else { return append(record, value: evaluate(record)) }
    // Inside `throwingShapeErrors`: the first failure is kept for the scope to throw, and
    // every op built on a placeholder is one too, so one mistake reports one error.
    if !record.inputs.contains(where: { self.record($0).isPlaceholder }) {
      do {
        return append(record, value: try evaluateChecked(record))
      } catch {
        if shapeErrorScopes[shapeErrorScopes.count - 1] == nil {
          shapeErrorScopes[shapeErrorScopes.count - 1] = error
        }
      }
    }
    record.isPlaceholder = true
    return append(record, value: Tensor.zeros([0]))
  }

  /// Runs `body`, where an op whose operands do not fit throws its `ShapeError` instead of
  /// stopping the program: for notebooks and REPL sessions, where a mistyped shape should be
  /// printed and the session go on.
  ///
  /// ```swift
  /// do {
  ///   let y = try graph.throwingShapeErrors { (x.matmul(w1) + b1).tanh() }
  /// } catch {
  ///   print(error)  // matmul: "x" [4, 3] and "W1" [2, 5] do not align (3 ≠ 2)
  /// }
  /// ```
  ///
  /// Swift cannot throw out of `x.matmul(w)`, so inside `body` an op whose shapes fail is not
  /// evaluated: it returns a placeholder node (shape `[0]`), every op built on a placeholder
  /// is a placeholder too, and `body` runs to its end. Then, if an op failed, every node
  /// `body` added is removed — the graph is as it was before the call, though a backward
  /// pass run before the mistake has still added into its `Parameter`s' gradients — and the
  /// first `ShapeError` is thrown; otherwise `body`'s result is returned and its nodes stay.
  ///
  /// Still stopping the program, inside the scope as outside: `forward()`, `backward(from:)`,
  /// the anomaly-detecting passes and `checkGradients` on a graph that holds a placeholder;
  /// using a node removed by a failed scope; an operand from another graph; and every check
  /// that is not about an op's operand shapes (tensor literals and indices, seeds, labels,
  /// optimizers). Scopes nest, each throwing its own first error; a scope covers one graph.
  /// - Throws: `ShapeError`, the first shape mismatch of an op built inside `body`.
  public func throwingShapeErrors<Result>(_ body: () -> Result) throws(ShapeError) -> Result {
    let start = records.count
    shapeErrorScopes.append(nil)
    let result = body()
    guard let error = shapeErrorScopes.removeLast() else { return result }
    records.removeSubrange(start...)
    values.stored.removeSubrange(start...)
    values.parameters.removeSubrange(start...)
    gradients.removeSubrange(start...)
    gradientHooks = gradientHooks.filter { $0.key < start }
    execution = ExecutionState()  // rebuilt for the remaining nodes on the next run
    throw error
  }

  /// Stops with the pending shape error when an op built inside an open `throwingShapeErrors`
  /// scope failed: `pass` (forward, backward) cannot run over its placeholder.
  func requireNoPlaceholders(_ pass: @autoclosure () -> String) {
    guard !shapeErrorScopes.isEmpty, let error = shapeErrorScopes.lazy.compactMap({ $0 }).first
    else { return }
    requirementFailure(
      "\(pass()): the graph holds a placeholder for an op that failed inside "
        + "throwingShapeErrors (\(error)); the scope throws that error when it ends")
  }

  /// Runs `body` with `name` pushed on the scope path; nodes created inside carry it, and
  /// drawings group them into one cluster (a layer, a loss).
  public func withScope<Result>(_ name: String, _ body: () throws -> Result) rethrows -> Result {
    scopeStack.append(name)
    defer { scopeStack.removeLast() }
    return try body()
  }

  // MARK: Forward and backward

  /// Re-evaluates every node in creation order, after new input values were fed or
  /// parameters changed; the graph's structure is reused as it is, and so is the storage of
  /// every value whose shape did not change.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward() {
    requireNoPlaceholders("forward")
    runForward()
  }

  /// Back-propagation: applies the chain rule node by node, from `output` back to the leaves.
  ///
  /// The output's gradient starts as `seed` (ones for a scalar output: ∂L/∂L = 1). Then, in
  /// reverse creation order, each op node hands its gradient ȳ to its VJP, which adds
  /// ∂L/∂xᵢ into the gradient of each operand that needs one; an operand used by several
  /// nodes therefore receives the sum. Every node's gradient from this pass is readable
  /// afterwards (`node.gradient`), and parameter nodes add theirs into their
  /// `Parameter.gradient`. Gradient buffers are reused from pass to pass.
  ///
  /// The loop itself, on one screen, is `gradientsByDefinition(from:seed:)` in
  /// `Graph+Execution.swift`; what runs is its compiled form (`Graph+Plan.swift`), tested to
  /// give the same numbers bit for bit.
  /// - Precondition: `output` is a one-element tensor, or `seed` has the output's shape.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func backward(from output: Node<Scalar>, seed: Tensor<Scalar>? = nil) {
    require(output.graph === self, "backward: output node from another graph")
    requireNoPlaceholders("backward")
    // The output's value is read in place (not copied): this runs on every training step.
    if let seed {
      require(
        values.hasShape(output.id, seed.shape),
        "backward: seed shape \(seed.shape) differs from output \(output.label) "
          + "\(values[output.id].shape)")
    } else {
      require(
        values.elementCount(output.id) == 1,
        "backward: output \(output.label) has shape \(values[output.id].shape); "
          + "pass a seed gradient")
    }
    runBackward(from: output.id, seed: seed)
  }

  /// Clears every node's gradient and the gradients accumulated in the graph's parameters.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func zeroGradients() {
    takeBackPublishedGradients()  // every node's gradient cleared, the buffers kept for reuse
    for parameter in parameters { parameter.zeroGradient() }
  }

  // MARK: The steps, shared by forward, backward and the checking tools

  /// Validates the shapes of one op node's operands and computes its value; a mismatch stops
  /// the program with the error's message.
  func evaluate(_ record: Record) -> Tensor<Scalar> {
    do {
      return try evaluateChecked(record)
    } catch {
      requirementFailure(error.description)
    }
  }

  /// Validates the shapes of one op node's operands and computes its value.
  func evaluateChecked(_ record: Record) throws(ShapeError) -> Tensor<Scalar> {
    let operation = record.operation!
    let operands = record.inputs.map {
      ShapeError.Operand(name: label(of: $0), shape: values[$0].shape)
    }
    let shape = try operation.outputShape(operands)
    // The in-place forward is the specialised one for the hot ops (the generic `forward`
    // costs a witness call per element), so a graph built afresh each step runs fast too.
    var value = Tensor<Scalar>.zeros(shape)
    operation.forward(record.inputs.map { values[$0] }, into: &value)
    require(
      value.shape == shape,
      "\(operation.name): forward produced \(value.shape), expected \(shape)")
    return value
  }

  /// The chain rule at one node: passes ȳ through the node's VJP and adds each ∂L/∂xᵢ,
  /// summed back to the operand's shape, into that operand's gradient.
  func pullback(_ id: Int, gradient: Tensor<Scalar>) {
    let record = records[id]
    guard let operation = record.operation else { return }  // a leaf: nothing further back
    let inputGradients = operation.vjp(
      record.inputs.map { values[$0] }, output: values[id], gradient: gradient)
    for (input, inputGradient) in zip(record.inputs, inputGradients) {
      let reduced = inputGradient.summed(toShape: values[input].shape)
      if gradients[input] == nil {
        gradients[input] = reduced
      } else {
        gradients[input]! += reduced  // fan-out: a node used twice gets the sum
      }
    }
  }

  /// A node's name, or a generated one (`tanh#4`, `input#0`) for messages.
  func label(of id: Int) -> String {
    let record = self.record(id)
    if let name = record.name { return name }
    switch record.kind {
    case .input: return "input#\(id)"
    case .constant: return "constant#\(id)"
    case .parameter: return "parameter#\(id)"
    case .operation: return "\(record.operation!.name)#\(id)"
    }
  }

  private func append(_ record: Record, value: Tensor<Scalar>) -> Node<Scalar> {
    records.append(record)
    values.append(value, parameter: record.parameter)
    gradients.append(nil)
    execution.structureChanged()
    return Node(graph: self, id: records.count - 1)
  }

  func record(_ id: Int) -> Record {
    requireNode(id)
    return records[id]
  }

  /// Stops with a message when `id` names no node: one removed by a failed
  /// `throwingShapeErrors` scope (ids are never reused otherwise).
  func requireNode(_ id: Int) {
    require(
      id < records.count,
      "node #\(id) no longer exists: a throwingShapeErrors scope that failed removed it")
  }

  func rename(_ id: Int, to name: String?) {
    requireNode(id)
    records[id].name = name
  }

  /// Marks every node from `start` on as built at derivative order `order` (for the builders
  /// of gradients as nodes, `Graph+Gradients`).
  func setDerivativeOrder(_ order: Int, fromNode start: Int) {
    for id in start..<records.count { records[id].derivativeOrder = order }
  }
}
