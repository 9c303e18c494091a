import Foundation
import CBLAS

/// The kernels of the neural tangent hierarchy of a finite network at its current parameters (seed 001 eq. 10):
///
///     K^(2)(a, b)             = < grad f(x_a), grad f(x_b) >                      (the NTK, eq. 7)
///     K^(r+1)(a_1..a_r, b)    = < grad_theta K^(r)(a_1..a_r), grad_theta f(x_b) >
///
/// so K^(3)(a1, a2, b) = D K^(2)(a1, a2)[grad f_b] and K^(4)(a1, a2, b1, b2) = D^2 K^(2)(a1, a2)[grad f_b1, grad f_b2]
/// + D K^(2)(a1, a2)[Hess f_b1 grad f_b2] (SEED-NOTES, seed 001). K^(3) is symmetric in (a1, a2); K^(4) in (a1, a2).
///
/// Computed exactly, never by finite differences: the structured NTK K^(2) = sum_l a_l^2 <delta^l_a, delta^l_b>
/// <h^(l-1)_a, h^(l-1)_b> + a_(L+1)^2 <h^L_a, h^L_b> is differentiated in forward mode along the directions
/// grad f(x_b), whose layer blocks a_l delta^l_b h^(l-1)_b^T are rank one, so every directional derivative of the
/// pre-activations, activations and backpropagated signals at all points along all n directions costs one GEMM per
/// layer (n^2 x m by m x m). K^(4) differentiates once more, streaming over the last index.
/// Cost: K^(3) O(n^2 m^2 L + n^3 m L), K^(4) O(n^3 m^2 L + n^4 m L); memory O(n^2 m L) for both.
public struct HierarchyKernels: Sendable {
    /// Number of points n.
    public let count: Int
    /// K^(2), n x n.
    public let k2: Matrix
    /// K^(3)[a1, a2, b] at index (a1 * n + a2) * n + b (n^3 entries), if computed.
    public let k3: [Double]?
    /// K^(4)[a1, a2, b1, b2] at index ((a1 * n + a2) * n + b1) * n + b2 (n^4 entries), if computed.
    public let k4: [Double]?

    /// K^(3)(a1, a2, b).
    public func k3(_ a1: Int, _ a2: Int, _ b: Int) -> Double { k3![(a1 * count + a2) * count + b] }
    /// K^(4)(a1, a2, b1, b2).
    public func k4(_ a1: Int, _ a2: Int, _ b1: Int, _ b2: Int) -> Double { k4![((a1 * count + a2) * count + b1) * count + b2] }
}

/// Computes ``HierarchyKernels`` for a network without biases and with one output (seed 001's model; any
/// parameterization and smooth activation; ReLU runs but lies outside the seed's theorems and its K^(3), K^(4)
/// miss the kinks' delta terms).
public struct NeuralTangentHierarchy: Sendable {
    public let network: Network

    public init(_ network: Network) throws {
        guard !network.layout.hasBias else {
            throw OverparamError.invalidArgument(name: "network", problem: "the hierarchy kernels need a network without biases (seed 001's model); set the bias variance to 0")
        }
        guard network.architecture.outputDimension == 1 else {
            throw OverparamError.invalidArgument(name: "network", problem: "the hierarchy kernels need one output (got \(network.architecture.outputDimension))")
        }
        self.network = network
    }

    /// K^(2) and, for `order` 3 or 4, K^(3) and K^(4) at the points `x` (n x d).
    public func kernels(_ x: Matrix, order: Int) throws -> HierarchyKernels {
        guard (2...4).contains(order) else { throw OverparamError.invalidArgument(name: "--order", problem: "the hierarchy order must be 2, 3 or 4 (got \(order))") }
        guard x.rows > 0, x.isFinite else { throw OverparamError.invalidArgument(name: "inputs", problem: "need at least one finite input point") }
        let s = try State(network, x)
        guard order >= 3 else { return HierarchyKernels(count: s.n, k2: s.k2(), k3: nil, k4: nil) }
        let j = s.firstOrder()
        let k3 = s.k3(j)
        return HierarchyKernels(count: s.n, k2: s.k2(), k3: k3, k4: order == 4 ? s.k4(j) : nil)
    }

