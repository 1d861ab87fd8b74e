/// The compiled form of a built graph's passes: what `forward()` and `backward(from:)` run.
///
/// A plan is derived from the graph once per structure and leaf shapes: one small step record
/// per op node, in creation order, with its operands' ids, which of them need a gradient and
/// the shapes its kernel needs inline (a product's m, n, k; an element-wise op's count and
/// broadcast layouts). Each run binds every node's value and gradient storage to a raw
/// pointer once, then walks the steps: the hot ops (matmul, the element-wise ops with
/// specialised loops, the reduced binary cross-entropy with logits) call their kernels on
/// those pointers directly, with no tensors handed around, so no reference counting,
/// existential calls or shape checks per node; every other op (user ops included) takes the
/// generic path, `evaluateInPlace` and `propagate`, exactly as before. The kernels are the
/// ops' own loops (`ElementwiseKernels`, the GEMM, the loss's `reducedLoss`), so the numbers
/// are the same, bit for bit, as the definition of backward (`gradientsByDefinition`), which
/// `ExecutionPlanTests` checks.
///
/// Pointers stay valid for one pass: storage is made unique (copied once if a caller holds a
/// copy of a value) when bound, and nothing but the pass's own steps touches it until the pass
/// ends; a generic step may replace a tensor, so its pointers are bound again after it. The
/// gradient buffers themselves are published (`node.gradient`) by moving them, and taken back
/// at the start of the next pass: no copy and no reference counting either way.
///
/// Gradient buffers are not zeroed at the start of a pass. The definition starts every x̄ at
/// zero and adds each share into it; the plan instead lets the first share a node receives in
/// a pass *write* its buffer (a product with β = 0, an element-wise kernel's overwriting
/// loop), which is the same number without a pass over memory. "First" is exactly "not yet
/// reached": `reached` is cleared at the start and set by every step that writes an operand's
/// gradient. A generic step only adds, so the buffers it adds into that are not reached yet
/// are zeroed just before it. And when a parameter node's parameter was cleared
/// (`zeroGradient()`, as in every training step), the node's gradient is written straight
/// into the parameter's gradient storage, and publishing it is a flag instead of a pass
/// (`gradientStorageToOverwrite`): the node's published gradient then shares that storage.
final class ExecutionPlan<Scalar: TensorScalar> {
  /// How one op node runs.
  enum Kernel {
    /// Y = A · B, A: [m, k], B: [k, n] (all positive); `tiny`: all three products (the
    /// forward one and both VJPs) are small enough for `Gemm.multiplyTiny` (`Gemm.isTiny`).
    case matmul(m: Int, n: Int, k: Int, tiny: Bool)
    /// An element-wise function of one operand over `count` elements.
    case unary(UnaryKernel, count: Int)
    /// An element-wise function of two operands, broadcast over `count` result elements.
    case binary(BinaryKernel, BroadcastLayout, BroadcastLayout, count: Int)
    /// A reduced (mean or sum) binary cross-entropy of logits against targets of one shape.
    case crossEntropyWithLogits(BinaryCrossEntropyWithLogits, count: Int)
    /// Anything else: the op's own `forward(_:into:)` and `accumulateVJP`.
    case generic

    var isGeneric: Bool {
      if case .generic = self { return true }
      return false
    }
  }

  /// The unary ops with a specialised kernel.
  enum UnaryKernel { case tanh, sigmoid, relu, exp, log, square }
  /// The binary ops with a specialised kernel.
  enum BinaryKernel { case add, subtract, multiply, divide }

  /// One op node: its kernel, its first two operands (`b` is −1 for a unary op) and which
  /// need ∂L/∂x; `needsAny`: whether any operand does (a generic op may have more than two).
  struct Step {
    var node: Int
    var kernel: Kernel
    var a: Int
    var b: Int
    var needsA: Bool
    var needsB: Bool
    var needsAny: Bool
  }

