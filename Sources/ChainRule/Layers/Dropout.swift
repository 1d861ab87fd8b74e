import Foundation

/// Inverted dropout (PyTorch's `nn.Dropout(p)`): in training, each element is zeroed with
/// probability p and the survivors are scaled by 1/(1 − p), so the expected value is kept;
/// in evaluation it is the identity.
///
/// a = x ⊙ m with m drawn afresh at every forward evaluation — at build time and at each
/// `graph.forward()` of a built graph — mᵢ = 1/(1 − p) with probability 1 − p, else 0; so
/// x̄ = ā ⊙ m. The draws come from the layer's seeded `generator` (one `nextUnitDouble()`
/// per element, kept when it is below 1 − p): a seed fixes every mask. The mode is set with
/// `setTraining(_:)` — on the layer or on a `Sequential` holding it, PyTorch's
/// `train()`/`eval()` — and a new layer starts in training mode, as in PyTorch; in evaluation
/// m = 1 and nothing is drawn. Applying the layer twice builds two masks, drawn in turn.
public final class Dropout<Scalar: TensorScalar>: Layer {
  let state: DropoutState
  /// The layer's scope.
  public var name: String

  /// The probability that an element is zeroed.
  public var probability: Double { state.probability }

  /// Whether masks are drawn (training) or the layer is the identity (evaluation).
  public var isTraining: Bool {
    get { state.withLock { $0.isTraining } }
    set { state.withLock { $0.isTraining = newValue } }
  }

  /// The generator the next mask is drawn from: save and restore it to draw one mask again.
  public var generator: Xoshiro256StarStar {
    get { state.withLock { $0.generator } }
    set { state.withLock { $0.generator = newValue } }
  }

  /// Dropout with probability `probability`, masks drawn from `Xoshiro256StarStar(seed:)`.
  /// - Precondition: 0 ≤ probability < 1.
  public init(probability: Double = 0.5, seed: UInt64, name: String = "dropout") {
    require(
      probability >= 0 && probability < 1,
      "Dropout: probability \(probability) must be in [0, 1)")
    state = DropoutState(probability: probability, generator: Xoshiro256StarStar(seed: seed))
    self.name = name
  }

  /// None.
  public var parameters: [Parameter<Scalar>] { [] }

  /// Training (`true`) or evaluation (`false`).
  public func setTraining(_ isTraining: Bool) { self.isTraining = isTraining }

  /// x ⊙ m, built in the scope `name`; the mask node is named `mask`.
  public func callAsFunction(_ input: Node<Scalar>) -> Node<Scalar> {
    input.graph.withScope(name) {
      let mask = input.graph.apply(DropoutMask(state: state), [input], name: "mask")
      return (input * mask).named("a")
    }
  }
}

/// The mode and the generator of one `Dropout` layer, shared with the mask nodes it built.
/// Every access holds the lock, hence `@unchecked Sendable` (ops must be `Sendable`).
final class DropoutState: @unchecked Sendable {
  struct Mutable {
    var isTraining = true
    var generator: Xoshiro256StarStar
  }
  let probability: Double
  private let lock = NSLock()
  private var mutable: Mutable

  init(probability: Double, generator: Xoshiro256StarStar) {
    self.probability = probability
    mutable = Mutable(generator: generator)
  }

  func withLock<Result>(_ body: (inout Mutable) -> Result) -> Result {
    lock.lock()
    defer { lock.unlock() }
    return body(&mutable)
  }
}

/// A fresh dropout mask of its operand's shape: 1/(1 − p) or 0 in training, 1 in evaluation.
/// The operand gives only the shape, so it receives no gradient (the mask is a constant of
/// the step, as PyTorch treats it). Not in the catalog: its value is random by design; the
/// `Dropout` tests check it with the generator held fixed.
struct DropoutMask: DifferentiableOperation {
  let state: DropoutState
  var name: String { "dropoutMask(p: \(state.probability))" }

  func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    operands[0].shape
  }

  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    var mask = Tensor<Scalar>.zeros(inputs[0].shape)
    forward(inputs, into: &mask)
    return mask
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>)
  {
    let keep = 1 - state.probability
    let scale = Scalar(1 / keep)
    state.withLock { state in
      guard state.isTraining else { return output.fill(with: 1) }
      output.withUnsafeMutableBufferPointer { m in
        for i in m.indices { m[i] = state.generator.nextUnitDouble() < keep ? scale : 0 }
      }
    }
  }

  func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    [Tensor.zeros(inputs[0].shape)]
  }

  func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {}

  func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    [nil]
  }

  func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    Tensor.zeros(output.shape)
  }

  func derivativeFormula(input: Int, operands: [String], output: String) -> String { "0" }
}
