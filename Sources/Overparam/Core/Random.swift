import Foundation

/// xoshiro256** (Blackman-Vigna 2018): a fast 64-bit generator with 256 bits of state.
///
/// Seeded through SplitMix64. Independent streams come from ``Xoshiro256StarStar/init(seed:stream:)``,
/// which hashes `(seed, stream)` into the state, so work split over threads draws the same numbers whatever
/// the thread count as long as each logical unit (a network, a layer, a Monte-Carlo sample) owns its stream.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A Box-Muller spare normal.
    private var spare: Double? = nil

    /// A generator from one seed (stream 0).
    public init(seed: UInt64) { self.init(seed: seed, stream: 0) }

    /// The `stream`-th independent generator derived from `seed`.
    public init(seed: UInt64, stream: UInt64) {
        var sm = SplitMix64(state: seed ^ 0x9E37_79B9_7F4A_7C15)
        let mixed = sm.next() ^ (stream &* 0xD1B5_4A32_D192_ED03)
        var sm2 = SplitMix64(state: mixed)
        s0 = sm2.next(); s1 = sm2.next(); s2 = sm2.next(); s3 = sm2.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always) public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform on [0, 1) with 53 random bits.
    @inline(__always) public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform on (0, 1], safe for logarithms.
    @inline(__always) public mutating func uniformPositive() -> Double { (Double(next() >> 11) + 1) * 0x1.0p-53 }

    /// A standard normal N(0, 1) (Box-Muller, both values used).
    public mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        let u1 = uniformPositive(), u2 = uniform()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let t = 2 * Double.pi * u2
        spare = r * Foundation.sin(t)
        return r * Foundation.cos(t)
    }

    /// `count` draws from N(mean, std^2).
    public mutating func normals(_ count: Int, mean: Double = 0, std: Double = 1) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for i in 0..<count { out[i] = mean + std * normal() }
        return out
    }

    /// A point uniform on the unit sphere S^{d-1} (a normalized Gaussian vector).
    public mutating func onSphere(dimension d: Int) -> [Double] {
        precondition(d >= 1)
        while true {
            let v = normals(d)
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if n > 1e-300 { return v.map { $0 / n } }
        }
    }

    /// A uniform integer in 0..<n.
    public mutating func index(below n: Int) -> Int { Int(next(upperBound: UInt64(n))) }
}

/// SplitMix64, used to seed ``Xoshiro256StarStar``.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Matrix {
    /// A matrix of i.i.d. N(0, std^2) entries drawn from `rng`.
    public static func randomNormal(rows: Int, cols: Int, std: Double = 1, using rng: inout Xoshiro256StarStar) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: rng.normals(rows * cols, std: std))
    }
    /// Rows uniform on the unit sphere.
    public static func randomOnSphere(rows: Int, dimension: Int, using rng: inout Xoshiro256StarStar) -> Matrix {
        var s = [Double](); s.reserveCapacity(rows * dimension)
        for _ in 0..<rows { s.append(contentsOf: rng.onSphere(dimension: dimension)) }
        return Matrix(rows: rows, cols: dimension, storage: s)
    }
}
