import Foundation
import Overparam

/// `init.fourth-cumulant` (seed 004 Theorem 3.4.1, corrected per SEED-NOTES): kappa_4 / K^2 of the output at one
/// input vs L/N, from the leading-order recursion, from the moment closure, and from Monte Carlo over networks
/// (the exact single-input chain, ``SingleInputChain``, estimating kappa_4^(L+1) = Var K-hat^(L)).
public struct FourthCumulantExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var activations: [String]; public var depths: [Int]; public var ratios: [Double]; public var networks: Int; public var tanhDepths: [Int]
    }
    public init() {}
    public var id: String { "init.fourth-cumulant" }
    public var source: String { "seed 004 Theorem 3.4.1 (eq. 3.4.1), SEED-NOTES (coefficient and kappa_4 := Var K-hat)" }
    public var summary: String { "Finite-width fourth cumulant kappa_4 / K^2 vs depth/width: recursion and Monte Carlo" }
    public var claimText: String { "kappa_4^(L+1) / K^2 = C_sigma L / N + O(N^-2) at criticality: 5 L/N for ReLU (C_W = 2); for tanh (C_W = 1) it approaches (2/3) l/N only at large l. The recursion agrees with Monte Carlo." }
    public var estimates: (quick: String, full: String) { ("10 s", "2 min") }
    public var quickNote: String { "L in {1, 2, 4} (full: to 8), L/N in {0.05, 0.1, 0.2} (full: from 0.025), 10^5 networks per setting (full: 4 x 10^5), one input with K0 = 1" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(activations: ["relu", "tanh"], depths: [1, 2, 4], ratios: [0.05, 0.1, 0.2], networks: 100_000, tanhDepths: [100, 1000, 10000])
                    : Config(activations: ["relu", "tanh"], depths: [1, 2, 4, 8], ratios: [0.025, 0.05, 0.1, 0.2], networks: 400_000, tanhDepths: [10, 100, 1000, 10000, 100000])
    }
    public func runs(_ c: Config) -> [RunKey] {
        c.activations.flatMap { a in c.depths.flatMap { l in c.ratios.map { r in
            RunKey("act=\(a),L=\(String(format: "%02d", l)),N=\(String(format: "%05d", Int((Double(l) / r).rounded())))")
        } } }
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let act = InitSupport.value(key, "act") ?? "relu"
        let depth = InitSupport.int(key, "L"), n = InitSupport.int(key, "N")
        let cw = InitSupport.criticalWeightVariance(act)
        let activation = try Activation(parsing: act)
        let widths = [Int](repeating: n, count: depth)
        let chain = try SingleInputChain(activation: activation, weightVariance: cw, widths: widths, inputVariance: 1)
        let khat = try chain.run(networks: c.networks, seed: seed).conditionalVariance(layer: depth)
        let ratio = try Jackknife.ofMeans([khat, khat.map { $0 * $0 }]) { m in (m[1] - m[0] * m[0]) / (m[0] * m[0]) }
        let fc = FourthCumulant(activation: activation, weightVariance: cw)
        var m: [String: Double] = ["lead": try fc.leadingOrder(inputVariance: 1, widths: widths).output,
                                   "closure": try fc.momentClosure(inputVariance: 1, widths: widths).output, "x": Double(depth) / Double(n)]
        InitSupport.put(&m, "mc", ratio)
        return RunOutput(metrics: m)
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var rows = [[String]]()
        var layers = [PlotLayer]()
        for (ai, act) in c.activations.enumerated() {
            let rs = runs.filter { InitSupport.value($0.key, "act") == act }.sorted { $0.output.metrics["x"]! < $1.output.metrics["x"]! }
            let mc = rs.map { InitSupport.estimate($0.output.metrics, "mc") }
            let x = rs.map { $0.output.metrics["x"]! }
            let closure = rs.map { $0.output.metrics["closure"]! }, lead = rs.map { $0.output.metrics["lead"]! }
            for (r, e) in zip(rs, mc) {
                rows.append([act, "\(InitSupport.int(r.key, "L"))", "\(InitSupport.int(r.key, "N"))", sig(r.output.metrics["x"]!, 3), sig(e.value, 5), sig(e.standardError, 2),
                             sig(r.output.metrics["closure"]!, 5), sig(r.output.metrics["lead"]!, 5)])
            }
            a.claims.append(InitSupport.agreementClaim("\(act) (C_W = \(sig(InitSupport.criticalWeightVariance(act)))): the recursion (moment closure of Theorem 3.4.1's exact law-of-total-variance step) matches Monte Carlo for L/N <= 0.2",
                                                       estimates: mc, predictions: closure, what: "closure"))
            let leadZ = zip(mc, lead).map { $0.zScore($1) }.max() ?? .nan
            a.notes.append("\(act): the leading-order recursion alone (first order in 1/N) is off by up to \(sig(leadZ, 3)) SE; its error is the O((L/N)^2) term, which the closure keeps.")
            if act == "relu" {
                // Slope at the origin: weighted fit y = a x + b x^2; the finite-(L/N) bias of the same fit applied to the
                // exact values (1 + 5/N)^L - 1 is added to the tolerance.
                func slopeAtOrigin(_ y: [Double], _ s: [Double]) -> (Double, Double)? {
                    var sxx = 0.0, sxy = 0.0, syy = 0.0, sx = 0.0, sy = 0.0
                    for i in y.indices {
                        let w = 1 / (s[i] * s[i]), u = x[i], v = x[i] * x[i]
                        sxx += w * u * u; sxy += w * u * v; syy += w * v * v; sx += w * u * y[i]; sy += w * v * y[i]
                    }
                    let det = sxx * syy - sxy * sxy
                    guard det > 0 else { return nil }
                    return ((syy * sx - sxy * sy) / det, (syy / det).squareRoot())
                }
                let sd = mc.map(\.standardError)
                if let (slope, se) = slopeAtOrigin(mc.map(\.value), sd), let (exactSlope, _) = slopeAtOrigin(closure, sd) {
                    let bias = abs(exactSlope - 5)
                    a.claims.append(Claim("ReLU at criticality: kappa_4 / K^2 has slope 5 in L/N at the origin (weighted fit y = a x + b x^2 of the Monte-Carlo values)",
                                          measured: slope, expected: "5",
                                          tolerance: "3 SE of the fitted slope (SE \(sig(se, 2))) + the fit's own bias on the exact values (1 + 5/N)^L - 1 (\(sig(bias, 2)))",
                                          passed: abs(slope - 5) <= 3 * se + bias))
                }
            }
            layers += InitSupport.errorBars(x, mc, label: "\(act): Monte Carlo", color: 2 * ai)
            layers.append(.scatter(x: x, y: closure, values: nil, label: "\(act): closure", color: 2 * ai + 1, radius: 4))
            layers.append(.scatter(x: x, y: lead, values: nil, label: "\(act): leading order", color: 2 * ai + 1, radius: 2))
        }
        let xs = runs.compactMap { $0.output.metrics["x"] }
        if let xmax = xs.max() { layers.append(.line(x: [0, xmax], y: [0, 5 * xmax], label: "5 L/N", color: 6, dashed: true, markers: false)) }
        a.figures.append(NamedFigure("kappa4", "kappa_4 / K^2 of the output vs L/N: Monte Carlo (10^\(sig(log10(Double(c.networks)), 2)) networks per point, +- SE), the moment closure and the leading-order recursion.",
                                     Figure(title: "Fourth cumulant vs depth/width", x: Axis("L / N"), y: Axis("kappa_4 / K^2"), layers: layers)))
        a.tables.append(DataTable("kappa4", header: ["activation", "L", "N", "L/N", "mc", "mc_se", "closure", "leading_order"], rows: rows))

        // tanh at large l (deterministic): N kappa_4 / (K^2 l) -> 2/3, with a gap that closes like log(l)/l.
        let fc = FourthCumulant(activation: .tanh, weightVariance: 1)
        let lmax = c.tanhDepths.max() ?? 1000, n = 100_000
        let prof = try fc.leadingOrder(inputVariance: 1, widths: [Int](repeating: n, count: lmax))
        let scaled = c.tanhDepths.map { l in prof.normalized[l] * Double(n) / Double(l) }
        a.tables.append(DataTable("tanh-large-depth", header: ["l", "N kappa4 / (K^2 l)"], rows: zip(c.tanhDepths, scaled).map { ["\($0)", sig($1, 6)] }))
        if c.tanhDepths.count >= 3 {
            let k = c.tanhDepths.count
            let (claim, note) = InitSupport.limitClaim("tanh (C_W = 1): N kappa_4 / (K^2 l) -> 2/3 at large l (leading-order recursion; gap per decade of depth)",
                                                       l: c.tanhDepths[(k - 3)...].map(Double.init), y: Array(scaled[(k - 3)...]), target: 2.0 / 3)
            a.claims.append(claim)
            a.notes.append("tanh: " + note)
            a.notes.append("tanh: N kappa_4 / (K^2 l) = " + zip(c.tanhDepths, scaled).map { "\(sig($1, 4)) at l = \($0)" }.joined(separator: ", ")
                           + "; at the depths of the Monte-Carlo panel (l <= \(c.depths.max() ?? 0)) it is far from 2/3.")
        }
        return a
    }
}

