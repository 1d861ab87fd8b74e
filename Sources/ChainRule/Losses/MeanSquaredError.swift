extension Node {
  /// Mean squared error between a prediction and a target of the same shape (or one that
  /// broadcasts): mean((ŷ − y)²), or the sum, or the squared errors themselves (`.none`,
  /// in the broadcast shape), as PyTorch's `mse_loss(reduction:)`. A composite of sub,
  /// square and mean (or sum), so its gradient `2(ŷ − y)/n` needs no hand-written rule; the
  /// nodes are grouped in an `mse` scope.
  public func meanSquaredError(_ target: Node, reduction: LossReduction = .mean) -> Node {
    graph.withScope("mse") {
      let squaredErrors = (self - target).squared()
      switch reduction {
      case .mean: return squaredErrors.mean()
      case .sum: return squaredErrors.sum()
      case .none: return squaredErrors
      }
    }
  }
}
