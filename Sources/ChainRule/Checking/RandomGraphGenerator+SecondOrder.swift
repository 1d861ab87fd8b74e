extension RandomGraphGenerator {
  /// The catalog ops whose second derivatives a central difference of the gradient can check
  /// on random graphs: every op but those with kinks — relu, step, abs and clamp (f″ = 0 by
  /// convention, and f′ jumps at the kink) and max and min, along an axis, element-wise or
  /// pooled (the gradient jumps where the chosen element changes). The first-order domains keep
  /// values only 10⁻⁴ from a tie, and a kink crossed by one of the second-order check's steps
  /// turns into a wrong "second derivative" of size 1/ε.
  public static var twiceDifferentiableOperations: [any CatalogedOperation.Type] {
    let kinked: Set<String> = [
      "ReLU", "Step", "Abs", "Clamp", "Max", "Min", "Maximum", "Minimum", "MaxPool2D",
      "MaxPool2DRoute",
    ]
    return OperationCatalog.all.filter { !kinked.contains(String(describing: $0)) }
  }

  /// A generator of random graphs made of `twiceDifferentiableOperations`.
  public static func twiceDifferentiable() -> RandomGraphGenerator {
    RandomGraphGenerator(operations: twiceDifferentiableOperations)
  }
}
