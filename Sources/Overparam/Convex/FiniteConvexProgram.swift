import Foundation

/// Seed 002's re-parameterized program (21)-(24) over a finite base measure rho_0 (``FeatureCandidateSet``), for the
/// squared loss phi(f, y) = ||f - y||^2 / 2 and the l_{1,2} regularizer (eqs. 10-12, eq. 11 as corrected in SEED-NOTES
/// sec. 2), as a finite-dimensional convex problem (Theorem 3).
///
/// Variables (eqs. 18-20): the densities p^(l) (n_l, p >= 0, sum_i q_i p_i = 1), the re-parameterized weights
/// w~^(l)_ij = w^(l)(z_i, z_j) p_i^(l) p_j^(l-1) and the readout u~_i = u(z_i) p_i^(L). The constraints of (21) are
/// z_i^(l) p_i^(l) = sum_j q_j w~^(l)_ij h(z_j^(l-1)) and z^(L+1) = sum_i q_i u~_i h(z_i^(L)); we take the solution
/// w~^(l)_i = p_i^(l) a_i^(l) along the candidate's given representation. This is exact (the only solution) when the
/// activated candidates h(z_j^(l-1)) are linearly independent; otherwise it is a sub-program, whose optimum is an
/// upper bound of the full finite program's. Both contain the trained network (p = 1) when the candidates are its
/// neurons, so "optimum <= trained Q" holds for either. Layer 1 has no w~: its nodes are the weight vectors z_i^(1).
///
/// Objective Q~ (eqs. 21-24, rho_0 finite):
///
///     Q~ = (1/2N) ||H^(L) diag(q^(L)) u~ - Y||_F^2
///        + lambda^(1) (1/m^(0)) sum_k ( sum_i q_i^(1) |z_ik^(1)| p_i^(1) )^2                       (eq. 23, l = 1)
///        + sum_{l >= 2} lambda^(l) sum_j q_j^(l-1) ( sum_i q_i^(l) |a_ij^(l)| p_i^(l) )^2 / p_j^(l-1)   (eq. 23)
///        + lambda^(u) sum_i q_i^(L) ||u~_i||^2 / p_i^(L)                                            (eq. 24)
///
/// with H^(l) = h(z^(l)) (N x n_l). Convexity (Theorem 3): the loss is convex in u~; (linear)^2 is convex; each
/// s^2 / p with s >= 0 linear in p^(l) is a perspective (quadratic over linear) and jointly convex; the constraints
/// are linear. Minimizing u~ out (a ridge problem) keeps convexity and gives the smooth function
///
///     J(p) = min_u~ Q~ = (1/2N) tr(Y^T r) + R(p),   r = (I + H diag(q o p) H^T / (2 N lambda^(u)))^(-1) Y,
///
/// with dJ/dp_i^(L) = -lambda^(u) q_i ||u~_i||^2 / p_i^2 = -q_i ||h_i^T r||^2 / (4 N^2 lambda^(u)) (finite also at p_i = 0).
/// ``solve(tolerance:maxIterations:start:)`` minimizes J over the product of simplices by spectral projected gradient
/// and stops at a certified tolerance: the Frank-Wolfe gap max_s <grad J(p), p - s> >= J(p) - J* (convexity).
public struct FiniteConvexProgram: Sendable {
    public let candidates: FeatureCandidateSet
    /// Y (N x K).
    public let targets: Matrix
    /// lambda^(1), ..., lambda^(L) and lambda^(u) (an l_{1,2} regularizer).
    public let regularizer: MixedNormRegularizer

