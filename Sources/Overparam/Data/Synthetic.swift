import Foundation

/// Synthetic data sets of the seeds' experiments. Every generator is deterministic in its seed.
public enum SyntheticData {
    /// n inputs x ~ N(0, I_d) (std `scale`), as rows.
    public static func gaussianInputs(_ n: Int, dimension d: Int, scale: Double = 1, seed: UInt64) -> Matrix {
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x47415553)
        return Matrix.randomNormal(rows: n, cols: d, std: scale, using: &rng)
    }

    /// n inputs uniform on the sphere of radius `radius` (default sqrt(d), so |x|^2 / d = 1).
    public static func sphereInputs(_ n: Int, dimension d: Int, radius: Double? = nil, seed: UInt64) -> Matrix {
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x53504845)
        return (radius ?? Double(d).squareRoot()) * Matrix.randomOnSphere(rows: n, dimension: d, using: &rng)
    }

    /// Targets y = teacher(x) + noise N(0, noise^2).
    public static func teacherTargets(_ teacher: Network, inputs x: Matrix, noise: Double = 0, seed: UInt64) throws -> Matrix {
        var y = try teacher(x)
        if noise > 0 {
            var rng = Xoshiro256StarStar(seed: seed, stream: 0x4E4F4953)
            for i in 0..<y.count { y.storage[i] += noise * rng.normal() }
        }
        return y
    }

    /// The 1-D target of seed 002 (corrected, SEED-NOTES sec. 2): f(x) = cos 4x with x ~ U[-2 pi, 2 pi]; inputs n x 1.
    public static func cosine(_ n: Int, seed: UInt64) -> (x: Matrix, y: Matrix) {
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x434F5334)
        let xs = (0..<n).map { _ in -2 * Double.pi + 4 * Double.pi * rng.uniform() }
        return (Matrix(column: xs), Matrix(column: xs.map { Foundation.cos(4 * $0) }))
    }

    /// A classification problem in the manner of scikit-learn's `make_classification` (seed 000's synthetic set):
    /// clusters of normal points around the vertices of a hypercube of side 2 class_sep in the informative
    /// dimensions (each cluster with a random linear covariance), redundant features as random linear combinations
    /// of the informative ones, repeated features as copies, the rest noise; a fraction `flipY` of labels replaced by
    /// random classes; rows and columns shuffled. Returns inputs (n x features) and labels in 0..<classes.
    public static func makeClassification(samples n: Int, features: Int, informative: Int, redundant: Int, repeated: Int,
                                          classes: Int = 2, clustersPerClass: Int = 2, flipY: Double = 0.01,
                                          classSep: Double = 1, seed: UInt64) throws -> (x: Matrix, labels: [Int]) {
        guard informative + redundant + repeated <= features else {
            throw OverparamError.invalidArgument(name: "features", problem: "informative + redundant + repeated exceeds the number of features")
        }
        let clusters = classes * clustersPerClass
        guard informative >= 1, Double(clusters) <= Foundation.pow(2, Double(informative)) else {
            throw OverparamError.invalidArgument(name: "informative", problem: "2^informative must be >= classes x clusters per class")
        }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0x4D4B434C)
        // Distinct hypercube vertices.
        var vertices = Set<Int>()
        while vertices.count < clusters { vertices.insert(rng.index(below: 1 << min(informative, 30))) }
        let centroids: [[Double]] = vertices.sorted().map { v in (0..<informative).map { ((v >> $0) & 1) == 1 ? classSep : -classSep } }
        var x = Matrix(rows: n, cols: features)
        var labels = [Int](repeating: 0, count: n)
        var start = 0
        for k in 0..<clusters {
            let count = n / clusters + (k < n % clusters ? 1 : 0)
            let a = (0..<(informative * informative)).map { _ in 2 * rng.uniform() - 1 }
            for i in start..<(start + count) {
                let z = rng.normals(informative)
                for c in 0..<informative {
                    var v = centroids[k][c]
                    for r in 0..<informative { v += z[r] * a[r * informative + c] }
                    x[i, c] = v
                }
                labels[i] = k % classes
            }
            start += count
        }
        let b = (0..<(informative * redundant)).map { _ in 2 * rng.uniform() - 1 }
        for i in 0..<n {
            for c in 0..<redundant {
                var v = 0.0
                for r in 0..<informative { v += x[i, r] * b[r * redundant + c] }
                x[i, informative + c] = v
            }
        }
        let useful = informative + redundant
        let sources = (0..<repeated).map { _ in Int(Double(useful - 1) * rng.uniform() + 0.5) }
        for i in 0..<n { for (c, src) in sources.enumerated() { x[i, useful + c] = x[i, src] } }
        for i in 0..<n { for c in (useful + repeated)..<features { x[i, c] = rng.normal() } }
        for i in 0..<n where rng.uniform() < flipY { labels[i] = rng.index(below: classes) }
        // Shuffle rows and columns.
        var rows = Array(0..<n), cols = Array(0..<features)
        for i in stride(from: n - 1, to: 0, by: -1) { rows.swapAt(i, rng.index(below: i + 1)) }
        for i in stride(from: features - 1, to: 0, by: -1) { cols.swapAt(i, rng.index(below: i + 1)) }
        var out = Matrix(rows: n, cols: features)
        for (i, r) in rows.enumerated() { for (j, c) in cols.enumerated() { out[i, j] = x[r, c] } }
        return (out, rows.map { labels[$0] })
    }
}
