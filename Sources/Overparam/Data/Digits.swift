import Foundation

/// The handwritten digits: 1,797 real 8x8 grayscale images (pixels 0...16) of the digits 0-9.
///
/// Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository,
/// CC BY 4.0), the 1,797-image part that scikit-learn ships. Shipped with the package as `digits.csv.gz`
/// (one row per image: 64 pixels row-major, then the label). It stands in for MNIST in every MNIST experiment;
/// ``MNIST`` loads the real thing from IDX files when a user has them.
public enum Digits {
    /// Load the bundled digits (raw pixels 0...16).
    public static func load() throws -> LabeledDataset {
        guard let url = Bundle.module.url(forResource: "digits.csv", withExtension: "gz") else {
            throw OverparamError.file(path: "digits.csv.gz", problem: "the bundled digits resource is missing; rebuild the package")
        }
        return try load(path: url.path)
    }

    /// Load digits from a CSV (optionally gzipped) of 64 pixel columns and a label column.
    public static func load(path: String) throws -> LabeledDataset {
        let (_, m) = try CSVMatrix.read(path, hasHeader: false)
        guard m.cols == 65 else { throw OverparamError.format(path: path, problem: "expected 65 columns (64 pixels and a label), found \(m.cols)") }
        var x = Matrix(rows: m.rows, cols: 64)
        var labels = [Int]()
        for i in 0..<m.rows {
            for j in 0..<64 { x[i, j] = m[i, j] }
            let l = m[i, 64]
            guard l >= 0, l <= 9, l == l.rounded() else { throw OverparamError.format(path: path, problem: "row \(i + 1): label \(l) is not a digit 0-9") }
            labels.append(Int(l))
        }
        return try LabeledDataset(inputs: x, labels: labels, classCount: 10, name: "digits (UCI 8x8, 1,797 images)")
    }
}

/// MNIST from IDX files (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, and the `t10k-` pair).
public enum MNIST {
    /// Load the training or test part from a directory holding the standard file names (gzipped or not).
    public static func load(directory: String, train: Bool = true) throws -> LabeledDataset {
        let prefix = train ? "train" : "t10k"
        func find(_ base: String) throws -> String {
            for name in [base, base + ".gz"] {
                let p = (directory as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw OverparamError.file(path: (directory as NSString).appendingPathComponent(base), problem: "not found (also tried .gz); pass --mnist DIR with the four MNIST IDX files")
        }
        let images = try IDX.readImages(try find("\(prefix)-images-idx3-ubyte"))
        let labels = try IDX.readLabels(try find("\(prefix)-labels-idx1-ubyte"))
        return try LabeledDataset(inputs: images, labels: labels, classCount: 10, name: "MNIST \(prefix)")
    }
}
