import Foundation

/// The output layer of a two-layer network at fixed features (seed 000 sec. VI, figs. 9 and 11, the random-feature
/// model of eq. 3): for features H (n x m, ``FeatureSet/features(_:)``),
///
///     f(x) = U^T h(x) + c,   i.e.   F = H U + 1 c^T,
///
/// with weights U (m x k; row j is the neuron's output weight u_j in R^k) and bias c in R^k. U multiplies the
/// features directly: a network written in the mean-field form f = (1/m) sum_j u_j h_j has U = u / m (see
/// ``DiscretizationVariance`` for that form). Every fit is convex in (U, c).
public struct OutputLayer: Sendable, Equatable {
    /// U (m x k).
    public private(set) var weights: Matrix
    /// c (k entries).
    public private(set) var bias: [Double]

    /// An output layer from its weights; `bias` nil means c = 0.
    public init(weights: Matrix, bias: [Double]? = nil) throws {
        self.bias = try Check.layer(weights, "weights", bias: bias, biasCount: weights.cols, biasMeaning: "one per output, the columns of the weights")
        self.weights = weights
    }

    /// U = 0, c = 0.
    public static func zeros(features m: Int, outputs k: Int) throws -> OutputLayer {
        try Check.atLeast(m, 1, "features")
        try Check.atLeast(k, 1, "outputs")
        return try OutputLayer(weights: Matrix(rows: m, cols: k))
    }

    /// The effective readout of a one-hidden-layer ``Network``: f = a_2 W^(2) x^(1) + beta_2 b^(2) gives
    /// U = a_2 W^(2)^T and c = beta_2 b^(2). With ``FeatureSet/init(network:)`` it reproduces the network.
    public init(network: Network) throws {
        guard network.layout.layerCount == 2 else {
            throw OverparamError.invalidArgument(name: "network", problem: "needs exactly one hidden layer, got \(network.layout.layerCount - 1)")
        }
        let s = network.scales[1]
        var u = network.weight(layer: 2).transposed
        u.scale(by: s.a)
        try self.init(weights: u, bias: network.bias(layer: 2).map { s.beta * $0 })
    }

    /// m.
    public var featureCount: Int { weights.rows }
    /// k.
    public var outputCount: Int { weights.cols }

    /// F = H U + 1 c^T (n x k).
    public func outputs(features h: Matrix) throws -> Matrix {
        guard h.cols == featureCount else { throw OverparamError.shapeMismatch("features have \(h.cols) columns, the output layer has m = \(featureCount) rows") }
        var f = Matrix.product(h, .none, weights, .none)
        f.addRowVector(bias)
        return f
    }

    /// Argmax accuracy of the outputs against labels in 0..<k.
    public func accuracy(features h: Matrix, labels: [Int]) throws -> Double {
        try Check.labels(labels, classCount: outputCount, rows: h.rows)
        return argmaxAccuracy(try outputs(features: h), labels: labels)
    }

    /// Softmax cross-entropy (1/n) sum_i -log softmax(f(x_i))_{y_i}.
    public func crossEntropy(features h: Matrix, labels: [Int]) throws -> Double {
        try Check.labels(labels, classCount: outputCount, rows: h.rows)
        return OutputMetrics.crossEntropy(try outputs(features: h), labels: labels)
    }

    /// (1/(n k)) sum_{i,c} (f_c(x_i) - y_ic)^2 (the plain mean; the ridge objective's data term is k/2 times it).
    public func meanSquaredError(features h: Matrix, targets y: Matrix) throws -> Double {
        try OutputMetrics.meanSquaredError(try outputs(features: h), y)
    }

    /// How ``ridge(features:targets:penalty:fitBias:solver:)`` solves: the m x m primal system, the n x n dual one, or
    /// whichever is smaller (dual when n < m).
    public enum RidgeSolver: Sendable, Equatable { case automatic, primal, dual }

