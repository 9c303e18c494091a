import Foundation
import Overparam

/// Shared pieces of the neural tangent hierarchy experiments (seed 001): its network (x^(l) = sigma(W x^(l-1)) / sqrt(m),
/// f = a^T x^(H), no biases, s_w = s_a = 1, tanh), inputs on the unit sphere, and a smooth target.
enum NTHSupport {
    static func network(width: Int, depth: Int = 2, dimension d: Int, seed: UInt64) throws -> Network {
        try Network(Architecture(inputDimension: d, hiddenWidths: [Int](repeating: width, count: depth), activation: .tanh, weightVariance: 1,
                                 readoutWeightVariance: 1, hasBias: false, parameterization: .huangYau), seed: seed)
    }

    /// n training points (then `test` more) on the unit sphere in R^d and targets y = sin(3 u.x) + (v.x)^2 - 1/d, fixed
    /// across widths and seeds (data seed 1).
    static func data(n: Int, test: Int = 0, d: Int) -> (x: Matrix, train: Matrix, y: [Double], yTest: [Double]) {
        let x = SyntheticData.sphereInputs(n + test, dimension: d, seed: 1)
        var rng = Xoshiro256StarStar(seed: 2)
        var u = (0..<d).map { _ in rng.normal() }, v = (0..<d).map { _ in rng.normal() }
        let nu = u.reduce(0) { $0 + $1 * $1 }.squareRoot(), nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        u = u.map { $0 / nu }; v = v.map { $0 / nv }
        let target = (0..<(n + test)).map { i -> Double in
            let a = (0..<d).reduce(0.0) { $0 + u[$1] * x[i, $1] }, b = (0..<d).reduce(0.0) { $0 + v[$1] * x[i, $1] }
            return Foundation.sin(3 * a) + b * b - 1 / Double(d)
        }
        return (x, x.rows(at: Array(0..<n)), Array(target[0..<n]), Array(target[n...]))
    }

    static let tight = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-13)

    static func supNorm(_ v: [Double]) -> Double { v.reduce(0) { max($0, abs($1)) } }
    static func rms(_ v: [Double]) -> Double { v.isEmpty ? .nan : (v.reduce(0) { $0 + $1 * $1 } / Double(v.count)).squareRoot() }

    /// The train x train block of an N x N kernel.
    static func trainBlock(_ k: Matrix, _ n: Int) -> [Double] { (0..<n).flatMap { i in (0..<n).map { k[i, $0] } } }

    /// "slope < bound by 3 SE" (distinguishable from a slower rate).
    static func steeperClaim(_ statement: String, fit: LinearFit?, than bound: Double) -> Claim {
        guard let fit else { return Claim(statement, measured: .nan, expected: "< \(bound)", tolerance: "needs >= 2 widths", passed: false) }
        return Claim(statement, measured: fit.slope, expected: "< \(bound) by 3 SE",
                     tolerance: "3 SE of the seed-weighted slope (SE \(sig(fit.slopeStandardError, 2)))", passed: fit.slope + 3 * fit.slopeStandardError < bound)
    }

    /// Paired comparison over seeds: mean of log(a / b) > 0 by 3 SE.
    static func smallerClaim(_ statement: String, larger a: [Double], smaller b: [Double]) -> Claim {
        let logs = zip(a, b).map { Foundation.log($0 / $1) }
        let s = meanAndStandardError(logs)
        return Claim(statement, measured: s.mean, expected: "mean log ratio > 0 by 3 SE", tolerance: "paired over \(logs.count) seeds (SE \(sig(s.se, 2)))",
                     passed: s.mean > 3 * s.se && s.mean > 0)
    }
}