  /// The op nodes in creation order.
  let steps: [Step]
  /// The number of nodes (leaves and ops).
  let nodeCount: Int
  /// The leaves' shapes the plan was derived for; another shape means a new plan.
  let leafShapes: [(id: Int, shape: [Int])]
  /// The leaf nodes' ids, in creation order.
  let leaves: [Int]
  /// The parameter nodes and their parameters, in creation order.
  let parameterNodes: [(id: Int, parameter: Parameter<Scalar>)]
  /// Every node's shape, while the leaves fit.
  let shapes: [[Int]]
  /// Every node's element count.
  let counts: [Int]
  /// Per node, the parameter whose gradient storage a pass may write the node's gradient into
  /// directly: a parameter node whose parameter has no other node in the graph and whose
  /// every consumer runs a specialised kernel (a generic step takes its operands' gradients
  /// out of `gradientBuffers`, where such a gradient is not).
  let directParameters: [Parameter<Scalar>?]
  /// Per node, the storage of its value and of its gradient buffer in the current pass.
  let values: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
  let gradients: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
  /// Per node, whether the current pass writes its gradient into its parameter's storage.
  /// Left set after the pass, for the next take-back (`takeBackPublishedGradients`): that
  /// node's published gradient is the parameter's own storage, dropped there, not kept.
  let writesParameter: UnsafeMutablePointer<Bool>
  /// Per node, whether a gradient reached it in the current pass (the definition's `reached`).
  let reached: UnsafeMutablePointer<Bool>

  init(
    steps: [Step], leafShapes: [(id: Int, shape: [Int])], shapes: [[Int]],
    parameterNodes: [(id: Int, parameter: Parameter<Scalar>)],
    directParameters: [Parameter<Scalar>?]
  ) {
    let nodeCount = shapes.count
    self.nodeCount = nodeCount
    self.steps = steps
    self.leafShapes = leafShapes
    self.leaves = leafShapes.map(\.id)
    self.parameterNodes = parameterNodes
    self.shapes = shapes
    self.counts = shapes.map { $0.reduce(1, *) }
    self.directParameters = directParameters
    values = .allocate(capacity: max(nodeCount, 1))
    values.initialize(repeating: nil, count: max(nodeCount, 1))
    gradients = .allocate(capacity: max(nodeCount, 1))
    gradients.initialize(repeating: nil, count: max(nodeCount, 1))
    writesParameter = .allocate(capacity: max(nodeCount, 1))
    writesParameter.initialize(repeating: false, count: max(nodeCount, 1))
    reached = .allocate(capacity: max(nodeCount, 1))
    reached.initialize(repeating: false, count: max(nodeCount, 1))
  }

  deinit {
    values.deallocate()
    gradients.deallocate()
    writesParameter.deallocate()
    reached.deallocate()
  }
}

