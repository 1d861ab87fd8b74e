import Foundation

/// Platform-independent draws built only from a generator's own 64-bit outputs.
///
/// The standard library's `Double.random(in:using:)` and `shuffled(using:)` make no promise
/// that their algorithms stay the same across versions and platforms; these do, so a seed
/// pins every initial weight and every shuffle.
extension RandomNumberGenerator {
  /// A uniform value in [0, 1): the top 53 bits of `next()` times 2⁻⁵³.
  public mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// A uniform value in `range`: lower + (upper − lower) · u with u from `nextUnitDouble()`.
  public mutating func nextDouble(in range: ClosedRange<Double>) -> Double {
    range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitDouble()
  }

  /// A normal value by the Box–Muller transform of two uniform draws:
  /// mean + sd · √(−2 ln u₁) · cos(2π u₂) with u₁ = 1 − `nextUnitDouble()` ∈ (0, 1] (never
  /// log 0) and u₂ = `nextUnitDouble()`. Each call uses exactly two outputs of the generator
  /// (the sine partner is not kept, so no hidden state). The uniform bits are exact on every
  /// machine; `log`, `cos` and `sqrt` come from the platform's C library.
  public mutating func nextNormal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
    let u1 = 1 - nextUnitDouble()
    let u2 = nextUnitDouble()
    return mean + standardDeviation * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// A uniform integer in `0..<upperBound`, unbiased: draws are rejected below
  /// 2⁶⁴ mod upperBound (Lemire's multiply-shift method).
  /// - Precondition: `upperBound > 0`.
  public mutating func nextInt(below upperBound: Int) -> Int {
    require(upperBound > 0, "nextInt(below:): upper bound \(upperBound) is not positive")
    let bound = UInt64(upperBound)
    let threshold = (0 &- bound) % bound
    while true {
      let (high, low) = next().multipliedFullWidth(by: bound)
      if low >= threshold { return Int(high) }
    }
  }

  /// A uniformly random permutation of `0..<count` (Fisher–Yates, from the last index down,
  /// each swap partner drawn with `nextInt(below:)`).
  public mutating func permutation(of count: Int) -> [Int] {
    var order = Array(0..<count)
    for i in stride(from: count - 1, to: 0, by: -1) {
      order.swapAt(i, nextInt(below: i + 1))
    }
    return order
  }
}
