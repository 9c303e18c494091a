import Foundation
import Overparam

/// `init.deep-linear-norm` (seed 004 eqs. 3.2.2-3.2.3, corrected per SEED-NOTES): log ||z^(L+1)(x)|| of random deep
/// linear networks against its exact law (a sum of independent (1/2) log(chi^2_{N_l} / N_l) terms).
public struct DeepLinearNormExperiment: Experiment {
    public struct Config: Codable, Sendable {
        /// (L, N) pairs: L hidden layers of width N, readout width N too.
        public var settings: [[Int]]; public var inputDimension: Int; public var networks: Int
    }
    public init() {}
    public var id: String { "init.deep-linear-norm" }
    public var source: String { "seed 004 sec. 3.2, eqs. 3.2.2-3.2.3; SEED-NOTES (1/sqrt(N_L); moments -1/(2N), 1/(2N))" }
    public var summary: String { "log ||z|| of deep linear networks: exact law vs Monte Carlo; the variance grows like beta = sum 1/N_l" }
    public var claimText: String { "log ||z^(L+1)|| is a sum of independent (1/2) log(chi^2_{N_l} / N_l): mean -beta/2 and variance beta/2 at leading order, beta = sum_l 1/N_l, so the fluctuations grow with L/N (the depth and width limits do not commute)." }
    public var estimates: (quick: String, full: String) { ("10 s", "3 min") }
    public var quickNote: String { "(L, N) in {1, 4, 16} x {8, 32} (full: L to 64, N to 128), 4000 networks each (full: 10^4), N_0 = 8, readout width N" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(settings: [[1, 8], [4, 8], [16, 8], [1, 32], [4, 32], [16, 32]], inputDimension: 8, networks: 4000)
                    : Config(settings: [[1, 8], [4, 8], [16, 8], [64, 8], [1, 32], [4, 32], [16, 32], [64, 32], [1, 128], [4, 128], [16, 128]],
                             inputDimension: 8, networks: 10_000)
    }
    public func runs(_ c: Config) -> [RunKey] {
        c.settings.map { RunKey("L=\(String(format: "%02d", $0[0])),N=\(String(format: "%04d", $0[1]))") }
    }
    func law(_ key: RunKey, _ c: Config) throws -> DeepLinearNorm {
        let n = InitSupport.int(key, "N")
        return try DeepLinearNorm(inputDimension: c.inputDimension, hiddenWidths: [Int](repeating: n, count: InitSupport.int(key, "L")), outputDimension: n)
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let dl = try law(key, c)
        let x = (0..<c.inputDimension).map { i in i % 2 == 0 ? 1.0 : -1.0 }
        let z = try RandomNetworkMonteCarlo(dl.architecture, inputs: Matrix([x]), networks: c.networks, seed: seed).run()
        let k = dl.outputDimension
        let offset = dl.logNormalization(input: x)
        let s = (0..<c.networks).map { i -> Double in
            let o = z.outputs[(i * k)..<((i + 1) * k)]
            return 0.5 * Foundation.log(o.reduce(0) { $0 + $1 * $1 }) - offset
        }
        let cum = try SampleCumulants(s)
        let readout = DeepLinearNorm.layerTermVariance(degreesOfFreedom: dl.outputDimension)
        var m: [String: Double] = ["exact_mean": dl.mean, "exact_var": dl.variance, "beta": dl.beta, "readout_var": readout,
                                   "normal_mean": dl.normalApproximation.mean, "normal_var": dl.normalApproximation.variance]
        InitSupport.put(&m, "mc_mean", cum.mean)
        InitSupport.put(&m, "mc_var", cum.variance)
        return RunOutput(metrics: m, series: ["samples": s])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let rs = runs.sorted { $0.output.metrics["beta"]! < $1.output.metrics["beta"]! }
        let mean = rs.map { InitSupport.estimate($0.output.metrics, "mc_mean") }, variance = rs.map { InitSupport.estimate($0.output.metrics, "mc_var") }
        a.claims.append(InitSupport.agreementClaim("The Monte-Carlo mean of log ||z|| matches the exact law (digamma)", estimates: mean,
                                                   predictions: rs.map { $0.output.metrics["exact_mean"]! }, what: "exact"))
        a.claims.append(InitSupport.agreementClaim("The Monte-Carlo variance of log ||z|| matches the exact law (trigamma)", estimates: variance,
                                                   predictions: rs.map { $0.output.metrics["exact_var"]! }, what: "exact"))
        // Variance of the hidden part (readout term's exact variance removed) vs beta: slope 1 in log-log, up to the
        // O(1/N) relative corrections of (1/4) psi'(N/2) = 1/(2N) (1 + 1/N + ...), computed from the exact law.
        let beta = rs.map { $0.output.metrics["beta"]! }
        let hidden = rs.map { r -> MonteCarloEstimate in
            let e = InitSupport.estimate(r.output.metrics, "mc_var")
            return MonteCarloEstimate(value: e.value - r.output.metrics["readout_var"]!, standardError: e.standardError)
        }
        let exactHidden = rs.map { $0.output.metrics["exact_var"]! - $0.output.metrics["readout_var"]! }
        let exactFit = LinearFit.powerLaw(x: beta, y: exactHidden, standardErrors: hidden.map(\.standardError))
        let bias = (exactFit?.slope ?? 1) - 1
        a.claims.append(InitSupport.exponentClaim("The variance of the hidden layers' part grows like beta = sum_l 1/N_l (slope of log Var vs log beta across depths and widths)",
                                                  x: beta, estimates: hidden, expected: 1, bias: bias, biasNote: "the exact law's O(1/N) corrections over these settings").0)
        var rows = [[String]]()
        for r in rs {
            let m = r.output.metrics
            rows.append([r.key.setting, sig(m["beta"]!, 4), sig(m["mc_mean"]!, 5), sig(m["mc_mean_se"]!, 2), sig(m["exact_mean"]!, 5), sig(m["normal_mean"]!, 5),
                         sig(m["mc_var"]!, 5), sig(m["mc_var_se"]!, 2), sig(m["exact_var"]!, 5), sig(m["normal_var"]!, 5)])
        }
        a.tables.append(DataTable("moments", header: ["setting", "beta", "mc_mean", "se", "exact_mean", "normal_mean", "mc_var", "se", "exact_var", "normal_var"], rows: rows))
        a.figures.append(NamedFigure("variance-vs-beta", "Variance of log ||z|| minus the readout term vs beta = L/N (+- SE): Monte Carlo and the exact law; the dashed line is beta/2.",
            Figure(title: "Deep linear networks: variance vs beta", x: Axis("beta = sum 1/N_l", scale: .log), y: Axis("Var (hidden part)", scale: .log),
                   layers: InitSupport.errorBars(beta, hidden, label: "Monte Carlo", color: 0)
                   + [.scatter(x: beta, y: exactHidden, values: nil, label: "exact law", color: 1, radius: 4),
                      .line(x: beta, y: beta.map { $0 / 2 }, label: "beta / 2", color: 2, dashed: true, markers: false)])))
        // Histograms for the largest beta at each width.
        for r in Dictionary(grouping: rs, by: { InitSupport.int($0.key, "N") }).values.compactMap({ $0.max { $0.output.metrics["beta"]! < $1.output.metrics["beta"]! } })
            .sorted(by: { $0.key < $1.key }) {
            let samples = r.output.series["samples"] ?? []
            guard let lo = samples.min(), let hi = samples.max(), hi > lo else { continue }
            let h = Figure.histogram(samples, bins: 40, range: lo...hi, density: true)
            let dl = try law(r.key, c)
            let exact = try dl.exactSample(count: 200_000, seed: 7)
            let he = Figure.histogram(exact, bins: 80, range: lo...hi, density: true)
            let mids = zip(he.edges, he.edges.dropFirst()).map { ($0 + $1) / 2 }
            let nm = dl.normalApproximation
            let gauss = mids.map { Foundation.exp(-($0 - nm.mean) * ($0 - nm.mean) / (2 * nm.variance)) / (2 * Double.pi * nm.variance).squareRoot() }
            a.figures.append(NamedFigure("histogram-\(r.key.setting)", "log ||z|| - log(||x|| sqrt(N_{L+1}/N_0)) at \(r.key.setting) (beta = \(sig(r.output.metrics["beta"]!, 3))): \(samples.count) sampled networks, the exact law (200k draws), and the normal approximation.",
                Figure(title: "Deep linear, \(r.key.setting)", x: Axis("S"), y: Axis("density"),
                       layers: [.bars(edges: h.edges, heights: h.heights, label: "Monte Carlo", color: 0),
                                .line(x: mids, y: he.heights, label: "exact law", color: 1, markers: false),
                                .line(x: mids, y: gauss, label: "N(-beta/2, beta/2) + exact readout", color: 2, dashed: true, markers: false)])))
        }
        return a
    }
}

