import Foundation

/// The weight-sparsity curve of one layer (seed 002 fig. 4): the fraction of its weights lying in [-x, x],
///
///     S(x) = #{ (j, k) : |w_jk| <= x } / #weights,
///
/// on a grid of thresholds x (usually ``logGrid(from:to:count:)``). S is the empirical distribution function of |w|,
/// non-decreasing from the fraction of exact zeros to 1; a curve that lies higher puts more of its weights near zero
/// (a sparser layer). Layers 1...L are the hidden weights w^(l); layer L + 1 is the readout u.
public struct SparsityCurve: Sendable, Codable, Equatable {
    /// l = 1...L for w^(l), L + 1 for the readout u.
    public var layer: Int
    /// The thresholds x (ascending).
    public var thresholds: [Double]
    /// S(x) at each threshold.
    public var fractions: [Double]
    /// The number of weights N the fractions are over.
    public var count: Int

    /// S on `thresholds` for the weights `values`.
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for no weights, or thresholds that are empty,
    ///   not ascending, negative or non-finite.
    public init(layer: Int, weights values: [Double], thresholds: [Double]) throws {
        guard !values.isEmpty else { throw OverparamError.invalidArgument(name: "weights", problem: "sparsity curve of layer \(layer) needs at least one weight") }
        guard !thresholds.isEmpty, thresholds.allSatisfy({ $0 >= 0 && $0.isFinite }),
              zip(thresholds, thresholds.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw OverparamError.invalidArgument(name: "thresholds", problem: "need a non-empty ascending list of finite x >= 0")
        }
        let a = values.map { Swift.abs($0) }.sorted()
        var out = [Double](), p = 0
        for x in thresholds {
            while p < a.count && a[p] <= x { p += 1 }
            out.append(Double(p) / Double(a.count))
        }
        self.layer = layer; self.thresholds = thresholds; fractions = out; count = a.count
    }

    /// One curve per layer l = 1...L + 1 (hidden weights, then the readout), all on the same thresholds.
    public static func layers(_ network: DeepFeatureNetwork, thresholds: [Double]) throws -> [SparsityCurve] {
        var out = [SparsityCurve]()
        for l in 1...network.depth {
            out.append(try SparsityCurve(layer: l, weights: Array(network.parameters[network.layout.weightRange(l)]), thresholds: thresholds))
        }
        out.append(try SparsityCurve(layer: network.depth + 1, weights: Array(network.parameters[network.layout.readoutRange]), thresholds: thresholds))
        return out
    }

    /// One curve per layer l = 1...L + 1, each on its own ``initializationScaleGrid(_:layer:from:to:count:)``.
    public static func layers(_ network: DeepFeatureNetwork, from lo: Double, to hi: Double, count n: Int) throws -> [SparsityCurve] {
        let layout = network.layout
        return try (1...layout.depth + 1).map { l in
            try SparsityCurve(layer: l, weights: Array(network.parameters[l <= layout.depth ? layout.weightRange(l) : layout.readoutRange]),
                              thresholds: try initializationScaleGrid(layout, layer: l, from: lo, to: hi, count: n))
        }
    }

    /// The thresholds of layer l relative to its initialization scale s = sqrt(m^(l-1)) (``DeepFeatureNetwork``
    /// samples w^(l) ~ N(0, C_W m^(l-1)); layer L + 1, the readout: s = sqrt(m^(L))): ``logGrid(from:to:count:)`` from
    /// `from` s to `to` s, so the curves of networks of any width and regularizer are comparable.
    public static func initializationScaleGrid(_ layout: DeepFeatureLayout, layer l: Int, from lo: Double, to hi: Double, count n: Int) throws -> [Double] {
        guard (1...layout.depth + 1).contains(l) else {
            throw OverparamError.invalidArgument(name: "layer", problem: "layer \(l) is not in 1...\(layout.depth + 1)")
        }
        let s = Double(layout.widths[l - 1]).squareRoot()
        return try logGrid(from: lo * s, to: hi * s, count: n)
    }

    /// `count` thresholds spaced evenly in log x from `from` to `to` (0 < from < to, count >= 2).
    public static func logGrid(from lo: Double, to hi: Double, count n: Int) throws -> [Double] {
        guard lo > 0, hi > lo, hi.isFinite, n >= 2 else {
            throw OverparamError.invalidArgument(name: "logGrid", problem: "need 0 < from < to < inf and count >= 2 (got \(lo), \(hi), \(n))")
        }
        let a = Foundation.log(lo), b = Foundation.log(hi)
        return (0..<n).map { Foundation.exp(a + (b - a) * Double($0) / Double(n - 1)) }
    }

    /// The mean of S over the grid: with a log grid, the area under the curve in log x divided by the log range
    /// (the trapezoid rule on the evenly spaced log thresholds). Larger = sparser.
    public var meanFraction: Double {
        guard fractions.count >= 2 else { return fractions.first ?? 0 }
        var s = 0.0
        for i in 1..<fractions.count { s += (fractions[i] + fractions[i - 1]) / 2 }
        return s / Double(fractions.count - 1)
    }

    /// The binomial standard error of the difference S_self(x) - S_other(x) at each threshold, treating each curve's
    /// weights as N independent draws from its layer's weight distribution:
    /// sqrt( p (1 - p) (1/N_self + 1/N_other) ) with p the pooled fraction.
    public func differenceStandardErrors(_ other: SparsityCurve) throws -> [Double] {
        guard other.thresholds == thresholds else { throw OverparamError.shapeMismatch("sparsity curves on different thresholds") }
        let n1 = Double(count), n2 = Double(other.count)
        return zip(fractions, other.fractions).map { a, b in
            let p = (a * n1 + b * n2) / (n1 + n2)
            return (p * (1 - p) * (1 / n1 + 1 / n2)).squareRoot()
        }
    }

    /// The largest shortfall max_x (S_other(x) - S_self(x)) in units of ``differenceStandardErrors(_:)`` (points
    /// where both curves are 0 or both 1 carry no information and count as 0). A value <= z means the curve lies
    /// above `other` at every threshold within z standard errors.
    public func worstShortfall(below other: SparsityCurve) throws -> Double {
        let se = try differenceStandardErrors(other)
        var worst = -Double.infinity
        for i in fractions.indices {
            let d = other.fractions[i] - fractions[i]
            let z = se[i] > 0 ? d / se[i] : (d > 0 ? Double.infinity : 0)
            worst = Swift.max(worst, z)
        }
        return worst
    }
}