extension Graph {
  /// Derives the plan from the graph's records and current value shapes. With `resizing`
  /// (forward), each op's output shape is validated as at build time — a mismatch stops with
  /// the op's `ShapeError` — and an op value of another shape is reallocated; without it
  /// (backward, which must not change values), `nil` when an op value does not have the shape
  /// its operands give it (leaves fed since the last forward).
  func makePlan(resizing: Bool) -> ExecutionPlan<Scalar>? {
    var steps: [ExecutionPlan<Scalar>.Step] = []
    var leafShapes: [(id: Int, shape: [Int])] = []
    var shapes: [[Int]] = []
    shapes.reserveCapacity(records.count)
    for (id, record) in records.enumerated() {
      guard let operation = record.operation else {
        shapes.append(values[id].shape)
        leafShapes.append((id, shapes[id]))
        continue
      }
      let operands = record.inputs.map {
        ShapeError.Operand(name: label(of: $0), shape: shapes[$0])
      }
      let shape: [Int]
      do {
        shape = try operation.outputShape(operands)
      } catch {
        guard resizing else { return nil }
        requirementFailure(error.description)
      }
      if values.stored[id].shape != shape {
        guard resizing else { return nil }
        values.stored[id] = Tensor.zeros(shape)
      }
      shapes.append(shape)
      let needs = execution.operandNeeds[id]
      steps.append(
        ExecutionPlan.Step(
          node: id, kernel: kernel(for: operation, record.inputs, shapes),
          a: record.inputs.first ?? -1, b: record.inputs.count > 1 ? record.inputs[1] : -1,
          needsA: needs.first ?? false, needsB: needs.count > 1 && needs[1],
          needsAny: needs.contains(true)))
    }
    // The validated shapes of the generic path, for a pass that leaves the plan.
    execution.validatedShapes = records.map { $0.inputs.map { shapes[$0] } }
    let parameterNodes = records.indices.compactMap { id in records[id].parameter.map { (id, $0) } }
    // Parameter nodes that may get their gradient written into the parameter's storage: one
    // node per parameter, and no generic consumer.
    var directParameters = records.map(\.parameter)
    var nodesPerParameter: [ObjectIdentifier: Int] = [:]
    for (_, parameter) in parameterNodes {
      nodesPerParameter[ObjectIdentifier(parameter), default: 0] += 1
    }
    for (id, parameter) in parameterNodes where nodesPerParameter[ObjectIdentifier(parameter)]! > 1
    {
      directParameters[id] = nil
    }
    for step in steps where step.kernel.isGeneric {
      for input in records[step.node].inputs { directParameters[input] = nil }
    }
    return ExecutionPlan(
      steps: steps, leafShapes: leafShapes, shapes: shapes, parameterNodes: parameterNodes,
      directParameters: directParameters)
  }

  /// The kernel an op node runs on: a specialised one for the hot ops on the layouts they
  /// cover, generic for everything else (and for an operand used twice, x · x).
  private func kernel(
    for operation: any DifferentiableOperation, _ inputs: [Int], _ shapes: [[Int]]
  ) -> ExecutionPlan<Scalar>.Kernel {
    if inputs.count == 1 {
      let count = shapes[inputs[0]].reduce(1, *)
      switch operation {
      case is Tanh: return .unary(.tanh, count: count)
      case is Sigmoid: return .unary(.sigmoid, count: count)
      case is ReLU: return .unary(.relu, count: count)
      case is Exp: return .unary(.exp, count: count)
      case is Log: return .unary(.log, count: count)
      case is Square: return .unary(.square, count: count)
      default: return .generic
      }
    }
    guard inputs.count == 2, inputs[0] != inputs[1] else { return .generic }
    let (a, b) = (shapes[inputs[0]], shapes[inputs[1]])
    if let loss = operation as? BinaryCrossEntropyWithLogits {
      return loss.reduction != .none && a == b
        ? .crossEntropyWithLogits(loss, count: a.reduce(1, *)) : .generic
    }
    if operation is MatMul {
      let (m, k, n) = (a[0], a[1], b[1])
      return m > 0 && n > 0 && k > 0
        ? .matmul(m: m, n: n, k: k, tiny: Gemm.isTiny(m: m, n: n, k: k)) : .generic
    }
    let binary: ExecutionPlan<Scalar>.BinaryKernel
    switch operation {
    case is Add: binary = .add
    case is Subtract: binary = .subtract
    case is Multiply: binary = .multiply
    case is Divide: binary = .divide
    default: return .generic
    }
    // An empty result stays generic: its VJP writes no element, so it could not overwrite
    // (see `runPlannedBackward`) the gradient of a broadcast operand that has some.
    guard let result = Broadcast.shape(a, b), !result.contains(0),
      let layoutA = BroadcastLayout(a, in: result), let layoutB = BroadcastLayout(b, in: result)
    else { return .generic }
    return .binary(binary, layoutA, layoutB, count: result.reduce(1, *))
  }

  /// Whether every leaf still has the shape the plan was derived for.
  private func leavesFit(_ plan: ExecutionPlan<Scalar>) -> Bool {
    for (id, shape) in plan.leafShapes where !values.hasShape(id, shape) { return false }
    return true
  }

