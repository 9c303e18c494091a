import Foundation
import CBLAS

/// A two-layer network in the mean-field parameterization (seed 003 eq. 3.1, seed 000 eq. 1 with alpha = 1,
/// seed 004 eq. 2.3.1):
///
///     h(x) = (1/m) sum_{j<=m} Psi(w_j)(x),   Psi(w)(x) = theta2 sigma(theta1 . x~),
///
/// with particles w_j = (theta2_j, theta1_j) in R^{1+D}. The input seen by the first layer is x~ = x (D = d) or,
/// with ``hasInputBias``, x~ = (1, x) (D = d + 1; coordinate 0 of theta1 is the bias; seed 003 sec. 5.5 and
/// SEED-NOTES sec. 1 for seed 003's classification data). Seed 004 eq. 2.3.1 divides theta1 . x by sqrt(N_0):
/// feed x / sqrt(d) to use that convention.
///
/// The network is the empirical measure mu = (1/m) sum_j delta_{w_j} (seed 003 sec. 3.1): every quantity of the
/// mean-field theory (the risk, the potential J(w | mu), the flow) depends on the particles only through mu.
public struct MeanFieldNetwork: Sendable, Equatable {
    /// Output weights theta2_j (seed 000's u_j), j = 1...m.
    public var theta2: [Double]
    /// Input weights, one particle per row: row j is theta1_j in R^D (m x D, row-major).
    public var theta1: Matrix
    /// sigma. ReLU makes Psi positively 2-homogeneous (seed 003 sec. 4.2).
    public var activation: Activation
    /// x~ = (1, x): theta1's coordinate 0 multiplies a constant 1.
    public var hasInputBias: Bool

    /// A network from its weights; throws on an empty network, a shape mismatch or non-finite weights.
    public init(theta2: [Double], theta1: Matrix, activation: Activation = .relu, inputBias: Bool = false) throws {
        guard theta2.count >= 1 else {
            throw OverparamError.invalidArgument(name: "width", problem: "a mean-field network needs m >= 1 particles, got \(theta2.count)")
        }
        guard theta1.rows == theta2.count else {
            throw OverparamError.shapeMismatch("theta1 has \(theta1.rows) rows but theta2 has \(theta2.count) entries (one row per particle)")
        }
        guard theta1.cols >= (inputBias ? 2 : 1) else {
            throw OverparamError.shapeMismatch("theta1 has \(theta1.cols) columns; need at least \(inputBias ? 2 : 1) (input dimension >= 1\(inputBias ? " plus the bias coordinate" : ""))")
        }
        guard theta2.allSatisfy({ $0.isFinite }), theta1.isFinite else {
            throw OverparamError.nonFinite("mean-field network weights")
        }
        self.theta2 = theta2
        self.theta1 = theta1
        self.activation = activation
        self.hasInputBias = inputBias
    }

    /// A network from particles: row j of `particles` is w_j = (theta2_j, theta1_j) (m x (1 + D)).
    public init(particles: Matrix, activation: Activation = .relu, inputBias: Bool = false) throws {
        guard particles.cols >= 2 else {
            throw OverparamError.shapeMismatch("particles need at least 2 columns (theta2, theta1), got \(particles.cols)")
        }
        let m = particles.rows, dd = particles.cols - 1
        var t2 = [Double](repeating: 0, count: m)
        var t1 = Matrix(rows: m, cols: dd)
        for j in 0..<m {
            t2[j] = particles[j, 0]
            for k in 0..<dd { t1.storage[j * dd + k] = particles.storage[j * (dd + 1) + 1 + k] }
        }
        try self.init(theta2: t2, theta1: t1, activation: activation, inputBias: inputBias)
    }

