import Foundation
import Overparam

/// `theory.lazy-distance` (seed 004 Theorem 2.2.1, eq. 2.2.1): the parameters of a one-hidden-layer network in the
/// NTK parameterization and of its linearization, trained by the same full-batch GD, stay within
/// sup_t ||theta_t - theta_t^lin|| = O(N1^(-1/2)).
public struct LazyDistanceExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var steps: Int; public var rate: Double; public var seeds: Int }
    public init() {}
    public var id: String { "theory.lazy-distance" }
    public var source: String { "seed 004 Theorem 2.2.1 (eq. 2.2.1)" }
    public var summary: String { "Distance between the network's and its linearization's trajectories vs width" }
    public var claimText: String { "In the NTK parameterization, gradient descent on the network and on its linearization at initialization follow trajectories whose distance vanishes with width (here: like N1^(-1/2))." }
    public var estimates: (quick: String, full: String) { ("20 s", "5 min") }
    public var quickNote: String { "widths 64-2048, 300 GD steps, 3 seeds (full: to 8192, 5 seeds)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [64, 256, 1024, 2048], steps: 300, rate: 0.5, seeds: 3) : Config(widths: [64, 256, 1024, 4096, 8192], steps: 300, rate: 0.5, seeds: 5)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let (x, y) = try TrainingSupport.teacherRegression(n: 32, d: 16, seed: 1)
        let arch = Architecture(inputDimension: 16, hiddenWidths: [widthOf(key)], activation: .tanh, weightVariance: 1, hasBias: false, parameterization: .hanin)
        var opts = TrainingOptions()
        opts.steps = c.steps; opts.recordEvery = max(1, c.steps / 30); opts.trackLinearizedTwin = true; opts.seed = seed
        let trainer = try Trainer(network: try Network(arch, seed: seed), trainInputs: x, trainTargets: y, options: opts)
        var gd = GradientDescent(learningRate: c.rate)
        let rs = try trainer.train(&gd)
        return RunOutput(metrics: ["sup_distance": rs.compactMap { $0.twinParameterDistance }.max() ?? .nan, "final_loss": rs.last!.trainLoss,
                                   "sup_output_gap": rs.compactMap { $0.twinGap }.max() ?? .nan], series: TrainingSupport.series(rs))
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let (ws, gs) = byWidth(runs, "sup_distance")
        let (claim, fit) = exponentClaim("sup_t ||theta_t - theta_t^lin|| ~ N1^(-1/2)", widths: ws, groups: gs, expected: -0.5)
        a.claims.append(claim)
        if let fit { a.notes.append("Fitted exponent \(sig(fit.slope, 3)) +- \(sig(fit.slopeStandardError, 2)); the theorem states O(N^-alpha) without fixing alpha, -1/2 is the standard rate.") }
        let (_, og) = byWidth(runs, "sup_output_gap")
        a.figures.append(NamedFigure("lazy-distance", "Largest distance between the network's and its linearization's parameters along GD, and the largest relative output gap, vs width.",
            Figure(title: "Lazy training: network vs linearization", x: Axis("N1", scale: .log), y: Axis("sup over t", scale: .log),
                   layers: PlotLayer.meanWithErrorBars(ws, gs, label: "||theta_t - theta_t^lin||", color: 0) + [
                            .line(x: ws, y: og.map { meanAndStandardError($0).mean }, label: "relative output gap", color: 1)])))
        return a
    }
}

