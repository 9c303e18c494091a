import Foundation
import Overparam

/// Shared pieces of the training experiments (issue: training dynamics).
enum TrainingSupport {
    /// The image split of ``ImageData`` (the digits' stratified 70/30 split, or MNIST's train/test files), scaled by
    /// ``ImageData/normalization(_:)`` with training statistics. `binary`: labels digit < 5 -> -1, >= 5 -> +1 as an n x 1 matrix;
    /// else one-hot (n x 10).
    static func images(_ spec: String = "digits", maxTrain: Int = 0, maxTest: Int = 0, binary: Bool = false) throws -> (x: Matrix, y: Matrix, tx: Matrix, ty: Matrix) {
        let (train, test) = try ImageData.split(spec, maxTrain: maxTrain, maxTest: maxTest)
        let (x, tx) = ImageData.normalized(spec, train: train.inputs, test: test.inputs)
        if binary {
            return (x, Matrix(column: train.labels.map { $0 < 5 ? -1 : 1 }), tx, Matrix(column: test.labels.map { $0 < 5 ? -1 : 1 }))
        }
        return (x, train.oneHot(), tx, test.oneHot())
    }

    /// The report's line on which images a run used.
    static func imageNote(_ spec: String, maxTrain: Int, maxTest: Int) -> String {
        let cap = maxTrain > 0 || maxTest > 0 ? " (at most \(maxTrain > 0 ? "\(maxTrain)" : "all") training and \(maxTest > 0 ? "\(maxTest)" : "all") test images)" : ""
        return "Images: \(ImageData.name(spec))\(cap); " + (spec == "digits" ? "the bundled digits stand in for MNIST (run with --mnist DIR for the real thing)." : spec == ImageData.bundledMNIST ? "28 x 28 MNIST images, 500 per digit, split 70/30 stratified (3,500 train, 1,500 test); --mnist DIR runs on all 70,000." : "MNIST's own train and t10k files.")
    }

    /// Seed 000's synthetic set: make_classification(n = 1000 split 500/500, 100 features, 4 informative,
    /// 10 redundant, 10 repeated, 2 classes, 2 clusters per class, flip_y 0.01, class_sep 1), labels +-1.
    static func seed000Synthetic(seed: UInt64 = 0) throws -> (x: Matrix, y: Matrix, tx: Matrix, ty: Matrix) {
        let (x, labels) = try SyntheticData.makeClassification(samples: 1000, features: 100, informative: 4, redundant: 10, repeated: 10,
                                                               classes: 2, clustersPerClass: 2, flipY: 0.01, classSep: 1, seed: seed)
        let y = labels.map { $0 == 1 ? 1.0 : -1.0 }
        let tr = Array(0..<500), te = Array(500..<1000)
        return (x.rows(at: tr), Matrix(column: tr.map { y[$0] }), x.rows(at: te), Matrix(column: te.map { y[$0] }))
    }

    /// A small regression task: n points on the sphere in d dimensions, targets from a random tanh teacher of
    /// width 8 (normalized to unit RMS).
    static func teacherRegression(n: Int, d: Int, seed: UInt64) throws -> (x: Matrix, y: Matrix) {
        let x = SyntheticData.sphereInputs(n, dimension: d, seed: seed)
        let teacher = try Network(Architecture(inputDimension: d, hiddenWidths: [8], activation: .tanh, weightVariance: 1, parameterization: .hanin), seed: seed &+ 17)
        var y = try teacher(x)
        let rms = (y.storage.reduce(0) { $0 + $1 * $1 } / Double(y.count)).squareRoot()
        y.scale(by: 1 / max(rms, 1e-12))
        return (x, y)
    }

    /// Steps of `epochs` passes with minibatches of `batch` over n points.
    static func steps(epochs: Int, n: Int, batch: Int) -> Int { epochs * max(1, (n + batch - 1) / batch) }

    /// Records flattened into run-store series.
    static func series(_ rs: [TrainingRecord]) -> [String: [Double]] {
        var s: [String: [Double]] = ["step": rs.map { Double($0.step) }, "time": rs.map { $0.time }, "train_loss": rs.map { $0.trainLoss }]
        func add(_ name: String, _ v: [Double?]) { if v.contains(where: { $0 != nil }) { s[name] = v.map { $0 ?? .nan } } }
        add("train_accuracy", rs.map { $0.trainAccuracy }); add("test_loss", rs.map { $0.testLoss }); add("test_accuracy", rs.map { $0.testAccuracy })
        add("neuron_distance", rs.map { $0.meanNeuronDistance }); add("output_weight_distance", rs.map { $0.meanOutputWeightDistance })
        add("ntk_change", rs.map { $0.ntkChange }); add("taylor_gap", rs.map { $0.linearizationGap }); add("twin_gap", rs.map { $0.twinGap })
        add("twin_distance", rs.map { $0.twinParameterDistance }); add("twin_test_accuracy", rs.map { $0.twinTestAccuracy })
        add("preactivation_movement", rs.map { $0.preactivationMovement }); add("output_movement", rs.map { $0.outputMovement })
        for l in 0..<(rs.first?.relativeDistance.count ?? 0) { s["relative_distance_layer\(l + 1)"] = rs.map { $0.relativeDistance[l] } }
        return s
    }

    /// Group runs by setting (sorted), with the values of metric `m` over seeds.
    static func bySetting(_ runs: [RunRecord], _ m: String) -> [(setting: String, values: [Double])] {
        Dictionary(grouping: runs) { $0.key.setting }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.compactMap { $0.output.metrics[m] }) }
    }

    /// A claim that the means of `values` (in order) strictly decrease, each step by more than 2 standard errors
    /// of the difference (seed-to-seed spread).
    static func decreasingClaim(_ statement: String, labels: [String], values: [[Double]]) -> Claim {
        let stats = values.map { meanAndStandardError($0) }
        var ok = stats.count >= 2
        var worst = Double.infinity
        for i in 0..<(max(stats.count, 1) - 1) {
            let d = stats[i].mean - stats[i + 1].mean
            let se = (stats[i].se * stats[i].se + stats[i + 1].se * stats[i + 1].se).squareRoot()
            let z = se > 0 ? d / se : (d > 0 ? .infinity : -.infinity)
            worst = min(worst, z)
            if !(d > 2 * se) { ok = false }
        }
        return Claim(statement, measured: worst, expected: "every consecutive decrease > 2 SE (z > 2)",
                     tolerance: "SE of the difference of seed means (\(values.first?.count ?? 0) seeds); measured = smallest z over \(labels.joined(separator: " > "))",
                     passed: ok)
    }

    /// Mean (+- SE) of a series over runs, per step index.
    static func meanSeries(_ runs: [RunRecord], _ name: String) -> (mean: [Double], se: [Double]) {
        let all = runs.compactMap { $0.output.series[name] }
        guard let len = all.map({ $0.count }).min(), len > 0 else { return ([], []) }
        let stats = (0..<len).map { i in meanAndStandardError(all.map { $0[i] }) }
        return (stats.map { $0.mean }, stats.map { $0.se.isFinite ? $0.se : 0 })
    }
}
