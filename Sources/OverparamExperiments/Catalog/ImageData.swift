import Foundation
import Overparam
import Synchronization

/// Where the image experiments get their pictures: the bundled handwritten digits (`"digits"`, the default) or
/// MNIST from IDX files (`"mnist:DIR"`, set by `overparam reproduce --mnist DIR` or a config's `images` key).
///
/// Every image experiment's configuration carries `images`, `maxTrain` and `maxTest` (0 = all), so runs on the
/// digits and on MNIST are stored under different configuration hashes and never mix.
enum ImageData {
    /// The loaded MNIST parts by file path (60,000 x 784 doubles are 376 MB: load once per process).
    private static let cache = Mutex<[String: LabeledDataset]>([:])

    /// The spec's name for reports ("digits" or "MNIST (DIR)").
    static func name(_ spec: String) -> String { spec.hasPrefix("mnist:") ? "MNIST (\(spec.dropFirst(6)))" : "the digits" }

    /// The train and test parts: the digits' stratified 70/30 split (seed 0), or MNIST's own train and t10k files;
    /// then the first `maxTrain` / `maxTest` examples (0: all).
    static func split(_ spec: String, maxTrain: Int, maxTest: Int) throws -> (train: LabeledDataset, test: LabeledDataset) {
        var train: LabeledDataset, test: LabeledDataset
        if let dir = try mnistDirectory(spec) {
            train = try mnist(dir, train: true); test = try mnist(dir, train: false)
        } else {
            (train, test) = try Digits.load().stratifiedSplit(testFraction: 0.3, seed: 0)
        }
        return (limit(train, maxTrain), limit(test, maxTest))
    }

    /// One pool of labelled images (for experiments that split it themselves): the digits, or the first
    /// `maxTrain + maxTest` MNIST training images.
    static func pool(_ spec: String, maxTrain: Int, maxTest: Int) throws -> LabeledDataset {
        guard let dir = try mnistDirectory(spec) else { return try Digits.load() }
        return limit(try mnist(dir, train: true), maxTrain > 0 && maxTest > 0 ? maxTrain + maxTest : 0)
    }

    static func mnistDirectory(_ spec: String) throws -> String? {
        if spec == "digits" { return nil }
        guard spec.hasPrefix("mnist:"), spec.count > 6 else {
            throw OverparamError.invalidArgument(name: "images", problem: "'\(spec)' is not an image source; use \"digits\" or \"mnist:DIR\" (or pass --mnist DIR)")
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
