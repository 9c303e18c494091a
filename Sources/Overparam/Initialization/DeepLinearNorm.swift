import Foundation

// The output norm of a random deep linear network at initialization (seed 004 sec. 3.2, eqs. 3.2.1-3.2.3 with the
// SEED-NOTES corrections), the digamma / trigamma / tetragamma functions its exact law needs, and a Monte-Carlo
// check through sampled `Network`s.

/// Digamma psi, trigamma psi' and tetragamma psi'' for real arguments x > 0.
///
/// Each function shifts the argument up by the recurrences
///
///     psi(x) = psi(x + 1) - 1/x,   psi'(x) = psi'(x + 1) + 1/x^2,   psi''(x) = psi''(x + 1) - 2/x^3
///
/// until x >= 14, then sums the asymptotic (Stirling) series with the Bernoulli numbers B_2...B_14:
///
///     psi(x)   ~ ln x - 1/(2x) - sum_k B_2k / (2k x^2k),
///     psi'(x)  ~ 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1),
///     psi''(x) ~ -1/x^2 - 1/x^3 - sum_k (2k+1) B_2k / x^(2k+2).
///
/// At x >= 14 the first omitted term is below 1e-17 relative, so the relative error is a few ulp (away from
/// psi's zero at x = 1.4616..., where no finite-precision digamma has a small relative error).
public enum SpecialFunctions {
    /// The argument above which the asymptotic series is summed.
    static let asymptoticThreshold = 14.0

    /// Digamma psi(x) = d/dx ln Gamma(x), x > 0 (NaN otherwise).
    public static func digamma(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == .infinity ? .infinity : .nan }
        var y = x
        var shift = 0.0
        while y < asymptoticThreshold {
            shift += 1 / y
            y += 1
        }
        let r = 1 / (y * y)
        // -sum_k B_2k / (2k y^2k), k = 1...7, in Horner form in r = 1/y^2.
        var s = -1.0 / 12.0 + r * (1.0 / 120.0 + r * (-1.0 / 252.0 + r * (1.0 / 240.0
                + r * (-1.0 / 132.0 + r * (691.0 / 32760.0 + r * (-1.0 / 12.0))))))
        s *= r
        let head = Foundation.log(y) - 0.5 / y
        return (head + s) - shift
    }

    /// Trigamma psi'(x), x > 0 (NaN otherwise).
    public static func trigamma(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == .infinity ? 0 : .nan }
        var y = x
        var shift = 0.0
        while y < asymptoticThreshold {
            shift += 1 / (y * y)
            y += 1
        }
        let r = 1 / (y * y)
        // sum_k B_2k / y^(2k+1), k = 1...7: (1/y) r (1/6 - r/30 + r^2/42 - r^3/30 + 5 r^4/66 - 691 r^5/2730 + 7 r^6/6).
        var s = 1.0 / 6.0 + r * (-1.0 / 30.0 + r * (1.0 / 42.0 + r * (-1.0 / 30.0
                + r * (5.0 / 66.0 + r * (-691.0 / 2730.0 + r * (7.0 / 6.0))))))
        s *= r / y
        let head = 1 / y + 0.5 * r
        return shift + (head + s)
    }

    /// Tetragamma psi''(x), x > 0 (NaN otherwise).
    public static func tetragamma(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == .infinity ? 0 : .nan }
        var y = x
        var shift = 0.0
        while y < asymptoticThreshold {
            shift += 2 / (y * y * y)
            y += 1
        }
        let r = 1 / (y * y)
        // -sum_k (2k+1) B_2k / y^(2k+2), k = 1...7:
        // r^2 (-1/2 + r/6 - r^2/6 + 3 r^3/10 - 5 r^4/6 + 691 r^5/210 - 35 r^6/2).
        var s = -0.5 + r * (1.0 / 6.0 + r * (-1.0 / 6.0 + r * (3.0 / 10.0
                + r * (-5.0 / 6.0 + r * (691.0 / 210.0 + r * (-35.0 / 2.0))))))
        s *= r * r
        let head = -r - r / y
        return (head + s) - shift
    }
}

