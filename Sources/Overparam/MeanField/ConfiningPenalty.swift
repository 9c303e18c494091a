import Foundation

/// The per-particle L2 penalty of seed 000 eq. 16,
///
///     r(w) = (lambda2 / 2) theta2^2 + (lambda1 / 2) ||theta1||^2,
///
/// entering the objective as F(mu) = R(h) + integral r d mu = R(h) + (1/m) sum_j r(w_j) (the (1/2m) sum_j of seed 000's
/// R(u, theta) in sec. II). It confines the particles: noisy (Langevin) dynamics has a stationary law only with it
/// (SEED-NOTES sec. 2, seed 000). With lambda2 = lambda1 it is positively 2-homogeneous, like a ReLU Psi, and the
/// sphere form of the flow applies.
///
/// Conversions: seed 000 fig. 6's authors add `1e-2 * ||u||^2 / m` to PyTorch's `MSELoss` (no 1/2), i.e. 2 F with
/// lambda2 = 1e-2 (``theta2``) and lambda1 = 0.
public struct ConfiningPenalty: Sendable, Equatable, Hashable {
    /// lambda2 (seed 000's lambda_u).
    public let theta2: Double
    /// lambda1 (seed 000's lambda_theta).
    public let theta1: Double

    /// Throws for negative or non-finite weights.
    public init(theta2: Double = 0, theta1: Double = 0) throws {
        guard theta2.isFinite, theta2 >= 0 else { throw OverparamError.invalidArgument(name: "penalty theta2", problem: "lambda2 must be finite and >= 0, got \(theta2)") }
        guard theta1.isFinite, theta1 >= 0 else { throw OverparamError.invalidArgument(name: "penalty theta1", problem: "lambda1 must be finite and >= 0, got \(theta1)") }
        self.theta2 = theta2
        self.theta1 = theta1
    }

    private init(unchecked t2: Double, _ t1: Double) { theta2 = t2; theta1 = t1 }

    /// No penalty.
    public static let none = ConfiningPenalty(unchecked: 0, 0)

    /// lambda2 = lambda1 = lambda: r(w) = (lambda/2) ||w||^2, positively 2-homogeneous.
    public static func uniform(_ lambda: Double) throws -> ConfiningPenalty { try ConfiningPenalty(theta2: lambda, theta1: lambda) }

    public var isZero: Bool { theta2 == 0 && theta1 == 0 }
    /// True when r(w) = (lambda/2) ||w||^2 (lambda2 = lambda1).
    public var isHomogeneous: Bool { theta2 == theta1 }

    /// r(w) for one particle w = (theta2, theta1) given ||theta1||^2.
    @inlinable public func value(theta2 t2: Double, theta1SquaredNorm n1: Double) -> Double {
        0.5 * (theta2 * t2 * t2 + theta1 * n1)
    }

    /// integral r d mu = (1/m) sum_j r(w_j).
    public func mean(over net: MeanFieldNetwork) -> Double {
        if isZero { return 0 }
        let dd = net.featureDimension
        var s = 0.0
        for j in 0..<net.width {
            var n1 = 0.0
            for k in 0..<dd { let v = net.theta1.storage[j * dd + k]; n1 += v * v }
            s += value(theta2: net.theta2[j], theta1SquaredNorm: n1)
        }
        return s / Double(net.width)
    }
}
