import Foundation

/// The hard-margin kernel SVM without bias: the minimum-RKHS-norm separator of seed 003 section 5.3, Theorem 4 (the
/// limit of output-layer-only training with the logistic loss, up to normalization),
///
///     min_f ||f||_H^2   s.t.   y_i f(x_i) >= 1,  i = 1..n,
///
/// solved through its dual, a nonnegative quadratic program (no bias, hence no equality constraint):
///
///     max_{alpha >= 0}  sum_i alpha_i - (1/2) alpha^T Q alpha,   Q_ij = y_i y_j k(x_i, x_j),
///
/// with f(x) = sum_i alpha_i y_i k(x_i, x). At the optimum ||f||_H^2 = alpha^T Q alpha = sum_i alpha_i (KKT) and the
/// max margin max_{||f||_H <= 1} min_i y_i f(x_i) equals 1/||f||_H.
///
/// Solver: a primal-dual interior-point method (Mehrotra predictor-corrector) on the dual QP; each iteration factors
/// Q + diag(z/alpha) with the package's Cholesky. Q is scaled by its largest diagonal entry first. Once the duality gap is
/// below sqrt(tolerance), the estimated support set S = {alpha_i > z_i} is polished by solving Q_SS alpha_S = 1 (Cholesky)
/// and kept when it certifies a smaller gap.
///
/// Stopping rule: the certified relative duality gap. For any alpha >= 0 with gamma = min_i (Q alpha)_i > 0, the predictor
/// f_alpha / gamma is primal feasible and t alpha (t optimal) dual feasible, so
///
///     D = (1^T alpha)^2 / (2 alpha^T Q alpha)  <=  min (1/2)||f||^2  <=  P = alpha^T Q alpha / (2 gamma^2),
///
/// and the margin gamma* lies in [gamma / sqrt(alpha^T Q alpha), sqrt(alpha^T Q alpha) / 1^T alpha] (``margin``,
/// ``marginUpperBound``). The solver stops when (P - D)/P = 1 - (margin / marginUpperBound)^2 <= `tolerance`
/// (default 1e-8), and reports that gap. The returned alpha is rescaled so that min_i y_i f(x_i) = 1 exactly; then
/// ``margin`` = 1/||f||_H.
///
/// Non-separable data (the dual is unbounded; e.g. a repeated input with both labels, or random labels with n above the
/// rank of a random-feature Gram matrix): throws once the certified upper bound on the margin falls below
/// 1e-9 max_i sqrt(k(x_i, x_i)) (the margin of a single point).
public struct KernelMaxMargin: Sendable {
    /// y_i in {-1, +1}.
    public let labels: [Double]
    /// alpha_i >= 0, scaled so that min_i y_i f(x_i) = 1 (tiny positive values off the support set are interior-point
    /// residue unless the polish succeeded, when they are exactly 0).
    public let alpha: [Double]
    /// ||f||_H = sqrt(alpha^T Q alpha).
    public let rkhsNorm: Double
    /// 1/||f||_H: the margin achieved by f / ||f||_H (a certified lower bound on the max margin).
    public let margin: Double
    /// sqrt(alpha^T Q alpha) / 1^T alpha: a certified upper bound on the max margin.
    public let marginUpperBound: Double
    /// (P - D)/P, the certified relative duality gap at return.
    public let relativeDualityGap: Double
    /// f(x_i) on the training inputs.
    public let trainingOutputs: [Double]
    /// Interior-point iterations taken.
    public let iterations: Int
    /// True when the final alpha came from the support-set polish.
    public let polished: Bool
    /// The kernel and training inputs when built from inputs (needed by ``predict(_:)``).
    public let kernel: ArcCosineSphereKernel?
    public let trainingInputs: Matrix?

    /// The max-margin separator for the arc-cosine sphere kernel k(x, x') = E[(eta.x)_+ (eta.x')_+] of the rows of `inputs`
    /// (eta uniform on S^{D-1}, D = inputs.cols unless `kernel` is given).
    public init(inputs: Matrix, labels: [Double], kernel: ArcCosineSphereKernel? = nil,
                tolerance: Double = 1e-8, maxIterations: Int = 200) throws {
        let k = try kernel ?? ArcCosineSphereKernel(inputDimension: inputs.cols)
        guard inputs.rows == labels.count else {
            throw OverparamError.shapeMismatch("\(inputs.rows) inputs but \(labels.count) labels")
        }
        let gram = try k.gram(inputs)
        try self.init(gram: gram, labels: labels, tolerance: tolerance, maxIterations: maxIterations,
                      kernel: k, trainingInputs: inputs)
    }