/// The exact law of the output norm of a random deep linear network at one input (seed 004 sec. 3.2).
///
/// The network (seed 004 eq. 3.1.1 with sigma(t) = t, C_W = 1, no biases) is
///
///     z^(1) = W^(1) x / sqrt(N_0),   z^(l+1) = W^(l+1) z^(l) / sqrt(N_l)  (l = 1...L),   W^(l)_ij ~ N(0, 1),
///
/// with input dimension N_0, hidden widths N_1...N_L and output dimension N_{L+1}: exactly a ``Network`` with
/// `.identity` activation, `weightVariance: 1`, no biases and the `.hanin` parameterization (``architecture``).
///
/// **Exact law.** By rotation invariance (eq. 3.2.1), given z^(l) the vector W^(l+1) z^(l) / ||z^(l)|| is
/// N(0, I_{N_{l+1}}) and independent of z^(l), so ||z^(l+1)||^2 = (||z^(l)||^2 / N_l) chi^2_{N_{l+1}} with a fresh
/// chi-square at every layer. Chaining from ||z^(0)|| = ||x||:
///
///     ||z^(L+1)(x)||^2 = (||x||^2 / N_0) chi^2_{N_1} (chi^2_{N_2} / N_1) ... (chi^2_{N_{L+1}} / N_L)
///                      = (||x||^2 N_{L+1} / N_0) prod_{l=1}^{L+1} chi^2_{N_l} / N_l,
///
/// independent chi-squares, one per layer l = 1...L+1 with N_l degrees of freedom (the layer's *output* width). So
///
///     S := log ||z^(L+1)|| - log(||x|| sqrt(N_{L+1} / N_0)) = sum_{l=1}^{L+1} Y_l,   Y_l = (1/2) log(chi^2_{N_l} / N_l),
///
/// which is eq. 3.2.3 read with eq. 3.2.2's corrected factor 1/sqrt(N_L) (SEED-NOTES, seed 004: the printed 1/N_L
/// is a misprint). The readout contributes the term Y_{L+1} with N_{L+1} degrees of freedom, kept exact here
/// (N_{L+1} may be 1, where Y_{L+1} has variance pi^2/8 and is far from small).
///
/// **Moments** (E log chi^2_k = psi(k/2) + ln 2, Var log chi^2_k = psi'(k/2), kappa_3 log chi^2_k = psi''(k/2)):
///
///     E Y_l = (1/2)(psi(N_l/2) - ln(N_l/2)) = -1/(2 N_l) + O(N_l^-2),
///     Var Y_l = (1/4) psi'(N_l/2)          =  1/(2 N_l) + O(N_l^-2),
///     kappa_3(Y_l) = (1/8) psi''(N_l/2)      = -1/(2 N_l^2) + O(N_l^-3),
///
/// so S has mean ``mean`` and variance ``variance`` (sums over l = 1...L+1). The seed prints -1/(4N) and 1/(4N)
/// for the first two; SEED-NOTES corrects them to -1/(2N) and 1/(2N).
///
/// **Normal approximation** (many layers): the hidden-layer part sum_{l=1}^{L} Y_l is approximately
/// N(-beta/2, beta/2) with beta = sum_{l=1}^{L} 1/N_l (hidden layers only, as in the seed; SEED-NOTES corrects the
/// printed N(-beta/4, beta/4)); see ``normalApproximation``, which adds the exact readout term.
///
/// **Gaussian process.** E[z_i^(L+1)(x) z_i^(L+1)(x')] = x.x' / N_0 for every depth, and at every finite width too
/// (each layer has E[W^T W] / N_l = I): ``gaussianProcessCovariance(_:_:)``.
public struct DeepLinearNorm: Sendable, Hashable {
    /// N_0.
    public let inputDimension: Int
    /// N_1...N_L.
    public let hiddenWidths: [Int]
    /// N_{L+1}.
    public let outputDimension: Int

