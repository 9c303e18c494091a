import Foundation

/// Monte-Carlo estimates of the NNGP and NTK: averages of the empirical kernels of `samples` independently sampled
/// networks, with entry-wise standard errors (sample std / sqrt(S)).
///
/// Network s is sampled with seed `seed &+ s` streams, so the estimate depends only on `seed` and `samples`.
/// The mean converges to the finite-width expectation, which differs from the infinite-width kernel by O(1/N).
public struct MonteCarloKernel: Sendable {
    public var nngp: Matrix
    public var ntk: Matrix
    public var nngpStandardError: Matrix
    public var ntkStandardError: Matrix
    public var samples: Int

    public init(_ architecture: Architecture, _ x1: Matrix, _ x2: Matrix? = nil, samples: Int, seed: UInt64) throws {
        guard samples >= 2 else { throw OverparamError.invalidArgument(name: "samples", problem: "needs at least 2 networks for a standard error") }
        var sumK: Matrix? = nil, sumK2: Matrix? = nil, sumT: Matrix? = nil, sumT2: Matrix? = nil
        for s in 0..<samples {
            let net = try Network(architecture, seed: Self.sampleSeed(seed, s))
            let k = try EmpiricalNTK.compute(net, x1, x2)
            if sumK == nil {
                sumK = k.nngp; sumK2 = k.nngp .* k.nngp; sumT = k.ntk; sumT2 = k.ntk .* k.ntk
            } else {
                sumK!.add(k.nngp, scaledBy: 1); sumK2!.add(k.nngp .* k.nngp, scaledBy: 1)
                sumT!.add(k.ntk, scaledBy: 1); sumT2!.add(k.ntk .* k.ntk, scaledBy: 1)
            }
        }
        let S = Double(samples)
        func stats(_ s: Matrix, _ s2: Matrix) -> (Matrix, Matrix) {
            let mean = (1 / S) * s
            var se = mean
            for i in 0..<se.count {
                let v = max(0, (s2.storage[i] - S * mean.storage[i] * mean.storage[i]) / (S - 1))
                se.storage[i] = (v / S).squareRoot()
            }
            return (mean, se)
        }
        (nngp, nngpStandardError) = stats(sumK!, sumK2!)
        (ntk, ntkStandardError) = stats(sumT!, sumT2!)
        self.samples = samples
    }

    /// The seed of the s-th sampled network.
    public static func sampleSeed(_ seed: UInt64, _ s: Int) -> UInt64 {
        var sm = SplitMix64(state: seed &+ UInt64(s) &* 0x9E37_79B9_7F4A_7C15)
        return sm.next()
    }
}
