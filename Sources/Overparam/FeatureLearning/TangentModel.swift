import Foundation

/// The linear tangent model at fixed first-layer features (seed 000 sec. VI, fig. 10; SEED-NOTES sec. 3):
///
///     f_c(x) = sum_j [ a_jc h(theta_j . x + b_j) + h'(theta_j . x + b_j) (v_jc . x + c_jc) ] + beta_c,
///
/// the first-order Taylor model (seed 000 eq. 8) of a two-layer net around first-layer weights (theta, b) with the
/// output weights free: it is linear in (a, v, c, beta) with the feature map
///
///     phi(x) = [ h(x) (m entries),  h'(x) (x) x (m d entries, j-major),  h'(x) (m entries) ]   (m (d + 2) entries)
///
/// and per output c the m (d + 2) coefficients plus beta_c. ``coefficients`` stores them in phi's order:
/// rows 0..<m are a_j, row m + j d + l is v_j[l], row m + m d + j is c_j (k columns, one per output). Fig. 10 compares
/// the tangent space at random theta (the NTK regime) with the one at theta generated from the learned rho.
///
/// Forward and backward passes never form phi: with H = h(X theta^T + 1 b^T), S = h'(...), the (a, v, c) blocks
/// A (m x k), V (m x d k), C (m x k) of the coefficients and R = S V (n x d k),
/// f = H A + S C + [sum_l X_il R_i,(l k + c)] + 1 beta^T, and the pullback of G (n x k) is
/// dA = H^T G, dV = S^T T with T_i,(l k + c) = X_il G_ic, dC = S^T G, dbeta = 1^T G (four dgemm).
public struct TangentModel: Predictor, Equatable {
    /// The frozen features (theta, b, h).
    public let featureSet: FeatureSet
    /// The m (d + 2) x k coefficients in phi's order (see the type's discussion).
    public private(set) var coefficients: Matrix
    /// beta (k entries), the unpenalized output bias.
    public private(set) var bias: [Double]

    /// The zero model (a = v = c = 0, beta = 0) with k outputs.
    public init(featureSet: FeatureSet, outputCount k: Int) throws {
        try Check.atLeast(k, 1, "outputCount")
        try self.init(featureSet: featureSet, coefficients: Matrix(rows: featureSet.count * (featureSet.inputDimension + 2), cols: k),
                      bias: [Double](repeating: 0, count: k))
    }

    /// A model from its coefficients (m (d + 2) x k, phi's order) and bias (k).
    public init(featureSet: FeatureSet, coefficients: Matrix, bias: [Double]) throws {
        let p = featureSet.count * (featureSet.inputDimension + 2)
        guard coefficients.rows == p else {
            throw OverparamError.shapeMismatch("coefficients have \(coefficients.rows) rows, expected m (d + 2) = \(p)")
        }
        self.bias = try Check.layer(coefficients, "coefficients", bias: bias, biasCount: coefficients.cols, biasMeaning: "one per output")
        self.featureSet = featureSet
        self.coefficients = coefficients
    }

    /// k.
    public var outputCount: Int { coefficients.cols }
    /// m (d + 2), the length of phi(x) (the model has that many coefficients plus one bias per output).
    public var featureDimension: Int { coefficients.rows }

    /// Phi (n x m (d + 2)) explicitly, rows phi(x_i) in the order of the type's discussion. For small cases and tests:
    /// the fits and predictions never form it.
    public func features(_ x: Matrix) throws -> Matrix {
        let (h, s) = try featureSet.featuresAndSlopes(x)
        let n = x.rows, m = featureSet.count, d = featureSet.inputDimension, p = m * (d + 2)
        var phi = Matrix(rows: n, cols: p)
        for i in 0..<n {
            for j in 0..<m {
                let sij = s.storage[i * m + j]
                phi.storage[i * p + j] = h.storage[i * m + j]
                for l in 0..<d { phi.storage[i * p + m + j * d + l] = sij * x.storage[i * d + l] }
                phi.storage[i * p + m + m * d + j] = sij
            }
        }
        return phi
    }

    /// The tangent kernel K = Phi(x) Phi(x2)^T = H H2^T + (S S2^T) .* (X X2^T + 1), without forming Phi.
    public func kernel(_ x: Matrix, _ x2: Matrix) throws -> Matrix { try Self.kernel(featureSet, x, x2) }

    static func kernel(_ fs: FeatureSet, _ x: Matrix, _ x2: Matrix) throws -> Matrix {
        let (h, s) = try fs.featuresAndSlopes(x)
        let (h2, s2) = try fs.featuresAndSlopes(x2)
        var k = Matrix.product(h, .none, h2, .transposed)
        let ss = Matrix.product(s, .none, s2, .transposed)
        let xx = Matrix.product(x, .none, x2, .transposed)
        for i in 0..<k.count { k.storage[i] += ss.storage[i] * (xx.storage[i] + 1) }
        return k
    }

