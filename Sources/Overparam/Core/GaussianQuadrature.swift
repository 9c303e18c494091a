import CLAPACKE
import Foundation

/// A one-dimensional Gauss rule: nodes and weights with sum_i w_i f(x_i) ~ integral f(x) w(x) dx.
///
/// Nodes come from the Golub-Welsch algorithm: the eigenvalues of the Jacobi matrix of the orthogonal polynomials
/// (LAPACK `dstev`), weights mu_0 v_{0i}^2 from the first components of its eigenvectors.
public struct GaussRule: Sendable {
    public let nodes: [Double]
    public let weights: [Double]

    /// Golub-Welsch for the Jacobi matrix with diagonal `a` and off-diagonal `b`, total mass `mu0`.
    init(diagonal a: [Double], offDiagonal b: [Double], mu0: Double) {
        let n = a.count
        var d = a, e = b + [0]
        var z = [Double](repeating: 0, count: n * n)
        Parallel.configureBLAS()
        let info = d.withUnsafeMutableBufferPointer { dp in e.withUnsafeMutableBufferPointer { ep in z.withUnsafeMutableBufferPointer { zp in
            LAPACKE_dstev(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int32(n), dp.baseAddress, ep.baseAddress, zp.baseAddress, Int32(n))
        } } }
        precondition(info == 0, "dstev failed in Golub-Welsch")
        nodes = d
        weights = (0..<n).map { mu0 * z[$0] * z[$0] }
    }

    /// Probabilists' Gauss-Hermite: sum_i w_i f(x_i) ~ E[f(Z)], Z ~ N(0, 1). Exact for polynomials of degree < 2n.
    public static func hermite(_ n: Int) -> GaussRule {
        GaussRule(diagonal: [Double](repeating: 0, count: n), offDiagonal: (1..<max(n, 1)).map { Double($0).squareRoot() }, mu0: 1)
    }

    /// Gauss-Legendre on [-1, 1].
    public static func legendre(_ n: Int) -> GaussRule {
        GaussRule(diagonal: [Double](repeating: 0, count: n),
                  offDiagonal: (1..<max(n, 1)).map { k in Double(k) / (4 * Double(k * k) - 1).squareRoot() }, mu0: 2)
    }

    /// Gauss-Laguerre with weight e^{-s} on [0, inf).
    public static func laguerre(_ n: Int) -> GaussRule {
        GaussRule(diagonal: (0..<n).map { 2 * Double($0) + 1 }, offDiagonal: (1..<max(n, 1)).map(Double.init), mu0: 1)
    }
}

/// Expectations of functions of one or two correlated Gaussians, E f(u) with u ~ N(0, q), and
/// E g(u, v) with (u, v) ~ N(0, [[q11, q12], [q12, q22]]).
///
/// Two rules, chosen by the integrand:
/// - smooth integrands (activations with a transition of width ~1 around 0): in (z1, z2) with u = sqrt(q11) z1,
///   v = sqrt(q22) (c z1 + sqrt(1 - c^2) z2), c = q12 / sqrt(q11 q22): a tensor Gauss-Hermite rule while the
///   variances are small (q <= 1: the activation is smooth on the Gaussian's scale), otherwise composite
///   Gauss-Legendre on panels graded away from the transitions (z1 = 0, and for each z1 the z2 where v = 0), whose
///   first panel is as narrow as the transition (width 1 / sqrt(q)) and whose panels double outward (up to width 1.5)
///   to |z| = 9
///   (the mass beyond is below 1e-18). Plain Gauss-Hermite loses accuracy fast as q grows (E[erf(2z)^2] with 48
///   nodes is off by 2e-4), the graded rule does not;
/// - integrands with kinks on the lines u = 0 and v = 0 (ReLU-like): polar coordinates z = r (cos t, sin t),
///   Gauss-Legendre in t on each sector between kink rays (where the integrand is smooth) and Gauss-Laguerre in
///   s = r^2 / 2. For positively homogeneous integrands of degree <= 2 the radial rule is exact, so the rule
///   converges spectrally in the angle.
public struct GaussianExpectation: Sendable {
    public let hermite: GaussRule
    let legendre: GaussRule
    let laguerre: GaussRule
    let panel: GaussRule

    /// `order` Gauss-Hermite nodes per dimension (smooth rule), `angularOrder` Legendre nodes per sector and
    /// `radialOrder` Laguerre nodes (kinked rule).
    public init(order: Int = 96, angularOrder: Int = 24, radialOrder: Int = 24) {
        hermite = .hermite(order)
        legendre = .legendre(angularOrder)
        laguerre = .laguerre(radialOrder)
        panel = .legendre(8)
    }

    /// Variance up to which the Gauss-Hermite rule is used for smooth integrands.
    static let hermiteVarianceLimit = 1.0

