import Foundation
import Overparam

/// The configuration shared by the `convex.*` experiments of seed 002's 1-D task: the task fields of
/// ``ConvexTaskConfig`` (flat, so a TOML file can override each key) and each experiment's extras.
public struct ConvexExperimentConfig: Codable, Sendable {
    public var trainSamples: Int; public var testSamples: Int; public var base: Int; public var learningRate: Double
    public var steps: Int; public var batchSize: Int; public var targetRMSE: Double; public var rmseTolerance: Double
    public var lambdaMin: Double; public var lambdaMax: Double; public var tuneIterations: Int; public var varianceSamples: Int
    public var lambdaFactor: Double; public var continuationSteps: Int; public var depthLearningRates: [Double]
    public var annealFactor: Double
    public var recordEvery: Int
    /// The depths L trained (one network each per repetition).
    public var depths: [Int]
    /// Regularizers compared (``ConvexRegularizerKind`` raw values).
    public var regularizers: [String]
    public var repetitions: Int
    /// convex.features: neurons drawn per layer for the figure, and the grid of x in [-2 pi, 2 pi].
    public var featureSamples: Int
    public var gridPoints: Int
    /// convex.sparsity: thresholds per layer (log grid from 1e-4 to 10 times the layer's initial weight scale).
    public var sparsityPoints: Int

    init(_ t: ConvexTaskConfig, depths: [Int], regularizers: [ConvexRegularizerKind] = [.l12], repetitions: Int = 1,
         featureSamples: Int = 20, gridPoints: Int = 512, sparsityPoints: Int = 61) {
        trainSamples = t.trainSamples; testSamples = t.testSamples; base = t.base; learningRate = t.learningRate; steps = t.steps
        batchSize = t.batchSize; targetRMSE = t.targetRMSE; rmseTolerance = t.rmseTolerance; lambdaMin = t.lambdaMin; lambdaMax = t.lambdaMax
        tuneIterations = t.tuneIterations; lambdaFactor = t.lambdaFactor; continuationSteps = t.continuationSteps; depthLearningRates = t.depthLearningRates; annealFactor = t.annealFactor; varianceSamples = t.varianceSamples; recordEvery = t.recordEvery
        self.depths = depths; self.regularizers = regularizers.map(\.rawValue); self.repetitions = repetitions
        self.featureSamples = featureSamples; self.gridPoints = gridPoints; self.sparsityPoints = sparsityPoints
    }

    public var task: ConvexTaskConfig {
        var t = ConvexTaskConfig(trainSamples: trainSamples, testSamples: testSamples, base: base, learningRate: learningRate, steps: steps,
                         batchSize: batchSize, targetRMSE: targetRMSE, rmseTolerance: rmseTolerance, lambdaMin: lambdaMin, lambdaMax: lambdaMax,
                         tuneIterations: tuneIterations, lambdaFactor: lambdaFactor, continuationSteps: continuationSteps, varianceSamples: varianceSamples, recordEvery: recordEvery)
        t.depthLearningRates = depthLearningRates; t.annealFactor = annealFactor
        return t
    }

    func kinds() throws -> [ConvexRegularizerKind] {
        try regularizers.map { s in
            guard let k = ConvexRegularizerKind(rawValue: s) else {
                throw OverparamError.invalidArgument(name: "regularizers", problem: "unknown regularizer '\(s)'; use \(ConvexRegularizerKind.allCases.map(\.rawValue))")
            }
            return k
        }
    }

    static let quickNote = "base 8 (widths 8 2^(L-l), i.e. 8...64; full: 1000, i.e. 1000...8000), 256 train samples (full: 60k), full-batch Adam 3e-3 for 3000 steps from the initialization at lambda = 1e-6, then lambda continuation (x 2 per stage of 300 steps at 0.2 x the rate, bisection on overshoot) to train RMSE 0.05 +- 15 % (full: 1e-4 +- 10 %, Adam 1e-4, batch 128, 2000 epochs)"
    static let quickDepthNote = "base 32 (widths 32 2^(L-l), i.e. 32...256; full: 1000...8000), 256 train samples (full: 60k), full-batch Adam 5e-3 (3e-2 at L = 1) for 4000 steps from the initialization at lambda = 1e-5, then lambda continuation (x 2 per stage of 200 steps at 0.2 x the rate, bisection on overshoot) to train RMSE 0.15 +- 15 % (full: 1e-4 +- 10 %, Adam 1e-4, batch 128, 2000 epochs)"
}