    /// A deep linear network with the given widths; throws if any width is < 1 or there is no hidden layer.
    public init(inputDimension: Int, hiddenWidths: [Int], outputDimension: Int) throws {
        guard inputDimension >= 1 else {
            throw OverparamError.invalidArgument(name: "inputDimension", problem: "must be >= 1 (got \(inputDimension))")
        }
        guard !hiddenWidths.isEmpty else {
            throw OverparamError.invalidArgument(name: "hiddenWidths", problem: "needs at least one hidden layer")
        }
        if let w = hiddenWidths.first(where: { $0 < 1 }) {
            throw OverparamError.invalidArgument(name: "hiddenWidths", problem: "widths must be >= 1 (got \(w))")
        }
        guard outputDimension >= 1 else {
            throw OverparamError.invalidArgument(name: "outputDimension", problem: "must be >= 1 (got \(outputDimension))")
        }
        self.inputDimension = inputDimension
        self.hiddenWidths = hiddenWidths
        self.outputDimension = outputDimension
    }

    /// The depth L (number of hidden layers).
    public var depth: Int { hiddenWidths.count }

    /// The degrees of freedom of the L + 1 chi-square factors: N_1, ..., N_L, N_{L+1}.
    public var degreesOfFreedom: [Int] { hiddenWidths + [outputDimension] }

    /// The sampled network: `.identity` activation, C_W = 1 (readout too), no biases, `.hanin` parameterization
    /// (z = W z / sqrt(fan-in), W ~ N(0, C_W)).
    public var architecture: Architecture {
        Architecture(inputDimension: inputDimension, hiddenWidths: hiddenWidths, activation: .identity,
                     outputDimension: outputDimension, weightVariance: 1, biasVariance: 0, hasBias: false,
                     parameterization: .hanin)
    }

    // MARK: One layer's term Y = (1/2) log(chi^2_k / k)

    /// E Y = (1/2)(psi(k/2) - ln(k/2)) for Y = (1/2) log(chi^2_k / k).
    public static func layerTermMean(degreesOfFreedom k: Int) -> Double {
        let h = 0.5 * Double(k)
        return 0.5 * (SpecialFunctions.digamma(h) - Foundation.log(h))
    }

    /// Var Y = (1/4) psi'(k/2).
    public static func layerTermVariance(degreesOfFreedom k: Int) -> Double {
        0.25 * SpecialFunctions.trigamma(0.5 * Double(k))
    }

    /// The third cumulant kappa_3(Y) = (1/8) psi''(k/2).
    public static func layerTermThirdCumulant(degreesOfFreedom k: Int) -> Double {
        0.125 * SpecialFunctions.tetragamma(0.5 * Double(k))
    }

    /// log of the exact density of Y = (1/2) log(chi^2_k / k) (the log of a chi variable divided by sqrt(k)):
    ///
    ///     f_k(y) = 2 (k/2)^(k/2) exp(k y - (k/2) e^(2y)) / Gamma(k/2),   y in R,
    ///
    /// from the chi-square density at u = k e^(2y) times du/dy = 2 k e^(2y).
    public static func layerTermLogDensity(_ y: Double, degreesOfFreedom k: Int) -> Double {
        let h = 0.5 * Double(k)
        let e2y = Foundation.exp(2 * y)
        let a = Foundation.log(2.0) + h * Foundation.log(h)
        let b = Double(k) * y - h * e2y
        return a + b - Foundation.lgamma(h)
    }

    /// The exact density f_k(y) of Y = (1/2) log(chi^2_k / k) (``layerTermLogDensity(_:degreesOfFreedom:)``).
    public static func layerTermDensity(_ y: Double, degreesOfFreedom k: Int) -> Double {
        Foundation.exp(layerTermLogDensity(y, degreesOfFreedom: k))
    }

    // MARK: The sum S = sum_{l=1}^{L+1} Y_l

