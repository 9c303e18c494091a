import Foundation

// Large-depth behaviour of the infinite-width Gaussian process (seed 004 sec. 3.3, eq. 3.3.1 and sec. 3.3.3 with the
// SEED-NOTES corrections): the layer-by-layer variance and correlation maps, fixed points and criticality, and the
// shaped cubic's continuum limit (eq. 3.3.7).

/// The covariance of one pre-activation at two inputs, [[k11, k12], [k12, k22]].
public struct CovariancePair: Sendable, Hashable, CustomStringConvertible {
    public var k11: Double
    public var k22: Double
    public var k12: Double

    public init(k11: Double, k22: Double, k12: Double) {
        self.k11 = k11
        self.k22 = k22
        self.k12 = k12
    }

    /// The same variance k at both inputs with correlation c: [[k, c k], [c k, k]].
    public init(variance k: Double, correlation c: Double) {
        self.init(k11: k, k22: k, k12: c * k)
    }

    /// The first layer's covariance K^(0) = C_b + C_W x.x' / N_0 (seed 004 eq. 3.3.1 at l = 0, with C_W and C_b as
    /// in the `.hanin` ``Network``: z^(1) = W^(1) x / sqrt(N_0) + b^(1), W ~ N(0, C_W), b ~ N(0, C_b)).
    public init(_ x: [Double], _ x2: [Double], weightVariance cw: Double = 1, biasVariance cb: Double = 0) throws {
        guard x.count == x2.count, !x.isEmpty else {
            throw OverparamError.shapeMismatch("inputs have \(x.count) and \(x2.count) entries; they must agree and be nonempty")
        }
        guard x.allSatisfy({ $0.isFinite }), x2.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        let n = Double(x.count)
        self.init(k11: cb + cw * dot(x, x) / n, k22: cb + cw * dot(x2, x2) / n, k12: cb + cw * dot(x, x2) / n)
    }

    /// C = k12 / sqrt(k11 k22) (0 when a variance is 0).
    public var correlation: Double {
        let p = k11 * k22
        return p > 0 ? k12 / p.squareRoot() : 0
    }

    public var description: String { "[[\(k11), \(k12)], [\(k12), \(k22)]]" }
}

/// The layer-by-layer infinite-width covariances K^(l), l = 0...L, of two inputs.
///
/// Index l follows seed 004 eq. 3.3.1: K^(0) is the covariance of z^(1) and K^(l) that of z^(l+1), after l
/// applications of sigma; a network with L hidden layers outputs z^(L+1) with covariance K^(L). (The package's
/// ``InfiniteWidthKernel`` with `.hanin` calls the same matrices Sigma^(l+1).)
public struct DepthProfile: Sendable {
    /// K^(l) for l = 0...L.
    public var covariances: [CovariancePair]

    /// L.
    public var depth: Int { covariances.count - 1 }
    /// K^(l)(x, x), l = 0...L.
    public var variances: [Double] { covariances.map(\.k11) }
    /// K^(l)(x', x'), l = 0...L.
    public var secondVariances: [Double] { covariances.map(\.k22) }
    /// K^(l)(x, x'), l = 0...L.
    public var crossCovariances: [Double] { covariances.map(\.k12) }
    /// C^(l)(x, x') = K^(l)(x, x') / sqrt(K^(l)(x, x) K^(l)(x', x')), l = 0...L.
    public var correlations: [Double] { covariances.map(\.correlation) }
}

/// A fixed point K* = C_b + C_W E[sigma(z)^2], z ~ N(0, K*), of the variance map, with its two slopes.
public struct VarianceFixedPoint: Sendable, Hashable {
    /// K*.
    public var variance: Double
    /// chi = C_W E[sigma'(z)^2] at K*: the slope of the correlation map at C = 1 (chi_perp). Criticality is chi = 1.
    public var chi: Double
    /// The slope of the variance map, d/dK (C_b + C_W E[sigma^2]) = C_W E[sigma'(z)^2 + sigma(z) sigma''(z)] (chi_par).
    public var slope: Double

