import Foundation
import Overparam

/// `regimes.alpha-sweep` (seed 000 figs. 2 and 7): a two-layer tanh network f = (alpha/m) sum_j u_j tanh(theta_j . x)
/// trained by SGD with learning rate 0.1 m / alpha (authors' code) for alpha = m^e; distances from initialization
/// mean_j ||theta_j - theta_j^0|| and mean_j ||u_j - u_j^0||. Claim: both decrease monotonically with alpha.
public struct AlphaSweepExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var width: Int; public var exponents: [Double]; public var epochs: Int; public var batch: Int
        public var baseRate: Double; public var seeds: Int
        /// Image source (``ImageData``): "digits", "mnist-5k" or "mnist:DIR"; at most maxTrain / maxTest examples (0: all).
        public var images: String; public var maxTrain: Int; public var maxTest: Int
    }
    public init() {}
    public var id: String { "regimes.alpha-sweep" }
    public var source: String { "seed 000 figs. 2 and 7, eq. 1; SEED-NOTES sec. 3" }
    public var summary: String { "Distance from initialization vs the output scaling alpha (mean field to NTK)" }
    public var claimText: String { "The larger the scaling alpha (from mean field alpha = 1 to the NTK scaling sqrt(m) and beyond), the closer the trained parameters stay to their initialization." }
    public var estimates: (quick: String, full: String) { ("15 s", "5 min") }
    public var quickNote: String { "m = 1000 and 3 epochs (full: m = 10^4, 50 epochs), 3 seeds; the digits (standardized) stand in for MNIST, softmax cross-entropy" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(width: 1000, exponents: [0, 0.3, 0.5, 0.7, 1], epochs: 3, batch: 128, baseRate: 0.1, seeds: 3,
                           images: "digits", maxTrain: 2000, maxTest: 1000)
                    : Config(width: 10000, exponents: [0, 0.3, 0.5, 0.7, 1], epochs: 50, batch: 128, baseRate: 0.1, seeds: 3,
                           images: "digits", maxTrain: 0, maxTest: 0)
    }
    public func runs(_ c: Config) -> [RunKey] { c.exponents.flatMap { e in (0..<c.seeds).map { RunKey("exponent=\(e)", seed: $0) } } }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        guard let e = Double(key.setting.dropFirst("exponent=".count)) else { throw OverparamError.invalidArgument(name: "setting", problem: key.setting) }
        let d = try TrainingSupport.images(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest)
        let alpha = Foundation.pow(Double(c.width), e)
        let arch = Architecture(inputDimension: d.x.cols, hiddenWidths: [c.width], activation: .tanh, outputDimension: 10, weightVariance: 1,
                                hasBias: false, parameterization: .scaled(alpha: alpha))
        var opts = TrainingOptions()
        opts.loss = SoftmaxCrossEntropy(); opts.batchSize = c.batch; opts.seed = seed
        opts.steps = TrainingSupport.steps(epochs: c.epochs, n: d.x.rows, batch: c.batch)
        opts.recordEvery = max(1, opts.steps / 20)
        let trainer = try Trainer(network: try Network(arch, seed: seed), trainInputs: d.x, trainTargets: d.y, testInputs: d.tx, testTargets: d.ty, options: opts)
        var sgd = GradientDescent(learningRate: c.baseRate * Double(c.width) / alpha)
        let rs = try trainer.train(&sgd)
        let last = rs.last!
        return RunOutput(metrics: ["exponent": e, "alpha": alpha, "theta_distance": last.meanNeuronDistance ?? .nan,
                                   "u_distance": last.meanOutputWeightDistance ?? .nan, "train_loss": last.trainLoss,
                                   "test_accuracy": last.testAccuracy ?? .nan], series: TrainingSupport.series(rs))
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.notes.append(TrainingSupport.imageNote(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        let groups = Dictionary(grouping: runs) { $0.output.metrics["exponent"] ?? 0 }
        let exps = groups.keys.sorted()
        var thetaLayers = [PlotLayer](), uLayers = [PlotLayer](), rows = [[String]]()
        for (i, e) in exps.enumerated() {
            let g = groups[e]!
            let th = TrainingSupport.meanSeries(g, "neuron_distance"), u = TrainingSupport.meanSeries(g, "output_weight_distance")
            let t = TrainingSupport.meanSeries(g, "step").mean
            thetaLayers.append(.line(x: t, y: th.mean, label: "alpha = m^\(e)", color: i, markers: false))
            uLayers.append(.line(x: t, y: u.mean, label: "alpha = m^\(e)", color: i, markers: false))
            for key in ["theta_distance", "u_distance", "train_loss", "test_accuracy"] {
                let s = meanAndStandardError(g.compactMap { $0.output.metrics[key] })
                rows.append(["\(e)", key, sig(s.mean, 6), sig(s.se, 3)])
            }
        }
        a.figures.append(NamedFigure("theta-distance", "mean_j ||theta_j - theta_j^0|| during training (mean over seeds).",
            Figure(title: "First-layer distance from init (m = \(c.width))", x: Axis("SGD step"), y: Axis("mean_j ||theta_j - theta_j^0||", scale: .log), layers: thetaLayers)))
        a.figures.append(NamedFigure("u-distance", "mean_j ||u_j - u_j^0|| during training (mean over seeds) (seed 000 fig. 7).",
            Figure(title: "Output-weight distance from init (m = \(c.width))", x: Axis("SGD step"), y: Axis("mean_j ||u_j - u_j^0||", scale: .log), layers: uLayers)))
        a.tables.append(DataTable("final", header: ["exponent", "metric", "mean", "se"], rows: rows))
        let labels = exps.map { "m^\($0)" }
        a.claims.append(TrainingSupport.decreasingClaim("final mean_j ||theta_j - theta_j^0|| decreases monotonically with alpha", labels: labels,
                                                         values: exps.map { e in groups[e]!.compactMap { $0.output.metrics["theta_distance"] } }))
        a.claims.append(TrainingSupport.decreasingClaim("final mean_j ||u_j - u_j^0|| decreases monotonically with alpha", labels: labels,
                                                         values: exps.map { e in groups[e]!.compactMap { $0.output.metrics["u_distance"] } }))
        return a
    }
}

