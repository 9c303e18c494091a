import Foundation
import CBLAS

/// A mixture of k full-covariance Gaussians in R^d, fitted by expectation-maximization: one of the generative models of
/// the neuron distribution rho (seed 000 sec. VI, figs. 8-9: learn rho* from the weights of trained nets, then sample new
/// features from it):
///
///     p(x) = sum_c w_c N(x; mu_c, Sigma_c),   log N(x; mu, Sigma) = -(1/2) [d log 2 pi + log det Sigma + ||L^{-1}(x - mu)||^2],
///
/// with Sigma = L L^T (LAPACK dpotrf). The quadratic forms of all n points for one component are one triangular solve
/// R L^{-T} of the centered n x d block (BLAS dtrsm), so an E-step costs about k n d^2 flops in BLAS 3.
///
/// Fit (``fit(_:components:seed:maxIterations:tolerance:covarianceFloor:)``):
/// - initialization: k-means++ seeding (D^2 sampling from stream 1 of `seed`), then Lloyd iterations (at most 20, until
///   no assignment changes), then one M-step from the hard assignments;
/// - E-step: responsibilities r_ic = w_c N_c(x_i) / p(x_i) by log-sum-exp;
/// - M-step: N_c = sum_i r_ic + 10 eps (as scikit-learn, so an empty component stays defined), w_c = N_c / sum N,
///   mu_c = sum_i r_ic x_i / N_c, Sigma_c = sum_i r_ic (x_i - mu_c)(x_i - mu_c)^T / N_c + epsilon I with epsilon the
///   `covarianceFloor` (an absolute floor on every variance, scikit-learn's reg_covar; it keeps Sigma_c positive definite
///   when a component collapses onto fewer than d + 1 points);
/// - stop when the mean log-likelihood (1/n) sum_i log p(x_i) of the current parameters changes by less than
///   `tolerance`, or after `maxIterations` E-steps.
public struct GaussianMixture: Sendable {
    /// w_c (sum 1).
    public let weights: [Double]
    /// mu_c as rows (k x d).
    public let means: Matrix
    /// Sigma_c (d x d each).
    public let covariances: [Matrix]
    /// L_c with Sigma_c = L_c L_c^T.
    let lowerFactors: [Matrix]
    let logDeterminants: [Double]
    /// The mean training log-likelihood at each E-step of the fit (empty for a model built from parameters).
    public private(set) var history: [Double] = []
    /// Whether the fit met its tolerance before `maxIterations`.
    public private(set) var converged = false

    /// A mixture from its parameters; throws on shape mismatches, weights that are negative or do not sum to 1
    /// (within 1e-9), or a covariance that is not symmetric positive definite.
    public init(weights: [Double], means: Matrix, covariances: [Matrix]) throws {
        let k = weights.count, d = means.cols
        guard k >= 1 else { throw OverparamError.invalidArgument(name: "weights", problem: "need at least one component") }
        guard means.rows == k, d >= 1 else { throw OverparamError.shapeMismatch("means are \(means.rows)x\(d), expected \(k) rows (one per weight) and d >= 1 columns") }
        guard covariances.count == k, covariances.allSatisfy({ $0.rows == d && $0.cols == d }) else {
            throw OverparamError.shapeMismatch("need \(k) covariances of size \(d)x\(d)")
        }
        try Check.finite(weights, "weights")
        try Check.finite(means, "means")
        for s in covariances { try Check.finite(s, "covariances") }
        guard weights.allSatisfy({ $0 >= 0 }), Swift.abs(weights.reduce(0, +) - 1) <= 1e-9 else {
            throw OverparamError.invalidArgument(name: "weights", problem: "must be >= 0 and sum to 1, got sum \(weights.reduce(0, +))")
        }
        var factors = [Matrix](), logDets = [Double]()
        for (c, s) in covariances.enumerated() {
            do {
                let chol = try CholeskyFactorization(s.symmetricPart)
                factors.append(chol.lower)
                logDets.append(chol.logDeterminant)
            } catch {
                throw OverparamError.singular("covariance of component \(c) is not positive definite; raise covarianceFloor")
            }
        }
        self.weights = weights
        self.means = means
        self.covariances = covariances
        lowerFactors = factors
        logDeterminants = logDets
    }

