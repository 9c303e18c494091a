import Foundation

/// The leading constants of seed 002's Theorem 2 (eq. 5) for a wide network taken as the continuous one, per layer
/// and per input (mean over the inputs given):
///
///     C_L = E_x E_{z^(L)} ||u(z) f^(L)(z; x) - f(x)||^2                                   (the Delta-bar_{L+1} term)
///     C_l = E_x E_{z^(l)} || E_{z^(l+1)} [ D(z^(l+1); x) Delta-bar_{l+1}(z^(l+1), z^(l); x) ] ||^2,   l < L,
///     Delta-bar_{l+1} = f^(l)(z^(l); x) w^(l+1)(z^(l+1), z^(l)) - g^(l+1)(z^(l+1); x)   (SEED-NOTES: f^(l) at z^(l)),
///
/// so that E ||f_m - f||^2 = sum_l C_l / m^(l) + o(1/m). Two versions of the weight D (SEED-NOTES sec. 2):
/// - `printed`: D = df/dz^(l+1) of Theorem 2, the recursion df/dz^(L) = u, df/dz^(l) = E[w h'(g^(l+1)) df/dz^(l+1)],
///   i.e. the derivative with respect to the post-activation f^(l+1);
/// - `corrected`: D = h'(g^(l+1)) df/dz^(l+1) = df/dg^(l+1), the derivative with respect to the pre-activation that
///   Delta-bar perturbs (the a_i of V(w, u) in sec. VII).
/// For l = L both coincide. Mean-field derivatives are m^(l+1) times the backpropagated ones of the discrete network.
public struct DiscretizationConstants: Sendable, Codable {
    /// C_1, ..., C_L with D = df/df^(l+1) (eq. 5 as printed).
    public var printed: [Double]
    /// C_1, ..., C_L with D = df/dg^(l+1) (with the h'(g^(l+1)) factor).
    public var corrected: [Double]

    /// sum over sampled layers of C_l / m^(l) (nil widths: layer kept whole, no sampling error).
    public static func predicted(_ c: [Double], widths: [Int?]) -> Double {
        var s = 0.0
        for (cl, m) in zip(c, widths) { if let m { s += cl / Double(m) } }
        return s
    }
}

/// Seed 002 sec. IV-C's construction of a discrete network from a continuous one, with a wide ``DeepFeatureNetwork``
/// as the continuous network: rho^(l) is the uniform (empirical) measure on its m^(l) neurons, w^(l)(z, z') its weight
/// matrix and u(z) its readout rows. A sub-network draws m^(l) i.i.d. neurons z_i^(l) ~ rho^(l) per layer (uniform with
/// replacement) and sets w_ij^(l) = w^(l)(z_i^(l), z_j^(l-1)), u_i = u(z_i^(L)); the network's own 1/m^(l-1) averages
/// are then the right re-weighting (i.i.d. draws from rho; g is unbiased given the lower layer, f_m to leading order).
/// A layer can also be kept whole (no sampling there) to isolate one layer's term of eq. 5.
public struct SubnetworkSampler: Sendable {
    public let network: DeepFeatureNetwork

    public init(network: DeepFeatureNetwork) { self.network = network }

    /// The sub-network on neuron index lists per hidden layer (nil: keep all neurons of that layer, in order).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for wrong counts or out-of-range indices.
    public func subnetwork(indices: [[Int]?]) throws -> DeepFeatureNetwork {
        let w = network.widths, L = network.depth
        guard indices.count == L else { throw OverparamError.invalidArgument(name: "indices", problem: "need \(L) layers, got \(indices.count)") }
        let sel: [[Int]] = [Array(0..<w[0])] + (1...L).map { indices[$0 - 1] ?? Array(0..<w[$0]) }
        for l in 1...L {
            guard !sel[l].isEmpty, sel[l].allSatisfy({ (0..<w[l]).contains($0) }) else {
                throw OverparamError.invalidArgument(name: "indices", problem: "layer \(l): need >= 1 indices in 0..<\(w[l])")
            }
        }
        let layout = DeepFeatureLayout(widths: sel.map(\.count), outputs: network.outputs)
        var p = [Double](repeating: 0, count: layout.count)
        let src = network.parameters
        for l in 1...L {
            let off = network.layout.weightOffsets[l - 1], cols = w[l - 1], o = layout.weightOffsets[l - 1], nc = sel[l - 1].count
            for (a, i) in sel[l].enumerated() { for (b, j) in sel[l - 1].enumerated() { p[o + a * nc + b] = src[off + i * cols + j] } }
        }
        let k = network.outputs
        for (a, i) in sel[L].enumerated() { for c in 0..<k { p[layout.readoutOffset + a * k + c] = src[network.layout.readoutOffset + i * k + c] } }
        return try DeepFeatureNetwork(inputDimension: network.inputDimension, hiddenWidths: Array(layout.widths.dropFirst()),
                                      outputs: k, activation: network.activation, inputBias: network.inputBias, parameters: p)
    }

