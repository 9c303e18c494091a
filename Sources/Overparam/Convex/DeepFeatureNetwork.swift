import Foundation

/// The activations of one forward pass of a ``DeepFeatureNetwork`` over a batch of n inputs.
public struct DeepFeaturePass: Sendable {
    /// features[l] = f^(l) (n x m^(l)) for l = 0...L; features[0] is the input with its bias column appended.
    public let features: [Matrix]
    /// preactivations[l - 1] = g^(l) (n x m^(l)) for l = 1...L.
    public let preactivations: [Matrix]
    /// slopes[l - 1] = h'(g^(l)) for l = 1...L.
    public let slopes: [Matrix]
    /// f(x) (n x K).
    public let outputs: Matrix
}

/// Seed 002's deep network (eqs. 1-2) with 1/fan-in scaling at every layer:
///
///     f^(0)_k(x) = x_k (k <= d),  f^(0)_{d+1}(x) = b  (the input bias coordinate, when present),
///     g^(l)_j(x) = (1/m^(l-1)) sum_k w^(l)_jk f^(l-1)_k(x),   f^(l)_j = h(g^(l)_j),   l = 1...L,
///     f(x) = (1/m^(L)) sum_j u_j f^(L)_j(x),   u_j in R^K.
///
/// The input bias (SEED-NOTES sec. 1: the 1-D even target needs it, a tanh net without bias is odd) is one more input
/// node with constant value `inputBias`, so m^(0) = d + 1 and its weights are the column k = d + 1 of w^(1): they
/// enter the regularizers exactly like the other first-layer weights.
///
/// Initialization (SEED-NOTES sec. 1, ``Parameterization/fangGuZhang``): w^(l)_jk ~ N(0, C_W m^(l-1)) and
/// u_j ~ N(0, C_u m^(L)), i.e. O(sqrt(m)) entries, so that each g^(l)_j is O(1) and the hidden neurons of every layer
/// stay distinct (with O(1) i.i.d. weights and the 1/m averaging all deeper neurons would coincide as m grows).
///
/// Forward and reverse passes are `dgemm` calls (``Matrix/gemm(_:_:_:_:alpha:beta:into:)``).
public struct DeepFeatureNetwork: Sendable {
    /// d, the input dimension (without the bias coordinate).
    public let inputDimension: Int
    /// The constant value of the bias input node; nil for no input bias.
    public let inputBias: Double?
    public let activation: Activation
    public let layout: DeepFeatureLayout
    /// All weights w^(1), ..., w^(L), u, laid out by ``layout``.
    public var parameters: [Double]