extension RunKey {
    /// "L=4" style keys.
    static func convex(depth: Int, _ extra: String? = nil, seed: Int) -> RunKey { RunKey("L=\(depth)" + (extra.map { ",\($0)" } ?? ""), seed: seed) }
}

enum ConvexExperimentSupport {
    /// The integer after "L=" in a setting.
    static func depth(_ key: RunKey) throws -> Int {
        for part in key.setting.split(separator: ",") where part.hasPrefix("L=") { if let v = Int(part.dropFirst(2)) { return v } }
        throw OverparamError.invalidArgument(name: "run", problem: "setting '\(key.setting)' has no L=")
    }
    /// The value after "reg=" in a setting.
    static func kind(_ key: RunKey) throws -> ConvexRegularizerKind {
        for part in key.setting.split(separator: ",") where part.hasPrefix("reg=") {
            if let k = ConvexRegularizerKind(rawValue: String(part.dropFirst(4))) { return k }
        }
        throw OverparamError.invalidArgument(name: "run", problem: "setting '\(key.setting)' has no reg=")
    }
    /// The metrics every tuned run reports.
    static func tuningMetrics(_ t: ConvexTuning) -> [String: Double] {
        let last = t.run.records.last
        return ["lambda": t.run.lambda, "train_rmse": t.run.trainRMSE, "test_rmse": t.run.testRMSE, "reached": t.reached ? 1 : 0,
                "trials": Double(t.trials.count), "objective": last?.objective ?? .nan, "regularization": last?.regularization ?? .nan,
                "dissipation": last?.dissipation ?? .nan]
    }
    /// A claim that every tuned run reached the target RMSE (the precondition of "at the same train RMSE").
    static func reachedClaim(_ runs: [RunRecord], _ c: ConvexExperimentConfig, prefixes: [String] = [""]) -> Claim {
        let rm = runs.flatMap { r in prefixes.compactMap { r.output.metrics[$0 + "train_rmse"] } }
        let worst = rm.map { abs($0 / c.targetRMSE - 1) }.max() ?? .infinity
        let all = runs.allSatisfy { r in prefixes.allSatisfy { r.output.metrics[$0 + "reached"] == 1 } }
        return Claim("Every network was tuned to the same train RMSE \(sig(c.targetRMSE, 2)) (train RMSEs \(rm.map { sig($0, 3) }.joined(separator: ", ")))",
                     measured: worst, expected: "|RMSE / target - 1| <= \(sig(c.rmseTolerance, 2))", tolerance: "the tuning's relative tolerance",
                     passed: !runs.isEmpty && !rm.isEmpty && all)
    }
}

// MARK: - convex.optimality