    /// Iterates nearby approach K* (slope < 1, up to 1e-9: slope 1 is marginal, like tanh's K* = 0).
    public var isAttracting: Bool { Swift.abs(slope) <= 1 + 1e-9 }
}

/// The fixed points of the variance map.
public enum VarianceFixedPoints: Sendable, Hashable {
    /// Every K >= 0 is a fixed point (positively homogeneous sigma, C_b = 0 and C_W E[sigma(z)^2] = 1 at unit
    /// variance, e.g. ReLU at C_W = 2); chi is the same at every K.
    case everyVariance(chi: Double)
    /// Isolated fixed points in increasing order.
    case isolated([VarianceFixedPoint])
}

/// Infinite-width variance and correlation maps across depth (seed 004 eq. 3.3.1 and sec. 3.3.3):
///
///     K^(l+1)(x, x') = C_b + C_W E[sigma(u) sigma(v)],   (u, v) ~ N(0, K^(l) restricted to {x, x'}),
///     K^(0)(x, x')   = C_b + C_W x.x' / N_0,
///
/// so K^(l+1)(x, x) = C_b + C_W E[sigma(z)^2] with z ~ N(0, K^(l)(x, x)) (the variance map), and the correlation
/// C^(l) = K^(l)(x, x') / sqrt(K^(l)(x, x) K^(l)(x', x')). The Gaussian expectations come from ``DualActivation``
/// (closed forms for relu, ab-relu, erf and identity, ``GaussianExpectation`` quadrature otherwise; one-dimensional
/// quadrature on the diagonal), and for the shaped cubic from its exact Gaussian moments.
///
/// Known behaviour (tested): ReLU at C_W = 2 keeps K(x, x) fixed while 1 - C^(l) ~ 9 pi^2 / (2 l^2); tanh at C_W = 1
/// has K^(l)(x, x) ~ 1 / (2l) (the seed prints K + 2K^2 where K - 2K^2 is meant: SEED-NOTES); the shaped cubic
/// t + psi t^3 / (3L) at C_W = 1 has the continuum limit of ``ShapedCubicLimit``.
public struct DepthAsymptotics: Sendable {
    public let activation: Activation
    /// C_W.
    public let weightVariance: Double
    /// C_b (0: no biases).
    public let biasVariance: Double
    /// The dual maps of `activation` used for the off-diagonal entries.
    public let dual: DualActivation
    let quadrature: GaussianExpectation

    public init(activation: Activation, weightVariance: Double = 1, biasVariance: Double = 0) {
        self.activation = activation
        self.weightVariance = weightVariance
        self.biasVariance = biasVariance
        self.dual = DualActivation(activation)
        self.quadrature = .standard
    }

    /// The shaped cubic sigma(t) = t + psi t^3 / (3L) at C_W = 1 and no biases (seed 004 sec. 3.3.3, corrected
    /// activation per SEED-NOTES), whose L-layer recursion approaches ``ShapedCubicLimit`` at tau = l / L.
    public static func shapedCubic(psi: Double, depth: Int) -> DepthAsymptotics {
        DepthAsymptotics(activation: .shapedCubic(psi: psi, depth: depth), weightVariance: 1, biasVariance: 0)
    }

    // MARK: Gaussian moments

    /// (E[sigma(z)^2], E[sigma'(z)^2]) for z ~ N(0, q).
    public func diagonalMoments(variance q: Double) -> SIMD2<Double> {
        if case let .shapedCubic(psi, depth) = activation {
            return Self.shapedCubicMoments(q, q, q, epsilon: psi / (3 * Double(depth)))
        }
        if dual.isClosedForm { return dual.diagonal(q) }
        let act = activation
        return quadrature.expectation(variance: q, kinkAtZero: !act.isSmooth) { t in
            let (s, d) = act.valueAndSlope(t)
            return SIMD2(s * s, d * d)
        }
    }

    /// (E[sigma(u) sigma(v)], E[sigma'(u) sigma'(v)]) for (u, v) ~ N(0, k).
    public func pairMoments(_ k: CovariancePair) -> SIMD2<Double> {
        if case let .shapedCubic(psi, depth) = activation {
            return Self.shapedCubicMoments(k.k11, k.k22, k.k12, epsilon: psi / (3 * Double(depth)))
        }
        return dual(k.k11, k.k22, k.k12)
    }

