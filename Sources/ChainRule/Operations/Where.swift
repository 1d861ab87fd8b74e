/// Element-wise selection by a condition (PyTorch's `where`), the three operands broadcast
/// together like NumPy.
///
/// y = c ? a : b, where an element of the condition c counts as true when it is nonzero
/// (NaN included, as C and NumPy's `bool` read it);
/// ∂y/∂a = [c],  ∂y/∂b = [¬c];  ā = ȳ · [c],  b̄ = ȳ · [¬c],  c̄ = 0.
/// The condition only selects: it is not differentiated (in PyTorch it is a Boolean tensor),
/// so its gradient is 0 — a condition computed from x (`x.step()`) passes nothing back to x.
/// Scalars here are floating-point, so the condition is a tensor of 0s and 1s (or any numbers).
public struct Where: CatalogedOperation {
  public var name: String { "where" }
  public init() {}

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    let (condition, a, b) = (operands[0], operands[1], operands[2])
    guard let values = Broadcast.shape(a.shape, b.shape) else {
      throw ShapeError.broadcast(op: name, a, b)
    }
    guard let shape = Broadcast.shape(condition.shape, values) else {
      throw ShapeError(
        "\(name): condition \(condition.text) does not broadcast with \(a.text) and \(b.text)"
          + " (together \(values))")
    }
    return shape
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let shape = Broadcast.shape(
      inputs[0].shape, Broadcast.shape(inputs[1].shape, inputs[2].shape)!)!
    let c = inputs[0].broadcasted(to: shape).scalars
    let a = inputs[1].broadcasted(to: shape).scalars
    let b = inputs[2].broadcasted(to: shape).scalars
    return Tensor(shape: shape, scalars: c.indices.map { c[$0] != 0 ? a[$0] : b[$0] })
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let c = inputs[0].broadcasted(to: output.shape).scalars
    let g = gradient.scalars
    return [
      Tensor.zeros(output.shape),
      Tensor(shape: output.shape, scalars: c.indices.map { c[$0] != 0 ? g[$0] : 0 }),
      Tensor(shape: output.shape, scalars: c.indices.map { c[$0] != 0 ? 0 : g[$0] }),
    ]
  }

  /// ā = where(c, ȳ, 0), b̄ = where(c, 0, ȳ), c̄: none.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (condition, graph) = (inputs[0], gradient.graph)
    let zero = graph.constant(Tensor(0))
    return [
      nil,
      needs[1] ? graph.where(condition, gradient, zero) : nil,
      needs[2] ? graph.where(condition, zero, gradient) : nil,
    ]
  }

  /// ẏ = c ? ȧ : ḃ, the tangents broadcast to the output shape; the condition's tangent is
  /// ignored (it only selects), as its gradient is 0.
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let c = inputs[0].broadcasted(to: output.shape).scalars
    let a = tangents[1]?.broadcasted(to: output.shape).scalars
    let b = tangents[2]?.broadcasted(to: output.shape).scalars
    return Tensor(
      shape: output.shape, scalars: c.indices.map { c[$0] != 0 ? (a?[$0] ?? 0) : (b?[$0] ?? 0) })
  }

  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    ["0", "[\(operands[0])]", "[¬\(operands[0])]"][input]
  }

  public static let checks = [
    OperationCheck("same shape [2, 3]", [[2, 3], [2, 3]]) { graph, x in
      graph.where(graph.constant(Tensor([[1, 0, 1], [0, 0, 1]])), x[0], x[1])
    },
    OperationCheck("broadcast: condition [3, 1], a [3, 4], b []", [[3, 4], []]) { graph, x in
      graph.where(graph.constant(Tensor([[0], [1], [1]])), x[0], x[1])
    },
    // The condition relu(x) is computed from an input (true where x > 0): its gradient must be
    // 0, and relu′ = 1 there, so a VJP that leaked ȳ into the condition would show.
    OperationCheck(
      "condition relu(x) [4], a [2, 4], b [4]", [[4], [2, 4], [4]], domain: .awayFromZero
    ) { graph, x in graph.where(x[0].relu(), x[1], x[2]) },
  ]
}

extension Graph {
  /// Element-wise `condition ? a : b` (a nonzero condition element is true), the three
  /// broadcast together; the condition is not differentiated.
  public func `where`(_ condition: Node<Scalar>, _ a: Node<Scalar>, _ b: Node<Scalar>)
    -> Node<Scalar>
  {
    apply(Where(), [condition, a, b])
  }
}
