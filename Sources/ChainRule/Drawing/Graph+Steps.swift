extension Graph {
  /// Replays the reverse walk of `backward(from:seed:)` one node at a time, for drawings.
  ///
  /// The same loop as `backward`: the output's gradient starts as `seed` (ones for a
  /// one-element output), then in reverse creation order each node with a gradient is
  /// visited — its gradient is complete at that moment, since every node that uses it was
  /// created later and already handed its share back — and then pulled back into its operands.
  /// `visit` receives the node's id and the gradient array at that moment; entries with ids
  /// below the visited one may still be partial sums. Parameters' accumulated gradients are
  /// not touched, and the graph's node gradients are restored afterwards.
  func replayBackward(
    from output: Node<Scalar>, seed: Tensor<Scalar>?,
    visit: (_ id: Int, _ gradients: [Tensor<Scalar>?]) -> Void
  ) {
    require(output.graph === self, "backward frames: output node from another graph")
    let outputShape = values[output.id].shape
    if let seed {
      require(
        seed.shape == outputShape,
        "backward frames: seed shape \(seed.shape) differs from output \(output.label) "
          + "\(outputShape)")
    } else {
      require(
        values[output.id].count == 1,
        "backward frames: output \(output.label) has shape \(outputShape); pass a seed gradient")
    }
    let saved = gradients
    defer { gradients = saved }
    gradients = Array(repeating: nil, count: records.count)
    gradients[output.id] = seed ?? Tensor.ones(outputShape)
    for id in stride(from: output.id, through: 0, by: -1) {
      guard let gradient = gradients[id] else { continue }
      visit(id, gradients)
      pullback(id, gradient: gradient)
    }
  }
}
