import Foundation

/// The l_{a,b} family of layer regularizers of seed 002 (eqs. 10-12 for l_{1,2}; sec. VII-A, fig. 4 for the family):
///
///     R(w, u) = sum_{l=1}^L lambda^(l) R_w^(l)(w^(l)) + lambda^(u) R^(u)(u),
///     R_w^(l) = (1/m^(l-1)) sum_k ( (1/m^(l)) sum_j |w^(l)_jk|^a )^b,        R^(u) = (1/m^(L)) sum_j ||u_j||^2,
///
/// with w^(l)_jk the weight from neuron k of layer l-1 to neuron j of layer l (eq. 1). `.l12` (a = 1, b = 2) is the
/// seed's regularizer: eq. 11 as corrected in SEED-NOTES sec. 2 (the printed |(1/m) sum_j w_jk|^2 lacks the absolute
/// value inside the sum and disagrees with eq. 7). `.weightDecay` (a = 2, b = 1) is ordinary l2 weight decay,
/// ||w^(l)||_F^2 / (m^(l-1) m^(l)); `.l_half_4` is the l_{1/2,4} of fig. 4.
///
/// The exponents must satisfy a > 0 and b >= 1 (S_k^(b-1) must stay finite at S_k = 0).
public struct MixedNormRegularizer: Sendable, Hashable {
    /// The inner exponent a (on |w|) and the outer exponent b (on the column mean).
    public let a: Double, b: Double
    /// lambda^(1), ..., lambda^(L).
    public var layerWeights: [Double]
    /// lambda^(u).
    public var readoutWeight: Double

    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` unless a > 0, b >= 1 and all lambdas are finite
    ///   and non-negative.
    public init(a: Double, b: Double, layerWeights: [Double], readoutWeight: Double) throws {
        guard a > 0, a.isFinite, b >= 1, b.isFinite else {
            throw OverparamError.invalidArgument(name: "l_{a,b}", problem: "need a > 0 and b >= 1 (got a = \(a), b = \(b))")
        }
        guard (layerWeights + [readoutWeight]).allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw OverparamError.invalidArgument(name: "lambda", problem: "regularizer weights \(layerWeights), \(readoutWeight) must be finite and >= 0")
        }
        self.a = a; self.b = b; self.layerWeights = layerWeights; self.readoutWeight = readoutWeight
    }

    /// Seed 002's l_{1,2} regularizer (eqs. 10-12, eq. 11 corrected).
    public static func l12(layerWeights: [Double], readoutWeight: Double) throws -> MixedNormRegularizer {
        try MixedNormRegularizer(a: 1, b: 2, layerWeights: layerWeights, readoutWeight: readoutWeight)
    }
    /// l_{2,1}: ordinary weight decay ||w^(l)||_F^2 / (m^(l-1) m^(l)).
    public static func weightDecay(layerWeights: [Double], readoutWeight: Double) throws -> MixedNormRegularizer {
        try MixedNormRegularizer(a: 2, b: 1, layerWeights: layerWeights, readoutWeight: readoutWeight)
    }
    /// l_{1/2,4} (seed 002 fig. 4; non-convex).
    public static func lHalf4(layerWeights: [Double], readoutWeight: Double) throws -> MixedNormRegularizer {
        try MixedNormRegularizer(a: 0.5, b: 4, layerWeights: layerWeights, readoutWeight: readoutWeight)
    }

    /// True when R is not differentiable where a weight crosses zero (a <= 1): the entries whose sign crossings
    /// ``ScaledSubgradientDescent`` clamps to zero.
    public var isNonsmoothAtZero: Bool { a <= 1 }

    func check(_ layout: DeepFeatureLayout, _ count: Int) throws {
        guard layerWeights.count == layout.depth else {
            throw OverparamError.shapeMismatch("regularizer has \(layerWeights.count) layer weights, the network has L = \(layout.depth) layers")
        }
        guard count == layout.count else {
            throw OverparamError.shapeMismatch("parameter vector has \(count) entries, the layout needs \(layout.count)")
        }
    }

    /// S_k = (1/m^(l)) sum_j |w_jk|^a for every column k of layer l.
    func columnMeans(_ p: [Double], _ layout: DeepFeatureLayout, _ l: Int) -> [Double] {
        let rows = layout.widths[l], cols = layout.widths[l - 1], off = layout.weightOffsets[l - 1]
        var s = [Double](repeating: 0, count: cols)
        for j in 0..<rows { for k in 0..<cols {
            let w = Swift.abs(p[off + j * cols + k])
            s[k] += a == 1 ? w : (a == 2 ? w * w : Foundation.pow(w, a))
        } }
        for k in 0..<cols { s[k] /= Double(rows) }
        return s
    }

    /// R(w, u).
    public func value(_ parameters: [Double], layout: DeepFeatureLayout) throws -> Double {
        try check(layout, parameters.count)
        var r = 0.0
        for l in 1...layout.depth where layerWeights[l - 1] != 0 {
            let s = columnMeans(parameters, layout, l)
            r += layerWeights[l - 1] * s.reduce(0) { $0 + (b == 1 ? $1 : (b == 2 ? $1 * $1 : Foundation.pow($1, b))) } / Double(layout.widths[l - 1])
        }
        if readoutWeight != 0 {
            let q = parameters[layout.readoutRange].reduce(0) { $0 + $1 * $1 }
            r += readoutWeight * q / Double(layout.widths[layout.depth])
        }
        return r
    }

    /// The minimum-norm element G of the subdifferential of Loss + R, given the loss gradient g (seed 002 eqs. 25-26,
    /// entrywise as in SEED-NOTES sec. 2). For w^(l)_jk, with S_k as above and the coefficient
    /// c_jk = lambda^(l) b S_k^(b-1) a |w_jk|^(a-1) / (m^(l-1) m^(l)) (for l_{1,2}: c = 2 lambda^(l) V_k / (m^(l-1) m^(l))):
    ///
    ///     w != 0:               G = g + c sign(w)                 (R is differentiable there)
    ///     w = 0, a > 1:         G = g                             (dR/dw = 0)
    ///     w = 0, a = 1:         G = sign(g) max(|g| - c0, 0)      (c0 = lambda b S_k^(b-1) / (m^(l-1) m^(l)); this is
    ///                                                              g + c0 clip(-g/c0, -1, 1), and G = g when S_k = 0, b > 1)
    ///     w = 0, a < 1, S_k > 0: G = 0                            (|w|^a has unbounded slope: every real is a subgradient)
    ///     w = 0, a < 1, S_k = 0: along w_jk alone R ~ |w|^(a b): G = g if a b > 1, soft threshold if a b = 1, else 0.
    ///
    /// The readout part is smooth: G_u = g_u + 2 lambda^(u) u / m^(L). The subdifferential is a product over entries
    /// (for fixed S_k > 0 the column term is a convex, increasing function of sum_j |w_jk|^a when a = 1), so the
    /// entrywise choice is the minimum-norm element of the whole set.
    public func miniNormSubgradient(_ parameters: [Double], lossGradient g: [Double], layout: DeepFeatureLayout) throws -> [Double] {
        try check(layout, parameters.count)
        guard g.count == parameters.count else { throw OverparamError.shapeMismatch("loss gradient has \(g.count) entries, expected \(parameters.count)") }
        var out = g
        let p = parameters
        for l in 1...layout.depth where layerWeights[l - 1] != 0 {
            let lam = layerWeights[l - 1]
            let rows = layout.widths[l], cols = layout.widths[l - 1], off = layout.weightOffsets[l - 1]
            let scale = lam * b / (Double(rows) * Double(cols))
            let s = columnMeans(p, layout, l)
            let outer = s.map { b == 1 ? 1 : (b == 2 ? $0 : Foundation.pow($0, b - 1)) }
            for j in 0..<rows { for k in 0..<cols {
                let i = off + j * cols + k, w = p[i], gi = g[i]
                if w != 0 {
                    let inner = a == 1 ? 1 : (a == 2 ? 2 * Swift.abs(w) : a * Foundation.pow(Swift.abs(w), a - 1))
                    out[i] = gi + scale * outer[k] * inner * (w > 0 ? 1 : -1)
                } else if a > 1 {
                    out[i] = gi
                } else if a == 1 {
                    out[i] = Self.softThreshold(gi, scale * outer[k])
                } else if s[k] > 0 {
                    out[i] = 0
                } else {
                    let ab = a * b
                    if ab > 1 { out[i] = gi }
                    else if ab == 1 { out[i] = Self.softThreshold(gi, lam / (Foundation.pow(Double(rows), b) * Double(cols))) }
                    else { out[i] = 0 }
                }
            } }
        }
        if readoutWeight != 0 {
            let c = 2 * readoutWeight / Double(layout.widths[layout.depth])
            for i in layout.readoutRange { out[i] = g[i] + c * p[i] }
        }
        return out
    }

    /// The gradient of R alone where it is differentiable (the w = 0 entries of a <= 1 regularizers get 0): the
    /// ``miniNormSubgradient(_:lossGradient:layout:)`` of a zero loss gradient.
    public func gradient(_ parameters: [Double], layout: DeepFeatureLayout) throws -> [Double] {
        try miniNormSubgradient(parameters, lossGradient: [Double](repeating: 0, count: parameters.count), layout: layout)
    }

    /// sign(g) max(|g| - c, 0) = g + c clip(-g / c, -1, 1) (g itself when c = 0).
    @inline(__always) static func softThreshold(_ g: Double, _ c: Double) -> Double {
        let m = Swift.abs(g) - c
        return m > 0 ? (g > 0 ? m : -m) : 0
    }
}