    /// The max-margin separator for any positive semidefinite Gram matrix K_ij = k(x_i, x_j).
    public init(gram: Matrix, labels: [Double], tolerance: Double = 1e-8, maxIterations: Int = 200) throws {
        try self.init(gram: gram, labels: labels, tolerance: tolerance, maxIterations: maxIterations, kernel: nil, trainingInputs: nil)
    }

    private init(gram: Matrix, labels: [Double], tolerance: Double, maxIterations: Int,
                 kernel: ArcCosineSphereKernel?, trainingInputs: Matrix?) throws {
        let n = labels.count
        guard gram.rows == gram.cols else { throw OverparamError.shapeMismatch("Gram matrix is \(gram.rows)x\(gram.cols), expected square") }
        guard gram.rows == n else { throw OverparamError.shapeMismatch("Gram matrix has \(gram.rows) rows but there are \(n) labels") }
        guard n >= 1 else { throw OverparamError.invalidArgument(name: "labels", problem: "no training points") }
        guard gram.isFinite else { throw OverparamError.nonFinite("Gram matrix of the max-margin problem contains NaN or Inf") }
        guard labels.allSatisfy({ $0 == 1 || $0 == -1 }) else {
            throw OverparamError.invalidArgument(name: "labels", problem: "labels must be +1 or -1")
        }
        guard tolerance > 0, tolerance < 1 else {
            throw OverparamError.invalidArgument(name: "tolerance", problem: "must be in (0, 1), got \(tolerance)")
        }
        let scale = gram.diagonal.max() ?? 0
        guard scale > 0, gram.diagonal.allSatisfy({ $0 >= 0 }) else {
            throw OverparamError.invalidArgument(name: "gram", problem: "Gram matrix needs a positive, nonnegative diagonal (k(x_i, x_i) > 0)")
        }
        var asymmetry = 0.0
        for i in 0..<n { for j in 0..<i { asymmetry = max(asymmetry, abs(gram[i, j] - gram[j, i])) } }
        guard asymmetry <= 1e-10 * scale else {
            throw OverparamError.invalidArgument(name: "gram", problem: "Gram matrix is not symmetric (max |K_ij - K_ji| = \(asymmetry))")
        }

        // Q' = Y K Y / max diag K.
        var q = gram
        for i in 0..<n { for j in 0..<n { q[i, j] *= labels[i] * labels[j] / scale } }
        let solution = try Self.solveDual(q, tolerance: tolerance, maxIterations: maxIterations)

        // Rescale: alpha = alpha' / (scale gamma') gives min_i y_i f(x_i) = 1.
        let g = q.apply(solution.alpha)
        let gamma = g.min()!
        let quadratic = dot(solution.alpha, g)
        let sumAlpha = solution.alpha.reduce(0, +)
        self.labels = labels
        alpha = solution.alpha.map { $0 / (scale * gamma) }
        rkhsNorm = (quadratic / scale).squareRoot() / gamma
        margin = 1 / rkhsNorm
        marginUpperBound = quadratic.squareRoot() / sumAlpha * scale.squareRoot()
        relativeDualityGap = max(0, 1 - (margin / marginUpperBound) * (margin / marginUpperBound))
        trainingOutputs = (0..<n).map { labels[$0] * g[$0] / gamma }
        iterations = solution.iterations
        polished = solution.polished
        self.kernel = kernel
        self.trainingInputs = trainingInputs
    }

    /// c_i = alpha_i y_i: f(x) = sum_i c_i k(x_i, x).
    public var dualCoefficients: [Double] { zip(alpha, labels).map { $0 * $1 } }

    /// Indices with alpha_i > 1e-6 max alpha.
    public var supportVectors: [Int] {
        let threshold = 1e-6 * (alpha.max() ?? 0)
        return alpha.indices.filter { alpha[$0] > threshold }
    }

    /// f(x) for cross-kernel rows: crossKernel_ti = k(x_t, x_i) (n_test x n_train).
    public func decisionValues(crossKernel: Matrix) throws -> [Double] {
        guard crossKernel.cols == alpha.count else {
            throw OverparamError.shapeMismatch("cross-kernel has \(crossKernel.cols) columns but there are \(alpha.count) training points")
        }
        return crossKernel.apply(dualCoefficients)
    }

    /// f(x) at the rows of `x` (needs the model built from inputs).
    public func predict(_ x: Matrix) throws -> [Double] {
        guard let kernel, let trainingInputs else {
            throw OverparamError.invalidArgument(name: "predict", problem: "model was built from a Gram matrix; use decisionValues(crossKernel:)")
        }
        return try decisionValues(crossKernel: kernel.cross(x, trainingInputs))
    }

