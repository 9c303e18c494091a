import Foundation

/// The particle flow in polar form for a positively 2-homogeneous Psi (seed 003 sec. 4.2, eq. 4.1): w_j = r_j eta_j with
/// r_j = ||w_j|| >= 0 and eta_j on the unit sphere S^D of R^{1+D}, nu = (1/m) sum_j r_j^2 delta_{eta_j} (so that
/// h = integral Psi d nu and J(. | nu) = J(. | mu)), and
///
///     r_j'   = -2 r_j J(eta_j | nu),
///     eta_j' = -(I - eta_j eta_j^T) grad J(eta_j | nu).
///
/// **Correction (SEED-NOTES, seed 003):** the seed prints eta_j' = +(I - eta_j eta_j^T) grad J; the sign is wrong. With
/// w_j' = -grad J(w_j) (eq. 3.4), r' = eta . w' = -r eta . grad J(eta) = -2 r J(eta) (grad J is 1-homogeneous, Euler's
/// identity eta . grad J(eta) = 2 J(eta)) and eta' = (I - eta eta^T) w' / r = -(I - eta eta^T) grad J(eta).
/// The mass of nu then obeys d/dt (1/m) sum_j r_j^2 = -(4/m) sum_j r_j^2 J(eta_j | nu) (eq. 4.2 with f = 1).
/// The tests integrate both forms and compare the trajectories.
///
/// Requirements: sigma positively 1-homogeneous (ReLU, ab-ReLU, identity; any input bias is part of theta1) and, with a
/// penalty, lambda2 = lambda1 (r(w) = (lambda/2) ||w||^2 is then 2-homogeneous too).
public struct SphereParticleFlow: Sendable {
    /// Polar coordinates of the particles.
    public struct State: Sendable, Equatable {
        /// r_j = ||w_j||.
        public var radii: [Double]
        /// eta_j = w_j / ||w_j|| as rows (m x (1 + D)); (1, 0, ..., 0) for a particle at the origin (r_j = 0 stays 0).
        public var directions: Matrix
        /// The mass of nu, (1/m) sum_j r_j^2.
        public var mass: Double { radii.reduce(0) { $0 + $1 * $1 } / Double(Swift.max(1, radii.count)) }
    }

    public var objective: MeanFieldObjective
    public var solver: DormandPrince

    public init(objective: MeanFieldObjective, solver: DormandPrince = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)) throws {
        guard objective.penalty.isHomogeneous else {
            throw OverparamError.invalidArgument(name: "penalty", problem: "the sphere form needs a 2-homogeneous penalty (lambda2 = lambda1), got \(objective.penalty.theta2), \(objective.penalty.theta1)")
        }
        self.objective = objective
        self.solver = solver
    }

    func check(_ net: MeanFieldNetwork) throws {
        guard net.activation.isPositivelyHomogeneous else {
            throw OverparamError.invalidArgument(name: "activation", problem: "the sphere form needs a positively 2-homogeneous Psi, i.e. relu, ab-relu or identity; got \(net.activation)")
        }
        try objective.check(net)
    }

    /// (r_j, eta_j) of a network's particles.
    public static func polar(_ net: MeanFieldNetwork) -> State {
        let p = net.particles
        let m = p.rows, pd = p.cols
        var r = [Double](repeating: 0, count: m)
        var eta = Matrix(rows: m, cols: pd)
        for j in 0..<m {
            var n = 0.0
            for q in 0..<pd { n += p.storage[j * pd + q] * p.storage[j * pd + q] }
            n = n.squareRoot()
            r[j] = n
            if n > 0 { for q in 0..<pd { eta.storage[j * pd + q] = p.storage[j * pd + q] / n } } else { eta.storage[j * pd] = 1 }
        }
        return State(radii: r, directions: eta)
    }

    /// The network with particles w_j = r_j eta_j (activation and bias from `template`).
    public static func network(_ state: State, like template: MeanFieldNetwork) throws -> MeanFieldNetwork {
        guard state.radii.count == state.directions.rows, state.directions.cols == template.particleDimension else {
            throw OverparamError.shapeMismatch("polar state with \(state.radii.count) radii and \(state.directions.rows)x\(state.directions.cols) directions does not fit particles of dimension \(template.particleDimension)")
        }
        var p = state.directions
        let pd = p.cols
        for j in 0..<state.radii.count { for q in 0..<pd { p.storage[j * pd + q] *= state.radii[j] } }
        return try MeanFieldNetwork(particles: p, activation: template.activation, inputBias: template.hasInputBias)
    }

    /// (r_j', eta_j') and J(eta_j | nu) at a state.
    public func velocity(_ state: State, like template: MeanFieldNetwork) throws -> (radii: [Double], directions: Matrix, potential: [Double]) {
        let net = try Self.network(state, like: template)
        try check(net)
        let (jv, gj) = try objective.potential(net).valuesAndGradients(at: state.directions)
        let m = state.radii.count, pd = state.directions.cols
        var dr = [Double](repeating: 0, count: m)
        var de = Matrix(rows: m, cols: pd)
        for j in 0..<m {
            dr[j] = -2 * state.radii[j] * jv[j]
            var dotp = 0.0
            for q in 0..<pd { dotp += state.directions.storage[j * pd + q] * gj.storage[j * pd + q] }
            for q in 0..<pd { de.storage[j * pd + q] = -(gj.storage[j * pd + q] - dotp * state.directions.storage[j * pd + q]) }
        }
        return (dr, de, jv)
    }

    /// d/dt of the mass of nu by the identity -(4/m) sum_j r_j^2 J(eta_j | nu).
    public func massRate(_ state: State, like template: MeanFieldNetwork) throws -> Double {
        let jv = try velocity(state, like: template).potential
        var s = 0.0
        for j in 0..<jv.count { s += state.radii[j] * state.radii[j] * jv[j] }
        return -4 * s / Double(Swift.max(1, jv.count))
    }

    /// Integrate the polar flow from the network's particles for `time`; `observe(state, t)` at 0, at each of
    /// `observationTimes` and at `time`. Returns the network w_j = r_j eta_j at `time`.
    public func run(_ net: MeanFieldNetwork, until time: Double, observationTimes: [Double] = [],
                    observe: (State, Double) throws -> Void = { _, _ in }) throws -> MeanFieldNetwork {
        guard time.isFinite, time >= 0 else { throw OverparamError.invalidArgument(name: "time", problem: "must be finite and >= 0, got \(time)") }
        try check(net)
        let m = net.width, pd = net.particleDimension
        func unpack(_ y: [Double]) -> State {
            State(radii: Array(y[0..<m]), directions: Matrix(rows: m, cols: pd, storage: Array(y[m...])))
        }
        let s0 = Self.polar(net)
        if time == 0 { try observe(s0, 0); return net }
        let result = try solver.integrate(s0.radii + s0.directions.storage, from: 0, to: time, outputTimes: observationTimes.sorted(), { y, _ in
            let v = try self.velocity(unpack(y), like: net)
            return v.radii + v.directions.storage
        }, observe: { y, t in try observe(unpack(y), t) })
        return try Self.network(unpack(result.y), like: net)
    }
}
