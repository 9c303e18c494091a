import Foundation

/// The first layer of a two-layer network as a set of m features (seed 000 sec. VI):
///
///     h_j(x) = h(theta_j . x + b_j),   j = 1...m,
///
/// with theta the m x d matrix whose row j is theta_j, the bias b (all zero for seed 000 eq. 1's nets, which have no
/// input bias) and the activation h (tanh in the seed's figs. 8-11). In the mean-field view the m neurons are samples
/// from a distribution rho over R^{d+1}; ``vectors`` are those samples (theta_j, b_j), the data on which a generative
/// model of rho (``GaussianMixture``, ``VariationalAutoencoder``) is fitted, and ``init(vectors:activation:)`` turns
/// generated samples back into features ("repopulation", seed 000 sec. VI, fig. 9).
///
/// Conventions: theta and b are the *effective* weights that multiply x and 1 (``init(network:)`` folds the
/// parameterization's scale factors a_1 and beta_1 in), so every other type of this folder is free of
/// parameterizations.
public struct FeatureSet: Sendable, Equatable {
    /// theta (m x d): row j is theta_j.
    public private(set) var theta: Matrix
    /// b (m entries).
    public private(set) var bias: [Double]
    /// h.
    public var activation: Activation

    /// Features from their weights; `bias` nil means b = 0. Throws on m = 0, d = 0, a bias of the wrong length or
    /// non-finite weights.
    public init(theta: Matrix, bias: [Double]? = nil, activation: Activation = .tanh) throws {
        self.bias = try Check.layer(theta, "theta", bias: bias, biasCount: theta.rows, biasMeaning: "one per feature, the rows of theta")
        self.theta = theta
        self.activation = activation
    }

    /// Random features: theta_jl ~ N(0, variance) (stream 1 of `seed`) and b_j ~ N(0, biasVariance) (stream 2; zero when
    /// biasVariance = 0). There is no 1/d: pass variance = 1/d for the usual fan-in scaling (seed 000 eq. 1 draws theta
    /// from N(0, sigma^2 I)). The random-feature baseline of seed 000 sec. VI, fig. 9.
    public init(gaussian m: Int, inputDimension d: Int, variance: Double = 1, biasVariance: Double = 0,
                activation: Activation = .tanh, seed: UInt64) throws {
        try Check.atLeast(m, 1, "m")
        try Check.atLeast(d, 1, "inputDimension")
        guard variance.isFinite, variance >= 0 else { throw OverparamError.invalidArgument(name: "variance", problem: "must be finite and >= 0, got \(variance)") }
        guard biasVariance.isFinite, biasVariance >= 0 else { throw OverparamError.invalidArgument(name: "biasVariance", problem: "must be finite and >= 0, got \(biasVariance)") }
        var rt = Xoshiro256StarStar(seed: seed, stream: 1)
        let t = Matrix.randomNormal(rows: m, cols: d, std: variance.squareRoot(), using: &rt)
        var rb = Xoshiro256StarStar(seed: seed, stream: 2)
        let b = biasVariance > 0 ? rb.normals(m, std: biasVariance.squareRoot()) : [Double](repeating: 0, count: m)
        try self.init(theta: t, bias: b, activation: activation)
    }

    /// The effective first layer of a one-hidden-layer ``Network``: with z^(1) = a_1 W^(1) x + beta_1 b^(1)
    /// (``LayerScale``), theta = a_1 W^(1) and b = beta_1 b^(1) (zero without biases), h = the network's activation.
    /// Together with ``OutputLayer/init(network:)`` this reproduces the network's outputs.
    public init(network: Network) throws {
        guard network.layout.layerCount == 2 else {
            throw OverparamError.invalidArgument(name: "network", problem: "needs exactly one hidden layer, got \(network.layout.layerCount - 1)")
        }
        let s = network.scales[0]
        var t = network.weight(layer: 1)
        t.scale(by: s.a)
        let b = network.bias(layer: 1).map { s.beta * $0 }
        try self.init(theta: t, bias: b, activation: network.architecture.activation)
    }