    /// Exact Gaussian moments of sigma(t) = t + e t^3 (Isserlis): with (u, v) ~ N(0, [[a, c], [c, b]]),
    /// E[sigma(u) sigma(v)] = c + 3 e c (a + b) + e^2 (9 a b c + 6 c^3),
    /// E[sigma'(u) sigma'(v)] = 1 + 3 e (a + b) + 9 e^2 (a b + 2 c^2).
    static func shapedCubicMoments(_ a: Double, _ b: Double, _ c: Double, epsilon e: Double) -> SIMD2<Double> {
        let first = c + 3 * e * c * (a + b)
        let cubic = 9 * a * b * c + 6 * c * c * c
        let slope1 = 1 + 3 * e * (a + b)
        let slope2 = 9 * e * e * (a * b + 2 * c * c)
        return SIMD2(first + e * e * cubic, slope1 + slope2)
    }

    // MARK: Maps and profiles

    /// The variance map K -> C_b + C_W E[sigma(z)^2], z ~ N(0, K).
    public func varianceMap(_ k: Double) -> Double {
        biasVariance + weightVariance * diagonalMoments(variance: k)[0]
    }

    /// One layer of the covariance map: K -> C_b + C_W E[sigma(u) sigma(v)] entrywise (diagonals by the
    /// one-dimensional variance map; equal inputs stay exactly equal).
    public func covarianceMap(_ k: CovariancePair) -> CovariancePair {
        let v1 = varianceMap(k.k11)
        let v2 = k.k22 == k.k11 ? v1 : varianceMap(k.k22)
        let same = k.k12 == k.k11 && k.k22 == k.k11
        let v12 = same ? v1 : biasVariance + weightVariance * pairMoments(k)[0]
        return CovariancePair(k11: v1, k22: v2, k12: v12)
    }

    /// K^(0), K^(1), ..., K^(L) from a given K^(0).
    public func profile(from k0: CovariancePair, depth: Int) throws -> DepthProfile {
        guard depth >= 0 else { throw OverparamError.invalidArgument(name: "depth", problem: "must be >= 0 (got \(depth))") }
        guard k0.k11 >= 0, k0.k22 >= 0, k0.k11.isFinite, k0.k22.isFinite, k0.k12.isFinite,
              k0.k12 * k0.k12 <= k0.k11 * k0.k22 * (1 + 1e-12) else {
            throw OverparamError.invalidArgument(name: "K^(0)", problem: "\(k0) is not a covariance matrix")
        }
        var out = [k0]
        out.reserveCapacity(depth + 1)
        var k = k0
        for _ in 0..<depth {
            k = covarianceMap(k)
            out.append(k)
        }
        return DepthProfile(covariances: out)
    }

    /// The profile of two inputs, starting from K^(0) = C_b + C_W x.x' / N_0.
    public func profile(_ x: [Double], _ x2: [Double], depth: Int) throws -> DepthProfile {
        let k0 = try CovariancePair(x, x2, weightVariance: weightVariance, biasVariance: biasVariance)
        return try profile(from: k0, depth: depth)
    }

    /// K^(0), ..., K^(L) of one input from K^(0) = `k0` (the variance map iterated).
    public func variances(from k0: Double, depth: Int) -> [Double] {
        var out = [k0]
        out.reserveCapacity(depth + 1)
        var k = k0
        for _ in 0..<Swift.max(0, depth) {
            k = varianceMap(k)
            out.append(k)
        }
        return out
    }

    // MARK: Fixed points and criticality