    /// Sample a network (each layer from its own random stream of `seed`).
    /// - Parameters:
    ///   - hiddenWidths: m^(1), ..., m^(L) (L >= 1, all >= 1); see ``seedWidths(depth:base:)``.
    ///   - outputs: K >= 1.
    ///   - weightVariance: C_W in w ~ N(0, C_W m^(l-1)); `readoutVariance`: C_u in u ~ N(0, C_u m^(L)).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` on non-positive sizes or variances.
    public init(inputDimension d: Int, hiddenWidths: [Int], outputs: Int = 1, activation: Activation = .tanh,
                inputBias: Double? = 1, weightVariance: Double = 1, readoutVariance: Double = 1, seed: UInt64) throws {
        try self.init(inputDimension: d, hiddenWidths: hiddenWidths, outputs: outputs, activation: activation,
                      inputBias: inputBias, parameters: nil)
        guard weightVariance > 0, weightVariance.isFinite, readoutVariance > 0, readoutVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "weightVariance", problem: "C_W = \(weightVariance) and C_u = \(readoutVariance) must be positive and finite")
        }
        let w = layout.widths
        var p = [Double](repeating: 0, count: layout.count)
        for l in 1...layout.depth + 1 {
            let isReadout = l == layout.depth + 1
            let v = Parameterization.fangGuZhang.scale(layer: l, fanIn: w[l - 1], isReadout: isReadout,
                                                       weightVariance: isReadout ? readoutVariance : weightVariance,
                                                       biasVariance: 0).v
            let sd = v.squareRoot()
            var rng = Xoshiro256StarStar(seed: seed, stream: 0xC0DE_0000 + UInt64(l))
            for i in (isReadout ? layout.readoutRange : layout.weightRange(l)) { p[i] = sd * rng.normal() }
        }
        parameters = p
    }

    /// A network with given parameters (laid out by ``DeepFeatureLayout``).
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` when `parameters.count` does not match the layout.
    public init(inputDimension d: Int, hiddenWidths: [Int], outputs: Int = 1, activation: Activation = .tanh,
                inputBias: Double? = 1, parameters: [Double]?) throws {
        guard d >= 1 else { throw OverparamError.invalidArgument(name: "inputDimension", problem: "d = \(d) must be >= 1") }
        guard !hiddenWidths.isEmpty, hiddenWidths.allSatisfy({ $0 >= 1 }) else {
            throw OverparamError.invalidArgument(name: "hiddenWidths", problem: "\(hiddenWidths): need L >= 1 layers of width >= 1")
        }
        guard outputs >= 1 else { throw OverparamError.invalidArgument(name: "outputs", problem: "K = \(outputs) must be >= 1") }
        if let b = inputBias, !b.isFinite { throw OverparamError.nonFinite("inputBias = \(b)") }
        inputDimension = d
        self.inputBias = inputBias
        self.activation = activation
        layout = DeepFeatureLayout(widths: [d + (inputBias == nil ? 0 : 1)] + hiddenWidths, outputs: outputs)
        if let p = parameters {
            guard p.count == layout.count else {
                throw OverparamError.shapeMismatch("parameter vector has \(p.count) entries, the network needs \(layout.count)")
            }
            self.parameters = p
        } else {
            self.parameters = [Double](repeating: 0, count: layout.count)
        }
    }

    /// The seed's widths m^(l) = base * 2^(L - l), l = 1...L (seed 002 sec. VII-A uses base 1000).
    public static func seedWidths(depth: Int, base: Int = 1000) throws -> [Int] {
        guard depth >= 1, base >= 1 else { throw OverparamError.invalidArgument(name: "depth", problem: "need depth >= 1 and base >= 1 (got \(depth), \(base))") }
        return (1...depth).map { base << (depth - $0) }
    }

    /// L.
    public var depth: Int { layout.depth }
    /// K.
    public var outputs: Int { layout.outputs }
    /// m^(0), ..., m^(L).
    public var widths: [Int] { layout.widths }

    /// w^(l) (m^(l) x m^(l-1)), l = 1...L.
    public func weight(layer l: Int) -> Matrix {
        Matrix(rows: layout.widths[l], cols: layout.widths[l - 1], storage: Array(parameters[layout.weightRange(l)]))
    }
    /// u (m^(L) x K; row j is u_j).
    public var readout: Matrix {
        Matrix(rows: layout.widths[depth], cols: layout.outputs, storage: Array(parameters[layout.readoutRange]))
    }

    /// f^(0): the inputs with the bias column appended (n x m^(0)).
    public func inputFeatures(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects \(inputDimension)")
        }
        guard x.isFinite else { throw OverparamError.nonFinite("network inputs") }
        guard let b = inputBias else { return x }
        var f = Matrix(rows: x.rows, cols: x.cols + 1)
        for i in 0..<x.rows {
            for k in 0..<x.cols { f[i, k] = x[i, k] }
            f[i, x.cols] = b
        }
        return f
    }

    /// The forward pass over a batch `x` (n x d).
    public func forward(_ x: Matrix) throws -> DeepFeaturePass {
        var features = [try inputFeatures(x)], pre = [Matrix](), slopes = [Matrix]()
        let act = activation, n = x.rows
        for l in 1...depth {
            var g = Matrix(rows: n, cols: layout.widths[l])
            Matrix.gemm(features[l - 1], .none, weight(layer: l), .transposed, alpha: 1 / Double(layout.widths[l - 1]), into: &g)
            var f = g, s = g
            let count = g.count
            g.storage.withUnsafeBufferPointer { gp in f.storage.withUnsafeMutableBufferPointer { fp in s.storage.withUnsafeMutableBufferPointer { sp in
                nonisolated(unsafe) let G = gp.baseAddress!, F = fp.baseAddress!, S = sp.baseAddress!
                Parallel.forEachChunk(count, minChunk: 16384) { r in for i in r { (F[i], S[i]) = act.valueAndSlope(G[i]) } }
            } } }
            pre.append(g); features.append(f); slopes.append(s)
        }
        var out = Matrix(rows: n, cols: outputs)
        Matrix.gemm(features[depth], .none, readout, .none, alpha: 1 / Double(layout.widths[depth]), into: &out)
        return DeepFeaturePass(features: features, preactivations: pre, slopes: slopes, outputs: out)
    }

    /// f(x) (n x K).
    public func callAsFunction(_ x: Matrix) throws -> Matrix { try forward(x).outputs }

    /// The sensitivities delta^(l) = d(sum_{i,c} C_ic f_c(x_i)) / d g^(l) (n x m^(l)) for l = 1...L (index l - 1),
    /// given the output cotangent C (n x K), by backpropagation:
    ///
    ///     delta^(L) = (C u^T / m^(L)) o h'(g^(L)),   delta^(l-1) = (delta^(l) w^(l) / m^(l-1)) o h'(g^(l-1)).
    public func preactivationSensitivities(_ pass: DeepFeaturePass, outputCotangent c: Matrix) throws -> [Matrix] {
        let n = pass.outputs.rows
        guard c.rows == n, c.cols == outputs else {
            throw OverparamError.shapeMismatch("output cotangent is \(c.rows)x\(c.cols), expected \(n)x\(outputs)")
        }
        var out = [Matrix](repeating: Matrix(rows: 0, cols: 0), count: depth)
        var back = Matrix(rows: n, cols: layout.widths[depth])
        Matrix.gemm(c, .none, readout, .transposed, alpha: 1 / Double(layout.widths[depth]), into: &back)
        for l in stride(from: depth, through: 1, by: -1) {
            var delta = back
            delta.storage.withUnsafeMutableBufferPointer { dp in pass.slopes[l - 1].storage.withUnsafeBufferPointer { sp in
                for i in 0..<dp.count { dp[i] *= sp[i] }
            } }
            out[l - 1] = delta
            if l > 1 {
                back = Matrix(rows: n, cols: layout.widths[l - 1])
                Matrix.gemm(delta, .none, weight(layer: l), .none, alpha: 1 / Double(layout.widths[l - 1]), into: &back)
            }
        }
        return out
    }

    /// a_i(x) = d f_k(x) / d g^(l)_i(x) for every example, neuron i and layer l = 1...L (index l - 1; n x m^(l)):
    /// the weights of the approximation variance V(w, u) (seed 002 sec. VII).
    public func outputDerivatives(_ pass: DeepFeaturePass, output k: Int = 0) throws -> [Matrix] {
        guard (0..<outputs).contains(k) else { throw OverparamError.invalidArgument(name: "output", problem: "k = \(k) is not in 0..<\(outputs)") }
        var c = Matrix(rows: pass.outputs.rows, cols: outputs)
        for i in 0..<c.rows { c[i, k] = 1 }
        return try preactivationSensitivities(pass, outputCotangent: c)
    }

    /// The gradient of sum_{i,c} C_ic f_c(x_i) with respect to all parameters (flat, laid out by ``layout``):
    ///
    ///     d/dw^(l) = delta^(l)^T f^(l-1) / m^(l-1),   d/du = f^(L)^T C / m^(L).
    public func gradient(_ pass: DeepFeaturePass, outputCotangent c: Matrix) throws -> [Double] {
        let deltas = try preactivationSensitivities(pass, outputCotangent: c)
        var g = [Double](repeating: 0, count: layout.count)
        for l in 1...depth {
            var dw = Matrix(rows: layout.widths[l], cols: layout.widths[l - 1])
            Matrix.gemm(deltas[l - 1], .transposed, pass.features[l - 1], .none, alpha: 1 / Double(layout.widths[l - 1]), into: &dw)
            g.replaceSubrange(layout.weightRange(l), with: dw.storage)
        }
        var du = Matrix(rows: layout.widths[depth], cols: outputs)
        Matrix.gemm(pass.features[depth], .transposed, c, .none, alpha: 1 / Double(layout.widths[depth]), into: &du)
        g.replaceSubrange(layout.readoutRange, with: du.storage)
        return g
    }
}
