import Foundation
import CSupport

/// A pair of kernels between two input sets: the NNGP covariance Sigma and the NTK Theta.
public struct KernelPair: Sendable {
    /// NNGP: Sigma^(L+1)(x, x'), the covariance of each output of the random network.
    public var nngp: Matrix
    /// NTK: Theta^(L+1)(x, x') = <grad_theta f(x), grad_theta f(x')> in the limit (per output; outputs decouple).
    public var ntk: Matrix
}

/// The infinite-width NNGP and NTK of an ``Architecture`` by the layer recursion
/// (seed 000 sec. IV, seed 001 eq. 7 with the limit in SEED-NOTES sec. 2, seed 004 sec. 3.1):
///
///     Sigma^(1) = rho_1 x.x'/d + sb_1,                 Theta^(1) = gamma_1 x.x'/d + beta_1^2,
///     Sigma^(l) = rho_l E_{l-1} + sb_l,                Theta^(l) = gamma_l E_{l-1} + beta_l^2 + rho_l Edot_{l-1} Theta^(l-1),
///
/// for l = 2...L+1 with (E, Edot) the dual maps of sigma at Sigma^(l-1) (``DualActivation``), and
/// rho_l, sb_l = beta_l^2 vb_l, gamma_l as in ``Parameterization``. With `.ntk` this is exactly neural-tangents'
/// `stax.serial([Dense(W, W_std=sqrt(C_W), b_std=sqrt(C_b)), act] * L, Dense(1, ...))`.
///
/// The recursion is fused per entry (each (i, j) needs only its own x_i . x_j and the per-point diagonals), runs on
/// the upper triangle for symmetric kernels, and splits rows across cores. The first-layer Gram is one `dgemm`.
/// ReLU-type activations run a C loop vectorized over the row (AVX-512 / AVX2 clones picked at run time, with an
/// inlined fdlibm arc-cosine); other closed forms advance four entries in lockstep; the rest use quadrature.
public struct InfiniteWidthKernel: Sendable {
    public let architecture: Architecture
    public let dual: DualActivation
    /// Per layer l = 1...L+1: (rho_l, sb_l, gamma_l, beta_l^2).
    let coefficients: [SIMD4<Double>]

    public init(_ architecture: Architecture, forceQuadrature: Bool = false) throws {
        try architecture.validate()
        self.architecture = architecture
        self.dual = DualActivation(architecture.activation, forceQuadrature: forceQuadrature)
        let w = architecture.layerWidths
        coefficients = (1...architecture.layerCount).map { l in
            let s = architecture.scale(layer: l)
            let n = Double(w[l - 1])
            return SIMD4(s.a * s.a * s.v * n, s.beta * s.beta * s.vb, s.a * s.a * n, s.beta * s.beta)
        }
    }

    /// Per-point diagonals q^(l)(x, x) for hidden layers l = 1...L (index l-1), from the input norms |x|^2 / d.
    func hiddenDiagonals(_ inputSq: [Double]) -> [[Double]] {
        var out = [[Double]]()
        var q = inputSq.map { coefficients[0][0] * $0 + coefficients[0][1] }
        out.append(q)
        for l in 1..<max(1, architecture.depth) {
            let c = coefficients[l]
            q = q.map { c[0] * dual.diagonal($0)[0] + c[1] }
            out.append(q)
        }
        return out
    }

    /// NNGP and NTK between the rows of `x1` (n1 x d) and `x2` (n2 x d); `x2 == nil` means `x1` (symmetric).
    public func callAsFunction(_ x1: Matrix, _ x2: Matrix? = nil) throws -> KernelPair {
        let d = architecture.inputDimension
        guard x1.cols == d else { throw OverparamError.shapeMismatch("inputs have \(x1.cols) columns but the architecture's input dimension is \(d)") }
        if let x2, x2.cols != d { throw OverparamError.shapeMismatch("second inputs have \(x2.cols) columns, expected \(d)") }
        guard x1.isFinite, x2?.isFinite ?? true else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        let symmetric = x2 == nil
        let other = x2 ?? x1
        let g = Matrix.product(x1, .none, other, .transposed, alpha: 1 / Double(d))
        let sq1: [Double] = symmetric ? g.diagonal : (0..<x1.rows).map { i in dot(x1.row(i), x1.row(i)) / Double(d) }
        let sq2: [Double] = symmetric ? sq1 : (0..<other.rows).map { i in dot(other.row(i), other.row(i)) / Double(d) }
        let d1 = hiddenDiagonals(sq1)
        let d2 = symmetric ? d1 : hiddenDiagonals(sq2)
        // The NNGP overwrites the Gram in place (entry (i, j) is read before it is written).
        var ntk = Matrix(uninitializedRows: g.rows, cols: g.cols)   // every entry is written by the fill and the mirror
        var nngp = consume g
        switch (architecture.activation, dual.isClosedForm) {
        case (.relu, true): fill(ABReluMap(a: 0, b: 1), d1, d2, symmetric, &nngp, &ntk)
        case let (.abRelu(a, b), true): fill(ABReluMap(a: a, b: b), d1, d2, symmetric, &nngp, &ntk)
        case (.erf, true): fill(ErfMap(), d1, d2, symmetric, &nngp, &ntk)
        case (.identity, true): fill(IdentityMap(), d1, d2, symmetric, &nngp, &ntk)
        default: fill(GenericMap(dual: dual), d1, d2, symmetric, &nngp, &ntk)
        }
        return KernelPair(nngp: nngp, ntk: ntk)
    }

