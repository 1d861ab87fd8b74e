/// Binary cross-entropy of σ(z) against targets y, computed from the logits z, stably.
///
/// L = (1/n) Σᵢ ℓ(zᵢ, yᵢ) with ℓ = −[y log σ(z) + (1 − y) log(1 − σ(z))], evaluated as
/// ℓ = max(z, 0) − z·y + log1p(e^−|z|), which never overflows and keeps full precision for
/// large |z| (no 1/n with `.sum`; with `.none` the output is ℓᵢ, one per element, and L̄ᵢ
/// takes the place of L̄/n below).
/// ∂ℓ/∂z = σ(z) − y — the course's "a − y" for a sigmoid output with cross-entropy;
/// ∂ℓ/∂y = −z.  VJP: z̄ = L̄ · (σ(z) − y)/n;  ȳ = −L̄ · z/n.
///
/// σ(z) − y is formed without cancellation (`sigmoidMinusTarget`): for z ≥ 0 and y > 1/2 as
/// (1 − y) − σ(−z), where 1 − y is exact and σ(−z) = e^−z/(1 + e^−z) keeps its digits; the
/// plain σ(z) − y rounded σ(z) to 1 first, so a confident right answer (z = 20, y = 1 in
/// Float) had z̄ = 0 instead of −2.06e-9, while the loss itself, log1p(e⁻²⁰), was exact.
public struct BinaryCrossEntropyWithLogits: CatalogedOperation, CarefulVJP {
  /// Mean (default) or sum over the elements, or none (one loss per element).
  public let reduction: LossReduction
  public var name: String { "binaryCrossEntropyWithLogits" }
  /// The loss, averaged over the elements (`.mean`) or summed (`.sum`).
  public init(reduction: LossReduction = .mean) { self.reduction = reduction }

  public func outputShape(_ operands: [ShapeError.Operand]) throws(ShapeError) -> [Int] {
    try requireSameShape(operands, op: name)
    return reduction.outputShape(terms: operands[0].shape)
  }

  public func forward<Scalar: TensorScalar>(_ inputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
    let (z, y) = (inputs[0].scalars, inputs[1].scalars)
    if reduction == .none {
      return Tensor(
        shape: inputs[0].shape,
        scalars: z.indices.map { i in
          max(z[i], 0) - z[i] * y[i] + Scalar.log1p(Scalar.exp(-abs(z[i])))
        })
    }
    var total: Scalar = 0
    for i in z.indices {
      total += max(z[i], 0) - z[i] * y[i] + Scalar.log1p(Scalar.exp(-abs(z[i])))
    }
    return Tensor(total * reduction.factor(z.count))
  }

  public func vjp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>
  ) -> [Tensor<Scalar>] {
    let (z, y) = (inputs[0].scalars, inputs[1].scalars)
    let scale = reduction.termScales(gradient, count: z.count)
    var gradientZ = [Scalar](repeating: 0, count: z.count)
    var gradientY = [Scalar](repeating: 0, count: z.count)
    for i in z.indices {
      gradientZ[i] = scale[i] * sigmoidMinusTarget(z[i], y[i])
      gradientY[i] = -scale[i] * z[i]
    }
    return [
      Tensor(shape: inputs[0].shape, scalars: gradientZ),
      Tensor(shape: inputs[1].shape, scalars: gradientY),
    ]
  }

  /// z̄ and ȳ as `VJPShare` nodes: the numbers of `vjp` above, `sigmoidMinusTarget`'s
  /// cancellation-free σ(z) − y included, differentiated again through the plain formula below.
  public func gradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    shareNodes(inputs, output: output, gradient: gradient, needs: needs)
  }
  /// The plain formula, for the second order: z̄ = s·(σ(z) − y), ȳ = −s·z with s = L̄/n (L̄
  /// itself, per element, for `.none`), σ(z) − y the plain difference.
  func plainGradientNodes<Scalar: TensorScalar>(
    _ inputs: [Node<Scalar>], output: Node<Scalar>, gradient: Node<Scalar>, needs: [Bool]
  ) -> [Node<Scalar>?] {
    let (z, y) = (inputs[0], inputs[1])
    let s = reduction.termScale(gradient, count: z.shape.reduce(1, *))
    return [needs[0] ? s * (z.sigmoid() - y) : nil, needs[1] ? -s * z : nil]
  }

  // The training path: one pass over the buffers, specialised for Float and Double.
  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func forward<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], into output: inout Tensor<Scalar>
  ) {
    guard reduction != .none else {
      output = forward(inputs)
      return
    }
    output[] = inputs[0].scalars.withUnsafeBufferPointer { z in
      inputs[1].scalars.withUnsafeBufferPointer { y in
        reducedLoss(z.baseAddress, y.baseAddress, count: z.count)
      }
    }
  }

  @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
  public func accumulateVJP<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, gradient: Tensor<Scalar>,
    into gradients: inout [Tensor<Scalar>], needs: [Bool]
  ) {
    guard reduction != .none else {
      accumulateThroughVJP(
        inputs, output: output, gradient: gradient, into: &gradients, needs: needs)
      return
    }
    inputs[0].scalars.withUnsafeBufferPointer { z in
      inputs[1].scalars.withUnsafeBufferPointer { y in
        let dz = needs[0] ? gradients[0].withUnsafeMutableBufferPointer { $0.baseAddress } : nil
        let dy = needs[1] ? gradients[1].withUnsafeMutableBufferPointer { $0.baseAddress } : nil
        accumulateReducedVJP(
          z.baseAddress, y.baseAddress, gradient: gradient.scalar, into: dz, dy, count: z.count)
      }
    }
  }

  /// L̇ = Σᵢ [żᵢ · (σ(zᵢ) − yᵢ) − ẏᵢ · zᵢ] / n, with σ(z) − y formed without cancellation as
  /// in the VJP (`sigmoidMinusTarget`).
  public func jvp<Scalar: TensorScalar>(
    _ inputs: [Tensor<Scalar>], output: Tensor<Scalar>, tangents: [Tensor<Scalar>?]
  ) -> Tensor<Scalar> {
    let (z, y) = (inputs[0].scalars, inputs[1].scalars)
    let (tangentZ, tangentY) = (tangents[0]?.scalars, tangents[1]?.scalars)
    var terms = [Scalar](repeating: 0, count: z.count)
    for i in z.indices {
      if let tangentZ { terms[i] += tangentZ[i] * sigmoidMinusTarget(z[i], y[i]) }
      if let tangentY { terms[i] -= tangentY[i] * z[i] }
    }
    return reducedTerms(terms, shape: inputs[0].shape, reduction)
  }

  /// ∂L/∂z = (σ(z) − y)/n, i.e. "a − y" with a = σ(z); ∂L/∂y = −z/n.
  public func derivativeFormula(input: Int, operands: [String], output: String) -> String {
    let n = reduction.formulaSuffix
    return input == 0
      ? "(σ(\(operands[0])) − \(operands[1]))\(n)" : "−\(operands[0])\(n)"
  }

  public static let checks = [
    OperationCheck("logits [4, 1] vs soft targets σ(t)", [[4, 1], [4, 1]]) { _, x in
      x[0].binaryCrossEntropyWithLogits(x[1].sigmoid())
    },
    OperationCheck("sum reduction, [2, 3]", [[2, 3], [2, 3]]) { _, x in
      x[0].binaryCrossEntropyWithLogits(x[1].sigmoid(), reduction: .sum)
    },
    OperationCheck("no reduction, [3, 2]", [[3, 2], [3, 2]]) { _, x in
      x[0].binaryCrossEntropyWithLogits(x[1].sigmoid(), reduction: .none)
    },
  ]
}