/// `nth.kernel-drift` (seed 001 Corollary 2.4): along the gradient flow the NTK moves by O(t/m): sup |K_t - K_0| and
/// sup |dK_t/dt| = sup |(1/n) K_t^(3)[f - y]| at a fixed time, vs width.
public struct KernelDriftExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]; public var seeds: Int; public var points: Int; public var dimension: Int; public var depth: Int; public var time: Double
    }
    public init() {}
    public var id: String { "nth.kernel-drift" }
    public var source: String { "seed 001 Corollary 2.4 (eqs. 10-12)" }
    public var summary: String { "The NTK drift sup|K_t - K_0| and its speed vs width" }
    public var claimText: String { "For smooth activations the NTK of a finite network varies at a rate O(1/m) along gradient flow (not the O(1/sqrt(m)) of earlier bounds)." }
    public var estimates: (quick: String, full: String) { ("15 s", "5 min") }
    public var quickNote: String { "widths 64-1024 (full: to 4096), 4 seeds (full: 8), n = 8 points on the sphere in d = 8, depth 2, tanh, t = 1" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [64, 128, 256, 512, 1024], seeds: 4, points: 8, dimension: 8, depth: 2, time: 1)
                    : Config(widths: [64, 128, 256, 512, 1024, 2048, 4096], seeds: 8, points: 8, dimension: 8, depth: 2, time: 1)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = NTHSupport.data(n: c.points, d: c.dimension)
        let net = try NTHSupport.network(width: widthOf(key), depth: c.depth, dimension: c.dimension, seed: seed)
        let k0 = try NeuralTangentHierarchy(net).kernels(d.train, order: 2).k2
        var drift = Double.nan, speed = Double.nan
        try NetworkGradientFlow(network: net, trainInputs: d.train, targets: d.y).run(times: [c.time], integrator: NTHSupport.tight) { netT, _ in
            let k = try NeuralTangentHierarchy(netT).kernels(d.train, order: 3)
            drift = NTHSupport.supNorm((k.k2 - k0).storage)
            let f = try netT(d.train).storage
            let n = c.points
            var dk = [Double]()
            for a1 in 0..<n { for a2 in 0..<n { dk.append((0..<n).reduce(0.0) { $0 + k.k3(a1, a2, $1) * (f[$1] - d.y[$1]) } / Double(n)) } }
            speed = NTHSupport.supNorm(dk)
        }
        return RunOutput(metrics: ["drift": drift, "speed": speed, "k0_sup": NTHSupport.supNorm(k0.storage)])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var layers = [PlotLayer]()
        for (i, (metric, label)) in [("drift", "sup |K_t - K_0|"), ("speed", "sup |dK_t/dt|")].enumerated() {
            let (ws, gs) = byWidth(runs, metric)
            let (claim, fit) = exponentClaim("\(label) at t = \(sig(c.time)) ~ m^-1", widths: ws, groups: gs, expected: -1)
            a.claims.append(claim)
            a.claims.append(NTHSupport.steeperClaim("\(label): the exponent is distinguishable from the older bound -1/2", fit: fit, than: -0.5))
            layers += PlotLayer.meanWithErrorBars(ws, gs, label: label, color: i)
        }
        a.figures.append(NamedFigure("drift", "NTK drift and speed at t = \(sig(c.time)) vs width (mean +- SE over seeds).",
                                     Figure(title: "NTK drift along gradient flow", x: Axis("width m", scale: .log), y: Axis("sup norm", scale: .log), layers: layers)))
        return a
    }
}