    /// (chi, slope) at variance K: chi = C_W E[sigma'(z)^2] (chi_perp) and the variance map's slope
    /// C_W E[sigma'(z)^2 + sigma(z) sigma''(z)] (chi_par), z ~ N(0, K). For piecewise-linear sigma, sigma sigma''
    /// vanishes (sigma = 0 at the kink), and chi is evaluated at K = 1 (it is scale-free).
    public func slopes(atVariance k: Double) -> (chi: Double, slope: Double) {
        let cw = weightVariance
        if activation.isPositivelyHomogeneous {
            let m = diagonalMoments(variance: 1)
            return (cw * m[1], cw * m[0])
        }
        let act = activation
        let e = quadrature.expectation(variance: k, kinkAtZero: !act.isSmooth) { t in
            let d = act.derivative(t, order: 1)
            let s = act.derivative(t, order: 0) * act.derivative(t, order: 2)
            return SIMD2(d * d, s)
        }
        return (cw * e[0], cw * (e[0] + e[1]))
    }

    func fixedPoint(at k: Double) -> VarianceFixedPoint {
        let s = slopes(atVariance: k)
        return VarianceFixedPoint(variance: k, chi: s.chi, slope: s.slope)
    }

    /// The fixed points of the variance map in [0, `maxVariance`].
    ///
    /// Positively homogeneous sigma (relu, ab-relu, identity) in closed form: the map is K -> C_b + g K with
    /// g = C_W E[sigma(z)^2] at unit variance, so K* = C_b / (1 - g) when g < 1, every K when C_b = 0 and g = 1
    /// (``VarianceFixedPoints/everyVariance(chi:)``), only K* = 0 when C_b = 0 and g != 1, and none when C_b > 0 and
    /// g >= 1. Otherwise: K = 0 when the map fixes it, then every sign change of C_b + C_W E[sigma^2] - K on a
    /// logarithmic grid of `gridPoints` points over [1e-10, maxVariance], refined by bisection to 1e-15 relative.
    /// Roots where the map only touches the diagonal at K > 0 are not found.
    public func fixedPoints(maxVariance: Double = 1e4, gridPoints: Int = 400) -> VarianceFixedPoints {
        let cb = biasVariance
        if activation.isPositivelyHomogeneous {
            let g = weightVariance * diagonalMoments(variance: 1)[0]
            if cb == 0 {
                if Swift.abs(g - 1) <= 1e-12 { return .everyVariance(chi: slopes(atVariance: 1).chi) }
                return .isolated([fixedPoint(at: 0)])
            }
            if g < 1, cb / (1 - g) <= maxVariance { return .isolated([fixedPoint(at: cb / (1 - g))]) }
            return .isolated([])
        }
        func gap(_ k: Double) -> Double { varianceMap(k) - k }
        var found = [Double]()
        let g0 = gap(0)
        if g0 == 0 { found.append(0) }
        let lo = Foundation.log(1e-10), hi = Foundation.log(Swift.max(maxVariance, 2e-10))
        let n = Swift.max(gridPoints, 2)
        var prevK = 0.0, prevG = g0
        for i in 0..<n {
            let k = Foundation.exp(lo + (hi - lo) * Double(i) / Double(n - 1))
            let g = gap(k)
            if g == 0 {
                found.append(k)
            } else if prevG != 0 && (prevG < 0) != (g < 0) {
                found.append(bisect(gap, prevK, k, prevG))
            }
            prevK = k
            prevG = g
        }
        return .isolated(found.map { fixedPoint(at: $0) })
    }

    /// A root of f in [a, b] given f(a) = fa with f(a) f(b) < 0.
    private func bisect(_ f: (Double) -> Double, _ a0: Double, _ b0: Double, _ fa0: Double) -> Double {
        var a = a0, b = b0, fa = fa0
        for _ in 0..<200 {
            let m = 0.5 * (a + b)
            if m <= a || m >= b || (b - a) <= 1e-15 * b { break }
            let fm = f(m)
            if fm == 0 { return m }
            if (fm < 0) == (fa < 0) { a = m; fa = fm } else { b = m }
        }
        return 0.5 * (a + b)
    }