    /// The fixed-direction second derivative of the NTK behind the discrete-time expansion (seed 001 eq. 29):
    /// 𝒦^(4)(a1, a2, b1, b2) = D^2 K^(2)(a1, a2)[grad f_b1, grad f_b2] with the directions held at their current value,
    /// so 𝒦^(4) = K^(4) - D K^(2)(a1, a2)[Hess f_b1 grad f_b2], symmetric in (b1, b2). Index as ``HierarchyKernels/k4``.
    public func fixedDirectionKernel4(_ x: Matrix) throws -> [Double] {
        guard x.rows > 0, x.isFinite else { throw OverparamError.invalidArgument(name: "inputs", problem: "need at least one finite input point") }
        let s = try State(network, x)
        return s.k4(s.firstOrder(), fixedDirections: true)
    }
}

// MARK: - The forward/backward state at n points

/// Layer-indexed arrays: index l = 1...L for layer quantities (index 0 unused), l = 0...L for activations h^l.
private struct State: Sendable {
    let n: Int, depth: Int
    let widths: [Int]
    /// a[l], l = 1...L+1: the layer's scale factor (z^l = a_l W^l h^(l-1)).
    let a: [Double]
    let weights: [Matrix]   // W^l (m_l x m_(l-1)), l = 1...L
    let readout: [Double]   // w (m_L)
    var h: [Matrix]         // h^l, l = 0...L (h^0 = x)
    var s1: [Matrix], s2: [Matrix], s3: [Matrix]   // sigma', sigma'', sigma''' at z^l
    var g: [Matrix]         // g^l = d f / d h^l (n x m_l)
    var delta: [Matrix]     // delta^l = sigma'(z^l) o g^l = d f / d z^l
    var gram: [Matrix]      // G^l = h^l h^l^T, l = 0...L
    var dgram: [Matrix]     // D^l = delta^l delta^l^T, l = 1...L

