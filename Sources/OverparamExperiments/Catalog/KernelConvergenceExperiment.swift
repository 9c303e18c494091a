import Foundation
import Overparam

/// `kernels.mc-convergence`: empirical NTK and NNGP of sampled networks against the analytic infinite-width
/// kernels as the width N grows (the foundation's acceptance check, seed 004 sec. 2.2 and 3.4; seed 001 eq. 11).
///
/// For each width, S networks are sampled in batches (the runs). Two errors, relative in Frobenius norm:
/// - a single network: ||Theta-hat - Theta|| / ||Theta||, averaged over the S networks: fluctuations ~ N^(-1/2);
/// - the average of S networks: ||mean Theta-hat - Theta|| / ||Theta|| = |finite-width bias + noise|, with the bias
///   ~ N^(-1) and the noise ~ (S N)^(-1/2). The noise's expected squared norm is estimated from the per-entry
///   standard errors and removed in quadrature (bias^2 = err^2 - noise^2); the slope is fitted only where the bias
///   exceeds twice the noise (above the noise floor).
/// Claims: slopes -1/2 and -1 within 3 standard errors of the fitted slopes.
public struct KernelConvergenceExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]
        public var networks: Int
        public var batches: Int
        public var inputs: Int
        public var dimension: Int
        public var depth: Int
        public var activation: String
        public var weightVariance: Double
        public var biasVariance: Double
        public var inputSeed: Int
    }

    public init() {}
    public var id: String { "kernels.mc-convergence" }
    public var source: String { "foundation acceptance; seed 004 secs. 2.2 and 3.4 (NTK concentration, 1/N corrections)" }
    public var summary: String { "Empirical NTK/NNGP of sampled networks vs the analytic kernels as width grows" }
    public var claimText: String {
        "The empirical kernel of one network fluctuates around the infinite-width kernel with error ~ N^(-1/2); averaged over many networks, what remains is the finite-width bias ~ N^(-1), until the S^(-1/2) noise floor."
    }
    public var estimates: (quick: String, full: String) { ("10 s", "15 min") }
    public var quickNote: String { "widths 8-128 (full: 8-512), 8,000 networks per width (full: 64,000), 4 inputs in d = 3, ReLU depth 3" }

    public func configuration(_ preset: Preset) -> Config {
        switch preset {
        case .quick: return Config(widths: [8, 16, 32, 64, 128], networks: 8000, batches: 8, inputs: 4, dimension: 3, depth: 3,
                                   activation: "relu", weightVariance: 2, biasVariance: 0, inputSeed: 1)
        case .full: return Config(widths: [8, 16, 32, 64, 128, 256, 512], networks: 64000, batches: 32, inputs: 4, dimension: 3,
                                  depth: 3, activation: "relu", weightVariance: 2, biasVariance: 0, inputSeed: 1)
        }
    }

    public func runs(_ c: Config) -> [RunKey] {
        c.widths.flatMap { w in (0..<max(1, c.batches)).map { RunKey("width=\(String(format: "%05d", w))", seed: $0) } }
    }

    func architecture(_ c: Config, width: Int) throws -> Architecture {
        Architecture(inputDimension: c.dimension, depth: c.depth, width: width, activation: try Activation(parsing: c.activation),
                     weightVariance: c.weightVariance, biasVariance: c.biasVariance)
    }

    func inputs(_ c: Config) -> Matrix {
        var rng = Xoshiro256StarStar(seed: UInt64(c.inputSeed))
        return Matrix.randomNormal(rows: c.inputs, cols: c.dimension, using: &rng)
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        guard let width = Int(key.setting.dropFirst(6)) else { throw OverparamError.invalidArgument(name: "setting", problem: key.setting) }
        let arch = try architecture(c, width: width)
        let x = inputs(c)
        let exact = try InfiniteWidthKernel(arch)(x)
        let per = max(1, c.networks / max(1, c.batches))
        let n2 = c.inputs * c.inputs
        var sumT = [Double](repeating: 0, count: n2), sqT = sumT, sumK = sumT, sqK = sumT
        var singleT = [Double](), singleK = [Double]()
        for k in 0..<per {
            let net = try Network(arch, seed: MonteCarloKernel.sampleSeed(seed, k))
            let e = try EmpiricalNTK.compute(net, x)
            for i in 0..<n2 {
                sumT[i] += e.ntk.storage[i]; sqT[i] += e.ntk.storage[i] * e.ntk.storage[i]
                sumK[i] += e.nngp.storage[i]; sqK[i] += e.nngp.storage[i] * e.nngp.storage[i]
            }
            singleT.append((e.ntk - exact.ntk).frobeniusNorm / exact.ntk.frobeniusNorm)
            singleK.append((e.nngp - exact.nngp).frobeniusNorm / exact.nngp.frobeniusNorm)
        }
        return RunOutput(metrics: ["networks": Double(per), "width": Double(width)],
                         series: ["ntk_sum": sumT, "ntk_sq": sqT, "nngp_sum": sumK, "nngp_sq": sqK,
                                  "single_ntk_error": singleT, "single_nngp_error": singleK,
                                  "ntk_exact": exact.ntk.storage, "nngp_exact": exact.nngp.storage])
    }

    struct WidthStats { var width: Double; var single: (mean: Double, se: Double); var avgErr: Double; var noise: Double; var bias: Double; var s: Int }

    func stats(_ runs: [RunRecord], kernel: String) -> [WidthStats] {
        let byWidth = Dictionary(grouping: runs) { $0.output.metrics["width"] ?? 0 }
        return byWidth.keys.sorted().map { w in
            let rs = byWidth[w]!
            let exact = rs[0].output.series["\(kernel)_exact"]!
            let n2 = exact.count
            var sum = [Double](repeating: 0, count: n2), sq = sum
            var s = 0.0
            var singles = [Double]()
            for r in rs {
                s += r.output.metrics["networks"] ?? 0
                for i in 0..<n2 { sum[i] += r.output.series["\(kernel)_sum"]![i]; sq[i] += r.output.series["\(kernel)_sq"]![i] }
                singles += r.output.series["single_\(kernel)_error"] ?? []
            }
            let norm = exact.reduce(0) { $0 + $1 * $1 }.squareRoot()
            var err2 = 0.0, noise2 = 0.0
            for i in 0..<n2 {
                let m = sum[i] / s
                let v = max(0, (sq[i] - s * m * m) / (s - 1))
                err2 += (m - exact[i]) * (m - exact[i]); noise2 += v / s
            }
            let avg = err2.squareRoot() / norm, noise = noise2.squareRoot() / norm
            return WidthStats(width: w, single: meanAndStandardError(singles), avgErr: avg, noise: noise,
                              bias: max(0, err2 - noise2).squareRoot() / norm, s: Int(s))
        }
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var rows = [[String]]()
        for kernel in ["ntk", "nngp"] {
            let st = stats(runs, kernel: kernel)
            let name = kernel.uppercased()
            let widths = st.map { $0.width }
            for s in st {
                rows.append([kernel, "\(Int(s.width))", "\(s.s)", sig(s.single.mean, 6), sig(s.single.se, 4), sig(s.avgErr, 6), sig(s.noise, 4), sig(s.bias, 6)])
            }
            // The N^(-1/2) law is asymptotic: corrections are of relative order depth / N, so fit widths N >= 10 depth,
            // weighted by the run's standard errors.
            let asym = st.filter { $0.width >= Double(10 * c.depth) }
            if let fit = LinearFit.powerLaw(x: asym.map { $0.width }, y: asym.map { $0.single.mean }, standardErrors: asym.map { $0.single.se }) {
                let ok = abs(fit.slope + 0.5) <= 3 * fit.slopeStandardError
                a.claims.append(Claim("\(name): single-network error ~ N^(-1/2) (widths N >= 10 x depth)", measured: fit.slope, expected: "-0.5",
                                      tolerance: "3 SE of the slope weighted by the per-width standard errors (SE \(sig(fit.slopeStandardError, 2)), widths \(asym.map { Int($0.width) }))",
                                      passed: ok))
            } else {
                a.claims.append(Claim("\(name): single-network error ~ N^(-1/2)", measured: .nan, expected: "-0.5",
                                      tolerance: "needs >= 2 widths N >= 10 x depth", passed: false))
            }
            let above = st.filter { $0.bias > 2 * $0.noise }
            if let fit = LinearFit.powerLaw(x: above.map { $0.width }, y: above.map { $0.bias }) {
                let ok = abs(fit.slope + 1) <= 3 * fit.slopeStandardError && fit.slopeStandardError < 0.25
                a.claims.append(Claim("\(name): error of the \(st.first?.s ?? 0)-network average (bias) ~ N^(-1) above the noise floor",
                                      measured: fit.slope, expected: "-1",
                                      tolerance: "3 SE of the fitted slope (SE \(sig(fit.slopeStandardError, 2)), widths with bias > 2 x noise: \(above.map { Int($0.width) }))",
                                      passed: ok))
            } else {
                a.claims.append(Claim("\(name): averaged error ~ N^(-1) above the noise floor", measured: .nan, expected: "-1",
                                      tolerance: "needs >= 3 widths with bias > 2 x noise", passed: false))
                a.notes.append("\(name): fewer than 3 widths have a finite-width bias above twice the noise; raise `networks`.")
            }
            a.figures.append(NamedFigure("convergence-\(kernel)", "\(name) relative error vs width: one network (mean +- SE), the average of S networks, its bias (noise removed in quadrature) and the noise floor; dashed: N^(-1/2) and N^(-1) guides.",
                Figure(title: "\(name): empirical vs analytic (\(c.activation), depth \(c.depth))", x: Axis("width N", scale: .log), y: Axis("relative Frobenius error", scale: .log),
                       layers: [
                        .errorBars(x: widths, y: st.map { $0.single.mean }, err: st.map { $0.single.se }, label: "single network", color: 0),
                        .line(x: widths, y: st.map { $0.single.mean }, label: nil, color: 0),
                        .line(x: widths, y: st.map { $0.avgErr }, label: "average of S", color: 1),
                        .line(x: widths, y: st.map { $0.bias }, label: "bias (noise removed)", color: 2),
                        .line(x: widths, y: st.map { $0.noise }, label: "noise floor", color: 7, dashed: true, markers: false),
                        .line(x: widths, y: widths.map { (st.first?.single.mean ?? 1) * ($0 / widths[0]).squareRoot().reciprocal }, label: "N^-1/2", color: 0, dashed: true, markers: false),
                        .line(x: widths, y: widths.map { (st.first?.bias ?? 1) * widths[0] / $0 }, label: "N^-1", color: 2, dashed: true, markers: false),
                       ])))
        }
        a.tables.append(DataTable("convergence-ntk", header: ["kernel", "width", "networks", "single_error", "single_error_se", "average_error", "noise", "bias"], rows: rows.filter { $0[0] == "ntk" }))
        a.tables.append(DataTable("convergence-nngp", header: ["kernel", "width", "networks", "single_error", "single_error_se", "average_error", "noise", "bias"], rows: rows.filter { $0[0] == "nngp" }))
        return a
    }
}

extension Double { var reciprocal: Double { 1 / self } }
