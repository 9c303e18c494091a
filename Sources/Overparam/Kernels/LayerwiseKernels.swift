import Foundation

/// Every layer of the infinite-width recursion between two input sets (the slow, inspectable path).
///
/// For l = 1...L+1: Sigma^(l), Theta^(l); for hidden layers l = 1...L: E_l = E[sigma(u) sigma(v)],
/// Edot_l = E[sigma'(u) sigma'(v)] at Sigma^(l); and the per-layer NTK pieces (seed 001 eq. 7)
///
///     G^(l) = (gamma_l E_{l-1} + beta_l^2) prod_{k=l+1}^{L+1} rho_k Edot_{k-1},   E_0 = x.x'/d,
///
/// which sum to Theta^(L+1). In seed 001's convention (`.huangYau`, no biases) this is SEED-NOTES sec. 2's
/// G^(l) = [x.x' if l = 1 else E_{l-1}] s_a^2 Edot_H prod_{k=l}^{H-1} s_w^2 Edot_k.
public struct LayerwiseKernels: Sendable {
    public var nngp: [Matrix]
    public var ntk: [Matrix]
    public var e: [Matrix]
    public var eDot: [Matrix]
    /// G^(l), l = 1...L+1: the contribution of layer l's parameters to the NTK.
    public var ntkPieces: [Matrix]
}

extension InfiniteWidthKernel {
    /// All layers of the recursion between `x1` and `x2` (`nil` = `x1`).
    public func layerwise(_ x1: Matrix, _ x2: Matrix? = nil) throws -> LayerwiseKernels {
        let d = architecture.inputDimension
        guard x1.cols == d, (x2?.cols ?? d) == d else { throw OverparamError.shapeMismatch("inputs must have \(d) columns") }
        guard x1.isFinite, x2?.isFinite ?? true else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        let other = x2 ?? x1
        let g = Matrix.product(x1, .none, other, .transposed, alpha: 1 / Double(d))
        let sq1 = (0..<x1.rows).map { dot(x1.row($0), x1.row($0)) / Double(d) }
        let sq2 = (0..<other.rows).map { dot(other.row($0), other.row($0)) / Double(d) }
        let dg1 = hiddenDiagonals(sq1), dg2 = hiddenDiagonals(sq2)
        let n1 = x1.rows, n2 = other.rows, L1 = coefficients.count
        let zero = Matrix(rows: n1, cols: n2)
        var sig = [Matrix](repeating: zero, count: L1), th = sig
        var e = [Matrix](repeating: zero, count: L1 - 1), ed = e
        var pieces = [Matrix](repeating: zero, count: L1)
        for i in 0..<n1 {
            for j in 0..<n2 {
                let gij = x2 == nil && i == j ? sq1[i] : g[i, j]
                var s = coefficients[0][0] * gij + coefficients[0][1]
                var t = coefficients[0][2] * gij + coefficients[0][3]
                var own = [t]                 // gamma_l E_{l-1} + beta_l^2 per layer
                var gains = [Double]()        // rho_k Edot_{k-1} for k = 2...L+1
                sig[0][i, j] = s; th[0][i, j] = t
                for l in 1..<L1 {
                    let v = dual(dg1[l - 1][i], dg2[l - 1][j], s)
                    e[l - 1][i, j] = v[0]; ed[l - 1][i, j] = v[1]
                    let c = coefficients[l]
                    own.append(c[2] * v[0] + c[3])
                    gains.append(c[0] * v[1])
                    t = c[2] * v[0] + c[3] + c[0] * v[1] * t
                    s = c[0] * v[0] + c[1]
                    sig[l][i, j] = s; th[l][i, j] = t
                }
                for l in 0..<L1 {
                    var p = own[l]
                    for k in l..<gains.count { p *= gains[k] }
                    pieces[l][i, j] = p
                }
            }
        }
        return LayerwiseKernels(nngp: sig, ntk: th, e: e, eDot: ed, ntkPieces: pieces)
    }
}

/// The two-layer kernels of seed 000 sec. IV for f = (alpha/m) sum_j u_j h(theta_j . x), theta ~ N(0, sigma^2 I),
/// u ~ N(0, sigma_u^2) (no 1/d):
///
///     k^u(x, x')     = E_theta[h(theta . x) h(theta . x')]                        (gradient in u),
///     k^theta(x, x') = sigma_u^2 E_theta[h'(theta . x) h'(theta . x')] x . x'     (gradient in theta; the seed's
///                      scalar form with (x, x') in place of the misprinted (x, x), SEED-NOTES sec. 2),
///
/// so that the NTK of the `scaled(alpha)` network is (alpha^2 / m)(k^u + k^theta).
public struct TwoLayerKernels: Sendable {
    public let activation: Activation
    /// sigma^2, the variance of first-layer weights.
    public let thetaVariance: Double
    /// sigma_u^2, the variance of output weights.
    public let outputVariance: Double

    public init(activation: Activation, thetaVariance: Double = 1, outputVariance: Double = 1) {
        self.activation = activation; self.thetaVariance = thetaVariance; self.outputVariance = outputVariance
    }

    /// (k^u, k^theta) between the rows of x1 and x2.
    public func callAsFunction(_ x1: Matrix, _ x2: Matrix? = nil) -> (ku: Matrix, kTheta: Matrix) {
        let other = x2 ?? x1
        let g = Matrix.product(x1, .none, other, .transposed)
        let n1 = (0..<x1.rows).map { dot(x1.row($0), x1.row($0)) }
        let n2 = (0..<other.rows).map { dot(other.row($0), other.row($0)) }
        let dual = DualActivation(activation)
        var ku = g, kt = g
        let s2 = thetaVariance
        for i in 0..<g.rows { for j in 0..<g.cols {
            let v = dual(s2 * n1[i], s2 * n2[j], s2 * g[i, j])
            ku[i, j] = v[0]; kt[i, j] = outputVariance * v[1] * g[i, j]
        } }
        return (ku, kt)
    }

    /// The random-features kernel k_m(x, x') = (1/m) sum_j h(theta_j . x) h(theta_j . x') for m features
    /// theta_j ~ N(0, sigma^2 I) (seed 000 sec. III); k_m -> k^u as m -> infinity.
    public func randomFeatures(_ x1: Matrix, _ x2: Matrix? = nil, features m: Int, seed: UInt64) -> Matrix {
        var rng = Xoshiro256StarStar(seed: seed)
        let theta = Matrix.randomNormal(rows: m, cols: x1.cols, std: thetaVariance.squareRoot(), using: &rng)
        let act = activation
        let h1 = Matrix.product(x1, .none, theta, .transposed).map { act($0) }
        let h2 = x2.map { Matrix.product($0, .none, theta, .transposed).map { act($0) } }
        return h2.map { Matrix.product(h1, .none, $0, .transposed, alpha: 1 / Double(m)) } ?? h1.gram(alpha: 1 / Double(m))
    }
}