    /// The normalized predictor f(x) / ||f||_H (its margin on the training set is ``margin``).
    public func normalizedPredict(_ x: Matrix) throws -> [Double] {
        try predict(x).map { $0 / rkhsNorm }
    }

    // MARK: - The interior-point solver

    /// min (1/2) a^T Q a - 1^T a over a >= 0 (Q scaled to unit max diagonal), stopped on the certified gap.
    static func solveDual(_ q: Matrix, tolerance: Double, maxIterations: Int) throws -> (alpha: [Double], iterations: Int, polished: Bool) {
        let n = q.rows
        var a = [Double](repeating: 1, count: n)
        var z = [Double](repeating: 1, count: n)

        /// The certified relative gap of a (infinity if some constraint is violated by f_a) and the margin upper bound.
        func certificate(_ a: [Double]) -> (gap: Double, upper: Double) {
            let g = q.apply(a)
            let quadratic = dot(a, g)
            let sum = a.reduce(0, +)
            let upper = quadratic.squareRoot() / sum
            guard let gamma = g.min(), gamma > 0, quadratic > 0 else { return (.infinity, upper) }
            let ratio = gamma / quadratic.squareRoot() / upper
            return (max(0, 1 - ratio * ratio), upper)
        }

        for iteration in 0..<maxIterations {
            let (gap, upper) = certificate(a)
            if gap <= tolerance { return (a, iteration, false) }
            if upper < 1e-9 {
                throw OverparamError.invalidArgument(name: "labels", problem: "data are not separable in the RKHS (certified margin < 1e-9 max sqrt k(x_i, x_i)); e.g. a repeated input with both labels or a low-rank Gram matrix")
            }
            let g = q.apply(a)
            let mu = dot(a, z) / Double(n)

            // Polish: solve Q_SS a_S = 1 on the estimated support set.
            if gap < tolerance.squareRoot() {
                let support = (0..<n).filter { a[$0] > z[$0] }
                if !support.isEmpty, let factor = try? CholeskyFactorization(q.rows(at: support).columns(support)) {
                    let aS = factor.solve(Matrix(column: [Double](repeating: 1, count: support.count))).storage
                    if aS.allSatisfy({ $0 > 0 && $0.isFinite }) {
                        var candidate = [Double](repeating: 0, count: n)
                        for (k, i) in support.enumerated() { candidate[i] = aS[k] }
                        let polishedGap = certificate(candidate).gap
                        if polishedGap <= tolerance { return (candidate, iteration, true) }
                    }
                }
            }

            // Newton system (Q + diag(z/a)) da = -r + rc/a with r = Q a - 1 - z, dz = (rc - z da)/a.
            var h = q
            for i in 0..<n { h[i, i] += z[i] / a[i] }
            let factor = try LinearProgram.regularizedCholesky(h)
            var r = [Double](repeating: 0, count: n)
            for i in 0..<n { r[i] = g[i] - 1 - z[i] }
            func direction(_ rc: [Double]) -> (da: [Double], dz: [Double]) {
                var rhs = [Double](repeating: 0, count: n)
                for i in 0..<n { rhs[i] = -r[i] + rc[i] / a[i] }
                let da = factor.solve(Matrix(column: rhs)).storage
                var dz = [Double](repeating: 0, count: n)
                for i in 0..<n { dz[i] = (rc[i] - z[i] * da[i]) / a[i] }
                return (da, dz)
            }
            var rc = (0..<n).map { -a[$0] * z[$0] }
            let aff = direction(rc)
            let alphaAff = min(1, LinearProgram.maxStep(a, aff.da), LinearProgram.maxStep(z, aff.dz))
            var muAff = 0.0
            for i in 0..<n { muAff += (a[i] + alphaAff * aff.da[i]) * (z[i] + alphaAff * aff.dz[i]) }
            muAff /= Double(n)
            let sigma = min(1, max(0, pow(muAff / mu, 3)))
            for i in 0..<n { rc[i] = sigma * mu - a[i] * z[i] - aff.da[i] * aff.dz[i] }
            let step = direction(rc)
            let alphaMax = min(LinearProgram.maxStep(a, step.da), LinearProgram.maxStep(z, step.dz))
            let alpha = min(1, 0.995 * alphaMax)
            for i in 0..<n { a[i] += alpha * step.da[i]; z[i] += alpha * step.dz[i] }
            guard a.allSatisfy({ $0.isFinite }), z.allSatisfy({ $0.isFinite }) else {
                throw OverparamError.diverged("kernel max-margin: interior-point iterate became non-finite at iteration \(iteration)")
            }
        }
        let (gap, _) = certificate(a)
        throw OverparamError.diverged("kernel max-margin: certified duality gap \(gap) above tolerance \(tolerance) after \(maxIterations) interior-point iterations")
    }
}
