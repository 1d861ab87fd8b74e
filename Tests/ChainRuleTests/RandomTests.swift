import Foundation
import Testing

@testable import ChainRule

@Suite("Seeded random generators")
struct RandomTests {
  @Test func splitMix64SeedZeroMatchesThePublishedSequence() {
    // Reference values of SplitMix64 (Vigna's splitmix64.c) from seed 0.
    var generator = SplitMix64(seed: 0)
    #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    #expect(generator.next() == 0x06C4_5D18_8009_454F)
    #expect(generator.next() == 0xF88B_B8A8_724C_81EC)
  }

  @Test func xoshiroSeedZeroMatchesAnIndependentImplementation() {
    // State = the four SplitMix64(0) outputs above; outputs computed with a separate Python
    // implementation of xoshiro256** (Blackman and Vigna's xoshiro256starstar.c).
    var generator = Xoshiro256StarStar(seed: 0)
    #expect(generator.next() == 0x99EC_5F36_CB75_F2B4)
    #expect(generator.next() == 0xBF6E_1F78_4956_452A)
    #expect(generator.next() == 0x1A5F_849D_4933_E6E0)
    #expect(generator.next() == 0x6AA5_94F1_262D_2D2C)
  }

  @Test func unitDoubleUsesTheTop53Bits() {
    var a = Xoshiro256StarStar(seed: 7)
    var b = Xoshiro256StarStar(seed: 7)
    for _ in 0..<100 {
      let u = a.nextUnitDouble()
      #expect(u == Double(b.next() >> 11) / 9_007_199_254_740_992)
      #expect(u >= 0 && u < 1)
    }
  }

  @Test func normalIsBoxMullerOfTwoUniforms() {
    // Box–Muller by hand from the raw bits; the Python reference for SplitMix64(42) is
    // 0.8822489062222688.
    var generator = SplitMix64(seed: 42)
    var raw = SplitMix64(seed: 42)
    let u1 = 1 - Double(raw.next() >> 11) * 0x1p-53
    let u2 = Double(raw.next() >> 11) * 0x1p-53
    let value = generator.nextNormal()
    expectClose(value, (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    expectClose(value, 0.8822489062222688, relative: 1e-14)
    #expect(generator.next() == raw.next())  // exactly two draws consumed
  }

  @Test func normalHasTheRequestedMoments() {
    var generator = Xoshiro256StarStar(seed: 1)
    let draws = (0..<100_000).map { _ in generator.nextNormal(mean: 3, standardDeviation: 2) }
    let mean = draws.reduce(0, +) / Double(draws.count)
    let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
    // Standard errors: 2/√10⁵ ≈ 0.006 for the mean, ≈ 0.0045 for the deviation.
    #expect(abs(mean - 3) < 0.03)
    #expect(abs(variance.squareRoot() - 2) < 0.03)
  }

  @Test func boundedIntegersAreInRangeAndRoughlyUniform() {
    var generator = Xoshiro256StarStar(seed: 3)
    var counts = [Int](repeating: 0, count: 6)
    for _ in 0..<60_000 { counts[generator.nextInt(below: 6)] += 1 }
    // Each count ~ 10,000 ± 91 (binomial standard deviation).
    for count in counts { #expect(abs(count - 10_000) < 500) }
  }

  @Test func permutationIsAPermutationFixedBySeed() {
    var a = Xoshiro256StarStar(seed: 11)
    var b = Xoshiro256StarStar(seed: 11)
    var c = Xoshiro256StarStar(seed: 12)
    let order = a.permutation(of: 50)
    #expect(order.sorted() == Array(0..<50))
    #expect(order == b.permutation(of: 50))
    #expect(order != c.permutation(of: 50))
    #expect(order != Array(0..<50))
  }
}