    /// The inverse of ``vectors``: row j of the m x (d+1) matrix is (theta_j, b_j). Needs d + 1 >= 2 columns.
    public init(vectors: Matrix, activation: Activation = .tanh) throws {
        guard vectors.cols >= 2 else {
            throw OverparamError.invalidArgument(name: "vectors", problem: "needs d + 1 >= 2 columns (theta_j then b_j), got \(vectors.cols)")
        }
        let d = vectors.cols - 1
        try self.init(theta: vectors.columns(Array(0..<d)), bias: vectors.column(d), activation: activation)
    }

    /// m, the number of features.
    public var count: Int { theta.rows }
    /// d, the input dimension.
    public var inputDimension: Int { theta.cols }

    /// [theta, b] (m x (d+1)): row j is the neuron (theta_j, b_j), a sample of rho (seed 000 sec. VI, fig. 8).
    public var vectors: Matrix {
        let m = count, d = inputDimension
        var v = Matrix(rows: m, cols: d + 1)
        for j in 0..<m {
            for l in 0..<d { v.storage[j * (d + 1) + l] = theta.storage[j * d + l] }
            v.storage[j * (d + 1) + d] = bias[j]
        }
        return v
    }

    /// The features at the given indices, in that order (repeats allowed: a sample with replacement stays a sample).
    public func subset(_ indices: [Int]) throws -> FeatureSet {
        guard !indices.isEmpty else { throw OverparamError.invalidArgument(name: "indices", problem: "must not be empty") }
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw OverparamError.invalidArgument(name: "indices", problem: "must lie in 0..<\(count), found \(bad)")
        }
        return try FeatureSet(theta: theta.rows(at: indices), bias: indices.map { bias[$0] }, activation: activation)
    }

    /// Pre-activations Z = X theta^T + 1 b^T (n x m, one dgemm).
    public func preactivations(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the features expect d = \(inputDimension)") }
        var z = Matrix.product(x, .none, theta, .transposed)
        if bias.contains(where: { $0 != 0 }) { z.addRowVector(bias) }
        return z
    }

    /// H with H_ij = h_j(x_i) = h(theta_j . x_i + b_j) (n x m).
    public func features(_ x: Matrix) throws -> Matrix { try evaluate(x, wantSlopes: false).features }

    /// S with S_ij = h'(theta_j . x_i + b_j) (n x m).
    public func slopes(_ x: Matrix) throws -> Matrix { try evaluate(x, wantSlopes: true).slopes }

    /// (H, S) from one pass (``Activation/valueAndSlope(_:)``, the values ``Network/forward(_:)`` computes, bit for bit).
    public func featuresAndSlopes(_ x: Matrix) throws -> (features: Matrix, slopes: Matrix) { try evaluate(x, wantSlopes: true) }

    /// H, and S when `wantSlopes` (else an empty matrix in its place).
    func evaluate(_ x: Matrix, wantSlopes: Bool) throws -> (features: Matrix, slopes: Matrix) {
        var h = try preactivations(x)
        var s = wantSlopes ? h : Matrix(rows: 0, cols: 0)
        let act = activation, count = h.count
        guard count > 0 else { return (h, s) }
        h.storage.withUnsafeMutableBufferPointer { hp in
            s.storage.withUnsafeMutableBufferPointer { sp in
                nonisolated(unsafe) let hb = hp.baseAddress!
                nonisolated(unsafe) let sb = sp.baseAddress
                // Fixed chunks: the same values for any thread count.
                Parallel.forEachChunk(count, minChunk: 16384) { r in
                    if wantSlopes {
                        for i in r { let (v, d) = act.valueAndSlope(hb[i]); sb![i] = d; hb[i] = v }
                    } else {
                        for i in r { hb[i] = act.valueAndSlope(hb[i]).0 }
                    }
                }
            }
        }
        return (h, s)
    }
}
