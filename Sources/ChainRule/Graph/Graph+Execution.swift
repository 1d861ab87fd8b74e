/// How forward and backward run. Backward is *defined* by one plain reverse loop,
/// `gradientsByDefinition(from:seed:)` below: the chain rule on one screen. What runs in
/// training is the same loop compiled into an `ExecutionPlan` (`Graph+Plan.swift`): ops bound
/// to reused buffers, the hot ones as specialised kernels on raw storage, so a built graph
/// re-run with inputs of the same shapes allocates nothing. Tests hold the plan to the plain
/// loop bit for bit. The allocating `evaluate(_:)` and `pullback(_:gradient:)` serve graph
/// building, drawings and checking tools.

/// Forward values by node id. A parameter node's value is read from (and written to) its
/// `Parameter`, so the graph never holds a second reference to it and an optimizer can update
/// it in place without a copy.
struct NodeValues<Scalar: TensorScalar> {
  /// Values of non-parameter nodes; a placeholder at parameter ids.
  var stored: [Tensor<Scalar>] = []
  var parameters: [Parameter<Scalar>?] = []

  var count: Int { stored.count }
  var indices: Range<Int> { stored.indices }

  subscript(id: Int) -> Tensor<Scalar> {
    get { parameters[id]?.value ?? stored[id] }
    set {
      if let parameter = parameters[id] {
        parameter.value = newValue
      } else {
        stored[id] = newValue
      }
    }
  }

  mutating func append(_ value: Tensor<Scalar>, parameter: Parameter<Scalar>?) {
    stored.append(parameter == nil ? value : Tensor(0))
    parameters.append(parameter)
  }
}

/// Buffers and flags of the allocation-free loops, rebuilt only when nodes are added.
struct ExecutionState<Scalar: TensorScalar> {
  /// Whether each node's gradient is needed: parameters, inputs that require one, and ops
  /// with at least one operand that needs one.
  var needsGradient: [Bool] = []
  /// Per op node, which operands need a gradient.
  var operandNeeds: [[Bool]] = []
  /// Per op node, whether an operand appears twice (x · x): such nodes take the reference path.
  var repeatsOperand: [Bool] = []
  /// Gradient storage per node, kept between backward passes.
  var gradientBuffers: [Tensor<Scalar>?] = []
  /// Operand lists handed to ops, emptied (keeping capacity) after every call.
  var operandValues: [Tensor<Scalar>] = []
  var operandGradients: [Tensor<Scalar>] = []
  /// The parameter nodes and whether each was frozen when the flags above were computed.
  var parameterFreezing: [(id: Int, isFrozen: Bool)] = []
  /// Per op node, the operand shapes its output shape was last validated for.
  var validatedShapes: [[[Int]]] = []
  /// The compiled passes for the current structure and leaf shapes; `nil` until first needed.
  var plan: ExecutionPlan<Scalar>?
  var isCurrent = false

  mutating func structureChanged() {
    isCurrent = false
    plan = nil
  }

  func operandShapesMatch(_ id: Int, _ operands: [Tensor<Scalar>]) -> Bool {
    guard id < validatedShapes.count, validatedShapes[id].count == operands.count else {
      return false
    }
    for (shape, operand) in zip(validatedShapes[id], operands) where shape != operand.shape {
      return false
    }
    return true
  }

  mutating func recordOperandShapes(_ id: Int, _ operands: [Tensor<Scalar>]) {
    if validatedShapes.count <= id {
      validatedShapes.append(contentsOf: repeatElement([], count: id + 1 - validatedShapes.count))
    }
    validatedShapes[id] = operands.map(\.shape)
  }
}