  /// The current plan, derived anew when the structure or a leaf's shape changed; `nil` when
  /// the values fit none (see `makePlan`).
  private func currentPlan(resizing: Bool) -> ExecutionPlan<Scalar>? {
    if let plan = execution.plan, leavesFit(plan) { return plan }
    execution.plan = makePlan(resizing: resizing)
    return execution.plan
  }

  /// `forward()`: every op node re-evaluated in creation order, on the plan.
  func runForward() {
    prepareExecution()
    let plan = currentPlan(resizing: true)!
    for id in plan.leaves { bindValue(id, plan) }
    // The specialised steps' kernels write their values in place (one exclusive access to the
    // values for all of them); a generic step's op may replace its value, bound after it runs.
    values.stored.withUnsafeMutableBufferPointer { stored in
      for step in plan.steps where !step.kernel.isGeneric {
        plan.values[step.node] = stored[step.node].withUnsafeMutableBufferPointer {
          $0.baseAddress
        }
      }
    }
    for step in plan.steps where step.kernel.isGeneric { bindValue(step.node, plan) }
    for step in plan.steps {
      if step.kernel.isGeneric {
        evaluateInPlace(step.node)
        bindValue(step.node, plan)
      } else {
        forwardStep(step, plan.values)
      }
    }
  }

  /// The planned `backward(from:seed:)`; false (nothing done) when the values do not fit a
  /// plan (leaves fed with new shapes and no forward since), which the definition then runs.
  func runPlannedBackward(from output: Int, seed: Tensor<Scalar>?) -> Bool {
    guard let plan = currentPlan(resizing: false) else { return false }
    for id in records.indices { bindValue(id, plan) }
    startGradients(upTo: output, seed: seed, plan)
    // The definition's reverse loop, step by step: x̄ᵢ += ȳ · ∂y/∂xᵢ at each reached op, where
    // x̄ᵢ = 0 + ȳ · ∂y/∂xᵢ is written at the first share xᵢ gets (not reached yet).
    for step in plan.steps.reversed() {
      guard step.node <= output, plan.reached[step.node], step.needsAny else { continue }
      if step.kernel.isGeneric {
        // The op adds into its operands' buffers: those that no step wrote yet in this pass
        // are zeroed first, once (the step marks them reached).
        let needs = execution.operandNeeds[step.node]
        for (slot, input) in records[step.node].inputs.enumerated()
        where needs[slot] && !plan.reached[input] {
          plan.gradients[input]?.update(repeating: 0, count: plan.counts[input])
          plan.reached[input] = true
        }
        propagate(step.node, needs: needs)
        for input in records[step.node].inputs where input != output { bindGradient(input, plan) }
      } else {
        backwardStep(
          step, plan.values, plan.gradients,
          overwritingA: step.needsA && !plan.reached[step.a],
          overwritingB: step.needsB && !plan.reached[step.b])
        if step.needsA { plan.reached[step.a] = true }
        if step.needsB { plan.reached[step.b] = true }
      }
    }
    publishGradients(upTo: output, plan)
    return true
  }

  /// Starts a pass: takes back the buffers the last pass published (moved, not copied, so no
  /// reference counting, and uniquely referenced unless a caller kept a copy), binds (or
  /// allocates) without zeroing the buffer of every node before `output` that needs one — a
  /// cleared parameter's own gradient storage for a node that may write it directly — and
  /// puts the seed (ones, or the caller's) in the output's, which is only read.
  private func startGradients(
    upTo output: Int, seed: Tensor<Scalar>?, _ plan: ExecutionPlan<Scalar>
  ) {
    takeBackPublishedGradients()
    let needsGradient = execution.needsGradient
    // One exclusive access to the buffers for the whole loop, not one per node.
    execution.gradientBuffers.withUnsafeMutableBufferPointer { buffers in
      require(
        buffers.count > output && needsGradient.count > output,
        "backward plan: output node \(output) lies past the \(buffers.count) gradient buffers or "
          + "the \(needsGradient.count) need flags (an internal invariant broke)")
      for id in 0..<output {
        plan.reached[id] = false
        plan.writesParameter[id] = false
        if !needsGradient[id] {
          plan.gradients[id] = nil
        } else if let parameter = plan.directParameters[id],
          let storage = parameterGradientStorage(parameter, plan.shapes[id], buffer: &buffers[id])
        {
          plan.gradients[id] = storage
          plan.writesParameter[id] = true
        } else {
          plan.gradients[id] = buffers[id].uniqueStorage(shape: plan.shapes[id])
        }
      }
    }
    plan.writesParameter[output] = false
    plan.reached[output] = true
    if let seed {
      execution.gradientBuffers[output] = seed
    } else {
      _ = execution.gradientBuffers[output].storage(filledWith: 1, shape: plan.shapes[output])
    }
    plan.gradients[output] = execution.gradientBuffers[output]!.scalars.withUnsafeBufferPointer {
      $0.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
    }
  }

