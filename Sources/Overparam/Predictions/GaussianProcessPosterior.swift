import Foundation

/// Gaussian-process regression: the posterior of f ~ GP(0, K) given y = f(X) + noise, noise ~ N(0, s^2 I):
///
///     mean(x*) = K(x*, X) (K + s^2 I)^{-1} Y,    cov(x*) = K(x*, x*) - K(x*, X) (K + s^2 I)^{-1} K(X, x*).
///
/// With K the NNGP this is exact Bayesian inference in an infinitely wide network; the mean is also kernel ridge
/// regression. Seed 000 eqs. 6-7 (random-features ridge regression, loss (1/2n) sum (f - y)^2 + (lambda/2) ||f||^2)
/// give (K + n lambda I)^{-1}: use `noiseVariance = n lambda` (see ``kernelRidge(trainKernel:lambda:)``).
public struct GaussianProcessPosterior: Sendable {
    public let cholesky: CholeskyFactorization
    public let noiseVariance: Double

    public init(trainKernel: Matrix, noiseVariance: Double) throws {
        guard noiseVariance >= 0, noiseVariance.isFinite else { throw OverparamError.invalidArgument(name: "--diag-reg", problem: "noise variance must be >= 0 (got \(noiseVariance))") }
        var k = trainKernel
        k.addToDiagonal(noiseVariance)
        cholesky = try CholeskyFactorization(k)
        self.noiseVariance = noiseVariance
    }

    /// Kernel ridge regression with the seed-000 convention (1/2n) sum (f - y)^2 + (lambda/2) ||f||_H^2.
    public static func kernelRidge(trainKernel: Matrix, lambda: Double) throws -> GaussianProcessPosterior {
        try GaussianProcessPosterior(trainKernel: trainKernel, noiseVariance: Double(trainKernel.rows) * lambda)
    }

    /// Posterior mean at points with kernel K(x*, X) (m x n) for targets Y (n x c).
    public func mean(testTrainKernel: Matrix, targets y: Matrix) -> Matrix {
        Matrix.product(testTrainKernel, .none, cholesky.solve(y), .none)
    }

    /// Posterior covariance K(x*, x*) - K(x*, X) (K + s^2 I)^{-1} K(X, x*).
    public func covariance(testTrainKernel: Matrix, testTestKernel: Matrix) -> Matrix {
        let sol = cholesky.solve(testTrainKernel.transposed)       // n x m
        var c = testTestKernel
        Matrix.gemm(testTrainKernel, .none, sol, .none, alpha: -1, beta: 1, into: &c)
        return c.symmetricPart
    }
}