/// `convex.optimality` (seed 002 sec. VII-A, fig. 1 top; Proposition 1): an L = 4 tanh network trained with the
/// l_{1,2} regularizer (tuned to the target train RMSE) on the 1-D task; per layer, u_j^(l) and v_j^(l) of the
/// corrected eqs. 28-29 (``OptimalityDiagnostics``) with Pearson r, slope and intercept. Proposition 1 predicts
/// v = 2u + Lambda^(l); the seed reports r = 0.88, 0.82, 0.92, 0.99.
public struct ConvexOptimalityExperiment: Experiment {
    public typealias Config = ConvexExperimentConfig
    public init() {}
    public var id: String { "convex.optimality" }
    public var source: String { "seed 002 sec. VII-A, fig. 1 (top), Proposition 1, eqs. 28-29 (corrected, SEED-NOTES sec. 2)" }
    public var summary: String { "Per-layer u_j vs v_j of an L = 4 l_{1,2}-trained tanh net on cos 4x: correlation, slope (Proposition 1: 2), intercept" }
    public var claimText: String { "At a trained l_{1,2}-regularized network the per-neuron quantities u_j^(l), v_j^(l) are linearly related, v = 2u + Lambda^(l) (Proposition 1); the seed reports correlations 0.82-0.99 per layer (claim: r >= 0.8)." }
    public var estimates: (quick: String, full: String) { ("10 s", "days (60k samples, widths 8000...1000, ~10 tuning runs of 2000 epochs)") }
    public var quickNote: String { ConvexExperimentConfig.quickNote + "; L = 4, one network" }
    public func configuration(_ p: Preset) -> Config {
        Config(p == .quick ? .quick : .seed002, depths: [4], repetitions: 1)
    }
    public func runs(_ c: Config) -> [RunKey] { c.depths.flatMap { L in (0..<c.repetitions).map { RunKey.convex(depth: L, seed: $0) } } }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let L = try ConvexExperimentSupport.depth(key)
        let t = try ConvexSupport.tune(depth: L, kind: .l12, task: c.task, seed: seed)
        var metrics = ConvexExperimentSupport.tuningMetrics(t), series = [String: [Double]]()
        for layer in try OptimalityDiagnostics.layers(t.run.network, regularizer: t.run.regularizer) {
            metrics["r_\(layer.layer)"] = layer.correlation
            metrics["slope_\(layer.layer)"] = layer.slope
            metrics["intercept_\(layer.layer)"] = layer.intercept
            series["u_\(layer.layer)"] = layer.u
            series["v_\(layer.layer)"] = layer.v
        }
        series["trials_lambda"] = t.trials.map(\.lambda); series["trials_rmse"] = t.trials.map(\.rmse)
        return RunOutput(metrics: metrics, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.claims.append(ConvexExperimentSupport.reachedClaim(runs, c))
        var rows = [[String]]()
        for r in runs {
            let L = try ConvexExperimentSupport.depth(r.key)
            for l in 1...L {
                guard let u = r.output.series["u_\(l)"], let v = r.output.series["v_\(l)"] else { continue }
                let rr = r.output.metrics["r_\(l)"] ?? .nan, slope = r.output.metrics["slope_\(l)"] ?? .nan, icpt = r.output.metrics["intercept_\(l)"] ?? .nan
                a.claims.append(Claim("Layer \(l) of \(L) (\(r.key)): u_j and v_j are linearly correlated (Pearson r over the \(u.count) neurons; slope \(sig(slope, 3)) vs Proposition 1's 2, intercept \(sig(icpt, 3)))",
                                      measured: rr, expected: ">= 0.8", tolerance: "the seed's reported range 0.82-0.99", passed: rr >= 0.8))
                rows.append([r.key.description, String(l), String(u.count), sig(rr, 4), sig(slope, 4), sig(icpt, 4),
                             sig(u.reduce(0, +) / Double(u.count), 4), sig(v.reduce(0, +) / Double(v.count), 4)])
                guard r.key.seed == 0 else { continue }
                let lo = u.min() ?? 0, hi = u.max() ?? 1
                let lambdaHat = zip(u, v).reduce(0) { $0 + $1.1 - 2 * $1.0 } / Double(u.count)
                a.figures.append(NamedFigure("uv-layer\(l)", "u_j^(\(l)) vs v_j^(\(l)) (eqs. 28-29 corrected) for every neuron of layer \(l), L = \(L), l_{1,2}, lambda = \(sig(r.output.metrics["lambda"] ?? .nan, 3)); r = \(sig(rr, 3)). Solid: least-squares line (slope \(sig(slope, 3))); dashed: Proposition 1's v = 2u + Lambda with Lambda = mean(v - 2u).",
                    Figure(title: "Layer \(l): r = \(sig(rr, 3)), slope \(sig(slope, 3))", x: Axis("u_j"), y: Axis("v_j"), layers: [
                        .scatter(x: u, y: v, values: nil, label: "neurons", color: 0),
                        .line(x: [lo, hi], y: [slope * lo + icpt, slope * hi + icpt], label: "least squares", color: 1, markers: false),
                        .line(x: [lo, hi], y: [2 * lo + lambdaHat, 2 * hi + lambdaHat], label: "slope 2", color: 2, dashed: true, markers: false)])))
            }
            let trials = zip(r.output.series["trials_lambda"] ?? [], r.output.series["trials_rmse"] ?? []).map { "\(sig($0, 3)) -> \(sig($1, 3))" }
            a.notes.append("\(r.key): lambda = \(sig(r.output.metrics["lambda"] ?? .nan, 3)), train RMSE \(sig(r.output.metrics["train_rmse"] ?? .nan, 3)), test RMSE \(sig(r.output.metrics["test_rmse"] ?? .nan, 3)); stationarity: sum_l m^(l-1) m^(l) ||G_w||^2 + m^(L) ||G_u||^2 = \(sig(r.output.metrics["dissipation"] ?? .nan, 3)) at the end (Q = \(sig(r.output.metrics["objective"] ?? .nan, 4))); tuning trials (lambda -> RMSE): \(trials.joined(separator: ", ")).")
        }
        a.tables.append(DataTable("optimality", header: ["run", "layer", "neurons", "r", "slope", "intercept", "mean u", "mean v"], rows: rows))
        a.notes.append(c.task.note + ".")
        a.notes.append("Proposition 1 is the stationarity of the continuous program under a change of neuron *mass* at fixed function (re-weighting rho^(l) at z_j and rescaling w^(l+1)(., z_j) to keep g^(l+1)): d R^(l)/d p_j = 2 u_j and d R^(l+1)/d p_j = -v_j. A discrete network cannot change a neuron's mass, so gradient training at finite width reaches it only through the neurons' distribution; the slope is reported against 2, not claimed.")
        return a
    }
}

