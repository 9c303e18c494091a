import Foundation

/// The regular grid of the 2-simplex {(alpha, beta) : alpha, beta >= 0, alpha + beta <= 1} at resolution k:
/// (alpha, beta) = (i/k, j/k) with i, j >= 0, i + j <= k ((k + 1)(k + 2)/2 points), and the discrete midpoint-convexity
/// test used for seed 002's fig. 7 landscape L(alpha, beta).
///
/// Discrete convexity: for every pair of grid points p != q whose midpoint (p + q)/2 is again a grid point (i.e. both
/// index differences are even), a convex L satisfies
///
///     L((p + q)/2) <= (L(p) + L(q)) / 2 .
///
/// The violation of a triple is L(mid) - (L(p) + L(q))/2; it counts only when it exceeds the triple's tolerance
/// tau(mid) + (tau(p) + tau(q))/2, where tau(z) bounds how far the measured L(z) may sit from an exactly convex
/// surface at z (e.g. the loss error that the layer fits' residuals can cause; see
/// ``FeatureDistributionMixture/lossTolerance(targets:)``).
public struct SimplexGrid: Sendable, Hashable {
    /// k >= 1: the grid spacing is 1/k.
    public let resolution: Int
    /// The index pairs (i, j), i + j <= k, ordered by i then j.
    public let indices: [(i: Int, j: Int)]

    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` unless k >= 1.
    public init(resolution k: Int) throws {
        guard k >= 1 else { throw OverparamError.invalidArgument(name: "resolution", problem: "k = \(k) must be >= 1") }
        resolution = k
        indices = (0...k).flatMap { i in (0...(k - i)).map { (i: i, j: $0) } }
    }

    public static func == (a: SimplexGrid, b: SimplexGrid) -> Bool { a.resolution == b.resolution }
    public func hash(into h: inout Hasher) { h.combine(resolution) }

    /// The mixture weights (alpha, beta, gamma = 1 - alpha - beta) of grid point `n`.
    public func weights(_ n: Int) -> [Double] {
        let (i, j) = indices[n], k = Double(resolution)
        return [Double(i) / k, Double(j) / k, Double(resolution - i - j) / k]
    }

    /// The position of (i, j) in ``indices``.
    public func index(i: Int, j: Int) -> Int? {
        guard i >= 0, j >= 0, i + j <= resolution else { return nil }
        // Rows i' < i hold (k + 1 - i') points each.
        return i * (resolution + 1) - i * (i - 1) / 2 + j
    }

    /// Whether grid point `n` is one of the three vertices.
    public func isVertex(_ n: Int) -> Bool {
        let (i, j) = indices[n]
        return (i == resolution && j == 0) || (i == 0 && j == resolution) || (i == 0 && j == 0)
    }

    /// Every (p, q, midpoint) triple of grid positions with p < q and the midpoint on the grid.
    public var midpointTriples: [(p: Int, q: Int, mid: Int)] {
        var out = [(p: Int, q: Int, mid: Int)]()
        for p in 0..<indices.count { for q in (p + 1)..<indices.count {
            let a = indices[p], b = indices[q]
            guard (a.i + b.i) % 2 == 0, (a.j + b.j) % 2 == 0, let m = index(i: (a.i + b.i) / 2, j: (a.j + b.j) / 2) else { continue }
            out.append((p, q, m))
        } }
        return out
    }

    /// The discrete convexity test of `values` (one per grid point) with per-point tolerances `tolerances`.
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` when the arrays do not have one entry per grid point.
    public func convexityCheck(_ values: [Double], tolerances: [Double]) throws -> ConvexityCheck {
        guard values.count == indices.count, tolerances.count == indices.count else {
            throw OverparamError.shapeMismatch("\(values.count) values and \(tolerances.count) tolerances for \(indices.count) grid points")
        }
        var worst = -Double.infinity, worstExcess = -Double.infinity, violations = 0, triples = 0
        for t in midpointTriples {
            let v = values[t.mid] - (values[t.p] + values[t.q]) / 2
            let tol = tolerances[t.mid] + (tolerances[t.p] + tolerances[t.q]) / 2
            worst = Swift.max(worst, v)
            worstExcess = Swift.max(worstExcess, v - tol)
            if v > tol { violations += 1 }
            triples += 1
        }
        return ConvexityCheck(triples: triples, violations: violations, largestViolation: worst, largestExcess: worstExcess)
    }
}

/// The outcome of ``SimplexGrid/convexityCheck(_:tolerances:)``.
public struct ConvexityCheck: Sendable, Codable, Equatable {
    /// Midpoint triples tested.
    public var triples: Int
    /// Triples with L(mid) - (L(p) + L(q))/2 above their tolerance.
    public var violations: Int
    /// max over triples of L(mid) - (L(p) + L(q))/2 (<= 0 for a convex surface; -inf without triples).
    public var largestViolation: Double
    /// max over triples of the violation minus its tolerance (<= 0: no violation beyond tolerance).
    public var largestExcess: Double
}
