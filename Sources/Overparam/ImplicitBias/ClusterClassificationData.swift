import Foundation

/// The classification distribution of seed 003 section 5.5 (figures 5-6; SEED-NOTES sec. 3).
///
/// Data lie in [-1/2, 1/2]^d. The first two coordinates follow an equal-weight mixture of k^2 distributions on disks of
/// radius Delta = 1/(3k - 1) whose centres form a k x k grid with step 3 Delta,
///
///     centre(p, q) = (Delta (1 + 3 p) - 1/2, Delta (1 + 3 q) - 1/2),   p, q in 0..<k,
///
/// so the outermost disks touch the faces of the cube and neighbouring disks are Delta apart. The other d - 2
/// coordinates are uniform on [-1/2, 1/2]. Each cluster carries a label: floor(k^2 / 2) clusters chosen at random are
/// labelled -1, the rest +1 (the authors' code, lchizat/2020-implicit-bias-wide-2NN: for k = 3, four -1 and five +1).
/// The network input is x = (1, x_1, ..., x_d): a bias coordinate first, so inputs have d + 1 columns.
///
/// Cluster c = p + k q has centre `centre(c)`. The labelling is drawn once per distribution (`seed` of the initializer);
/// samples (``sample(_:seed:)``) are drawn with their own seeds, as the authors draw fresh training and test sets from one
/// distribution.
///
/// Note on d: the authors' `d` counts the bias column (their `d = 15` means 14 data coordinates plus the bias);
/// here `dimension` is the number of data coordinates.
public struct ClusterClassificationData: Sendable, Equatable {
    /// How a point is placed in its disk.
    public enum RadialLaw: String, Sendable, Equatable {
        /// Uniform on the disk (radius Delta sqrt(U)), as seed 003 sec. 5.5 states.
        case uniformOnDisk
        /// Radius Delta U with a uniform angle (the authors' code `R = Delta*rand(n)`): denser near the centres.
        case uniformRadius
    }

    /// d: the number of data coordinates (at least 2); inputs have d + 1 columns.
    public let dimension: Int
    /// k: the grid is k x k.
    public let gridSize: Int
    /// The label (+1 or -1) of each of the k^2 clusters.
    public let clusterLabels: [Double]
    public let radialLaw: RadialLaw

    /// Delta = 1/(3k - 1), the disk radius.
    public var radius: Double { 1 / Double(3 * gridSize - 1) }
    /// 3 Delta, the distance between neighbouring centres.
    public var spacing: Double { 3 * radius }
    /// k^2.
    public var clusterCount: Int { gridSize * gridSize }

    /// A distribution with a random labelling of the clusters (deterministic in `seed`).
    public init(dimension: Int, gridSize: Int = 3, radialLaw: RadialLaw = .uniformOnDisk, seed: UInt64) throws {
        guard dimension >= 2 else { throw OverparamError.invalidArgument(name: "dimension", problem: "needs at least the 2 cluster coordinates, got \(dimension)") }
        guard gridSize >= 2 else { throw OverparamError.invalidArgument(name: "gridSize", problem: "needs at least a 2 x 2 grid (two classes), got \(gridSize)") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x434C_5553)
        var order = Array(0..<(gridSize * gridSize))
        order.shuffle(using: &rng)
        var labels = [Double](repeating: 1, count: gridSize * gridSize)
        for c in order.prefix(gridSize * gridSize / 2) { labels[c] = -1 }
        try self.init(dimension: dimension, gridSize: gridSize, clusterLabels: labels, radialLaw: radialLaw)
    }

    /// A distribution with a given labelling (k^2 entries, each +1 or -1).
    public init(dimension: Int, gridSize: Int, clusterLabels: [Double], radialLaw: RadialLaw = .uniformOnDisk) throws {
        guard dimension >= 2 else { throw OverparamError.invalidArgument(name: "dimension", problem: "needs at least the 2 cluster coordinates, got \(dimension)") }
        guard gridSize >= 1 else { throw OverparamError.invalidArgument(name: "gridSize", problem: "must be positive, got \(gridSize)") }
        guard clusterLabels.count == gridSize * gridSize else {
            throw OverparamError.shapeMismatch("\(clusterLabels.count) cluster labels for a \(gridSize) x \(gridSize) grid")
        }
        guard clusterLabels.allSatisfy({ $0 == 1 || $0 == -1 }) else {
            throw OverparamError.invalidArgument(name: "clusterLabels", problem: "labels must be +1 or -1")
        }
        self.dimension = dimension
        self.gridSize = gridSize
        self.clusterLabels = clusterLabels
        self.radialLaw = radialLaw
    }

    /// The centre of cluster c = p + k q: (Delta (1 + 3p) - 1/2, Delta (1 + 3q) - 1/2).
    public func centre(_ c: Int) -> (Double, Double) {
        let p = c % gridSize, q = c / gridSize
        return (radius * Double(1 + 3 * p) - 0.5, radius * Double(1 + 3 * q) - 0.5)
    }

    /// n points: inputs (n x (d + 1), first column 1), labels (+-1) and each point's cluster index.
    public func sample(_ n: Int, seed: UInt64) throws -> ClusterClassificationSample {
        guard n >= 0 else { throw OverparamError.invalidArgument(name: "n", problem: "must be nonnegative, got \(n)") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x5341_4D50)
        let cols = dimension + 1
        var x = Matrix(rows: n, cols: cols)
        var labels = [Double](repeating: 0, count: n)
        var clusters = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let c = rng.index(below: clusterCount)
            let u = rng.uniform()
            let r = radius * (radialLaw == .uniformOnDisk ? u.squareRoot() : u)
            let angle = 2 * Double.pi * rng.uniform()
            let (c1, c2) = centre(c)
            x[i, 0] = 1
            x[i, 1] = c1 + r * cos(angle)
            x[i, 2] = c2 + r * sin(angle)
            for j in 3..<Swift.max(3, cols) { x[i, j] = rng.uniform() - 0.5 }
            labels[i] = clusterLabels[c]
            clusters[i] = c
        }
        return ClusterClassificationSample(inputs: x, labels: labels, clusters: clusters)
    }
}

/// Points drawn from a ``ClusterClassificationData`` distribution.
public struct ClusterClassificationSample: Sendable, Equatable {
    /// n x (d + 1): (1, x_1, ..., x_d) per row.
    public let inputs: Matrix
    /// y_i in {-1, +1}: the label of the point's cluster.
    public let labels: [Double]
    /// The cluster index (p + k q) of each point.
    public let clusters: [Int]
}
