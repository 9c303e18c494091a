import Foundation

/// Pruning a wide network by sampling neurons (seed 000 sec. VI, fig. 11; SEED-NOTES sec. 3): keep k of m neurons,
/// drawn i.i.d. with replacement from probabilities p, then refit the output layer at the kept features (a convex
/// problem: ``OutputLayer/softmaxRegression(features:labels:classCount:penalty:optimizer:epochs:batchSize:seed:initial:)``).
///
///     uniform     p_j = 1 / m
///     importance  p_j proportional to ||u_j||_2 std_x h_j(x)
///
/// with u_j the neuron's output weights (row j of U) and std_x the population standard deviation of h_j over the data:
/// ||u_j|| std_x h_j is the size of the neuron's contribution u_j h_j(x) to f, up to its mean (which the output bias
/// absorbs). "Wasted" neurons (u_j ~ 0 or h_j ~ constant, seed 000 fig. 6 (d)) are rarely or never drawn.
public enum NeuronSampling {
    /// Which probabilities to draw from.
    public enum Rule: String, Sendable, Equatable, CaseIterable { case uniform, importance }

    /// p_j = ||u_j||_2 s_j / sum_l ||u_l||_2 s_l, with s_j = sqrt((1/n) sum_i (H_ij - mean_i H_ij)^2) (population std
    /// over the rows of H, n x m) and u_j row j of U (m x k). Throws when every product is zero.
    public static func importanceWeights(features h: Matrix, outputWeights u: Matrix) throws -> [Double] {
        try Check.data(h, "features")
        try Check.data(u, "outputWeights")
        guard u.rows == h.cols else { throw OverparamError.shapeMismatch("features have \(h.cols) columns but outputWeights has \(u.rows) rows (one per neuron)") }
        let n = h.rows, m = h.cols
        let mean = h.columnSums.map { $0 / Double(n) }
        var sq = [Double](repeating: 0, count: m)
        for i in 0..<n { for j in 0..<m { let e = h.storage[i * m + j] - mean[j]; sq[j] += e * e } }
        return try normalizedImportance(standardDeviations: sq.map { ($0 / Double(n)).squareRoot() }, outputWeights: u)
    }

    /// p_j proportional to ||u_j|| s_j.
    static func normalizedImportance(standardDeviations sd: [Double], outputWeights u: Matrix) throws -> [Double] {
        let norms = DiscretizationVariance.outputWeightNorms(u)
        let raw = (0..<sd.count).map { norms[$0] * sd[$0] }
        let total = raw.reduce(0, +)
        guard total > 0, total.isFinite else {
            throw OverparamError.invalidArgument(name: "outputWeights", problem: "every neuron has ||u_j|| std h_j = 0; importance weights are undefined")
        }
        return raw.map { $0 / total }
    }

    /// The population std of every feature over the rows of x, from blocks of 4096 rows (memory O(4096 m), so a wide
    /// net's features over a whole data set are never held at once): sums of h - K and (h - K)^2 with the shift K_j the
    /// feature's value at the first input (no cancellation when the std is small against the mean).
    static func featureStandardDeviations(_ fs: FeatureSet, data x: Matrix) throws -> [Double] {
        try Check.data(x, "data")
        let m = fs.count, n = x.rows
        var shift = [Double](), s1 = [Double](repeating: 0, count: m), s2 = s1
        for start in stride(from: 0, to: n, by: 4096) {
            let h = try fs.features(x.rows(at: Array(start..<Swift.min(n, start + 4096))))
            if shift.isEmpty { shift = h.row(0) }
            for i in 0..<h.rows { for j in 0..<m { let e = h.storage[i * m + j] - shift[j]; s1[j] += e; s2[j] += e * e } }
        }
        return (0..<m).map { j in let mean = s1[j] / Double(n); return Swift.max(0, s2[j] / Double(n) - mean * mean).squareRoot() }
    }

    /// p_j = 1 / m.
    public static func uniformWeights(count m: Int) throws -> [Double] {
        try Check.atLeast(m, 1, "count")
        return [Double](repeating: 1 / Double(m), count: m)
    }

    /// k indices drawn i.i.d. with replacement from `probabilities` (non-negative, not all zero; normalized here):
    /// inverse CDF, u ~ U[0, 1) from stream 0 of `seed`, the smallest j with P_j = p_1 + ... + p_j > u P_m (binary
    /// search). Indices with p_j = 0 are never drawn. Deterministic in (k, p, seed).
    public static func sample(count k: Int, probabilities p: [Double], seed: UInt64) throws -> [Int] {
        try Check.atLeast(k, 1, "count")
        let sampler = try CategoricalSampler(p)
        var rng = Xoshiro256StarStar(seed: seed, stream: 0)
        return (0..<k).map { _ in sampler.draw(rng.uniform()) }
    }

    /// Keep k neurons of a wide network (seed 000 fig. 11: m = 10^4 trained with weight decay 1e-3, k = 10): p by
    /// `rule` (importance weights from the features of `data`, accumulated over blocks of rows), k draws with replacement (``sample(count:probabilities:seed:)``).
    /// Returns the sub-``FeatureSet`` (duplicates kept, in draw order) and the drawn indices (to slice U, e.g. as the
    /// starting point of the refit).
    public static func prune(features: FeatureSet, outputLayer: OutputLayer, data x: Matrix, keep k: Int, rule: Rule,
                             seed: UInt64) throws -> (features: FeatureSet, indices: [Int]) {
        guard outputLayer.featureCount == features.count else {
            throw OverparamError.shapeMismatch("output layer has \(outputLayer.featureCount) rows but the feature set has m = \(features.count) neurons")
        }
        let p: [Double]
        switch rule {
        case .uniform: p = try uniformWeights(count: features.count)
        case .importance: p = try normalizedImportance(standardDeviations: try featureStandardDeviations(features, data: x), outputWeights: outputLayer.weights)
        }
        let idx = try sample(count: k, probabilities: p, seed: seed)
        return (try features.subset(idx), idx)
    }
}

/// Inverse-CDF sampling of a categorical law: cumulative sums P_j and, for u in [0, 1), the smallest j with
/// P_j > u P_m (binary search). Used by ``NeuronSampling`` and ``GaussianMixture/sample(count:seed:)``.
struct CategoricalSampler: Sendable {
    let cumulative: [Double]
    /// The last index of positive weight (the answer if rounding puts u P_m at P_m).
    let lastPositive: Int

    init(_ weights: [Double]) throws {
        guard !weights.isEmpty else { throw OverparamError.invalidArgument(name: "probabilities", problem: "must not be empty") }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw OverparamError.invalidArgument(name: "probabilities", problem: "must be finite and >= 0")
        }
        var c = [Double](), s = 0.0
        c.reserveCapacity(weights.count)
        for w in weights { s += w; c.append(s) }
        guard s > 0 else { throw OverparamError.invalidArgument(name: "probabilities", problem: "must not all be zero") }
        cumulative = c
        lastPositive = weights.lastIndex { $0 > 0 }!
    }

    func draw(_ u: Double) -> Int {
        let target = u * cumulative[cumulative.count - 1]
        var lo = 0, hi = cumulative.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > target { hi = mid } else { lo = mid + 1 }
        }
        return Swift.min(lo, lastPositive)
    }
}