/// `regimes.width-sweep` (seed 000 fig. 3): alpha = sqrt(m), m growing, under both learning-rate conventions of
/// eq. 11 (eta_u = eta m / alpha, eta_theta = eta) and eq. 13 (eta_u = eta_theta = eta), eta = 0.1. Claim: the
/// distance from initialization decreases with m under both; the fitted exponent is reported (the seed predicts none).
public struct WidthSweepExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]; public var epochs: Int; public var batch: Int; public var rate: Double; public var seeds: Int
        /// Image source (``ImageData``): "digits", "mnist-5k" or "mnist:DIR"; at most maxTrain / maxTest examples (0: all).
        public var images: String; public var maxTrain: Int; public var maxTest: Int
    }
    public init() {}
    public var id: String { "regimes.width-sweep" }
    public var source: String { "seed 000 fig. 3, eqs. 11 and 13" }
    public var summary: String { "Distance from initialization vs width at alpha = sqrt(m), two learning-rate conventions" }
    public var claimText: String { "With the NTK scaling alpha = sqrt(m), wider networks stay closer to their initialization, whether the output layer's rate is m/alpha times larger (eq. 11) or equal (eq. 13)." }
    public var estimates: (quick: String, full: String) { ("20 s", "5 min") }
    public var quickNote: String { "m in {100, 316, 1000, 3162} and 3 epochs (full: 10^2, 10^3, 10^4 and 50 epochs), 3 seeds, digits for MNIST" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [100, 316, 1000, 3162], epochs: 3, batch: 128, rate: 0.1, seeds: 3, images: "digits", maxTrain: 2000, maxTest: 1000)
                    : Config(widths: [100, 1000, 10000], epochs: 50, batch: 128, rate: 0.1, seeds: 3, images: "digits", maxTrain: 0, maxTest: 0)
    }
    public func runs(_ c: Config) -> [RunKey] {
        ["eq11", "eq13"].flatMap { conv in c.widths.flatMap { m in (0..<c.seeds).map { RunKey("\(conv),m=\(String(format: "%06d", m))", seed: $0) } } }
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let parts = key.setting.split(separator: ",")
        guard let m = Int(parts[1].dropFirst(2)) else { throw OverparamError.invalidArgument(name: "setting", problem: key.setting) }
        let eq11 = parts[0] == "eq11"
        let d = try TrainingSupport.images(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest)
        let alpha = Double(m).squareRoot()
        let arch = Architecture(inputDimension: d.x.cols, hiddenWidths: [m], activation: .tanh, outputDimension: 10, weightVariance: 1,
                                hasBias: false, parameterization: .scaled(alpha: alpha))
        let net = try Network(arch, seed: seed)
        var opts = TrainingOptions()
        opts.loss = SoftmaxCrossEntropy(); opts.batchSize = c.batch; opts.seed = seed
        opts.steps = TrainingSupport.steps(epochs: c.epochs, n: d.x.rows, batch: c.batch); opts.recordEvery = opts.steps
        let trainer = try Trainer(network: net, trainInputs: d.x, trainTargets: d.y, testInputs: d.tx, testTargets: d.ty, options: opts)
        var sgd = GradientDescent(learningRate: c.rate, scales: LearningRateScales.perLayer([1, eq11 ? Double(m) / alpha : 1], layout: net.layout))
        let last = try trainer.train(&sgd).last!
        return RunOutput(metrics: ["width": Double(m), "eq11": eq11 ? 1 : 0, "theta_distance": last.meanNeuronDistance ?? .nan,
                                   "u_distance": last.meanOutputWeightDistance ?? .nan, "test_accuracy": last.testAccuracy ?? .nan, "train_loss": last.trainLoss])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.notes.append(TrainingSupport.imageNote(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        var layers = [PlotLayer](), rows = [[String]]()
        for (ci, conv) in [(1.0, "eq. 11 (eta_u = eta m/alpha)"), (0.0, "eq. 13 (eta_u = eta)")].enumerated() {
            let rs = runs.filter { $0.output.metrics["eq11"] == conv.0 }
            let groups = Dictionary(grouping: rs) { $0.output.metrics["width"] ?? 0 }
            let ms = groups.keys.sorted()
            for (mi, metric) in ["theta_distance", "u_distance"].enumerated() {
                let st = ms.map { meanAndStandardError(groups[$0]!.compactMap { $0.output.metrics[metric] }) }
                layers.append(.errorBars(x: ms, y: st.map { $0.mean }, err: st.map { $0.se }, label: "\(metric == "theta_distance" ? "theta" : "u"), \(conv.1)", color: 2 * ci + mi))
                layers.append(.line(x: ms, y: st.map { $0.mean }, label: nil, color: 2 * ci + mi, dashed: mi == 1))
                for (m, s) in zip(ms, st) { rows.append([conv.1, "\(Int(m))", metric, sig(s.mean, 6), sig(s.se, 3)]) }
                let fit = LinearFit.powerLaw(x: ms, y: st.map { $0.mean }, standardErrors: st.map { max($0.se, 1e-12 * $0.mean) })
                if metric == "theta_distance" || ci == 1 {
                    a.claims.append(TrainingSupport.decreasingClaim("\(conv.1): mean_j ||\(metric == "theta_distance" ? "theta" : "u")_j - init|| decreases with m", labels: ms.map { "\(Int($0))" },
                                                                     values: ms.map { groups[$0]!.compactMap { $0.output.metrics[metric] } }))
                }
                if let fit { a.notes.append("\(conv.1), \(metric): fitted exponent \(sig(fit.slope, 3)) +- \(sig(fit.slopeStandardError, 2)) (the seed predicts no exponent; -1/2 is not claimed).") }
            }
        }
        // eq. 11's larger output rate: u moves with m; reported, not claimed as decreasing.
        a.figures.append(NamedFigure("distance-vs-width", "Final distances from initialization vs width m at alpha = sqrt(m) (mean +- SE over seeds).",
                                     Figure(title: "Distance from init vs width", x: Axis("width m", scale: .log), y: Axis("mean distance", scale: .log), layers: layers)))
        a.tables.append(DataTable("distance-vs-width", header: ["convention", "width", "metric", "mean", "se"], rows: rows))
        return a
    }
}
