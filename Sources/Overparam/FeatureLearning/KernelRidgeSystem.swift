import Foundation

/// The dual of ridge regression with an unpenalized output bias, shared by ``OutputLayer/ridge(features:targets:penalty:fitBias:solver:)``
/// (dual branch) and ``TangentModel/kernelRidge(featureSet:inputs:targets:penalty:)``.
///
/// For features Phi (n x p), the exact minimizer of (1/2n) ||Phi W + 1 b^T - Y||_F^2 + (lambda/2) ||W||_F^2 is
/// W = Phi^T alpha with
///
///     (K + n lambda I) alpha + 1 b^T = Y,   1^T alpha = 0,     K = Phi Phi^T
///
/// (stationarity in W gives W = Phi^T alpha with alpha = -(residual) / (n lambda); stationarity in b gives
/// 1^T residual = 0). With M = K + n lambda I = L L^T (Cholesky): b_c = 1^T M^{-1} y_c / 1^T M^{-1} 1 and
/// alpha = M^{-1} (Y - 1 b^T). At lambda = 0 this is the minimum-norm interpolant with a free bias (K positive
/// definite). Without the bias: M alpha = Y.
enum KernelRidgeSystem {
    static func solve(gram k: Matrix, targets y: Matrix, penalty lambda: Double, fitBias: Bool) throws -> (alpha: Matrix, bias: [Double]) {
        let n = k.rows, c = y.cols
        var m = k
        m.addToDiagonal(Double(n) * lambda)
        let chol: CholeskyFactorization
        do { chol = try CholeskyFactorization(m) } catch {
            throw OverparamError.singular("K + n lambda I (\(n)x\(n)) is not positive definite at penalty \(lambda); increase the penalty")
        }
        guard fitBias else { return (chol.solve(y), [Double](repeating: 0, count: c)) }
        // Solve for [Y, 1] at once.
        var rhs = Matrix(rows: n, cols: c + 1)
        for i in 0..<n {
            for j in 0..<c { rhs.storage[i * (c + 1) + j] = y.storage[i * c + j] }
            rhs.storage[i * (c + 1) + c] = 1
        }
        let z = chol.solve(rhs)
        var sums = z.columnSums
        let denominator = sums[c]
        guard denominator > 0, denominator.isFinite else { throw OverparamError.singular("1^T (K + n lambda I)^{-1} 1 = \(denominator); increase the penalty") }
        let b = (0..<c).map { sums[$0] / denominator }
        sums.removeAll()
        var alpha = Matrix(rows: n, cols: c)
        for i in 0..<n {
            let ones = z.storage[i * (c + 1) + c]
            for j in 0..<c { alpha.storage[i * c + j] = z.storage[i * (c + 1) + j] - ones * b[j] }
        }
        return (alpha, b)
    }
}
