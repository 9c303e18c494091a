import Foundation

/// Every hidden neuron's feature as a function of a one-dimensional input (seed 002 sec. VII-A, fig. 3): for d = 1,
/// f^(l)_j(x) of eq. 1 evaluated on a grid x_1 < ... < x_n, one n x m^(l) matrix per layer l = 1...L (column j is
/// neuron j's curve). The input bias, when the network has one, is appended as usual.
public struct NeuronFeatures: Sendable {
    /// The input grid x_1, ..., x_n.
    public let grid: [Double]
    /// values[l - 1][t, j] = f^(l)_j(x_t), l = 1...L.
    public let values: [Matrix]

    /// Evaluate the features of a network with d = 1 on `grid` (n >= 2 finite points).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` when d != 1 or the grid is too short or non-finite.
    public init(_ network: DeepFeatureNetwork, grid: [Double]) throws {
        guard network.inputDimension == 1 else {
            throw OverparamError.invalidArgument(name: "network", problem: "1-D neuron features need input dimension 1 (got \(network.inputDimension))")
        }
        guard grid.count >= 2, grid.allSatisfy({ $0.isFinite }) else {
            throw OverparamError.invalidArgument(name: "grid", problem: "need at least 2 finite grid points (got \(grid.count))")
        }
        let pass = try network.forward(Matrix(column: grid))
        self.grid = grid
        values = Array(pass.features.dropFirst())
    }

    /// n points evenly spaced on [lo, hi] including both ends (n >= 2, lo < hi).
    public static func uniformGrid(from lo: Double, to hi: Double, count n: Int) throws -> [Double] {
        guard n >= 2, lo < hi, lo.isFinite, hi.isFinite else {
            throw OverparamError.invalidArgument(name: "grid", problem: "need n >= 2 and finite lo < hi (got \(n), \(lo), \(hi))")
        }
        return (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
    }

    /// L.
    public var depth: Int { values.count }

    /// Neuron j's curve f^(l)_j(x_1...x_n).
    public func curve(layer l: Int, neuron j: Int) throws -> [Double] {
        guard (1...depth).contains(l), (0..<values[l - 1].cols).contains(j) else {
            throw OverparamError.invalidArgument(name: "neuron", problem: "layer \(l), neuron \(j) is not in the network (L = \(depth))")
        }
        return values[l - 1].column(j)
    }

    /// k distinct neuron indices of each layer drawn uniformly without replacement from `seed` (all of a layer's
    /// neurons, in order, when it has at most k); index l - 1 for layer l.
    public func sample(_ k: Int, seed: UInt64) throws -> [[Int]] {
        guard k >= 1 else { throw OverparamError.invalidArgument(name: "k", problem: "sample size \(k) must be >= 1") }
        return values.enumerated().map { l, v in
            let m = v.cols
            if m <= k { return Array(0..<m) }
            var rng = Xoshiro256StarStar(seed: seed, stream: 0xFEA7 + UInt64(l))
            var idx = Array(0..<m)
            for t in 0..<k { idx.swapAt(t, t + rng.index(below: m - t)) }
            return Array(idx[0..<k]).sorted()
        }
    }
}