    /// log(||x|| sqrt(N_{L+1} / N_0)) = (1/2) log(||x||^2 N_{L+1} / N_0): log ||z^(L+1)(x)|| = this + S.
    public func logNormalization(inputNormSquared r2: Double) -> Double {
        0.5 * Foundation.log(r2 * Double(outputDimension) / Double(inputDimension))
    }

    /// ``logNormalization(inputNormSquared:)`` at an input vector.
    public func logNormalization(input x: [Double]) -> Double {
        logNormalization(inputNormSquared: x.reduce(0) { $0 + $1 * $1 })
    }

    /// The exact E S = sum_{l=1}^{L+1} (1/2)(psi(N_l/2) - ln(N_l/2)) (hidden layers and the readout).
    public var mean: Double { degreesOfFreedom.reduce(0) { $0 + Self.layerTermMean(degreesOfFreedom: $1) } }

    /// The exact Var S = sum_{l=1}^{L+1} (1/4) psi'(N_l/2).
    public var variance: Double { degreesOfFreedom.reduce(0) { $0 + Self.layerTermVariance(degreesOfFreedom: $1) } }

    /// The exact third cumulant of S, sum_{l=1}^{L+1} (1/8) psi''(N_l/2).
    public var thirdCumulant: Double { degreesOfFreedom.reduce(0) { $0 + Self.layerTermThirdCumulant(degreesOfFreedom: $1) } }

    /// Exact mean of the hidden-layer part sum_{l=1}^{L} Y_l.
    public var hiddenMean: Double { hiddenWidths.reduce(0) { $0 + Self.layerTermMean(degreesOfFreedom: $1) } }

    /// Exact variance of the hidden-layer part sum_{l=1}^{L} Y_l.
    public var hiddenVariance: Double { hiddenWidths.reduce(0) { $0 + Self.layerTermVariance(degreesOfFreedom: $1) } }

    /// Exact skewness kappa_3 / kappa_2^(3/2) of the hidden-layer part (0 for the normal approximation).
    public var hiddenSkewness: Double {
        let k3 = hiddenWidths.reduce(0) { $0 + Self.layerTermThirdCumulant(degreesOfFreedom: $1) }
        let v = hiddenVariance
        return k3 / (v * v.squareRoot())
    }

    /// beta = sum_{l=1}^{L} 1/N_l over the hidden layers (the seed's effective depth-to-width ratio; the readout
    /// is not included).
    public var beta: Double { hiddenWidths.reduce(0) { $0 + 1 / Double($1) } }

    /// The large-L normal approximation of S: the hidden layers' sum as N(-beta/2, beta/2) (seed 004 after eq.
    /// 3.2.3 with SEED-NOTES's correction of N(-beta/4, beta/4)), plus the readout term Y_{L+1} with its exact
    /// mean and variance. Returns the mean and variance of that approximation.
    public var normalApproximation: (mean: Double, variance: Double) {
        let outMean = Self.layerTermMean(degreesOfFreedom: outputDimension)
        let outVariance = Self.layerTermVariance(degreesOfFreedom: outputDimension)
        return (-0.5 * beta + outMean, 0.5 * beta + outVariance)
    }

    // MARK: Sampling