    // Precomputed: G = H^T H and B = H^T Y of the top layer, the layer-1 matrix c_ki = q_i |z_ik| and |a^(l)|.
    let gram: Matrix, cross: Matrix
    let firstLayerMass: Matrix
    let absRepresentations: [Matrix]

    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` unless the regularizer is l_{1,2} with lambda^(u) > 0
    ///   (the readout perspective needs it); ``OverparamError/shapeMismatch(_:)`` for targets or lambdas that do not fit.
    public init(candidates c: FeatureCandidateSet, targets y: Matrix, regularizer r: MixedNormRegularizer) throws {
        guard r.a == 1, r.b == 2 else { throw OverparamError.invalidArgument(name: "regularizer", problem: "the convex program (Theorem 3) is for l_{1,2}, got l_{\(r.a),\(r.b)}") }
        guard r.readoutWeight > 0 else { throw OverparamError.invalidArgument(name: "lambda^(u)", problem: "must be > 0 (the readout perspective ||u~||^2 / p needs it)") }
        guard r.layerWeights.count == c.depth else { throw OverparamError.shapeMismatch("regularizer has \(r.layerWeights.count) layer weights, the candidates L = \(c.depth) layers") }
        guard y.rows == c.sampleCount, y.cols >= 1 else { throw OverparamError.shapeMismatch("targets are \(y.rows)x\(y.cols), the candidates have N = \(c.sampleCount)") }
        guard y.isFinite else { throw OverparamError.nonFinite("targets") }
        candidates = c; targets = y; regularizer = r
        let h = c.features[c.depth - 1]
        gram = Matrix.product(h, .transposed, h, .none)
        cross = Matrix.product(h, .transposed, y, .none)
        var m = Matrix(rows: c.firstLayer.cols, cols: c.firstLayer.rows)
        for i in 0..<c.firstLayer.rows { for k in 0..<c.firstLayer.cols { m[k, i] = c.weights[0][i] * Swift.abs(c.firstLayer[i, k]) } }
        firstLayerMass = m
        absRepresentations = c.representations.map { $0.map(Swift.abs) }
    }

    /// The program built on a network's own neurons (``FeatureCandidateSet/init(network:inputs:)``).
    public init(network: DeepFeatureNetwork, inputs x: Matrix, targets y: Matrix, regularizer r: MixedNormRegularizer) throws {
        try self.init(candidates: FeatureCandidateSet(network: network, inputs: x), targets: y, regularizer: r)
    }

    /// The uniform densities p^(l) = 1 (rho = rho_0; for a network's own candidates: the network itself).
    public var uniformDensities: [[Double]] { candidates.sizes.map { [Double](repeating: 1, count: $0) } }

    /// The regularizer part R~ of eqs. 22-23 without the readout term, and its gradient in p (+infinity where a
    /// p_j^(l-1) = 0 carries positive mass s_j; the (0, 0) corner of a perspective gets the subgradient 0).
    func layerTerms(_ p: [[Double]]) -> (value: Double, gradient: [[Double]]) {
        let c = candidates, lam = regularizer.layerWeights
        var grad = p.map { [Double](repeating: 0, count: $0.count) }
        var v = 0.0
        if lam[0] > 0 {
            let t = firstLayerMass.apply(p[0])
            let m0 = Double(c.firstLayer.cols)
            v += lam[0] * t.reduce(0) { $0 + $1 * $1 } / m0
            let g = firstLayerMass.apply(t, .transposed, alpha: 2 * lam[0] / m0)
            for i in g.indices { grad[0][i] += g[i] }
        }
        for l in 1..<c.depth where lam[l] > 0 {
            let q = c.weights[l], qPrev = c.weights[l - 1]
            let wp = (0..<q.count).map { q[$0] * p[l][$0] }
            let s = absRepresentations[l - 1].apply(wp, .transposed)
            var ratio = [Double](repeating: 0, count: s.count)
            for j in s.indices where s[j] > 0 {
                guard p[l - 1][j] > 0 else { return (.infinity, grad) }
                ratio[j] = s[j] / p[l - 1][j]
                v += lam[l] * qPrev[j] * s[j] * ratio[j]
                grad[l - 1][j] -= lam[l] * qPrev[j] * ratio[j] * ratio[j]
            }
            let back = absRepresentations[l - 1].apply((0..<s.count).map { 2 * lam[l] * qPrev[$0] * ratio[$0] })
            for i in back.indices { grad[l][i] += q[i] * back[i] }
        }
        return (v, grad)
    }

    /// The minimizing readout for densities p^(L): c = H^T r and u~_i = p_i c_i / (2 N lambda^(u)), from the SPD system
    /// (I + S G S / (2 N lambda^(u))) (S c) = S B with S = diag(sqrt(q o p)) (Woodbury form of the N x N ridge system).
    func readoutSolution(_ pTop: [Double]) throws -> (c: Matrix, readout: Matrix, loss: Double, penalty: Double) {
        let q = candidates.weights[candidates.depth - 1], n = q.count, k = targets.cols
        let nn = Double(candidates.sampleCount), lam = regularizer.readoutWeight, scale = 2 * nn * lam
        let s = (0..<n).map { (q[$0] * Swift.max(pTop[$0], 0)).squareRoot() }
        var a = gram
        for i in 0..<n { for j in 0..<n { a[i, j] *= s[i] * s[j] / scale } }
        a.addToDiagonal(1)
        var sb = cross
        for i in 0..<n { for c in 0..<k { sb[i, c] *= s[i] } }
        let e = try CholeskyFactorization(a).solve(sb)
        // c = B - G S e / scale (valid for s_i = 0 too).
        var se = e
        for i in 0..<n { for c in 0..<k { se[i, c] *= s[i] } }
        var cm = cross
        Matrix.gemm(gram, .none, se, .none, alpha: -1 / scale, beta: 1, into: &cm)
        var u = cm
        for i in 0..<n { for c in 0..<k { u[i, c] *= pTop[i] / scale } }
        // beta = diag(q) u~; loss = ||Y - H beta||^2 / (2N) from the explicit residual (the expanded form
        // ||Y||^2 - 2 tr(beta^T B) + tr(beta^T G beta) cancels and its rounding stalls the line search near the optimum);
        // penalty = lambda sum q ||u~||^2 / p.
        var beta = u
        for i in 0..<n { for c in 0..<k { beta[i, c] *= q[i] } }
        var resid = targets
        Matrix.gemm(candidates.features[candidates.depth - 1], .none, beta, .none, alpha: -1, beta: 1, into: &resid)
        var pen = 0.0
        for i in 0..<n where pTop[i] > 0 { for c in 0..<k { pen += q[i] * u[i, c] * u[i, c] / pTop[i] } }
        return (cm, u, resid.storage.reduce(0) { $0 + $1 * $1 } / (2 * nn), lam * pen)
    }

    /// J(p) = min over u~ of Q~ and its gradient.
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` for densities of the wrong sizes.
    public func reducedObjective(_ p: [[Double]]) throws -> (value: Double, gradient: [[Double]]) {
        try checkDensities(p)
        var (v, g) = layerTerms(p)
        guard v.isFinite else { return (v, g) }
        let top = try readoutSolution(p[candidates.depth - 1])
        let q = candidates.weights[candidates.depth - 1], scale = 2 * Double(candidates.sampleCount) * regularizer.readoutWeight
        for i in 0..<q.count {
            var cc = 0.0
            for c in 0..<targets.cols { cc += top.c[i, c] * top.c[i, c] }
            g[candidates.depth - 1][i] -= regularizer.readoutWeight * q[i] * cc / (scale * scale)
        }
        return (v + top.loss + top.penalty, g)
    }