/// `init.depth-asymptotics` (seed 004 sec. 3.3.3, corrected per SEED-NOTES): large-depth behaviour of the
/// infinite-width covariance. ReLU (C_W = 2): 1 - C^(l) ~ 9 pi^2 / (2 l^2); tanh (C_W = 1): K^(l) ~ 1/(2l); the
/// shaped cubic t + psi t^3 / (3L): the L-layer covariance approaches eq. 3.3.7 with error O(1/L).
public struct DepthAsymptoticsExperiment: Experiment {
    public struct Config: Codable, Sendable { public var maxDepth: Int; public var cubicDepths: [Int]; public var psis: [Double]; public var correlation: Double }
    public init() {}
    public var id: String { "init.depth-asymptotics" }
    public var source: String { "seed 004 sec. 3.3.3, eqs. 3.3.4-3.3.7; SEED-NOTES (tanh sign, shaped cubic)" }
    public var summary: String { "Depth asymptotics of the NNGP covariance: ReLU correlations, tanh variances, the shaped cubic limit" }
    public var claimText: String { "At large depth the kernels degenerate: ReLU l^2 (1 - C^(l)) -> 9 pi^2 / 2; tanh 2 l K^(l)(x, x) -> 1; with the shaped cubic activation the covariance has the closed-form limit of eq. 3.3.7 (valid while 2 psi tau ||x||^2 / N_0 < 1)." }
    public var estimates: (quick: String, full: String) { ("5 s", "1 min") }
    public var quickNote: String { "depths to 10^5 (full: the same: beyond, 1 - C^(l) < 10^-10 and the iterated double-precision map loses its digits); shaped cubic L = 10-1280 (full: to 10240); deterministic recursions" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(maxDepth: 100_000, cubicDepths: [10, 20, 40, 80, 160, 320, 640, 1280], psis: [0.5, -1], correlation: 0.5)
                    : Config(maxDepth: 100_000, cubicDepths: [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240], psis: [0.5, -1], correlation: 0.5)
    }
    public func runs(_ c: Config) -> [RunKey] { [RunKey("relu"), RunKey("tanh"), RunKey("shaped-cubic")] }
    static func logDepths(_ lmax: Int) -> [Int] {
        var out = [Int](), e = 0.0
        while true {
            let l = Int(Foundation.pow(10, e).rounded())
            if l > lmax { break }
            if out.last != l { out.append(l) }
            e += 0.125
        }
        if out.last != lmax { out.append(lmax) }
        return out
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        switch key.setting {
        case "relu":
            let prof = try DepthAsymptotics(activation: .relu, weightVariance: 2).profile(from: CovariancePair(variance: 1, correlation: c.correlation), depth: c.maxDepth)
            let ls = Self.logDepths(c.maxDepth)
            return RunOutput(series: ["l": ls.map(Double.init), "scaled": ls.map { l in Double(l * l) * (1 - prof.correlations[l]) }])
        case "tanh":
            let v = DepthAsymptotics(activation: .tanh, weightVariance: 1).variances(from: 1, depth: c.maxDepth)
            let ls = Self.logDepths(c.maxDepth)
            return RunOutput(series: ["l": ls.map(Double.init), "scaled": ls.map { 2 * Double($0) * v[$0] }])
        default:
            var series: [String: [Double]] = ["L": c.cubicDepths.map(Double.init)]
            let x1 = [1.0, 0.5, -0.5, 1.0], x2 = [0.5, 1.0, 1.0, 0.0]
            for psi in c.psis {
                let limit = try ShapedCubicLimit(psi: psi).outputCovariance(x1, x2)
                series["err_\(psi)"] = try c.cubicDepths.map { l in
                    let k = try DepthAsymptotics.shapedCubic(psi: psi, depth: l).profile(x1, x2, depth: l).covariances[l]
                    return max(abs(k.k11 - limit.k11), abs(k.k22 - limit.k22), abs(k.k12 - limit.k12))
                }
            }
            return RunOutput(series: series)
        }
    }
    /// The series' values at l_max / 100, l_max / 10 and l_max.
    static func lastDecades(_ l: [Double], _ y: [Double]) -> (l: [Double], y: [Double]) {
        let lmax = l.last!
        let idx = [lmax / 100, lmax / 10, lmax].map { t in l.firstIndex { $0 >= t - 0.5 } ?? l.count - 1 }
        return (idx.map { l[$0] }, idx.map { y[$0] })
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let byName = Dictionary(uniqueKeysWithValues: runs.map { ($0.key.setting, $0.output.series) })
        let target = 9 * Double.pi * Double.pi / 2
        if let s = byName["relu"], let l = s["l"], let y = s["scaled"] {
            let p = Self.lastDecades(l, y)
            let (claim, note) = InitSupport.limitClaim("ReLU (C_W = 2): l^2 (1 - C^(l)) -> 9 pi^2 / 2 (gap per decade of depth)", l: p.l, y: p.y, target: target,
                derivedLogCoefficient: (-3 * target, "1/theta_(l+1) = 1/theta_l + 1/(3 pi) + theta_l/(6 pi^2) + O(theta^2), C = cos theta"))
            a.claims.append(claim)
            a.notes.append("ReLU: " + note)
            let early = l.indices.filter { l[$0] >= 10 && l[$0] <= 100 }
            let late = l.indices.filter { l[$0] >= l.last! / 10 }
            let fitEarly = LinearFit.powerLaw(x: early.map { l[$0] }, y: early.map { y[$0] / (l[$0] * l[$0]) })
            let fitLate = LinearFit.powerLaw(x: late.map { l[$0] }, y: late.map { y[$0] / (l[$0] * l[$0]) })
            a.notes.append("ReLU: the exponent of 1 - C^(l) fitted over 10 <= l <= 100 is \(sig(fitEarly?.slope ?? .nan, 3)) (visibly shallower than -2, as SEED-NOTES warns), over the last decade \(sig(fitLate?.slope ?? .nan, 4)); l^2 (1 - C) = "
                           + [10.0, 100, 1000, 10000, 100000, 1000000].compactMap { v in l.firstIndex(of: v).map { "\(sig(y[$0], 4)) at l = \(Int(v))" } }.joined(separator: ", ") + " vs 9 pi^2 / 2 = \(sig(target, 4)).")
            a.figures.append(NamedFigure("relu", "ReLU at C_W = 2, two inputs with C^(0) = \(c.correlation): l^2 (1 - C^(l)) vs depth; the dashed line is 9 pi^2 / 2.",
                Figure(title: "ReLU correlation at large depth", x: Axis("layer l", scale: .log), y: Axis("l^2 (1 - C^(l))"),
                       layers: [.line(x: l, y: y, label: "recursion", color: 0), .line(x: [l.first!, l.last!], y: [target, target], label: "9 pi^2 / 2", color: 1, dashed: true, markers: false)])))
        }
        if let s = byName["tanh"], let l = s["l"], let y = s["scaled"] {
            let p = Self.lastDecades(l, y)
            let (claim, note) = InitSupport.limitClaim("tanh (C_W = 1): 2 l K^(l)(x, x) -> 1 (gap per decade of depth)", l: p.l, y: p.y, target: 1,
                derivedLogCoefficient: (5.0 / 12, "1/K_(l+1) = 1/K_l + 2 - (5/3) K_l + O(K^2)"))
            a.claims.append(claim)
            a.notes.append("tanh: " + note)
            a.figures.append(NamedFigure("tanh", "tanh at C_W = 1, K^(0) = 1: 2 l K^(l) vs depth (K^(l+1) = K - 2 K^2 + ..., so K ~ 1/(2l)).",
                Figure(title: "tanh variance at large depth", x: Axis("layer l", scale: .log), y: Axis("2 l K^(l)"),
                       layers: [.line(x: l, y: y, label: "recursion", color: 0), .line(x: [l.first!, l.last!], y: [1, 1], label: "1", color: 1, dashed: true, markers: false)])))
        }
        if let s = byName["shaped-cubic"], let ls = s["L"] {
            var layers = [PlotLayer]()
            for (i, psi) in c.psis.enumerated() {
                guard let err = s["err_\(psi)"], err.count >= 2 else { continue }
                let n = err.count
                let local = Foundation.log(err[n - 1] / err[n - 2]) / Foundation.log(ls[n - 1] / ls[n - 2])
                let tol = 10 / ls[n - 2]
                a.claims.append(Claim("Shaped cubic (psi = \(sig(psi))): the L-layer covariance approaches eq. 3.3.7 with error O(1/L) (local exponent at L = \(Int(ls[n - 1])))",
                                      measured: local, expected: "-1 +- \(sig(tol, 2))",
                                      tolerance: "deterministic; the next order O(1/L^2) shifts the local exponent by O(1/L): 10 / L = \(sig(tol, 2))",
                                      passed: abs(local + 1) <= tol))
                layers.append(.line(x: ls, y: err, label: "psi = \(sig(psi))", color: i))
            }
            a.figures.append(NamedFigure("shaped-cubic", "Shaped cubic t + psi t^3 / (3L), C_W = 1: max entry error of K^(L) against the limit (eq. 3.3.7, 2 psi ||x||^2 / N_0 < 1) vs L.",
                Figure(title: "Shaped cubic: finite L vs the limit", x: Axis("depth L", scale: .log), y: Axis("max |K^(L) - K(1)|", scale: .log), layers: layers)))
        }
        return a
    }
}