/// `nth.initial-scaling` (seed 001 eq. 11): at initialization K^(3) shrinks like 1/m (its m^(-1/2) leading term vanishes:
/// odd orders are zero at leading order), K^(4) like 1/m with m K^(4) converging, and K^(2) approaches its
/// infinite-width limit like m^(-1/2).
public struct InitialScalingExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var seeds: Int; public var points: Int; public var dimension: Int; public var depth: Int }
    public init() {}
    public var id: String { "nth.initial-scaling" }
    public var source: String { "seed 001 Theorem 2.3, eq. 11; SEED-NOTES (the infinite-width K^(2) in seed 001's convention)" }
    public var summary: String { "Sizes of K_0^(2), K_0^(3), K_0^(4) vs width" }
    public var claimText: String { "||K_0^(r) - 𝔎^(r) / m^(r/2-1)||_inf = O(m^(-(r-1)/2)) with 𝔎^(r) = 0 for odd r: K^(3) ~ 1/m, K^(4) ~ 𝔎^(4)/m, and K^(2) - K_inf ~ m^(-1/2)." }
    public var estimates: (quick: String, full: String) { ("10 s", "3 min") }
    public var quickNote: String { "widths 64-1024 (full: to 4096), 8 seeds (full: 16), n = 6 points on the sphere in d = 8, depth 2, tanh" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [64, 128, 256, 512, 1024], seeds: 8, points: 6, dimension: 8, depth: 2)
                    : Config(widths: [64, 128, 256, 512, 1024, 2048, 4096], seeds: 16, points: 6, dimension: 8, depth: 2)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let m = widthOf(key)
        let d = NTHSupport.data(n: c.points, d: c.dimension)
        let net = try NTHSupport.network(width: m, depth: c.depth, dimension: c.dimension, seed: seed)
        let k = try NeuralTangentHierarchy(net).kernels(d.train, order: 4)
        let limit = try InfiniteWidthKernel(net.architecture)(d.train).ntk
        let mk4 = k.k4!.map { $0 * Double(m) }
        return RunOutput(metrics: ["k2_error": NTHSupport.supNorm((k.k2 - limit).storage), "k3_rms": NTHSupport.rms(k.k3!), "k3_sup": NTHSupport.supNorm(k.k3!),
                                   "k4_rms": NTHSupport.rms(k.k4!), "k4_sup": NTHSupport.supNorm(k.k4!), "k2_sup": NTHSupport.supNorm(k.k2.storage)],
                         series: ["m_k4": mk4])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var layers = [PlotLayer]()
        for (i, (metric, label, expected)) in [("k3_rms", "rms K_0^(3)", -1.0), ("k2_error", "sup |K_0^(2) - K_inf|", -0.5)].enumerated() {
            let (ws, gs) = byWidth(runs, metric)
            a.claims.append(exponentClaim("\(label) ~ m^\(expected)", widths: ws, groups: gs, expected: expected).0)
            layers += PlotLayer.meanWithErrorBars(ws, gs, label: label, color: i)
        }
        // K^(4) = 𝔎^(4)/m + O(m^(-3/2)): the bound (eq. 12) says it decays at least like 1/m; the exact exponent of a
        // single draw's size sits between -1 and -3/2 until the fluctuation term is small against 𝔎^(4)/m.
        let (ws4, gs4) = byWidth(runs, "k4_sup")
        let st4 = gs4.map { meanAndStandardError($0) }
        let fit4 = LinearFit.powerLaw(x: ws4, y: st4.map { $0.mean }, standardErrors: st4.map { max($0.se, 1e-12 * abs($0.mean)) })
        a.claims.append(Claim("sup |K_0^(4)| decays at least like 1/m (eq. 12)", measured: fit4?.slope ?? .nan, expected: "<= -1 within 3 SE",
                              tolerance: "3 SE of the seed-weighted slope (SE \(sig(fit4?.slopeStandardError ?? .nan, 2)))",
                              passed: fit4.map { $0.slope - 3 * $0.slopeStandardError <= -1 } ?? false))
        layers += PlotLayer.meanWithErrorBars(ws4, gs4, label: "sup |K_0^(4)|", color: 2)
        let (wr4, gr4) = byWidth(runs, "k4_rms")
        if let f = LinearFit.powerLaw(x: wr4, y: gr4.map { meanAndStandardError($0).mean }) {
            a.notes.append("rms K_0^(4) of single draws falls like m^\(sig(f.slope, 3)) (+- \(sig(f.slopeStandardError, 2))): between -1 (the limit 𝔎^(4)/m) and -3/2 (the fluctuation term of eq. 11), which still matters at these widths; the seed-mean m K_0^(4) converges (claim below).")
        }
        let (ws3, gs3) = byWidth(runs, "k3_rms")
        a.claims.append(NTHSupport.steeperClaim("rms K_0^(3) falls faster than m^-1/2 (its leading term 𝔎^(3) is zero)",
                                                fit: LinearFit.powerLaw(x: ws3, y: gs3.map { meanAndStandardError($0).mean },
                                                                        standardErrors: gs3.map { max(meanAndStandardError($0).se, 1e-12) }), than: -0.5))
        // m K^(4) converges: the seed-mean tensors at successive widths get closer.
        let byW = Dictionary(grouping: runs) { widthOf($0.key) }
        let widths = byW.keys.sorted()
        let means: [[Double]] = widths.map { w in
            let tensors = byW[w]!.compactMap { $0.output.series["m_k4"] }
            return (0..<(tensors.first?.count ?? 0)).map { i in tensors.reduce(0) { $0 + $1[i] } / Double(tensors.count) }
        }
        if let last = means.last, widths.count >= 3 {
            let scale = NTHSupport.rms(last)
            let gaps = (0..<(widths.count - 1)).map { i in NTHSupport.rms(zip(means[i], means[i + 1]).map { $0 - $1 }) / scale }
            let mids = (0..<(widths.count - 1)).map { Double(widths[$0]) }
            let fit = LinearFit.powerLaw(x: mids, y: gaps)
            a.claims.append(Claim("m K_0^(4) converges: the relative gap between seed means at successive widths falls with m", measured: fit?.slope ?? .nan,
                                  expected: "< 0 by 3 SE", tolerance: "3 SE of the slope (residual SE \(sig(fit?.slopeStandardError ?? .nan, 2)), \(gaps.count) gaps)",
                                  passed: fit.map { $0.slope + 3 * $0.slopeStandardError < 0 } ?? false))
            a.tables.append(DataTable("m-k4-gaps", header: ["m", "2m", "relative gap of seed-mean m K4"], rows: (0..<gaps.count).map { ["\(widths[$0])", "\(widths[$0 + 1])", sig(gaps[$0], 4)] }))
            a.notes.append("rms of the seed-mean m K_0^(4) at m = \(widths.last!): \(sig(scale, 4)) (the limit 𝔎^(4) is not zero, unlike 𝔎^(3)).")
        }
        a.figures.append(NamedFigure("initial-scaling", "Sizes of the hierarchy kernels at initialization vs width (mean +- SE over seeds).",
                                     Figure(title: "Neural tangent hierarchy at initialization", x: Axis("width m", scale: .log), y: Axis("size", scale: .log), layers: layers)))
        return a
    }
}

