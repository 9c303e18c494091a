import Foundation

/// How a layer's trainable weights enter its pre-activation, and how they are initialized.
///
/// Every convention writes layer l (l = 1...L+1, fan-in n_{l-1}, n_0 = d) as
///
///     z^(l) = a_l W^(l) x^(l-1) + beta_l b^(l),   W_ij ~ N(0, v_l),  b_i ~ N(0, vb_l),
///
/// with x^(0) the input and x^(l) = sigma(z^(l)). They differ only in (a_l, v_l, beta_l, vb_l) (``LayerScale``).
/// The infinite-width recursion (``InfiniteWidthKernel``) then uses
/// rho_l = a_l^2 v_l n_{l-1} (the effective C_W), the bias variance beta_l^2 vb_l, and the gradient factors
/// gamma_l = a_l^2 n_{l-1} and beta_l^2 of the NTK:
///
///     Sigma^(1) = rho_1 x.x'/d + beta_1^2 vb_1,        Theta^(1) = gamma_1 x.x'/d + beta_1^2,
///     Sigma^(l) = rho_l E_{l-1} + beta_l^2 vb_l,        Theta^(l) = gamma_l E_{l-1} + beta_l^2 + rho_l Edot_{l-1} Theta^(l-1),
///
/// where (E, Edot) are the dual maps of sigma at Sigma^(l-1). For `ntk` the widths drop out; for the others the
/// recursion is evaluated at the architecture's widths (the Gaussian limit with each layer's scale factors held
/// fixed), which is what the finite network's kernels concentrate around.
public enum Parameterization: Sendable, Hashable, Codable, CustomStringConvertible {
    /// neural-tangents' NTK parameterization: a = sqrt(C_W / n_{l-1}), W ~ N(0, 1), beta = sqrt(C_b), b ~ N(0, 1).
    case ntk
    /// Standard parameterization: a = 1, W ~ N(0, C_W / n_{l-1}), beta = 1, b ~ N(0, C_b).
    /// (Its NTK grows with width: gamma_l = n_{l-1}.)
    case standard
    /// Mean-field: hidden layers as `standard`, readout f = (1/n_L) sum_j u_j x_j with u ~ N(0, C_W^out)
    /// (seed 003 eq. 3.1 with Gaussian first-layer weights).
    case meanField
    /// Seed 000 eq. 1: f = (alpha / m) sum_j u_j h(theta_j . x), theta, u ~ N(0, C_W) (C_W = sigma^2), no 1/d on
    /// the first layer; alpha = 1 is mean field, alpha = sqrt(m) the NTK scaling. Deeper hidden layers are `standard`.
    case scaled(alpha: Double)
    /// Seed 001 eqs. 1-2 (Huang-Yau): x^(l) = sigma(W^(l) x^(l-1)) / sqrt(m), f = a^T x^(H), W ~ N(0, s_w^2),
    /// a ~ N(0, s_a^2), no 1/sqrt(d) on layer 1, no biases. So a_1 = 1, a_l = 1/sqrt(n_{l-1}) for l >= 2, v = C_W
    /// (C_W^out for the readout). Infinite-width limit: SEED-NOTES sec. 2 (Sigma^(1) = s_w^2 x.x').
    case huangYau
    /// Seed 002 eqs. 1-2 (Fang-Gu-Zhang-Zhang): g^(l) = (1/m^(l-1)) sum_k w_jk f_k (1/d on layer 1) with
    /// O(sqrt(m)) initial weights: a = 1/n_{l-1}, W ~ N(0, C_W n_{l-1}), beta = 1, b ~ N(0, C_b).
    case fangGuZhang
    /// Seed 004 eqs. 3.1.1 / 3.3.1 (Hanin): z^(l+1) = W z / sqrt(N_l), W ~ N(0, C_W), b ~ N(0, C_b).
    case hanin
    /// Seed 004 eq. 2.1.1: Hanin's layers with the readout scaled by 1/gamma, z^(2) = (1/(gamma sqrt(N_1))) W^(2) sigma(z^(1)):
    /// gamma = 1 is the NTK regime, gamma = sqrt(N_1) the mean-field regime; eq. 2.1.11 pairs it with eta ~ gamma^2.
    case haninScaled(gamma: Double)

    /// Parse a CLI name: ntk, standard, mean-field, scaled:ALPHA, huang-yau (seed001), fang-gu-zhang (seed002), hanin (seed004).
    public init(parsing text: String) throws {
        let t = text.lowercased()
        switch t {
        case "ntk": self = .ntk
        case "standard": self = .standard
        case "mean-field", "meanfield": self = .meanField
        case "huang-yau", "seed001": self = .huangYau
        case "fang-gu-zhang", "seed002": self = .fangGuZhang
        case "hanin", "seed004": self = .hanin
        default:
            if t.hasPrefix("hanin:"), let g = Double(t.dropFirst(6)), g > 0 { self = .haninScaled(gamma: g); return }
            if t.hasPrefix("scaled:"), let a = Double(t.dropFirst(7)), a > 0 { self = .scaled(alpha: a); return }
            throw OverparamError.invalidArgument(name: "--parameterization", problem: "unknown parameterization '\(text)'; use ntk, standard, mean-field, scaled:ALPHA (ALPHA > 0), huang-yau, fang-gu-zhang, hanin or hanin:GAMMA")
        }
    }

    public var description: String {
        switch self {
        case .ntk: return "ntk"
        case .standard: return "standard"
        case .meanField: return "mean-field"
        case let .scaled(a): return "scaled:\(a)"
        case .huangYau: return "huang-yau"
        case .fangGuZhang: return "fang-gu-zhang"
        case .hanin: return "hanin"
        case let .haninScaled(g): return "hanin:\(g)"
        }
    }

    /// The scale factors of layer `layer` (1-based; `layer == depth + 1` is the readout).
    public func scale(layer: Int, fanIn n: Int, isReadout: Bool, weightVariance cw: Double, biasVariance cb: Double) -> LayerScale {
        let nd = Double(n)
        switch self {
        case .ntk:
            return LayerScale(a: (cw / nd).squareRoot(), v: 1, beta: cb.squareRoot(), vb: 1)
        case .standard:
            return LayerScale(a: 1, v: cw / nd, beta: 1, vb: cb)
        case .meanField:
            return isReadout ? LayerScale(a: 1 / nd, v: cw, beta: 1, vb: cb) : LayerScale(a: 1, v: cw / nd, beta: 1, vb: cb)
        case let .scaled(alpha):
            if isReadout { return LayerScale(a: alpha / nd, v: cw, beta: 1, vb: cb) }
            return layer == 1 ? LayerScale(a: 1, v: cw, beta: 1, vb: cb) : LayerScale(a: 1, v: cw / nd, beta: 1, vb: cb)
        case .huangYau:
            return LayerScale(a: layer == 1 ? 1 : 1 / nd.squareRoot(), v: cw, beta: 1, vb: cb)
        case .fangGuZhang:
            return LayerScale(a: 1 / nd, v: cw * nd, beta: 1, vb: cb)
        case .hanin:
            return LayerScale(a: 1 / nd.squareRoot(), v: cw, beta: 1, vb: cb)
        case let .haninScaled(gamma):
            return LayerScale(a: (isReadout ? 1 / gamma : 1) / nd.squareRoot(), v: cw, beta: 1, vb: cb)
        }
    }
}

/// The scale factors of one layer: z = a W x + beta b with W ~ N(0, v), b ~ N(0, vb).
public struct LayerScale: Sendable, Hashable, Codable {
    public var a: Double
    public var v: Double
    public var beta: Double
    public var vb: Double
}
