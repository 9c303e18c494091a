import Foundation

/// The kernel of the output-layer-only regime of seed 003 (section 5.3, Theorem 4): the infinite-width limit of
/// the random-feature kernel k-hat(x, x') = (1/m) sum_j (theta1_j . x)_+ (theta1_j . x')_+ with theta1_j uniform on the
/// sphere,
///
///     k(x, x') = E_eta[(eta . x)_+ (eta . x')_+],   eta uniform on S^{D-1} in R^D,
///              = |x| |x'| (sin t + (pi - t) cos t) / (2 pi D),   t = angle(x, x') in [0, pi],
///
/// where D is the length of the input vectors (with the bias coordinate of seed 003's classification data, D = d + 1).
///
/// Derivation of the normalization. Write a standard Gaussian g ~ N(0, I_D) as g = |g| eta: eta is uniform on the sphere
/// and independent of |g| (rotation invariance), and the ReLU is positively 1-homogeneous, so
/// (g . x)_+ (g . x')_+ = |g|^2 (eta . x)_+ (eta . x')_+ and
///
///     E_g[(g . x)_+ (g . x')_+] = E|g|^2 * E_eta[(eta . x)_+ (eta . x')_+] = D * k(x, x').
///
/// The Gaussian expectation is Cho and Saul's degree-1 arc-cosine kernel |x| |x'| (sin t + (pi - t) cos t) / (2 pi)
/// (the ReLU dual activation, ``DualActivation/abRelu(_:_:_:a:b:)`` with a = 0, b = 1), hence the 1/D: the sphere
/// kernel is the Gaussian one divided by the input dimension (SEED-NOTES sec. 1, "a 1/d factor vs Gaussian weights").
/// Check on the diagonal: k(x, x) = E[(eta . x)^2] / 2 = |x|^2 / (2 D). The Monte-Carlo estimator
/// ``monteCarlo(_:_:samples:seed:)`` samples eta directly and is compared with the closed form in the tests.
///
/// The RKHS of k is the space of f(x) = int (eta . x)_+ a(eta) dtau(eta) with ||f||^2 = inf int a^2 dtau
/// (seed 003 sec. 5.4, tau the uniform probability measure); ``KernelMaxMargin`` finds its max-margin separator.
public struct ArcCosineSphereKernel: Sendable, Equatable {
    /// D: the length of the input vectors (eta is uniform on S^{D-1}).
    public let inputDimension: Int

    public init(inputDimension: Int) throws {
        guard inputDimension >= 1 else {
            throw OverparamError.invalidArgument(name: "inputDimension", problem: "must be at least 1, got \(inputDimension)")
        }
        self.inputDimension = inputDimension
    }

    /// k from |x|^2, |x'|^2 and x . x' (the closed form; 0 when either input is 0).
    @inlinable @inline(__always)
    public func value(squaredNorm q11: Double, _ q22: Double, dot q12: Double) -> Double {
        DualActivation.abRelu(q11, q22, q12, a: 0, b: 1).x / Double(inputDimension)
    }

    /// k(x, x') for two vectors of length D.
    public func callAsFunction(_ x: [Double], _ xPrime: [Double]) throws -> Double {
        guard x.count == inputDimension, xPrime.count == inputDimension else {
            throw OverparamError.shapeMismatch("kernel inputs have lengths \(x.count) and \(xPrime.count), expected \(inputDimension)")
        }
        guard (x + xPrime).allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("kernel input contains NaN or Inf") }
        return value(squaredNorm: dot(x, x), dot(xPrime, xPrime), dot: dot(x, xPrime))
    }

    /// The Gram matrix K_ij = k(x_i, x_j) of the rows of `x` (n x D): x x^T by BLAS `dsyrk`, then the closed form entry-wise.
    public func gram(_ x: Matrix) throws -> Matrix {
        try validate(x, "inputs")
        var k = x.gram()
        let norms = k.diagonal
        apply(&k, rowSquaredNorms: norms, columnSquaredNorms: norms)
        return k
    }

    /// The cross-kernel K_ij = k(x1_i, x2_j) (n1 x n2): x1 x2^T by BLAS `dgemm`, then the closed form entry-wise.
    public func cross(_ x1: Matrix, _ x2: Matrix) throws -> Matrix {
        try validate(x1, "first inputs")
        try validate(x2, "second inputs")
        var k = Matrix.product(x1, .none, x2, .transposed)
        apply(&k, rowSquaredNorms: Self.rowSquaredNorms(x1), columnSquaredNorms: Self.rowSquaredNorms(x2))
        return k
    }

    /// The Monte-Carlo estimate (1/S) sum_s (eta_s . x)_+ (eta_s . x')_+ with eta_s uniform on the sphere
    /// (a normalized Gaussian vector), and its standard error (sample std / sqrt(S)).
    public func monteCarlo(_ x: [Double], _ xPrime: [Double], samples: Int, seed: UInt64) throws -> (mean: Double, standardError: Double) {
        guard x.count == inputDimension, xPrime.count == inputDimension else {
            throw OverparamError.shapeMismatch("kernel inputs have lengths \(x.count) and \(xPrime.count), expected \(inputDimension)")
        }
        guard samples >= 2 else { throw OverparamError.invalidArgument(name: "samples", problem: "needs at least 2 samples for a standard error") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x4152_4353)
        var sum = 0.0, sum2 = 0.0
        for _ in 0..<samples {
            let eta = rng.onSphere(dimension: inputDimension)
            let v = Swift.max(0, dot(eta, x)) * Swift.max(0, dot(eta, xPrime))
            sum += v; sum2 += v * v
        }
        let s = Double(samples)
        let mean = sum / s
        let variance = Swift.max(0, (sum2 - s * mean * mean) / (s - 1))
        return (mean, (variance / s).squareRoot())
    }

    // MARK: - Helpers

    func validate(_ x: Matrix, _ what: String) throws {
        guard x.cols == inputDimension else {
            throw OverparamError.shapeMismatch("\(what) have \(x.cols) columns, the kernel's input dimension is \(inputDimension)")
        }
        guard x.isFinite else { throw OverparamError.nonFinite("\(what) of the arc-cosine kernel contain NaN or Inf") }
    }

    static func rowSquaredNorms(_ x: Matrix) -> [Double] {
        (0..<x.rows).map { i in x.storage.withUnsafeBufferPointer { p in
            var s = 0.0
            for j in 0..<x.cols { s += p[i * x.cols + j] * p[i * x.cols + j] }
            return s
        } }
    }

    /// Replace the dot products in `k` by kernel values, rows split across cores.
    private func apply(_ k: inout Matrix, rowSquaredNorms a: [Double], columnSquaredNorms b: [Double]) {
        let cols = k.cols
        let inverseD = 1 / Double(inputDimension)
        k.storage.withUnsafeMutableBufferPointer { kp in
            nonisolated(unsafe) let p = kp.baseAddress!
            Parallel.forEachChunk(k.rows, minChunk: Swift.max(1, 16384 / Swift.max(1, cols))) { rows in
                for i in rows {
                    for j in 0..<cols {
                        p[i * cols + j] = DualActivation.abRelu(a[i], b[j], p[i * cols + j], a: 0, b: 1).x * inverseD
                    }
                }
            }
        }
    }
}
