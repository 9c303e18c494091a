import Foundation

/// Seed 002's Algorithm 1, scaled (sub)gradient descent, as an ``Optimizer`` on the flat parameters of a
/// ``DeepFeatureNetwork``:
///
///     w^(l)_jk <- w^(l)_jk - eta m^(l-1) m^(l) G_{w^(l)_jk},     u_j <- u_j - eta m^(L) G_{u_j},
///
/// with G the minimum-norm subgradient of Q (eqs. 25-26; ``MixedNormRegularizer/miniNormSubgradient(_:lossGradient:layout:)``).
/// The per-layer factors are the time scales of the mean-field limit: as eta -> 0 the iterates follow the flow
/// dw/dt = -m^(l-1) m^(l) G_w, du/dt = -m^(L) G_u, along which
///
///     dQ/dt = -sum_l m^(l-1) m^(l) ||G_{w^(l)}||^2 - m^(L) ||G_u||^2   (``dissipation(_:)`` returns the right side).
///
/// Exact zeros stay reachable: where the regularizer is non-smooth at zero (a <= 1, lambda^(l) > 0), a step that
/// would carry a weight across zero (from either sign to the other, or onto zero) stops it at exactly 0. At 0 the
/// mini-norm subgradient is 0 whenever |dLoss/dw| <= c (the weight stays), and otherwise moves it off zero on the
/// side of -dLoss/dw: the discrete counterpart of the flow's sticking at zero.
public struct ScaledSubgradientDescent: Optimizer {
    /// eta.
    public var learningRate: Double
    /// The per-parameter factors m^(l-1) m^(l) and m^(L) (``stepScales(_:)``).
    public let scales: [Double]
    /// Entries whose sign crossings are clamped to zero (nil: none).
    public let clampMask: [Bool]?

    /// - Parameters:
    ///   - regularizer: decides which entries are clamped at sign crossings (nil, or ``MixedNormRegularizer/isNonsmoothAtZero``
    ///     false: plain scaled gradient descent).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for eta <= 0, ``OverparamError/shapeMismatch(_:)`` when
    ///   the regularizer does not fit the layout.
    public init(learningRate eta: Double, layout: DeepFeatureLayout, regularizer: MixedNormRegularizer? = nil) throws {
        guard eta > 0, eta.isFinite else { throw OverparamError.invalidArgument(name: "learningRate", problem: "eta = \(eta) must be positive and finite") }
        learningRate = eta
        scales = Self.stepScales(layout)
        clampMask = try regularizer.flatMap { try Self.clampMask(layout, $0) }
    }

    /// m^(l-1) m^(l) for every entry of w^(l), m^(L) for u.
    public static func stepScales(_ layout: DeepFeatureLayout) -> [Double] {
        var s = [Double](repeating: Double(layout.widths[layout.depth]), count: layout.count)
        for l in 1...layout.depth {
            let f = Double(layout.widths[l - 1]) * Double(layout.widths[l])
            for i in layout.weightRange(l) { s[i] = f }
        }
        return s
    }

    /// The entries of layers with lambda^(l) > 0 when the regularizer is non-smooth at zero; nil when none are.
    public static func clampMask(_ layout: DeepFeatureLayout, _ r: MixedNormRegularizer) throws -> [Bool]? {
        guard r.layerWeights.count == layout.depth else {
            throw OverparamError.shapeMismatch("regularizer has \(r.layerWeights.count) layer weights, the network has L = \(layout.depth) layers")
        }
        guard r.isNonsmoothAtZero, r.layerWeights.contains(where: { $0 > 0 }) else { return nil }
        var mask = [Bool](repeating: false, count: layout.count)
        for l in 1...layout.depth where r.layerWeights[l - 1] > 0 { for i in layout.weightRange(l) { mask[i] = true } }
        return mask
    }

    /// Stop sign crossings at zero: for masked entries with old != 0 and new * old <= 0, new = 0.
    public static func clampSignCrossings(from old: [Double], to new: inout [Double], mask: [Bool]) {
        for i in 0..<new.count where mask[i] {
            let o = old[i]
            if o != 0 && (new[i] * o <= 0) { new[i] = 0 }
        }
    }

    /// One step theta <- theta - eta s o G, then the sign-crossing clamp.
    public mutating func step(_ theta: inout [Double], gradient g: [Double]) {
        precondition(theta.count == scales.count && g.count == scales.count, "ScaledSubgradientDescent: parameter count")
        let old = clampMask == nil ? [] : theta
        let eta = learningRate
        for i in 0..<theta.count { theta[i] -= eta * scales[i] * g[i] }
        if let mask = clampMask { Self.clampSignCrossings(from: old, to: &theta, mask: mask) }
    }

    /// sum_i s_i G_i^2 = sum_l m^(l-1) m^(l) ||G_{w^(l)}||^2 + m^(L) ||G_u||^2, so dQ/dt = -dissipation(G) along the flow.
    public func dissipation(_ g: [Double]) -> Double {
        precondition(g.count == scales.count)
        var e = 0.0
        for i in 0..<g.count { e += scales[i] * g[i] * g[i] }
        return e
    }
}