    /// f(x) (n x k), in row blocks of 2048 (memory O(block x m d)).
    public func outputs(_ x: Matrix) throws -> Matrix {
        guard x.cols == featureSet.inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the model expects d = \(featureSet.inputDimension)") }
        let theta = coefficients.storage + bias
        var f = Matrix(rows: x.rows, cols: outputCount)
        for start in stride(from: 0, to: x.rows, by: 2048) {
            let rows = Array(start..<Swift.min(x.rows, start + 2048))
            let xb = x.rows(at: rows)
            let (h, s) = try featureSet.featuresAndSlopes(xb)
            let fb = Self.forward(theta, h: h, s: s, x: xb, outputs: outputCount)
            for (r, i) in rows.enumerated() { for c in 0..<outputCount { f[i, c] = fb[r, c] } }
        }
        return f
    }

    /// f = H A + S C + contract(S V, X) + 1 beta^T for the flat parameters theta = [coefficients (row-major), beta].
    static func forward(_ theta: [Double], h: Matrix, s: Matrix, x: Matrix, outputs k: Int) -> Matrix {
        let n = x.rows, m = h.cols, d = x.cols
        var f = Matrix(rows: n, cols: k)
        var r = Matrix(rows: n, cols: d * k)
        theta.withUnsafeBufferPointer { tp in
            let t = tp.baseAddress!
            h.storage.withUnsafeBufferPointer { hp in s.storage.withUnsafeBufferPointer { sp in
                f.storage.withUnsafeMutableBufferPointer { fp in r.storage.withUnsafeMutableBufferPointer { rp in
                    rawGemm(.none, .none, m: n, n: k, k: m, alpha: 1, hp.baseAddress!, lda: m, t, ldb: k, beta: 0, fp.baseAddress!, ldc: k)
                    rawGemm(.none, .none, m: n, n: k, k: m, alpha: 1, sp.baseAddress!, lda: m, t + m * k + m * d * k, ldb: k, beta: 1, fp.baseAddress!, ldc: k)
                    rawGemm(.none, .none, m: n, n: d * k, k: m, alpha: 1, sp.baseAddress!, lda: m, t + m * k, ldb: d * k, beta: 0, rp.baseAddress!, ldc: d * k)
                    let beta = t + m * (d + 2) * k
                    x.storage.withUnsafeBufferPointer { xp in
                        for i in 0..<n {
                            for l in 0..<d {
                                let xil = xp[i * d + l]
                                for c in 0..<k { fp[i * k + c] += xil * rp[i * d * k + l * k + c] }
                            }
                            for c in 0..<k { fp[i * k + c] += beta[c] }
                        }
                    }
                } }
            } }
        }
        return f
    }

    /// The gradient of sum_{i,c} G_ic f_c(x_i) in the flat parameters [coefficients, beta] (the transpose of
    /// ``forward(_:h:s:x:outputs:)``): Phi^T G, then 1^T G.
    static func pullback(_ g: Matrix, h: Matrix, s: Matrix, x: Matrix) -> [Double] {
        let n = x.rows, m = h.cols, d = x.cols, k = g.cols
        var t = Matrix(rows: n, cols: d * k)
        for i in 0..<n { for l in 0..<d {
            let xil = x.storage[i * d + l]
            for c in 0..<k { t.storage[i * d * k + l * k + c] = xil * g.storage[i * k + c] }
        } }
        var out = [Double](repeating: 0, count: m * (d + 2) * k + k)
        out.withUnsafeMutableBufferPointer { op in
            let o = op.baseAddress!
            h.storage.withUnsafeBufferPointer { hp in s.storage.withUnsafeBufferPointer { sp in
                g.storage.withUnsafeBufferPointer { gp in t.storage.withUnsafeBufferPointer { tp in
                    rawGemm(.transposed, .none, m: m, n: k, k: n, alpha: 1, hp.baseAddress!, lda: m, gp.baseAddress!, ldb: k, beta: 0, o, ldc: k)
                    rawGemm(.transposed, .none, m: m, n: d * k, k: n, alpha: 1, sp.baseAddress!, lda: m, tp.baseAddress!, ldb: d * k, beta: 0, o + m * k, ldc: d * k)
                    rawGemm(.transposed, .none, m: m, n: k, k: n, alpha: 1, sp.baseAddress!, lda: m, gp.baseAddress!, ldb: k, beta: 0, o + m * k + m * d * k, ldc: k)
                } }
            } }
        }
        let cs = g.columnSums
        for c in 0..<k { out[m * (d + 2) * k + c] = cs[c] }
        return out
    }

