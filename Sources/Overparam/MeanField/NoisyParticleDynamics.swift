import Foundation

/// Noisy (Langevin) particle dynamics, the particle form of entropy-regularized mean-field training (seed 000 sec. V,
/// eqs. 15-23 and the SDE after eq. 23):
///
///     d w_j = -grad J(w_j | mu_t) dt + sqrt(2 lambda) dB_j(t),
///
/// discretized by Euler-Maruyama with time step gamma (seed 000's eta(t)): w_j <- w_j - gamma grad J(w_j | mu) +
/// sqrt(2 lambda gamma) xi_j, xi_j ~ N(0, I). For the whole vector W this is dW = -m grad G(W) dt + sqrt(2 lambda) dB,
/// whose stationary law at finite m is proportional to exp(-m G(W) / lambda); as m -> infinity mu_t follows the
/// gradient flow of F(mu) + lambda integral p log p (seed 000's lambda_p, "R(rho)" with the entropy term).
///
/// The confining penalty r (``ConfiningPenalty``, seed 000 eq. 16) is required on every moving coordinate: without it
/// exp(-m G / lambda) is not normalizable and the particles diffuse away (SEED-NOTES sec. 2, seed 000).
/// Seed 000 fig. 6 uses L2 on u only (`1e-2 ||u||^2 / m`); there theta stays unconfined, so its noisy panel (f) is a
/// finite-time picture, not a stationary law: pass `requireConfinement: false` to reproduce it.
public struct NoisyParticleDynamics: Sendable {
    public let objective: MeanFieldObjective
    /// lambda (seed 000's lambda_p).
    public let temperature: Double
    /// gamma.
    public let stepSize: Double
    public let trainedLayers: TrainedLayers
    var rng: Xoshiro256StarStar

    /// Full-batch noisy gradient descent on `objective` (its penalty confines). `seed` drives the noise (stream 0x4C41_4E47).
    public init(objective: MeanFieldObjective, temperature: Double, stepSize: Double, trainedLayers: TrainedLayers = .both,
                requireConfinement: Bool = true, seed: UInt64) throws {
        try Self.validate(temperature: temperature, stepSize: stepSize, penalty: objective.penalty, trainedLayers: trainedLayers,
                          requireConfinement: requireConfinement)
        self.objective = objective
        self.temperature = temperature
        self.stepSize = stepSize
        self.trainedLayers = trainedLayers
        rng = Xoshiro256StarStar(seed: seed, stream: 0x4C41_4E47)
    }

    static func validate(temperature: Double, stepSize: Double, penalty: ConfiningPenalty, trainedLayers: TrainedLayers,
                         requireConfinement: Bool) throws {
        guard temperature.isFinite, temperature >= 0 else { throw OverparamError.invalidArgument(name: "temperature", problem: "lambda must be finite and >= 0, got \(temperature)") }
        guard stepSize.isFinite, stepSize > 0 else { throw OverparamError.invalidArgument(name: "stepSize", problem: "gamma must be finite and > 0, got \(stepSize)") }
        if requireConfinement && temperature > 0 {
            guard penalty.theta2 > 0, trainedLayers == .outputOnly || penalty.theta1 > 0 else {
                throw OverparamError.invalidArgument(name: "penalty", problem: "Langevin dynamics needs a confining L2 penalty on every trained coordinate (lambda2 > 0\(trainedLayers == .both ? " and lambda1 > 0" : "")); got lambda2 = \(penalty.theta2), lambda1 = \(penalty.theta1)")
            }
        }
    }

    /// Minibatch noisy SGD (``ParticleSGD`` with a temperature): the same update with grad J estimated on each batch.
    public static func sgd(network: MeanFieldNetwork, temperature: Double, stepSize: Double, batchSize: Int, penalty: ConfiningPenalty,
                           convention: BatchGradientConvention = .mean, trainedLayers: TrainedLayers = .both,
                           requireConfinement: Bool = true, seed: UInt64) throws -> ParticleSGD {
        try validate(temperature: temperature, stepSize: stepSize, penalty: penalty, trainedLayers: trainedLayers, requireConfinement: requireConfinement)
        return try ParticleSGD(network: network, stepSize: stepSize, batchSize: batchSize, penalty: penalty, convention: convention,
                               trainedLayers: trainedLayers, temperature: temperature, seed: seed)
    }

    /// One Euler-Maruyama step.
    public mutating func step(_ net: inout MeanFieldNetwork) throws {
        let g = try objective.particleGradients(net)
        let pd = net.particleDimension, dd = net.featureDimension, gamma = stepSize
        let sd = (2 * temperature * gamma).squareRoot()
        for j in 0..<net.width {
            net.theta2[j] += -gamma * g.storage[j * pd] + sd * rng.zigguratNormal()
            if trainedLayers == .both {
                for q in 0..<dd { net.theta1.storage[j * dd + q] += -gamma * g.storage[j * pd + 1 + q] + sd * rng.zigguratNormal() }
            }
        }
        guard net.theta2.allSatisfy({ $0.isFinite }), net.theta1.isFinite else {
            throw OverparamError.diverged("noisy particle dynamics produced NaN/Inf; lower gamma = \(gamma)")
        }
    }

    /// `steps` steps; `observe(network, k)` at k = 0, every `observeEvery` steps and after the last.
    public mutating func run(_ net: MeanFieldNetwork, steps: Int, observeEvery: Int = 0,
                             observe: (MeanFieldNetwork, Int) throws -> Void = { _, _ in }) throws -> MeanFieldNetwork {
        guard steps >= 0, observeEvery >= 0 else { throw OverparamError.invalidArgument(name: "steps", problem: "steps and observeEvery must be >= 0") }
        try objective.check(net)
        var w = net
        try observe(w, 0)
        var k = 0
        while k < steps {
            try step(&w)
            k += 1
            if k == steps || (observeEvery > 0 && k % observeEvery == 0) { try observe(w, k) }
        }
        return w
    }
}