/// `nth.truncation` (seed 001 Theorem 2.6, eqs. 18-21): the error of the truncated hierarchy p = 2, 3, 4 against the
/// true gradient flow of the finite network, vs width and time.
public struct TruncationExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]; public var seeds: Int; public var points: Int; public var dimension: Int; public var depth: Int
        public var times: [Double]; public var claimTime: Double
    }
    public init() {}
    public var id: String { "nth.truncation" }
    public var source: String { "seed 001 Theorem 2.6, eqs. 15 and 18-21; SEED-NOTES (case (ii) doubtful)" }
    public var summary: String { "Truncated NTH (p = 2, 3, 4) vs the true flow of the finite network" }
    public var claimText: String { "The truncated NTH approximates the training dynamics better as p grows; in the window t << sqrt(m) the error behaves like (t / sqrt(m))^p: slope -1 in m for p = 2 and -2 for p = 4 (p = 3: the seed's m^(-3/2) is doubtful)." }
    public var estimates: (quick: String, full: String) { ("20 s", "5 min") }
    public var quickNote: String { "widths 128-1024 (full: 64-4096), 6 seeds (full: 8), n = 8 points in d = 8, depth 2, tanh, t in {0.25, 0.5, 1, 2}" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [128, 256, 512, 1024], seeds: 6, points: 8, dimension: 8, depth: 2, times: [0.25, 0.5, 1, 2], claimTime: 1)
                    : Config(widths: [64, 128, 256, 512, 1024, 2048, 4096], seeds: 8, points: 8, dimension: 8, depth: 2, times: [0.25, 0.5, 1, 2, 4], claimTime: 1)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = NTHSupport.data(n: c.points, d: c.dimension)
        let net = try NTHSupport.network(width: widthOf(key), depth: c.depth, dimension: c.dimension, seed: seed)
        let times = c.times.sorted()
        var flow = [[Double]]()
        try NetworkGradientFlow(network: net, trainInputs: d.train, targets: d.y).run(times: times, integrator: NTHSupport.tight) { netT, _ in flow.append(try netT(d.train).storage) }
        let k = try NeuralTangentHierarchy(net).kernels(d.train, order: 4)
        let f0 = try net(d.train).storage
        var metrics = [String: Double]()
        for p in 2...4 {
            let pred = try TruncatedHierarchy(kernels: k, trainCount: c.points, targets: d.y, truncation: .order(p)).outputs(initial: f0, at: times, integrator: NTHSupport.tight)
            for (i, t) in times.enumerated() { metrics["err_p\(p)_t\(t)"] = NTHSupport.rms(zip(pred[i], flow[i]).map { $0 - $1 }) }
        }
        return RunOutput(metrics: metrics)
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let t = c.claimTime
        var layers = [PlotLayer]()
        var slopes = [Int: LinearFit]()
        for p in 2...4 {
            let (ws, gs) = byWidth(runs, "err_p\(p)_t\(t)")
            layers += PlotLayer.meanWithErrorBars(ws, gs, label: "p = \(p)", color: p - 2)
            let st = gs.map { meanAndStandardError($0) }
            slopes[p] = LinearFit.powerLaw(x: ws, y: st.map { $0.mean }, standardErrors: st.map { max($0.se, 1e-12 * abs($0.mean)) })
            if p == 2 || p == 4 { a.claims.append(exponentClaim("p = \(p): error at t = \(sig(t)) ~ m^-\(p / 2)", widths: ws, groups: gs, expected: -Double(p) / 2).0) }
        }
        if let s3 = slopes[3] { a.notes.append("p = 3 (reported, not claimed): fitted exponent \(sig(s3.slope, 3)) +- \(sig(s3.slopeStandardError, 2)); the seed's case (ii) says -3/2, SEED-NOTES expects -2 at fixed t because K_0^(4) ~ 1/m does not vanish.") }
        let byW = Dictionary(grouping: runs) { widthOf($0.key) }
        for w in byW.keys.sorted() {
            let g = byW[w]!.sorted { $0.key.seed < $1.key.seed }
            let e2 = g.compactMap { $0.output.metrics["err_p2_t\(t)"] }, e3 = g.compactMap { $0.output.metrics["err_p3_t\(t)"] }, e4 = g.compactMap { $0.output.metrics["err_p4_t\(t)"] }
            a.claims.append(NTHSupport.smallerClaim("m = \(w), t = \(sig(t)): p = 3 beats p = 2", larger: e2, smaller: e3))
            a.claims.append(NTHSupport.smallerClaim("m = \(w), t = \(sig(t)): p = 4 beats p = 3", larger: e3, smaller: e4))
        }
        a.figures.append(NamedFigure("truncation-vs-width", "RMS error of the truncated NTH against the true flow at t = \(sig(t)) vs width.",
                                     Figure(title: "Truncated NTH error vs width", x: Axis("width m", scale: .log), y: Axis("rms error", scale: .log), layers: layers)))
        // Error vs time at the largest width.
        if let wMax = byW.keys.max() {
            var tl = [PlotLayer]()
            for p in 2...4 {
                let ys = c.times.sorted().map { tt in meanAndStandardError(byW[wMax]!.compactMap { $0.output.metrics["err_p\(p)_t\(tt)"] }).mean }
                tl.append(.line(x: c.times.sorted(), y: ys, label: "p = \(p)", color: p - 2))
            }
            a.figures.append(NamedFigure("truncation-vs-time", "RMS error against the true flow vs time at m = \(wMax) (seed mean).",
                                         Figure(title: "Truncated NTH error vs time (m = \(wMax))", x: Axis("t", scale: .log), y: Axis("rms error", scale: .log), layers: tl)))
        }
        return a
    }
}