    /// m, the number of particles (hidden neurons).
    public var width: Int { theta2.count }
    /// d, the dimension of the raw inputs x.
    public var inputDimension: Int { theta1.cols - (hasInputBias ? 1 : 0) }
    /// D, the dimension of x~ and of theta1 (d or d + 1).
    public var featureDimension: Int { theta1.cols }
    /// 1 + D, the dimension of a particle w = (theta2, theta1).
    public var particleDimension: Int { theta1.cols + 1 }

    /// The particles as rows w_j = (theta2_j, theta1_j) (m x (1 + D)).
    public var particles: Matrix {
        let m = width, dd = featureDimension
        var p = Matrix(rows: m, cols: dd + 1)
        for j in 0..<m {
            p.storage[j * (dd + 1)] = theta2[j]
            for k in 0..<dd { p.storage[j * (dd + 1) + 1 + k] = theta1.storage[j * dd + k] }
        }
        return p
    }

    /// The particles flattened particle by particle, (theta2_1, theta1_1, theta2_2, ...) (the ODE state of the flow).
    public var flattened: [Double] { particles.storage }

    /// The same architecture with particles read from a flat vector laid out like ``flattened``.
    public func with(flattened w: [Double]) throws -> MeanFieldNetwork {
        guard w.count == width * particleDimension else {
            throw OverparamError.shapeMismatch("flat particle vector has \(w.count) entries, expected m (1 + D) = \(width * particleDimension)")
        }
        return try MeanFieldNetwork(particles: Matrix(rows: width, cols: particleDimension, storage: w),
                                    activation: activation, inputBias: hasInputBias)
    }

    /// Particle positions |theta2_j| theta1_j (m x D) and the signs of theta2_j: the picture of seed 003 fig. 2
    /// (which draws them with the radius rescaled by tanh).
    public var particlePositions: (positions: Matrix, signs: [Double]) {
        var p = theta1
        for j in 0..<width {
            let a = Swift.abs(theta2[j])
            for k in 0..<featureDimension { p.storage[j * featureDimension + k] *= a }
        }
        return (p, theta2.map { $0 >= 0 ? 1 : -1 })
    }

    // MARK: Evaluation

    /// The first layer's inputs x~ (n x D): x itself, or (1, x) with the bias coordinate.
    public func augmented(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else {
            throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the network expects d = \(inputDimension)")
        }
        guard x.isFinite else { throw OverparamError.nonFinite("mean-field network inputs") }
        guard hasInputBias else { return x }
        let dd = featureDimension
        var a = Matrix(rows: x.rows, cols: dd)
        for i in 0..<x.rows {
            a.storage[i * dd] = 1
            for k in 0..<x.cols { a.storage[i * dd + 1 + k] = x.storage[i * x.cols + k] }
        }
        return a
    }

    /// Pre-activations theta1_j . x~_i of the augmented inputs (n x m), by one GEMM.
    func preactivations(augmented xa: Matrix) -> Matrix {
        var z = Matrix(uninitializedRows: xa.rows, cols: width)
        Matrix.gemm(xa, .none, theta1, .transposed, into: &z)
        return z
    }

    /// The hidden features sigma(theta1_j . x~_i) (n x m).
    public func features(_ x: Matrix) throws -> Matrix {
        features(augmentedInputs: try augmented(x))
    }

    /// h(x_i) = (1/m) sum_j theta2_j sigma(theta1_j . x~_i) for every row of x (seed 003 eq. 3.1).
    public func callAsFunction(_ x: Matrix) throws -> [Double] {
        let f = try features(x)
        return f.apply(theta2, alpha: 1 / Double(width))
    }

