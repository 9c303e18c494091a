import Foundation

/// A seeded K-class Gaussian-mixture classification set: the larger stand-in for seed 002's mini-ImageNet head
/// experiments (sec. VII-B: 64 classes, 1600-dimensional embeddings, 38,400 examples split 7:1:2 into
/// 26,880 / 3,840 / 7,680). Class c has mean mu_c and isotropic unit noise:
///
///     x = mu_c + z,   z ~ N(0, I_d),   mu_c = (s / sqrt(r)) B a_c,   a_c ~ N(0, I_r),
///
/// with B (d x r) a random orthonormal basis (Gram-Schmidt of a Gaussian matrix) of an r-dimensional signal subspace,
/// so ||mu_c - mu_c'|| ~ s sqrt(2) and the classes are separated only along r of the d directions (embeddings of a
/// trained network are similarly low-rank). Every split holds the same number of examples per class, in class-
/// interleaved order (example i has label i mod K). Streams: 1 for the means, 2 for the basis, 3 / 4 / 5 for the
/// train / validation / test noise, so the splits' sizes can change without changing the other splits.
public enum GaussianMixtureClassification {
    /// The three splits.
    /// - Parameters:
    ///   - classes: K >= 2; `dimension`: d >= 1; `signalDimension`: r in 1...d; `separation`: s > 0.
    ///   - perClass: examples per class in the train, validation and test splits (each >= 1).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for sizes or a separation out of range.
    public static func generate(classes K: Int, dimension d: Int, signalDimension r: Int, separation s: Double,
                                perClass: (train: Int, validation: Int, test: Int), seed: UInt64) throws
        -> (train: LabeledDataset, validation: LabeledDataset, test: LabeledDataset) {
        guard K >= 2, d >= 1, (1...d).contains(r) else {
            throw OverparamError.invalidArgument(name: "GaussianMixtureClassification", problem: "need K >= 2, d >= 1 and 1 <= r <= d (got K = \(K), d = \(d), r = \(r))")
        }
        guard s > 0, s.isFinite else { throw OverparamError.invalidArgument(name: "separation", problem: "s = \(s) must be positive and finite") }
        guard perClass.train >= 1, perClass.validation >= 1, perClass.test >= 1 else {
            throw OverparamError.invalidArgument(name: "perClass", problem: "need at least 1 example per class in every split (got \(perClass))")
        }
        // Orthonormal basis B (rows = basis vectors, r x d) by modified Gram-Schmidt.
        var brng = Xoshiro256StarStar(seed: seed, stream: 2)
        var basis = Matrix.randomNormal(rows: r, cols: d, using: &brng)
        for a in 0..<r {
            for b in 0..<a {
                var p = 0.0
                for k in 0..<d { p += basis[a, k] * basis[b, k] }
                for k in 0..<d { basis[a, k] -= p * basis[b, k] }
            }
            let norm = (0..<d).reduce(0) { $0 + basis[a, $1] * basis[a, $1] }.squareRoot()
            guard norm > 1e-12 else { throw OverparamError.singular("signal basis degenerate; use r much smaller than d") }
            for k in 0..<d { basis[a, k] /= norm }
        }
        var mrng = Xoshiro256StarStar(seed: seed, stream: 1)
        var coefficients = Matrix.randomNormal(rows: K, cols: r, using: &mrng)
        coefficients.scale(by: s / Double(r).squareRoot())
        let means = Matrix.product(coefficients, .none, basis, .none)
        func split(_ count: Int, stream: UInt64, name: String) throws -> LabeledDataset {
            var rng = Xoshiro256StarStar(seed: seed, stream: stream)
            let n = count * K
            var x = Matrix.randomNormal(rows: n, cols: d, using: &rng)
            let labels = (0..<n).map { $0 % K }
            for i in 0..<n { for k in 0..<d { x[i, k] += means[labels[i], k] } }
            return try LabeledDataset(inputs: x, labels: labels, classCount: K, name: name)
        }
        return (try split(perClass.train, stream: 3, name: "gaussian-mixture train"),
                try split(perClass.validation, stream: 4, name: "gaussian-mixture validation"),
                try split(perClass.test, stream: 5, name: "gaussian-mixture test"))
    }
}
