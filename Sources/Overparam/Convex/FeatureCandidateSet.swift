import Foundation

/// A finite base measure rho_0 = (rho_0^(1), ..., rho_0^(L)) for seed 002's re-parameterized program (sec. V-C,
/// eqs. 18-24): per layer a finite list of candidate nodes with probability weights q^(l).
///
/// What "restrict rho_0 to a finite candidate set" means here:
/// - Layer 1 (sec. V-B item 2, eq. 13): a candidate is a first-layer weight vector z_i^(1) in R^(m^(0)) (the input
///   bias coordinate included); its pre-activation on the N training inputs is theta_1(z_i) = (1/m^(0)) F0 z_i
///   (F0 = inputs with the bias column, N x m^(0)); rho_0^(1) = sum_i q_i^(1) delta_{z_i}.
/// - Layer l >= 2 (items 3-4, eqs. 14-15): a candidate is a feature vector z_i^(l) in R^N (the node's
///   pre-activation on the training inputs), given *together with one representation* a_i^(l) over the candidates of
///   layer l-1: z_i^(l) = sum_j q_j^(l-1) a_ij^(l) h(z_j^(l-1)). rho_0^(l) = sum_i q_i^(l) delta_{z_i^(l)}.
///
/// Every density p^(l) = d rho^(l) / d rho_0^(l) is then a vector with p >= 0 and sum_i q_i p_i = 1, and rho^(l) ~
/// rho_0^(l) becomes p > 0 (the closed program allows p_i = 0). A trained ``DeepFeatureNetwork`` is such a set
/// (``init(network:inputs:)``: its neurons, q = 1/m^(l), a = w): at p = 1 the program's point is the network itself.
public struct FeatureCandidateSet: Sendable {
    /// f^(0) on the training inputs (N x m^(0)), bias column included.
    public let inputFeatures: Matrix
    /// The layer-1 candidates z_i^(1) as rows (n_1 x m^(0)).
    public let firstLayer: Matrix
    /// a^(l) for l = 2...L (index l - 2; n_l x n_(l-1)).
    public let representations: [Matrix]
    /// q^(l) for l = 1...L (index l - 1): positive, each summing to 1.
    public let weights: [[Double]]
    public let activation: Activation
    /// The candidates' pre-activations z^(l) (N x n_l, column i = z_i^(l)) for l = 1...L (index l - 1).
    public let preactivations: [Matrix]
    /// h(z^(l)) (N x n_l) for l = 1...L (index l - 1).
    public let features: [Matrix]

    /// - Parameters:
    ///   - weights: q^(l); nil means uniform 1/n_l in every layer.
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` when sizes do not chain; ``OverparamError/invalidArgument(name:problem:)``
    ///   for non-positive weights or weights not summing to 1; ``OverparamError/nonFinite(_:)`` for non-finite inputs.
    public init(inputFeatures f0: Matrix, firstLayer z1: Matrix, representations: [Matrix], weights: [[Double]]? = nil,
                activation: Activation = .tanh) throws {
        guard f0.rows >= 1, f0.cols >= 1, z1.rows >= 1 else { throw OverparamError.shapeMismatch("need N >= 1 inputs and n_1 >= 1 candidates") }
        guard z1.cols == f0.cols else { throw OverparamError.shapeMismatch("layer-1 candidates have \(z1.cols) entries, the inputs m^(0) = \(f0.cols)") }
        guard f0.isFinite, z1.isFinite, representations.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("candidate set") }
        var sizes = [z1.rows]
        for (i, a) in representations.enumerated() {
            guard a.cols == sizes.last!, a.rows >= 1 else {
                throw OverparamError.shapeMismatch("a^(\(i + 2)) is \(a.rows)x\(a.cols), layer \(i + 1) has \(sizes.last!) candidates")
            }
            sizes.append(a.rows)
        }
        let q = weights ?? sizes.map { [Double](repeating: 1 / Double($0), count: $0) }
        guard q.count == sizes.count, zip(q, sizes).allSatisfy({ $0.count == $1 }) else {
            throw OverparamError.shapeMismatch("weights q^(l) have sizes \(q.map(\.count)), the candidates \(sizes)")
        }
        for (l, ql) in q.enumerated() {
            guard ql.allSatisfy({ $0 > 0 && $0.isFinite }), Swift.abs(ql.reduce(0, +) - 1) <= 1e-12 * Double(ql.count) else {
                throw OverparamError.invalidArgument(name: "weights", problem: "q^(\(l + 1)) must be positive and sum to 1")
            }
        }
        inputFeatures = f0; firstLayer = z1; self.representations = representations; self.weights = q; self.activation = activation
        var pre = [Matrix](), post = [Matrix]()
        var z = Matrix(rows: f0.rows, cols: z1.rows)
        Matrix.gemm(f0, .none, z1, .transposed, alpha: 1 / Double(f0.cols), into: &z)
        for l in 0..<sizes.count {
            if l > 0 {
                var hq = post[l - 1]
                for r in 0..<hq.rows { for c in 0..<hq.cols { hq[r, c] *= q[l - 1][c] } }
                z = Matrix(rows: f0.rows, cols: sizes[l])
                Matrix.gemm(hq, .none, representations[l - 1], .transposed, into: &z)
            }
            pre.append(z); post.append(z.map { activation.valueAndSlope($0).0 })
        }
        preactivations = pre; features = post
    }

    /// The candidate set of a network's own neurons on inputs x (N x d): z_i^(1) = row i of w^(1), a^(l) = w^(l),
    /// q^(l) = 1/m^(l). Its features equal the network's pre-activations g^(l)(x) (eqs. 1, 13-15).
    public init(network: DeepFeatureNetwork, inputs x: Matrix) throws {
        try self.init(inputFeatures: try network.inputFeatures(x), firstLayer: network.weight(layer: 1),
                      representations: network.depth < 2 ? [] : (2...network.depth).map { network.weight(layer: $0) },
                      activation: network.activation)
    }

    /// L.
    public var depth: Int { weights.count }
    /// n_1, ..., n_L.
    public var sizes: [Int] { weights.map(\.count) }
    /// N.
    public var sampleCount: Int { inputFeatures.rows }
}