// MARK: - convex.depth

/// `convex.depth` (seed 002 sec. VII-A, fig. 2): L = 1...4 l_{1,2} networks on the 1-D task, each tuned to the same
/// train RMSE; the approximation variance V(w, u) (``ApproximationVariance``), the regularizer and the train RMSE
/// over training. Claims: the final V decreases with L, and the gap V(2) - V(3) exceeds V(3) - V(4) (the target has
/// compositional depth 3).
public struct ConvexDepthExperiment: Experiment {
    public typealias Config = ConvexExperimentConfig
    public init() {}
    public var id: String { "convex.depth" }
    public var source: String { "seed 002 sec. VII-A, fig. 2; V(w, u) of sec. VII (SEED-NOTES corrections)" }
    public var summary: String { "Approximation variance V, regularizer and train RMSE over training for L = 1...4 at the same train RMSE" }
    public var claimText: String { "At the same train RMSE, deeper networks have a smaller approximation variance V(w, u); the gap between L = 2 and L = 3 is large and that between L = 3 and L = 4 small (the target f = h(h(cos x)) has depth 3)." }
    public var estimates: (quick: String, full: String) { ("15 s", "weeks (4 depths x ~10 tuning runs at the seed's size)") }
    public var quickNote: String { ConvexExperimentConfig.quickDepthNote + "; L = 1...4, one network each" }
    public func configuration(_ p: Preset) -> Config { Config(p == .quick ? .quickDepth : .seed002, depths: [1, 2, 3, 4], repetitions: 1) }
    public func runs(_ c: Config) -> [RunKey] { c.depths.flatMap { L in (0..<c.repetitions).map { RunKey.convex(depth: L, seed: $0) } } }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let L = try ConvexExperimentSupport.depth(key)
        let t = try ConvexSupport.tune(depth: L, kind: .l12, task: c.task, seed: seed)
        var metrics = ConvexExperimentSupport.tuningMetrics(t)
        let vFinal = t.run.variance.last!
        metrics["V"] = vFinal.total
        metrics["V_readout"] = vFinal.readoutTerm
        for (i, v) in vFinal.layerTerms.enumerated() { metrics["V_layer\(i + 2)"] = v }
        return RunOutput(metrics: metrics, series: [
            "step": t.run.records.map { Double($0.step) }, "V": t.run.variance.map(\.total),
            "regularization": t.run.records.map(\.regularization), "rmse": t.run.records.map { (2 * $0.loss).squareRoot() }])
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.claims.append(ConvexExperimentSupport.reachedClaim(runs, c))
        var byDepth = [Int: [Double]]()
        for r in runs { byDepth[try ConvexExperimentSupport.depth(r.key), default: []].append(r.output.metrics["V"] ?? .nan) }
        let depths = byDepth.keys.sorted()
        let stats = depths.map { meanAndStandardError(byDepth[$0]!) }
        let means = stats.map(\.mean)
        let diffs = zip(means, means.dropFirst()).map { $0 - $1 }
        let list = zip(depths, stats).map { "V(\($0)) = \(sig($1.mean, 3))" + ($1.se > 0 ? " +- \(sig($1.se, 2))" : "") }.joined(separator: ", ")
        a.claims.append(Claim("The final approximation variance decreases with L (\(list))", measured: diffs.min() ?? .nan,
                              expected: "V(L) - V(L+1) > 0 for every consecutive pair", tolerance: c.repetitions > 1 ? "means over \(c.repetitions) networks (SE shown)" : "one network per depth (no spread available)",
                              passed: depths.count >= 2 && diffs.allSatisfy { $0 > 0 }))
        if let i2 = depths.firstIndex(of: 2), let i3 = depths.firstIndex(of: 3), let i4 = depths.firstIndex(of: 4) {
            let g23 = means[i2] - means[i3], g34 = means[i3] - means[i4]
            a.claims.append(Claim("The variance gap between L = 2 and 3 exceeds that between L = 3 and 4 (V(2) - V(3) = \(sig(g23, 3)), V(3) - V(4) = \(sig(g34, 3)))",
                                  measured: g23 - g34, expected: "> 0", tolerance: "sign only (the seed's qualitative statement)", passed: g23 > g34))
        }
        var rows = [[String]]()
        var vLayers = [PlotLayer](), rLayers = [PlotLayer](), eLayers = [PlotLayer]()
        for (k, r) in runs.sorted(by: { $0.key < $1.key }).enumerated() {
            let m = r.output.metrics
            let L = try ConvexExperimentSupport.depth(r.key)
            rows.append([r.key.description, sig(m["lambda"] ?? .nan, 3), sig(m["train_rmse"] ?? .nan, 3), sig(m["test_rmse"] ?? .nan, 3), sig(m["V"] ?? .nan, 4),
                         sig(m["V_readout"] ?? .nan, 4), (2...Swift.max(2, L)).compactMap { m["V_layer\($0)"].map { sig($0, 3) } }.joined(separator: " "),
                         sig(m["regularization"] ?? .nan, 4)])
            guard r.key.seed == 0, let s = r.output.series["step"] else { continue }
            let x = s.map { $0 + 1 }
            vLayers.append(.line(x: x, y: r.output.series["V"] ?? [], label: "L = \(L)", color: k, markers: false))
            rLayers.append(.line(x: x, y: r.output.series["regularization"] ?? [], label: "L = \(L)", color: k, markers: false))
            eLayers.append(.line(x: x, y: r.output.series["rmse"] ?? [], label: "L = \(L)", color: k, markers: false))
        }
        a.tables.append(DataTable("depth", header: ["run", "lambda", "train RMSE", "test RMSE", "V", "V readout", "V layers 2..L", "R(w, u)"], rows: rows))
        a.figures.append(NamedFigure("variance", "Approximation variance V(w, u) over training (fig. 2 a), l_{1,2} tuned per depth to train RMSE \(sig(c.targetRMSE, 2)).",
                                     Figure(title: "V(w, u)", x: Axis("step + 1", scale: .log), y: Axis("V", scale: .log), layers: vLayers)))
        a.figures.append(NamedFigure("regularizer", "The regularizer R(w, u) over training (fig. 2 b).",
                                     Figure(title: "R(w, u)", x: Axis("step + 1", scale: .log), y: Axis("R", scale: .log), layers: rLayers)))
        a.figures.append(NamedFigure("rmse", "Train RMSE over training (fig. 2 c).",
                                     Figure(title: "train RMSE", x: Axis("step + 1", scale: .log), y: Axis("RMSE", scale: .log), layers: eLayers)))
        a.notes.append(c.task.note + ". V's terms: the readout term (1/m^(L)) Var_j(u_j f_j) and one term per layer l = 2...L; the readout width m^(L) = \(c.base) is the same for every L.")
        return a
    }
}

