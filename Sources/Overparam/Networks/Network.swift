import Foundation
import CBLAS

/// Where each layer's weights and biases sit in a network's flat parameter vector.
///
/// Layer l (1-based) stores W^(l) (n_l x n_{l-1}, row-major) at `weightOffsets[l-1]`, then its bias b^(l)
/// (n_l entries) at `biasOffsets[l-1]` when the architecture has biases.
public struct ParameterLayout: Sendable, Hashable {
    public let widths: [Int]
    public let hasBias: Bool
    public let weightOffsets: [Int]
    public let biasOffsets: [Int]
    public let count: Int

    public init(_ architecture: Architecture) {
        widths = architecture.layerWidths
        hasBias = architecture.hasBias
        var w = [Int](), b = [Int](), o = 0
        for l in 1..<widths.count {
            w.append(o); o += widths[l] * widths[l - 1]
            b.append(o); if hasBias { o += widths[l] }
        }
        weightOffsets = w; biasOffsets = b; count = o
    }

    /// Number of parameterized layers.
    public var layerCount: Int { widths.count - 1 }
    /// Index range of layer l's weights.
    public func weightRange(_ l: Int) -> Range<Int> { weightOffsets[l - 1]..<(weightOffsets[l - 1] + widths[l] * widths[l - 1]) }
    /// Index range of layer l's biases (empty without biases).
    public func biasRange(_ l: Int) -> Range<Int> { biasOffsets[l - 1]..<(biasOffsets[l - 1] + (hasBias ? widths[l] : 0)) }
    /// Index range of all of layer l's parameters.
    public func layerRange(_ l: Int) -> Range<Int> { weightOffsets[l - 1]..<biasRange(l).upperBound }
}

/// The activations of one forward pass over a batch: Z_l (pre-activations, n x n_l) and X_l = sigma(Z_l).
public struct ForwardPass: Sendable {
    /// inputs[l] is X_l for l = 0...L (X_0 is the input batch).
    public let inputs: [Matrix]
    /// preactivations[l - 1] is Z_l for l = 1...L+1; the last is the output f (n x k).
    public let preactivations: [Matrix]
    /// slopes[l - 1] is sigma'(Z_l) for hidden layers l = 1...L (computed with the activations; empty if not kept).
    public let slopes: [Matrix]

    public init(inputs: [Matrix], preactivations: [Matrix], slopes: [Matrix] = []) {
        self.inputs = inputs; self.preactivations = preactivations; self.slopes = slopes
    }

    /// The same pass restricted to some rows (examples).
    public func rows(at idx: [Int]) -> ForwardPass {
        ForwardPass(inputs: inputs.map { $0.rows(at: idx) }, preactivations: preactivations.map { $0.rows(at: idx) }, slopes: slopes.map { $0.rows(at: idx) })
    }
    /// The network's outputs f (n x k).
    public var outputs: Matrix { preactivations[preactivations.count - 1] }
}

/// A finite network sampled from an ``Architecture``: z^(l) = a_l W^(l) x^(l-1) + beta_l b^(l), x^(l) = sigma(z^(l)),
/// f = z^(L+1), with the scale factors of its ``Parameterization``.
///
/// Batched forward and reverse passes are `dgemm` calls; derivatives of any order up to three in the parameters are
/// in `NetworkDerivatives.swift`.
public struct Network: Sendable {
    public let architecture: Architecture
    public let scales: [LayerScale]
    public let layout: ParameterLayout
    /// All trainable parameters, laid out by ``layout``.
    public var parameters: [Double]