// The reduced loss's loops over raw buffers: the training path above and the execution plan
// (`Graph+Plan`) both run these, so both compute the same numbers.
extension BinaryCrossEntropyWithLogits {
  /// L = factor · Σᵢ [max(zᵢ, 0) − zᵢyᵢ + log1p(e^−|zᵢ|)] over `count` elements (`.mean` or
  /// `.sum`).
  @inline(__always)
  func reducedLoss<Scalar: TensorScalar>(
    _ z: UnsafePointer<Scalar>?, _ y: UnsafePointer<Scalar>?, count: Int
  ) -> Scalar {
    var total: Scalar = 0
    if count > 0, let z, let y {
      for i in 0..<count {
        total += max(z[i], 0) - z[i] * y[i] + Scalar.log1p(Scalar.exp(-abs(z[i])))
      }
    }
    return total * reduction.factor(count)
  }

  /// z̄ᵢ += s·(σ(zᵢ) − yᵢ), ȳᵢ += −s·zᵢ with s = L̄ · factor, into whichever of `dz`, `dy` is
  /// given (`.mean` or `.sum`). With `overwritingZ` / `overwritingY` (the buffer holds nothing
  /// yet in this pass, as the execution plan knows) the share + 0 is written without reading
  /// the buffer: the bits of 0 + share (adding +0 turns −0 into +0).
  @inline(__always)
  func accumulateReducedVJP<Scalar: TensorScalar>(
    _ z: UnsafePointer<Scalar>?, _ y: UnsafePointer<Scalar>?, gradient: Scalar,
    into dz: UnsafeMutablePointer<Scalar>?, _ dy: UnsafeMutablePointer<Scalar>?, count: Int,
    overwritingZ: Bool = false, overwritingY: Bool = false
  ) {
    guard count > 0, let z, let y else { return }
    let scale = gradient * reduction.factor(count)
    if let dz {
      if overwritingZ {
        for i in 0..<count { dz[i] = scale * sigmoidMinusTarget(z[i], y[i]) + 0 }
      } else {
        for i in 0..<count { dz[i] += scale * sigmoidMinusTarget(z[i], y[i]) }
      }
    }
    if let dy {
      if overwritingY {
        for i in 0..<count { dy[i] = -scale * z[i] + 0 }
      } else {
        for i in 0..<count { dy[i] += -scale * z[i] }
      }
    }
  }
}

/// σ(z) − y without cancellation. With e = e^−|z| and d = 1 + e: σ(z) = e/d for z < 0
/// (as `Sigmoid` computes it) and 1/d for z ≥ 0, where σ(−z) = e/d. When z ≥ 0 and y > 1/2,
/// σ(z) and y are both near 1, so the difference is taken as (1 − y) − e/d: 1 − y is exact
/// (Sterbenz) and e/d carries every digit of the small result. Elsewhere it is σ(z) − y.
@inline(__always)
func sigmoidMinusTarget<Scalar: TensorScalar>(_ z: Scalar, _ y: Scalar) -> Scalar {
  let e = Scalar.exp(-abs(z))
  let d = 1 + e
  if z < 0 { return e / d - y }
  return y > 0.5 ? (1 - y) - e / d : 1 / d - y
}

extension Node {
  /// Binary cross-entropy of σ(self) against `target` (same shape), from the logits `self`:
  /// mean(max(z, 0) − z·y + log1p(e^−|z|)); gradient (σ(z) − y)/n.
  public func binaryCrossEntropyWithLogits(
    _ target: Node, reduction: LossReduction = .mean
  ) -> Node {
    graph.apply(BinaryCrossEntropyWithLogits(reduction: reduction), [self, target])
  }
}
