import Foundation

/// When to read off a trajectory of kernel gradient descent.
public enum TrainingTime: Sendable, Hashable, CustomStringConvertible {
    /// Continuous gradient flow at time t (t >= 0).
    case flow(Double)
    /// The end of gradient flow, t = infinity.
    case infinity
    /// `k` steps of discrete gradient descent.
    case steps(Int)

    public init(parsing s: String) throws {
        let t = s.lowercased()
        if t == "inf" || t == "infinity" { self = .infinity; return }
        if let v = Double(t), v >= 0, v.isFinite { self = .flow(v); return }
        throw OverparamError.invalidArgument(name: "--time", problem: "'\(s)' is not a time; use a number >= 0 or inf")
    }

    public var description: String {
        switch self { case let .flow(t): return "t=\(t)"; case .infinity: return "t=inf"; case let .steps(k): return "\(k) steps" }
    }
}

/// Mean-squared-error training under a fixed kernel, solved in closed form through one eigendecomposition.
///
/// With the loss (1/2n) sum_i ||f(x_i) - y_i||^2 and learning rate eta, function-space gradient flow under the
/// kernel Theta is df/dt = -(eta/n) Theta (f - y) (seed 004 eqs. 1.3.x and 2.1.x; seed 000 eq. 8;
/// Lee et al. 2019, the quantities of neural-tangents' `gradient_descent_mse`). With Theta~ = Theta + r I (the
/// diagonal regularizer) = V diag(lambda) V^T, the prediction at test points is
///
///     f_t(x*) = f_0(x*) + Theta(x*, X) V diag(D_t(lambda)) V^T (Y - f_0(X)),
///
/// with D_t(lambda) = (1 - e^{-eta lambda t / n}) / lambda for the flow, 1 / lambda at t = infinity, and
/// (1 - (1 - eta lambda / n)^k) / lambda after k discrete steps ((I - eta Theta/n)^k). All three stay finite as
/// lambda -> 0 (limits eta t / n and k eta / n). Training points use the regularized Theta~(X, X) for Theta(x*, X), so
/// they follow the gradient flow of the regularized kernel (f_t(X) = Y at t = infinity), as neural-tangents does.
/// neural-tangents divides by n k (its loss is a mean over all outputs); here k outputs share the kernel and the
/// rate is eta / n, the seeds' 1/(2n) convention.
public struct KernelGradientFlow: Sendable {
    public let eigen: SymmetricEigendecomposition
    public let learningRate: Double
    public let diagonalRegularizer: Double
    /// The n of the loss's 1/(2n) (the number of training examples).
    public let normalization: Double
    /// The training kernel without the regularizer.
    public let trainKernel: Matrix

    /// - Parameters:
    ///   - trainKernel: Theta(X, X), symmetric (n k x n k for coupled outputs, or n x n shared by all outputs).
    ///   - normalization: n; defaults to the kernel's size.
    public init(trainKernel: Matrix, learningRate: Double = 1, diagonalRegularizer: Double = 0, normalization: Double? = nil) throws {
        guard trainKernel.isSquare else { throw OverparamError.shapeMismatch("train kernel must be square, got \(trainKernel.rows)x\(trainKernel.cols)") }
        guard learningRate > 0, learningRate.isFinite else { throw OverparamError.invalidArgument(name: "--learning-rate", problem: "must be > 0 (got \(learningRate))") }
        guard diagonalRegularizer >= 0, diagonalRegularizer.isFinite else { throw OverparamError.invalidArgument(name: "--diag-reg", problem: "must be >= 0 (got \(diagonalRegularizer))") }
        var k = trainKernel
        k.addToDiagonal(diagonalRegularizer)
        eigen = try SymmetricEigendecomposition(consume k)
        self.trainKernel = trainKernel
        self.learningRate = learningRate
        self.diagonalRegularizer = diagonalRegularizer
        self.normalization = normalization ?? Double(trainKernel.rows)
    }

    /// D_t(lambda) for every eigenvalue. Throws at t = infinity when the regularized kernel is singular.
    public func transfer(_ time: TrainingTime) throws -> [Double] {
        let c = learningRate / normalization
        let scale = max(eigen.values.last ?? 1, 1e-300)
        return try eigen.values.map { lam in
            switch time {
            case let .flow(t):
                let x = c * lam * t
                return abs(lam) < 1e-300 ? c * t : -Foundation.expm1(-x) / lam
            case .infinity:
                guard lam > 1e-13 * scale else {
                    throw OverparamError.singular("the training kernel is singular (lambda_min = \(lam)); use a finite --time or add --diag-reg")
                }
                return 1 / lam
            case let .steps(k):
                let x = c * lam
                if abs(lam) < 1e-300 { return Double(k) * c }
                if x < 1 { return -Foundation.expm1(Double(k) * Foundation.log1p(-x)) / lam }
                return (1 - Foundation.pow(1 - x, Double(k))) / lam
            }
        }
    }

