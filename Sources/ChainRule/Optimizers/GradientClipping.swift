extension Array {
  /// Scales the gradients of the parameters that have one so that their global L2 norm is at
  /// most `maxNorm`, as PyTorch's `clip_grad_norm_`: with ‖g‖ = √(Σ over every element of every
  /// gradient of g²), every gradient is multiplied by min(1, maxNorm / (‖g‖ + 10⁻⁶)).
  /// Frozen parameters and parameters without a gradient are left out.
  ///
  /// Cost: a planned backward pass writes a cleared parameter's gradient in place and its
  /// node's published gradient (`node.gradient`, the unclipped values) shares that storage, so
  /// scaling it copies it first: one allocation per clipped parameter per step.
  /// - Returns: ‖g‖ before clipping (computed in `Double`). As in PyTorch (without
  ///   `error_if_nonfinite`), a NaN norm scales every gradient by NaN and an infinite one by 0.
  @discardableResult
  public func clipGradients<Scalar: TensorScalar>(byGlobalNorm maxNorm: Double) -> Double
  where Element == Parameter<Scalar> {
    require(maxNorm >= 0, "clipGradients: maxNorm must be ≥ 0, got \(maxNorm)")
    let clipped = filter { $0.hasGradient && !$0.isFrozen }
    var sumOfSquares = 0.0
    for parameter in clipped {
      for g in parameter.gradient.scalars { sumOfSquares += Double(g) * Double(g) }
    }
    let norm = sumOfSquares.squareRoot()
    // min(1, ·) keeps NaN, as torch.clamp does.
    let ratio = maxNorm / (norm + 1e-6)
    let coefficient = Scalar(ratio.isNaN ? ratio : Swift.min(1, ratio))
    if !(coefficient >= 1) {  // also for NaN
      for parameter in clipped {
        parameter.gradient.withUnsafeMutableBufferPointer { g in
          for i in g.indices { g[i] *= coefficient }
        }
      }
    }
    return norm
  }

  /// Clamps every element of the gradients into [−maxValue, maxValue], as PyTorch's
  /// `clip_grad_value_` (NaN stays NaN). Frozen parameters and parameters without a gradient
  /// are left out. Like `clipGradients(byGlobalNorm:)`, it copies a gradient that a planned
  /// pass shares with its node's published gradient (one allocation per parameter per step).
  public func clipGradients<Scalar: TensorScalar>(byValue maxValue: Double)
  where Element == Parameter<Scalar> {
    require(maxValue >= 0, "clipGradients: maxValue must be ≥ 0, got \(maxValue)")
    let bound = Scalar(maxValue)
    for parameter in self where parameter.hasGradient && !parameter.isFrozen {
      parameter.gradient.withUnsafeMutableBufferPointer { g in
        for i in g.indices where !g[i].isNaN { g[i] = Swift.min(Swift.max(g[i], -bound), bound) }
      }
    }
  }
}
