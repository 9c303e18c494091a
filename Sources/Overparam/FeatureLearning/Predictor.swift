import Foundation

/// A fitted model of inputs x (n x d) to k outputs, with the metrics every figure of seed 000 sec. VI reports
/// (accuracy, training cross-entropy, squared error). Adopted by ``TangentModel`` and ``TangentKernelRidge``.
public protocol Predictor: Sendable {
    /// k.
    var outputCount: Int { get }
    /// f(x) for every row of x (n x k).
    func outputs(_ x: Matrix) throws -> Matrix
}

extension Predictor {
    /// Argmax accuracy against labels in 0..<k.
    public func accuracy(_ x: Matrix, labels: [Int]) throws -> Double {
        try Check.labels(labels, classCount: outputCount, rows: x.rows)
        return argmaxAccuracy(try outputs(x), labels: labels)
    }

    /// Softmax cross-entropy (1/n) sum_i -log softmax(f(x_i))_{y_i}.
    public func crossEntropy(_ x: Matrix, labels: [Int]) throws -> Double {
        try Check.labels(labels, classCount: outputCount, rows: x.rows)
        return OutputMetrics.crossEntropy(try outputs(x), labels: labels)
    }

    /// (1/(n k)) sum_{i,c} (f_c(x_i) - y_ic)^2.
    public func meanSquaredError(_ x: Matrix, targets y: Matrix) throws -> Double {
        try OutputMetrics.meanSquaredError(try outputs(x), y)
    }
}
