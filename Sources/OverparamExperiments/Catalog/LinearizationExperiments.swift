import Foundation
import Overparam

/// `regimes.linearization` (seed 000 fig. 4): a two-layer tanh network (m = 1000, alpha = sqrt(m), biases,
/// logistic loss, full-batch GD, eta = 0.1) against its Taylor linearization at theta_0 evaluated along its own
/// trajectory (SEED-NOTES sec. 3), on seed 000's synthetic 100-dimensional set and on MNIST images (0-4 vs 5-9; by
/// default the bundled 5,000-image subset, ``ImageData/bundledMNIST``; `images = "digits"` for the 8 x 8 digits).
/// The separately trained linearization (the exact kernel-regime model) is recorded too.
public struct LinearizationExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var width: Int; public var epochs: Int; public var rate: Double; public var seeds: Int
        /// Image source (``ImageData``): "digits", "mnist-5k" or "mnist:DIR"; at most maxTrain / maxTest examples (0: all).
        public var images: String; public var maxTrain: Int; public var maxTest: Int
    }
    public init() {}
    public var id: String { "regimes.linearization" }
    public var source: String { "seed 000 fig. 4; SEED-NOTES sec. 3 (the plotted linearization)" }
    public var summary: String { "Network vs its linearization on the synthetic set and on MNIST (bundled subset)" }
    public var claimText: String { "On the synthetic set the trained network and its linearization agree almost perfectly; on real images (MNIST) the gap is larger." }
    public var estimates: (quick: String, full: String) { ("2.5 min", "40 min") }
    public var quickNote: String { "300 epochs (full: 1000), 2 seeds; MNIST 0-4 vs 5-9 from the bundled 5,000-image subset, 2,000 train / 1,000 test (full: 3,500 / 1,500; the seed uses all of MNIST); biases on both layers start at 0 (the seed has an output bias only)" }
    public func configuration(_ p: Preset) -> Config { Config(width: 1000, epochs: p == .quick ? 300 : 1000, rate: 0.1, seeds: p == .quick ? 2 : 5,
                                                                      images: ImageData.bundledMNIST, maxTrain: p == .quick ? 2000 : 0, maxTest: p == .quick ? 1000 : 0) }
    public func runs(_ c: Config) -> [RunKey] { ["synthetic", "images"].flatMap { s in (0..<c.seeds).map { RunKey("data=\(s)", seed: $0) } } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let synthetic = key.setting == "data=synthetic"
        let d = synthetic ? try TrainingSupport.seed000Synthetic() : try TrainingSupport.images(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest, binary: true)
        let arch = Architecture(inputDimension: d.x.cols, hiddenWidths: [c.width], activation: .tanh, weightVariance: 1, biasVariance: 0,
                                hasBias: true, parameterization: .scaled(alpha: Double(c.width).squareRoot()))
        var opts = TrainingOptions()
        opts.loss = BinaryLogistic(); opts.steps = c.epochs; opts.recordEvery = max(1, c.epochs / 20); opts.seed = seed
        opts.trackLinearizationGap = true; opts.trackLinearizedTwin = true
        let trainer = try Trainer(network: try Network(arch, seed: seed), trainInputs: d.x, trainTargets: d.y, testInputs: d.tx, testTargets: d.ty, options: opts)
        var gd = GradientDescent(learningRate: c.rate)
        let rs = try trainer.train(&gd)
        // Label agreement on the test set between the network and its Taylor linearization at the final parameters.
        let f = try trainer.network(d.tx)
        let lin = (try trainer.initial(d.tx)) + (try trainer.initial.jvp(d.tx, direction: zip(trainer.network.parameters, trainer.initial.parameters).map { $0 - $1 }))
        let agree = Double((0..<f.rows).filter { (f[$0, 0] > 0) == (lin[$0, 0] > 0) }.count) / Double(f.rows)
        let last = rs.last!
        return RunOutput(metrics: ["synthetic": synthetic ? 1 : 0, "taylor_gap": last.linearizationGap ?? .nan, "twin_gap": last.twinGap ?? .nan,
                                   "label_agreement": agree, "test_accuracy": last.testAccuracy ?? .nan, "twin_test_accuracy": last.twinTestAccuracy ?? .nan,
                                   "test_count": Double(f.rows)], series: TrainingSupport.series(rs))
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.notes.append(TrainingSupport.imageNote(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        var layers = [PlotLayer](), rows = [[String]]()
        var gaps = [String: [Double]]()
        let imagesName = c.images == "digits" ? "digits" : "MNIST"
        for (i, key) in ["synthetic", "images"].enumerated() {
            let name = key == "images" ? imagesName : key
            let rs = runs.filter { $0.key.setting == "data=\(key)" }
            let t = TrainingSupport.meanSeries(rs, "step").mean
            layers.append(.line(x: t, y: TrainingSupport.meanSeries(rs, "taylor_gap").mean, label: "\(name): Taylor along trajectory", color: i))
            layers.append(.line(x: t, y: TrainingSupport.meanSeries(rs, "twin_gap").mean, label: "\(name): trained linearization", color: i, dashed: true))
            gaps[key] = rs.compactMap { $0.output.metrics["taylor_gap"] }
            for m in ["taylor_gap", "twin_gap", "label_agreement", "test_accuracy", "twin_test_accuracy"] {
                let s = meanAndStandardError(rs.compactMap { $0.output.metrics[m] })
                rows.append([name, m, sig(s.mean, 6), sig(s.se, 3)])
            }
            if key == "synthetic" {
                let agree = rs.compactMap { $0.output.metrics["label_agreement"] }
                let n = (rs.first?.output.metrics["test_count"] ?? 500) * Double(max(1, agree.count))
                let p = agree.reduce(0, +) / Double(max(1, agree.count))
                let se = (max(p * (1 - p), 1 / n) / n).squareRoot()
                a.claims.append(Claim("synthetic set: the network and its linearization predict the same test labels (near-perfect agreement)", measured: p,
                                      expected: ">= 0.98 + 2 SE", tolerance: "binomial SE over \(Int(n)) test predictions = \(sig(se, 2)); 'near-perfect' read as 98 % agreement",
                                      passed: p - 2 * se >= 0.98))
            }
        }
        let s = meanAndStandardError(gaps["synthetic"] ?? []), dgt = meanAndStandardError(gaps["images"] ?? [])
        let seDiff = (s.se * s.se + dgt.se * dgt.se).squareRoot()
        a.claims.append(Claim("the linearization gap is larger on \(c.images == "digits" ? "the digits" : "MNIST") than on the synthetic set", measured: dgt.mean - s.mean,
                              expected: "> 2 SE (\(sig(2 * seDiff, 2)))", tolerance: "SE of the difference of seed means of the final relative gap",
                              passed: dgt.mean - s.mean > 2 * seDiff))
        a.figures.append(NamedFigure("gap", "Relative RMS gap between the network and its linearization on the test points during GD (mean over seeds).",
                                     Figure(title: "Network vs linearization (m = \(c.width), alpha = sqrt(m))", x: Axis("GD step (epoch)"), y: Axis("relative gap", scale: .log), layers: layers)))
        a.tables.append(DataTable("gap", header: ["data", "metric", "mean", "se"], rows: rows))
        return a
    }
}

/// `regimes.breaking-ntk` (seed 000 fig. 5): at alpha = sqrt(m), a large learning rate, momentum, and a 1/sqrt(d)
/// initialization each move the network farther from initialization and from its linearization; whether it then
/// generalizes better (the seed says so) is reported, not assumed.
public struct BreakingNTKExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var width: Int; public var epochs: Int; public var batch: Int; public var seeds: Int
        /// Image source (``ImageData``): "digits", "mnist-5k" or "mnist:DIR"; at most maxTrain / maxTest examples (0: all).
        public var images: String; public var maxTrain: Int; public var maxTest: Int
    }
    public init() {}
    public var id: String { "regimes.breaking-ntk" }
    public var source: String { "seed 000 fig. 5" }
    public var summary: String { "Large learning rate, momentum and small initialization leave the NTK regime" }
    public var claimText: String { "A large learning rate, momentum, or a 1/sqrt(d) initialization increase the distance from initialization and the gap to the NTK model, and the network then performs better." }
    public var estimates: (quick: String, full: String) { ("60 s", "2 h") }
    public var quickNote: String { "m = 1000 and 5 epochs (full: m = 5000, 100 epochs), 2 seeds, digits (10 classes) for MNIST" }
    static let settings = ["lr=0.01", "lr=0.1", "lr=1", "momentum=0.5", "momentum=0.9", "init=1/sqrt(d)"]
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(width: 1000, epochs: 5, batch: 128, seeds: 2, images: "digits", maxTrain: 2000, maxTest: 1000)
                    : Config(width: 5000, epochs: 100, batch: 128, seeds: 3, images: "digits", maxTrain: 0, maxTest: 0)
    }
    public func runs(_ c: Config) -> [RunKey] { Self.settings.flatMap { s in (0..<c.seeds).map { RunKey(s, seed: $0) } } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = try TrainingSupport.images(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest)
        let alpha = Double(c.width).squareRoot()
        let smallInit = key.setting == "init=1/sqrt(d)"
        let arch = Architecture(inputDimension: d.x.cols, hiddenWidths: [c.width], activation: .tanh, outputDimension: 10, weightVariance: 1,
                                hasBias: false, parameterization: .scaled(alpha: alpha))
        var net = try Network(arch, seed: seed)
        if smallInit { for i in net.layout.weightRange(1) { net.parameters[i] /= Double(d.x.cols).squareRoot() } }
        var opts = TrainingOptions()
        opts.loss = SoftmaxCrossEntropy(); opts.batchSize = c.batch; opts.seed = seed
        opts.steps = TrainingSupport.steps(epochs: c.epochs, n: d.x.rows, batch: c.batch); opts.recordEvery = max(1, opts.steps / 10)
        opts.trackLinearizationGap = true; opts.trackLinearizedTwin = true
        let trainer = try Trainer(network: net, trainInputs: d.x, trainTargets: d.y, testInputs: d.tx, testTargets: d.ty, options: opts)
        let rs: [TrainingRecord]
        if key.setting.hasPrefix("momentum=") {
            var o = HeavyBall(learningRate: 0.1, momentum: Double(key.setting.dropFirst(9)) ?? 0); rs = try trainer.train(&o)
        } else {
            var o = GradientDescent(learningRate: key.setting.hasPrefix("lr=") ? Double(key.setting.dropFirst(3)) ?? 0.1 : 0.1); rs = try trainer.train(&o)
        }
        let last = rs.last!
        return RunOutput(metrics: ["theta_distance": last.meanNeuronDistance ?? .nan, "u_distance": last.meanOutputWeightDistance ?? .nan,
                                   "taylor_gap": last.linearizationGap ?? .nan, "twin_gap": last.twinGap ?? .nan,
                                   "test_accuracy": last.testAccuracy ?? .nan, "twin_test_accuracy": last.twinTestAccuracy ?? .nan],
                         series: TrainingSupport.series(rs))
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.notes.append(TrainingSupport.imageNote(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        func vals(_ s: String, _ m: String) -> [Double] { runs.filter { $0.key.setting == s }.compactMap { $0.output.metrics[m] } }
        var rows = [[String]]()
        var bars = [PlotLayer]()
        for (i, s) in Self.settings.enumerated() {
            var r = [s]
            for m in ["theta_distance", "u_distance", "taylor_gap", "twin_gap", "test_accuracy", "twin_test_accuracy"] {
                let st = meanAndStandardError(vals(s, m)); r += [sig(st.mean, 5), sig(st.se, 2)]
            }
            rows.append(r)
            let dist = meanAndStandardError(vals(s, "theta_distance")), gap = meanAndStandardError(vals(s, "taylor_gap"))
            bars.append(.scatter(x: [dist.mean], y: [gap.mean], values: nil, label: s, color: i, radius: 6))
        }
        for m in ["theta_distance", "taylor_gap"] {
            let what = m == "theta_distance" ? "distance from initialization" : "gap to the linearization"
            a.claims.append(TrainingSupport.decreasingClaim("larger learning rate, larger \(what) (lr 1 > 0.1 > 0.01)", labels: ["lr=1", "lr=0.1", "lr=0.01"],
                                                             values: [vals("lr=1", m), vals("lr=0.1", m), vals("lr=0.01", m)]))
            a.claims.append(TrainingSupport.decreasingClaim("momentum 0.9 > 0.5 > 0 (lr 0.1): larger \(what)", labels: ["0.9", "0.5", "0"],
                                                             values: [vals("momentum=0.9", m), vals("momentum=0.5", m), vals("lr=0.1", m)]))
            a.claims.append(TrainingSupport.decreasingClaim("1/sqrt(d) initialization > standard (lr 0.1): larger \(what)", labels: ["1/sqrt(d)", "std 1"],
                                                             values: [vals("init=1/sqrt(d)", m), vals("lr=0.1", m)]))
        }
        for s in Self.settings {
            let nn = meanAndStandardError(vals(s, "test_accuracy")), ntk = meanAndStandardError(vals(s, "twin_test_accuracy"))
            a.notes.append("\(s): network test accuracy \(sig(nn.mean, 4)) +- \(sig(nn.se, 2)) vs its trained linearization \(sig(ntk.mean, 4)) +- \(sig(ntk.se, 2)): the network \(nn.mean > ntk.mean ? "does better" : "does not do better").")
        }
        a.figures.append(NamedFigure("distance-gap", "Final mean first-layer distance from initialization vs the relative gap to the Taylor linearization, per setting (mean over seeds).",
                                     Figure(title: "Leaving the NTK regime (m = \(c.width))", x: Axis("mean_j ||theta_j - theta_j^0||", scale: .log), y: Axis("relative gap to linearization", scale: .log), layers: bars)))
        a.tables.append(DataTable("distance-gap", header: ["setting", "theta_distance", "se", "u_distance", "se", "taylor_gap", "se", "twin_gap", "se", "test_accuracy", "se", "twin_test_accuracy", "se"], rows: rows))
        return a
    }
}
