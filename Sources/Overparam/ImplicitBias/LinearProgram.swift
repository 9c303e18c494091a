import Foundation

/// A small dense linear program in standard form,
///
///     minimize c^T x   subject to   A x = b,  x >= 0        (A: m x N),
///
/// with dual  maximize b^T y  subject to  A^T y + s = c,  s >= 0. ``init(minimize:subjectTo:atLeast:)`` accepts the
/// inequality form  min c^T x  s.t.  G x >= h, x >= 0  and adds surplus variables w = G x - h >= 0 ([G, -I] (x, w) = h);
/// its multipliers y are then >= 0.
///
/// ``solve(tolerance:maxIterations:)`` is a primal-dual interior-point method on the homogeneous self-dual embedding
/// (Xu, Hung and Ye 1996; Andersen and Andersen 2000, the algorithm of MOSEK and of SciPy's former `interior-point`
/// `linprog`) with Mehrotra's predictor-corrector. The embedding adds tau, kappa >= 0:
///
///     A x - b tau = 0,   A^T y + z - c tau = 0,   b^T y - c^T x - kappa = 0,
///
/// and its strictly complementary solution has either tau > 0 (then x/tau, y/tau is optimal) or kappa > 0 (then
/// b^T y > 0 certifies that the primal is infeasible, or c^T x < 0 that it is unbounded). Each iteration factors the
/// normal-equation matrix M = A diag(x/z) A^T once with the package's Cholesky (LAPACK `dpotrf`; a diagonal
/// regularization 1e-14 ... 1e-6 times max diag M is added only if the factorization fails) and solves with it for the
/// tau direction, the predictor and the corrector.
///
/// Stopping rule (`tolerance` eps, default 1e-8): optimal when
///
///     ||A x - b|| / (1 + ||b||) <= eps,   ||A^T y + s - c|| / (1 + ||c||) <= eps,   |c^T x - b^T y| / (1 + |b^T y|) <= eps
///
/// at x/tau, y/tau, s = z/tau; infeasible or unbounded (both reported as an `OverparamError.invalidArgument` naming the
/// certificate) when the embedding's residuals and mu have fallen by eps while tau <= eps max(1, kappa) (the criteria of
/// Andersen and Andersen).
public struct LinearProgram: Sendable {
    /// c (length N: the user's variables, then any surplus variables).
    public let objective: [Double]
    /// A (m x N).
    public let constraintMatrix: Matrix
    /// b (length m).
    public let rightHandSide: [Double]
    /// How many of the N variables are the user's (the rest are surplus variables of the inequality form).
    public let originalVariableCount: Int
    /// True for a problem given as G x >= h.
    public let isInequalityForm: Bool

    /// min c^T x s.t. A x = b, x >= 0.
    public init(minimize c: [Double], subjectTo a: Matrix, equals b: [Double]) throws {
        try Self.validate(c, a, b)
        objective = c
        constraintMatrix = a
        rightHandSide = b
        originalVariableCount = c.count
        isInequalityForm = false
    }

    /// min c^T x s.t. G x >= h, x >= 0 (surplus variables w = G x - h are appended: [G, -I] (x, w) = h).
    public init(minimize c: [Double], subjectTo g: Matrix, atLeast h: [Double]) throws {
        try Self.validate(c, g, h)
        let m = g.rows, n = g.cols
        var a = Matrix(rows: m, cols: n + m)
        for i in 0..<m {
            for j in 0..<n { a[i, j] = g[i, j] }
            a[i, n + i] = -1
        }
        objective = c + [Double](repeating: 0, count: m)
        constraintMatrix = a
        rightHandSide = h
        originalVariableCount = n
        isInequalityForm = true
    }

    private static func validate(_ c: [Double], _ a: Matrix, _ b: [Double]) throws {
        guard a.cols == c.count else {
            throw OverparamError.shapeMismatch("linear program: constraint matrix has \(a.cols) columns but the objective has \(c.count) entries")
        }
        guard a.rows == b.count else {
            throw OverparamError.shapeMismatch("linear program: constraint matrix has \(a.rows) rows but the right-hand side has \(b.count) entries")
        }
        guard !c.isEmpty else { throw OverparamError.invalidArgument(name: "linear program", problem: "has no variables") }
        guard a.isFinite, c.allSatisfy({ $0.isFinite }), b.allSatisfy({ $0.isFinite }) else {
            throw OverparamError.nonFinite("linear program data contain NaN or Inf")
        }
    }

