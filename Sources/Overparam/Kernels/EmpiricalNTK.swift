import Foundation

/// How kernels of a network with k outputs are returned.
public enum OutputKernelMode: Sendable {
    /// The full (n1 k) x (n2 k) kernel; entry (i k + c, j k + c') pairs output c at x_i with output c' at x_j.
    case full
    /// The n1 x n2 average over outputs of the diagonal blocks, (1/k) sum_c Theta_cc (the infinite-width kernel's
    /// per-output value).
    case mean
}

/// Empirical kernels of one sampled network.
public struct EmpiricalKernels: Sendable {
    /// The empirical NTK Theta-hat = J J^T.
    public var ntk: Matrix
    /// The empirical NNGP: the readout's covariance averaged over the readout weights,
    /// a_{L+1}^2 v_{L+1} X_L X_L'^T + beta_{L+1}^2 vb_{L+1} (per output).
    public var nngp: Matrix
    /// Per-layer parts of the NTK, layer 1...L+1 (empty unless requested): the contribution of W^(l), b^(l).
    public var layers: [Matrix]
}

/// The empirical neural tangent kernel Theta-hat(x, x') = sum_p d f(x)/d theta_p d f(x')/d theta_p of a finite
/// network, in structured form (never forming the Jacobian):
///
///     Theta-hat = sum_l [ a_l^2 (Delta_l Delta_l'^T) o (X_{l-1} X_{l-1}'^T) + beta_l^2 Delta_l Delta_l'^T ],
///
/// with Delta_l the backpropagated deltas d f / d z^(l) (n x n_l) and X_{l-1} the layer inputs; every Gram is one
/// `dsyrk` (or `dgemm` between two input sets). Seed 000 eq. 9 and seed 001 eq. 7 are its two-layer and per-layer
/// forms; seed 004 eq. 2.1.9 (corrected) its one-hidden-layer form.
public enum EmpiricalNTK {
    /// Empirical kernels between `x1` and `x2` (`nil` = `x1`).
    public static func compute(_ net: Network, _ x1: Matrix, _ x2: Matrix? = nil, outputs mode: OutputKernelMode = .mean,
                               perLayer: Bool = false) throws -> EmpiricalKernels {
        guard x1.isFinite, x2?.isFinite ?? true else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        let k = net.architecture.outputDimension
        let p1 = try net.forward(x1)
        let p2 = try x2.map { try net.forward($0) }
        let n1 = x1.rows, n2 = x2?.rows ?? n1
        // Deltas per output c: ds[c][l - 1].
        func allDeltas(_ pass: ForwardPass, _ n: Int) -> [[Matrix]] {
            (0..<k).map { c in
                var e = Matrix(rows: n, cols: k)
                for i in 0..<n { e[i, c] = 1 }
                return net.deltas(pass, outputCotangent: e)
            }
        }
        let d1 = allDeltas(p1, n1)
        let d2 = p2.map { allDeltas($0, n2) }
        let L1 = net.layout.layerCount
        let outRows = mode == .full ? n1 * k : n1, outCols = mode == .full ? n2 * k : n2
        var total = Matrix(rows: outRows, cols: outCols)
        var parts = [Matrix]()
        var readoutInputGram = Matrix(rows: 0, cols: 0)
        for l in 1...L1 {
            let s = net.scales[l - 1]
            let xg = gram(p1.inputs[l - 1], p2?.inputs[l - 1])                 // n1 x n2
            if l == L1 { readoutInputGram = xg }
            let dg = deltaGram(d1.map { $0[l - 1] }, d2?.map { $0[l - 1] }, mode) // outRows x outCols
            var part = dg
            let a2 = s.a * s.a, b2 = s.beta * s.beta
            part.storage.withUnsafeMutableBufferPointer { pp in dg.storage.withUnsafeBufferPointer { dp in xg.storage.withUnsafeBufferPointer { xp in
                for r in 0..<outRows {
                    let i = mode == .full ? r / k : r
                    for c in 0..<outCols {
                        let j = mode == .full ? c / k : c
                        pp[r * outCols + c] = dp[r * outCols + c] * (a2 * xp[i * n2 + j] + b2)
                    }
                }
            } } }
            total.add(part, scaledBy: 1)
            if perLayer { parts.append(part) }
        }
        let sOut = net.scales[L1 - 1]
        var nngp = readoutInputGram
        nngp.scale(by: sOut.a * sOut.a * sOut.v)
        nngp.storage = nngp.storage.map { $0 + sOut.beta * sOut.beta * sOut.vb }
        return EmpiricalKernels(ntk: total, nngp: nngp, layers: parts)
    }

    /// A A^T (syrk) or A B^T (gemm).
    static func gram(_ a: Matrix, _ b: Matrix?) -> Matrix {
        if let b { return Matrix.product(a, .none, b, .transposed) }
        return a.gram()
    }

    /// The Gram of deltas across outputs, arranged per `mode`.
    static func deltaGram(_ a: [Matrix], _ b: [Matrix]?, _ mode: OutputKernelMode) -> Matrix {
        let k = a.count
        if k == 1 { return gram(a[0], b?[0]) }
        switch mode {
        case .mean:
            // Stack outputs side by side: [D^1 | ... | D^k] [..]^T = sum_c D^c D^c^T.
            let ha = hstack(a), hb = b.map(hstack)
            var g = gram(ha, hb)
            g.scale(by: 1 / Double(k))
            return g
        case .full:
            // Interleave rows: row i k + c is D^c[i].
            let va = interleave(a), vb = b.map(interleave)
            return gram(va, vb)
        }
    }

    static func hstack(_ ms: [Matrix]) -> Matrix {
        let n = ms[0].rows, w = ms[0].cols, k = ms.count
        var out = Matrix(rows: n, cols: w * k)
        for (c, m) in ms.enumerated() { for i in 0..<n { for j in 0..<w { out[i, c * w + j] = m[i, j] } } }
        return out
    }

    static func interleave(_ ms: [Matrix]) -> Matrix {
        let n = ms[0].rows, w = ms[0].cols, k = ms.count
        var out = Matrix(rows: n * k, cols: w)
        for (c, m) in ms.enumerated() { for i in 0..<n { for j in 0..<w { out[i * k + c, j] = m[i, j] } } }
        return out
    }

    /// Floating-point operations of `compute` for one output and a symmetric kernel: forward GEMMs
    /// 2 n n_{l-1} n_l, backward GEMMs 2 n n_l n_{l-1} (l >= 2), and two syrks n^2 n_l + n^2 n_{l-1} per layer.
    public static func flopCount(_ a: Architecture, n: Int) -> Double {
        let w = a.layerWidths.map(Double.init), nd = Double(n)
        var f = 0.0
        for l in 1..<w.count {
            f += 2 * nd * w[l - 1] * w[l]
            if l >= 2 { f += 2 * nd * w[l] * w[l - 1] }
            f += nd * nd * (w[l] + w[l - 1])
        }
        return f
    }
}