    /// Visit the nodes and weights of a rule for E f(z), z ~ N(0, 1), with panels graded away from `breakpoint`
    /// (first panel width min(0.5, 0.5 / scale), then doubling up to 1.5), covering [-9, 9], 8-point Gauss-Legendre
    /// per panel. Weights include the normal density. Accuracy about 1e-11 for E[erf(a z) erf(b z')] at any a, b.
    @inline(__always)
    func forEachGradedNode(breakpoint b: Double, scale: Double, _ body: (Double, Double) -> Void) {
        let limit = 9.0
        let h0 = 0.5 / Swift.max(1, scale)
        let inv = 1 / (2 * Double.pi).squareRoot()
        for side in [1.0, -1.0] {
            let end = side > 0 ? limit : -limit
            if (side > 0 && b >= limit) || (side < 0 && b <= -limit) { continue }
            var lo = Swift.min(Swift.max(b, -limit), limit), h = h0, k = 0
            while side > 0 ? lo < end : lo > end {
                var hi = lo + side * h
                if side > 0 ? hi > end : hi < end { hi = end }
                let mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo)
                for (y, w) in zip(panel.nodes, panel.weights) {
                    let z = mid + half * y
                    body(z, Swift.abs(half) * w * inv * Foundation.exp(-0.5 * z * z))
                }
                lo = hi
                k += 1
                if k >= 2 { h = Swift.min(2 * h, 1.5) }   // capped so the Gaussian factor stays resolved
            }
        }
    }

    /// A shared default instance.
    public static let standard = GaussianExpectation()

    /// E f(u), u ~ N(0, q). With `kinkAtZero`, the two half-lines are integrated separately (exact for
    /// piecewise polynomials of low degree).
    public func expectation(variance q: Double, kinkAtZero: Bool = false, _ f: (Double) -> SIMD2<Double>) -> SIMD2<Double> {
        let s = Swift.max(q, 0).squareRoot()
        if kinkAtZero {
            // E f(u) = int_0^inf [f(r s) + f(-r s)] phi(r) dr; with s' = r^2/2: (1/sqrt(2 pi)) int e^{-s'} [..] / r ds'.
            // Use the polar rule along t in {0, pi} instead: equivalent to half-normal moments.
            var acc = SIMD2<Double>(0, 0)
            for (x, w) in zip(hermite.nodes, hermite.weights) {
                let a = Swift.abs(x)
                acc += w * 0.5 * (f(a * s) + f(-a * s))
            }
            return acc
        }
        var acc = SIMD2<Double>(0, 0)
        if q <= Self.hermiteVarianceLimit {
            for (x, w) in zip(hermite.nodes, hermite.weights) { acc += w * f(x * s) }
        } else {
            forEachGradedNode(breakpoint: 0, scale: s) { z, w in acc += w * f(z * s) }
        }
        return acc
    }

    /// E g(u, v) for a bivariate Gaussian with the given covariance.
    public func expectation(q11: Double, q22: Double, q12: Double, kinksOnAxes: Bool = false,
                            _ g: (Double, Double) -> SIMD2<Double>) -> SIMD2<Double> {
        let s1 = Swift.max(q11, 0).squareRoot(), s2 = Swift.max(q22, 0).squareRoot()
        var c = (s1 > 0 && s2 > 0) ? q12 / (s1 * s2) : 0
        c = c > 1 - 4 * Double.ulpOfOne ? 1 : (c < -1 + 4 * Double.ulpOfOne ? -1 : c)   // parallel up to rounding
        let sc = Swift.max(0, (1 - c) * (1 + c)).squareRoot()   // (1 - c)(1 + c): no cancellation near |c| = 1
        if !kinksOnAxes && Swift.max(q11, q22) > Self.hermiteVarianceLimit {
            var acc = SIMD2<Double>(0, 0)
            let innerScale = s2 * sc
            forEachGradedNode(breakpoint: 0, scale: s1) { z1, w1 in
                var inner = SIMD2<Double>(0, 0)
                let u = s1 * z1
                // v = 0 at z2 = -c z1 / sc; far outside [-9, 9] (or sc = 0) it plays no role.
                let b = sc > 1e-300 ? -c * z1 / sc : 1e300
                forEachGradedNode(breakpoint: b, scale: innerScale) { z2, w2 in inner += w2 * g(u, s2 * (c * z1 + sc * z2)) }
                acc += w1 * inner
            }
            return acc
        }
        if !kinksOnAxes {
            var acc = SIMD2<Double>(0, 0)
            for (x1, w1) in zip(hermite.nodes, hermite.weights) {
                var inner = SIMD2<Double>(0, 0)
                let u = s1 * x1
                for (x2, w2) in zip(hermite.nodes, hermite.weights) { inner += w2 * g(u, s2 * (c * x1 + sc * x2)) }
                acc += w1 * inner
            }
            return acc
        }
        // Kink rays: u = 0 at t = pi/2, 3pi/2; v = 0 where c cos t + sc sin t = 0.
        let tv = Foundation.atan2(-c, sc)   // in (-pi/2, pi/2]
        var cuts = [Double.pi / 2, 3 * Double.pi / 2, tv < 0 ? tv + 2 * Double.pi : tv, tv + Double.pi]
        cuts = cuts.map { $0.truncatingRemainder(dividingBy: 2 * Double.pi) }.sorted()
        var uniq = [Double]()
        for t in cuts where uniq.last.map({ Swift.abs($0 - t) > 1e-14 }) ?? true { uniq.append(t) }
        if let f = uniq.first, let l = uniq.last, uniq.count > 1, Swift.abs(f + 2 * Double.pi - l) < 1e-14 { uniq.removeLast() }
        var acc = SIMD2<Double>(0, 0)
        let radial = zip(laguerre.nodes, laguerre.weights).map { ((2 * $0).squareRoot(), $1) }
        for k in 0..<uniq.count {
            let lo = uniq[k]
            let hi = k + 1 < uniq.count ? uniq[k + 1] : uniq[0] + 2 * Double.pi
            let half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo)
            for (y, wt) in zip(legendre.nodes, legendre.weights) {
                let t = mid + half * y
                let ct = Foundation.cos(t), st = Foundation.sin(t)
                let du = s1 * ct, dv = s2 * (c * ct + sc * st)
                var inner = SIMD2<Double>(0, 0)
                for (r, wr) in radial { inner += wr * g(r * du, r * dv) }
                acc += (wt * half) * inner
            }
        }
        return acc / (2 * Double.pi)
    }
}

private func + (a: [Double], b: [Double]) -> [Double] { var c = a; c.append(contentsOf: b); return c }