    /// Solve to relative residuals and relative duality gap `tolerance` (see the type's documentation).
    /// Throws `invalidArgument` for an infeasible or unbounded problem and `diverged` if `maxIterations` is reached.
    public func solve(tolerance: Double = 1e-8, maxIterations: Int = 200) throws -> LinearProgramSolution {
        guard tolerance > 0, tolerance < 1 else {
            throw OverparamError.invalidArgument(name: "tolerance", problem: "must be in (0, 1), got \(tolerance)")
        }
        let a = constraintMatrix, b = rightHandSide, c = objective
        let m = a.rows, n = a.cols
        let normB = norm(b), normC = norm(c)
        var x = [Double](repeating: 1, count: n)
        var z = [Double](repeating: 1, count: n)
        var y = [Double](repeating: 0, count: m)
        var tau = 1.0, kappa = 1.0

        var rP0 = 1.0, rD0 = 1.0, rG0 = 1.0, mu0 = 1.0
        for iteration in 0...maxIterations {
            // Residuals of the embedding.
            let ax = a.apply(x)
            let aty = a.apply(y, .transposed)
            var rP = [Double](repeating: 0, count: m)
            for i in 0..<m { rP[i] = b[i] * tau - ax[i] }
            var rD = [Double](repeating: 0, count: n)
            for j in 0..<n { rD[j] = c[j] * tau - aty[j] - z[j] }
            let cx = dot(c, x), by = dot(b, y)
            let rG = cx - by + kappa
            let mu = (dot(x, z) + tau * kappa) / Double(n + 1)
            if iteration == 0 { rP0 = max(1, norm(rP)); rD0 = max(1, norm(rD)); rG0 = max(1, abs(rG)); mu0 = mu }

            let primalResidual = norm(rP) / tau / (1 + normB)
            let dualResidual = norm(rD) / tau / (1 + normC)
            let gap = abs(cx - by) / (tau + abs(by))
            if primalResidual <= tolerance && dualResidual <= tolerance && gap <= tolerance {
                let k = originalVariableCount
                let xs = x.map { $0 / tau }, ss = z.map { $0 / tau }
                return LinearProgramSolution(
                    x: Array(xs[0..<k]), surplus: Array(xs[k...]), y: y.map { $0 / tau }, reducedCosts: Array(ss[0..<k]),
                    objectiveValue: cx / tau, dualObjectiveValue: by / tau, relativeGap: gap,
                    primalResidual: primalResidual, dualResidual: dualResidual, iterations: iteration)
            }
            let small = norm(rP) / rP0 < tolerance && norm(rD) / rD0 < tolerance && abs(rG) / rG0 < tolerance
            if (small && tau < tolerance * max(1, kappa)) || (mu / mu0 < tolerance && tau < tolerance * min(1, kappa)) {
                if by > 0 && by >= -cx {
                    throw OverparamError.invalidArgument(name: "linear program", problem: "primal infeasible (Farkas certificate b^T y = \(by / kappa) > 0 with A^T y <= 0)")
                }
                if cx < 0 {
                    throw OverparamError.invalidArgument(name: "linear program", problem: "unbounded (ray x >= 0 with A x = 0 and c^T x = \(cx / kappa) < 0)")
                }
                throw OverparamError.invalidArgument(name: "linear program", problem: "infeasible or unbounded (tau -> 0 without a clear certificate)")
            }
            if iteration == maxIterations { break }

            // Normal equations M = A D A^T, D = x / z.
            var d = [Double](repeating: 0, count: n)
            for j in 0..<n { d[j] = x[j] / z[j] }
            var scaled = a
            scaled.storage.withUnsafeMutableBufferPointer { p in
                for i in 0..<m { for j in 0..<n { p[i * n + j] *= d[j].squareRoot() } }
            }
            let factor = try Self.regularizedCholesky(scaled.gram())

            // The tau direction: M q = A D c + b, v = D (A^T q - c).
            var dc = [Double](repeating: 0, count: n)
            for j in 0..<n { dc[j] = d[j] * c[j] }
            var rhsQ = a.apply(dc)
            for i in 0..<m { rhsQ[i] += b[i] }
            let q = factor.solve(Matrix(column: rhsQ)).storage
            let atq = a.apply(q, .transposed)
            var v = [Double](repeating: 0, count: n)
            for j in 0..<n { v[j] = d[j] * (atq[j] - c[j]) }
            let denominator = dot(c, v) - dot(b, q) - kappa / tau

            /// The Newton direction for residual weight eta and complementarity targets rxs (N) and rtk.
            func direction(eta: Double, rxs: [Double], rtk: Double)
                -> (dx: [Double], dy: [Double], dz: [Double], dtau: Double, dkappa: Double) {
                var t = [Double](repeating: 0, count: n)
                for j in 0..<n { t[j] = eta * rD[j] - rxs[j] / x[j] }
                var dt = [Double](repeating: 0, count: n)
                for j in 0..<n { dt[j] = d[j] * t[j] }
                var rhs = a.apply(dt)
                for i in 0..<m { rhs[i] += eta * rP[i] }
                let p = factor.solve(Matrix(column: rhs)).storage
                let atp = a.apply(p, .transposed)
                var u = [Double](repeating: 0, count: n)
                for j in 0..<n { u[j] = d[j] * (atp[j] - t[j]) }
                let dtau = (-eta * rG - dot(c, u) + dot(b, p) - rtk / tau) / denominator
                var dy = p
                for i in 0..<m { dy[i] += q[i] * dtau }
                var dx = u, dz = [Double](repeating: 0, count: n)
                for j in 0..<n {
                    dx[j] += v[j] * dtau
                    dz[j] = (rxs[j] - z[j] * dx[j]) / x[j]
                }
                return (dx, dy, dz, dtau, (rtk - kappa * dtau) / tau)
            }

            // Predictor (affine scaling).
            var rxs = [Double](repeating: 0, count: n)
            for j in 0..<n { rxs[j] = -x[j] * z[j] }
            let aff = direction(eta: 1, rxs: rxs, rtk: -tau * kappa)
            let alphaAff = min(1, Self.maxStep(x, aff.dx), Self.maxStep(z, aff.dz),
                               Self.maxStep([tau, kappa], [aff.dtau, aff.dkappa]))
            var muAff = (tau + alphaAff * aff.dtau) * (kappa + alphaAff * aff.dkappa)
            for j in 0..<n { muAff += (x[j] + alphaAff * aff.dx[j]) * (z[j] + alphaAff * aff.dz[j]) }
            muAff /= Double(n + 1)
            let sigma = min(1, max(0, pow(muAff / mu, 3)))

            // Corrector (centring + second-order term).
            for j in 0..<n { rxs[j] = sigma * mu - x[j] * z[j] - aff.dx[j] * aff.dz[j] }
            let step = direction(eta: 1 - sigma, rxs: rxs, rtk: sigma * mu - tau * kappa - aff.dtau * aff.dkappa)
            let alphaMax = min(Self.maxStep(x, step.dx), Self.maxStep(z, step.dz),
                               Self.maxStep([tau, kappa], [step.dtau, step.dkappa]))
            let alpha = min(1, 0.995 * alphaMax)
            for j in 0..<n { x[j] += alpha * step.dx[j]; z[j] += alpha * step.dz[j] }
            for i in 0..<m { y[i] += alpha * step.dy[i] }
            tau += alpha * step.dtau
            kappa += alpha * step.dkappa
            guard x.allSatisfy({ $0.isFinite }), y.allSatisfy({ $0.isFinite }), tau.isFinite, kappa.isFinite else {
                throw OverparamError.diverged("linear program: interior-point iterate became non-finite at iteration \(iteration)")
            }
        }
        throw OverparamError.diverged("linear program: no convergence to tolerance \(tolerance) in \(maxIterations) interior-point iterations")
    }

