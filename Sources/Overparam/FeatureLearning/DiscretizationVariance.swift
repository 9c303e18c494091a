import Foundation

/// The discretization error of a network of m neurons sampled from rho (seed 000 sec. VI, eq. 24):
///
///     E ||f([u, theta], x) - f(rho, x)||^2 = (1/m) integral ||alpha u h(theta, x) - f(rho, x)||^2 drho(u, theta).
///
/// Here rho is the empirical measure of a wide network of M neurons written in mean-field form
///
///     f_rho(x) = (1/M) sum_{j<=M} U_j h_j(x),
///
/// with H (n x M, H_ij = h_j(x_i)) its features at n evaluation points and U (M x k) its output weights (row U_j;
/// alpha = 1 folded into U). A sub-network of m neurons J_1..J_m drawn i.i.d. uniformly, with replacement, from the M is
/// f_m(x) = (1/m) sum_s U_{J_s} h_{J_s}(x). Its terms are i.i.d. with mean f_rho(x), so, exactly,
///
///     E mean_x ||f_m(x) - f_rho(x)||^2 = sigma^2 / m,   sigma^2 = (1/M) sum_j mean_x ||U_j h_j(x) - f_rho(x)||^2
///                                                             = (1/M) sum_j ||U_j||^2 mean_x h_j(x)^2 - mean_x ||f_rho(x)||^2.
///
/// Networks written f = sum_j u_j h_j (``OutputLayer``'s U = u) have U_j = M u_j; the sub-network that keeps m of
/// them with u rescaled by M / m is f_m. A small sigma^2 (the seed's criterion for a good feature distribution) needs
/// ||U_j|| |h_j| nearly constant across neurons: ``coefficientOfVariation(_:)`` of ``outputWeightNorms(_:)`` measures
/// that for the output weights (seed 000: with L2 on u and normalized h, ||u|| is nearly constant under rho).
public struct DiscretizationVariance: Sendable {
    /// H (n x M).
    public let features: Matrix
    /// U (M x k), mean-field output weights.
    public let outputWeights: Matrix
    /// f_rho at the n points (n x k).
    public let meanFunction: Matrix
    /// sigma^2 = (1/M) sum_j mean_x ||U_j h_j(x) - f_rho(x)||^2.
    public let perNeuronVariance: Double

    /// The wide network's features H (n x M) at the evaluation points and its mean-field output weights U (M x k).
    /// Throws on empty or non-finite input or when U does not have one row per column of H.
    public init(features h: Matrix, outputWeights u: Matrix) throws {
        try Check.data(h, "features")
        try Check.data(u, "outputWeights")
        guard u.rows == h.cols else { throw OverparamError.shapeMismatch("features have \(h.cols) columns but outputWeights has \(u.rows) rows (one per neuron)") }
        let n = h.rows, bigM = h.cols
        features = h
        outputWeights = u
        meanFunction = Matrix.product(h, .none, u, .none, alpha: 1 / Double(bigM))
        let norms = Self.outputWeightNorms(u)
        var hsq = [Double](repeating: 0, count: bigM)
        for i in 0..<n { for j in 0..<bigM { let v = h.storage[i * bigM + j]; hsq[j] += v * v } }
        var first = 0.0
        for j in 0..<bigM { first += norms[j] * norms[j] * hsq[j] / Double(n) }
        let fsq = meanFunction.storage.reduce(0) { $0 + $1 * $1 } / Double(n)
        perNeuronVariance = Swift.max(0, first / Double(bigM) - fsq)
    }

    /// M.
    public var neuronCount: Int { features.cols }

    /// The exact E mean_x ||f_m - f_rho||^2 = sigma^2 / m for m i.i.d. uniform draws (eq. 24).
    public func predicted(_ m: Int) -> Double { perNeuronVariance / Double(Swift.max(1, m)) }

    /// Monte Carlo of the same: for each repetition r (stream r of `seed`), draw m neurons uniformly with replacement,
    /// f_m = (1/m) H[:, J] U[J, :], and record mean_x ||f_m(x) - f_rho(x)||^2. Returns the mean over repetitions and its
    /// standard error (sample std / sqrt(repetitions); needs repetitions >= 2).
    public func measured(m: Int, repetitions: Int, seed: UInt64) throws -> (mean: Double, standardError: Double) {
        try Check.atLeast(m, 1, "m")
        try Check.atLeast(repetitions, 2, "repetitions")
        let n = features.rows, k = outputWeights.cols
        var values = [Double]()
        for r in 0..<repetitions {
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(r))
            let idx = (0..<m).map { _ in rng.index(below: neuronCount) }
            let fm = Matrix.product(features.columns(idx), .none, outputWeights.rows(at: idx), .none, alpha: 1 / Double(m))
            var s = 0.0
            for i in 0..<(n * k) { let e = fm.storage[i] - meanFunction.storage[i]; s += e * e }
            values.append(s / Double(n))
        }
        let mean = values.reduce(0, +) / Double(repetitions)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(repetitions - 1)
        return (mean, (variance / Double(repetitions)).squareRoot())
    }

    /// std / mean of the values (population std); 0 for constant values. Seed 000 sec. VI: under the learned rho,
    /// ||u|| is nearly constant, so its coefficient of variation is small.
    public static func coefficientOfVariation(_ values: [Double]) throws -> Double {
        guard !values.isEmpty else { throw OverparamError.invalidArgument(name: "values", problem: "must not be empty") }
        try Check.finite(values, "values")
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        if sd == 0 { return 0 }
        guard mean != 0 else { throw OverparamError.invalidArgument(name: "values", problem: "have mean 0; the coefficient of variation is undefined") }
        return sd / Swift.abs(mean)
    }

    /// ||u_j||_2 for every row of U.
    public static func outputWeightNorms(_ u: Matrix) -> [Double] {
        (0..<u.rows).map { j in
            var s = 0.0
            for c in 0..<u.cols { let v = u.storage[j * u.cols + c]; s += v * v }
            return s.squareRoot()
        }
    }
}