    /// Q~(p, w~ = p a, u~) of eqs. 21-24 at any readout u~ (n_L x K): +infinity outside the domain (p < 0, or a zero
    /// density carrying positive mass).
    public func objective(densities p: [[Double]], readout u: Matrix) throws -> Double {
        try checkDensities(p)
        let q = candidates.weights[candidates.depth - 1]
        guard u.rows == q.count, u.cols == targets.cols else { throw OverparamError.shapeMismatch("readout is \(u.rows)x\(u.cols), expected \(q.count)x\(targets.cols)") }
        guard p.allSatisfy({ $0.allSatisfy { $0 >= 0 } }) else { return .infinity }
        let (v, _) = layerTerms(p)
        guard v.isFinite else { return v }
        var beta = u
        for i in 0..<u.rows { for c in 0..<u.cols { beta[i, c] *= q[i] } }
        var resid = targets
        Matrix.gemm(candidates.features[candidates.depth - 1], .none, beta, .none, alpha: 1, beta: -1, into: &resid)
        let loss = resid.storage.reduce(0) { $0 + $1 * $1 } / (2 * Double(candidates.sampleCount))
        var pen = 0.0
        for i in 0..<u.rows {
            let uu = (0..<u.cols).reduce(0) { $0 + u[i, $1] * u[i, $1] }
            if uu == 0 { continue }
            guard p[candidates.depth - 1][i] > 0 else { return .infinity }
            pen += q[i] * uu / p[candidates.depth - 1][i]
        }
        return v + loss + regularizer.readoutWeight * pen
    }

