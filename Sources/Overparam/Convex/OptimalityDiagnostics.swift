import Foundation

/// The per-neuron quantities of seed 002's optimality check (sec. VII item 1, Proposition 1, fig. 1) for one layer,
/// with the least-squares line v = slope u + intercept and Pearson's r.
public struct LayerOptimality: Sendable, Codable {
    /// l (1...L).
    public var layer: Int
    /// u_j^(l) for j = 1...m^(l).
    public var u: [Double]
    /// v_j^(l) for j = 1...m^(l).
    public var v: [Double]
    /// Pearson correlation of (u, v) (NaN when either is constant).
    public var correlation: Double
    /// Least-squares slope and intercept of v on u; Proposition 1 predicts slope 2 and intercept Lambda^(l).
    public var slope: Double
    public var intercept: Double
}

/// u_j^(l), v_j^(l) of seed 002 eqs. 28-29, in eq. 1's index convention as corrected in SEED-NOTES sec. 2 (the
/// printed eqs. swap the weight indices; w^(l)_jk connects neuron k of layer l-1 to neuron j of layer l):
///
///     u_j^(l) = lambda^(l) / (m^(l) m^(l-1)) sum_k ( sum_j' |w^(l)_j'k| ) |w^(l)_jk|,
///     v_j^(l) = lambda^(l+1) ( (1/m^(l+1)) sum_i |w^(l+1)_ij| )^2   (l < L),     v_j^(L) = lambda^(u) ||u_j||^2.
///
/// At an optimum of the continuous l_{1,2} program Proposition 1 gives v = 2u + Lambda^(l) per layer.
public enum OptimalityDiagnostics {
    /// One ``LayerOptimality`` per layer l = 1...L.
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` unless the regularizer is l_{1,2} (a = 1, b = 2:
    ///   Proposition 1 is stated for it); ``OverparamError/shapeMismatch(_:)`` when it does not fit the network.
    public static func layers(_ network: DeepFeatureNetwork, regularizer r: MixedNormRegularizer) throws -> [LayerOptimality] {
        guard r.a == 1, r.b == 2 else {
            throw OverparamError.invalidArgument(name: "regularizer", problem: "Proposition 1's u-v relation is for l_{1,2} (a = 1, b = 2), got l_{\(r.a),\(r.b)}")
        }
        let layout = network.layout
        try r.check(layout, network.parameters.count)
        let p = network.parameters, w = layout.widths, L = layout.depth
        var out = [LayerOptimality]()
        for l in 1...L {
            let rows = w[l], cols = w[l - 1], off = layout.weightOffsets[l - 1]
            var colSum = [Double](repeating: 0, count: cols)
            for j in 0..<rows { for k in 0..<cols { colSum[k] += Swift.abs(p[off + j * cols + k]) } }
            let c = r.layerWeights[l - 1] / (Double(rows) * Double(cols))
            let u = (0..<rows).map { j in c * (0..<cols).reduce(0) { $0 + colSum[$1] * Swift.abs(p[off + j * cols + $1]) } }
            var v = [Double](repeating: 0, count: rows)
            if l < L {
                let nr = w[l + 1], o2 = layout.weightOffsets[l]
                for j in 0..<rows {
                    var s = 0.0
                    for i in 0..<nr { s += Swift.abs(p[o2 + i * rows + j]) }
                    s /= Double(nr)
                    v[j] = r.layerWeights[l] * s * s
                }
            } else {
                let k = layout.outputs, o2 = layout.readoutOffset
                for j in 0..<rows { v[j] = r.readoutWeight * (0..<k).reduce(0) { $0 + p[o2 + j * k + $1] * p[o2 + j * k + $1] } }
            }
            let fit = linearFit(u, v)
            out.append(LayerOptimality(layer: l, u: u, v: v, correlation: fit.correlation, slope: fit.slope, intercept: fit.intercept))
        }
        return out
    }

    /// Pearson r and the least-squares line y = slope x + intercept (NaN slope when x is constant).
    public static func linearFit(_ x: [Double], _ y: [Double]) -> (correlation: Double, slope: Double, intercept: Double) {
        precondition(x.count == y.count && !x.isEmpty)
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in 0..<x.count { let a = x[i] - mx, b = y[i] - my; sxx += a * a; syy += b * b; sxy += a * b }
        let slope = sxy / sxx
        return (sxy / (sxx * syy).squareRoot(), slope, my - slope * mx)
    }
}
