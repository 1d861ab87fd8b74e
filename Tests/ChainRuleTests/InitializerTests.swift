import Testing

@testable import ChainRule

@Suite("Initializers")
struct InitializerTests {
  func draw(_ rule: Initializer, _ shape: [Int], fanIn: Int, fanOut: Int, seed: UInt64 = 5)
    -> Tensor<Double>
  {
    var generator = Xoshiro256StarStar(seed: seed)
    return rule.tensor(shape, fanIn: fanIn, fanOut: fanOut, using: &generator)
  }

  func standardDeviation(_ t: Tensor<Double>) -> Double {
    let mean = t.scalars.reduce(0, +) / Double(t.count)
    return (t.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(t.count))
      .squareRoot()
  }

  @Test func zerosAndConstant() {
    #expect(draw(.zeros, [2, 3], fanIn: 2, fanOut: 3) == Tensor.zeros([2, 3]))
    #expect(draw(.constant(0.25), [4], fanIn: 1, fanOut: 4) == Tensor(shape: [4], repeating: 0.25))
  }

  @Test func uniformValuesComeFromTheGeneratorInOrder() {
    let t = draw(.uniform(lower: -0.5, upper: 1.5), [3, 2], fanIn: 3, fanOut: 2)
    var generator = Xoshiro256StarStar(seed: 5)
    for value in t.scalars { #expect(value == -0.5 + 2 * generator.nextUnitDouble()) }
  }

  @Test func glorotUniformStaysWithinItsLimit() {
    // a = √(6 / (fanIn + fanOut)) = √(6/50); U[−a, a] has standard deviation a/√3.
    let t = draw(.glorotUniform, [20, 30], fanIn: 20, fanOut: 30)
    let limit = (6.0 / 50).squareRoot()
    #expect(t.scalars.allSatisfy { abs($0) <= limit })
    #expect(t.scalars.max()! > 0.9 * limit && t.scalars.min()! < -0.9 * limit)
    #expect(abs(standardDeviation(t) / (limit / 3.0.squareRoot()) - 1) < 0.1)
  }

  @Test func heUniformStaysWithinItsLimit() {
    let t = draw(.heUniform, [40, 10], fanIn: 40, fanOut: 10)
    let limit = (6.0 / 40).squareRoot()
    #expect(t.scalars.allSatisfy { abs($0) <= limit })
    #expect(t.scalars.max()! > 0.9 * limit)
  }

  @Test(arguments: [
    (Initializer.glorotNormal, (2.0 / (300 + 200)).squareRoot()),
    (Initializer.heNormal, (2.0 / 300).squareRoot()),
    (Initializer.normal(mean: 0, standardDeviation: 0.3), 0.3),
  ])
  func normalRulesHaveTheirStandardDeviation(_ rule: Initializer, _ expected: Double) {
    // 60,000 draws: the sample deviation is within ~0.3% of σ; 2% is a wide margin.
    let t = draw(rule, [300, 200], fanIn: 300, fanOut: 200)
    #expect(abs(standardDeviation(t) / expected - 1) < 0.02)
    #expect(abs(t.scalars.reduce(0, +) / Double(t.count)) < 0.02 * expected * 10)
  }

  @Test func sameSeedSameTensorDifferentSeedDifferentTensor() {
    let a = draw(.glorotNormal, [5, 5], fanIn: 5, fanOut: 5, seed: 9)
    #expect(a == draw(.glorotNormal, [5, 5], fanIn: 5, fanOut: 5, seed: 9))
    #expect(a != draw(.glorotNormal, [5, 5], fanIn: 5, fanOut: 5, seed: 10))
  }

  /// The element count is computed without overflow: [2⁶², 4] has no Int count, so the
  /// initializer stops with a message naming the shape instead of an arithmetic trap.
  @Test func elementCountsThatOverflowAreDetected() {
    #expect(Initializer.elementCount([3, 4]) == 12)
    #expect(Initializer.elementCount([]) == 1)
    #expect(Initializer.elementCount([1 << 62, 4]) == nil)
    #expect(Initializer.elementCount([Int.max, 2]) == nil)
    #expect(Initializer.elementCount([-1, 4]) == nil)
    #expect(Initializer.elementCount([0, Int.max]) == 0)
  }
}