  /// Clears every node's published gradient (`node.gradient`), taking back the buffers a
  /// planned pass published into the reused ones they came from (moved: no copy, no reference
  /// counting), so that clearing between steps does not make the next pass allocate.
  func takeBackPublishedGradients() {
    let plan = execution.plan
    gradients.withUnsafeMutableBufferPointer { published in
      execution.gradientBuffers.withUnsafeMutableBufferPointer { buffers in
        for id in published.indices where published[id] != nil {
          if let plan, id < plan.nodeCount, plan.writesParameter[id] {
            published[id] = nil  // the parameter's own gradient storage: nothing to take back
          } else if id < buffers.count, buffers[id] == nil {
            swap(&published[id], &buffers[id])
          } else {
            published[id] = nil  // published by the definition's loop
          }
        }
      }
    }
  }

  /// The storage of a cleared parameter's gradient, for a node of `shape` to write its gradient
  /// into directly (`nil` when the parameter was not cleared since its last gradient, or the
  /// shapes differ). A graph's own reference to that storage in the node's `buffer` — a
  /// published node gradient taken back as a buffer, which happens when the plan that
  /// published it was replaced — is dropped first, so that the storage is not copied when
  /// written; a buffer of the node's own (from a pass that accumulated) is kept for reuse.
  @inline(__always)
  private func parameterGradientStorage(
    _ parameter: Parameter<Scalar>, _ shape: [Int], buffer: inout Tensor<Scalar>?
  ) -> UnsafeMutablePointer<Scalar>? {
    guard parameter.isGradientStale, parameter.storedGradient.shape == shape else {
      return nil
    }
    if let own = buffer,
      own.scalars.withUnsafeBufferPointer({ $0.baseAddress })
        == parameter.storedGradient.scalars.withUnsafeBufferPointer({ $0.baseAddress })
    {
      buffer = nil
    }
    return parameter.gradientStorageToOverwrite(shape: shape)
  }

  /// Publishes the pass's gradients, as the definition's `publish(_:)` does: added into each
  /// reached parameter node's `Parameter.gradient` (for a node written into its parameter's
  /// storage, already there: 0 + x̄, the parameter having been cleared), and readable as
  /// `node.gradient` for every node the pass reached — the buffers themselves, moved there
  /// until the next pass, or the parameter's gradient storage, shared.
  private func publishGradients(upTo output: Int, _ plan: ExecutionPlan<Scalar>) {
    for (id, parameter) in plan.parameterNodes where id <= output && plan.reached[id] {
      if plan.writesParameter[id] {
        parameter.adoptWrittenGradient()
      } else {
        parameter.accumulateGradient(UnsafePointer(plan.gradients[id]!), shape: plan.shapes[id])
      }
    }
    gradients.withUnsafeMutableBufferPointer { published in
      execution.gradientBuffers.withUnsafeMutableBufferPointer { buffers in
        require(
          published.count > output && buffers.count > output,
          "backward plan: output node \(output) lies past the \(published.count) published "
            + "gradients or the \(buffers.count) buffers (an internal invariant broke)")
        for id in 0...output where plan.reached[id] {
          if plan.writesParameter[id] {
            published[id] = plan.directParameters[id]!.storedGradient
          } else {
            swap(&published[id], &buffers[id])
          }
        }
      }
    }
  }

