import Foundation
import CBLAS

/// A distribution of labelled samples (x, y), x in R^d, from which stochastic gradient descent draws fresh batches:
/// SGD on fresh samples descends the population risk (seed 003 sec. 3.2, last paragraph; sec. 4.4).
public protocol MeanFieldDistribution: Sendable {
    /// d, the dimension of x.
    var inputDimension: Int { get }
    /// Overwrite the first `count` rows of `inputs` (at least `count` x d) and the first `count` entries of `targets`
    /// with fresh independent samples drawn from `rng`. Implementations must not allocate per call beyond small
    /// scratch, and must draw the same numbers for the same generator state.
    func sample(count: Int, into inputs: inout Matrix, targets: inout [Double], using rng: inout Xoshiro256StarStar)
}

extension MeanFieldDistribution {
    /// n fresh samples from stream `stream` of `seed`.
    public func sample(_ n: Int, seed: UInt64, stream: UInt64 = 0x4D46_4441) throws -> (inputs: Matrix, targets: [Double]) {
        guard n >= 1 else { throw OverparamError.invalidArgument(name: "samples", problem: "need n >= 1, got \(n)") }
        var rng = Xoshiro256StarStar(seed: seed, stream: stream)
        var x = Matrix(rows: n, cols: inputDimension)
        var y = [Double](repeating: 0, count: n)
        sample(count: n, into: &x, targets: &y, using: &rng)
        return (x, y)
    }
}

/// A teacher network with Gaussian inputs:
///
///     x ~ N(0, s^2 I_d),   y = sum_{k<=m0} a_k sigma(b_k . x) + eps,   eps ~ N(0, noise^2).
///
/// - Seed 003 sec. 4.4 (figs. 2-3): sigma = ReLU, a_k = +-1, b_k on the unit sphere, s = 1, no noise, and no 1/m0
///   in front of the sum (the authors' code: `Y = A_tc' * max.(B_tc'*X, 0)`). See ``reluTeacher(neurons:inputDimension:seed:)``.
/// - Seed 000 fig. 6: F4(x) = (1/4) sum_{i<=4} sigmoid(theta_i . x), theta_i = (2,0), (1,2), (2,1), (0,2), x ~ N(0, 100^2 I),
///   eps ~ N(0, 0.1^2) (SEED-NOTES sec. 3). See ``sigmoidF4``.
///
/// For ReLU teachers the population risk of a ReLU student without input bias has a closed form (the arc-cosine
/// kernel, see ``MeanFieldObjective/init(population:penalty:)``).
public struct GaussianTeacher: MeanFieldDistribution, Equatable {
    /// a_k.
    public let outputWeights: [Double]
    /// b_k as rows (m0 x d).
    public let inputWeights: Matrix
    public let activation: Activation
    /// s, the standard deviation of each input coordinate.
    public let inputScale: Double
    /// The standard deviation of the label noise.
    public let noise: Double

    public init(outputWeights: [Double], inputWeights: Matrix, activation: Activation = .relu,
                inputScale: Double = 1, noise: Double = 0) throws {
        guard outputWeights.count >= 1, inputWeights.rows == outputWeights.count else {
            throw OverparamError.shapeMismatch("teacher: \(outputWeights.count) output weights but \(inputWeights.rows) input-weight rows (need m0 >= 1 of each)")
        }
        guard inputWeights.cols >= 1 else { throw OverparamError.shapeMismatch("teacher input weights need d >= 1 columns") }
        guard outputWeights.allSatisfy({ $0.isFinite }), inputWeights.isFinite else { throw OverparamError.nonFinite("teacher weights") }
        guard inputScale.isFinite, inputScale > 0 else { throw OverparamError.invalidArgument(name: "inputScale", problem: "must be finite and > 0, got \(inputScale)") }
        guard noise.isFinite, noise >= 0 else { throw OverparamError.invalidArgument(name: "noise", problem: "must be finite and >= 0, got \(noise)") }
        self.outputWeights = outputWeights
        self.inputWeights = inputWeights
        self.activation = activation
        self.inputScale = inputScale
        self.noise = noise
    }