// MARK: - convex.features

/// `convex.features` (seed 002 sec. VII-A, fig. 3): the 1-D features f_j^(l)(x) of 20 sampled neurons per layer for
/// L = 1...4 l_{1,2} networks tuned to the same train RMSE, and the spectral centroid of every neuron's feature
/// (``SpectralCentroid``, angular frequency of the mean-removed feature on a 512-point grid of [-2 pi, 2 pi]).
/// Claim: the mean centroid rises with the layer index (low frequencies first, higher ones above).
public struct ConvexFeaturesExperiment: Experiment {
    public typealias Config = ConvexExperimentConfig
    public init() {}
    public var id: String { "convex.features" }
    public var source: String { "seed 002 sec. VII-A, fig. 3" }
    public var summary: String { "1-D features of sampled neurons per layer for L = 1...4, and their mean spectral centroid per layer" }
    public var claimText: String { "Deep networks learn hierarchical features: the layer next to the input carries low-frequency signals and the upper layers compose them into higher-frequency ones (claim: the mean spectral centroid of the features rises with the layer index)." }
    public var estimates: (quick: String, full: String) { ("15 s", "weeks (4 depths x ~10 tuning runs at the seed's size)") }
    public var quickNote: String { ConvexExperimentConfig.quickDepthNote + "; L = 1...4, one network each; centroids over all neurons of a layer, figure of 20 sampled neurons" }
    public func configuration(_ p: Preset) -> Config { Config(p == .quick ? .quickDepth : .seed002, depths: [1, 2, 3, 4], repetitions: 1) }
    public func runs(_ c: Config) -> [RunKey] { c.depths.flatMap { L in (0..<c.repetitions).map { RunKey.convex(depth: L, seed: $0) } } }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let L = try ConvexExperimentSupport.depth(key)
        let t = try ConvexSupport.tune(depth: L, kind: .l12, task: c.task, seed: seed)
        var metrics = ConvexExperimentSupport.tuningMetrics(t), series = [String: [Double]]()
        let grid = try NeuronFeatures.uniformGrid(from: -2 * Double.pi, to: 2 * Double.pi, count: c.gridPoints)
        let nf = try NeuronFeatures(t.run.network, grid: grid)
        let sc = try SpectralCentroid(grid: grid), hann = try SpectralCentroid(grid: grid, taper: .hann)
        let picks = try nf.sample(c.featureSamples, seed: seed ^ 0xF3A7)
        series["grid"] = grid
        for l in 1...L {
            let v = nf.values[l - 1]
            var cs = [Double](), hs = [Double]()
            for j in 0..<v.cols { let y = v.column(j); cs.append(try sc(y)); hs.append(try hann(y)) }
            series["centroid_\(l)"] = cs
            metrics["centroid_\(l)"] = cs.reduce(0, +) / Double(cs.count)
            metrics["centroid_hann_\(l)"] = hs.reduce(0, +) / Double(hs.count)
            metrics["centroid_sampled_\(l)"] = picks[l - 1].reduce(0) { $0 + cs[$1] } / Double(picks[l - 1].count)
            series["features_\(l)"] = picks[l - 1].flatMap { v.column($0) }
        }
        return RunOutput(metrics: metrics, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.claims.append(ConvexExperimentSupport.reachedClaim(runs, c))
        var rows = [[String]]()
        for r in runs.sorted(by: { $0.key < $1.key }) {
            let L = try ConvexExperimentSupport.depth(r.key)
            var means = [Double](), ses = [Double]()
            for l in 1...L {
                let cs = r.output.series["centroid_\(l)"] ?? []
                let s = meanAndStandardError(cs)
                means.append(s.mean); ses.append(s.se)
                rows.append([r.key.description, String(l), String(cs.count), sig(s.mean, 4), sig(s.se, 2),
                             sig(r.output.metrics["centroid_sampled_\(l)"] ?? .nan, 4), sig(r.output.metrics["centroid_hann_\(l)"] ?? .nan, 4)])
            }
            if L >= 2 {
                let d = (1..<L).map { means[$0] - means[$0 - 1] }
                let z: [Double] = (1..<L).map { (i: Int) -> Double in
                    let v: Double = ses[i] * ses[i] + ses[i - 1] * ses[i - 1]
                    return d[i - 1] / v.squareRoot()
                }
                a.claims.append(Claim("L = \(L) (\(r.key)): the mean spectral centroid rises with the layer index (layers 1...\(L): \(means.map { sig($0, 3) }.joined(separator: ", ")) rad per unit x)",
                                      measured: d.min() ?? .nan, expected: "every consecutive difference > 0 (z = \(z.map { sig($0, 2) }.joined(separator: ", ")))",
                                      tolerance: "sign of the difference of means over all neurons of each layer; z uses the neuron-to-neuron SE", passed: d.allSatisfy { $0 > 0 }))
            }
            guard r.key.seed == 0, let grid = r.output.series["grid"] else { continue }
            var layers = [PlotLayer]()
            for l in 1...L {
                let flat = r.output.series["features_\(l)"] ?? [], n = grid.count
                for q in 0..<(flat.count / n) {
                    let y = flat[(q * n)..<((q + 1) * n)].map { $0 + 2.5 * Double(l - 1) }
                    layers.append(.line(x: grid, y: y, label: q == 0 ? "layer \(l)" : nil, color: l - 1, markers: false))
                }
            }
            a.figures.append(NamedFigure("features-L\(L)", "Features f_j^(l)(x) of up to \(c.featureSamples) sampled neurons per layer, L = \(L) (fig. 3); layer l is shifted up by 2.5 (l - 1).",
                                         Figure(title: "L = \(L): neuron features by layer", x: Axis("x"), y: Axis("f_j^(l)(x) + 2.5 (l - 1)"), layers: layers)))
        }
        a.tables.append(DataTable("centroids", header: ["run", "layer", "neurons", "mean centroid", "SE", "mean over sampled", "mean (Hann taper)"], rows: rows))
        a.notes.append(c.task.note + ". Spectral centroid: sum_k omega_k |F_k|^2 / sum_k |F_k|^2 of the mean-removed feature on \(c.gridPoints) points of [-2 pi, 2 pi] (direct DFT, rectangular window); the target cos 4x has centroid about 4. The Hann-tapered column suppresses the leakage of non-periodic (ramp- or step-like) features.")
        return a
    }
}

