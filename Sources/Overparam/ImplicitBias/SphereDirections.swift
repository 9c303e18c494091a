import Foundation

/// Grids of directions eta_j on the unit sphere S^{D-1}: the candidate neurons (eta_j . x)_+ of the variation-norm
/// max-margin linear program (seed 003 sec. 5.4, Theorem 5; ``VariationNormMaxMargin``). Rows of the returned matrices
/// are unit vectors.
public enum SphereDirections {
    /// `count` equally spaced directions on the circle S^1: (cos(2 pi j / count), sin(2 pi j / count)), j = 0..<count.
    public static func circle(count: Int) throws -> Matrix {
        guard count >= 1 else { throw OverparamError.invalidArgument(name: "count", problem: "needs at least 1 direction, got \(count)") }
        var m = Matrix(rows: count, cols: 2)
        for j in 0..<count {
            let t = 2 * Double.pi * Double(j) / Double(count)
            m[j, 0] = cos(t); m[j, 1] = sin(t)
        }
        return m
    }

    /// The Fibonacci (golden-angle) lattice on S^2: z_j = 1 - (2j + 1)/count, phi_j = j pi (3 - sqrt 5),
    /// eta_j = (sqrt(1 - z_j^2) cos phi_j, sqrt(1 - z_j^2) sin phi_j, z_j). Nearly uniform: each point covers an area
    /// about 4 pi / count, so neighbours are about sqrt(4 pi / count) apart (0.08 rad for 2000 points).
    public static func fibonacci(count: Int) throws -> Matrix {
        guard count >= 1 else { throw OverparamError.invalidArgument(name: "count", problem: "needs at least 1 direction, got \(count)") }
        var m = Matrix(rows: count, cols: 3)
        let golden = Double.pi * (3 - 5.0.squareRoot())
        for j in 0..<count {
            let z = 1 - (2 * Double(j) + 1) / Double(count)
            let r = max(0, 1 - z * z).squareRoot()
            let phi = golden * Double(j)
            m[j, 0] = r * cos(phi); m[j, 1] = r * sin(phi); m[j, 2] = z
        }
        return m
    }

    /// `count` i.i.d. directions uniform on S^{dimension-1} (normalized Gaussian vectors; deterministic in `seed`).
    public static func random(count: Int, dimension: Int, seed: UInt64) throws -> Matrix {
        guard count >= 1 else { throw OverparamError.invalidArgument(name: "count", problem: "needs at least 1 direction, got \(count)") }
        guard dimension >= 1 else { throw OverparamError.invalidArgument(name: "dimension", problem: "must be at least 1, got \(dimension)") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x4449_5253)
        return Matrix.randomOnSphere(rows: count, dimension: dimension, using: &rng)
    }
}