    /// A sub-network with m^(l) = widths[l - 1] i.i.d. uniform draws per layer (nil: keep the layer whole).
    public func sample(widths: [Int?], using rng: inout Xoshiro256StarStar) throws -> DeepFeatureNetwork {
        guard widths.count == network.depth, widths.allSatisfy({ ($0 ?? 1) >= 1 }) else {
            throw OverparamError.invalidArgument(name: "widths", problem: "need \(network.depth) sub-widths >= 1 (or nil), got \(widths)")
        }
        let idx: [[Int]?] = widths.enumerated().map { l, m in m.map { c in (0..<c).map { _ in rng.index(below: network.widths[l + 1]) } } }
        return try subnetwork(indices: idx)
    }

    /// ||a - b||^2 averaged over inputs: (1/n) sum_x sum_k (a_k(x) - b_k(x))^2.
    static func meanSquaredDifference(_ a: Matrix, _ b: Matrix) -> Double {
        var s = 0.0
        for i in 0..<a.storage.count { let d = a.storage[i] - b.storage[i]; s += d * d }
        return s / Double(a.rows)
    }

    /// E ||f_m - f||^2 over `repetitions` independent sub-networks: the mean and its standard error, with
    /// ||.||^2 the mean over the inputs x of the squared output difference (summed over outputs).
    public func meanSquaredError(widths: [Int?], inputs x: Matrix, repetitions: Int, seed: UInt64) throws -> (mean: Double, standardError: Double, values: [Double]) {
        guard repetitions >= 2 else { throw OverparamError.invalidArgument(name: "repetitions", problem: "need >= 2 for a standard error, got \(repetitions)") }
        let f = try network(x)
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x5AB5)
        var v = [Double]()
        for _ in 0..<repetitions { v.append(Self.meanSquaredDifference(try sample(widths: widths, using: &rng)(x), f)) }
        let n = Double(v.count), m = v.reduce(0, +) / n
        let s2 = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
        return (m, (s2 / n).squareRoot(), v)
    }

    /// Both versions of eq. 5's constants on inputs x (``DiscretizationConstants``), from one forward pass and the
    /// backpropagated derivatives of each output.
    public func constants(inputs x: Matrix) throws -> DiscretizationConstants {
        let pass = try network.forward(x)
        let w = network.widths, L = network.depth, n = x.rows, k = network.outputs
        var printed = [Double](repeating: 0, count: L), corrected = printed
        // Top layer: Var_z(u(z) f^(L)(z; x)) (mean over the m^(L) neurons).
        let u = network.readout, fL = pass.features[L], out = pass.outputs
        var top = 0.0
        for r in 0..<n { for j in 0..<w[L] { for c in 0..<k { let d = u[j, c] * fL[r, j] - out[r, c]; top += d * d } } }
        printed[L - 1] = top / Double(n * w[L]); corrected[L - 1] = printed[L - 1]
        guard L >= 2 else { return DiscretizationConstants(printed: printed, corrected: corrected) }
        for c in 0..<k {
            let deltas = try network.outputDerivatives(pass, output: c)   // df/dg^(l) (backprop units), l = 1...L
            for l in 1..<L {
                // D over layer l+1 (backprop units; the 1/m^(l+1) of the mean-field E_{z^(l+1)} is included).
                let dg = deltas[l]                      // df/dg^(l+1): n x m^(l+1)
                var df: Matrix                          // df/df^(l+1): n x m^(l+1)
                if l + 1 == L {
                    df = Matrix(rows: n, cols: w[L])
                    for r in 0..<n { for j in 0..<w[L] { df[r, j] = u[j, c] / Double(w[L]) } }
                } else {
                    df = Matrix(rows: n, cols: w[l + 1])
                    Matrix.gemm(deltas[l + 1], .none, network.weight(layer: l + 2), .none, alpha: 1 / Double(w[l + 1]), into: &df)
                }
                let wl = network.weight(layer: l + 1), g = pass.preactivations[l], f = pass.features[l]
                for (version, d) in [(0, df), (1, dg)] {
                    // T_k(x) = f_k^(l)(x) sum_i D_i w_ik - sum_i D_i g_i;  C_l = mean_x mean_k T_k^2.
                    let dw = Matrix.product(d, .none, wl, .none)   // n x m^(l)
                    var s = 0.0
                    for r in 0..<n {
                        var dgDot = 0.0
                        for i in 0..<w[l + 1] { dgDot += d[r, i] * g[r, i] }
                        for j in 0..<w[l] { let t = f[r, j] * dw[r, j] - dgDot; s += t * t }
                    }
                    let value = s / Double(n * w[l])
                    if version == 0 { printed[l - 1] += value } else { corrected[l - 1] += value }
                }
            }
        }
        return DiscretizationConstants(printed: printed, corrected: corrected)
    }
}