    /// The kernels k(x_i, x_i) only (n values each), without forming matrices.
    public func diagonal(_ x: Matrix) throws -> (nngp: [Double], ntk: [Double]) {
        guard x.cols == architecture.inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, expected \(architecture.inputDimension)") }
        guard x.isFinite else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        let sq = (0..<x.rows).map { dot(x.row($0), x.row($0)) / Double(x.cols) }
        let dg = hiddenDiagonals(sq)
        var s = [Double](), t = [Double]()
        for i in 0..<x.rows {
            var si = coefficients[0][0] * sq[i] + coefficients[0][1]
            var ti = coefficients[0][2] * sq[i] + coefficients[0][3]
            for l in 1..<coefficients.count {
                let q = dg[l - 1][i]
                let e = dual(q, q, si)
                let c = coefficients[l]
                ti = c[2] * e[0] + c[3] + c[0] * e[1] * ti
                si = c[0] * e[0] + c[1]
            }
            s.append(si); t.append(ti)
        }
        return (s, t)
    }

    /// On entry `nngp` holds the first-layer Gram x.x'/d; on exit the NNGP, and `ntk` the NTK.
    private func fill<M: PairMap>(_ map: M, _ d1: [[Double]], _ d2: [[Double]], _ symmetric: Bool,
                                  _ nngp: inout Matrix, _ ntk: inout Matrix) {
        let n1 = nngp.rows, n2 = nngp.cols
        let coef = coefficients
        let layers = coef.count
        // Flatten diagonals layer-major for cache-friendly access, with their square roots and inverse roots so the
        // inner loop needs no division and one square root per entry and layer.
        let flat1 = d1.flatMap { $0 }, flat2 = d2.flatMap { $0 }
        let root1 = flat1.map { Swift.max($0, 0).squareRoot() }, root2 = flat2.map { Swift.max($0, 0).squareRoot() }
        let inv1 = root1.map { $0 > 0 ? 1 / $0 : 0 }, inv2 = root2.map { $0 > 0 ? 1 / $0 : 0 }
        nngp.storage.withUnsafeMutableBufferPointer { sp in ntk.storage.withUnsafeMutableBufferPointer { tp in
        flat1.withUnsafeBufferPointer { f1 in flat2.withUnsafeBufferPointer { f2 in
        coef.withUnsafeBufferPointer { cp in
        root1.withUnsafeBufferPointer { r1p in root2.withUnsafeBufferPointer { r2p in inv1.withUnsafeBufferPointer { i1p in inv2.withUnsafeBufferPointer { i2p in
            nonisolated(unsafe) let R1 = r1p.baseAddress!, R2 = r2p.baseAddress!, I1 = i1p.baseAddress!, I2 = i2p.baseAddress!
            nonisolated(unsafe) let S = sp.baseAddress!, T = tp.baseAddress!, G = UnsafePointer(sp.baseAddress!)
            nonisolated(unsafe) let D1 = f1.baseAddress!, D2 = f2.baseAddress!, C = cp.baseAddress!
            let rowChunks = symmetric ? Parallel.upperTriangleRowChunks(n1) :
                (0..<min(64, max(1, n1))).map { Parallel.range($0, min(64, max(1, n1)), n1) }
            let vectorRelu = (map as? ABReluMap).map { ($0.a, $0.b) }
            let work = { @Sendable (rows: Range<Int>) in
                if let (a, b) = vectorRelu {
                    // The C loop (runtime-dispatched AVX-512/AVX2 clones) over the row's entries, layer by layer.
                    for i in rows {
                        overparam_abrelu_row(Int32(n1), Int32(n2), Int32(i), Int32(symmetric ? i : 0), Int32(layers),
                                             UnsafeRawPointer(C).assumingMemoryBound(to: Double.self), R1, I1, R2, I2, a, b,
                                             S + i * n2, T + i * n2)
                    }
                    return
                }
                typealias V = SIMD4<Double>
                let c0 = C[0]
                for i in rows {
                    var j = symmetric ? i : 0
                    // Four entries in lockstep: independent recursions overlap in the pipeline.
                    while j + 4 <= n2 {
                        let gij = V(G[i * n2 + j], G[i * n2 + j + 1], G[i * n2 + j + 2], G[i * n2 + j + 3])
                        var s: V = c0[0] * gij + c0[1]
                        var t: V = c0[2] * gij + c0[3]
                        for l in 1..<layers {
                            let a = (l - 1) * n1 + i, b = (l - 1) * n2 + j
                            let q22 = V(D2[b], D2[b + 1], D2[b + 2], D2[b + 3])
                            let r2 = V(R2[b], R2[b + 1], R2[b + 2], R2[b + 3])
                            let i2 = V(I2[b], I2[b + 1], I2[b + 2], I2[b + 3])
                            let e = map.lanes(V(repeating: D1[a]), q22, R1[a] * r2, I1[a] * i2, s)
                            let c = C[l]
                            let tn: V = c[0] * e.eDot * t
                            t = c[2] * e.e + c[3] + tn
                            s = c[0] * e.e + c[1]
                        }
                        for k in 0..<4 { S[i * n2 + j + k] = s[k]; T[i * n2 + j + k] = t[k] }
                        j += 4
                    }
                    while j < n2 {
                        let gij = G[i * n2 + j]
                        var s = c0[0] * gij + c0[1]
                        var t = c0[2] * gij + c0[3]
                        for l in 1..<layers {
                            let a = (l - 1) * n1 + i, b = (l - 1) * n2 + j
                            let e = map(D1[a], D2[b], R1[a] * R2[b], I1[a] * I2[b], s)
                            let c = C[l]
                            t = c[2] * e[0] + c[3] + c[0] * e[1] * t
                            s = c[0] * e[0] + c[1]
                        }
                        S[i * n2 + j] = s
                        T[i * n2 + j] = t
                        j += 1
                    }
                }
            }
            if rowChunks.count > 1 && Parallel.threadCount > 1 && (n1 * n2 > 2048 || !(map is ABReluMap || map is ErfMap || map is IdentityMap)) {
                DispatchQueue.concurrentPerform(iterations: rowChunks.count) { work(rowChunks[$0]) }
            } else {
                for r in rowChunks { work(r) }
            }
        } } } } } } } } }
        if symmetric { nngp.symmetrizeFromUpper(); ntk.symmetrizeFromUpper() }
    }
}