    /// `count` draws from the exact law: S = sum_{l=1}^{L+1} (1/2) log(chi^2_{N_l} / N_l), independent
    /// chi-squares (sums of N_l squared normals for N_l <= 64, a Marsaglia-Tsang Gamma(N_l/2, 2) draw above).
    /// With `input`, each draw is log ||z^(L+1)(x)|| = ``logNormalization(input:)`` + S instead of S.
    /// Draw i uses its own stream of `seed`, so results do not depend on how the work is split.
    public func exactSample(count: Int, seed: UInt64, input: [Double]? = nil) throws -> [Double] {
        guard count >= 0 else { throw OverparamError.invalidArgument(name: "count", problem: "must be >= 0 (got \(count))") }
        var offset = 0.0
        if let x = input {
            try checkInput(x)
            offset = logNormalization(input: x)
        }
        let dofs = degreesOfFreedom
        var out = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(i))
            var s = 0.0
            for k in dofs {
                let chi2 = Self.chiSquare(k, using: &rng)
                s += 0.5 * Foundation.log(chi2 / Double(k))
            }
            out[i] = offset + s
        }
        return out
    }

    /// A chi-square draw with k degrees of freedom.
    static func chiSquare(_ k: Int, using rng: inout Xoshiro256StarStar) -> Double {
        if k <= 64 {
            var s = 0.0
            for _ in 0..<k { let g = rng.normal(); s += g * g }
            return s
        }
        return 2 * gamma(shape: 0.5 * Double(k), using: &rng)
    }

    /// A Gamma(a, 1) draw, a >= 1 (Marsaglia-Tsang 2000).
    static func gamma(shape a: Double, using rng: inout Xoshiro256StarStar) -> Double {
        let d = a - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let g = rng.normal()
            let t = 1 + c * g
            if t <= 0 { continue }
            let v = t * t * t
            let u = rng.uniformPositive()
            let bound = 0.5 * g * g + d - d * v + d * Foundation.log(v)
            if Foundation.log(u) < bound { return d * v }
        }
    }

    /// The seed of the i-th sampled network: a SplitMix64 sequence started at `seed`.
    static func networkSeeds(_ count: Int, seed: UInt64) -> [UInt64] {
        var sm = SplitMix64(state: seed)
        return (0..<count).map { _ in sm.next() }
    }

    /// The outputs z^(L+1) (n x N_{L+1}) at the rows of `inputs` (n x N_0) of `count` sampled deep linear
    /// ``Network``s (``architecture``), network i seeded by the i-th value of a SplitMix64 sequence from `seed`.
    public func sampleOutputs(networks count: Int, seed: UInt64, inputs: Matrix) throws -> [Matrix] {
        guard count >= 0 else { throw OverparamError.invalidArgument(name: "networks", problem: "must be >= 0 (got \(count))") }
        guard inputs.cols == inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(inputs.cols) columns, the network expects N_0 = \(inputDimension)")
        }
        guard inputs.isFinite else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        let arch = architecture
        return try Self.networkSeeds(count, seed: seed).map { s in try Network(arch, seed: s)(inputs) }
    }

    /// Monte Carlo: log ||z^(L+1)(x)|| of `count` sampled deep linear ``Network``s at `input` (seeds as in
    /// ``sampleOutputs(networks:seed:inputs:)``). Subtract ``logNormalization(input:)`` to compare with S.
    public func monteCarlo(networks count: Int, seed: UInt64, input: [Double]) throws -> [Double] {
        try checkInput(input)
        let x = Matrix(rows: 1, cols: input.count, storage: input)
        return try sampleOutputs(networks: count, seed: seed, inputs: x).map { z in
            0.5 * Foundation.log(z.storage.reduce(0) { $0 + $1 * $1 })
        }
    }

    /// The covariance E[z_i^(L+1)(x) z_i^(L+1)(x')] = x.x' / N_0 (C_W = 1) of each output, for every depth L and
    /// every width (seed 004 end of sec. 3.2; with C_W = 1, E[W^T W] / N_l = I makes it exact before the limit).
    public func gaussianProcessCovariance(_ x: [Double], _ x2: [Double]) throws -> Double {
        guard x.count == inputDimension, x2.count == inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(x.count) and \(x2.count) entries, expected N_0 = \(inputDimension)")
        }
        return dot(x, x2) / Double(inputDimension)
    }

    private func checkInput(_ x: [Double]) throws {
        guard x.count == inputDimension else {
            throw OverparamError.shapeMismatch("input has \(x.count) entries, expected N_0 = \(inputDimension)")
        }
        guard x.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("input contains NaN or Inf") }
        guard x.contains(where: { $0 != 0 }) else {
            throw OverparamError.invalidArgument(name: "input", problem: "must be nonzero (log ||z|| = -inf at x = 0)")
        }
    }
}
