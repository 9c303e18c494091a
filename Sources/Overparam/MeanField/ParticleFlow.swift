import Foundation

/// Which particle coordinates move: both layers (the mean-field / feature-learning regime) or only the output weights
/// theta2 with theta1 frozen (random features, seed 003 sec. 5.3; ``RandomFeatures``).
public enum TrainedLayers: String, Sendable, Equatable {
    case both
    case outputOnly = "output-only"
}

/// The particle gradient flow of seed 003 eq. 3.4,
///
///     W' = -m grad G(W),   i.e.   w_j' = -grad_w J(w_j | mu_t)   (seed 003 sec. 4.2; seed 000 eq. 20 with eta(t) = 1),
///
/// integrated with the package's adaptive ``DormandPrince`` on the flat particle vector (``MeanFieldNetwork/flattened``).
/// The m in front of the gradient makes the limit m -> infinity well defined (the Wasserstein gradient flow of
/// Theorem 1); the time t here is the t of Theorem 1 and of ``ParticleGradientDescent`` after t / gamma steps.
public struct ParticleGradientFlow: Sendable {
    public var objective: MeanFieldObjective
    public var solver: DormandPrince
    public var trainedLayers: TrainedLayers

    public init(objective: MeanFieldObjective, solver: DormandPrince = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10),
                trainedLayers: TrainedLayers = .both) {
        self.objective = objective
        self.solver = solver
        self.trainedLayers = trainedLayers
    }

    /// The velocities w_j' = -grad J(w_j | mu) as rows (theta2, theta1) (theta1 columns zero for ``TrainedLayers/outputOnly``).
    public func velocity(_ net: MeanFieldNetwork) throws -> Matrix {
        var g = try objective.particleGradients(net)
        g.scale(by: -1)
        if trainedLayers == .outputOnly {
            let pd = net.particleDimension
            for j in 0..<net.width { for q in 1..<pd { g.storage[j * pd + q] = 0 } }
        }
        return g
    }

    /// Integrate from t = 0 to `time`; `observe(network, t)` runs at 0, at each of `observationTimes` inside (0, time)
    /// (hit exactly) and at `time`. Returns the network at `time`.
    public func run(_ net: MeanFieldNetwork, until time: Double, observationTimes: [Double] = [],
                    observe: (MeanFieldNetwork, Double) throws -> Void = { _, _ in }) throws -> MeanFieldNetwork {
        guard time.isFinite, time >= 0 else { throw OverparamError.invalidArgument(name: "time", problem: "must be finite and >= 0, got \(time)") }
        guard observationTimes.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("observation times") }
        try objective.check(net)
        if time == 0 { try observe(net, 0); return net }
        let template = net
        let result = try solver.integrate(net.flattened, from: 0, to: time, outputTimes: observationTimes.sorted(), { w, _ in
            try self.velocity(template.with(flattened: w)).storage
        }, observe: { w, t in try observe(template.with(flattened: w), t) })
        return try template.with(flattened: result.y)
    }
}

/// Full-batch gradient descent on the particles with step gamma m (seed 003 eq. 3.3):
///
///     W_k = W_{k-1} - gamma m grad G(W_{k-1}),   i.e.   w_j <- w_j - gamma grad J(w_j | mu),
///
/// the explicit Euler scheme of ``ParticleGradientFlow`` with time step gamma (t = k gamma). A raw-parameter learning rate
/// eta on G (no factor m) is gamma = eta / m.
public struct ParticleGradientDescent: Sendable {
    public var objective: MeanFieldObjective
    /// gamma.
    public var stepSize: Double
    public var trainedLayers: TrainedLayers

    public init(objective: MeanFieldObjective, stepSize: Double, trainedLayers: TrainedLayers = .both) throws {
        guard stepSize.isFinite, stepSize > 0 else { throw OverparamError.invalidArgument(name: "stepSize", problem: "gamma must be finite and > 0, got \(stepSize)") }
        self.objective = objective
        self.stepSize = stepSize
        self.trainedLayers = trainedLayers
    }

    /// One step; throws ``OverparamError/diverged(_:)`` when the particles become non-finite.
    public func step(_ net: inout MeanFieldNetwork) throws {
        let g = try objective.particleGradients(net)
        let pd = net.particleDimension, dd = net.featureDimension, gamma = stepSize
        for j in 0..<net.width {
            net.theta2[j] -= gamma * g.storage[j * pd]
            if trainedLayers == .both {
                for q in 0..<dd { net.theta1.storage[j * dd + q] -= gamma * g.storage[j * pd + 1 + q] }
            }
        }
        guard net.theta2.allSatisfy({ $0.isFinite }), net.theta1.isFinite else {
            throw OverparamError.diverged("particle gradient descent produced NaN/Inf; lower the step size gamma = \(gamma)")
        }
    }

    /// `steps` steps; `observe(network, k)` runs at k = 0, every `observeEvery` steps and after the last one.
    public func run(_ net: MeanFieldNetwork, steps: Int, observeEvery: Int = 0,
                    observe: (MeanFieldNetwork, Int) throws -> Void = { _, _ in }) throws -> MeanFieldNetwork {
        guard steps >= 0 else { throw OverparamError.invalidArgument(name: "steps", problem: "must be >= 0, got \(steps)") }
        guard observeEvery >= 0 else { throw OverparamError.invalidArgument(name: "observeEvery", problem: "must be >= 0, got \(observeEvery)") }
        try objective.check(net)
        var w = net
        try observe(w, 0)
        for k in 1...Swift.max(1, steps) where steps > 0 {
            try step(&w)
            if k == steps || (observeEvery > 0 && k % observeEvery == 0) { try observe(w, k) }
        }
        return w
    }
}
