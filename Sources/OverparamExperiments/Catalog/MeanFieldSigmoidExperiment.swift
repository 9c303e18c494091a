import Foundation
import Overparam

/// `meanfield.sigmoid-teacher` (seed 000 sec. V, fig. 6, eqs. 15-23; SEED-NOTES sec. 3): the 4-neuron sigmoid teacher
/// F4(x) = (1/4) sum_i sigmoid(theta_i . x), x ~ N(0, 100^2 I_2), labels with N(0, 0.1^2) noise, learned by mean-field
/// students f = (1/m) sum_j u_j sigmoid(theta_j . x) (u, theta ~ N(0, 1), no bias) with SGD on fresh batches.
///
/// Settings of the authors' code: PyTorch `MSELoss` (no 1/2) with learning rate 10 on the raw parameters, i.e. a
/// particle step gamma = 2 * 10 / m in this library's convention (w <- w - gamma grad J, R = (1/2) E (f - y)^2); the
/// particle panels (m = 400) add the L2 term 1e-2 ||u||^2 / m (a confining penalty lambda_u = 1e-2 on u only). The
/// noisy panel adds Langevin noise sqrt(2 tau gamma) to every coordinate (seed 000 eq. 23's entropy regularization);
/// the seed states no temperature, this experiment uses tau = 1e-3 (stated in the report).
public struct SigmoidTeacherExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]; public var repetitions: Int; public var steps: Int; public var batchSize: Int; public var learningRate: Double
        public var panelWidth: Int; public var panelRepetitions: Int; public var uPenalty: Double; public var temperature: Double
        public var testSamples: Int; public var lossPoints: Int
    }
    public init() {}
    public var id: String { "meanfield.sigmoid-teacher" }
    public var source: String { "seed 000 sec. V, fig. 6 (eqs. 15-23); SEED-NOTES sec. 3 (fig. 6 settings, the authors' code)" }
    public var summary: String { "Sigmoid teacher F4: loss vs width, learned particle distributions, wasted neurons with and without noisy SGD" }
    public var claimText: String { "A wider student reaches a lower loss (m = 4 gets stuck, m = 40 learns F4); the learned particles differ from their initialization (out of the NTK regime); many particles end with a tiny u ('wasted'); noisy gradient descent (entropy regularization) reduces the wasted neurons." }
    public var estimates: (quick: String, full: String) { ("60 s", "2 h") }
    public var quickNote: String { "2500 SGD steps of 500 fresh samples (full: the seed's 10^4 steps of 10^4 samples), 4 repetitions per width (full: 10); particle panels at m = 200 with 3 repetitions (full: the seed's m = 400, 5 repetitions); test loss on 2000 fresh noiseless samples (full: 10^4)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [4, 8, 40], repetitions: 4, steps: 2500, batchSize: 500, learningRate: 10, panelWidth: 200, panelRepetitions: 3,
                             uPenalty: 1e-2, temperature: 1e-3, testSamples: 2000, lossPoints: 30)
                    : Config(widths: [4, 8, 40], repetitions: 10, steps: 10_000, batchSize: 10_000, learningRate: 10, panelWidth: 400, panelRepetitions: 5,
                             uPenalty: 1e-2, temperature: 1e-3, testSamples: 10_000, lossPoints: 100)
    }
    public func runs(_ c: Config) -> [RunKey] {
        c.widths.flatMap { m in (0..<c.repetitions).map { RunKey(MeanFieldSupport.widthKey(m), seed: $0) } }
            + ["plain", "noisy"].flatMap { p in (0..<c.panelRepetitions).map { RunKey("panel=\(p)", seed: $0) } }
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let teacher = GaussianTeacher.sigmoidF4
        let panel = InitSupport.value(key, "panel")
        let m = panel == nil ? InitSupport.int(key, "m") : c.panelWidth
        let noisy = panel == "noisy"
        // Test set: shared by all runs (fixed stream), noiseless targets as the authors' L0(o, Fout).
        var test = try teacher.sample(c.testSamples, seed: 0x000F_6000)
        test.targets = try teacher.target(test.inputs)
        // Same initialization for the plain and noisy panels of one repetition: the seed of the "plain" key.
        let initSeed = panel == nil ? seed : UInt64(truncatingIfNeeded: 0x5F6_0000 &+ key.seed)
        let net = try MeanFieldNetwork.random(width: m, inputDimension: 2, activation: .sigmoid, theta2: .gaussian(std: 1), theta1: .gaussian(std: 1), seed: initSeed)
        let gamma = 2 * c.learningRate / Double(m)
        let penalty = panel == nil ? ConfiningPenalty.none : try ConfiningPenalty(theta2: c.uPenalty, theta1: 0)
        var sgd = try NoisyParticleDynamics.sgd(network: net, temperature: noisy ? c.temperature : 0, stepSize: gamma, batchSize: c.batchSize,
                                                penalty: penalty, requireConfinement: false, seed: seed &+ 17)
        var steps = [Double](), losses = [Double]()
        let every = Swift.max(1, c.steps / c.lossPoints)
        func mse(_ w: MeanFieldNetwork) throws -> Double {
            let f = try w(test.inputs)
            var s = 0.0
            for i in 0..<f.count { s += (f[i] - test.targets[i]) * (f[i] - test.targets[i]) }
            return s / Double(f.count)
        }
        try sgd.train(teacher, steps: c.steps, observeEvery: every) { w, k in
            steps.append(Double(k)); losses.append(try mse(w))
        }
        let final = sgd.network
        let census = try MeanFieldDiagnostics.census(final)
        var metrics: [String: Double] = ["final_loss": losses.last ?? .nan, "width": Double(m), "gamma": gamma,
                                         "wasted_fraction": census.wastedFraction, "effective_fraction": census.effectiveFraction]
        var series: [String: [Double]] = ["step": steps, "loss": losses]
        if panel != nil {
            let c0 = try MeanFieldDiagnostics.census(net)
            metrics["initial_wasted_fraction"] = c0.wastedFraction
            series["theta_init"] = net.theta1.storage
            series["u_init"] = net.theta2
            series["theta_final"] = final.theta1.storage
            series["u_final"] = final.theta2
            // Mean distance of theta from its initialization (the NTK regime would keep it O(1/sqrt(m))).
            var dist = 0.0
            for j in 0..<m {
                let dx = final.theta1[j, 0] - net.theta1[j, 0], dy = final.theta1[j, 1] - net.theta1[j, 1]
                dist += (dx * dx + dy * dy).squareRoot()
            }
            metrics["theta_distance"] = dist / Double(m)
        }
        return RunOutput(metrics: metrics, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let curves = runs.filter { InitSupport.value($0.key, "m") != nil }
        let byWidth = Dictionary(grouping: curves) { InitSupport.int($0.key, "m") }
        let widths = byWidth.keys.sorted()
        // Losses span decades: compare log10 of the final loss.
        let logLoss = widths.map { m in (byWidth[m] ?? []).compactMap { $0.output.metrics["final_loss"] }.map { Foundation.log10($0) } }
        a.claims.append(TrainingSupport.decreasingClaim("Larger m reaches a lower final test loss (log10 MSE decreases from m = \(widths.map(String.init).joined(separator: " to m = ")))",
                                                        labels: widths.map { "m=\($0)" }, values: logLoss))
        let plain = runs.filter { $0.key.setting == "panel=plain" }, noisy = runs.filter { $0.key.setting == "panel=noisy" }
        let wp = plain.compactMap { $0.output.metrics["wasted_fraction"] }, wn = noisy.compactMap { $0.output.metrics["wasted_fraction"] }
        a.claims.append(MeanFieldSupport.greaterClaim("Noisy SGD (entropy regularization) leaves fewer wasted neurons (|u| < 0.1) than plain SGD at m = \(c.panelWidth)",
                                                      a: wp, b: wn, what: "wasted fraction plain vs noisy"))
        // Table and loss figure.
        var rows = [[String]](), layers = [PlotLayer]()
        for (i, m) in widths.enumerated() {
            let f = (byWidth[m] ?? []).compactMap { $0.output.metrics["final_loss"] }
            let s = meanAndStandardError(f.map { Foundation.log10($0) })
            rows.append(["m=\(m)", String(f.count), sig(Foundation.pow(10, s.mean), 3), sig(s.se, 2), sig(f.min() ?? .nan, 3), sig(f.max() ?? .nan, 3), "", ""])
            let rs = byWidth[m] ?? []
            let mean = TrainingSupport.meanSeries(rs, "loss")
            if let st = rs.first?.output.series["step"], !mean.mean.isEmpty {
                layers.append(.line(x: Array(st.prefix(mean.mean.count)), y: mean.mean, label: "m = \(m) (mean of \(rs.count))", color: i, markers: false))
            }
        }
        for (name, rs) in [("plain", plain), ("noisy", noisy)] {
            let f = rs.compactMap { $0.output.metrics["final_loss"] }
            let w = meanAndStandardError(rs.compactMap { $0.output.metrics["wasted_fraction"] })
            let e = meanAndStandardError(rs.compactMap { $0.output.metrics["effective_fraction"] })
            rows.append(["m=\(c.panelWidth) \(name)", String(f.count), sig(meanAndStandardError(f).mean, 3), "", sig(f.min() ?? .nan, 3), sig(f.max() ?? .nan, 3),
                         "\(sig(w.mean, 3)) +- \(sig(w.se, 2))", "\(sig(e.mean, 3)) +- \(sig(e.se, 2))"])
        }
        a.tables.append(DataTable("final-loss", header: ["setting", "runs", "loss (geometric mean)", "SE of log10", "min", "max", "wasted |u|<0.1", "effective |u|>1"], rows: rows))
        a.figures.append(NamedFigure("loss", "Test MSE (noiseless F4, the authors' L0) along SGD, mean over repetitions per width (seed 000 fig. 6a).",
            Figure(title: "Sigmoid teacher F4: loss vs steps", x: Axis("SGD step"), y: Axis("test MSE", scale: .log), layers: layers)))
        // Particle panels (fig. 6b-f) from repetition 0.
        let targets = Matrix(rows: 4, cols: 2, storage: [2, 0, 1, 2, 2, 1, 0, 2])
        func targetLayers() -> [PlotLayer] {
            var l: [PlotLayer] = [.scatter(x: (0..<4).map { targets[$0, 0] }, y: (0..<4).map { targets[$0, 1] }, values: nil, label: "teacher theta_i", color: 3, radius: 5)]
            for k in 0..<4 {
                let r = (targets[k, 0] * targets[k, 0] + targets[k, 1] * targets[k, 1]).squareRoot()
                l.append(.line(x: [0, 3 * targets[k, 0] / r], y: [0, 3 * targets[k, 1] / r], label: nil, color: 3, dashed: true, markers: false))
            }
            return l
        }
        func panel(_ name: String, _ caption: String, theta: [Double], u: [Double], filter: (Double) -> Bool) -> NamedFigure {
            let idx = u.indices.filter { filter(u[$0]) }
            var f = Figure(title: caption, x: Axis("theta_1", range: -3...3), y: Axis("theta_2", range: -3...3),
                           layers: [.scatter(x: idx.map { theta[2 * $0] }, y: idx.map { theta[2 * $0 + 1] }, values: idx.map { Foundation.log10(Swift.max(1e-4, Swift.abs(u[$0]))) }, label: "particles", radius: 2.5)]
                           + targetLayers())
            f.colorLabel = "log10 |u|"; f.width = 560; f.height = 500
            return NamedFigure(name, "\(caption) (\(idx.count) particles, colored by log10 |u|; red: the teacher's theta_i and their rays).", f)
        }
        if let p = plain.min(by: { $0.key < $1.key }), let ti = p.output.series["theta_init"], let ui = p.output.series["u_init"],
           let tf = p.output.series["theta_final"], let uf = p.output.series["u_final"] {
            a.figures.append(panel("particles-init", "Initial particles theta (m = \(c.panelWidth))", theta: ti, u: ui) { _ in true })
            a.figures.append(panel("particles-final", "Final particles theta, plain SGD", theta: tf, u: uf) { _ in true })
            a.figures.append(panel("particles-effective", "Effective particles (|u| > 1), plain SGD", theta: tf, u: uf) { Swift.abs($0) > 1 })
            let bins = Figure.histogram(uf.map { Foundation.log10(Swift.max(1e-6, Swift.abs($0))) }, bins: 30, range: -6...1.5)
            var hl: [PlotLayer] = [.bars(edges: bins.edges, heights: bins.heights, label: "plain SGD", color: 0)]
            if let n = noisy.min(by: { $0.key < $1.key }), let un = n.output.series["u_final"] {
                let bn = Figure.histogram(un.map { Foundation.log10(Swift.max(1e-6, Swift.abs($0))) }, bins: 30, range: -6...1.5)
                hl.append(.line(x: zip(bn.edges, bn.edges.dropFirst()).map { ($0 + $1) / 2 }, y: bn.heights, label: "noisy SGD", color: 1, markers: true))
            }
            a.figures.append(NamedFigure("wasted-neurons", "Distribution of log10 |u| at the end (seed 000 fig. 6d): particles left of -1 are 'wasted'.",
                Figure(title: "Output weights after training (m = \(c.panelWidth))", x: Axis("log10 |u|"), y: Axis("particles"), layers: hl)))
        }
        if let n = noisy.min(by: { $0.key < $1.key }), let tf = n.output.series["theta_final"], let uf = n.output.series["u_final"] {
            a.figures.append(panel("particles-noisy", "Final particles theta, noisy SGD (tau = \(sig(c.temperature, 2)))", theta: tf, u: uf) { _ in true })
        }
        let dist = plain.compactMap { $0.output.metrics["theta_distance"] }
        a.notes.append("Step size: the authors' PyTorch SGD with lr = \(sig(c.learningRate, 3)) on MSELoss (no 1/2) is the particle step gamma = 2 lr / m here (gamma = \(sig(2 * c.learningRate / Double(c.panelWidth), 3)) at m = \(c.panelWidth)); the loss curves use no penalty (as the authors'), the panels add 1e-2 ||u||^2 / m.")
        a.notes.append("Noisy panel: Langevin noise sqrt(2 tau gamma) on every coordinate with tau = \(sig(c.temperature, 2)) (the seed gives no value), confinement on u only as in the authors' panel; the same initialization as the plain panel of the same repetition.")
        if !dist.isEmpty { a.notes.append("Mean distance ||theta_j - theta_j(0)|| after plain SGD at m = \(c.panelWidth): \(sig(meanAndStandardError(dist).mean, 3)) (initial |theta| ~ 1.25): far from the NTK regime.") }
        return a
    }
}