/// A specialized dual map (E, Edot) for the fused recursion loop.
/// Arguments: q11, q22, sqrt(q11 q22), 1 / sqrt(q11 q22) (0 if zero), q12.
protocol PairMap: Sendable {
    func callAsFunction(_ q11: Double, _ q22: Double, _ norm: Double, _ inverseNorm: Double, _ q12: Double) -> SIMD2<Double>
    /// Four entries at once (default: lane by lane).
    func lanes(_ q11: SIMD4<Double>, _ q22: SIMD4<Double>, _ norm: SIMD4<Double>, _ inverseNorm: SIMD4<Double>, _ q12: SIMD4<Double>)
        -> (e: SIMD4<Double>, eDot: SIMD4<Double>)
}
extension PairMap {
    @inline(__always)
    func lanes(_ q11: SIMD4<Double>, _ q22: SIMD4<Double>, _ norm: SIMD4<Double>, _ inverseNorm: SIMD4<Double>, _ q12: SIMD4<Double>)
        -> (e: SIMD4<Double>, eDot: SIMD4<Double>) {
        var e = SIMD4<Double>(), d = SIMD4<Double>()
        for k in 0..<4 {
            let v = self(q11[k], q22[k], norm[k], inverseNorm[k], q12[k])
            e[k] = v[0]; d[k] = v[1]
        }
        return (e, d)
    }
}
struct ABReluMap: PairMap {
    let a: Double, b: Double
    @inline(__always) func callAsFunction(_ q11: Double, _ q22: Double, _ norm: Double, _ inverseNorm: Double, _ q12: Double) -> SIMD2<Double> {
        DualActivation.abRelu(norm: norm, inverseNorm: inverseNorm, q12, a: a, b: b)
    }
}
struct ErfMap: PairMap {
    @inline(__always) func callAsFunction(_ q11: Double, _ q22: Double, _ norm: Double, _ inverseNorm: Double, _ q12: Double) -> SIMD2<Double> {
        DualActivation.erf(q11, q22, q12)
    }
}
struct IdentityMap: PairMap {
    @inline(__always) func callAsFunction(_ q11: Double, _ q22: Double, _ norm: Double, _ inverseNorm: Double, _ q12: Double) -> SIMD2<Double> {
        SIMD2(q12, 1)
    }
}
struct GenericMap: PairMap {
    let dual: DualActivation
    func callAsFunction(_ q11: Double, _ q22: Double, _ norm: Double, _ inverseNorm: Double, _ q12: Double) -> SIMD2<Double> {
        dual(q11, q22, q12)
    }
}
