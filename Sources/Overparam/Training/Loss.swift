import Foundation

/// A training loss of network outputs F (n x k) against targets Y, with its gradient dL/dF.
public protocol Loss: Sendable {
    /// (L, dL/dF) for outputs and targets of the same number of rows.
    func evaluate(outputs: Matrix, targets: Matrix) throws -> (value: Double, gradient: Matrix)
    var name: String { get }
}

/// Mean squared error. `.halfMean` is the seeds' L = (1/2n) sum_i ||f(x_i) - y_i||^2 (seed 001 eq. 3, seed 004
/// eq. 1.3.x); `.mean` is (1/(n k)) sum (f - y)^2 (PyTorch's MSELoss).
public struct MeanSquaredError: Loss {
    public enum Convention: String, Sendable { case halfMean = "half-mean", mean }
    public var convention: Convention
    public init(_ convention: Convention = .halfMean) { self.convention = convention }
    public var name: String { "mse(\(convention.rawValue))" }

    public func evaluate(outputs f: Matrix, targets y: Matrix) throws -> (value: Double, gradient: Matrix) {
        guard f.rows == y.rows, f.cols == y.cols else { throw OverparamError.shapeMismatch("outputs \(f.rows)x\(f.cols) vs targets \(y.rows)x\(y.cols)") }
        var g = f - y
        let sq = g.storage.reduce(0) { $0 + $1 * $1 }
        switch convention {
        case .halfMean:
            let n = Double(max(1, f.rows))
            g.scale(by: 1 / n)
            return (0.5 * sq / n, g)
        case .mean:
            let m = Double(max(1, f.count))
            g.scale(by: 2 / m)
            return (sq / m, g)
        }
    }
}

/// Binary logistic loss (1/n) sum_i log(1 + exp(-y_i f(x_i))) with labels y in {-1, +1} (0 is read as -1).
public struct BinaryLogistic: Loss {
    public init() {}
    public var name: String { "logistic" }
    public func evaluate(outputs f: Matrix, targets y: Matrix) throws -> (value: Double, gradient: Matrix) {
        guard f.cols == 1, y.cols == 1, f.rows == y.rows else { throw OverparamError.shapeMismatch("logistic loss needs n x 1 outputs and labels") }
        let n = Double(max(1, f.rows))
        var g = Matrix(rows: f.rows, cols: 1)
        var v = 0.0
        for i in 0..<f.rows {
            let yi = y[i, 0] > 0 ? 1.0 : -1.0
            let m = yi * f[i, 0]
            // log(1 + e^{-m}) stably; derivative -y sigma(-m).
            v += m > 0 ? Foundation.log1p(Foundation.exp(-m)) : -m + Foundation.log1p(Foundation.exp(m))
            let s = m > 0 ? Foundation.exp(-m) / (1 + Foundation.exp(-m)) : 1 / (1 + Foundation.exp(m))
            g[i, 0] = -yi * s / n
        }
        return (v / n, g)
    }
}

/// Softmax cross-entropy (1/n) sum_i -log softmax(f(x_i))_{c_i} with one-hot (or probability) targets.
public struct SoftmaxCrossEntropy: Loss {
    public init() {}
    public var name: String { "cross-entropy" }
    public func evaluate(outputs f: Matrix, targets y: Matrix) throws -> (value: Double, gradient: Matrix) {
        guard f.rows == y.rows, f.cols == y.cols else { throw OverparamError.shapeMismatch("outputs \(f.rows)x\(f.cols) vs targets \(y.rows)x\(y.cols)") }
        let n = Double(max(1, f.rows)), k = f.cols
        var g = Matrix(rows: f.rows, cols: k)
        var v = 0.0
        for i in 0..<f.rows {
            let mx = (0..<k).map { f[i, $0] }.max() ?? 0
            var z = 0.0
            for c in 0..<k { z += Foundation.exp(f[i, c] - mx) }
            let logZ = mx + Foundation.log(z)
            for c in 0..<k {
                let p = Foundation.exp(f[i, c] - logZ)
                v -= y[i, c] * (f[i, c] - logZ)
                g[i, c] = (p * y.row(i).reduce(0, +) - y[i, c]) / n
            }
        }
        return (v / n, g)
    }
}

/// Parse a CLI loss name: mse, mse-mean, logistic, cross-entropy.
public func lossNamed(_ s: String) throws -> any Loss {
    switch s {
    case "mse", "mse-half": return MeanSquaredError(.halfMean)
    case "mse-mean": return MeanSquaredError(.mean)
    case "logistic", "bce": return BinaryLogistic()
    case "cross-entropy", "softmax": return SoftmaxCrossEntropy()
    default: throw OverparamError.invalidArgument(name: "--loss", problem: "unknown loss '\(s)'; use mse, mse-mean, logistic or cross-entropy")
    }
}