    /// The largest alpha <= infinity with v + alpha dv >= 0.
    static func maxStep(_ v: [Double], _ dv: [Double]) -> Double {
        var alpha = Double.infinity
        for j in 0..<v.count where dv[j] < 0 { alpha = min(alpha, -v[j] / dv[j]) }
        return alpha
    }

    /// Cholesky of a symmetric positive semidefinite matrix, adding delta * max diag to the diagonal (delta = 1e-14,
    /// 1e-12, ..., 1e-6) only when plain factorization fails.
    static func regularizedCholesky(_ matrix: Matrix) throws -> CholeskyFactorization {
        if let f = try? CholeskyFactorization(matrix) { return f }
        let scale = max(matrix.diagonal.max() ?? 1, Double.leastNormalMagnitude)
        var delta = 1e-14
        while delta <= 1e-6 {
            var r = matrix
            r.addToDiagonal(delta * scale)
            if let f = try? CholeskyFactorization(r) { return f }
            delta *= 100
        }
        throw OverparamError.singular("interior-point normal equations are not positive definite even with a 1e-6 relative diagonal shift")
    }
}

/// The result of ``LinearProgram/solve(tolerance:maxIterations:)``.
public struct LinearProgramSolution: Sendable {
    /// The user's variables x (surplus variables excluded).
    public let x: [Double]
    /// Surplus variables w = G x - h of the inequality form (empty for the standard form).
    public let surplus: [Double]
    /// Constraint multipliers y (>= 0 in the inequality form).
    public let y: [Double]
    /// s = c - A^T y for the user's variables.
    public let reducedCosts: [Double]
    /// c^T x.
    public let objectiveValue: Double
    /// b^T y (equal to c^T x up to ``relativeGap``).
    public let dualObjectiveValue: Double
    /// |c^T x - b^T y| / (1 + |b^T y|).
    public let relativeGap: Double
    /// ||A x - b|| / (1 + ||b||).
    public let primalResidual: Double
    /// ||A^T y + s - c|| / (1 + ||c||).
    public let dualResidual: Double
    /// Interior-point iterations taken.
    public let iterations: Int
}

@inline(__always) private func norm(_ v: [Double]) -> Double { dot(v, v).squareRoot() }