    /// P = Theta(x*, X) V, the test-train kernel in the eigenbasis (shared by every time).
    /// `testTrainKernel == nil` means the training points (with the regularized kernel).
    public func projected(testTrainKernel: Matrix? = nil) throws -> Matrix {
        var kx: Matrix
        if let testTrainKernel { kx = testTrainKernel } else { kx = trainKernel; kx.addToDiagonal(diagonalRegularizer) }
        guard kx.cols == eigen.values.count else {
            throw OverparamError.shapeMismatch("test-train kernel has \(kx.cols) columns, the training set has \(eigen.values.count) points")
        }
        return Matrix.product(kx, .none, eigen.eigenvectorRows, .transposed)
    }

    /// The linear operator A_t = Theta(x*, X) V diag(D_t) V^T, so that f_t(x*) - f_0(x*) = A_t (Y - f_0(X)).
    /// `testTrainKernel == nil` means the training points.
    public func operatorAt(_ time: TrainingTime, testTrainKernel: Matrix? = nil) throws -> Matrix {
        try operatorAt(time, projected: try projected(testTrainKernel: testTrainKernel))
    }

    func operatorAt(_ time: TrainingTime, projected: Matrix) throws -> Matrix {
        let d = try transfer(time)
        var p = projected
        let n = d.count
        p.storage.withUnsafeMutableBufferPointer { pp in
            for i in 0..<p.rows { for k in 0..<n { pp[i * n + k] *= d[k] } }
        }
        return Matrix.product(p, .none, eigen.eigenvectorRows, .none)
    }

    /// Mean and covariance over initializations at several times, sharing the projection P = Theta(x*, X) V:
    /// per time one GEMM for A_t and one for A_t K. This is neural-tangents' `gradient_descent_mse_ensemble`
    /// (with our eta / n time convention).
    public func ensemble(at times: [TrainingTime], targets y: Matrix, testTrainKernel: Matrix? = nil, nngpTrainTrain: Matrix,
                         nngpTestTrain: Matrix? = nil, nngpTestTest: Matrix? = nil) throws -> [(mean: Matrix, covariance: Matrix)] {
        guard y.rows == eigen.values.count else { throw OverparamError.shapeMismatch("targets have \(y.rows) rows, the training kernel is \(eigen.values.count)x\(eigen.values.count)") }
        let p = try projected(testTrainKernel: testTrainKernel)
        return try times.map { t in
            let a = try operatorAt(t, projected: p)
            return (Matrix.product(a, .none, y, .none),
                    try covariance(operator: a, nngpTrainTrain: nngpTrainTrain, nngpTestTrain: nngpTestTrain, nngpTestTest: nngpTestTest))
        }
    }

    /// Mean prediction f_t(x*) = f_0(x*) + A_t (Y - f_0(X)). Targets Y are n x c (c outputs sharing the kernel);
    /// `f0Train`/`f0Test` default to zero (the infinite-width ensemble mean).
    public func predict(_ time: TrainingTime, targets y: Matrix, testTrainKernel: Matrix? = nil,
                        f0Train: Matrix? = nil, f0Test: Matrix? = nil) throws -> Matrix {
        guard y.rows == eigen.values.count else { throw OverparamError.shapeMismatch("targets have \(y.rows) rows, the training kernel is \(eigen.values.count)x\(eigen.values.count)") }
        let a = try operatorAt(time, testTrainKernel: testTrainKernel)
        var residual = y
        if let f0Train { residual.add(f0Train, scaledBy: -1) }
        var out = Matrix.product(a, .none, residual, .none)
        let base = testTrainKernel == nil ? f0Train : f0Test
        if let base { out.add(base, scaledBy: 1) }
        return out
    }

    /// Covariance over random initializations of the infinite-width network's prediction (Lee et al. 2019 eq. 16):
    ///
    ///     Sigma_t(x*, x*) = K(x*, x*) + A_t K(X, X) A_t^T - A_t K(X, x*) - K(x*, X) A_t^T,
    ///
    /// where K is the NNGP (the law of f_0) and A_t the operator above.
    public func covariance(_ time: TrainingTime, testTrainKernel: Matrix? = nil, nngpTrainTrain: Matrix,
                           nngpTestTrain: Matrix? = nil, nngpTestTest: Matrix? = nil) throws -> Matrix {
        try covariance(operator: try operatorAt(time, testTrainKernel: testTrainKernel), nngpTrainTrain: nngpTrainTrain,
                       nngpTestTrain: nngpTestTrain, nngpTestTest: nngpTestTest)
    }

    func covariance(operator a: Matrix, nngpTrainTrain: Matrix, nngpTestTrain: Matrix?, nngpTestTest: Matrix?) throws -> Matrix {
        let kxs = nngpTestTrain ?? nngpTrainTrain
        let kss = nngpTestTest ?? nngpTrainTrain
        guard kxs.rows == a.rows, kss.rows == a.rows, nngpTrainTrain.rows == a.cols else {
            throw OverparamError.shapeMismatch("NNGP blocks do not match the NTK blocks")
        }
        let ak = Matrix.product(a, .none, nngpTrainTrain, .none)           // m x n
        var cov = kss
        Matrix.gemm(ak, .none, a, .transposed, alpha: 1, beta: 1, into: &cov)
        Matrix.gemm(a, .none, kxs, .transposed, alpha: -1, beta: 1, into: &cov)
        Matrix.gemm(kxs, .none, a, .transposed, alpha: -1, beta: 1, into: &cov)
        return cov.symmetricPart
    }
}