    init(_ net: Network, _ x: Matrix) throws {
        guard x.cols == net.architecture.inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects \(net.architecture.inputDimension)")
        }
        n = x.rows
        widths = net.layout.widths
        depth = widths.count - 2
        a = [0] + net.scales.map(\.a)
        weights = [Matrix(rows: 0, cols: 0)] + (1...depth).map { net.weight(layer: $0) }
        readout = net.weight(layer: depth + 1).storage
        let act = net.architecture.activation
        let empty = Matrix(rows: 0, cols: 0)
        h = [x]; s1 = [empty]; s2 = [empty]; s3 = [empty]
        for l in 1...depth {
            let z = Matrix.product(h[l - 1], .none, weights[l], .transposed, alpha: a[l])
            func map(_ order: Int) -> Matrix { Matrix(rows: z.rows, cols: z.cols, storage: Parallel.map(z.storage) { act.derivative($0, order: order) }) }
            h.append(map(0)); s1.append(map(1)); s2.append(map(2)); s3.append(map(3))
        }
        g = [Matrix](repeating: empty, count: depth + 1)
        delta = g
        var top = Matrix(rows: n, cols: widths[depth])
        for i in 0..<n { for j in 0..<widths[depth] { top[i, j] = a[depth + 1] * readout[j] } }
        g[depth] = top
        for l in stride(from: depth, through: 1, by: -1) {
            delta[l] = s1[l] .* g[l]
            if l > 1 { g[l - 1] = Matrix.product(delta[l], .none, weights[l], .none, alpha: a[l]) }
        }
        gram = h.map { $0.gram() }
        let deltas = delta
        dgram = [empty] + deltas.dropFirst().map { $0.gram() }
    }

    /// K^(2) = sum_l a_l^2 D^l o G^(l-1) + a_(L+1)^2 G^L.
    func k2() -> Matrix {
        var k = Matrix(rows: n, cols: n)
        for l in 1...depth { k.add(dgram[l] .* gram[l - 1], scaledBy: a[l] * a[l]) }
        k.add(gram[depth], scaledBy: a[depth + 1] * a[depth + 1])
        return k
    }

    /// First-order jets along every direction grad f_b at every point a, rows indexed by the pair (a, b) -> a n + b.
    struct FirstOrder: Sendable {
        var dz: [Matrix], dh: [Matrix], dg: [Matrix], ddelta: [Matrix]   // n^2 x m_l, l = 1...L
        var p: [Matrix]   // P_l[(a, b), a'] = <d delta^l_(a,b), delta^l_a'>  (n^2 x n), l = 1...L
        var q: [Matrix]   // Q_l[(a, b), a'] = <d h^l_(a,b), h^l_a'>  (n^2 x n), l = 1...L (Q_0 = 0)
    }

    func firstOrder() -> FirstOrder {
        let empty = Matrix(rows: 0, cols: 0), L = depth, nn = n * n
        var j = FirstOrder(dz: [empty], dh: [empty], dg: [Matrix](repeating: empty, count: L + 1), ddelta: [Matrix](repeating: empty, count: L + 1),
                           p: [Matrix](repeating: empty, count: L + 1), q: [empty])
        // Forward: dz^l_(a,b) = a_l^2 G^(l-1)[b, a] delta^l_b + a_l W^l dh^(l-1)_(a,b);  dh^l = sigma'(z^l_a) o dz^l.
        for l in 1...L {
            let m = widths[l]
            var dz = Matrix(uninitializedRows: nn, cols: m)
            if l > 1 { Matrix.gemm(j.dh[l - 1], .none, weights[l], .transposed, alpha: a[l], into: &dz) }
            let coef = a[l] * a[l], first = l == 1
            pairRows(&dz) { a_, b, row in
                let c = coef * gram[l - 1][b, a_]
                delta[l].storage.withUnsafeBufferPointer { d in
                    let db = d.baseAddress! + b * m
                    if first { for k in 0..<m { row[k] = c * db[k] } } else { for k in 0..<m { row[k] += c * db[k] } }
                }
            }
            var dh = Matrix(uninitializedRows: nn, cols: m)
            pairMap(&dh, dz, s1[l]) { out, dzr, s, _ in for k in 0..<m { out[k] = s[k] * dzr[k] } }
            j.dz.append(dz); j.dh.append(dh)
            j.q.append(Matrix.product(dh, .none, h[l], .transposed))
        }
        // Backward: dg^L_(a,b) = a_(L+1)^2 h^L_b; d delta^l = sigma'' dz o g_a + sigma' dg;
        // dg^(l-1)_(a,b) = a_l^2 D^l[b, a] h^(l-1)_b + a_l d delta^l_(a,b) W^l.
        var dg = Matrix(uninitializedRows: nn, cols: widths[L])
        let top = a[L + 1] * a[L + 1]
        pairRows(&dg) { _, b, row in
            h[L].storage.withUnsafeBufferPointer { hp in for k in 0..<widths[L] { row[k] = top * hp[b * widths[L] + k] } }
        }
        for l in stride(from: L, through: 1, by: -1) {
            let m = widths[l]
            var dd = Matrix(uninitializedRows: nn, cols: m)
            let dzl = j.dz[l]
            dd.storage.withUnsafeMutableBufferPointer { out in dzl.storage.withUnsafeBufferPointer { dzp in dg.storage.withUnsafeBufferPointer { dgp in
                s1[l].storage.withUnsafeBufferPointer { s1p in s2[l].storage.withUnsafeBufferPointer { s2p in g[l].storage.withUnsafeBufferPointer { gp in
                    nonisolated(unsafe) let O = out.baseAddress!, DZ = dzp.baseAddress!, DG = dgp.baseAddress!
                    nonisolated(unsafe) let S1 = s1p.baseAddress!, S2 = s2p.baseAddress!, Gp = gp.baseAddress!
                    let n = self.n
                    Parallel.forEachChunk(nn, minChunk: max(1, 16384 / m)) { r in
                        for pr in r {
                            let ai = pr / n, o = pr * m, ao = ai * m
                            for k in 0..<m { O[o + k] = S2[ao + k] * DZ[o + k] * Gp[ao + k] + S1[ao + k] * DG[o + k] }
                        }
                    }
                } } }
            } } }
            j.dg[l] = dg; j.ddelta[l] = dd
            j.p[l] = Matrix.product(dd, .none, delta[l], .transposed)
            if l > 1 {
                var next = Matrix(uninitializedRows: nn, cols: widths[l - 1])
                Matrix.gemm(dd, .none, weights[l], .none, alpha: a[l], into: &next)
                let coef = a[l] * a[l], mp = widths[l - 1]
                pairRows(&next) { a_, b, row in
                    let c = coef * dgram[l][b, a_]
                    h[l - 1].storage.withUnsafeBufferPointer { hp in let hb = hp.baseAddress! + b * mp; for k in 0..<mp { row[k] += c * hb[k] } }
                }
                dg = next
            }
        }
        return j
    }

    /// K^(3)[a1, a2, b] = sum_l a_l^2 [dD_l(a1,a2;b) G^(l-1)[a1,a2] + D^l[a1,a2] dG_(l-1)(a1,a2;b)] + a_(L+1)^2 dG_L(a1,a2;b),
    /// dD_l(a1,a2;b) = P_l(a1,b,a2) + P_l(a2,b,a1), dG_l likewise with Q_l.
    func k3(_ j: FirstOrder) -> [Double] {
        var out = [Double](repeating: 0, count: n * n * n)
        let n = self.n, L = depth
        for l in 1...(L + 1) {
            let c = a[l] * a[l]
            out.withUnsafeMutableBufferPointer { op in
                nonisolated(unsafe) let O = op.baseAddress!
                Parallel.forEachChunk(n, minChunk: 1) { r in
                    for a1 in r { for a2 in 0..<n {
                        if l <= L {
                            let gPrev = gram[l - 1][a1, a2], dl = dgram[l][a1, a2]
                            for b in 0..<n {
                                var v = (j.p[l][a1 * n + b, a2] + j.p[l][a2 * n + b, a1]) * gPrev
                                if l > 1 { v += dl * (j.q[l - 1][a1 * n + b, a2] + j.q[l - 1][a2 * n + b, a1]) }
                                O[(a1 * n + a2) * n + b] += c * v
                            }
                        } else {
                            for b in 0..<n { O[(a1 * n + a2) * n + b] += c * (j.q[L][a1 * n + b, a2] + j.q[L][a2 * n + b, a1]) }
                        }
                    } }
                }
            }
        }
        return out
    }

    /// K^(4), streamed over its last index c: second-order jets e = D_(grad f_c) (first-order jet along grad f_b) at
    /// every (a, b), then K^(4)[a1, a2, b, c] = sum_l a_l^2 [d2D_l G^(l-1) + dD_l(b) dG_(l-1)(c) + dD_l(c) dG_(l-1)(b)
    /// + D^l d2G_(l-1)] + a_(L+1)^2 d2G_L, with d2D_l(a1,a2;b,c) = R_l(a1,b,a2) + R_l(a2,b,a1) + X_l(a1,b,a2) + X_l(a2,b,a1),
    /// R_l[(a,b), a'] = <e delta^l_(a,b), delta^l_a'> and X_l[(a,b), a'] = <d delta^l_(a,b), d delta^l_(a',c)>.
    /// With `fixedDirections`, the derivatives of the direction grad f_b itself (its factors delta_b, h_b) are dropped:
    /// the result is D^2 K^(2)[grad f_b, grad f_c] instead of D_(grad f_c) (D K^(2)[grad f_b]).
    func k4(_ j: FirstOrder, fixedDirections: Bool = false) -> [Double] {
        let n = self.n, L = depth, nn = n * n
        let moving = fixedDirections ? 0.0 : 1.0
        var out = [Double](repeating: 0, count: nn * nn)
        for c in 0..<n {
            // Forward: ez^l_(a,b) = a_l^2 [G^(l-1)[b,a] d delta^l_(b,c) + (Q_(l-1)(b,c,a) + Q_(l-1)(a,c,b)) delta^l_b
            //           + Q_(l-1)(a,b,c) delta^l_c] + a_l W^l eh^(l-1)_(a,b);
            // eh^l = sigma''(z_a) dz_(a,c) o dz_(a,b) + sigma'(z_a) ez^l.
            var eh = [Matrix(rows: 0, cols: 0)], ez = eh
            for l in 1...L {
                let m = widths[l]
                var e = Matrix(uninitializedRows: nn, cols: m)
                if l > 1 { Matrix.gemm(eh[l - 1], .none, weights[l], .transposed, alpha: a[l], into: &e) }
                let coef = a[l] * a[l], first = l == 1
                let dd = j.ddelta[l], del = delta[l], qPrev = l > 1 ? j.q[l - 1] : nil, gPrev = gram[l - 1]
                pairRows(&e) { a_, b, row in
                    let c1 = moving * coef * gPrev[b, a_]
                    var c2 = 0.0, c3 = 0.0
                    if let q = qPrev { c2 = coef * (moving * q[b * n + c, a_] + q[a_ * n + c, b]); c3 = coef * q[a_ * n + b, c] }
                    dd.storage.withUnsafeBufferPointer { ddp in del.storage.withUnsafeBufferPointer { dp in
                        let x1 = ddp.baseAddress! + (b * n + c) * m, x2 = dp.baseAddress! + b * m, x3 = dp.baseAddress! + c * m
                        if first { for k in 0..<m { row[k] = c1 * x1[k] } } else {
                            for k in 0..<m { row[k] += c1 * x1[k] + c2 * x2[k] + c3 * x3[k] }
                        }
                    } }
                }
                var ehl = Matrix(uninitializedRows: nn, cols: m)
                let dz = j.dz[l], s1l = s1[l], s2l = s2[l], eFixed = e
                pairRows(&ehl) { a_, b, row in
                    dz.storage.withUnsafeBufferPointer { dzp in eFixed.storage.withUnsafeBufferPointer { ep in
                        s1l.storage.withUnsafeBufferPointer { p1 in s2l.storage.withUnsafeBufferPointer { p2 in
                            let zb = dzp.baseAddress! + (a_ * n + b) * m, zc = dzp.baseAddress! + (a_ * n + c) * m
                            let er = ep.baseAddress! + (a_ * n + b) * m, t1 = p1.baseAddress! + a_ * m, t2 = p2.baseAddress! + a_ * m
                            for k in 0..<m { row[k] = t2[k] * zc[k] * zb[k] + t1[k] * er[k] }
                        } }
                    } }
                }
                ez.append(e); eh.append(ehl)
            }
            // Backward: eg^L_(a,b) = a_(L+1)^2 dh^L_(b,c);
            // e delta^l = s3 dz_ab dz_ac g_a + s2 ez g_a + s2 (dz_ab dg_ac + dz_ac dg_ab) + s1 eg;
            // eg^(l-1)_(a,b) = a_l^2 [D^l[b,a] dh^(l-1)_(b,c) + (P_l(b,c,a) + P_l(a,c,b)) h^(l-1)_b + P_l(a,b,c) h^(l-1)_c]
            //                  + a_l e delta^l_(a,b) W^l.
            var eg = Matrix(uninitializedRows: nn, cols: widths[L])
            let top = moving * a[L + 1] * a[L + 1], mL = widths[L], dhL = j.dh[L]
            pairRows(&eg) { _, b, row in
                dhL.storage.withUnsafeBufferPointer { p in let src = p.baseAddress! + (b * n + c) * mL; for k in 0..<mL { row[k] = top * src[k] } }
            }
            var edelta = [Matrix](repeating: Matrix(rows: 0, cols: 0), count: L + 1)
            for l in stride(from: L, through: 1, by: -1) {
                let m = widths[l]
                var ed = Matrix(uninitializedRows: nn, cols: m)
                let dz = j.dz[l], dg = j.dg[l], e = ez[l], egl = eg
                let t1 = s1[l], t2 = s2[l], t3 = s3[l], gl = g[l]
                pairRows(&ed) { a_, b, row in
                    dz.storage.withUnsafeBufferPointer { dzp in dg.storage.withUnsafeBufferPointer { dgp in e.storage.withUnsafeBufferPointer { ep in
                    egl.storage.withUnsafeBufferPointer { egp in t1.storage.withUnsafeBufferPointer { p1 in t2.storage.withUnsafeBufferPointer { p2 in
                    t3.storage.withUnsafeBufferPointer { p3 in gl.storage.withUnsafeBufferPointer { gp in
                        let ab = (a_ * n + b) * m, ac = (a_ * n + c) * m, ao = a_ * m
                        let DZ = dzp.baseAddress!, DG = dgp.baseAddress!, E = ep.baseAddress!, EG = egp.baseAddress!
                        let S1 = p1.baseAddress! + ao, S2 = p2.baseAddress! + ao, S3 = p3.baseAddress! + ao, Gv = gp.baseAddress! + ao
                        for k in 0..<m {
                            let zb = DZ[ab + k], zc = DZ[ac + k]
                            let gk = Gv[k]
                            var v = S3[k] * zb * zc * gk + S2[k] * E[ab + k] * gk
                            v += S2[k] * (zb * DG[ac + k] + zc * DG[ab + k]) + S1[k] * EG[ab + k]
                            row[k] = v
                        }
                    } } } } } } } }
                }
                edelta[l] = ed
                if l > 1 {
                    let mp = widths[l - 1]
                    var next = Matrix(uninitializedRows: nn, cols: mp)
                    Matrix.gemm(ed, .none, weights[l], .none, alpha: a[l], into: &next)
                    let coef = a[l] * a[l], p = j.p[l], dgr = dgram[l], dhPrev = j.dh[l - 1], hPrev = h[l - 1]
                    pairRows(&next) { a_, b, row in
                        let c1 = moving * coef * dgr[b, a_], c2 = coef * (moving * p[b * n + c, a_] + p[a_ * n + c, b]), c3 = coef * p[a_ * n + b, c]
                        dhPrev.storage.withUnsafeBufferPointer { dhp in hPrev.storage.withUnsafeBufferPointer { hp in
                            let x1 = dhp.baseAddress! + (b * n + c) * mp, x2 = hp.baseAddress! + b * mp, x3 = hp.baseAddress! + c * mp
                            for k in 0..<mp { row[k] += c1 * x1[k] + c2 * x2[k] + c3 * x3[k] }
                        } }
                    }
                    eg = next
                }
            }
            // Contractions for this c.
            var rD = [Matrix](repeating: Matrix(rows: 0, cols: 0), count: L + 1), xD = rD, rG = rD, xG = rD
            for l in 1...L {
                let cols = Array(0..<n).map { $0 * n + c }
                rD[l] = Matrix.product(edelta[l], .none, delta[l], .transposed)
                xD[l] = Matrix.product(j.ddelta[l], .none, j.ddelta[l].rows(at: cols), .transposed)
                rG[l] = Matrix.product(eh[l], .none, h[l], .transposed)
                xG[l] = Matrix.product(j.dh[l], .none, j.dh[l].rows(at: cols), .transposed)
            }
            let rDf = rD, xDf = xD, rGf = rG, xGf = xG
            out.withUnsafeMutableBufferPointer { op in
                nonisolated(unsafe) let O = op.baseAddress!
                Parallel.forEachChunk(n, minChunk: 1) { r in
                    for a1 in r { for a2 in 0..<n { for b in 0..<n {
                        var total = 0.0
                        for l in 1...(L + 1) {
                            let cl = a[l] * a[l]
                            // Second derivatives and first-derivative pairs of G^(l-1) (or G^L for the readout term).
                            let gl = l - 1 <= L && l <= L ? l - 1 : L
                            var d2G = 0.0, dGb = 0.0, dGc = 0.0
                            if gl >= 1 {
                                d2G = rGf[gl][a1 * n + b, a2] + rGf[gl][a2 * n + b, a1] + xGf[gl][a1 * n + b, a2] + xGf[gl][a2 * n + b, a1]
                                dGb = j.q[gl][a1 * n + b, a2] + j.q[gl][a2 * n + b, a1]
                                dGc = j.q[gl][a1 * n + c, a2] + j.q[gl][a2 * n + c, a1]
                            }
                            if l == L + 1 { total += cl * d2G; continue }
                            let d2D = rDf[l][a1 * n + b, a2] + rDf[l][a2 * n + b, a1] + xDf[l][a1 * n + b, a2] + xDf[l][a2 * n + b, a1]
                            let dDb = j.p[l][a1 * n + b, a2] + j.p[l][a2 * n + b, a1]
                            let dDc = j.p[l][a1 * n + c, a2] + j.p[l][a2 * n + c, a1]
                            total += cl * (d2D * gram[l - 1][a1, a2] + dDb * dGc + dDc * dGb + dgram[l][a1, a2] * d2G)
                        }
                        O[((a1 * n + a2) * n + b) * n + c] = total
                    } } }
                }
            }
        }
        return out
    }

    /// Fill or update each row (a, b) of an n^2 x m matrix in parallel over a.
    func pairRows(_ mat: inout Matrix, _ body: @Sendable (Int, Int, UnsafeMutablePointer<Double>) -> Void) {
        let m = mat.cols, n = self.n
        mat.storage.withUnsafeMutableBufferPointer { p in
            nonisolated(unsafe) let base = p.baseAddress!
            Parallel.forEachChunk(n, minChunk: max(1, 8192 / max(1, n * m))) { r in
                for a_ in r { for b in 0..<n { body(a_, b, base + (a_ * n + b) * m) } }
            }
        }
    }

    /// out[(a, b)] = f(src[(a, b)], per-point row t[a]).
    func pairMap(_ out: inout Matrix, _ src: Matrix, _ t: Matrix, _ f: @Sendable (UnsafeMutablePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, Int) -> Void) {
        let m = out.cols, n = self.n
        src.storage.withUnsafeBufferPointer { sp in t.storage.withUnsafeBufferPointer { tp in
            nonisolated(unsafe) let S = sp.baseAddress!, T = tp.baseAddress!
            pairRows(&out) { a_, b, row in f(row, S + (a_ * n + b) * m, T + a_ * m, a_) }
        } }
    }
}