/// `nth.convergence` (seed 001 Corollary 2.5): the training residual decays at least like n e^(-lambda t / (2n)) with
/// lambda = lambda_min(K_0^(2)); the measured rate over lambda / n vs width.
public struct HierarchyConvergenceExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var seeds: Int; public var points: Int; public var dimension: Int; public var depth: Int; public var horizon: Double }
    public init() {}
    public var id: String { "nth.convergence" }
    public var source: String { "seed 001 Corollary 2.5 (eqs. 13-14)" }
    public var summary: String { "Linear convergence of gradient flow at the rate set by lambda_min(K_0)" }
    public var claimText: String { "With lambda = lambda_min(K_0^(2)) and m large, sum_b (f_b(t) - y_b)^2 <~ n e^(-lambda t / (2n)): the training error decays exponentially." }
    public var estimates: (quick: String, full: String) { ("10 s", "2 min") }
    public var quickNote: String { "widths 64, 256, 1024 (full: to 4096), 3 seeds (full: 6), n = 8 points in d = 8, depth 2, tanh, t up to 3 n / lambda" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [64, 256, 1024], seeds: 3, points: 8, dimension: 8, depth: 2, horizon: 3)
                    : Config(widths: [64, 256, 1024, 4096], seeds: 6, points: 8, dimension: 8, depth: 2, horizon: 3)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = NTHSupport.data(n: c.points, d: c.dimension)
        let net = try NTHSupport.network(width: widthOf(key), depth: c.depth, dimension: c.dimension, seed: seed)
        let k0 = try NeuralTangentHierarchy(net).kernels(d.train, order: 2).k2
        let lambda = try SymmetricEigendecomposition(k0).values.min() ?? .nan
        let n = Double(c.points)
        let horizon = c.horizon * n / lambda
        let times = (0...30).map { horizon * Double($0) / 30 }
        var residuals = [Double]()
        try NetworkGradientFlow(network: net, trainInputs: d.train, targets: d.y).run(times: times, integrator: DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-11)) { netT, _ in
            let f = try netT(d.train).storage
            residuals.append(zip(f, d.y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        }
        // The worst average rate over [0, t]: min_t -log(R(t) / R(0)) / t.
        let worst = (1..<residuals.count).map { -Foundation.log(residuals[$0] / residuals[0]) / times[$0] }.min() ?? .nan
        return RunOutput(metrics: ["lambda": lambda, "worst_rate": worst, "rate_over_lambda_n": worst / (lambda / n), "bound_rate": lambda / (2 * n)],
                         series: ["t": times, "residual": residuals])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let ratios = runs.compactMap { $0.output.metrics["rate_over_lambda_n"] }
        a.claims.append(Claim("every run's residual decays at least at the rate lambda / (2n) (worst average rate over [0, t] / (lambda / n) >= 1/2)",
                              measured: ratios.min() ?? .nan, expected: ">= 0.5 in every run", tolerance: "an inequality per run (\(ratios.count) runs)", passed: !ratios.isEmpty && ratios.allSatisfy { $0 >= 0.5 }))
        let (ws, gs) = byWidth(runs, "rate_over_lambda_n")
        a.tables.append(DataTable("rates", header: ["m", "mean rate / (lambda/n)", "SE", "mean lambda"],
                                  rows: zip(ws, gs).map { w, g in
                                      let s = meanAndStandardError(g)
                                      let l = meanAndStandardError(runs.filter { Double(widthOf($0.key)) == w }.compactMap { $0.output.metrics["lambda"] }).mean
                                      return ["\(Int(w))", sig(s.mean, 4), sig(s.se, 2), sig(l, 4)] }))
        a.notes.append("A frozen kernel gives d/dt ||r||^2 <= -(2 lambda / n) ||r||^2, i.e. rate / (lambda / n) >= 2; the corollary's lambda / (2n) is 4x more cautious. Measured means by width: " +
                       zip(ws, gs).map { "m = \(Int($0.0)): \(sig(meanAndStandardError($0.1).mean, 3))" }.joined(separator: ", ") + ".")
        var layers = [PlotLayer]()
        let byW = Dictionary(grouping: runs) { widthOf($0.key) }
        for (i, w) in byW.keys.sorted().enumerated() {
            if let r = byW[w]!.min(by: { $0.key.seed < $1.key.seed }), let t = r.output.series["t"], let res = r.output.series["residual"], let l = r.output.metrics["lambda"] {
                layers.append(.line(x: t.map { $0 * l / Double(c.points) }, y: res.map { $0 / res[0] }, label: "m = \(w)", color: i, markers: false))
            }
        }
        let tMax = c.horizon
        layers.append(.line(x: [0, tMax], y: [1, Foundation.exp(-tMax / 2)], label: "e^(-lambda t / 2n)", color: 7, dashed: true, markers: false))
        a.figures.append(NamedFigure("convergence", "||f(t) - y||^2 / ||f(0) - y||^2 against lambda t / n (seed 0 of each width) with the corollary's rate.",
                                     Figure(title: "Linear convergence of the training error", x: Axis("lambda t / n"), y: Axis("relative residual", scale: .log), layers: layers)))
        return a
    }
}