  /// Binds one node's value storage for reading.
  private func bindValue(_ id: Int, _ plan: ExecutionPlan<Scalar>) {
    let pointer: UnsafePointer<Scalar>? =
      if let parameter = values.parameters[id] {
        parameter.value.scalars.withUnsafeBufferPointer { $0.baseAddress }
      } else {
        values.stored[id].scalars.withUnsafeBufferPointer { $0.baseAddress }
      }
    plan.values[id] = pointer.map { UnsafeMutablePointer(mutating: $0) }
  }

  /// Binds one node's gradient buffer (made unique), or none (after a generic step, which may
  /// have replaced it).
  private func bindGradient(_ id: Int, _ plan: ExecutionPlan<Scalar>) {
    plan.gradients[id] = execution.gradientBuffers[id]?.withUnsafeMutableBufferPointer {
      $0.baseAddress
    }
  }

  // MARK: The specialised kernels

  /// C = op(A) · op(B) (+ C with `accumulate`) on the GEMM, or, for a tiny product, on its
  /// set-up-free twin (`Gemm.multiplyTiny`, the same bits).
  @inline(__always)
  private func product(
    _ tiny: Bool, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int, accumulate: Bool,
    c: UnsafeMutablePointer<Scalar>, ldc: Int
  ) {
    if tiny {
      Gemm.multiplyTiny(
        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
        b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
    } else {
      Scalar.gemm(
        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
        b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
    }
  }

  /// One specialised step of the forward pass on bound storage.
  @inline(__always)
  private func forwardStep(
    _ step: ExecutionPlan<Scalar>.Step, _ v: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
  ) {
    let (x, y) = (UnsafePointer(v[step.a]), v[step.node])
    switch step.kernel {
    case .matmul(let m, let n, let k, let tiny):
      product(
        tiny, transposeA: false, transposeB: false, m: m, n: n, k: k, a: x!, lda: k,
        b: UnsafePointer(v[step.b]!), ldb: n, accumulate: false, c: y!, ldc: n)
    case .unary(let op, let count):
      switch op {
      case .tanh: Tanh().forward(x, into: y, count: count)
      case .sigmoid: Sigmoid().forward(x, into: y, count: count)
      case .relu: ReLU().forward(x, into: y, count: count)
      case .exp: Exp().forward(x, into: y, count: count)
      case .log: Log().forward(x, into: y, count: count)
      case .square: Square().forward(x, into: y, count: count)
      }
    case .binary(let op, let layoutA, let layoutB, let count):
      let b = UnsafePointer(v[step.b])
      switch op {
      case .add: Add().forward(x, layoutA, b, layoutB, into: y, count: count)
      case .subtract: Subtract().forward(x, layoutA, b, layoutB, into: y, count: count)
      case .multiply: Multiply().forward(x, layoutA, b, layoutB, into: y, count: count)
      case .divide: Divide().forward(x, layoutA, b, layoutB, into: y, count: count)
      }
    case .crossEntropyWithLogits(let loss, let count):
      y![0] = loss.reducedLoss(x, UnsafePointer(v[step.b]), count: count)
    case .generic:
      break
    }
  }

  /// One specialised step of the backward pass on bound storage: the op's `accumulateVJP`,
  /// overwriting (instead of adding into) the gradient of an operand that `overwritingA` /
  /// `overwritingB` names — one no step reached yet in this pass, so that the definition adds
  /// this share into zeros. The product's β = 0 gives the same bits as adding into +0: its
  /// accumulators start at +0 and, with α = 1, cannot end at −0 (x + y rounds an exact zero
  /// to +0), so 0 + c = c.
  @inline(__always)
  private func backwardStep(
    _ step: ExecutionPlan<Scalar>.Step, _ v: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>,
    _ g: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>, overwritingA: Bool,
    overwritingB: Bool
  ) {
    let x = UnsafePointer(v[step.a])
    let (y, ybar) = (UnsafePointer(v[step.node]), UnsafePointer(g[step.node]))
    let da = step.needsA ? g[step.a] : nil
    switch step.kernel {
    case .matmul(let m, let n, let k, let tiny):
      let b = UnsafePointer(v[step.b]!)
      if step.needsA {  // Ā += Ȳ · Bᵀ: [m, n] · [k, n]ᵀ
        product(
          tiny, transposeA: false, transposeB: true, m: m, n: k, k: n, a: ybar!, lda: n, b: b,
          ldb: n, accumulate: !overwritingA, c: da!, ldc: k)
      }
      if step.needsB {  // B̄ += Aᵀ · Ȳ: [m, k]ᵀ · [m, n]
        product(
          tiny, transposeA: true, transposeB: false, m: k, n: n, k: m, a: x!, lda: k, b: ybar!,
          ldb: n, accumulate: !overwritingB, c: g[step.b]!, ldc: n)
      }
    case .unary(let op, let count):
      // One call for every unary kernel, specialised per op type.
      @inline(__always) func vjp(_ op: some UnaryElementwise) {
        op.accumulateVJP(
          x, output: y, gradient: ybar, into: da, count: count, overwriting: overwritingA)
      }
      switch op {
      case .tanh: vjp(Tanh())
      case .sigmoid: vjp(Sigmoid())
      case .relu: vjp(ReLU())
      case .exp: vjp(Exp())
      case .log: vjp(Log())
      case .square: vjp(Square())
      }
    case .binary(let op, let layoutA, let layoutB, let count):
      let b = UnsafePointer(v[step.b])
      let db = step.needsB ? g[step.b] : nil
      @inline(__always) func vjp(_ op: some BinaryElementwise) {
        op.accumulateVJP(
          x, layoutA, b, layoutB, output: y, gradient: ybar, into: da, db, count: count,
          overwritingA: overwritingA, overwritingB: overwritingB)
      }
      switch op {
      case .add: vjp(Add())
      case .subtract: vjp(Subtract())
      case .multiply: vjp(Multiply())
      case .divide: vjp(Divide())
      }
    case .crossEntropyWithLogits(let loss, let count):
      loss.accumulateReducedVJP(
        x, UnsafePointer(v[step.b]), gradient: ybar![0], into: da, step.needsB ? g[step.b] : nil,
        count: count, overwritingZ: overwritingA, overwritingY: overwritingB)
    case .generic:
      break
    }
  }
}

extension Optional {
  /// A reused buffer's storage, its elements left as they are (made unique first if shared):
  /// the buffer itself when it has `shape`, else a new one of `shape`.
  @inline(__always)
  fileprivate mutating func uniqueStorage<Scalar>(shape: [Int]) -> UnsafeMutablePointer<Scalar>?
  where Wrapped == Tensor<Scalar> {
    if self?.shape != shape { self = Tensor.zeros(shape) }
    return self!.withUnsafeMutableBufferPointer { $0.baseAddress }
  }

  /// A reused buffer's storage, every element set to `value`: the buffer itself when it has
  /// `shape` (made unique first if shared), else a new one of `shape`.
  fileprivate mutating func storage<Scalar>(filledWith value: Scalar, shape: [Int])
    -> UnsafeMutablePointer<Scalar>?
  where Wrapped == Tensor<Scalar> {
    if self?.shape != shape { self = Tensor(shape: shape, repeating: value) }
    return self!.withUnsafeMutableBufferPointer {
      $0.update(repeating: value)
      return $0.baseAddress
    }
  }
}

extension NodeValues {
  /// Whether node `id`'s value has `shape`, read without copying the tensor.
  func hasShape(_ id: Int, _ shape: [Int]) -> Bool {
    if let parameter = parameters[id] { return parameter.value.shape == shape }
    return stored[id].shape == shape
  }

  /// The number of elements of node `id`'s value, read without copying the tensor.
  func elementCount(_ id: Int) -> Int {
    if let parameter = parameters[id] { return parameter.value.count }
    return stored[id].count
  }
}
