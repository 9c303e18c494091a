import Foundation

/// The test functions of the first-order perturbative expansion (seed 004 eq. 3.4.2), each with the two Gaussian
/// expectations the expansion needs at variance G (z_j i.i.d. N(0, G)):
///
/// | f            | E_G[f]         | E_G[(sum_j d_j^2)^2 f]             |
/// |--------------|----------------|------------------------------------|
/// | z_1^2 z_2^2  | G^2            | 8  (d_1^2 d_2^2 f = 4, two orders) |
/// | z^4          | 3 G^2          | 24                                 |
/// | abs(z)       | sqrt(2 G / pi) | -sqrt(2 / pi) G^(-3/2) (= 2 E delta''(z))|
///
/// Because the neurons of layer l are i.i.d. N(0, K-hat^(l-1)) given the earlier layers, E[f | K-hat^(l-1) = k] is
/// ``gaussianMean(variance:)`` at k, which the Monte-Carlo check uses (conditioning removes all within-layer noise).
public enum PerturbativeObservable: String, Sendable, CaseIterable, Codable {
    case productOfSquares = "z1^2 z2^2"
    case fourthPower = "z^4"
    case absoluteValue = "|z|"

    /// E_G[f].
    public func gaussianMean(variance g: Double) -> Double {
        switch self {
        case .productOfSquares: return g * g
        case .fourthPower: return 3 * g * g
        case .absoluteValue: return (2 * g / Double.pi).squareRoot()
        }
    }

    /// E_G[(sum_j d^2 / dz_j^2)^2 f] = E_G[(sum_j d_j^4 + sum_{j1 != j2} d_j1^2 d_j2^2) f].
    public func bilaplacianMean(variance g: Double) -> Double {
        switch self {
        case .productOfSquares: return 8
        case .fourthPower: return 24
        case .absoluteValue: return -(2 / Double.pi).squareRoot() / (g * g.squareRoot())
        }
    }
}

/// Seed 004 eq. 3.4.2 (with the dressed two-point function of its proof, eq. 3.4.3): for m neurons of layer l at one
/// input,
///
///     E f(z_1^(l), ..., z_m^(l)) = E_G[f] + (kappa_4^(l) / 8) E_G[(sum_j d_j^2)^2 f] + O(N^-2),
///
/// G = E K-hat^(l-1) = E (z^(l))^2 and kappa_4^(l) = Var K-hat^(l-1) (the index convention of ``FourthCumulant``;
/// the seed writes kappa_4^(l+1) next to E_K^(l), an off-by-one of its layer labels). With kappa_4 from the
/// leading-order recursion (Theorem 3.4.1) the residual is of order N^-2; without the correction it is of order N^-1.
public enum PerturbativeCorrection {
    /// The first-order prediction E_G[f] + (kappa_4 / 8) E_G[(sum_j d_j^2)^2 f].
    public static func prediction(_ f: PerturbativeObservable, dressedVariance g: Double, kappa4: Double) -> Double {
        f.gaussianMean(variance: g) + kappa4 / 8 * f.bilaplacianMean(variance: g)
    }

    /// Monte-Carlo residuals from samples of K-hat^(l-1) (one per network, e.g.
    /// ``CollectiveSamples/conditionalVariance(layer:)``): with G-hat = mean K-hat and the conditional expectation
    /// E[f | K-hat] = E_K-hat[f],
    ///
    ///     uncorrected = mean E_K-hat[f] - E_G-hat[f]                         (order N^-1),
    ///     corrected   = uncorrected - (kappa_4 / 8) E_G-hat[(sum d^2)^2 f]    (order N^-2),
    ///
    /// each with a jackknife standard error over networks (G-hat's own fluctuation included).
    public static func residuals(_ f: PerturbativeObservable, conditionalVariances k: [Double], kappa4: Double) throws
        -> (uncorrected: MonteCarloEstimate, corrected: MonteCarloEstimate) {
        guard k.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw OverparamError.nonFinite("conditional variances") }
        let cols = [k, k.map { f.gaussianMean(variance: $0) }]
        let plain = try Jackknife.ofMeans(cols) { m in m[1] - f.gaussianMean(variance: m[0]) }
        let corrected = try Jackknife.ofMeans(cols) { m in m[1] - prediction(f, dressedVariance: m[0], kappa4: kappa4) }
        return (plain, corrected)
    }
}