    /// k.
    public var componentCount: Int { weights.count }
    /// d.
    public var dimension: Int { means.cols }
    /// Free parameters: (k - 1) weights, k d means, k d (d + 1) / 2 covariance entries.
    public var parameterCount: Int { let k = componentCount, d = dimension; return (k - 1) + k * d + k * d * (d + 1) / 2 }

    // MARK: Densities

    /// log w_c + log N(x_i; mu_c, Sigma_c) for every row and component (n x k).
    public func componentLogDensities(_ x: Matrix) throws -> Matrix {
        guard x.cols == dimension else { throw OverparamError.shapeMismatch("samples have \(x.cols) columns, the mixture has d = \(dimension)") }
        try Check.finite(x, "samples")
        let n = x.rows, d = dimension, k = componentCount
        var out = Matrix(rows: n, cols: k)
        let constant = Double(d) * Foundation.log(2 * Double.pi)
        var r = Matrix(uninitializedRows: n, cols: d)
        for c in 0..<k {
            Self.center(x, means.row(c), into: &r)
            if n > 0 {
                Parallel.configureBLAS()
                r.storage.withUnsafeMutableBufferPointer { rp in
                    lowerFactors[c].storage.withUnsafeBufferPointer { lp in
                        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(n), Int32(d), 1,
                                    lp.baseAddress, Int32(d), rp.baseAddress, Int32(d))
                    }
                }
            }
            let base = Foundation.log(weights[c]) - 0.5 * (constant + logDeterminants[c])
            for i in 0..<n {
                var q = 0.0
                for l in 0..<d { let v = r.storage[i * d + l]; q += v * v }
                out.storage[i * k + c] = base - 0.5 * q
            }
        }
        return out
    }

    /// log p(x_i) for every row (log-sum-exp over components).
    public func logDensity(_ x: Matrix) throws -> [Double] { Self.logSumExpRows(try componentLogDensities(x)) }

    /// (1/n) sum_i log p(x_i).
    public func meanLogLikelihood(_ x: Matrix) throws -> Double {
        guard x.rows >= 1 else { throw OverparamError.invalidArgument(name: "samples", problem: "must not be empty") }
        return try logDensity(x).reduce(0, +) / Double(x.rows)
    }

    /// The Bayesian information criterion -2 sum_i log p(x_i) + p log n with p = ``parameterCount`` (lower is better).
    public func bic(_ x: Matrix) throws -> Double {
        -2 * Double(x.rows) * (try meanLogLikelihood(x)) + Double(parameterCount) * Foundation.log(Double(x.rows))
    }

    static func logSumExpRows(_ a: Matrix) -> [Double] {
        (0..<a.rows).map { i in
            var mx = -Double.infinity
            for c in 0..<a.cols { mx = Swift.max(mx, a.storage[i * a.cols + c]) }
            guard mx.isFinite else { return mx }
            var s = 0.0
            for c in 0..<a.cols { s += Foundation.exp(a.storage[i * a.cols + c] - mx) }
            return mx + Foundation.log(s)
        }
    }

    // MARK: Sampling

    /// `count` samples (rows): component c_i from the weights (inverse CDF, stream 1 of `seed`), z_i ~ N(0, I_d) (stream
    /// 2, row i), x_i = mu_{c_i} + L_{c_i} z_i.
    public func sample(count: Int, seed: UInt64) throws -> Matrix {
        try Check.atLeast(count, 1, "count")
        let sampler = try CategoricalSampler(weights)
        var ru = Xoshiro256StarStar(seed: seed, stream: 1)
        let labels = (0..<count).map { _ in sampler.draw(ru.uniform()) }
        var rz = Xoshiro256StarStar(seed: seed, stream: 2)
        let z = Matrix.randomNormal(rows: count, cols: dimension, using: &rz)
        var x = Matrix(rows: count, cols: dimension)
        for c in 0..<componentCount {
            let rows = labels.indices.filter { labels[$0] == c }
            guard !rows.isEmpty else { continue }
            var xc = Matrix.product(z.rows(at: rows), .none, lowerFactors[c], .transposed)
            xc.addRowVector(means.row(c))
            for (r, i) in rows.enumerated() { for l in 0..<dimension { x[i, l] = xc[r, l] } }
        }
        return x
    }

    // MARK: Fitting

    /// Fit k components to the rows of `samples` by EM (see the type's discussion). Throws for k < 1, fewer samples
    /// than components, NaN, a bad tolerance or floor, or a covariance that stays singular.
    public static func fit(_ samples: Matrix, components k: Int, seed: UInt64, maxIterations: Int = 200, tolerance: Double = 1e-6,
                           covarianceFloor: Double = 1e-6) throws -> GaussianMixture {
        try Check.atLeast(k, 1, "components")
        try Check.data(samples, "samples")
        guard samples.rows >= k else {
            throw OverparamError.invalidArgument(name: "samples", problem: "\(samples.rows) samples are too few for \(k) components (need at least one per component)")
        }
        try Check.atLeast(maxIterations, 1, "maxIterations")
        guard tolerance.isFinite, tolerance >= 0 else { throw OverparamError.invalidArgument(name: "tolerance", problem: "must be finite and >= 0, got \(tolerance)") }
        guard covarianceFloor.isFinite, covarianceFloor >= 0 else {
            throw OverparamError.invalidArgument(name: "covarianceFloor", problem: "must be finite and >= 0, got \(covarianceFloor)")
        }
        let labels = kMeansLabels(samples, k: k, seed: seed)
        var hard = Matrix(rows: samples.rows, cols: k)
        for (i, c) in labels.enumerated() { hard[i, c] = 1 }
        var model = try maximization(samples, responsibilities: hard, floor: covarianceFloor)
        var history = [Double](), converged = false
        for _ in 0..<maxIterations {
            let logs = try model.componentLogDensities(samples)
            let rowLogs = logSumExpRows(logs)
            let ll = rowLogs.reduce(0, +) / Double(samples.rows)
            guard ll.isFinite else { throw OverparamError.diverged("EM: the mean log-likelihood became \(ll); raise covarianceFloor") }
            if let last = history.last, Swift.abs(ll - last) < tolerance { history.append(ll); converged = true; break }
            history.append(ll)
            var resp = logs
            for i in 0..<samples.rows { for c in 0..<k { resp.storage[i * k + c] = Foundation.exp(logs.storage[i * k + c] - rowLogs[i]) } }
            model = try maximization(samples, responsibilities: resp, floor: covarianceFloor)
        }
        model.history = history
        model.converged = converged
        return model
    }

    /// The M-step: weights, means and floored covariances from responsibilities (n x k), all sums as dgemm.
    static func maximization(_ x: Matrix, responsibilities r: Matrix, floor: Double) throws -> GaussianMixture {
        let n = x.rows, d = x.cols, k = r.cols
        let counts = r.columnSums.map { $0 + 10 * Double.ulpOfOne }
        let total = counts.reduce(0, +)
        var mu = Matrix.product(r, .transposed, x, .none)
        for c in 0..<k { for l in 0..<d { mu[c, l] /= counts[c] } }
        var covariances = [Matrix]()
        var w = Matrix(uninitializedRows: n, cols: d)
        for c in 0..<k {
            center(x, mu.row(c), rowScales: (0..<n).map { r.storage[$0 * k + c].squareRoot() }, into: &w)
            var s = Matrix.product(w, .transposed, w, .none, alpha: 1 / counts[c]).symmetricPart
            s.addToDiagonal(floor)
            covariances.append(s)
        }
        return try GaussianMixture(weights: counts.map { $0 / total }, means: mu, covariances: covariances)
    }

    /// out_i = s_i (x_i - mean) for every row (s_i = 1 without `rowScales`), into a reused n x d buffer (one pass, no
    /// fresh n x d allocation per component).
    static func center(_ x: Matrix, _ mean: [Double], rowScales: [Double]? = nil, into out: inout Matrix) {
        let n = x.rows, d = x.cols
        x.storage.withUnsafeBufferPointer { xp in
            out.storage.withUnsafeMutableBufferPointer { op in
                for i in 0..<n {
                    let s = rowScales?[i] ?? 1
                    for l in 0..<d { op[i * d + l] = s * (xp[i * d + l] - mean[l]) }
                }
            }
        }
    }

    /// k-means++ seeding (stream 1 of `seed`) and Lloyd iterations; squared distances ||x||^2 - 2 x.c + ||c||^2 by dgemm.
    static func kMeansLabels(_ x: Matrix, k: Int, seed: UInt64) -> [Int] {
        let n = x.rows, d = x.cols
        var rng = Xoshiro256StarStar(seed: seed, stream: 1)
        var centers = [x.row(rng.index(below: n))]
        var d2 = (0..<n).map { i in squaredDistance(x, i, centers[0]) }
        while centers.count < k {
            let next = (try? CategoricalSampler(d2))?.draw(rng.uniform()) ?? rng.index(below: n)
            let c = x.row(next)
            centers.append(c)
            for i in 0..<n { d2[i] = Swift.min(d2[i], squaredDistance(x, i, c)) }
        }
        let xNorms = (0..<n).map { i in squaredDistance(x, i, [Double](repeating: 0, count: d)) }
        var labels = [Int](repeating: -1, count: n)
        for _ in 0..<20 {
            let cm = Matrix(centers)
            let cross = Matrix.product(x, .none, cm, .transposed)
            let cNorms = centers.map { dot($0, $0) }
            var changed = false
            for i in 0..<n {
                var best = 0, bestValue = Double.infinity
                for c in 0..<k {
                    let v = xNorms[i] - 2 * cross.storage[i * k + c] + cNorms[c]
                    if v < bestValue { bestValue = v; best = c }
                }
                if labels[i] != best { labels[i] = best; changed = true }
            }
            if !changed { break }
            var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: k), counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[labels[i]] += 1
                for l in 0..<d { sums[labels[i]][l] += x.storage[i * d + l] }
            }
            for c in 0..<k where counts[c] > 0 { centers[c] = sums[c].map { $0 / Double(counts[c]) } }
        }
        return labels
    }

    static func squaredDistance(_ x: Matrix, _ i: Int, _ c: [Double]) -> Double {
        var s = 0.0
        for l in 0..<x.cols { let e = x.storage[i * x.cols + l] - c[l]; s += e * e }
        return s
    }

    // MARK: Model selection

    /// How ``select(_:candidates:criterion:seed:maxIterations:tolerance:covarianceFloor:)`` scores a number of components.
    public enum Criterion: Sendable, Equatable {
        /// ``bic(_:)`` of the fit on all samples (lower is better).
        case bic
        /// Mean log-likelihood of a held-out share of the samples (``HeldOutSplit`` with stream 3 of the seed: a random
        /// `fraction` of the rows, 0 < fraction < 1) under the fit on the other rows (higher is better); the winner is refitted on all samples.
        case heldOut(fraction: Double)
    }

    /// Choose the number of components among `candidates` (each >= 1, distinct). Returns the chosen model (fitted on all
    /// samples) and every candidate's score in the given order.
    public static func select(_ samples: Matrix, candidates: [Int], criterion: Criterion, seed: UInt64, maxIterations: Int = 200,
                              tolerance: Double = 1e-6, covarianceFloor: Double = 1e-6) throws -> (model: GaussianMixture, scores: [(components: Int, score: Double)]) {
        guard !candidates.isEmpty, Set(candidates).count == candidates.count else {
            throw OverparamError.invalidArgument(name: "candidates", problem: "need distinct component counts, got \(candidates)")
        }
        func fitted(_ x: Matrix, _ k: Int) throws -> GaussianMixture {
            try fit(x, components: k, seed: seed, maxIterations: maxIterations, tolerance: tolerance, covarianceFloor: covarianceFloor)
        }
        switch criterion {
        case .bic:
            var best: (GaussianMixture, Double)? = nil
            var scores = [(components: Int, score: Double)]()
            for k in candidates {
                let model = try fitted(samples, k)
                let s = try model.bic(samples)
                scores.append((k, s))
                if best == nil || s < best!.1 { best = (model, s) }
            }
            return (best!.0, scores)
        case let .heldOut(fraction):
            let split = try HeldOutSplit(count: samples.rows, fraction: fraction, seed: seed)
            let test = samples.rows(at: split.heldOut), train = samples.rows(at: split.training)
            var scores = [(components: Int, score: Double)]()
            for k in candidates { scores.append((k, try fitted(train, k).meanLogLikelihood(test))) }
            let winner = scores.max { $0.score < $1.score }!.components
            return (try fitted(samples, winner), scores)
        }
    }
}
