import Foundation

/// Integer class labels y_i in {0, 1, ..., k - 1} read from a numeric array (a `.npy` or `.csv` file loaded as a
/// ``Matrix``; NumPy integer arrays arrive as exact doubles): the label form that ``LabeledDataset``, the output
/// layers of seed 000 sec. VI (``OutputLayer``) and ``argmaxAccuracy(_:labels:)`` take.
public enum ClassLabels {
    /// The labels of an n x 1 column or a 1 x n row: every entry must be finite, an integer and in 0..<classCount
    /// (with `classCount` nil: >= 0). Throws ``OverparamError/invalidArgument(name:problem:)`` named "labels" with the
    /// first offending row.
    public static func decode(_ m: Matrix, classCount: Int? = nil) throws -> [Int] {
        guard m.count >= 1, m.rows == 1 || m.cols == 1 else {
            throw OverparamError.invalidArgument(name: "labels", problem: "must be one column (n x 1) or one row of integer labels, got \(m.rows)x\(m.cols)")
        }
        if let k = classCount, k < 1 { throw OverparamError.invalidArgument(name: "classCount", problem: "must be >= 1, got \(k)") }
        return try m.storage.enumerated().map { i, v in
            guard v.isFinite, v == v.rounded(), Swift.abs(v) < 1e15 else {
                throw OverparamError.invalidArgument(name: "labels", problem: "entry \(i) is \(v), not an integer class label 0, 1, ..., k - 1")
            }
            let label = Int(v)
            guard label >= 0 else { throw OverparamError.invalidArgument(name: "labels", problem: "entry \(i) is \(label); class labels are >= 0") }
            if let k = classCount, label >= k {
                throw OverparamError.invalidArgument(name: "labels", problem: "entry \(i) is \(label), outside 0..<\(k)")
            }
            return label
        }
    }
}