    /// The exact minimizer of the ridge objective (seed 000 eq. 3 with the squared loss; the bias unpenalized):
    ///
    ///     (1/2n) ||H U + 1 c^T - Y||_F^2 + (lambda/2) ||U||_F^2.
    ///
    /// Primal: with centered Hc = H - 1 hbar^T and Yc, (Hc^T Hc / n + lambda I) U = Hc^T Yc / n and c = ybar - U^T hbar
    /// (Cholesky of the m x m matrix, accumulated over blocks of rows so no centered copy of H is kept). Dual (n < m):
    /// U = H^T alpha with (H H^T + n lambda I) alpha + 1 c^T = Y, 1^T alpha = 0 (Cholesky of the n x n matrix; see
    /// ``KernelRidgeSystem``). Without `fitBias`, c = 0 and nothing is centered. lambda = 0 needs a positive-definite
    /// system (else ``OverparamError/singular(_:)``); in the dual it is the minimum-norm interpolant.
    public static func ridge(features h: Matrix, targets y: Matrix, penalty lambda: Double, fitBias: Bool = true,
                             solver: RidgeSolver = .automatic) throws -> OutputLayer {
        try Check.data(h, "features")
        try Check.data(y, "targets")
        guard y.rows == h.rows else { throw OverparamError.shapeMismatch("\(h.rows) feature rows but \(y.rows) target rows") }
        try Check.penalty(lambda)
        let n = h.rows, m = h.cols, k = y.cols
        let useDual = solver == .dual || (solver == .automatic && n < m)
        if useDual {
            let (alpha, c) = try KernelRidgeSystem.solve(gram: h.gram(), targets: y, penalty: lambda, fitBias: fitBias)
            return try OutputLayer(weights: Matrix.product(h, .transposed, alpha, .none), bias: c)
        }
        let hbar = fitBias ? h.columnSums.map { $0 / Double(n) } : [Double](repeating: 0, count: m)
        let ybar = fitBias ? y.columnSums.map { $0 / Double(n) } : [Double](repeating: 0, count: k)
        var a = Matrix(rows: m, cols: m), rhs = Matrix(rows: m, cols: k)
        let block = 4096
        for start in stride(from: 0, to: n, by: block) {
            let rows = Array(start..<Swift.min(n, start + block))
            var hb = h.rows(at: rows), yb = y.rows(at: rows)
            if fitBias { hb.addRowVector(hbar, scaledBy: -1); yb.addRowVector(ybar, scaledBy: -1) }
            Matrix.gemm(hb, .transposed, hb, .none, alpha: 1 / Double(n), beta: 1, into: &a)
            Matrix.gemm(hb, .transposed, yb, .none, alpha: 1 / Double(n), beta: 1, into: &rhs)
        }
        a = a.symmetricPart
        a.addToDiagonal(lambda)
        let chol: CholeskyFactorization
        do { chol = try CholeskyFactorization(a) } catch {
            throw OverparamError.singular("Hc^T Hc / n + lambda I (\(m)x\(m)) is not positive definite at penalty \(lambda); increase the penalty")
        }
        let u = chol.solve(rhs)
        let uh = u.apply(hbar, .transposed)
        return try OutputLayer(weights: u, bias: (0..<k).map { ybar[$0] - uh[$0] })
    }

    /// Multinomial logistic regression of the output layer by minibatch `optimizer` steps (seed 000 sec. VI: fig. 9
    /// trains (U, c) with Adam 1e-4, batch 128, 50 epochs; fig. 11 with Adam 1e-3, 20 epochs). Minimizes
    ///
    ///     (1/B) sum_{i in batch} -log softmax(H_i U + c)_{y_i} + (lambda/2) ||U||_F^2,
    ///
    /// gradient dU = H_b^T G + lambda U, dc = 1^T G with G = (softmax - onehot) / B. Starts from `initial` (default
    /// U = 0, c = 0; the problem is convex). Each epoch is a fresh permutation of the rows (seeded by `seed`) cut into
    /// batches of `batchSize`, the last one smaller. Returns the layer and the full-training-set cross-entropy (without
    /// the penalty) after each epoch.
    public static func softmaxRegression<O: Optimizer>(features h: Matrix, labels: [Int], classCount k: Int, penalty lambda: Double = 0,
                                                       optimizer: O, epochs: Int, batchSize: Int, seed: UInt64,
                                                       initial: OutputLayer? = nil) throws -> (OutputLayer, [Double]) {
        try Check.data(h, "features")
        try Check.labels(labels, classCount: k, rows: h.rows)
        try Check.penalty(lambda)
        try Check.schedule(epochs: epochs, batchSize: batchSize)
        let m = h.cols
        let start = try initial ?? OutputLayer.zeros(features: m, outputs: k)
        guard start.featureCount == m, start.outputCount == k else {
            throw OverparamError.shapeMismatch("initial output layer is \(start.featureCount)x\(start.outputCount), expected \(m)x\(k)")
        }
        var opt = optimizer
        var theta = start.weights.storage + start.bias
        var batches = MiniBatches(count: h.rows, batchSize: batchSize, seed: seed)
        var losses = [Double]()
        func layer(_ t: [Double]) throws -> OutputLayer {
            try OutputLayer(weights: Matrix(rows: m, cols: k, storage: Array(t[0..<(m * k)])), bias: Array(t[(m * k)...]))
        }
        for epoch in 0..<epochs {
            for batch in batches.nextEpoch() {
                let hb = h.rows(at: batch)
                let u = Matrix(rows: m, cols: k, storage: Array(theta[0..<(m * k)]))
                var f = Matrix.product(hb, .none, u, .none)
                f.addRowVector(Array(theta[(m * k)...]))
                let g = OutputMetrics.softmaxCrossEntropy(logits: f, labels: batch.map { labels[$0] }).gradient
                var grad = Matrix.product(hb, .transposed, g, .none).storage + g.columnSums
                if lambda != 0 { for i in 0..<(m * k) { grad[i] += lambda * theta[i] } }
                opt.step(&theta, gradient: grad)
            }
            guard theta.allSatisfy({ $0.isFinite }) else {
                throw OverparamError.diverged("softmax regression: the weights became NaN/Inf in epoch \(epoch + 1); lower the learning rate")
            }
            losses.append(OutputMetrics.crossEntropy(try layer(theta).outputs(features: h), labels: labels))
        }
        return (try layer(theta), losses)
    }
}