    /// Exact kernel ridge regression with the tangent kernel in the dual (seed 000 sec. VI, fig. 10, squared loss):
    /// the minimizer of (1/2n) sum_i ||f(x_i) - y_i||^2 + (lambda/2) ||coefficients||_F^2 with beta unpenalized, via
    /// ``KernelRidgeSystem`` on K = ``kernel(_:_:)`` (n x n; memory n^2: subsample large sets). As lambda -> 0 it
    /// tends to the minimum-norm interpolant (lambda = 0 itself needs K positive definite).
    public static func kernelRidge(featureSet: FeatureSet, inputs x: Matrix, targets y: Matrix, penalty lambda: Double) throws -> TangentKernelRidge {
        try Check.data(x, "inputs")
        try Check.data(y, "targets")
        guard x.rows == y.rows else { throw OverparamError.shapeMismatch("\(x.rows) inputs but \(y.rows) target rows") }
        try Check.penalty(lambda)
        let k = try kernel(featureSet, x, x)
        let (alpha, b) = try KernelRidgeSystem.solve(gram: k, targets: y, penalty: lambda, fitBias: true)
        return TangentKernelRidge(featureSet: featureSet, trainInputs: x, dualCoefficients: alpha, bias: b)
    }

    /// Trains the coefficients and bias by minibatch `optimizer` steps on the softmax cross-entropy (seed 000 sec. VI,
    /// fig. 10: Adam 1e-5, 50 epochs), from the current parameters:
    ///
    ///     (1/B) sum_{i in batch} -log softmax(f(x_i))_{y_i} + (lambda/2) ||coefficients||_F^2.
    ///
    /// Features of each batch are recomputed (memory O(B m d)); epochs are seeded permutations cut into batches (last
    /// one smaller). Returns the full-training-set cross-entropy (without the penalty) after each epoch.
    public mutating func trainSoftmax<O: Optimizer>(inputs x: Matrix, labels: [Int], penalty lambda: Double = 0, optimizer: O,
                                                    epochs: Int, batchSize: Int, seed: UInt64) throws -> [Double] {
        try Check.data(x, "inputs")
        guard x.cols == featureSet.inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the model expects d = \(featureSet.inputDimension)") }
        try Check.labels(labels, classCount: outputCount, rows: x.rows)
        try Check.penalty(lambda)
        try Check.schedule(epochs: epochs, batchSize: batchSize)
        var opt = optimizer
        var theta = coefficients.storage + bias
        let p = coefficients.count, k = outputCount
        var batches = MiniBatches(count: x.rows, batchSize: batchSize, seed: seed)
        var losses = [Double]()
        for epoch in 0..<epochs {
            for batch in batches.nextEpoch() {
                let xb = x.rows(at: batch)
                let (h, s) = try featureSet.featuresAndSlopes(xb)
                let f = Self.forward(theta, h: h, s: s, x: xb, outputs: k)
                let g = OutputMetrics.softmaxCrossEntropy(logits: f, labels: batch.map { labels[$0] }).gradient
                var grad = Self.pullback(g, h: h, s: s, x: xb)
                if lambda != 0 { for i in 0..<p { grad[i] += lambda * theta[i] } }
                opt.step(&theta, gradient: grad)
            }
            guard theta.allSatisfy({ $0.isFinite }) else {
                throw OverparamError.diverged("tangent model: the parameters became NaN/Inf in epoch \(epoch + 1); lower the learning rate")
            }
            coefficients.storage = Array(theta[0..<p])
            bias = Array(theta[p...])
            losses.append(try crossEntropy(x, labels: labels))
        }
        return losses
    }
}

/// The tangent model fitted by kernel ridge in the dual (``TangentModel/kernelRidge(featureSet:inputs:targets:penalty:)``):
/// f(x) = K(x, X) alpha + beta with K the tangent kernel and X the training inputs.
public struct TangentKernelRidge: Predictor {
    /// The frozen features (theta, b, h).
    public let featureSet: FeatureSet
    /// X (n x d).
    public let trainInputs: Matrix
    /// alpha (n x k), with 1^T alpha = 0.
    public let dualCoefficients: Matrix
    /// beta (k).
    public let bias: [Double]

    /// k.
    public var outputCount: Int { dualCoefficients.cols }

    /// f(x) = K(x, X) alpha + 1 beta^T.
    public func outputs(_ x: Matrix) throws -> Matrix {
        var f = Matrix.product(try TangentModel.kernel(featureSet, x, trainInputs), .none, dualCoefficients, .none)
        f.addRowVector(bias)
        return f
    }

    /// The same function in the primal: coefficients Phi(X)^T alpha (one pullback, Phi never formed), bias beta.
    public func primal() throws -> TangentModel {
        let (h, s) = try featureSet.featuresAndSlopes(trainInputs)
        let flat = TangentModel.pullback(dualCoefficients, h: h, s: s, x: trainInputs)
        let p = featureSet.count * (featureSet.inputDimension + 2), k = outputCount
        return try TangentModel(featureSet: featureSet, coefficients: Matrix(rows: p, cols: k, storage: Array(flat[0..<(p * k)])), bias: bias)
    }
}