    public var inputDimension: Int { inputWeights.cols }
    /// m0.
    public var neurons: Int { outputWeights.count }

    /// Seed 003 sec. 4.4's random ReLU teacher: a_k = +-1 with equal probability, b_k uniform on the unit sphere
    /// (fig. 2: d = 2, m0 = 4; fig. 3: d = 100, m0 = 10). Stream 3 of `seed`.
    public static func reluTeacher(neurons m0: Int, inputDimension d: Int, seed: UInt64) throws -> GaussianTeacher {
        guard m0 >= 1, d >= 1 else { throw OverparamError.invalidArgument(name: "teacher", problem: "need m0 >= 1 and d >= 1, got m0 = \(m0), d = \(d)") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 3)
        var a = [Double](repeating: 0, count: m0)
        var b = Matrix(rows: m0, cols: d)
        for k in 0..<m0 {
            a[k] = (rng.next() >> 63) == 0 ? 1 : -1
            let row = rng.onSphere(dimension: d)
            for c in 0..<d { b[k, c] = row[c] }
        }
        return try GaussianTeacher(outputWeights: a, inputWeights: b)
    }

    /// Seed 000 fig. 6's target F4 = (1/4) sum_{i<=4} sigmoid(theta_i . x), theta_i = (2,0), (1,2), (2,1), (0,2), with
    /// x ~ N(0, 100^2 I_2) and label noise N(0, 0.1^2) (the authors' code: `torch.randn(10000,2)*100`, `randn_like/10`).
    public static var sigmoidF4: GaussianTeacher {
        // Constant, valid arguments: cannot throw.
        try! GaussianTeacher(outputWeights: [0.25, 0.25, 0.25, 0.25],
                             inputWeights: Matrix([[2, 0], [1, 2], [2, 1], [0, 2]]),
                             activation: .sigmoid, inputScale: 100, noise: 0.1)
    }

    /// The noiseless target f*(x) = sum_k a_k sigma(b_k . x) for every row of x.
    public func target(_ x: Matrix) throws -> [Double] {
        guard x.cols == inputDimension else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the teacher expects d = \(inputDimension)") }
        guard x.isFinite else { throw OverparamError.nonFinite("teacher inputs") }
        var y = [Double](repeating: 0, count: x.rows)
        x.storage.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in fillTargets(rows: x.rows, x: xp.baseAddress!, ldx: x.cols, y: yp.baseAddress!) }
        }
        return y
    }

    /// y_i = sum_k a_k sigma(b_k . x_i) for `rows` rows of x (leading dimension ldx), by one small GEMM.
    func fillTargets(rows n: Int, x: UnsafePointer<Double>, ldx: Int, y: UnsafeMutablePointer<Double>) {
        let m0 = neurons, d = inputDimension
        let act = activation
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(1, n * m0)) { z in
            inputWeights.storage.withUnsafeBufferPointer { bp in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(m0), Int32(d), 1,
                            x, Int32(ldx), bp.baseAddress, Int32(d), 0, z.baseAddress, Int32(m0))
            }
            outputWeights.withUnsafeBufferPointer { a in
                for i in 0..<n {
                    var s = 0.0
                    for k in 0..<m0 { s += a[k] * act(z[i * m0 + k]) }
                    y[i] = s
                }
            }
        }
    }

    public func sample(count n: Int, into inputs: inout Matrix, targets: inout [Double], using rng: inout Xoshiro256StarStar) {
        precondition(inputs.cols == inputDimension && inputs.rows >= n && targets.count >= n, "GaussianTeacher.sample: buffers too small")
        let s = inputScale, d = inputDimension
        inputs.storage.withUnsafeMutableBufferPointer { xp in
            rng.fillZigguratNormals(xp.baseAddress!, count: n * d, scale: s)
            targets.withUnsafeMutableBufferPointer { yp in
                fillTargets(rows: n, x: UnsafePointer(xp.baseAddress!), ldx: d, y: yp.baseAddress!)
                if noise > 0 { for i in 0..<n { yp[i] += noise * rng.zigguratNormal() } }
            }
        }
    }
}