extension Graph {
  /// Recomputes one op node's value into its existing storage.
  func evaluateInPlace(_ id: Int) {
    let operation = records[id].operation!
    execution.operandValues.removeAll(keepingCapacity: true)
    for input in records[id].inputs { execution.operandValues.append(values[input]) }
    // Take the output out of the array so that it is uniquely referenced while written.
    var output = values.stored[id]
    values.stored[id] = Tensor(0)
    // Inputs fed with new shapes (another batch size) are validated as at build time; the
    // operands' descriptions are only built then, so a repeated run allocates nothing here.
    if !execution.operandShapesMatch(id, execution.operandValues) {
      let operands = records[id].inputs.map {
        ShapeError.Operand(name: label(of: $0), shape: values[$0].shape)
      }
      do {
        output = Tensor.zeros(try operation.outputShape(operands))
      } catch {
        requirementFailure(error.description)
      }
      execution.recordOperandShapes(id, execution.operandValues)
    }
    operation.forward(execution.operandValues, into: &output)
    values.stored[id] = output
    execution.operandValues.removeAll(keepingCapacity: true)
  }

  /// Computes which nodes need gradients and sizes the per-node buffers, after nodes were added.
  func prepareExecution() {
    if execution.isCurrent, freezingChanged() { execution.structureChanged() }
    guard !execution.isCurrent else { return }
    var needs = [Bool](repeating: false, count: records.count)
    var operandNeeds = [[Bool]](repeating: [], count: records.count)
    var repeats = [Bool](repeating: false, count: records.count)
    for (id, record) in records.enumerated() {
      switch record.kind {
      case .parameter: needs[id] = !record.parameter!.isFrozen
      case .input: needs[id] = record.requiresGradient
      case .constant: needs[id] = false
      case .operation:
        operandNeeds[id] = record.inputs.map { needs[$0] }
        needs[id] = operandNeeds[id].contains(true)
        repeats[id] = Set(record.inputs).count != record.inputs.count
      }
    }
    execution.needsGradient = needs
    execution.parameterFreezing = records.indices.compactMap { id in
      records[id].parameter.map { (id, $0.isFrozen) }
    }
    execution.operandNeeds = operandNeeds
    execution.repeatsOperand = repeats
    execution.gradientBuffers.append(
      contentsOf: repeatElement(nil, count: records.count - execution.gradientBuffers.count))
    execution.isCurrent = true
  }

  /// Whether a parameter was frozen or unfrozen since the gradient flags were computed.
  private func freezingChanged() -> Bool {
    for (id, wasFrozen) in execution.parameterFreezing
    where records[id].parameter!.isFrozen != wasFrozen {
      return true
    }
    return false
  }

  /// Whether backward computes the gradient of node `id`.
  func requiresGradient(_ id: Int) -> Bool {
    prepareExecution()
    return execution.needsGradient[id]
  }

  /// The definition of `backward(from:seed:)`: the chain rule, applied node by node in one
  /// plain reverse loop. Returns ∂L/∂node for every node the pass reached (`nil` elsewhere).
  ///
  /// This is what backward computes; `runBackward` computes the same numbers, bit for bit, on
  /// reused buffers and compiled kernels (`ExecutionPlan`). Allocating here is fine: clarity
  /// first, this loop is the reference that the fast one is tested against.
  func gradientsByDefinition(from output: Int, seed: Tensor<Scalar>?) -> [Tensor<Scalar>?] {
    prepareExecution()
    let needs = execution.needsGradient  // parameters, inputs with a gradient, ops on them
    // x̄ = ∂L/∂x starts at zero for every node that needs it; each use of x adds its share.
    var gradient: [Tensor<Scalar>?] = records.indices.map {
      needs[$0] ? Tensor.zeros(values[$0].shape) : nil
    }
    var reached = [Bool](repeating: false, count: records.count)
    // ∂L/∂L = 1: the output's gradient is the seed (ones for a one-element output).
    gradient[output] = seed ?? Tensor(shape: values[output].shape, repeating: 1)
    reached[output] = true
    // Creation order is topological, so in reverse order every use of a node comes before
    // the node itself: its gradient is complete when the loop reaches it.
    for id in stride(from: output, through: 0, by: -1) where reached[id] {
      // ∂L/∂node is complete here: its hooks may watch or replace it (`Graph+Hooks`).
      if !gradientHooks.isEmpty { gradient[id] = hookedGradient(id, gradient[id]!) }
      guard let operation = records[id].operation else { continue }  // a leaf: nothing further
      let operands = records[id].inputs
      let operandNeeds = operands.map { needs[$0] }
      guard operandNeeds.contains(true) else { continue }
      // The chain rule at y = f(x₁, …, xₙ): x̄ᵢ += ȳ · ∂y/∂xᵢ. The op's VJP adds each share,
      // summed back to xᵢ's shape, into the tensor it is lent for xᵢ: xᵢ's gradient itself,
      // or, for an operand the op uses twice (x · x), a zero tensor per slot, added after.
      let repeats = Set(operands).count != operands.count
      var shares = operands.map { x in
        repeats ? Tensor.zeros(values[x].shape) : gradient[x] ?? values[x]  // unneeded: unused
      }
      operation.accumulateVJP(
        operands.map { values[$0] }, output: values[id], gradient: gradient[id]!,
        into: &shares, needs: operandNeeds)
      for (slot, x) in operands.enumerated() where operandNeeds[slot] {
        if repeats { gradient[x]! += shares[slot] } else { gradient[x] = shares[slot] }
        reached[x] = true
      }
    }
    return records.indices.map { reached[$0] ? gradient[$0] : nil }
  }

