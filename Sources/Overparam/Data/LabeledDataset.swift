import Foundation

/// Inputs with integer class labels, the form of the digits and MNIST.
public struct LabeledDataset: Sendable {
    /// n x d inputs.
    public var inputs: Matrix
    /// n labels in 0..<classCount.
    public var labels: [Int]
    public var classCount: Int
    /// Where the data came from (for reports).
    public var name: String

    public init(inputs: Matrix, labels: [Int], classCount: Int? = nil, name: String) throws {
        guard inputs.rows == labels.count else { throw OverparamError.shapeMismatch("\(name): \(inputs.rows) inputs but \(labels.count) labels") }
        guard inputs.rows > 0 else { throw OverparamError.invalidArgument(name: name, problem: "the data set is empty") }
        guard let minLabel = labels.min(), minLabel >= 0 else { throw OverparamError.invalidArgument(name: name, problem: "labels must be >= 0") }
        self.inputs = inputs
        self.labels = labels
        self.classCount = classCount ?? ((labels.max() ?? 0) + 1)
        self.name = name
    }

    public var count: Int { labels.count }

    /// One-hot regression targets: row i has 1 at column labels[i] (with `centered`, 1 - 1/C and -1/C: the
    /// zero-mean encoding that neural-tangents' examples use).
    public func oneHot(centered: Bool = false) -> Matrix {
        var y = Matrix(rows: count, cols: classCount, repeating: centered ? -1 / Double(classCount) : 0)
        for (i, c) in labels.enumerated() { y[i, c] += 1 }
        return y
    }

    /// The subset at the given indices.
    public func subset(_ idx: [Int]) -> LabeledDataset {
        // Indices come from this set, so the invariants hold.
        try! LabeledDataset(inputs: inputs.rows(at: idx), labels: idx.map { labels[$0] }, classCount: classCount, name: name)
    }

    /// A seeded, stratified split: in every class, round(testFraction * class size) examples go to the test set.
    /// Depends only on the seed (a Fisher-Yates shuffle per class from stream `class` of `seed`).
    public func stratifiedSplit(testFraction: Double, seed: UInt64) throws -> (train: LabeledDataset, test: LabeledDataset) {
        guard testFraction > 0, testFraction < 1 else { throw OverparamError.invalidArgument(name: "--test-fraction", problem: "must be in (0, 1) (got \(testFraction))") }
        var train = [Int](), test = [Int]()
        for c in 0..<classCount {
            var idx = labels.indices.filter { labels[$0] == c }
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(c))
            if idx.count > 1 { for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, rng.index(below: i + 1)) } }
            let nTest = Int((testFraction * Double(idx.count)).rounded())
            test += idx.prefix(nTest); train += idx.dropFirst(nTest)
        }
        train.sort(); test.sort()
        guard !train.isEmpty, !test.isEmpty else { throw OverparamError.invalidArgument(name: "--test-fraction", problem: "split leaves an empty train or test set") }
        return (subset(train), subset(test))
    }
}

/// Input normalizations.
public enum InputNormalization: String, Sendable, CaseIterable {
    /// Divide by a constant so that values lie in [0, 1] (pixels: by the maximum value).
    case unitInterval = "unit"
    /// Per-feature zero mean and unit variance, with statistics of the reference (training) set; constant features
    /// are left centred.
    case standardize = "standardize"
    /// One mean and one standard deviation over all entries of the reference (training) set, the same for every
    /// feature: torchvision's `Normalize((0.1307,), (0.3081,))` for MNIST, whose border pixels are almost always 0
    /// (per-pixel statistics would blow a rare test-set stroke there up by a factor of hundreds).
    case globalStandardize = "global-standardize"
    /// Each input scaled to unit Euclidean norm (points on the sphere; a zero row stays zero).
    case sphere = "sphere"
    /// Centre per feature (training statistics), then project to the unit sphere and scale by sqrt(d)
    /// (so |x|^2 / d = 1, the usual kernel-regime input scale).
    case centeredSphere = "centered-sphere"

    /// Apply to `x`, with statistics computed on `reference` (default: `x` itself).
    public func apply(_ x: Matrix, reference: Matrix? = nil) -> Matrix {
        let ref = reference ?? x
        switch self {
        case .unitInterval:
            let m = max(ref.maxAbs, 1e-300)
            return (1 / m) * x
        case .standardize:
            let (mu, sd) = Self.columnStats(ref)
            var out = x
            for i in 0..<x.rows { for j in 0..<x.cols { out[i, j] = (x[i, j] - mu[j]) / (sd[j] > 1e-12 ? sd[j] : 1) } }
            return out
        case .globalStandardize:
            let n = Double(max(1, ref.rows * ref.cols))
            let mu = ref.storage.reduce(0, +) / n
            let sd = (ref.storage.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / n).squareRoot()
            var out = x
            for i in out.storage.indices { out.storage[i] = (x.storage[i] - mu) / (sd > 1e-12 ? sd : 1) }
            return out
        case .sphere:
            return Self.rowNormalize(x, to: 1)
        case .centeredSphere:
            let (mu, _) = Self.columnStats(ref)
            var out = x
            for i in 0..<x.rows { for j in 0..<x.cols { out[i, j] -= mu[j] } }
            return Self.rowNormalize(out, to: Double(x.cols).squareRoot())
        }
    }

    static func columnStats(_ x: Matrix) -> ([Double], [Double]) {
        let n = Double(x.rows)
        let mu = x.columnSums.map { $0 / n }
        var v = [Double](repeating: 0, count: x.cols)
        for i in 0..<x.rows { for j in 0..<x.cols { let d = x[i, j] - mu[j]; v[j] += d * d } }
        return (mu, v.map { ($0 / n).squareRoot() })
    }

    static func rowNormalize(_ x: Matrix, to r: Double) -> Matrix {
        var out = x
        for i in 0..<x.rows {
            let nrm = dot(x.row(i), x.row(i)).squareRoot()
            if nrm > 0 { for j in 0..<x.cols { out[i, j] = x[i, j] * r / nrm } }
        }
        return out
    }
}

/// Classification accuracy of argmax over the columns of `scores` against `labels`.
public func argmaxAccuracy(_ scores: Matrix, labels: [Int]) -> Double {
    precondition(scores.rows == labels.count)
    var correct = 0
    for i in 0..<scores.rows {
        let row = scores.row(i)
        let arg = row.indices.max { row[$0] < row[$1] } ?? 0
        if arg == labels[i] { correct += 1 }
    }
    return Double(correct) / Double(max(1, labels.count))
}

/// Mean squared error (1/(n c)) sum (a - b)^2 between two equal-shape matrices.
public func meanSquaredError(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.rows == b.rows && a.cols == b.cols)
    let d = a - b
    return d.storage.reduce(0) { $0 + $1 * $1 } / Double(max(1, d.count))
}
