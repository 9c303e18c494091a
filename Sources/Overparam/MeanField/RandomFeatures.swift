import Foundation

/// Random features (seed 003 sec. 5.3, seed 000 sec. III): the first layer theta1_j is drawn once, uniform on the unit
/// sphere, and frozen; only the output weights theta2 are trained. In the mean-field scaling h = (1/m) Phi(x) theta2 with
/// Phi(x)_j = sigma(theta1_j . x~); seed 003's kernel-regime features (1/sqrt m) sigma(theta1_j . x~) give the same function
/// class with theta2 rescaled by sqrt(m) (only time and the implied norm change). The empirical kernel is
/// k^(x, x') = (1/m) sum_j sigma(theta1_j . x~) sigma(theta1_j . x~'), which tends to E_eta[sigma(eta . x~) sigma(eta . x~')]
/// for eta uniform on the sphere.
public struct RandomFeatures: Sendable {
    /// The network whose first layer is frozen.
    public let network: MeanFieldNetwork

    /// theta1_j uniform on the unit sphere of R^D (stream 2 of `seed`), theta2 = 0.
    public init(width m: Int, inputDimension d: Int, activation: Activation = .relu, inputBias: Bool = false, seed: UInt64) throws {
        network = try MeanFieldNetwork.random(width: m, inputDimension: d, activation: activation, inputBias: inputBias,
                                              theta2: .constant(0), theta1: .sphere(radius: 1), seed: seed)
    }

    /// Freeze the first layer of a given network (its theta2 is the starting point).
    public init(network: MeanFieldNetwork) { self.network = network }

    /// Phi(x) (n x m).
    public func features(_ x: Matrix) throws -> Matrix { try network.features(x) }

    /// The empirical kernel k^(x_a, x'_b) = (1/m) Phi(x) Phi(x')^T.
    public func kernel(_ x: Matrix, _ x2: Matrix) throws -> Matrix {
        Matrix.product(try features(x), .none, try features(x2), .transposed, alpha: 1 / Double(network.width))
    }

    /// The exact minimizer over theta2 of F = (1/2n) sum_i (h(x_i) - y_i)^2 + (lambda/2m) ||theta2||^2 (the objective with
    /// ``ConfiningPenalty`` theta2 = lambda): (Phi^T Phi / (n m) + lambda I) theta2 = Phi^T y / n. lambda = 0 needs
    /// Phi^T Phi of full rank (else ``OverparamError/singular(_:)``).
    public func fitOutputLayer(inputs x: Matrix, targets y: [Double], penalty lambda: Double) throws -> MeanFieldNetwork {
        guard lambda.isFinite, lambda >= 0 else { throw OverparamError.invalidArgument(name: "penalty", problem: "lambda must be finite and >= 0, got \(lambda)") }
        guard y.count == x.rows, x.rows >= 1 else { throw OverparamError.shapeMismatch("\(x.rows) inputs but \(y.count) targets (need at least one)") }
        guard y.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("targets") }
        let phi = try features(x)
        let n = Double(x.rows), m = Double(network.width)
        var a = Matrix.product(phi, .transposed, phi, .none, alpha: 1 / (n * m))
        a.addToDiagonal(lambda)
        let rhs = phi.apply(y, .transposed, alpha: 1 / n)
        let theta2 = try CholeskyFactorization(a).solve(Matrix(column: rhs)).storage
        var out = network
        out.theta2 = theta2
        return out
    }

    /// SGD on theta2 only (``ParticleSGD`` with ``TrainedLayers/outputOnly``).
    public func sgd(stepSize: Double, batchSize: Int, penalty: ConfiningPenalty = .none, seed: UInt64) throws -> ParticleSGD {
        try ParticleSGD(network: network, stepSize: stepSize, batchSize: batchSize, penalty: penalty, trainedLayers: .outputOnly, seed: seed)
    }

    /// The gradient flow of theta2 only.
    public func gradientFlow(_ objective: MeanFieldObjective, solver: DormandPrince = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)) -> ParticleGradientFlow {
        ParticleGradientFlow(objective: objective, solver: solver, trainedLayers: .outputOnly)
    }
}
