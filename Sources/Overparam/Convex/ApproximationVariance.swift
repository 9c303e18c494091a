import Foundation

/// Seed 002's approximation variance of discretization V(w, u) (sec. VII, after Theorem 2's eq. 5), the metric of
/// fig. 2 (a), evaluated on a set of inputs x_1, ..., x_n (the expectation E_x is their mean):
///
///     V(w, u) = V^(L+1) + sum_{l=2}^L V^(l),
///     V^(L+1) = E_x (1/m^(L))^2 sum_{j=1}^{m^(L)} || u_j f^(L)_j(x) - f(x) ||^2,
///     V^(l)   = E_x (1/m^(l-1))^2 sum_{j=1}^{m^(l-1)} || sum_{i=1}^{m^(l)} a^(l)_i(x) ( f^(l-1)_j(x) w^(l)_ij - g^(l)_i(x) ) ||^2,
///
/// with a^(l)_i(x) = d f(x) / d g^(l)_i(x) computed by backpropagation (``DeepFeatureNetwork/outputDerivatives(_:output:)``;
/// for K outputs a_i is a K-vector and ||.|| the Euclidean norm over the outputs). Corrections (SEED-NOTES sec. 2):
/// the printed first term lacks E_x; Delta-bar_l uses f^(l-1)(z^(l-1)), i.e. the feature of the *sampled lower* neuron
/// j, as written here.
///
/// Reading: (1/m)^2 sum_j = (1/m) mean_j, and each summand is the squared deviation of a one-neuron estimate from its
/// mean over neurons (mean_j u_j f_j = f, mean_j f_j w_ij = g_i), so V^(l) is (1/m^(l-1)) times the variance, over a
/// uniformly drawn neuron j of layer l-1, of its linearized effect on f; V^(L+1) is (1/m^(L)) times the variance of
/// the readout's one-neuron estimate u_j f_j. Layer 1 has no term (the inputs are not sampled).
///
/// Cost: one forward pass, one backward pass per output, and one GEMM (n x m^(l)) x (m^(l) x m^(l-1)) per layer.
public struct ApproximationVariance: Sendable, Codable, Equatable {
    /// V^(l) for l = 2...L (index l - 2; empty when L = 1).
    public var layerTerms: [Double]
    /// V^(L+1), the readout term.
    public var readoutTerm: Double

    /// V(w, u) = readoutTerm + sum of layerTerms.
    public var total: Double { readoutTerm + layerTerms.reduce(0, +) }

    public init(layerTerms: [Double], readoutTerm: Double) {
        self.layerTerms = layerTerms; self.readoutTerm = readoutTerm
    }

    /// V(w, u) of `network` with E_x the mean over the rows of `inputs` (n x d, n >= 1).
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` for inputs of the wrong width or no rows,
    ///   ``OverparamError/nonFinite(_:)`` for non-finite inputs.
    public init(_ network: DeepFeatureNetwork, inputs x: Matrix) throws {
        guard x.rows >= 1 else { throw OverparamError.shapeMismatch("approximation variance needs at least one input (got 0 rows)") }
        let pass = try network.forward(x)
        try self.init(network, pass: pass)
    }

    /// V(w, u) from a forward pass already computed on the inputs.
    public init(_ network: DeepFeatureNetwork, pass: DeepFeaturePass) throws {
        let n = pass.outputs.rows, K = network.outputs, L = network.depth, w = network.widths
        guard n >= 1 else { throw OverparamError.shapeMismatch("approximation variance needs at least one input (got 0 rows)") }
        // Readout term: (1/n) (1/m_L^2) sum_x sum_j ||u_j f_j(x) - f(x)||^2.
        let fL = pass.features[L], u = network.readout, f = pass.outputs
        let mL = w[L]
        var readout = 0.0
        for i in 0..<n {
            for j in 0..<mL {
                let h = fL[i, j]
                for c in 0..<K { let e = u[j, c] * h - f[i, c]; readout += e * e }
            }
        }
        readoutTerm = readout / (Double(n) * Double(mL) * Double(mL))
        // Layer terms: T_j(x) = f_j^(l-1)(x) (a W)_j(x) - (a . g)(x), with (a W) one GEMM.
        var terms = [Double](repeating: 0, count: Swift.max(0, L - 1))
        if L >= 2 {
            for k in 0..<K {
                let a = try network.outputDerivatives(pass, output: k)
                for l in 2...L {
                    let al = a[l - 1], g = pass.preactivations[l - 1], fPrev = pass.features[l - 1]
                    let lower = w[l - 1], upper = w[l]
                    var aw = Matrix(rows: n, cols: lower)
                    Matrix.gemm(al, .none, network.weight(layer: l), .none, into: &aw)
                    var s = 0.0
                    for i in 0..<n {
                        var ag = 0.0
                        for q in 0..<upper { ag += al[i, q] * g[i, q] }
                        for j in 0..<lower { let t = fPrev[i, j] * aw[i, j] - ag; s += t * t }
                    }
                    terms[l - 2] += s / (Double(n) * Double(lower) * Double(lower))
                }
            }
        }
        layerTerms = terms
    }
}
