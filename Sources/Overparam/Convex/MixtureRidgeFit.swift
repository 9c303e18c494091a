import Foundation

/// The convex problem behind one layer of ``FeatureDistributionInterpolation``: weights w(k) on the neurons k of a
/// weighted feature set (neuron k carries mass q_k >= 0, sum_k q_k = 1, the discrete measure rho^(l-1)), fitted so
/// that the pre-activation g~(x) = sum_k q_k w(k) f_k(x) (seed 002 eq. 1 written against the measure rho^(l-1):
/// g^(l) = E_{k ~ rho^(l-1)} [w(k) f^(l-1)_k]) reproduces given targets g on n data points:
///
///     minimize_w  (1/n) sum_i ( sum_k q_k w(k) f_k(x_i) - g(x_i) )^2  +  lambda sum_k q_k w(k)^2 .
///
/// The penalty is the L^2(rho^(l-1)) norm of w (weight decay under the mixture measure). The problem is a strictly
/// convex quadratic (for lambda > 0); with v_k = sqrt(q_k) w(k) and the design A_ik = sqrt(q_k) f_k(x_i) it is ridge
/// regression, solved through the normal equations
///
///     (A^T A / n + lambda I) v = A^T g / n          (one Cholesky factorization, LAPACK `dpotrf`/`dpotrs`,
///                                                     shared by every target column),
///
/// and w(k) = v_k / sqrt(q_k). Neurons of zero mass do not enter g~ and get w = 0. The ridge lambda is
/// `relativeRidge * tr(A^T A / n)` = `relativeRidge * sum_k q_k (1/n) sum_i f_k(x_i)^2`, so it is relative to the
/// mean square of the measure's features.
///
/// Residual bound (used by the tests and the landscape tolerance): for any exact representation w_ref of a target
/// (sum_k q_k w_ref(k) f_k = g on the data), the optimum's objective is at most the objective at w_ref, so
///
///     (1/n) ||g~ - g||^2  <=  lambda sum_k q_k w_ref(k)^2 .
public struct MixtureRidgeFit: Sendable {
    /// w(k) for every neuron k (rows) and target column (cols): the weights as functions on rho^(l-1).
    public let weights: Matrix
    /// The fitted pre-activations g~ (n x targets).
    public let fitted: Matrix
    /// (1/n) sum_i (g~ - g)^2 per target column.
    public let meanSquaredResiduals: [Double]
    /// The ridge lambda used.
    public let ridge: Double

    /// Fit every column of `targets` (n x T) on `features` (n x p) with masses `masses` (p, >= 0, summing to 1).
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` when the sizes disagree, ``OverparamError/invalidArgument(name:problem:)``
    ///   for negative masses, masses that do not sum to 1, or a negative ridge, ``OverparamError/nonFinite(_:)`` for non-finite
    ///   data, ``OverparamError/singular(_:)`` when the ridge is 0 and the active features are collinear.
    public init(features f: Matrix, masses q: [Double], targets g: Matrix, relativeRidge: Double) throws {
        guard f.rows == g.rows, f.rows > 0 else { throw OverparamError.shapeMismatch("\(f.rows) feature rows vs \(g.rows) target rows (need n >= 1)") }
        guard q.count == f.cols else { throw OverparamError.shapeMismatch("\(q.count) masses for \(f.cols) features") }
        guard q.allSatisfy({ $0 >= 0 && $0.isFinite }), abs(q.reduce(0, +) - 1) <= 1e-9 else {
            throw OverparamError.invalidArgument(name: "masses", problem: "need non-negative masses summing to 1 (sum \(q.reduce(0, +)))")
        }
        guard relativeRidge >= 0, relativeRidge.isFinite else {
            throw OverparamError.invalidArgument(name: "relativeRidge", problem: "\(relativeRidge) must be finite and >= 0")
        }
        guard f.isFinite, g.isFinite else { throw OverparamError.nonFinite("features or targets of the mixture fit") }
        let n = f.rows, active = (0..<q.count).filter { q[$0] > 0 }, p = active.count
        let scale = active.map { q[$0].squareRoot() }
        var a = Matrix(rows: n, cols: p)
        for i in 0..<n { for (c, k) in active.enumerated() { a[i, c] = scale[c] * f[i, k] } }
        let at = a.transposed
        var k = at.gram(alpha: 1 / Double(n))
        let lambda = relativeRidge * k.trace
        k.addToDiagonal(lambda)
        let v = try CholeskyFactorization(k).solve(Matrix.product(at, .none, g, .none, alpha: 1 / Double(n)))
        var w = Matrix(rows: q.count, cols: g.cols)
        for (c, kk) in active.enumerated() { for t in 0..<g.cols { w[kk, t] = v[c, t] / scale[c] } }
        let fit = Matrix.product(a, .none, v, .none)
        var msr = [Double](repeating: 0, count: g.cols)
        for i in 0..<n { for t in 0..<g.cols { let r = fit[i, t] - g[i, t]; msr[t] += r * r } }
        weights = w
        fitted = fit
        meanSquaredResiduals = msr.map { $0 / Double(n) }
        ridge = lambda
    }
}