/// `theory.lr-scaling` (seed 004 eq. 2.1.11): with the readout scaled by 1/gamma and the learning rate eta ~ gamma^2,
/// training curves have a width-independent limit, both at gamma = 1 (NTK) and gamma = sqrt(N1) (mean field); with
/// a fixed eta the mean-field curves freeze as N1 grows.
public struct LearningRateScalingExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var steps: Int; public var rate: Double; public var seeds: Int }
    public init() {}
    public var id: String { "theory.lr-scaling" }
    public var source: String { "seed 004 eqs. 2.1.10-2.1.11 (and 2.3.6)" }
    public var summary: String { "Training curves vs width with eta ~ gamma^2" }
    public var claimText: String { "The NTK is order one exactly when eta = Theta(gamma^2): with that scaling the training curves do not depend on the width." }
    public var estimates: (quick: String, full: String) { ("20 s", "3 min") }
    public var quickNote: String { "widths 128, 512, 2048 (full: to 8192), 200 GD steps, 8 seeds (full: 16)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [128, 512, 2048], steps: 200, rate: 0.5, seeds: 8) : Config(widths: [128, 512, 2048, 8192], steps: 200, rate: 0.5, seeds: 16)
    }
    static let regimes = ["ntk", "mf", "mf-fixed-rate"]
    public func runs(_ c: Config) -> [RunKey] { Self.regimes.flatMap { widthRuns(c.widths, seeds: c.seeds, prefix: "\($0),") } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let regime = String(key.setting.split(separator: ",")[0])
        let n1 = widthOf(key)
        let (x, y) = try TrainingSupport.teacherRegression(n: 32, d: 16, seed: 1)
        let gamma = regime == "ntk" ? 1 : Double(n1).squareRoot()
        let arch = Architecture(inputDimension: 16, hiddenWidths: [n1], activation: .tanh, weightVariance: 1, hasBias: false, parameterization: .haninScaled(gamma: gamma))
        var opts = TrainingOptions()
        opts.steps = c.steps; opts.recordEvery = max(1, c.steps / 40); opts.seed = seed
        let trainer = try Trainer(network: try Network(arch, seed: seed), trainInputs: x, trainTargets: y, options: opts)
        var gd = GradientDescent(learningRate: regime == "mf-fixed-rate" ? c.rate : c.rate * gamma * gamma)
        let rs = try trainer.train(&gd)
        return RunOutput(metrics: ["final_loss": rs.last!.trainLoss], series: TrainingSupport.series(rs))
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var layers = [PlotLayer]()
        for (ri, regime) in Self.regimes.enumerated() {
            let rs = runs.filter { $0.key.setting.hasPrefix(regime + ",") }
            let widths = Array(Set(rs.map { widthOf($0.key) })).sorted()
            var curves = [Int: [Double]]()
            for (wi, w) in widths.enumerated() {
                let g = rs.filter { widthOf($0.key) == w }
                let curve = TrainingSupport.meanSeries(g, "train_loss").mean
                curves[w] = curve
                layers.append(.line(x: TrainingSupport.meanSeries(g, "step").mean, y: curve, label: "\(regime), N1 = \(w)", color: ri, dashed: wi % 2 == 1, markers: false))
            }
            guard let wide = widths.last, widths.count >= 2 else { continue }
            // Null hypothesis "the curve does not depend on N1": compare each width's seed-mean loss with the widest at
            // t = T/4, T/2 and T; z = difference / SE of the difference (seed-to-seed spread; the initial function is
            // random even at infinite width, so curves are compared in distribution).
            var worstZ = 0.0
            let wideRuns = rs.filter { widthOf($0.key) == wide }
            for w in widths.dropLast() {
                let g = rs.filter { widthOf($0.key) == w }
                for frac in [0.25, 0.5, 1.0] {
                    func at(_ runs: [RunRecord]) -> [Double] { runs.compactMap { r in r.output.series["train_loss"].map { $0[Int(Double($0.count - 1) * frac)] } } }
                    let s1 = meanAndStandardError(at(g)), s2 = meanAndStandardError(at(wideRuns))
                    let se = (s1.se * s1.se + s2.se * s2.se).squareRoot()
                    worstZ = max(worstZ, se > 0 ? abs(s1.mean - s2.mean) / se : 0)
                }
            }
            let label = regime == "ntk" ? "NTK (gamma = 1), eta ~ gamma^2" : (regime == "mf" ? "mean field (gamma = sqrt(N1)), eta ~ gamma^2" : "mean field with a fixed eta")
            if regime != "mf-fixed-rate" {
                a.claims.append(Claim("\(label): loss curves do not depend on N1 (widths \(widths) agree with N1 = \(wide) at t = T/4, T/2, T)", measured: worstZ,
                                      expected: "largest |z| <= 3", tolerance: "z = difference of seed means / SE of the difference (\(wideRuns.count) seeds)", passed: worstZ <= 3))
            } else {
                a.notes.append("\(label): largest |z| between widths = \(sig(worstZ, 3)) (the same test without eta ~ gamma^2; a large z shows the test can detect width dependence).")
            }
        }
        a.figures.append(NamedFigure("curves", "Training loss vs GD step, per regime and width (mean over seeds).",
                                     Figure(title: "Learning-rate scaling eta ~ gamma^2", x: Axis("GD step"), y: Axis("train loss", scale: .log), layers: layers)))
        return a
    }
}