    /// The Frank-Wolfe gap sum_l ( <g_l, p_l> - min_i g_li / q_li ) >= J(p) - J* (the vertices of {p >= 0, q.p = 1}
    /// are e_i / q_i): a certificate of suboptimality for any feasible p and any (sub)gradient g.
    public func frankWolfeGap(_ p: [[Double]], gradient g: [[Double]]) -> Double {
        var gap = 0.0
        for l in 0..<p.count {
            let q = candidates.weights[l]
            var inner = 0.0, best = Double.infinity
            for i in p[l].indices { inner += g[l][i] * p[l][i]; best = Swift.min(best, g[l][i] / q[i]) }
            gap += inner - best
        }
        return Swift.max(gap, 0)
    }

    func checkDensities(_ p: [[Double]]) throws {
        guard p.count == candidates.depth, zip(p, candidates.sizes).allSatisfy({ $0.count == $1 }) else {
            throw OverparamError.shapeMismatch("densities have sizes \(p.map(\.count)), the candidates \(candidates.sizes)")
        }
    }

    /// Euclidean projection onto {p >= 0, sum_i q_i p_i = 1}: p_i = max(v_i - theta q_i, 0) with theta from the sorted
    /// breakpoints v_i / q_i.
    static func projectOntoSimplex(_ v: [Double], weights q: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] / q[$0] > v[$1] / q[$1] }
        var sqv = 0.0, sqq = 0.0, theta = 0.0
        for (k, i) in order.enumerated() {
            sqv += q[i] * v[i]; sqq += q[i] * q[i]
            let t = (sqv - 1) / sqq
            let next = k + 1 < order.count ? v[order[k + 1]] / q[order[k + 1]] : -Double.infinity
            if t >= next { theta = t; break }
        }
        return (0..<v.count).map { Swift.max(v[$0] - theta * q[$0], 0) }
    }

    /// Minimize J over the densities by spectral projected gradient (Barzilai-Borwein steps, non-monotone Armijo
    /// search over the last 10 values; every iterate is feasible), stopping when the Frank-Wolfe gap <= tolerance.
    /// - Parameters:
    ///   - tolerance: absolute bound on J(p) - J* certified at the returned point.
    ///   - start: initial densities (default p = 1: for a network's own candidates, the trained network).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for a non-positive tolerance or an infeasible start.
    public func solve(tolerance: Double = 1e-9, maxIterations: Int = 20_000, start: [[Double]]? = nil) throws -> FiniteConvexSolution {
        guard tolerance > 0, maxIterations >= 1 else { throw OverparamError.invalidArgument(name: "tolerance", problem: "need tolerance > 0 and maxIterations >= 1") }
        var p = start ?? uniformDensities
        try checkDensities(p)
        for l in 0..<p.count {
            let mass = zip(p[l], candidates.weights[l]).reduce(0) { $0 + $1.0 * $1.1 }
            if Swift.abs(mass - 1) > 1e-9 || p[l].contains(where: { $0 < 0 }) {
                throw OverparamError.invalidArgument(name: "start", problem: "p^(\(l + 1)) must be >= 0 with sum q_i p_i = 1")
            }
        }
        var (f, g) = try reducedObjective(p)
        guard f.isFinite else { throw OverparamError.invalidArgument(name: "start", problem: "J = \(f) at the start (a zero density carries mass)") }
        let startValue = f, startGap = frankWolfeGap(p, gradient: g)
        var gap = startGap, history = [f], alpha = 1 / Swift.max(g.flatMap { $0 }.map(Swift.abs).max() ?? 1, 1e-300)
        var iterations = 0, failures = 0, stop = FiniteConvexSolution.Stop.iterationLimit
        while iterations < maxIterations {
            if gap <= tolerance { stop = .certified; break }
            iterations += 1
            let trial = (0..<p.count).map { l in Self.projectOntoSimplex((0..<p[l].count).map { p[l][$0] - alpha * g[l][$0] }, weights: candidates.weights[l]) }
            let d = (0..<p.count).map { l in (0..<p[l].count).map { trial[l][$0] - p[l][$0] } }
            let slope = zip(g, d).reduce(0) { $0 + zip($1.0, $1.1).reduce(0) { $0 + $1.0 * $1.1 } }
            if slope >= 0 {  // no descent direction at this precision: retry with a shorter step, then give up
                failures += 1; alpha *= 1e-3
                if failures >= 4 { stop = .stalled; break } else { continue }
            }
            let ref = history.suffix(10).max()!
            var t = 1.0, accepted: ([[Double]], Double, [[Double]])? = nil
            for _ in 0..<60 {
                let x = (0..<p.count).map { l in (0..<p[l].count).map { Swift.max(p[l][$0] + t * d[l][$0], 0) } }
                let (fx, gx) = try reducedObjective(x)
                // The 1e-14 |f| allowance lets steps through whose decrease is below the rounding of J near the
                // optimum; the certificate (the gap at the returned point) does not depend on the acceptance rule.
                if fx.isFinite && fx <= ref + 1e-4 * t * slope + 1e-14 * Swift.abs(ref) { accepted = (x, fx, gx); break }
                t /= 2
            }
            guard let acc = accepted else {
                failures += 1; alpha *= 1e-3
                if failures >= 4 { stop = .stalled; break } else { continue }
            }
            failures = 0
            let (x, fx, gx) = acc
            var ss = 0.0, sy = 0.0
            for l in 0..<p.count { for i in p[l].indices { let s = x[l][i] - p[l][i], y = gx[l][i] - g[l][i]; ss += s * s; sy += s * y } }
            alpha = sy > 0 ? Swift.min(Swift.max(ss / sy, 1e-12), 1e12) : Swift.min(alpha * 4, 1e12)
            p = x; f = fx; g = gx
            history.append(f)
            gap = frankWolfeGap(p, gradient: g)
        }
        let top = try readoutSolution(p[candidates.depth - 1])
        if gap <= tolerance { stop = .certified }
        return FiniteConvexSolution(densities: p, readout: top.readout, value: f, loss: top.loss, gap: gap, tolerance: tolerance,
                                    iterations: iterations, startValue: startValue, startGap: startGap, stop: stop)
    }
}