/// The ziggurat method for standard normals (Marsaglia-Tsang 2000 in Doornik's 2005 ZIGNOR form: 128 layers,
/// R = 3.442619855899): one 64-bit draw per normal in about 98.8% of the calls (7 bits pick the layer, the top 53 the
/// abscissa), with exact rejection in the wedges and Marsaglia's tail. About 5x faster than Box-Muller here; the
/// fresh-input SGD loop draws B d normals per step. Checked against N(0, 1) moments and tail mass in the tests.
enum Ziggurat {
    static let r = 3.442619855899
    static let v = 9.91256303526217e-3
    /// Layer abscissas x_0 ... x_128 (x_0 = v / f(R) is the base strip's virtual width, x_128 = 0).
    static let x: [Double] = {
        var x = [Double](repeating: 0, count: 129)
        var f = Foundation.exp(-0.5 * r * r)
        x[0] = v / f
        x[1] = r
        for i in 2..<128 {
            x[i] = (-2 * Foundation.log(v / x[i - 1] + f)).squareRoot()
            f = Foundation.exp(-0.5 * x[i] * x[i])
        }
        x[128] = 0
        return x
    }()
    /// x_{i+1} / x_i: the fast-acceptance bound of layer i.
    static let ratio: [Double] = (0..<128).map { x[$0 + 1] / x[$0] }
}

extension Xoshiro256StarStar {
    /// A standard normal by the ziggurat method (``Ziggurat``).
    mutating func zigguratNormal() -> Double {
        Ziggurat.x.withUnsafeBufferPointer { xp in
            Ziggurat.ratio.withUnsafeBufferPointer { rp in zigguratNormal(x: xp.baseAddress!, ratio: rp.baseAddress!) }
        }
    }

    /// Fill p[0..<count] with scale * N(0, 1) draws (the tables bound once for the whole loop).
    mutating func fillZigguratNormals(_ p: UnsafeMutablePointer<Double>, count: Int, scale: Double = 1) {
        Ziggurat.x.withUnsafeBufferPointer { xp in
            Ziggurat.ratio.withUnsafeBufferPointer { rp in
                let x = xp.baseAddress!, r = rp.baseAddress!
                for q in 0..<count { p[q] = scale * zigguratNormal(x: x, ratio: r) }
            }
        }
    }

    @inline(__always)
    mutating func zigguratNormal(x: UnsafePointer<Double>, ratio: UnsafePointer<Double>) -> Double {
        let bits = next()
        let i = Int(bits & 0x7F)
        let u = 2 * (Double(bits >> 11) * 0x1.0p-53) - 1
        if Swift.abs(u) < ratio[i] { return u * x[i] }
        return zigguratSlowPath(i: i, u: u, x: x)
    }

    /// The rare wedge and tail cases of the ziggurat (about 1.2% of the draws).
    @inline(never)
    mutating func zigguratSlowPath(i firstLayer: Int, u firstU: Double, x: UnsafePointer<Double>) -> Double {
        var i = firstLayer, u = firstU
        while true {
            if Swift.abs(u) < x[i + 1] / x[i] { return u * x[i] }
            if i == 0 {
                // Marsaglia's tail beyond R.
                var t = 0.0, e = 0.0
                repeat {
                    t = Foundation.log(uniformPositive()) / Ziggurat.r
                    e = Foundation.log(uniformPositive())
                } while -2 * e < t * t
                return u < 0 ? t - Ziggurat.r : Ziggurat.r - t
            }
            let xx = u * x[i]
            let f0 = Foundation.exp(-0.5 * (x[i] * x[i] - xx * xx))
            let f1 = Foundation.exp(-0.5 * (x[i + 1] * x[i + 1] - xx * xx))
            if f1 + uniform() * (f0 - f1) < 1 { return xx }
            let bits = next()
            i = Int(bits & 0x7F)
            u = 2 * (Double(bits >> 11) * 0x1.0p-53) - 1
        }
    }
}
