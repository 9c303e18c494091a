import Foundation
import Overparam

/// Shared pieces of the `meanfield.*` experiments: settings keys, particle pictures, simple statistics.
enum MeanFieldSupport {
    /// "m=0020" style keys.
    static func widthKey(_ m: Int, _ prefix: String = "m") -> String { "\(prefix)=\(String(format: "%04d", m))" }

    /// Particle positions |theta2| theta1 (first two coordinates) with radius tanh(r/2) (seed 003 fig. 2's picture,
    /// SEED-NOTES sec. 3), flattened as x, y pairs, and the signs of theta2.
    static func squashedPositions(_ net: MeanFieldNetwork, limit: Int = .max) -> (x: [Double], y: [Double], sign: [Double]) {
        let (p, s) = net.particlePositions
        let k = Swift.min(limit, p.rows)
        var xs = [Double](), ys = [Double]()
        xs.reserveCapacity(k); ys.reserveCapacity(k)
        for j in 0..<k {
            let a = p[j, 0], b = p.cols > 1 ? p[j, 1] : 0
            let r = (a * a + b * b).squareRoot()
            let f = r > 0 ? Foundation.tanh(r / 2) / r : 0
            xs.append(a * f); ys.append(b * f)
        }
        return (xs, ys, Array(s.prefix(k)))
    }

    /// The claim that every value is below `threshold` (the seeds' "global optimum reached" criterion).
    static func allBelowClaim(_ statement: String, values: [Double], threshold: Double, what: String) -> Claim {
        let worst = values.max() ?? .nan
        return Claim(statement, measured: worst, expected: "< \(sig(threshold, 3)) for every run",
                     tolerance: "the seed's success threshold on the \(what) (\(values.count) runs); measured = the largest", passed: !values.isEmpty && worst < threshold)
    }

    /// One-sided test that mean(a) > mean(b) by more than `k` standard errors of the difference of the means
    /// (independent runs).
    static func greaterClaim(_ statement: String, a: [Double], b: [Double], k: Double = 2, what: String) -> Claim {
        let sa = meanAndStandardError(a), sb = meanAndStandardError(b)
        let se = (sa.se * sa.se + sb.se * sb.se).squareRoot()
        let d = sa.mean - sb.mean
        let z = se > 0 ? d / se : (d > 0 ? Double.infinity : -Double.infinity)
        return Claim(statement, measured: z, expected: "z = difference / SE > \(sig(k, 2))",
                     tolerance: "SE of the difference of means over \(a.count) and \(b.count) runs (\(what): \(sig(sa.mean, 4)) vs \(sig(sb.mean, 4)))",
                     passed: a.count >= 2 && b.count >= 2 && z > k)
    }

    /// Colors of the two signs of theta2 (palette indices).
    static func signColor(_ s: Double) -> Int { s >= 0 ? 3 : 0 }

    /// Dashed rays from the origin to the unit circle along `directions` (rows, first two coordinates), colored by `signs`.
    static func rays(_ directions: Matrix, signs: [Double], label: String) -> [PlotLayer] {
        (0..<directions.rows).map { k in
            let a = directions[k, 0], b = directions.cols > 1 ? directions[k, 1] : 0
            let r = Swift.max(1e-300, (a * a + b * b).squareRoot())
            return PlotLayer.line(x: [0, a / r], y: [0, b / r], label: k == 0 ? label : nil, color: signColor(signs[k]), dashed: true, markers: false)
        }
    }
}