// MARK: - convex.sparsity

/// `convex.sparsity` (seed 002 sec. VII-A, fig. 4): the sparsity curves S(x) = fraction of weights with |w| <= x
/// (``SparsityCurve``) per layer of L = 4 networks trained with l_{1,2}, l_{2,1} (weight decay) and l_{1/2,4}, each
/// tuned to the same train RMSE. Claim: the l_{1,2} curve lies above the l_{2,1} curve in every hidden layer, at
/// every threshold of the grid within 3 binomial standard errors (the seed's "lower-bounded"); the area under the
/// curves in log x is reported as a summary.
public struct ConvexSparsityExperiment: Experiment {
    public typealias Config = ConvexExperimentConfig
    public init() {}
    public var id: String { "convex.sparsity" }
    public var source: String { "seed 002 sec. VII-A, fig. 4" }
    public var summary: String { "Weight-sparsity curves per layer for l_{1,2}, l_{2,1} and l_{1/2,4} at the same train RMSE" }
    public var claimText: String { "The proposed l_{1,2} regularizer gives sparser weights than l_{2,1} (weight decay) in every layer: its sparsity curve (fraction of weights with |w| <= x) lies above the l_{2,1} curve; l_{1/2,4} is not significantly sparser than l_{1,2}." }
    public var estimates: (quick: String, full: String) { ("15 s", "weeks (3 regularizers x ~10 tuning runs at the seed's size)") }
    public var quickNote: String { ConvexExperimentConfig.quickNote + "; L = 4, one network per regularizer" }
    public func configuration(_ p: Preset) -> Config {
        Config(p == .quick ? .quick : .seed002, depths: [4], regularizers: [.l12, .l21, .lHalf4], repetitions: 1)
    }
    public func runs(_ c: Config) -> [RunKey] { c.depths.flatMap { L in (0..<c.repetitions).map { RunKey.convex(depth: L, seed: $0) } } }