/// `init.gp-limit` (seed 004 Theorem 3.3.1 and sec. 3.4): the output of a random ReLU network at fixed inputs
/// approaches the NNGP Gaussian as the width grows; its excess kurtosis 3 kappa_4 / K^2 falls like 1/N.
public struct GaussianProcessLimitExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var depth: Int; public var networks: Int; public var dimension: Int }
    public init() {}
    public var id: String { "init.gp-limit" }
    public var source: String { "seed 004 Theorem 3.3.1 (GP limit) and Theorem 3.4.1 (the 1/N correction)" }
    public var summary: String { "Output distribution of random ReLU networks vs width: variance, excess kurtosis, distance to the NNGP Gaussian" }
    public var claimText: String { "At fixed depth the outputs converge to a centred Gaussian process with the NNGP covariance as the widths grow; the leading non-Gaussianity (excess kurtosis) is of order L/N." }
    public var estimates: (quick: String, full: String) { ("15 s", "4 min") }
    public var quickNote: String { "widths 16-128 (full: to 256), depth 3, 4000 whole networks per width (full: 2 x 10^4), two inputs in d = 4" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [16, 32, 64, 128], depth: 3, networks: 4000, dimension: 4)
                    : Config(widths: [16, 32, 64, 128, 256], depth: 3, networks: 20_000, dimension: 4)
    }
    public func runs(_ c: Config) -> [RunKey] { c.widths.map { RunKey("N=\(String(format: "%05d", $0))") } }
    func architecture(_ n: Int, _ c: Config) -> Architecture {
        Architecture(inputDimension: c.dimension, hiddenWidths: [Int](repeating: n, count: c.depth), activation: .relu, weightVariance: 2,
                     biasVariance: 0, hasBias: false, parameterization: .hanin)
    }
    func inputs(_ c: Config) -> Matrix {
        Matrix([(0..<c.dimension).map { $0 % 2 == 0 ? 1.0 : 0.5 }, (0..<c.dimension).map { $0 == 0 ? 1.5 : 0.25 }])
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let n = InitSupport.int(key, "N")
        let arch = architecture(n, c), x = inputs(c)
        let z = try RandomNetworkMonteCarlo(arch, inputs: x, networks: c.networks, seed: seed).run()
        let z1 = z.output(input: 0), z2 = z.output(input: 1)
        let k = try InfiniteWidthKernel(arch)(x).nngp
        let cum = try SampleCumulants(z1)
        let cov = try Jackknife.ofMeans([z1, z2, zip(z1, z2).map(*)]) { $0[2] - $0[0] * $0[1] }
        let fc = try FourthCumulant(arch)
        let closure = try fc.momentClosure(inputVariance: fc.inputVariance(x.row(0)), widths: arch.hiddenWidths)
        // Kolmogorov-Smirnov distance of z1 to N(0, K11).
        let sorted = z1.sorted(), sd = k[0, 0].squareRoot()
        var ks = 0.0
        for (i, v) in sorted.enumerated() {
            let f = 0.5 * Foundation.erfc(-v / (sd * 2.0.squareRoot()))
            ks = max(ks, abs(f - Double(i) / Double(sorted.count)), abs(f - Double(i + 1) / Double(sorted.count)))
        }
        var m: [String: Double] = ["k11": k[0, 0], "k12": k[0, 1], "kurt_theory": closure.outputExcessKurtosis, "ks": ks]
        InitSupport.put(&m, "var", cum.variance)
        InitSupport.put(&m, "kurt", cum.excessKurtosis)
        InitSupport.put(&m, "cov", cov)
        return RunOutput(metrics: m, series: ["z1": z1])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let rs = runs.sorted { InitSupport.int($0.key, "N") < InitSupport.int($1.key, "N") }
        let ws = rs.map { Double(InitSupport.int($0.key, "N")) }
        let variance = rs.map { InitSupport.estimate($0.output.metrics, "var") }, kurt = rs.map { InitSupport.estimate($0.output.metrics, "kurt") }
        let theory = rs.map { $0.output.metrics["kurt_theory"]! }
        a.claims.append(InitSupport.agreementClaim("The output variance equals the NNGP K(x, x) at every width (exact for ReLU at C_W = 2 without biases: E K-hat = K)",
                                                   estimates: variance, predictions: rs.map { $0.output.metrics["k11"]! }, what: "NNGP"))
        a.claims.append(InitSupport.agreementClaim("The output's excess kurtosis equals 3 kappa_4 / K^2 of the (ReLU-exact) recursion", estimates: kurt, predictions: theory, what: "recursion"))
        let theoryFit = LinearFit.powerLaw(x: ws, y: theory)
        a.claims.append(InitSupport.exponentClaim("The excess kurtosis -> 0 like 1/N (the Gaussian process limit)", x: ws, estimates: kurt, expected: -1,
                                                  bias: (theoryFit?.slope ?? -1) + 1, biasNote: "the exact (1 + 5/N)^L - 1 over these widths").0)
        var rows = [[String]]()
        for r in rs {
            let m = r.output.metrics
            rows.append([r.key.setting, sig(m["var"]!, 5), sig(m["var_se"]!, 2), sig(m["k11"]!, 5), sig(m["cov"]!, 5), sig(m["cov_se"]!, 2), sig(m["k12"]!, 5),
                         sig(m["kurt"]!, 4), sig(m["kurt_se"]!, 2), sig(m["kurt_theory"]!, 4), sig(m["ks"]!, 3)])
        }
        a.tables.append(DataTable("outputs", header: ["width", "var", "se", "nngp_k11", "cov", "se", "nngp_k12", "excess_kurtosis", "se", "recursion", "ks_distance"], rows: rows))
        a.notes.append("The covariance of the two inputs deviates from the NNGP value by O(1/N) (the joint law is not Gaussian at finite width); see the table. The KS distance of the samples to N(0, K) includes the sampling noise of about 0.87 / sqrt(\(c.networks)) = \(sig(0.87 / Double(c.networks).squareRoot(), 2)).")
        a.figures.append(NamedFigure("kurtosis", "Excess kurtosis of the output vs width (+- jackknife SE, \(c.networks) networks per width) and 3 kappa_4 / K^2 from the recursion.",
            Figure(title: "Distance to the Gaussian process", x: Axis("width N", scale: .log), y: Axis("excess kurtosis", scale: .log),
                   layers: InitSupport.errorBars(ws, kurt, label: "Monte Carlo", color: 0) + [.line(x: ws, y: theory, label: "recursion", color: 1, dashed: true)])))
        if let first = rs.first, let last = rs.last {
            var layers = [PlotLayer]()
            let sd = first.output.metrics["k11"]!.squareRoot()
            for (i, r) in [first, last].enumerated() {
                let h = Figure.histogram(r.output.series["z1"] ?? [], bins: 50, range: (-4 * sd)...(4 * sd), density: true)
                let mids = zip(h.edges, h.edges.dropFirst()).map { ($0 + $1) / 2 }
                layers.append(.line(x: mids, y: h.heights, label: "width \(InitSupport.int(r.key, "N"))", color: i, markers: false))
            }
            let xs = (0...200).map { -4 * sd + 8 * sd * Double($0) / 200 }
            layers.append(.line(x: xs, y: xs.map { Foundation.exp(-$0 * $0 / (2 * sd * sd)) / (sd * (2 * Double.pi).squareRoot()) }, label: "NNGP N(0, K)", color: 2, dashed: true, markers: false))
            a.figures.append(NamedFigure("histogram", "The output at x_1 for the smallest and largest width against the NNGP Gaussian.",
                                         Figure(title: "Output distribution", x: Axis("z(x_1)"), y: Axis("density"), layers: layers)))
        }
        return a
    }
}