    /// Sample a network: W^(l) ~ N(0, v_l), b^(l) ~ N(0, vb_l), each layer from its own stream of `seed`.
    public init(_ architecture: Architecture, seed: UInt64) throws {
        try architecture.validate()
        self.architecture = architecture
        self.scales = architecture.scales
        self.layout = ParameterLayout(architecture)
        var p = [Double](repeating: 0, count: layout.count)
        for l in 1...layout.layerCount {
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(2 * l))
            let sw = scales[l - 1].v.squareRoot()
            for i in layout.weightRange(l) { p[i] = sw * rng.normal() }
            var rb = Xoshiro256StarStar(seed: seed, stream: UInt64(2 * l + 1))
            let sb = scales[l - 1].vb.squareRoot()
            for i in layout.biasRange(l) { p[i] = sb * rb.normal() }
        }
        parameters = p
    }

    /// A network with given parameters.
    public init(_ architecture: Architecture, parameters: [Double]) throws {
        try architecture.validate()
        self.architecture = architecture
        self.scales = architecture.scales
        self.layout = ParameterLayout(architecture)
        guard parameters.count == layout.count else {
            throw OverparamError.shapeMismatch("parameter vector has \(parameters.count) entries, the architecture needs \(layout.count)")
        }
        self.parameters = parameters
    }

    /// W^(l) as an n_l x n_{l-1} matrix.
    public func weight(layer l: Int) -> Matrix { Self.weight(of: parameters, layout, l) }
    /// b^(l) (zeros without biases).
    public func bias(layer l: Int) -> [Double] {
        layout.hasBias ? Array(parameters[layout.biasRange(l)]) : [Double](repeating: 0, count: layout.widths[l])
    }

    static func weight(of p: [Double], _ layout: ParameterLayout, _ l: Int) -> Matrix {
        Matrix(rows: layout.widths[l], cols: layout.widths[l - 1], storage: Array(p[layout.weightRange(l)]))
    }

    /// The forward pass over a batch `x` (n x d).
    public func forward(_ x: Matrix) throws -> ForwardPass {
        guard x.cols == architecture.inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects \(architecture.inputDimension)")
        }
        var inputs = [x], pre = [Matrix](), slopes = [Matrix]()
        let act = architecture.activation
        for l in 1...layout.layerCount {
            let s = scales[l - 1]
            var z = Matrix(uninitializedRows: x.rows, cols: layout.widths[l])
            gemmWeight(l, inputs[l - 1], .transposed, alpha: s.a, into: &z)
            if layout.hasBias && s.beta != 0 { addBias(l, scaledBy: s.beta, to: &z) }
            pre.append(z)
            if l < layout.layerCount {
                var y = Matrix(uninitializedRows: z.rows, cols: z.cols), d = Matrix(uninitializedRows: z.rows, cols: z.cols)
                let count = z.count
                z.storage.withUnsafeBufferPointer { zp in y.storage.withUnsafeMutableBufferPointer { yp in d.storage.withUnsafeMutableBufferPointer { dp in
                    nonisolated(unsafe) let Z = zp.baseAddress!, Y = yp.baseAddress!, D = dp.baseAddress!
                    if act == .relu {
                        // Branch-free and vectorized; one core streams this faster than a dispatch round trip.
                        Parallel.forEachChunk(count, minChunk: 1 << 18) { r in
                            for i in r { let t = Z[i]; Y[i] = t > 0 ? t : 0; D[i] = t > 0 ? 1 : 0 }
                        }
                    } else {
                        Parallel.forEachChunk(count, minChunk: 16384) { r in for i in r { (Y[i], D[i]) = act.valueAndSlope(Z[i]) } }
                    }
                } } }
                inputs.append(y); slopes.append(d)
            }
        }
        return ForwardPass(inputs: inputs, preactivations: pre, slopes: slopes)
    }

    /// C = alpha * A op(W^(l)) + beta * C straight from the parameter vector (no copy of W^(l)): with `.transposed`
    /// A is n x n_{l-1} and C n x n_l (forward); with `.none` A is n x n_l and C n x n_{l-1} (backward).
    func gemmWeight(_ l: Int, _ a: Matrix, _ tw: Transpose, alpha: Double, beta: Double = 0, into c: inout Matrix) {
        let rows = layout.widths[l], cols = layout.widths[l - 1], off = layout.weightOffsets[l - 1]
        let n = tw == .transposed ? rows : cols, k = tw == .transposed ? cols : rows
        precondition(a.cols == k && c.rows == a.rows && c.cols == n, "gemmWeight: shapes")
        if a.rows == 0 || n == 0 { return }
        parameters.withUnsafeBufferPointer { wp in a.storage.withUnsafeBufferPointer { ap in c.storage.withUnsafeMutableBufferPointer { cp in
            blockedGemm(.none, tw, m: a.rows, n: n, k: k, alpha: alpha, ap.baseAddress!, lda: k, wp.baseAddress! + off, ldb: cols,
                        beta: beta, cp.baseAddress!, ldc: n)
        } } }
    }

    /// Z += s * 1 b^(l)^T straight from the parameter vector.
    func addBias(_ l: Int, scaledBy s: Double, to z: inout Matrix) {
        let off = layout.biasOffsets[l - 1], cols = z.cols, rows = z.rows
        parameters.withUnsafeBufferPointer { bp in z.storage.withUnsafeMutableBufferPointer { zp in
            let b = bp.baseAddress! + off
            for i in 0..<rows { for j in 0..<cols { zp[i * cols + j] += s * b[j] } }
        } }
    }

    /// Outputs f(x) (n x k).
    public func callAsFunction(_ x: Matrix) throws -> Matrix { try forward(x).outputs }

    /// Backpropagated deltas Delta_l = d(sum_{i,k} G_ik f_k(x_i)) / dZ_l for l = 1...L+1 (index l - 1), given the
    /// output cotangent G (n x k).
    public func deltas(_ pass: ForwardPass, outputCotangent g: Matrix) -> [Matrix] {
        let act = architecture.activation
        var out = [Matrix](repeating: Matrix(rows: 0, cols: 0), count: layout.layerCount)
        var delta = g
        out[layout.layerCount - 1] = delta
        for l in stride(from: layout.layerCount, to: 1, by: -1) {
            let s = scales[l - 1]
            var back = Matrix(uninitializedRows: delta.rows, cols: layout.widths[l - 1])
            gemmWeight(l, delta, .none, alpha: s.a, into: &back)
            back.storage.withUnsafeMutableBufferPointer { bp in
                if pass.slopes.count == layout.layerCount - 1 {
                    pass.slopes[l - 2].storage.withUnsafeBufferPointer { dp in for i in 0..<bp.count { bp[i] *= dp[i] } }
                } else {
                    pass.preactivations[l - 2].storage.withUnsafeBufferPointer { zp in
                        for i in 0..<bp.count { bp[i] *= act.derivative(zp[i], order: 1) }
                    }
                }
            }
            delta = back
            out[l - 2] = delta
        }
        return out
    }

    /// The gradient of sum_{i,k} G_ik f_k(x_i) with respect to all parameters (flat, laid out by ``layout``).
    public func gradient(_ pass: ForwardPass, outputCotangent g: Matrix) -> [Double] {
        let ds = deltas(pass, outputCotangent: g)
        let hasBias = layout.hasBias
        return [Double](unsafeUninitializedCapacity: layout.count) { buf, count in
            let base = buf.baseAddress!
            for l in 1...layout.layerCount {
                let s = scales[l - 1], d = ds[l - 1], x = pass.inputs[l - 1]
                let rows = layout.widths[l], cols = layout.widths[l - 1]
                // dW^(l) = a_l Delta_l^T X_{l-1}, written in place.
                d.storage.withUnsafeBufferPointer { dp in x.storage.withUnsafeBufferPointer { xp in
                    if d.rows == 0 {
                        (base + layout.weightOffsets[l - 1]).initialize(repeating: 0, count: rows * cols)
                    } else {
                        blockedGemm(.transposed, .none, m: rows, n: cols, k: d.rows, alpha: s.a, dp.baseAddress!, lda: rows,
                                    xp.baseAddress!, ldb: cols, beta: 0, base + layout.weightOffsets[l - 1], ldc: cols)
                    }
                    if hasBias {
                        let b = base + layout.biasOffsets[l - 1]
                        b.initialize(repeating: 0, count: rows)
                        for i in 0..<d.rows { for j in 0..<rows { b[j] += dp[i * rows + j] } }
                        for j in 0..<rows { b[j] *= s.beta }
                    }
                } }
            }
            count = layout.count
        }
    }

    /// The explicit Jacobian J (n k x P) with row i * k + c holding grad_theta f_c(x_i). Slow: P columns are formed.
    /// A reference for tests; ``EmpiricalNTK`` never forms it.
    public func jacobian(_ x: Matrix) throws -> Matrix {
        let pass = try forward(x)
        let n = x.rows, k = architecture.outputDimension, p = layout.count
        var j = Matrix(rows: n * k, cols: p)
        for i in 0..<n {
            let single = pass.rows(at: [i])
            for c in 0..<k {
                var e = Matrix(rows: 1, cols: k); e[0, c] = 1
                let g = gradient(single, outputCotangent: e)
                let r = i * k + c
                for q in 0..<p { j[r, q] = g[q] }
            }
        }
        return j
    }
}
