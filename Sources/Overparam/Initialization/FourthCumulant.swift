import Foundation

/// The fourth cumulant of a random network's pre-activations at one input across layers: the leading finite-width
/// correction to the Gaussian process limit (seed 004 Theorem 3.4.1, corrected per SEED-NOTES).
///
/// Notation (layer index = the pre-activation's index, as in Theorem 3.4.1): z^(l), l = 1...L+1, with z^(L+1) the
/// output; N_l the width of hidden layer l. Given layer l, the n_{l+1} neurons of z^(l+1) are i.i.d.
/// N(0, K-hat^(l)) with the collective observable
///
///     K-hat^(l) = C_b + (C_W / N_l) sum_{j <= N_l} sigma(z_j^(l))^2,
///
/// and (SEED-NOTES) kappa_4^(l+1) := Var K-hat^(l). Since z^(l+1) is conditionally Gaussian,
///
///     E z^4 - 3 (E z^2)^2 = 3 Var K-hat^(l) = 3 kappa_4^(l+1)     for every neuron z of layer l + 1,
///
/// so kappa_4^(l+1) is one third of the raw fourth cumulant of z^(l+1) (the seed's 1/3 convention) and the
/// excess kurtosis of the OUTPUT z^(L+1) is 3 kappa_4^(L+1) / (E z^2)^2, with kappa_4^(L+1) = Var of the LAST
/// HIDDEN layer's K-hat^(L) (which uses the readout's C_W). kappa_4^(1) = 0 (K-hat^(0) = C_b + C_W |x|^2 / N_0
/// is deterministic).
///
/// Recursion. The law of total variance over layer l - 1 is exact:
///
///     Var K-hat^(l) = C_W^2 [ E h(K-hat^(l-1)) / N_l + Var g(K-hat^(l-1)) ],
///     g(k) = E_k[sigma^2],  h(k) = Var_k[sigma^2] = E_k[sigma^4] - g(k)^2,   z ~ N(0, k).
///
/// Expanding around the infinite-width K (K^(l) below is the GP variance of z^(l): K^(1) = K-hat^(0),
/// K^(l+1) = C_b + C_W g(K^(l)), i.e. ``DepthAsymptotics``'s K^(l-1)) and keeping the leading 1/N term:
///
///     kappa_4^(l+1) = (C_W^2 / N_l) Var_{K^(l)}[sigma^2] + chi_par(K^(l))^2 kappa_4^(l) + O(N^-2),
///     chi_par(k)    = C_W g'(k) = (C_W / 2) E_k[(sigma^2)''] = C_W E_k[sigma^2 (z^2 - k)] / (2 k^2)
///
/// (g' by the heat equation / Stein's identity; the last form needs no derivative of sigma, so ReLU's kink is
/// harmless). At criticality chi_par = 1 (ReLU, C_W = 2: Var[ReLU^2] = 5 K^2 / 4, so kappa_4^(L+1) / K^2 = 5 L / N
/// exactly at this order). tanh at C_W = 1: K^(l) ~ 1/(2l), chi_par ~ 1 - 4K, Var[tanh^2] ~ 2 K^2 give
/// r_{l+1} = 2/N + (1 - 2/l) r_l, so kappa_4 / K^2 -> (2/3) l / N (only at large l).
///
/// ``leadingOrder(inputVariance:widths:)`` is this recursion. It is the first order in 1/N at fixed L; at fixed
/// L/N its relative error is O(L/N) (ReLU exactly: 3 Var K-hat^(L) / K^2 = 3 ((1 + 5/N)^L - 1), of which 15 L / N is
/// the first term). ``momentClosure(inputVariance:widths:)`` instead propagates the mean m and variance v of
/// K-hat through the exact law-of-total-variance step with second-order Taylor closure,
///
///     m' = C_b + C_W (g(m) + g''(m) v / 2),    v' = C_W^2 [ (h(m) + h''(m) v / 2) / N_l + g'(m)^2 v ],
///
/// which is exact for ReLU (g linear, h quadratic) and otherwise drops only terms of order N^-2 per layer (third and
/// higher cumulants of K-hat), not (L/N)^2. g'' and h'' are central differences of the quadrature.
public struct FourthCumulant: Sendable {
    public let activation: Activation
    /// C_W of the hidden layers.
    public let weightVariance: Double
    /// C_b.
    public let biasVariance: Double
    /// C_W of the readout (K-hat^(L) uses it).
    public let readoutWeightVariance: Double
    let quadrature: GaussianExpectation

    public init(activation: Activation, weightVariance: Double, biasVariance: Double = 0, readoutWeightVariance: Double? = nil) {
        self.activation = activation
        self.weightVariance = weightVariance
        self.biasVariance = biasVariance
        self.readoutWeightVariance = readoutWeightVariance ?? weightVariance
        self.quadrature = .standard
    }

    /// From an architecture whose layers have effective variance C_W (`.hanin`, `.ntk`, `.standard`).
    public init(_ a: Architecture) throws {
        switch a.parameterization {
        case .hanin, .ntk, .standard: break
        default:
            throw OverparamError.invalidArgument(name: "parameterization", problem: "FourthCumulant needs .hanin, .ntk or .standard (got \(a.parameterization))")
        }
        self.init(activation: a.activation, weightVariance: a.weightVariance, biasVariance: a.hasBias ? a.biasVariance : 0,
                  readoutWeightVariance: a.readoutWeightVariance)
    }

