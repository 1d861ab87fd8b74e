/// Gradient hooks: watch or replace ∂L/∂node as `backward(from:)` passes it (PyTorch's
/// `Tensor.register_hook`).
///
/// The reverse loop visits nodes in reverse creation order, so when it reaches a node every
/// consumer has added its share: the node's gradient is complete. At that moment, before the
/// gradient flows on to the node's operands (or, for a parameter, into `Parameter.gradient`),
/// each hook of the node is called once with it, in registration order; a hook that returns a
/// tensor replaces the gradient — for `node.gradient`, for the operands and for the
/// parameter — and `nil` keeps it. A hook is not called for a node the pass did not reach.
/// With no hook registered on the graph the loop pays one `isEmpty` test per node and
/// allocates nothing.
///
/// Hooks act on `backward(from:)` only. Gradients built as nodes refuse them:
/// `gradients(of:withRespectTo:seed:)` (and `hessianVectorProduct`, built on it) stops with a
/// message naming the hooked node when a node with a hook would get a gradient node, rather
/// than build a gradient that differs from what `backward(from:)` computes. PyTorch calls
/// tensor hooks in `autograd.grad(create_graph=True)` too, but there the hook's result is
/// itself a differentiable tensor; here a hook maps numbers to numbers, so its replacement
/// could only enter a gradient graph as a node that cannot be differentiated again — a second
/// derivative through it would be silently wrong. Remove the hooks first (`removeHooks`), or
/// write the change as graph ops on the gradient node. `hessian(of:withRespectTo:)` and the
/// checking tools work on a copy of the graph that has no hooks, so they ignore them.
extension Graph {
  /// A gradient hook: called with ∂L/∂node when the backward pass has completed it; returns
  /// its replacement (same shape), or `nil` to keep it.
  public typealias GradientHook = (Tensor<Scalar>) -> Tensor<Scalar>?

  /// Registers `hook` on `node`, after any hooks already there. It acts in
  /// `backward(from:)`; `gradients(of:…)` refuses a graph where it lies on the gradient's path.
  public func registerHook(on node: Node<Scalar>, _ hook: @escaping GradientHook) {
    require(node.graph === self, "registerHook: node \(node.label) is from another graph")
    requireNode(node.id)
    gradientHooks[node.id, default: []].append(hook)
  }

  /// Removes every hook registered on `node`.
  public func removeHooks(from node: Node<Scalar>) {
    require(node.graph === self, "removeHooks: node \(node.label) is from another graph")
    gradientHooks[node.id] = nil
  }

  /// Node `id`'s gradient after its hooks (if any) have seen it, each replacement kept. The
  /// one call the reverse loop makes (`gradientsByDefinition`), where ∂L/∂node is complete.
  func hookedGradient(_ id: Int, _ gradient: Tensor<Scalar>) -> Tensor<Scalar> {
    guard let hooks = gradientHooks[id] else { return gradient }
    var gradient = gradient
    for hook in hooks {
      guard let replacement = hook(gradient) else { continue }
      require(
        replacement.shape == gradient.shape,
        "gradient hook on \(label(of: id)): returned shape \(replacement.shape), but the "
          + "gradient has \(gradient.shape)")
      gradient = replacement
    }
    return gradient
  }
}

extension Node {
  /// Registers `hook` to be called with ∂L/∂self when `backward(from:)` has completed it; a
  /// returned tensor (same shape) replaces the gradient for everything upstream, `nil` keeps
  /// it (PyTorch's `register_hook`), in `backward(from:)` only: `gradients(of:…)` refuses to
  /// build a gradient through a hooked node. See `Graph.registerHook(on:_:)`.
  public func registerHook(_ hook: @escaping Graph<Scalar>.GradientHook) {
    graph.registerHook(on: self, hook)
  }

  /// Removes every gradient hook registered on this node.
  public func removeHooks() { graph.removeHooks(from: self) }
}
