import Foundation
import Overparam
import Synchronization

/// Where the image experiments get their pictures: the bundled handwritten digits (`"digits"`), the bundled
/// 5,000-image MNIST subset (`"mnist-5k"`, ``MNIST/bundledSubset()``) or MNIST from IDX files (`"mnist:DIR"`, set by
/// `overparam reproduce --mnist DIR` or a config's `images` key).
///
/// Every image experiment's configuration carries `images`, `maxTrain` and `maxTest` (0 = all), so runs on the
/// digits and on MNIST are stored under different configuration hashes and never mix.
enum ImageData {
    /// The loaded MNIST parts by file path (60,000 x 784 doubles are 376 MB: load once per process).
    private static let cache = Mutex<[String: LabeledDataset]>([:])

    /// The spec's name for reports ("the digits", the bundled MNIST subset, or "MNIST (DIR)").
    static func name(_ spec: String) -> String {
        spec.hasPrefix("mnist:") ? "MNIST (\(spec.dropFirst(6)))" : spec == bundledMNIST ? "the bundled MNIST subset (5,000 real MNIST images)" : "the digits"
    }

    /// The spec of the bundled MNIST subset.
    static let bundledMNIST = "mnist-5k"

    /// A bundled set: the digits or the MNIST subset (nil for `mnist:DIR`).
    static func bundled(_ spec: String) throws -> LabeledDataset? {
        if spec == bundledMNIST { return try MNIST.bundledSubset() }
        return try mnistDirectory(spec) == nil ? try Digits.load() : nil
    }

    /// The train and test parts: a bundled set's stratified 70/30 split (seed 0; the MNIST subset: 3,500 / 1,500), or
    /// MNIST's own train and t10k files; then the first `maxTrain` / `maxTest` examples (0: all).
    static func split(_ spec: String, maxTrain: Int, maxTest: Int) throws -> (train: LabeledDataset, test: LabeledDataset) {
        var train: LabeledDataset, test: LabeledDataset
        if let set = try bundled(spec) {
            (train, test) = try set.stratifiedSplit(testFraction: 0.3, seed: 0)
        } else {
            let dir = try mnistDirectory(spec)!
            train = try mnist(dir, train: true); test = try mnist(dir, train: false)
        }
        return (limit(train, maxTrain), limit(test, maxTest))
    }

    /// One pool of labelled images (for experiments that split it themselves): a bundled set, or the first
    /// `maxTrain + maxTest` MNIST training images.
    static func pool(_ spec: String, maxTrain: Int, maxTest: Int) throws -> LabeledDataset {
        if let set = try bundled(spec) { return set }
        let dir = try mnistDirectory(spec)!
        return limit(try mnist(dir, train: true), maxTrain > 0 && maxTest > 0 ? maxTrain + maxTest : 0)
    }

    /// The input scaling of the training experiments: per-pixel standardization for the digits (8 x 8, every pixel
    /// used), one global mean and standard deviation for MNIST (torchvision's Normalize, as the seeds' code uses).
    static func normalization(_ spec: String) -> InputNormalization { spec == "digits" ? .standardize : .globalStandardize }

    /// The training and test inputs scaled by ``normalization(_:)`` with training statistics.
    static func normalized(_ spec: String, train: Matrix, test: Matrix) -> (Matrix, Matrix) {
        let n = normalization(spec)
        return (n.apply(train, reference: train), n.apply(test, reference: train))
    }

    static func mnistDirectory(_ spec: String) throws -> String? {
        if spec == "digits" || spec == bundledMNIST { return nil }
        guard spec.hasPrefix("mnist:"), spec.count > 6 else {
            throw OverparamError.invalidArgument(name: "images", problem: "'\(spec)' is not an image source; use \"digits\", \"\(bundledMNIST)\" or \"mnist:DIR\" (or pass --mnist DIR)")
        }
        return String(spec.dropFirst(6))
    }

    static func mnist(_ dir: String, train: Bool) throws -> LabeledDataset {
        let key = "\(dir)|\(train)"
        if let d = cache.withLock({ $0[key] }) { return d }
        let d = try MNIST.load(directory: dir, train: train)
        cache.withLock { $0[key] = d }
        return d
    }

    static func limit(_ d: LabeledDataset, _ n: Int) -> LabeledDataset {
        n > 0 && n < d.inputs.rows ? d.subset(Array(0..<n)) : d
    }
}
