/// xoshiro256** (Blackman and Vigna 2018): a fast seeded generator with 256 bits of state and
/// a period of 2²⁵⁶ − 1, the same numbers on every machine and run.
///
/// The four state words are the first four outputs of `SplitMix64(seed:)`, as the authors
/// recommend (a state of all zeros is impossible that way). One step:
/// result ← rotl(s₁ · 5, 7) · 9;  t ← s₁ ≪ 17;  s₂ ⊕= s₀;  s₃ ⊕= s₁;  s₁ ⊕= s₂;  s₀ ⊕= s₃;
/// s₂ ⊕= t;  s₃ ← rotl(s₃, 45).
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose sequence is fixed by `seed` (state from SplitMix64 seeded with it).
  public init(seed: UInt64) {
    var seeder = SplitMix64(seed: seed)
    state = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
  }

  /// A generator that continues from `stateWords` (s₀, s₁, s₂, s₃, as `stateWords` gives
  /// them), as when a saved model's dropout layer resumes its masks; nil unless there are
  /// exactly four words and not all are zero (a zero state would only ever give zeros).
  public init?(stateWords: [UInt64]) {
    guard stateWords.count == 4, stateWords.contains(where: { $0 != 0 }) else { return nil }
    state = (stateWords[0], stateWords[1], stateWords[2], stateWords[3])
  }

  /// The four state words s₀…s₃: everything that fixes the rest of the sequence.
  public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotateLeft(state.1 &* 5, by: 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotateLeft(state.3, by: 45)
    return result
  }

  private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
