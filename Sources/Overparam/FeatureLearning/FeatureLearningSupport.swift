import Foundation
import CBLAS

// Internal pieces shared by the feature-learning types (seed 000 sec. VI): argument checks with one-line errors,
// the seeded minibatch schedule, softmax cross-entropy on integer labels, and a GEMM on raw storage offsets.

/// Argument checks that throw ``OverparamError`` with one line naming the argument.
enum Check {
    static func finite(_ a: Matrix, _ name: String) throws {
        guard a.isFinite else { throw OverparamError.nonFinite("\(name) contains NaN or Inf") }
    }

    static func finite(_ v: [Double], _ name: String) throws {
        guard v.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("\(name) contains NaN or Inf") }
    }

    /// A finite matrix with at least one row and one column.
    static func data(_ a: Matrix, _ name: String) throws {
        guard a.rows >= 1, a.cols >= 1 else {
            throw OverparamError.invalidArgument(name: name, problem: "is empty (\(a.rows)x\(a.cols)); need at least one row and one column")
        }
        try finite(a, name)
    }

    /// A finite weight matrix with at least one row and one column, and its finite bias of `biasCount` entries (nil:
    /// zeros), which is returned. `biasMeaning` says what the entries are indexed by.
    static func layer(_ w: Matrix, _ name: String, bias: [Double]?, biasCount: Int, biasMeaning: String) throws -> [Double] {
        guard w.rows >= 1, w.cols >= 1 else {
            throw OverparamError.invalidArgument(name: name, problem: "needs at least one row and one column, got \(w.rows)x\(w.cols)")
        }
        let b = bias ?? [Double](repeating: 0, count: biasCount)
        guard b.count == biasCount else { throw OverparamError.shapeMismatch("bias has \(b.count) entries, expected \(biasCount) (\(biasMeaning))") }
        try finite(w, name)
        try finite(b, "bias")
        return b
    }

    static func atLeast(_ value: Int, _ minimum: Int, _ name: String) throws {
        guard value >= minimum else { throw OverparamError.invalidArgument(name: name, problem: "must be >= \(minimum), got \(value)") }
    }

    /// A finite penalty lambda >= 0.
    static func penalty(_ lambda: Double, _ name: String = "penalty") throws {
        guard lambda.isFinite, lambda >= 0 else { throw OverparamError.invalidArgument(name: name, problem: "must be finite and >= 0, got \(lambda)") }
    }

    /// One label in 0..<classCount per row.
    static func labels(_ labels: [Int], classCount: Int, rows: Int) throws {
        try atLeast(classCount, 1, "classCount")
        guard labels.count == rows else { throw OverparamError.shapeMismatch("\(rows) rows but \(labels.count) labels") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classCount }) {
            throw OverparamError.invalidArgument(name: "labels", problem: "must lie in 0..<\(classCount), found \(bad)")
        }
    }

    /// epochs >= 0 and batchSize >= 1.
    static func schedule(epochs: Int, batchSize: Int) throws {
        try atLeast(epochs, 0, "epochs")
        try atLeast(batchSize, 1, "batchSize")
    }
}

/// Minibatches without replacement: each epoch is a fresh Fisher-Yates permutation of 0..<n (from one seeded
/// stream) cut into batches of `batchSize`, the last one possibly smaller. Depends only on (n, batchSize, seed, stream).
struct MiniBatches {
    let count: Int
    let batchSize: Int
    var rng: Xoshiro256StarStar

    init(count: Int, batchSize: Int, seed: UInt64, stream: UInt64 = 0x4D42_4154) {
        self.count = count
        self.batchSize = Swift.max(1, batchSize)
        rng = Xoshiro256StarStar(seed: seed, stream: stream)
    }

    /// The batches of the next epoch.
    mutating func nextEpoch() -> [[Int]] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
        return stride(from: 0, to: count, by: batchSize).map { Array(order[$0..<Swift.min(count, $0 + batchSize)]) }
    }
}

/// Metrics of outputs F (n x k) against labels or targets, shared by every fitted model of this folder.
enum OutputMetrics {
    /// L = (1/n) sum_i -log softmax(F_i)_{y_i} (log-sum-exp per row) and dL/dF = (softmax(F) - onehot(y)) / n.
    /// Equals ``SoftmaxCrossEntropy`` with one-hot targets, without forming them.
    static func softmaxCrossEntropy(logits f: Matrix, labels: [Int], gradient wantGradient: Bool = true) -> (value: Double, gradient: Matrix) {
        let n = f.rows, k = f.cols
        var g = wantGradient ? Matrix(rows: n, cols: k) : Matrix(rows: 0, cols: 0)
        var total = 0.0
        let invN = 1 / Double(Swift.max(1, n))
        f.storage.withUnsafeBufferPointer { fp in
            g.storage.withUnsafeMutableBufferPointer { gp in
                for i in 0..<n {
                    let row = fp.baseAddress! + i * k
                    var mx = -Double.infinity
                    for c in 0..<k { mx = Swift.max(mx, row[c]) }
                    var z = 0.0
                    for c in 0..<k { z += Foundation.exp(row[c] - mx) }
                    let logZ = mx + Foundation.log(z)
                    total += logZ - row[labels[i]]
                    if wantGradient {
                        for c in 0..<k { gp[i * k + c] = Foundation.exp(row[c] - logZ) * invN }
                        gp[i * k + labels[i]] -= invN
                    }
                }
            }
        }
        return (total * invN, g)
    }

    /// (1/n) sum_i -log softmax(F_i)_{y_i}.
    static func crossEntropy(_ f: Matrix, labels: [Int]) -> Double { softmaxCrossEntropy(logits: f, labels: labels, gradient: false).value }

    /// (1/(n k)) sum_{i,c} (F_ic - Y_ic)^2, the plain mean over all entries (as ``meanSquaredError(_:_:)``).
    static func meanSquaredError(_ f: Matrix, _ y: Matrix) throws -> Double {
        guard f.rows == y.rows, f.cols == y.cols else { throw OverparamError.shapeMismatch("outputs \(f.rows)x\(f.cols) vs targets \(y.rows)x\(y.cols)") }
        return Overparam.meanSquaredError(f, y)
    }
}

/// C = alpha op(A) op(B) + beta C on raw row-major storage (leading dimensions given): lets the tangent model multiply
/// blocks of its flat parameter vector in place. `m x n` output, inner dimension `k`.
@inline(__always)
func rawGemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
             _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
             beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    blockedGemm(ta, tb, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
}