/// `init.collective-moments` (seed 004 Theorem 3.3.3): centred moments of collective observables at layer L vs width:
/// the variance ~ N^-1, the third and fourth centred moments ~ N^-2.
public struct CollectiveMomentsExperiment: Experiment {
    public struct Config: Codable, Sendable { public var activations: [String]; public var depth: Int; public var widths: [Int]; public var networks: Int }
    public init() {}
    public var id: String { "init.collective-moments" }
    public var source: String { "seed 004 Theorem 3.3.3 (eq. 3.3.2)" }
    public var summary: String { "Centred moments of collective observables (K-hat and mean |z|) vs width" }
    public var claimText: String { "E[(O_f - E O_f)^k] = O(N^-ceil(k/2)): variance ~ 1/N, third and fourth centred moments ~ 1/N^2." }
    public var estimates: (quick: String, full: String) { ("15 s", "3 min") }
    public var quickNote: String { "widths 32-256 (full: 32-2048), depth 3, 10^5 networks per width (full: 4 x 10^5), one input with K0 = 1" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(activations: ["relu", "tanh"], depth: 3, widths: [32, 64, 128, 256], networks: 100_000)
                    : Config(activations: ["relu", "tanh"], depth: 3, widths: [32, 64, 128, 256, 512, 1024, 2048], networks: 400_000)
    }
    static let observables = ["khat": "K-hat^(L) = C_W mean sigma(z^(L))^2", "abs": "mean |z^(L)|"]
    public func runs(_ c: Config) -> [RunKey] {
        c.activations.flatMap { a in c.widths.map { RunKey("act=\(a),N=\(String(format: "%05d", $0))") } }
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let act = InitSupport.value(key, "act") ?? "relu", n = InitSupport.int(key, "N")
        let chain = try SingleInputChain(activation: try Activation(parsing: act), weightVariance: InitSupport.criticalWeightVariance(act),
                                         widths: [Int](repeating: n, count: c.depth), inputVariance: 1)
        let s = try chain.run(networks: c.networks, seed: seed, observables: [.absoluteValue])
        var m: [String: Double] = [:]
        for (name, values) in [("khat", try s.conditionalVariance(layer: c.depth)), ("abs", try s.observable(0, layer: c.depth))] {
            let cm = try CollectiveMoments(values)
            for k in 2...4 { InitSupport.put(&m, "\(name)_mu\(k)", cm.moment(k)) }
        }
        return RunOutput(metrics: m)
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var rows = [[String]]()
        for act in c.activations {
            let rs = runs.filter { InitSupport.value($0.key, "act") == act }.sorted { InitSupport.int($0.key, "N") < InitSupport.int($1.key, "N") }
            let ws = rs.map { Double(InitSupport.int($0.key, "N")) }
            var layers = [PlotLayer]()
            for (oi, obs) in ["khat", "abs"].enumerated() {
                for k in 2...4 {
                    let e = rs.map { InitSupport.estimate($0.output.metrics, "\(obs)_mu\(k)") }
                    let expected = CollectiveMoments.predictedExponent(order: k)
                    a.claims.append(InitSupport.scalingClaim("\(act), \(Self.observables[obs]!): |mu_\(k)| ~ N^\(Int(expected))", x: ws, estimates: e, expected: expected))
                    layers += InitSupport.errorBars(ws, e, label: "\(obs): |mu_\(k)|", color: 3 * oi + k - 2, absolute: true)
                    for (w, v) in zip(ws, e) { rows.append([act, obs, "\(k)", "\(Int(w))", sig(v.value, 5), sig(v.standardError, 2)]) }
                }
            }
            a.figures.append(NamedFigure("moments-\(act)", "\(act) (C_W = \(sig(InitSupport.criticalWeightVariance(act)))): |centred moments| of two collective observables at layer L = \(c.depth) vs width (+- jackknife SE, \(c.networks) networks per width).",
                                         Figure(title: "Collective observables, \(act)", x: Axis("width N", scale: .log), y: Axis("|mu_k|", scale: .log), layers: layers)))
        }
        a.tables.append(DataTable("moments", header: ["activation", "observable", "k", "N", "mu_k", "se"], rows: rows))
        a.notes.append("Sampled with the exact single-input chain (z^(l+1) ~ N(0, K-hat^(l)) given layer l; checked against whole networks in the tests). Exponents come from a weighted fit log|mu| = a + p log N + b/N, i.e. with the leading O(1/N) correction to scaling: at L = 3 and N = 32 the relative corrections are large (for ReLU, K-hat is a product of L i.i.d. factors of variance 5/N, so its fourth moment is about 3x the asymptotic 3 Var^2). Points whose moment is not resolved from zero (|mu| <= 2 SE) are left out of the fits.")
        return a
    }
}

