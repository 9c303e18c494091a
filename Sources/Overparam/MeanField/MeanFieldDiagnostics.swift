import Foundation

/// Diagnostics of mean-field training: neuron counts (seed 000 fig. 6), optimality of the potential (seed 003 Theorem 3),
/// grids of directions, and the distance between risk curves of different widths (seed 003 Theorem 1).
public enum MeanFieldDiagnostics {
    /// Counts of output-weight magnitudes (seed 000 fig. 6 (d)-(e)): "wasted" neurons have |theta2_j| below
    /// `wastedBelow` and barely change h; "effective" ones have |theta2_j| > `effectiveAbove` (SEED-NOTES: |u| > 1).
    public struct NeuronCensus: Sendable, Equatable {
        public var width: Int
        public var wasted: Int
        public var effective: Int
        public var wastedFraction: Double { Double(wasted) / Double(Swift.max(1, width)) }
        public var effectiveFraction: Double { Double(effective) / Double(Swift.max(1, width)) }
    }

    public static func census(_ net: MeanFieldNetwork, wastedBelow: Double = 0.1, effectiveAbove: Double = 1) throws -> NeuronCensus {
        guard wastedBelow.isFinite, effectiveAbove.isFinite, wastedBelow >= 0, effectiveAbove >= 0 else {
            throw OverparamError.invalidArgument(name: "census thresholds", problem: "must be finite and >= 0, got \(wastedBelow), \(effectiveAbove)")
        }
        var w = 0, e = 0
        for t in net.theta2 {
            if Swift.abs(t) < wastedBelow { w += 1 }
            if Swift.abs(t) > effectiveAbove { e += 1 }
        }
        return NeuronCensus(width: net.width, wasted: w, effective: e)
    }

    /// `count` unit vectors of R^D, deterministic: D = 1: +-1; D = 2: angles 2 pi k / count; D = 3: a Fibonacci
    /// lattice; D > 3: uniform on the sphere from stream 7 of `seed`. Rows of the returned matrix.
    public static func unitDirections(dimension dd: Int, count: Int, seed: UInt64 = 0) throws -> Matrix {
        guard dd >= 1, count >= 1 else { throw OverparamError.invalidArgument(name: "directions", problem: "need dimension >= 1 and count >= 1, got \(dd), \(count)") }
        switch dd {
        case 1:
            return Matrix(rows: 2, cols: 1, storage: [1, -1])
        case 2:
            var u = Matrix(rows: count, cols: 2)
            for k in 0..<count {
                let a = 2 * Double.pi * Double(k) / Double(count)
                u[k, 0] = Foundation.cos(a); u[k, 1] = Foundation.sin(a)
            }
            return u
        case 3:
            var u = Matrix(rows: count, cols: 3)
            let golden = Double.pi * (3 - 5.0.squareRoot())
            for k in 0..<count {
                let z = 1 - 2 * (Double(k) + 0.5) / Double(count)
                let r = (1 - z * z).squareRoot()
                let a = golden * Double(k)
                u[k, 0] = r * Foundation.cos(a); u[k, 1] = r * Foundation.sin(a); u[k, 2] = z
            }
            return u
        default:
            var rng = Xoshiro256StarStar(seed: seed, stream: 7)
            return Matrix.randomOnSphere(rows: count, dimension: dd, using: &rng)
        }
    }

    /// Theorem 3's optimality conditions at a network (2-homogeneous Psi): J(eta_j | nu) on the particles' directions
    /// (0 at a global optimum; reported as the largest |J| among particles with r_j^2 >= `massFloor` times the mean),
    /// and the minimum of J over the unit sphere searched on `directions` (>= 0 at a global optimum).
    public struct Optimality: Sendable {
        /// J(eta_j | nu) for every particle.
        public var potentialOnParticles: [Double]
        /// max |J(eta_j)| over particles carrying mass.
        public var supportViolation: Double
        /// min over the searched unit sphere of J (negative values are violations).
        public var sphereMinimum: Double
        /// The unit w attaining ``sphereMinimum``.
        public var minimizer: [Double]
    }

    public static func optimality(_ net: MeanFieldNetwork, objective: MeanFieldObjective, directions: Matrix,
                                  massFloor: Double = 1e-3) throws -> Optimality {
        let pot = try objective.potential(net)
        let state = SphereParticleFlow.polar(net)
        let jv = try pot.values(at: state.directions)
        let meanMass = state.mass
        var worst = 0.0
        for j in 0..<jv.count where state.radii[j] * state.radii[j] >= massFloor * meanMass {
            worst = Swift.max(worst, Swift.abs(jv[j]))
        }
        let (mn, arg) = try pot.sphereMinimum(directions: directions)
        return Optimality(potentialOnParticles: jv, supportViolation: worst, sphereMinimum: mn, minimizer: arg)
    }

    /// Distance between two risk curves sampled at the same times (e.g. width m against a much wider reference, seed
    /// 003 Theorem 1: mu_{t,m} -> mu_t): the sup and the root-mean-square of the pointwise differences.
    public static func curveDistance(_ a: [Double], _ b: [Double]) throws -> (sup: Double, rms: Double) {
        guard a.count == b.count, !a.isEmpty else { throw OverparamError.shapeMismatch("risk curves of lengths \(a.count) and \(b.count) (need equal, non-empty)") }
        guard a.allSatisfy({ $0.isFinite }), b.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("risk curves") }
        var sup = 0.0, s = 0.0
        for i in 0..<a.count { let e = Swift.abs(a[i] - b[i]); sup = Swift.max(sup, e); s += e * e }
        return (sup, (s / Double(a.count)).squareRoot())
    }
}