    /// The fixed point that the variance map's iterates from `start` approach: `start` itself when every variance is
    /// fixed; otherwise the isolated fixed point nearest to the 20,000th iterate (or the iterate where the steps fall
    /// below 1e-15 relative). Nil for a negative `start`, when the iterates leave [0, maxVariance], or when no fixed
    /// point is found.
    public func fixedPoint(from start: Double, maxVariance: Double = 1e4) -> VarianceFixedPoint? {
        guard start >= 0, start.isFinite else { return nil }
        let limit = Swift.max(maxVariance, 10 * start)
        switch fixedPoints(maxVariance: limit) {
        case .everyVariance:
            return fixedPoint(at: start)
        case let .isolated(points):
            var k = start
            for _ in 0..<20_000 {
                let next = varianceMap(k)
                guard next.isFinite, next >= 0, next <= limit else { return nil }
                let done = Swift.abs(next - k) <= 1e-15 * Swift.max(k, next)
                k = next
                if done { break }
            }
            return points.min { Swift.abs($0.variance - k) < Swift.abs($1.variance - k) }
        }
    }
}

/// The large-L limit of the shaped cubic network's Gaussian-process covariance (seed 004 eqs. 3.3.5-3.3.7, with the
/// SEED-NOTES corrections).
///
/// With sigma(t) = t + psi t^3 / (3L), C_W = 1 and no biases, the exact Gaussian moments (Isserlis) give
///
///     K^(l+1)_{mu nu} = K_{mu nu} (1 + (psi/L)(K_{mu mu} + K_{nu nu})) + (psi^2 / (9 L^2))(9 K_{mu mu} K_{nu nu} K_{mu nu} + 6 K_{mu nu}^3),
///
/// which is eq. 3.3.5. In tau = l / L the covariance matrix flows by dK/dtau = psi (D K + K D), D = diag(K):
/// on the diagonal dK/dtau = 2 psi K^2 (eq. 3.3.6 without its spurious 1/L), so
///
///     K_{mu mu}(tau) = K0_{mu mu} / (1 - 2 psi tau K0_{mu mu}),
///
/// and d log K_{mu nu} / dtau = psi (K_{mu mu} + K_{nu nu}) integrates to eq. 3.3.7:
///
///     K_{mu nu}(tau) = K0_{mu nu} (1 - 2 psi tau K0_{mu mu})^(-1/2) (1 - 2 psi tau K0_{nu nu})^(-1/2),
///
/// with K0 = x_mu . x_nu / N_0. The correlation C(tau) = C0 does not move. Valid while 2 psi tau K0_{mu mu} < 1 for
/// both inputs (the variance blows up at tau = 1 / (2 psi K0); no limit for psi > 0 beyond it). The network with
/// L layers outputs K^(L), which is tau = 1; the L-layer recursion differs from the limit by O(1/L).
public struct ShapedCubicLimit: Sendable, Hashable {
    public let psi: Double

    public init(psi: Double) { self.psi = psi }

    /// The blow-up time 1 / (2 psi K0) of a variance K0 (infinity when psi K0 <= 0).
    public func blowUpTime(variance k0: Double) -> Double {
        psi * k0 > 0 ? 1 / (2 * psi * k0) : .infinity
    }

    /// K(tau) = K0 / (1 - 2 psi tau K0); throws past the blow-up time.
    public func variance(at tau: Double, initial k0: Double) throws -> Double {
        let d = 1 - 2 * psi * tau * k0
        guard d > 0 else {
            throw OverparamError.invalidArgument(name: "tau", problem: "tau = \(tau) is past the blow-up time \(blowUpTime(variance: k0)) of K0 = \(k0) at psi = \(psi) (eq. 3.3.7 needs 2 psi tau K0 < 1)")
        }
        return k0 / d
    }

    /// The 2 x 2 covariance at tau (eq. 3.3.7); throws past either input's blow-up time.
    public func covariance(at tau: Double, initial k0: CovariancePair) throws -> CovariancePair {
        let a = try variance(at: tau, initial: k0.k11)
        let b = try variance(at: tau, initial: k0.k22)
        let da = 1 - 2 * psi * tau * k0.k11
        let db = 1 - 2 * psi * tau * k0.k22
        return CovariancePair(k11: a, k22: b, k12: k0.k12 / (da * db).squareRoot())
    }

    /// The covariance at tau = 1 from the inputs: K0 = x_mu . x_nu / N_0.
    public func outputCovariance(_ x: [Double], _ x2: [Double]) throws -> CovariancePair {
        try covariance(at: 1, initial: CovariancePair(x, x2))
    }
}