/// `nth.vs-kernel` (seed 001 Discussion 3): on a small regression problem, the test error of the real network, of the
/// frozen-NTK predictor (p = 2) and of the truncated p = 3 and p = 4 predictors (eq. 22), vs width. Descriptive.
public struct HierarchyVersusKernelExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]; public var seeds: Int; public var points: Int; public var testPoints: Int; public var dimension: Int; public var depth: Int; public var time: Double
    }
    public init() {}
    public var id: String { "nth.vs-kernel" }
    public var source: String { "seed 001 Discussion 3 and eq. 22" }
    public var summary: String { "Test error: the network vs the frozen NTK and the truncated NTH predictors" }
    public var claimText: String { "The NTH is data dependent: its truncations track the finite network's predictions better than the frozen kernel does, and the gap to the kernel closes as the width grows (descriptive)." }
    public var estimates: (quick: String, full: String) { ("15 s", "3 min") }
    public var quickNote: String { "widths 64-512 (full: to 2048), 3 seeds (full: 6), 24 train + 12 test points in d = 8, depth 2, tanh, t = 10" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [64, 128, 256, 512], seeds: 3, points: 24, testPoints: 12, dimension: 8, depth: 2, time: 10)
                    : Config(widths: [64, 128, 256, 512, 1024, 2048], seeds: 6, points: 24, testPoints: 12, dimension: 8, depth: 2, time: 10)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = NTHSupport.data(n: c.points, test: c.testPoints, d: c.dimension)
        let net = try NTHSupport.network(width: widthOf(key), depth: c.depth, dimension: c.dimension, seed: seed)
        let integrator = DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-11)
        var flow = [Double]()
        try NetworkGradientFlow(network: net, trainInputs: d.train, targets: d.y).run(times: [c.time], integrator: integrator) { netT, _ in flow = try netT(d.x).storage }
        let k = try NeuralTangentHierarchy(net).kernels(d.x, order: 4)
        let f0 = try net(d.x).storage
        let n = c.points
        func testMSE(_ f: [Double]) -> Double { (0..<c.testPoints).reduce(0) { $0 + (f[n + $1] - d.yTest[$1]) * (f[n + $1] - d.yTest[$1]) } / Double(c.testPoints) }
        var metrics = ["network": testMSE(flow)]
        for p in 2...4 {
            // Truncations with p >= 3 are polynomial ODEs valid for t << sqrt(m); past that they can blow up: record it.
            do {
                let pred = try TruncatedHierarchy(kernels: k, trainCount: n, targets: d.y, truncation: .order(p)).outputs(initial: f0, at: [c.time], integrator: integrator)[0]
                metrics["p\(p)"] = testMSE(pred)
                metrics["gap_p\(p)"] = NTHSupport.rms((n..<(n + c.testPoints)).map { pred[$0] - flow[$0] })
                metrics["blowup_p\(p)"] = 0
            } catch OverparamError.diverged {
                metrics["blowup_p\(p)"] = 1
            }
        }
        return RunOutput(metrics: metrics)
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var layers = [PlotLayer](), rows = [[String]]()
        for (i, (metric, label)) in [("network", "network"), ("p2", "frozen NTK (p = 2)"), ("p3", "p = 3"), ("p4", "p = 4")].enumerated() {
            let (ws, gs) = byWidth(runs, metric)
            layers += PlotLayer.meanWithErrorBars(ws, gs, label: label, color: i)
            for (w, g) in zip(ws, gs) { let s = meanAndStandardError(g); rows.append(["\(Int(w))", label, sig(s.mean, 4), sig(s.se, 2)]) }
        }
        a.tables.append(DataTable("test-error", header: ["m", "predictor", "test MSE (mean)", "SE"], rows: rows))
        let (ws, g2) = byWidth(runs, "gap_p2"), (_, g4) = byWidth(runs, "gap_p4")
        let findings = zip(ws, zip(g2, g4)).map { w, g in "m = \(Int(w)): p = 2 \(sig(meanAndStandardError(g.0).mean, 3)), p = 4 \(sig(meanAndStandardError(g.1).mean, 3))" }
        a.notes.append("The test errors of all four predictors are close and dominated by the initial function f_0 (variance O(1) with s_a = 1; gradient flow only corrects it through the kernel), so what separates the predictors is how far their test predictions are from the trained network's.")
        a.notes.append("RMS distance of the test predictions from the trained network's at t = \(sig(c.time)): " + findings.joined(separator: "; ") + ".")
        let blowups = (3...4).map { p in (p, runs.filter { ($0.output.metrics["blowup_p\(p)"] ?? 0) > 0 }.map { "m = \(widthOf($0.key)) seed \($0.key.seed)" }) }
        for (p, list) in blowups where !list.isEmpty {
            a.notes.append("The p = \(p) truncation blew up before t = \(sig(c.time)) in \(list.count) run(s) (\(list.joined(separator: ", "))): it is a polynomial ODE valid only for t << sqrt(m); those runs are left out of its averages.")
        }
        if let first = g2.first, let first4 = g4.first, !first.isEmpty, !first4.isEmpty {
            let closer = meanAndStandardError(first4).mean < meanAndStandardError(first).mean
            a.notes.append("Finding: at the smallest width the p = 4 truncation is \(closer ? "closer to" : "not closer to") the network's test predictions than the frozen NTK; test errors by width are in the table.")
        }
        a.figures.append(NamedFigure("test-error", "Test MSE at t = \(sig(c.time)) of the trained network and of the truncated NTH predictors vs width.",
                                     Figure(title: "Network vs kernel predictors", x: Axis("width m", scale: .log), y: Axis("test MSE", scale: .log), layers: layers)))
        return a
    }
}