    /// Thresholds of layer l: a log grid from 1e-4 to 10 times the initial weight scale sqrt(m^(l-1)) (the readout
    /// L + 1: sqrt(m^(L))), the same for every regularizer.
    static func thresholds(_ network: DeepFeatureNetwork, layer l: Int, points: Int) throws -> [Double] {
        try SparsityCurve.initializationScaleGrid(network.layout, layer: l, from: 1e-4, to: 10, count: points)
    }

    /// One run trains every regularizer from the same data and initialization (the run's seed).
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let L = try ConvexExperimentSupport.depth(key)
        var metrics = [String: Double](), series = [String: [Double]]()
        for kind in try c.kinds() {
            let t = try ConvexSupport.tune(depth: L, kind: kind, task: c.task, seed: seed)
            for (k, v) in ConvexExperimentSupport.tuningMetrics(t) { metrics["\(kind.rawValue)_\(k)"] = v }
            let net = t.run.network
            for l in 1...(L + 1) {
                let w = Array(net.parameters[l <= L ? net.layout.weightRange(l) : net.layout.readoutRange])
                let curve = try SparsityCurve(layer: l, weights: w, thresholds: try Self.thresholds(net, layer: l, points: c.sparsityPoints))
                series["x_\(l)"] = curve.thresholds
                series["\(kind.rawValue)_S_\(l)"] = curve.fractions
                metrics["\(kind.rawValue)_count_\(l)"] = Double(curve.count)
                metrics["\(kind.rawValue)_zeros_\(l)"] = Double(w.filter { $0 == 0 }.count) / Double(w.count)
            }
        }
        return RunOutput(metrics: metrics, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        a.claims.append(ConvexExperimentSupport.reachedClaim(runs, c, prefixes: try c.kinds().map { $0.rawValue + "_" }))
        var rows = [[String]]()
        for L in c.depths {
            // Pool the repetitions of each regularizer (counts add; fractions are count-weighted).
            func pooled(_ kind: ConvexRegularizerKind, _ l: Int) throws -> SparsityCurve? {
                let rs = runs.filter { (try? ConvexExperimentSupport.depth($0.key)) == L }
                guard let first = rs.first, let x = first.output.series["x_\(l)"] else { return nil }
                var total = 0.0, sums = [Double](repeating: 0, count: x.count)
                for r in rs {
                    let n = r.output.metrics["\(kind.rawValue)_count_\(l)"] ?? 0, s = r.output.series["\(kind.rawValue)_S_\(l)"] ?? []
                    guard s.count == x.count else { continue }
                    total += n
                    for i in sums.indices { sums[i] += n * s[i] }
                }
                guard total > 0 else { return nil }
                var curve = try SparsityCurve(layer: l, weights: [0], thresholds: x)
                curve.fractions = sums.map { $0 / total }; curve.count = Int(total)
                return curve
            }
            var layers = [[PlotLayer]](repeating: [], count: L + 1)
            for l in 1...(L + 1) {
                var byKind = [ConvexRegularizerKind: SparsityCurve]()
                for (ci, k) in try c.kinds().enumerated() {
                    guard let curve = try pooled(k, l) else { continue }
                    byKind[k] = curve
                    layers[l - 1].append(.line(x: curve.thresholds, y: curve.fractions, label: k.label, color: ci, markers: false))
                    rows.append([String(L), l <= L ? String(l) : "readout", k.label, String(curve.count), sig(curve.meanFraction, 4), sig(curve.fractions.first ?? .nan, 3)])
                }
                if l <= L, let a12 = byKind[.l12], let a21 = byKind[.l21] {
                    let z = try a12.worstShortfall(below: a21)
                    a.claims.append(Claim("Layer \(l) of \(L): the l_{1,2} sparsity curve lies above the l_{2,1} curve at every threshold (areas in log x: \(sig(a12.meanFraction, 3)) vs \(sig(a21.meanFraction, 3)))",
                                          measured: z, expected: "max_x (S_21(x) - S_12(x)) / SE <= 3", tolerance: "binomial SE of the difference of two empirical fractions at each threshold",
                                          passed: z <= 3))
                }
                a.figures.append(NamedFigure("sparsity-L\(L)-layer\(l)", "Fraction of the weights of \(l <= L ? "layer \(l)" : "the readout") with |w| <= x (fig. 4), L = \(L), each regularizer tuned to train RMSE \(sig(c.targetRMSE, 2)).",
                    Figure(title: l <= L ? "Layer \(l)" : "Readout", x: Axis("x", scale: .log), y: Axis("fraction of |w| <= x", range: 0...1), layers: layers[l - 1])))
            }
        }
        a.tables.append(DataTable("sparsity", header: ["L", "layer", "regularizer", "weights", "area (mean S over log x)", "S at the smallest x"], rows: rows))
        a.notes.append(c.task.note + ". \"Above\" is tested pointwise on a log grid of \(c.sparsityPoints) thresholds from 1e-4 to 10 times the layer's initial weight scale sqrt(m^(l-1)), allowing 3 binomial SEs of shortfall; the readout is regularized by the same lambda ||u||^2 / m for every regularizer and is shown, not claimed.")
        return a
    }
}