/// The result of ``FiniteConvexProgram/solve(tolerance:maxIterations:start:)``.
public struct FiniteConvexSolution: Sendable {
    /// p^(l) at the returned point.
    public var densities: [[Double]]
    /// The minimizing u~ for those densities (n_L x K).
    public var readout: Matrix
    /// J(p) = Q~(p, p a, u~), the program's value there.
    public var value: Double
    /// Its loss part (1/2N) ||f - Y||^2.
    public var loss: Double
    /// The Frank-Wolfe gap at the returned point: J(p) - J* <= gap.
    public var gap: Double
    public var tolerance: Double
    public var iterations: Int
    /// J and the gap at the start (for a network's candidates: the trained network's Q and its certified suboptimality bound).
    public var startValue: Double
    public var startGap: Double
    /// Why the solver stopped.
    public enum Stop: String, Sendable, Codable {
        /// The Frank-Wolfe gap reached the tolerance.
        case certified
        /// maxIterations reached first.
        case iterationLimit
        /// No step decreased J at double precision (four retries with 1000x shorter steps).
        case stalled
    }
    public var stop: Stop
    /// gap <= tolerance.
    public var isCertified: Bool { gap <= tolerance }
    /// A certified lower bound on the program's optimum: value - gap.
    public var lowerBound: Double { value - gap }
}
