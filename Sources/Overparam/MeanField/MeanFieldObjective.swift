import Foundation

/// The mean-field objective (seed 003 eq. 3.5 with a penalty; seed 000 eq. 16)
///
///     F(mu) = R(integral Psi d mu) + integral r d mu,     R(h) = (1/2) E (h(x) - y)^2,
///
/// evaluated at the empirical measure of a network: G(W) = F((1/m) sum_j delta_{w_j}) (seed 003 sec. 3.2). The
/// expectation runs over a measure on (x, y): a sample (the empirical risk (1/2n) sum_i (h(x_i) - y_i)^2, the
/// convention of seed 003 sec. 2 and fig. 3's "(1/2) MSE"), or, for a ReLU student without input bias and a ReLU
/// ``GaussianTeacher``, the population itself in closed form (arc-cosine kernel), which gives the exact population
/// gradient flow of seed 003 figs. 2-3 without sampling noise.
///
/// Gradient convention: ``particleGradients(_:)`` returns grad_w J(w_j | mu) = m grad_{w_j} G(W), the velocity of
/// particle j under the flow W' = -m grad G(W) (seed 003 eq. 3.4) up to sign.
public struct MeanFieldObjective: Sendable {
    /// The measure of (x, y) behind the expectation.
    public enum Measure: Sendable {
        /// The empirical measure of a sample: inputs (n x d), targets (n).
        case sample(inputs: Matrix, targets: [Double])
        /// x ~ N(0, s^2 I), y = sum_k a_k (b_k . x)_+ + noise: exact expectations.
        case population(GaussianTeacher)
    }

    public let measure: Measure
    public let penalty: ConfiningPenalty