    /// The empirical square-loss risk R(h) = (1/2n) sum_i (h(x_i) - y_i)^2 (seed 003 sec. 2's square loss,
    /// l(y, h) = (1/2)(y - h)^2; seed 003 fig. 3's "test risk = (1/2) MSE").
    public func risk(_ x: Matrix, targets y: [Double]) throws -> Double {
        guard y.count == x.rows else { throw OverparamError.shapeMismatch("\(x.rows) inputs but \(y.count) targets") }
        guard y.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("targets") }
        guard x.rows > 0 else { throw OverparamError.invalidArgument(name: "inputs", problem: "the risk needs at least one sample") }
        let h = try self(x)
        var s = 0.0
        for i in 0..<h.count { let e = h[i] - y[i]; s += e * e }
        return 0.5 * s / Double(x.rows)
    }

    // MARK: Initialization

    /// How output weights theta2_j are drawn.
    public enum OutputInitialization: Sendable, Equatable {
        /// theta2_j ~ N(0, std^2) (seed 000: u_j ~ N(0, sigma^2)).
        case gaussian(std: Double)
        /// theta2_j = +-magnitude with equal probability (seed 003 fig. 2: +-1).
        case signs(magnitude: Double)
        /// theta2_j = value for all j (0 for random features trained from zero).
        case constant(Double)
    }

    /// How input weights theta1_j are drawn.
    public enum InputInitialization: Sendable, Equatable {
        /// theta1_j ~ N(0, std^2 I_D) (seed 000).
        case gaussian(std: Double)
        /// theta1_j uniform on the sphere of radius `radius` in R^D (seed 003: the unit sphere).
        case sphere(radius: Double)
    }

    /// A random network. theta2 draws from stream 1 and theta1 from stream 2 of `seed`, particle by particle, so
    /// the first m' particles of a width-m network equal those of a width-m' network with the same seed.
    public static func random(width m: Int, inputDimension d: Int, activation: Activation = .relu, inputBias: Bool = false,
                              theta2 outInit: OutputInitialization = .signs(magnitude: 1),
                              theta1 inInit: InputInitialization = .sphere(radius: 1), seed: UInt64) throws -> MeanFieldNetwork {
        guard m >= 1 else { throw OverparamError.invalidArgument(name: "width", problem: "m must be >= 1, got \(m)") }
        guard d >= 1 else { throw OverparamError.invalidArgument(name: "inputDimension", problem: "d must be >= 1, got \(d)") }
        switch outInit {
        case let .gaussian(s): guard s.isFinite, s >= 0 else { throw OverparamError.invalidArgument(name: "theta2 std", problem: "must be finite and >= 0, got \(s)") }
        case let .signs(a): guard a.isFinite else { throw OverparamError.invalidArgument(name: "theta2 magnitude", problem: "must be finite, got \(a)") }
        case let .constant(c): guard c.isFinite else { throw OverparamError.invalidArgument(name: "theta2 value", problem: "must be finite, got \(c)") }
        }
        switch inInit {
        case let .gaussian(s): guard s.isFinite, s >= 0 else { throw OverparamError.invalidArgument(name: "theta1 std", problem: "must be finite and >= 0, got \(s)") }
        case let .sphere(r): guard r.isFinite, r >= 0 else { throw OverparamError.invalidArgument(name: "theta1 radius", problem: "must be finite and >= 0, got \(r)") }
        }
        let dd = d + (inputBias ? 1 : 0)
        var r2 = Xoshiro256StarStar(seed: seed, stream: 1)
        var r1 = Xoshiro256StarStar(seed: seed, stream: 2)
        var t2 = [Double](repeating: 0, count: m)
        for j in 0..<m {
            switch outInit {
            case let .gaussian(s): t2[j] = s * r2.normal()
            case let .signs(a): t2[j] = (r2.next() >> 63) == 0 ? a : -a
            case let .constant(c): t2[j] = c
            }
        }
        var t1 = Matrix(rows: m, cols: dd)
        for j in 0..<m {
            let row: [Double]
            switch inInit {
            case let .gaussian(s): row = r1.normals(dd, std: s)
            case let .sphere(r): row = r1.onSphere(dimension: dd).map { r * $0 }
            }
            for k in 0..<dd { t1.storage[j * dd + k] = row[k] }
        }
        return try MeanFieldNetwork(theta2: t2, theta1: t1, activation: activation, inputBias: inputBias)
    }
}