    /// K-hat^(0) = C_b + C_W |x|^2 / N_0: the (deterministic) variance of z^(1).
    public func inputVariance(_ x: [Double]) -> Double {
        let sq = x.reduce(0) { $0 + $1 * $1 }
        return biasVariance + weightVariance * sq / Double(x.count)
    }

    /// The Gaussian expectations at variance k (z ~ N(0, k)): g = E[sigma^2], h = Var[sigma^2], and
    /// g' = dg/dk = E[sigma^2 (z^2 - k)] / (2 k^2) = E[(sigma^2)''] / 2.
    public func gaussianTerms(variance k: Double) -> (g: Double, h: Double, gPrime: Double) {
        let act = activation
        let kink = !act.isSmooth
        let e = quadrature.expectation(variance: k, kinkAtZero: kink) { t in
            let s = act(t), s2 = s * s
            return SIMD2(s2, s2 * s2)
        }
        let d = quadrature.expectation(variance: k, kinkAtZero: kink) { t in
            let s = act(t)
            return SIMD2(s * s * (t * t - k), 0)
        }
        let g = e[0]
        let h = e[1] - g * g
        return (g, h, d[0] / (2 * k * k))
    }

    func checked(_ k0: Double, _ widths: [Int]) throws {
        guard k0 > 0, k0.isFinite else { throw OverparamError.invalidArgument(name: "input variance", problem: "must be finite and > 0 (got \(k0))") }
        guard !widths.isEmpty, widths.allSatisfy({ $0 >= 1 }) else {
            throw OverparamError.invalidArgument(name: "widths", problem: "need >= 1 hidden layer of width >= 1 (got \(widths))")
        }
    }

    /// Theorem 3.4.1 (corrected): kappa_4^(l), l = 1...L+1, at leading order in 1/N, with the infinite-width K^(l).
    /// `widths` = [N_1, ..., N_L].
    public func leadingOrder(inputVariance k0: Double, widths: [Int]) throws -> FourthCumulantProfile {
        try checked(k0, widths)
        var k = [k0], kappa = [0.0]
        for (i, n) in widths.enumerated() {
            let cw = i == widths.count - 1 ? readoutWeightVariance : weightVariance
            let t = gaussianTerms(variance: k[i])
            let chi = cw * t.gPrime
            let source = cw * cw * t.h / Double(n)
            kappa.append(source + chi * chi * kappa[i])
            k.append(biasVariance + cw * t.g)
        }
        return FourthCumulantProfile(variances: k, kappa4: kappa, widths: widths)
    }

    /// The second-moment closure (see the type's documentation): `variances` are the dressed E z^(l)^2 = E K-hat^(l-1).
    public func momentClosure(inputVariance k0: Double, widths: [Int]) throws -> FourthCumulantProfile {
        try checked(k0, widths)
        var m = [k0], v = [0.0]
        for (i, n) in widths.enumerated() {
            let cw = i == widths.count - 1 ? readoutWeightVariance : weightVariance
            let mi = m[i], vi = v[i]
            let t = gaussianTerms(variance: mi)
            let dk = 1e-3 * mi
            let tp = gaussianTerms(variance: mi + dk), tm = gaussianTerms(variance: mi - dk)
            let g2 = (tp.g - 2 * t.g + tm.g) / (dk * dk)
            let h2 = (tp.h - 2 * t.h + tm.h) / (dk * dk)
            let meanH = t.h + 0.5 * h2 * vi
            let chi = cw * t.gPrime
            let vNext = cw * cw * meanH / Double(n) + chi * chi * vi
            m.append(biasVariance + cw * (t.g + 0.5 * g2 * vi))
            v.append(vNext)
        }
        return FourthCumulantProfile(variances: m, kappa4: v, widths: widths)
    }
}

/// kappa_4^(l) and the variance of z^(l) for l = 1...L+1 (array index l - 1).
public struct FourthCumulantProfile: Sendable {
    /// Variance of z^(l) (infinite-width K^(l) for ``FourthCumulant/leadingOrder(inputVariance:widths:)``, the dressed
    /// E z^2 for ``FourthCumulant/momentClosure(inputVariance:widths:)``).
    public let variances: [Double]
    /// kappa_4^(l) = Var K-hat^(l-1) = (E z^4 - 3 (E z^2)^2) / 3 for z = z^(l).
    public let kappa4: [Double]
    /// [N_1, ..., N_L].
    public let widths: [Int]

    /// kappa_4^(l) / (K^(l))^2, l = 1...L+1.
    public var normalized: [Double] { zip(kappa4, variances).map { $0 / ($1 * $1) } }
    /// kappa_4^(L+1) / (K^(L+1))^2: the seed's normalized output cumulant (ReLU, C_W = 2: 5 L / N at leading order).
    public var output: Double { normalized[normalized.count - 1] }
    /// The output's excess kurtosis (E z^4 - 3 (E z^2)^2) / (E z^2)^2 = 3 kappa_4^(L+1) / (K^(L+1))^2.
    public var outputExcessKurtosis: Double { 3 * output }
}
