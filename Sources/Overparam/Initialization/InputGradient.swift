import Foundation

// The input gradient grad_x z^(L+1)(x) of a ReLU network, exactly: on the activation region containing x the network is
// affine, and its slope is the product of the active layers' matrices (seed 004 ch. 4, eq. 4.0.1 corrected per
// SEED-NOTES, and the normalization statement after it).

extension LinearRegions {
    /// The activation pattern of x, the output z^(L+1)(x) and its exact gradient in x, grad_x z^(L+1)(x): the slope of
    /// the affine map the network computes on the activation region containing x.
    ///
    /// With the effective layers A_l = a_l W^(l) (``Network/scales``; A_l = W^(l) / sqrt(N_{l-1}) for eq. 4.0.1) and
    /// D_l = diag(1{z^(l)(x) > 0}),
    ///
    ///     grad_x z^(L+1)(x) = (A_{L+1} D_L A_L D_{L-1} ... D_1 A_1)^T  (row `output` of the readout),
    ///
    /// computed by one forward pass (the pattern) and one backward pass of a row vector (N_1 N_0 + ... + N_L N_{L+1}
    /// multiply-adds). A neuron with z = 0 exactly counts as off (as in ``segment(from:to:)``), so at a point on a
    /// region boundary this is the gradient of the region on the "off" side, a one-sided derivative.
    ///
    /// Expected size at initialization. For `.hanin` (or any parameterization whose effective weights a_l W^(l) have
    /// variance C_W / N_{l-1}) with hidden C_W, readout variance C_W^out (W^(L+1) ~ N(0, C_W^out)) and C_b > 0, at every
    /// input x (also x = 0), every depth L and all widths,
    ///
    ///     E ||grad_x z^(L+1)(x)||^2 = C_W^out (C_W / 2)^L     (one output),
    ///
    /// see ``expectedSquaredInputGradientNorm(weightVariance:readoutWeightVariance:depth:)``. Derivation (`.hanin`):
    /// for a unit vector u let J_l u = (d z^(l) / dx) u. Then J_1 u = W^(1) u / sqrt(N_0) has E ||J_1 u||^2 =
    /// C_W N_1 / N_0, and J_{l+1} u = W^(l+1) D_l J_l u / sqrt(N_l), so conditionally on layers <= l,
    /// E ||J_{l+1} u||^2 = (C_W N_{l+1} / N_l) ||D_l J_l u||^2 (C_W^out for the readout). Given layers < l, each pair
    /// (z_j^(l)(x), (J_l u)_j) changes sign with (W_j^(l), b_j^(l)) -> -(W_j^(l), b_j^(l)), which leaves its law
    /// unchanged, so E[1{z_j > 0} (J_l u)_j^2] = (1/2) E[(J_l u)_j^2] exactly (z_j = 0 has probability 0 when C_b > 0):
    /// E ||D_l J_l u||^2 = (1/2) E ||J_l u||^2. Chaining, E ||J_{L+1} u||^2 = C_W^out (C_W / 2)^L N_{L+1} / N_0, and
    /// summing over N_0 orthonormal directions u gives the formula (times N_{L+1} for the sum over outputs).
    /// With eq. 4.0.1's C_W = 2 in every layer, readout included, the value is 2, not the 1 printed after eq. 4.0.1
    /// (SEED-NOTES): C_W = 2 makes it depth-independent, and the last layer's own C_W = 2 sets it to 2. The same
    /// argument gives E ||grad_x z_i^(l)||^2 = 2 for every hidden pre-activation, and 2 N_{l-1} for the seed's
    /// z-hat_i^(l) = sum_j W_ij^(l) ReLU(z_j^(l-1)) (no 1/sqrt(N_{l-1})) in the discussion of eq. 4.2.2.
    ///
    /// Throws `shapeMismatch` when x has the wrong length and `nonFinite` for a non-finite x.
    public func affineMap(at x: [Double]) throws -> (pattern: ActivationPattern, value: Double, gradient: [Double]) {
        let n0 = widths[0]
        guard x.count == n0 else {
            throw OverparamError.shapeMismatch("the input has \(x.count) entries, the network expects \(n0)")
        }
        guard x.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("input x") }
        let L = depth
        var pattern = ActivationPattern(count: hiddenNeuronCount)
        var masks = [[Bool]]()
        masks.reserveCapacity(L)
        var post = x
        for l in 1...L {
            let z = propagate(layer: l, [post])[0]
            let off = offsets[l - 1]
            var mask = [Bool](repeating: false, count: z.count)
            for i in z.indices where z[i] > 0 {
                mask[i] = true
                pattern[off + i] = true
            }
            masks.append(mask)
            post = zip(z, mask).map { $1 ? $0 : 0 }
        }
        let value = propagate(layer: L + 1, [post])[0][output]
        // Backward: g^T = e_output^T A_{L+1}, then g^T <- (g^T D_l) A_l for l = L...1.
        let nOut = widths[L]
        let readout = weights[L]
        var g = (0..<nOut).map { readout[output * nOut + $0] }
        for l in stride(from: L, through: 1, by: -1) {
            let rows = widths[l], cols = widths[l - 1]
            let a = weights[l - 1]
            var next = [Double](repeating: 0, count: cols)
            for j in 0..<rows where masks[l - 1][j] && g[j] != 0 {
                let gj = g[j], base = j * cols
                for i in 0..<cols { next[i] += gj * a[base + i] }
            }
            g = next
        }
        return (pattern, value, g)
    }

    /// The exact input gradient grad_x z^(L+1)(x) (see ``affineMap(at:)`` for the formula, the convention at region
    /// boundaries and its expected squared norm).
    public func inputGradient(at x: [Double]) throws -> [Double] { try affineMap(at: x).gradient }

    /// E ||grad_x z^(L+1)(x)||^2 = C_W^out (C_W / 2)^L for a one-output `.hanin` ReLU network with hidden weight
    /// variance C_W, readout weight variance C_W^out, C_b > 0 and L hidden layers, at every x and for all widths
    /// (derivation in ``affineMap(at:)``; with C_b = 0 it needs x != 0 and fails on the events, of probability at most
    /// sum_l 2^(-N_l), where a whole layer is off). Eq. 4.0.1 (C_W = C_W^out = 2) gives 2 (SEED-NOTES; the seed prints 1).
    public static func expectedSquaredInputGradientNorm(weightVariance cw: Double, readoutWeightVariance cOut: Double? = nil,
                                                        depth L: Int) -> Double {
        (cOut ?? cw) * Foundation.pow(cw / 2, Double(L))
    }
}