/// `theory.linear-rate` (seed 004 Lemma 2.2.2): in the kernel regime the training loss decays at least at the rate
/// set by lambda_min of the NTK. For full-batch GD on (1/2n) ||f - y||^2, df = -(eta/n) Theta (f - y) to first order,
/// so L_k <= L_0 (1 - eta lambda_min / n)^(2k) for the linearization; a wide network keeps lambda_min(Theta_t) >=
/// lambda_min(Theta_0) / 2, giving the checked bound L_k <= L_0 (1 - eta lambda_min / (2 n))^(2k).
public struct LinearRateExperiment: Experiment {
    public struct Config: Codable, Sendable { public var width: Int; public var points: Int; public var steps: Int; public var seeds: Int }
    public init() {}
    public var id: String { "theory.linear-rate" }
    public var source: String { "seed 004 Lemma 2.2.2" }
    public var summary: String { "Training loss decays at least at the rate set by lambda_min of the NTK" }
    public var claimText: String { "If the NTK's smallest eigenvalue stays bounded below, the training loss converges to zero exponentially fast, at a rate set by lambda_min." }
    public var estimates: (quick: String, full: String) { ("10 s", "1 min") }
    public var quickNote: String { "width 2048, 16 points, 2000 GD steps, 3 seeds (full: width 8192, 5 seeds)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(width: 2048, points: 16, steps: 2000, seeds: 3) : Config(width: 8192, points: 16, steps: 2000, seeds: 5)
    }
    public func runs(_ c: Config) -> [RunKey] { (0..<c.seeds).map { RunKey("width=\(c.width)", seed: $0) } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let (x, y) = try TrainingSupport.teacherRegression(n: c.points, d: 8, seed: seed)
        let arch = Architecture(inputDimension: 8, hiddenWidths: [c.width], activation: .tanh, weightVariance: 1, hasBias: false, parameterization: .hanin)
        let net = try Network(arch, seed: seed)
        let eig = try SymmetricEigendecomposition(try EmpiricalNTK.compute(net, x).ntk)
        let n = Double(c.points)
        let eta = n / eig.values.last!            // eta lambda_max / n = 1: stable
        var opts = TrainingOptions()
        opts.steps = c.steps; opts.recordEvery = max(1, c.steps / 50); opts.seed = seed
        let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: opts)
        var gd = GradientDescent(learningRate: eta)
        let rs = try trainer.train(&gd)
        let lmin = eig.values.first!
        let l0 = rs[0].trainLoss
        // Worst ratio of the loss to the guaranteed bound over the recorded steps, and the measured rate.
        let factor: Double = 1 - eta * lmin / (2 * n)
        let ratios: [Double] = rs.dropFirst().map { r in r.trainLoss / (l0 * Foundation.pow(factor, 2 * Double(r.step))) }
        let ratio = ratios.max() ?? 0
        let mid = rs[rs.count / 2]
        let measuredRate = -Foundation.log(mid.trainLoss / l0) / (2 * Double(mid.step))
        return RunOutput(metrics: ["bound_ratio": ratio, "measured_rate": measuredRate, "predicted_rate": -Foundation.log1p(-eta * lmin / n),
                                   "lambda_min": lmin, "eta": eta], series: TrainingSupport.series(rs))
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let worst = runs.compactMap { $0.output.metrics["bound_ratio"] }.max() ?? .infinity
        a.claims.append(Claim("L_k <= L_0 (1 - eta lambda_min / (2n))^(2k) at every recorded step", measured: worst, expected: "<= 1",
                              tolerance: "the lemma's bound with lambda_min(Theta_t) >= lambda_min(Theta_0)/2 (exact inequality; no statistical slack)", passed: worst <= 1))
        for r in runs {
            let m = r.output.metrics
            a.notes.append("seed \(r.key.seed): measured rate \(sig(m["measured_rate"] ?? .nan, 3)) per step vs the kernel rate -log(1 - eta lambda_min / n) = \(sig(m["predicted_rate"] ?? .nan, 3)) (ratio \(sig((m["measured_rate"] ?? 0) / (m["predicted_rate"] ?? 1), 3))).")
        }
        var layers = [PlotLayer]()
        for (i, r) in runs.enumerated() {
            let steps = r.output.series["step"] ?? [], loss = r.output.series["train_loss"] ?? []
            let m = r.output.metrics
            let l0 = loss.first ?? 1
            layers.append(.line(x: steps, y: loss, label: "seed \(r.key.seed)", color: i, markers: false))
            let factor: Double = 1 - (m["eta"] ?? 0) * (m["lambda_min"] ?? 0) / (2 * Double(c.points))
            let bound: [Double] = steps.map { k in l0 * Foundation.pow(factor, 2 * k) }
            layers.append(.line(x: steps, y: bound, label: nil, color: i, dashed: true, markers: false))
        }
        a.figures.append(NamedFigure("loss", "Training loss (solid) and the guaranteed bound L_0 (1 - eta lambda_min/(2n))^(2k) (dashed).",
                                     Figure(title: "Linear convergence (N1 = \(c.width))", x: Axis("GD step"), y: Axis("train loss", scale: .log), layers: layers)))
        return a
    }
}
