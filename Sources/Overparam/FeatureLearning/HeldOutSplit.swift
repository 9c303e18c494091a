import Foundation

/// A seeded split of n rows into a held-out share and the rest, for scoring a density model on samples it was not
/// fitted to (the held-out criterion of ``GaussianMixture/select(_:candidates:criterion:seed:maxIterations:tolerance:covarianceFloor:)``,
/// seed 000 sec. VI: "number of components chosen by held-out likelihood"):
///
///     h = round(fraction n),   heldOut = pi(0), ..., pi(h - 1),   training = pi(h), ..., pi(n - 1),
///
/// with pi a Fisher-Yates permutation of 0..<n from stream `stream` of `seed`. Depends only on (n, fraction, seed,
/// stream); both parts are non-empty.
public struct HeldOutSplit: Sendable, Equatable {
    /// The rows to fit on, in permutation order.
    public let training: [Int]
    /// The rows to score on, in permutation order.
    public let heldOut: [Int]

    /// The split of `count` rows (see the type's discussion). Throws unless 0 < fraction < 1 and both parts get at
    /// least one row.
    public init(count n: Int, fraction: Double, seed: UInt64, stream: UInt64 = 3) throws {
        guard fraction > 0, fraction < 1 else { throw OverparamError.invalidArgument(name: "fraction", problem: "must lie in (0, 1), got \(fraction)") }
        let held = Int((fraction * Double(n)).rounded())
        guard held >= 1, n - held >= 1 else {
            throw OverparamError.invalidArgument(name: "fraction", problem: "leaves \(held) held-out and \(n - held) training samples of \(n); need both >= 1")
        }
        var order = Array(0..<n)
        var rng = Xoshiro256StarStar(seed: seed, stream: stream)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
        heldOut = Array(order[0..<held])
        training = Array(order[held...])
    }
}