/// `nth.discrete` (seed 001 eq. 29, corrected factor (-eta/n)^(r-2)/(r-2)!): the change of the NTK over one gradient
/// descent step predicted by its Taylor expansion of order s = 0, 1, 2 in the step, vs the actual change.
public struct DiscreteStepExperiment: Experiment {
    public struct Config: Codable, Sendable { public var width: Int; public var rates: [Double]; public var seeds: Int; public var points: Int; public var dimension: Int; public var depth: Int }
    public init() {}
    public var id: String { "nth.discrete" }
    public var source: String { "seed 001 Discussion 2, eq. 29 (corrected factor, SEED-NOTES)" }
    public var summary: String { "One GD step: the NTK change predicted by the hierarchy's Taylor expansion vs the actual change" }
    public var claimText: String { "For eta small against sqrt(m) the expansion K(theta_t+1) = K(theta_t) + sum_r ((-eta/n)^(r-2)/(r-2)!) 𝒦^(r)[r_t, ..., r_t] converges: the error falls as the order rises." }
    public var estimates: (quick: String, full: String) { ("5 s", "1 min") }
    public var quickNote: String { "m = 512 (full: 2048), eta from 0.25 to 16, 4 seeds (full: 8), n = 8 points in d = 8, depth 2, tanh" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(width: 512, rates: [0.25, 0.5, 1, 2, 4, 8, 16], seeds: 4, points: 8, dimension: 8, depth: 2)
                    : Config(width: 2048, rates: [0.25, 0.5, 1, 2, 4, 8, 16, 32], seeds: 8, points: 8, dimension: 8, depth: 2)
    }
    public func runs(_ c: Config) -> [RunKey] { (0..<c.seeds).map { RunKey("step", seed: $0) } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = NTHSupport.data(n: c.points, d: c.dimension)
        let net = try NTHSupport.network(width: c.width, depth: c.depth, dimension: c.dimension, seed: seed)
        let nth = try NeuralTangentHierarchy(net)
        let k = try nth.kernels(d.train, order: 3)
        let kk4 = try nth.fixedDirectionKernel4(d.train)
        let n = c.points
        let f = try net(d.train).storage
        let r = (0..<n).map { f[$0] - d.y[$0] }
        let flow = try NetworkGradientFlow(network: net, trainInputs: d.train, targets: d.y)
        let velocity = try flow.velocity(net.parameters)   // -grad L
        var metrics = [String: Double]()
        for eta in c.rates {
            let next = try Network(net.architecture, parameters: zip(net.parameters, velocity).map { $0 + eta * $1 })
            let actual = (try NeuralTangentHierarchy(next).kernels(d.train, order: 2).k2 - k.k2).storage
            let h = -eta / Double(n)
            var first = [Double](), second = [Double]()
            for a1 in 0..<n { for a2 in 0..<n {
                let o1 = h * (0..<n).reduce(0.0) { $0 + k.k3(a1, a2, $1) * r[$1] }
                var o2 = 0.0
                for b in 0..<n { for cc in 0..<n { o2 += kk4[((a1 * n + a2) * n + b) * n + cc] * r[b] * r[cc] } }
                first.append(o1); second.append(o1 + 0.5 * h * h * o2)
            } }
            metrics["err0_eta\(eta)"] = NTHSupport.supNorm(actual)
            metrics["err1_eta\(eta)"] = NTHSupport.supNorm(zip(actual, first).map { $0 - $1 })
            metrics["err2_eta\(eta)"] = NTHSupport.supNorm(zip(actual, second).map { $0 - $1 })
        }
        return RunOutput(metrics: metrics)
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let rates = c.rates.sorted()
        func values(_ o: Int, _ eta: Double) -> [Double] { runs.sorted { $0.key.seed < $1.key.seed }.compactMap { $0.output.metrics["err\(o)_eta\(eta)"] } }
        var layers = [PlotLayer]()
        for o in 0...2 {
            let st = rates.map { meanAndStandardError(values(o, $0)) }
            layers.append(.errorBars(x: rates, y: st.map { $0.mean }, err: st.map { $0.se.isFinite ? $0.se : 0 }, label: "order \(o)", color: o))
            layers.append(.line(x: rates, y: st.map { $0.mean }, label: nil, color: o))
        }
        let small = rates.filter { $0 <= Double(c.width).squareRoot() / 8 }
        for eta in small {
            a.claims.append(NTHSupport.smallerClaim("eta = \(sig(eta)): order 1 beats order 0", larger: values(0, eta), smaller: values(1, eta)))
            a.claims.append(NTHSupport.smallerClaim("eta = \(sig(eta)): order 2 beats order 1", larger: values(1, eta), smaller: values(2, eta)))
        }
        // Remainders of a Taylor expansion: order s leaves O(eta^(s+1)).
        for o in 0...2 {
            let (claim, _) = exponentClaim("order-\(o) error ~ eta^\(o + 1) (eta <= sqrt(m)/8)", widths: small, groups: small.map { values(o, $0) }, expected: Double(o + 1))
            a.claims.append(claim)
        }
        a.figures.append(NamedFigure("discrete", "sup-norm error of the predicted one-step NTK change vs learning rate (m = \(c.width)), by expansion order.",
                                     Figure(title: "One GD step: NTK change vs its expansion", x: Axis("eta", scale: .log), y: Axis("sup error", scale: .log), layers: layers)))
        a.notes.append("Why low orders can lose at eta ~ 1 even though eta << sqrt(m): K^(3) ~ 1/m (its m^(-1/2) term vanishes) while 𝒦^(4) ~ 1/m, so the order-1 and order-2 terms are (eta/m) and (eta^2/m): their ratio is O(eta), independent of m. The seed's condition eta << sqrt(m) assumes K^(r) ~ m^(1 - r/2) for every r; with the odd orders suppressed the first terms converge only for eta below an O(1) constant.")
        a.notes.append("Order 0 predicts no change (the error is the change itself); order 1 adds -(eta/n) K^(3)[r]; order 2 adds (1/2)(eta/n)^2 D^2 K^(2)[grad f_b, grad f_c] r_b r_c with the fixed-direction kernel (eq. 29 with the corrected factor).")
        return a
    }
}