    /// The empirical objective of a sample (n >= 1).
    public init(inputs: Matrix, targets: [Double], penalty: ConfiningPenalty = .none) throws {
        guard inputs.rows >= 1 else { throw OverparamError.invalidArgument(name: "inputs", problem: "the objective needs at least one sample") }
        guard targets.count == inputs.rows else { throw OverparamError.shapeMismatch("\(inputs.rows) inputs but \(targets.count) targets") }
        guard inputs.isFinite, targets.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("objective inputs or targets") }
        measure = .sample(inputs: inputs, targets: targets)
        self.penalty = penalty
    }

    /// The exact population objective of a ReLU teacher with Gaussian inputs (ReLU students without input bias only).
    public init(population teacher: GaussianTeacher, penalty: ConfiningPenalty = .none) throws {
        guard teacher.activation == .relu else {
            throw OverparamError.invalidArgument(name: "teacher", problem: "the closed-form population risk needs a ReLU teacher (got \(teacher.activation)); use a large sample instead")
        }
        measure = .population(teacher)
        self.penalty = penalty
    }

    /// d.
    public var inputDimension: Int {
        switch measure {
        case let .sample(x, _): return x.cols
        case let .population(t): return t.inputDimension
        }
    }

    func check(_ net: MeanFieldNetwork) throws {
        guard net.inputDimension == inputDimension else {
            throw OverparamError.shapeMismatch("network input dimension \(net.inputDimension) but the data have d = \(inputDimension)")
        }
        if case .population = measure {
            guard net.activation == .relu, !net.hasInputBias else {
                throw OverparamError.invalidArgument(name: "network", problem: "the closed-form population objective needs a ReLU network without input bias (got \(net.activation)\(net.hasInputBias ? " with input bias" : ""))")
            }
        }
    }

    /// The frozen potential J(. | mu) of the network's measure (seed 003 eq. 3.6).
    public func potential(_ net: MeanFieldNetwork) throws -> MeanFieldPotential {
        try check(net)
        switch measure {
        case let .sample(x, y):
            let xa = try net.augmented(x)
            let h = net.features(augmentedInputs: xa).apply(net.theta2, alpha: 1 / Double(net.width))
            var r = h
            for i in 0..<r.count { r[i] -= y[i] }
            return MeanFieldPotential(source: .sample(inputs: xa, residuals: r, activation: net.activation),
                                      penalty: penalty, featureDimension: net.featureDimension)
        case let .population(t):
            let (c, v) = Self.residualExpansion(net, t)
            return MeanFieldPotential(source: .gaussianReLU(coefficients: c, directions: v, variance: t.inputScale * t.inputScale),
                                      penalty: penalty, featureDimension: net.featureDimension)
        }
    }

    /// h - f* = sum_l c_l (v_l . x)_+ with c = (theta2_j / m, -a_k) and v = (theta1_j, b_k).
    static func residualExpansion(_ net: MeanFieldNetwork, _ t: GaussianTeacher) -> ([Double], Matrix) {
        let m = net.width, m0 = t.neurons, d = t.inputDimension
        var c = [Double](repeating: 0, count: m + m0)
        for j in 0..<m { c[j] = net.theta2[j] / Double(m) }
        for k in 0..<m0 { c[m + k] = -t.outputWeights[k] }
        var v = Matrix(rows: m + m0, cols: d)
        v.storage.replaceSubrange(0..<(m * d), with: net.theta1.storage)
        v.storage.replaceSubrange((m * d)..<((m + m0) * d), with: t.inputWeights.storage)
        return (c, v)
    }

    /// R(h) = (1/2) E (h(x) - y)^2 (without the penalty). The population form includes the label noise, noise^2 / 2.
    public func risk(_ net: MeanFieldNetwork) throws -> Double {
        try check(net)
        switch measure {
        case let .sample(x, y):
            return try net.risk(x, targets: y)
        case let .population(t):
            let (c, v) = Self.residualExpansion(net, t)
            let l = c.count, d = v.cols, s2 = t.inputScale * t.inputScale
            var s = 0.0
            v.storage.withUnsafeBufferPointer { vp in
                for a in 0..<l where c[a] != 0 {
                    s += c[a] * c[a] * ReLUGaussianKernel.value(vp.baseAddress! + a * d, vp.baseAddress! + a * d, d, variance: s2)
                    for b in (a + 1)..<Swift.max(a + 1, l) where c[b] != 0 {
                        s += 2 * c[a] * c[b] * ReLUGaussianKernel.value(vp.baseAddress! + a * d, vp.baseAddress! + b * d, d, variance: s2)
                    }
                }
            }
            return 0.5 * Swift.max(0, s) + 0.5 * t.noise * t.noise
        }
    }

    /// F(mu) = R(h) + (1/m) sum_j r(w_j), i.e. G(W).
    public func value(_ net: MeanFieldNetwork) throws -> Double {
        try risk(net) + penalty.mean(over: net)
    }

    /// grad_w J(w_j | mu) = m grad_{w_j} G(W) for every particle, as rows (theta2, theta1) (m x (1 + D)).
    public func particleGradients(_ net: MeanFieldNetwork) throws -> Matrix {
        try potential(net).gradients(at: net.particles)
    }

    /// The dissipation (1/m) sum_j ||grad J(w_j | mu)||^2 = integral ||grad J||^2 d mu: along the flow
    /// dF/dt = -integral ||grad J||^2 d mu (seed 000 eq. 22, with eta(t) = 1).
    public func dissipation(_ net: MeanFieldNetwork) throws -> Double {
        let g = try particleGradients(net)
        return g.storage.reduce(0) { $0 + $1 * $1 } / Double(net.width)
    }
}

extension MeanFieldNetwork {
    /// sigma(x~ theta1^T) for already augmented inputs.
    func features(augmentedInputs xa: Matrix) -> Matrix {
        let z = preactivations(augmented: xa)
        let act = activation
        if act == .relu { return Matrix(rows: z.rows, cols: z.cols, storage: z.storage.map { $0 > 0 ? $0 : 0 }) }
        return Matrix(rows: z.rows, cols: z.cols, storage: Parallel.map(z.storage) { act($0) })
    }
}
