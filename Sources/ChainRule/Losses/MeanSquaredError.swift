extension Node {
  /// Mean squared error between a prediction and a target of the same shape (or one that
  /// broadcasts): mean((ŷ − y)²). A composite of sub, square and mean, so its gradient
  /// `2(ŷ − y)/n` needs no hand-written rule; the nodes are grouped in an `mse` scope.
  public func meanSquaredError(_ target: Node) -> Node {
    graph.withScope("mse") { (self - target).squared().mean() }
  }
}