/// `init.perturbative` (seed 004 eq. 3.4.2): the first-order expansion E f = E_G f + (kappa_4 / 8) E_G[(sum d^2)^2 f]
/// checked on f = z1^2 z2^2, z^4 and |z| at the output of a depth-L network: without the correction the residual falls
/// like 1/N, with it (kappa_4 from the leading-order recursion) like 1/N^2.
public struct PerturbativeExperiment: Experiment {
    public struct Config: Codable, Sendable { public var activations: [String]; public var depth: Int; public var widths: [Int]; public var networks: Int }
    public init() {}
    public var id: String { "init.perturbative" }
    public var source: String { "seed 004 eq. 3.4.2 (with eq. 3.4.3's dressed G) and Theorem 3.4.1" }
    public var summary: String { "Residual of the first-order 1/N expansion of E f(z) vs width" }
    public var claimText: String { "E f(z^(l)) = E_G[f] + (kappa_4 / 8) E_K[(sum_j d_j^4 + sum_{j1 != j2} d_j1^2 d_j2^2) f] + O(N^-2)." }
    public var estimates: (quick: String, full: String) { ("15 s", "3 min") }
    public var quickNote: String { "widths 16-128 (full: 16-512), depth 3, 2 x 10^5 networks per width (full: 2 x 10^6), output of one input with K0 = 1" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(activations: ["relu", "tanh"], depth: 3, widths: [16, 32, 64, 128], networks: 200_000)
                    : Config(activations: ["relu", "tanh"], depth: 3, widths: [16, 32, 64, 128, 256, 512], networks: 2_000_000)
    }
    public func runs(_ c: Config) -> [RunKey] {
        c.activations.flatMap { a in c.widths.map { RunKey("act=\(a),N=\(String(format: "%05d", $0))") } }
    }
    static func tag(_ f: PerturbativeObservable) -> String {
        switch f { case .productOfSquares: return "z1z2"; case .fourthPower: return "z4"; case .absoluteValue: return "abs" }
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let act = InitSupport.value(key, "act") ?? "relu", n = InitSupport.int(key, "N")
        let activation = try Activation(parsing: act), cw = InitSupport.criticalWeightVariance(act)
        let widths = [Int](repeating: n, count: c.depth)
        let chain = try SingleInputChain(activation: activation, weightVariance: cw, widths: widths, inputVariance: 1)
        let khat = try chain.run(networks: c.networks, seed: seed).conditionalVariance(layer: c.depth)
        let kappa = try FourthCumulant(activation: activation, weightVariance: cw).leadingOrder(inputVariance: 1, widths: widths).kappa4[c.depth]
        var m: [String: Double] = ["kappa4": kappa]
        for f in PerturbativeObservable.allCases {
            let r = try PerturbativeCorrection.residuals(f, conditionalVariances: khat, kappa4: kappa)
            InitSupport.put(&m, "\(Self.tag(f))_plain", r.uncorrected)
            InitSupport.put(&m, "\(Self.tag(f))_corrected", r.corrected)
        }
        return RunOutput(metrics: m)
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var rows = [[String]]()
        for act in c.activations {
            let rs = runs.filter { InitSupport.value($0.key, "act") == act }.sorted { InitSupport.int($0.key, "N") < InitSupport.int($1.key, "N") }
            let ws = rs.map { Double(InitSupport.int($0.key, "N")) }
            var layers = [PlotLayer]()
            for (fi, f) in PerturbativeObservable.allCases.enumerated() {
                let plain = rs.map { InitSupport.estimate($0.output.metrics, "\(Self.tag(f))_plain") }
                let corrected = rs.map { InitSupport.estimate($0.output.metrics, "\(Self.tag(f))_corrected") }
                a.claims.append(InitSupport.inverseWidthClaim("\(act), f = \(f.rawValue): without the correction the residual has a 1/N term (coefficient c_1)", x: ws, estimates: plain, vanishes: false).0)
                a.claims.append(InitSupport.inverseWidthClaim("\(act), f = \(f.rawValue): with the kappa_4 correction the 1/N term vanishes, leaving O(N^-2)", x: ws, estimates: corrected, vanishes: true).0)
                layers += InitSupport.errorBars(ws, plain, label: "\(f.rawValue): E_G only", color: 2 * fi, absolute: true)
                layers += InitSupport.errorBars(ws, corrected, label: "\(f.rawValue): + kappa_4 term", color: 2 * fi + 1, absolute: true)
                for (i, w) in ws.enumerated() {
                    rows.append([act, f.rawValue, "\(Int(w))", sig(plain[i].value, 5), sig(plain[i].standardError, 2), sig(corrected[i].value, 5), sig(corrected[i].standardError, 2)])
                }
            }
            a.figures.append(NamedFigure("residuals-\(act)", "\(act) (C_W = \(sig(InitSupport.criticalWeightVariance(act)))), output of a depth-\(c.depth) network: |E f - prediction| without and with the first-order term (+- jackknife SE, \(c.networks) networks per width).",
                                         Figure(title: "Perturbative expansion, \(act)", x: Axis("width N", scale: .log), y: Axis("|residual|", scale: .log), layers: layers)))
        }
        a.tables.append(DataTable("residuals", header: ["activation", "f", "N", "uncorrected", "se", "corrected", "se"], rows: rows))
        a.notes.append("E f is estimated by conditioning: given the last hidden layer the output neurons are i.i.d. N(0, K-hat^(L)), so E[f | K-hat] = E_K-hat[f] exactly; the networks are sampled by the exact single-input chain. G is the measured dressed two-point function E K-hat (eq. 3.4.3); kappa_4 comes from the leading-order recursion of Theorem 3.4.1. For z1^2 z2^2 and z^4 the corrected residual is exactly Var K-hat - kappa_4 (times 1 and 3): the O(N^-2) error of the recursion.")
        return a
    }
}
