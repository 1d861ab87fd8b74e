/// The seed ∂L/∂L = 1 of a gradient built as nodes: ones of a fixed shape, as an op node with
/// no operands.
///
/// `Graph.gradients(of:withRespectTo:seed:)` starts from this node when no seed is given. It
/// is an op, not a constant, so its value cannot be set and every gradient rule may rely on it
/// being 1: a product with it is the other factor (`Node.productWithOnes`), so the rules'
/// ȳ · ∂y/∂x adds no `1·x` node, and broadcasting it gives ones again (`Node.broadcasted`).
/// y = 1 does not depend on anything: no VJP shares, and the tangent is 0.
struct Ones: DifferentiableOperation {
  /// The output's shape.
  let shape: [Int]
  var name: String { "ones" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] { shape }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor.ones(shape)
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] { [] }

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] { [] }

  /// ẏ = 0: a constant.
  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> { Tensor.zeros(shape) }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "0" }
}

extension Node {
  /// Whether this node is a seed of ones (`Ones`), whose value is 1 whatever is fed.
  var isOnes: Bool { operation is Ones }

  /// a · b when one factor is a seed of ones and the other has the product's shape: that
  /// other factor, exactly (x · 1 = x in floating point, NaN and ±0 included); `nil` otherwise.
  static func productWithOnes(_ a: Node, _ b: Node) -> Node? {
    if a.isOnes, Broadcast.shape(a.shape, b.shape) == b.shape { return b }
    if b.isOnes, Broadcast.shape(a.shape, b.shape) == a.shape { return a }
    return nil
  }
}