  /// Publishes one pass's gradients: readable as `node.gradient`, and added into each
  /// parameter node's `Parameter.gradient` (which accumulates over passes until cleared).
  func publish(_ passGradients: [Tensor<Scalar>?]) {
    for id in passGradients.indices {
      gradients[id] = passGradients[id]
      if let gradient = passGradients[id], let parameter = records[id].parameter {
        parameter.gradient += gradient
      }
    }
  }

  /// Backward as it runs: the compiled plan when the graph's values fit it and no gradient
  /// hook is registered, else the definition. (They differ only in speed;
  /// `ExecutionPlanTests` holds them equal.)
  func runBackward(from output: Int, seed: Tensor<Scalar>?) {
    prepareExecution()
    if !gradientHooks.isEmpty || !runPlannedBackward(from: output, seed: seed) {
      publish(gradientsByDefinition(from: output, seed: seed))
    }
  }

  /// The chain rule at one node on reused buffers, for any op: the op adds ∂L/∂xᵢ into each
  /// needed operand's gradient buffer, which is lent to it for the call (the plan's generic step).
  func propagate(_ id: Int, needs: [Bool]) {
    let operation = records[id].operation!
    let inputs = records[id].inputs
    let gradient = execution.gradientBuffers[id]!
    if execution.repeatsOperand[id] {
      // x · x: both slots name one buffer, so use the reference VJP and add each share.
      let shares = operation.vjp(
        inputs.map { values[$0] }, output: values[id], gradient: gradient)
      for (slot, input) in inputs.enumerated() where needs[slot] {
        execution.gradientBuffers[input]! += shares[slot].summed(toShape: values[input].shape)
      }
      return
    }
    execution.operandValues.removeAll(keepingCapacity: true)
    execution.operandGradients.removeAll(keepingCapacity: true)
    for (slot, input) in inputs.enumerated() {
      let value = values[input]
      execution.operandValues.append(value)
      if needs[slot] {
        let buffer = execution.gradientBuffers[input]!
        execution.gradientBuffers[input] = nil
        execution.operandGradients.append(buffer)
      } else {
        execution.operandGradients.append(value)  // a placeholder the op does not touch
      }
    }
    operation.accumulateVJP(
      execution.operandValues, output: values[id], gradient: gradient,
      into: &execution.operandGradients, needs: needs)
    for (slot, input) in inputs.enumerated() where needs[slot] {
      execution.gradientBuffers[input] = execution.operandGradients[slot]
    }
    execution.operandValues.removeAll(keepingCapacity: true)
    execution.operandGradients.removeAll(keepingCapacity: true)
  }
}
