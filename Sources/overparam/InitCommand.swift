import ArgumentParser
import Foundation
import Overparam
import OverparamExperiments

/// `overparam init`: random networks at initialization (seed 004 chapters 3-4).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init",
        abstract: "Random networks at initialization (seed 004 ch. 3-4): output cumulants by Monte Carlo, the fourth-cumulant recursion, deep linear norms, linear regions.",
        subcommands: [InitMoments.self, InitCumulants.self, InitDeepLinear.self, InitRegions.self])
}

/// The architecture flags of `init moments` and `init cumulants`, with seed 004's defaults (not those of
/// ``ArchitectureOptions``, whose `ntk` / width 512 defaults suit kernels): Hanin's parameterization
/// z^(l+1) = b^(l+1) + W^(l+1) sigma(z^(l)) / sqrt(N_l), W ~ N(0, C_W), b ~ N(0, C_b), ReLU at criticality C_W = 2,
/// no biases, depth 3 and a small width (32) so that the O(L/N) corrections are visible. At initialization `ntk` and
/// `standard` sample exactly the same law as `hanin` (only the gradients differ).
struct InitNetworkOptions: ParsableArguments {
    @Option(help: "Number of hidden layers L (>= 1).") var depth: Int = 3
    @Option(help: "Hidden width N of every layer (>= 1); small widths show the finite-width corrections (kappa_4 / K^2 ~ L / N).") var width: Int = 32
    @Option(help: "relu, leaky-relu[:alpha], abs, ab-relu:a,b, erf, tanh, sigmoid, softplus[:a], gelu, sin, identity, shaped-cubic:psi,L.") var activation: String = "relu"
    @Option(help: "Weight variance C_W (2 is critical for ReLU, 1 for tanh).") var weightVariance: Double = 2
    @Option(help: "Bias variance C_b (0: no biases).") var biasVariance: Double = 0
    @Option(help: "Readout weight variance (default: C_W).") var readoutVariance: Double?
    @Option(help: "hanin (seed 004: W ~ N(0, C_W), z = b + W sigma(z) / sqrt(N)); ntk and standard sample the same law at initialization; other parameterizations are sampled but get no fourth-cumulant prediction.") var parameterization: String = "hanin"

    func architecture(inputDimension: Int) throws -> Architecture {
        guard depth >= 1 else { throw OverparamError.invalidArgument(name: "--depth", problem: "must be >= 1 (got \(depth))") }
        guard width >= 1 else { throw OverparamError.invalidArgument(name: "--width", problem: "must be >= 1 (got \(width))") }
        guard weightVariance >= 0, weightVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "--weight-variance", problem: "must be a finite number >= 0 (got \(weightVariance))")
        }
        guard biasVariance >= 0, biasVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "--bias-variance", problem: "must be a finite number >= 0 (got \(biasVariance))")
        }
        try checkSize(depth: depth, width: width, inputDimension: inputDimension, inputFlag: "--x")
        let a = Architecture(inputDimension: inputDimension, hiddenWidths: [Int](repeating: width, count: depth),
                             activation: try Activation(parsing: activation), outputDimension: 1,
                             weightVariance: weightVariance, biasVariance: biasVariance, readoutWeightVariance: readoutVariance,
                             parameterization: try Parameterization(parsing: parameterization))
        try a.validate()
        return a
    }
}

// MARK: - Shared helpers

/// Reject sizes that could not be allocated (or would overflow Int) with one line naming the flag.
private func checkSize(depth: Int, width: Int, inputDimension: Int, inputFlag: String = "--input-dimension") throws {
    guard depth <= 10_000 else { throw OverparamError.invalidArgument(name: "--depth", problem: "must be <= 10000 (got \(depth))") }
    guard width <= 100_000 else { throw OverparamError.invalidArgument(name: "--width", problem: "must be <= 100000 (got \(width))") }
    guard inputDimension <= 1_000_000 else { throw OverparamError.invalidArgument(name: inputFlag, problem: "must be <= 1000000 (got \(inputDimension))") }
    let parameters = Double(width) * Double(width) * Double(max(depth - 1, 0)) + Double(width) * Double(inputDimension + depth + 2)
    guard parameters <= 5e7 else {
        throw OverparamError.invalidArgument(name: "--width", problem: "depth \(depth) x width \(width) is \(fmt(parameters, 3)) parameters per network, above the 5e7 this command holds; use a smaller --width or --depth")
    }
}

/// Comma-separated finite numbers, naming the flag in errors.
private func parseNumbers(_ text: String, flag: String) throws -> [Double] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { p in
        guard let v = Double(p), v.isFinite else {
            throw OverparamError.invalidArgument(name: flag, problem: "'\(p)' is not a finite number; pass comma-separated numbers such as 1,-0.5 (write \(flag)=-1,2 when the first one is negative)")
        }
        return v
    }
}

/// Comma-separated integers >= 1, naming the flag in errors.
private func parseWidths(_ text: String, flag: String) throws -> [Int] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { p in
        let s = p.trimmingCharacters(in: .whitespaces)
        guard let v = Int(s), v >= 1 else {
            throw OverparamError.invalidArgument(name: flag, problem: "'\(s)' is not a width >= 1; pass comma-separated integers such as 64,64,64")
        }
        return v
    }
}

/// Write text atomically, naming the flag in errors.
private func writeText(_ text: String, to path: String, flag: String) throws {
    do { try AtomicFile.write(Data(text.utf8), to: path) } catch let e as OverparamError {
        throw OverparamError.invalidArgument(name: flag, problem: e.description)
    }
}

/// "value +- se".
private func pm(_ e: MonteCarloEstimate) -> String {
    e.value.isFinite && e.standardError.isFinite ? "\(fmt(e.value)) +- \(fmt(e.standardError, 2))" : "- (zero variance)"
}

/// A z-score with one decimal, or "-" when undefined (zero standard error and no difference).
private func zText(_ z: Double) -> String { z.isFinite ? String(format: "%.1f", z) : "-" }

private func vectorText(_ v: [Double]) -> String { "(" + v.map { fmt($0) }.joined(separator: ", ") + ")" }

// MARK: - moments

struct InitMoments: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "moments",
        abstract: "Monte Carlo over random networks: mean, variance (vs the NNGP K(x,x)), k3, k4 and excess kurtosis of the output at each input, with the fourth cumulant predicted by the moment closure.",
        discussion: """
        Defaults: seed 004's network (--parameterization hanin: z^(l+1) = b + W sigma(z^(l)) / sqrt(N_l), W ~ N(0, C_W), \
        b ~ N(0, C_b)), ReLU at C_W = 2 without biases, depth 3, width 32, 10000 networks, and the inputs \
        (1,-1,1,-1), (0.5,0.5,0.5,0.5), (2,0,0,0). Cumulants are Fisher's k-statistics with delete-one jackknife standard \
        errors. The prediction (FourthCumulant, seed 004 Thm 3.4.1 corrected) is per input: kappa_4 = Var K-hat^(L) and \
        excess kurtosis 3 kappa_4 / K^2, by the moment closure (exact for ReLU) and at leading order in 1/N.
        """)

    @OptionGroup var net: InitNetworkOptions
    @Option(help: "Inputs (n x d .npy or .csv). Default: (1,-1,1,-1), (0.5,0.5,0.5,0.5), (2,0,0,0) in d = 4.") var x: String?
    @Option(help: "Number of sampled networks M (>= 5).") var networks: Int = 10000
    @Option(help: "Seed; network i depends only on (seed, i), not on the thread count.") var seed: UInt64 = 0
    @Option(help: "Write the output samples z^(L+1) (M x n .npy: network x input).") var out: String?

    func run() throws {
        guard networks >= 5 else { throw OverparamError.invalidArgument(name: "--networks", problem: "must be >= 5 (the k-statistics need 5 samples; got \(networks))") }
        let points = try x.map { try loadInputs($0, flag: "--x") }
            ?? Matrix([[1, -1, 1, -1], [0.5, 0.5, 0.5, 0.5], [2, 0, 0, 0]])
        guard networks <= 100_000_000 / points.rows else {
            throw OverparamError.invalidArgument(name: "--networks", problem: "\(networks) networks x \(points.rows) inputs is more than 10^8 samples; use fewer")
        }
        let arch = try net.architecture(inputDimension: points.cols)
        let start = Date()
        let samples = try RandomNetworkMonteCarlo(arch, inputs: points, networks: networks, seed: seed).run()
        let secs = Date().timeIntervalSince(start)
        let nngp = try InfiniteWidthKernel(arch)(points).nngp.diagonal
        let fc = try? FourthCumulant(arch)
        print("\(networks) networks: \(arch), seed \(seed) (\(String(format: "%.2f", secs)) s, \(String(format: "%.0f", Double(networks) / max(secs, 1e-9))) networks/s)")
        let cumulants = try (0..<points.rows).map { try SampleCumulants(samples.output(input: $0)) }
        print(pad("input", 7) + lpad("|x|^2/d", 9) + lpad("mean", 24) + lpad("variance", 24) + lpad("NNGP K(x,x)", 13) + lpad("z", 7))
        for (a, c) in cumulants.enumerated() {
            let r = points.row(a)
            let sq = r.reduce(0) { $0 + $1 * $1 } / Double(r.count)
            print(pad("\(a)", 7) + lpad(fmt(sq), 9) + lpad(pm(c.mean), 24) + lpad(pm(c.variance), 24) + lpad(fmt(nngp[a]), 13)
                  + lpad(zText(c.variance.zScore(nngp[a])), 7))
        }
        print("")
        print(pad("input", 7) + lpad("k3", 24) + lpad("k4", 24) + lpad("excess kurtosis", 24)
              + lpad("closure 3k4/K^2", 17) + lpad("z", 6) + lpad("leading", 10) + lpad("closure k4/K^2", 16))
        for (a, c) in cumulants.enumerated() {
            var pred = lpad("-", 17) + lpad("-", 6) + lpad("-", 10) + lpad("-", 16)
            if let fc {
                let k0 = fc.inputVariance(points.row(a))
                if k0 > 0, k0.isFinite {
                    let closure = try fc.momentClosure(inputVariance: k0, widths: arch.hiddenWidths)
                    let lead = try fc.leadingOrder(inputVariance: k0, widths: arch.hiddenWidths)
                    let z = c.excessKurtosis.zScore(closure.outputExcessKurtosis)
                    pred = lpad(fmt(closure.outputExcessKurtosis), 17) + lpad(zText(z), 6)
                        + lpad(fmt(lead.outputExcessKurtosis), 10) + lpad(fmt(closure.output), 16)
                }
            }
            print(pad("\(a)", 7) + lpad(pm(c.thirdCumulant), 24) + lpad(pm(c.fourthCumulant), 24) + lpad(pm(c.excessKurtosis), 24) + pred)
        }
        if fc == nil {
            print("(no fourth-cumulant prediction for --parameterization \(arch.parameterization); use hanin, ntk or standard)")
        } else {
            print("excess kurtosis = k4 / k2^2; the prediction is 3 kappa_4 / K^2 with kappa_4 = Var K-hat^(L) (moment closure, exact for ReLU; 'leading' = O(1/N) recursion)")
        }
        if let out {
            try save(Matrix(rows: networks, cols: points.rows, storage: samples.outputs), out, flag: "--out")
            print("wrote \(out) (\(networks) x \(points.rows))")
        }
    }
}

// MARK: - cumulants

struct InitCumulants: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cumulants",
        abstract: "The fourth-cumulant recursion layer by layer at one input: K^(l), kappa_4^(l) / K^2 at leading order and by the moment closure, optionally against Monte Carlo.",
        discussion: """
        kappa_4^(l) = Var K-hat^(l-1), K-hat^(l) = C_b + (C_W / N_l) sum_j sigma(z_j^(l))^2 (seed 004 Thm 3.4.1 as corrected \
        in SEED-NOTES); the excess kurtosis of every neuron of z^(l) is 3 kappa_4^(l) / K^2. Row l = L+1 is the output. \
        Defaults as for 'init moments': hanin, ReLU, C_W = 2, no biases, depth 3, width 32. With --monte-carlo M the \
        columns 'MC' estimate E z^2 = E K-hat^(l-1) and Var K-hat^(l-1) / (E K-hat^(l-1))^2 from all neurons of layer \
        l - 1 of M sampled networks (jackknife standard errors, the ratio's included).
        """)

    @OptionGroup var net: InitNetworkOptions
    @Option(help: "The input x, comma-separated (write --x=-1,... when it starts with a minus); default 1,-1,1,-1 (|x|^2/d = 1).") var x: String = "1,-1,1,-1"
    @Option(help: "Also estimate the columns from M sampled networks (>= 5).") var monteCarlo: Int?
    @Option(help: "Seed of the Monte Carlo networks.") var seed: UInt64 = 0
    @Option(help: "Write the table as CSV.") var out: String?

    func run() throws {
        let xs = try parseNumbers(x, flag: "--x")
        let arch = try net.architecture(inputDimension: xs.count)
        let fc: FourthCumulant
        do { fc = try FourthCumulant(arch) } catch {
            throw OverparamError.invalidArgument(name: "--parameterization", problem: "the recursion needs hanin, ntk or standard (got \(arch.parameterization))")
        }
        let k0 = fc.inputVariance(xs)
        guard k0 > 0, k0.isFinite else {
            throw OverparamError.invalidArgument(name: "--x", problem: "gives K^(1) = C_b + C_W |x|^2 / d = \(fmt(k0)); pass a nonzero input or --bias-variance > 0")
        }
        if let m = monteCarlo {
            guard m >= 5 else { throw OverparamError.invalidArgument(name: "--monte-carlo", problem: "must be >= 5 networks (got \(m))") }
            guard m <= 50_000_000 / arch.hiddenWidths.reduce(0, +) else {
                throw OverparamError.invalidArgument(name: "--monte-carlo", problem: "\(m) networks would keep \(m) x \(arch.hiddenWidths.reduce(0, +)) pre-activations; use fewer networks")
            }
        }
        let lead = try fc.leadingOrder(inputVariance: k0, widths: arch.hiddenWidths)
        let closure = try fc.momentClosure(inputVariance: k0, widths: arch.hiddenWidths)
        let depth = arch.depth
        // MC: E K-hat^(l-1) and Var K-hat^(l-1) / (E K-hat^(l-1))^2 for l = 2...L+1 (l = 1: K-hat^(0) = K^(1) exactly).
        var mc = [(ez2: MonteCarloEstimate, norm: MonteCarloEstimate)]()
        var mcSeconds = 0.0
        if let m = monteCarlo {
            let start = Date()
            let samples = try RandomNetworkMonteCarlo(arch, inputs: Matrix([xs]), networks: m, seed: seed, recordLayers: Array(1...depth)).run()
            mcSeconds = Date().timeIntervalSince(start)
            mc.append((MonteCarloEstimate(value: k0, standardError: 0), MonteCarloEstimate(value: 0, standardError: 0)))
            for layer in 1...depth {
                let cw = layer == depth ? fc.readoutWeightVariance : fc.weightVariance
                let n = Double(arch.hiddenWidths[layer - 1])
                let act = arch.activation
                let khat = try (0..<m).map { i -> Double in
                    let z = try samples.layer(layer, input: 0, network: i)
                    return fc.biasVariance + cw / n * z.reduce(0) { let s = act($1); return $0 + s * s }
                }
                let c = try SampleCumulants(khat)
                let ratio = try Jackknife.ofMeans([khat, khat.map { $0 * $0 }]) { m in (m[1] - m[0] * m[0]) / (m[0] * m[0]) }
                mc.append((c.mean, ratio))
            }
        }
        print("\(arch), x = \(vectorText(xs)), K^(1) = \(fmt(k0))")
        var header = pad("l", 4) + lpad("K^(l)", 11) + lpad("lead k4/K^2", 13) + lpad("closure E z^2", 15) + lpad("closure k4/K^2", 16) + lpad("closure kurt", 14)
        if !mc.isEmpty { header += lpad("MC E z^2", 24) + lpad("MC k4/K^2", 24) + lpad("z", 6) }
        print(header)
        var csv = ["layer,K,kappa4_over_K2_leading,Ez2_closure,kappa4_over_K2_closure,excess_kurtosis_closure"
                   + (mc.isEmpty ? "" : ",Ez2_mc,Ez2_mc_se,kappa4_over_K2_mc,kappa4_over_K2_mc_se")]
        for l in 1...(depth + 1) {
            let i = l - 1
            var line = pad("\(l)\(l == depth + 1 ? "*" : "")", 4) + lpad(fmt(lead.variances[i]), 11) + lpad(fmt(lead.normalized[i]), 13)
                + lpad(fmt(closure.variances[i]), 15) + lpad(fmt(closure.normalized[i]), 16) + lpad(fmt(3 * closure.normalized[i]), 14)
            var row = "\(l),\(lead.variances[i]),\(lead.normalized[i]),\(closure.variances[i]),\(closure.normalized[i]),\(3 * closure.normalized[i])"
            if !mc.isEmpty {
                let e = mc[i]
                let z = e.norm.zScore(closure.normalized[i])
                line += lpad(l == 1 ? fmt(e.ez2.value) + " (exact)" : pm(e.ez2), 24) + lpad(l == 1 ? "0 (exact)" : pm(e.norm), 24)
                    + lpad(l == 1 ? "-" : zText(z), 6)
                row += ",\(e.ez2.value),\(e.ez2.standardError),\(e.norm.value),\(e.norm.standardError)"
            }
            print(line)
            csv.append(row)
        }
        print("* output z^(L+1). kappa_4^(l) = Var K-hat^(l-1); excess kurtosis of z^(l) = 3 kappa_4^(l) / K^2; z = |MC - closure| / SE")
        if let m = monteCarlo { print("Monte Carlo: \(m) networks, seed \(seed), \(String(format: "%.2f", mcSeconds)) s") }
        if let out {
            try writeText(csv.joined(separator: "\n") + "\n", to: out, flag: "--out")
            print("wrote \(out)")
        }
    }
}

// MARK: - deep-linear

struct InitDeepLinear: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deep-linear",
        abstract: "The exact law of log ||z^(L+1)|| of a random deep linear network (seed 004 sec. 3.2): mean, variance, beta, the normal approximation, and Monte Carlo.",
        discussion: """
        The network is z^(l+1) = W^(l+1) z^(l) / sqrt(N_l), W ~ N(0, 1) (identity activation, C_W = 1, no biases). \
        S = log ||z^(L+1)(x)|| - log(||x|| sqrt(N_{L+1} / N_0)) is a sum of independent terms (1/2) log(chi^2_{N_l} / N_l), \
        l = 1...L+1. The normal approximation (SEED-NOTES) is N(-beta/2, beta/2) for the hidden layers, beta = sum 1/N_l, \
        plus the readout term's exact mean and variance.
        """)

    @Option(help: "Hidden widths N_1,...,N_L (comma-separated).") var widths: String = "32,32,32,32"
    @Option(help: "Input dimension N_0.") var inputDimension: Int = 10
    @Option(help: "Output dimension N_{L+1}.") var outputs: Int = 1
    @Option(help: "The input x (comma-separated, N_0 entries, nonzero; write --x=-1,... when it starts with a minus); default all ones.") var x: String?
    @Option(help: "Monte Carlo: sample this many networks and compare their log ||z|| with the exact law (0: none; else >= 5).") var samples: Int = 0
    @Option(help: "Seed of the sampled networks and of the exact draws.") var seed: UInt64 = 0
    @Option(help: "Write --exact-count draws of log ||z^(L+1)(x)|| from the exact law (1-D .npy).") var out: String?
    @Option(help: "Number of exact draws written to --out.") var exactCount: Int = 100_000

    func run() throws {
        let hidden = try parseWidths(widths, flag: "--widths")
        guard inputDimension >= 1 else { throw OverparamError.invalidArgument(name: "--input-dimension", problem: "must be >= 1 (got \(inputDimension))") }
        guard outputs >= 1 else { throw OverparamError.invalidArgument(name: "--outputs", problem: "must be >= 1 (got \(outputs))") }
        guard samples == 0 || samples >= 5 else { throw OverparamError.invalidArgument(name: "--samples", problem: "must be 0 or >= 5 (got \(samples))") }
        guard exactCount >= 1, exactCount <= 100_000_000 else {
            throw OverparamError.invalidArgument(name: "--exact-count", problem: "must be in 1...100000000 (got \(exactCount))")
        }
        guard samples <= 10_000_000 else { throw OverparamError.invalidArgument(name: "--samples", problem: "must be <= 10000000 (got \(samples))") }
        guard inputDimension <= 1_000_000 else { throw OverparamError.invalidArgument(name: "--input-dimension", problem: "must be <= 1000000 (got \(inputDimension))") }
        guard outputs <= 100_000 else { throw OverparamError.invalidArgument(name: "--outputs", problem: "must be <= 100000 (got \(outputs))") }
        guard hidden.count <= 10_000, hidden.allSatisfy({ $0 <= 100_000 }) else {
            throw OverparamError.invalidArgument(name: "--widths", problem: "at most 10000 layers of width <= 100000")
        }
        if samples > 0 {
            let dims = [inputDimension] + hidden + [outputs]
            let parameters = zip(dims, dims.dropFirst()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            guard parameters <= 5e7 else {
                throw OverparamError.invalidArgument(name: "--samples", problem: "sampled networks of \(fmt(parameters, 3)) weights are above the 5e7 this command holds; use smaller --widths (the exact law needs no sampling)")
            }
        }
        let input = try x.map { try parseNumbers($0, flag: "--x") } ?? [Double](repeating: 1, count: inputDimension)
        guard input.count == inputDimension else {
            throw OverparamError.invalidArgument(name: "--x", problem: "has \(input.count) entries, --input-dimension is \(inputDimension)")
        }
        guard input.contains(where: { $0 != 0 }) else { throw OverparamError.invalidArgument(name: "--x", problem: "must be nonzero (log ||z|| = -inf at x = 0)") }
        let law = try DeepLinearNorm(inputDimension: inputDimension, hiddenWidths: hidden, outputDimension: outputs)
        let offset = law.logNormalization(input: input)
        let normal = law.normalApproximation
        print("deep linear network: N_0 = \(inputDimension), hidden widths [\(hidden.map(String.init).joined(separator: ", "))], N_{L+1} = \(outputs) (identity, C_W = 1, no biases)")
        print("S = log||z^(L+1)|| - log(||x|| sqrt(N_{L+1}/N_0)); log(||x|| sqrt(N_{L+1}/N_0)) = \(fmt(offset, 6)) at x")
        print("beta = sum_{l<=L} 1/N_l = \(fmt(law.beta, 6))")
        print(pad("", 10) + lpad("exact", 14) + lpad("normal approx", 16))
        print(pad("mean S", 10) + lpad(fmt(law.mean, 6), 14) + lpad(fmt(normal.mean, 6), 16))
        print(pad("var S", 10) + lpad(fmt(law.variance, 6), 14) + lpad(fmt(normal.variance, 6), 16))
        print(pad("k3 S", 10) + lpad(fmt(law.thirdCumulant, 6), 14) + lpad("0", 16))
        print("hidden layers alone: mean \(fmt(law.hiddenMean, 6)) (-beta/2 = \(fmt(-law.beta / 2, 6))), variance \(fmt(law.hiddenVariance, 6)) (beta/2 = \(fmt(law.beta / 2, 6))), skewness \(fmt(law.hiddenSkewness, 4))")
        if samples > 0 {
            let start = Date()
            let s = try law.monteCarlo(networks: samples, seed: seed, input: input).map { $0 - offset }
            let secs = Date().timeIntervalSince(start)
            let c = try SampleCumulants(s)
            func z(_ e: MonteCarloEstimate, _ t: Double) -> String { zText(e.zScore(t)) }
            print("Monte Carlo over \(samples) sampled networks (seed \(seed), \(String(format: "%.2f", secs)) s):")
            print(pad("", 10) + lpad("MC", 24) + lpad("z vs exact", 12) + lpad("z vs normal", 13))
            print(pad("mean S", 10) + lpad(pm(c.mean), 24) + lpad(z(c.mean, law.mean), 12) + lpad(z(c.mean, normal.mean), 13))
            print(pad("var S", 10) + lpad(pm(c.variance), 24) + lpad(z(c.variance, law.variance), 12) + lpad(z(c.variance, normal.variance), 13))
            print(pad("k3 S", 10) + lpad(pm(c.thirdCumulant), 24) + lpad(z(c.thirdCumulant, law.thirdCumulant), 12) + lpad(z(c.thirdCumulant, 0), 13))
        }
        if let out {
            let draws = try law.exactSample(count: exactCount, seed: seed, input: input)
            do { try NPY.write(Matrix(column: draws), to: out, asVector: true) } catch let e as OverparamError {
                throw OverparamError.invalidArgument(name: "--out", problem: e.description)
            }
            print("wrote \(out) (\(exactCount) exact draws of log ||z^(L+1)(x)||)")
        }
    }
}

// MARK: - regions

struct InitRegions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "regions",
        abstract: "Exact linear regions of a random ReLU network (seed 004 ch. 4, eq. 4.0.1) along a segment or in a 2-D box.",
        discussion: """
        The network is eq. 4.0.1 (corrected): z^(l+1) = b^(l+1) + W^(l+1) ReLU(z^(l)) / sqrt(N_l), W ~ N(0, C_W), \
        b ~ N(0, C_b), defaults C_W = 2, C_b = 1, one output. Pass --segment 'x0;x1' (or --from and --to) for the \
        breakpoints, activation regions and linear pieces along x0 + t (x1 - x0), t in [0, 1]; or --box H (input \
        dimension 2) for the regions met by [-H, H]^2, their counts by layer, the output's nodal set, and Zaslavsky's \
        count for layer 1 alone. Examples: overparam init regions --box 3 --svg regions.svg; \
        overparam init regions --input-dimension 4 --segment='-1,0,0,0;1,0,0,0'.
        """)

    @Option(help: "Number of hidden layers L (>= 1).") var depth: Int = 3
    @Option(help: "Hidden width N of every layer (>= 1).") var width: Int = 16
    @Option(help: "Input dimension N_0 (--box needs 2).") var inputDimension: Int = 2
    @Option(help: "Only relu: linear regions are defined for piecewise-linear ReLU networks.") var activation: String = "relu"
    @Option(help: "C_W of eq. 4.0.1.") var weightVariance: Double = 2
    @Option(help: "C_b of eq. 4.0.1 (0: no biases).") var biasVariance: Double = 1
    @Option(help: "Seed of the network.") var seed: UInt64 = 0
    @Option(help: "A segment 'x0;x1' (two comma-separated points; write --segment='-1,0;1,0' when it starts with a minus).") var segment: String?
    @Option(help: "Start of the segment (comma-separated; with --to).") var from: String?
    @Option(help: "End of the segment (comma-separated; with --from).") var to: String?
    @Option(help: "Half-width H of the box [-H, H]^2 (input dimension 2).") var box: Double?
    @Option(help: "Write an SVG picture: the cells colored by the output (box) or the output along the segment.") var svg: String?
    @Option(help: "Write a CSV of the cells (box: index, area, vertices, centroid, output, pattern) or intervals (segment).") var csv: String?

    func network() throws -> Network {
        guard depth >= 1 else { throw OverparamError.invalidArgument(name: "--depth", problem: "must be >= 1 (got \(depth))") }
        guard width >= 1 else { throw OverparamError.invalidArgument(name: "--width", problem: "must be >= 1 (got \(width))") }
        guard inputDimension >= 1 else { throw OverparamError.invalidArgument(name: "--input-dimension", problem: "must be >= 1 (got \(inputDimension))") }
        try checkSize(depth: depth, width: width, inputDimension: inputDimension)
        let act = try Activation(parsing: activation)
        guard act == .relu else {
            throw OverparamError.invalidArgument(name: "--activation", problem: "linear regions need relu (got \(act)); the other activations are not piecewise linear with one kink")
        }
        guard weightVariance >= 0, weightVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "--weight-variance", problem: "must be a finite number >= 0 (got \(weightVariance))")
        }
        guard biasVariance >= 0, biasVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "--bias-variance", problem: "must be a finite number >= 0 (got \(biasVariance))")
        }
        return try Network(architecture(hiddenWidths: [Int](repeating: width, count: depth)), seed: seed)
    }

    func architecture(hiddenWidths: [Int]) -> Architecture {
        Architecture(inputDimension: inputDimension, hiddenWidths: hiddenWidths, activation: .relu, weightVariance: weightVariance,
                     biasVariance: biasVariance, parameterization: .hanin)
    }

    func run() throws {
        let segmentMode = segment != nil || from != nil || to != nil
        guard segmentMode != (box != nil) else {
            throw OverparamError.invalidArgument(name: segmentMode ? "--box" : "--box/--segment",
                problem: segmentMode ? "pass either --box or a segment (--segment, --from/--to), not both"
                                     : "pass --box HALFWIDTH (input dimension 2) or --segment 'x0;x1' (or --from and --to)")
        }
        if let box {
            guard inputDimension == 2 else {
                throw OverparamError.invalidArgument(name: "--box", problem: "needs --input-dimension 2 (got \(inputDimension)); use --segment in other dimensions")
            }
            guard box > 0, box <= 1e8 else { throw OverparamError.invalidArgument(name: "--box", problem: "must be a half-width in (0, 1e8] (got \(box))") }
        }
        // Parse the segment before sampling the network, so bad points fail fast.
        var endpoints: ([Double], [Double])?
        if segmentMode {
            if let segment {
                guard from == nil, to == nil else { throw OverparamError.invalidArgument(name: "--segment", problem: "pass --segment or --from/--to, not both") }
                let parts = segment.split(separator: ";", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw OverparamError.invalidArgument(name: "--segment", problem: "must be two points 'x0;x1' separated by ';' (got '\(segment)')") }
                endpoints = (try parseNumbers(String(parts[0]), flag: "--segment"), try parseNumbers(String(parts[1]), flag: "--segment"))
            } else {
                guard let from, let to else { throw OverparamError.invalidArgument(name: from == nil ? "--from" : "--to", problem: "--from and --to go together") }
                endpoints = (try parseNumbers(from, flag: "--from"), try parseNumbers(to, flag: "--to"))
            }
            let (a, b) = endpoints!
            let flag = segment != nil ? "--segment" : "--from/--to"
            guard a.count == inputDimension, b.count == inputDimension else {
                throw OverparamError.invalidArgument(name: flag, problem: "points have \(a.count) and \(b.count) entries, --input-dimension is \(inputDimension)")
            }
            guard a != b else { throw OverparamError.invalidArgument(name: flag, problem: "the two endpoints are equal") }
        }
        let net = try network()
        let regions = try LinearRegions(net)
        print("eq. 4.0.1 ReLU network: N_0 = \(inputDimension), depth \(depth), width \(width), C_W = \(fmt(weightVariance)), C_b = \(fmt(biasVariance)), seed \(seed) (\(regions.hiddenNeuronCount) hidden neurons)")
        if let e = endpoints {
            try runSegment(regions, e.0, e.1)
        } else {
            try runBox(regions, net, box!)
        }
    }

    func runSegment(_ regions: LinearRegions, _ a: [Double], _ b: [Double]) throws {
        let start = Date()
        let p = try regions.segment(from: a, to: b)
        let secs = Date().timeIntervalSince(start)
        let byLayer = p.breakpointCounts.map { $0.reduce(0, +) }
        print("segment \(vectorText(a)) -> \(vectorText(b)), length \(fmt(p.length)) (\(String(format: "%.3f", secs)) s)")
        print("  breakpoints: \(p.breakpoints.count) (by layer: \(byLayer.map(String.init).joined(separator: ", "))); \(fmt(Double(p.breakpoints.count) / p.length)) per unit length, \(fmt(Double(p.breakpoints.count) / p.length / Double(regions.hiddenNeuronCount))) per neuron and unit length")
        print("  activation regions: \(p.regionCount); output linear pieces: \(p.pieceCount)")
        let shown = p.breakpoints.prefix(8).map { "t = \(fmt($0.t)) \($0.neuron)" }
        if !shown.isEmpty { print("  first breakpoints: " + shown.joined(separator: ", ") + (p.breakpoints.count > 8 ? ", ..." : "")) }
        if let csv {
            var lines = ["index,t_lower,t_upper,on_count,output_intercept,output_slope,pattern"]
            for (i, iv) in p.intervals.enumerated() {
                lines.append("\(i),\(iv.lower),\(iv.upper),\(iv.pattern.onCount),\(iv.outputIntercept),\(iv.outputSlope),\(iv.pattern)")
            }
            try writeText(lines.joined(separator: "\n") + "\n", to: csv, flag: "--csv")
            print("wrote \(csv) (\(p.intervals.count) intervals)")
        }
        if let svg {
            var ts = [p.pieces[0].lower], zs = [p.pieces[0].intercept + p.pieces[0].slope * p.pieces[0].lower]
            for piece in p.pieces { ts.append(piece.upper); zs.append(piece.intercept + piece.slope * piece.upper) }
            let bt = p.breakpoints.map(\.t)
            let bz = bt.map { t in p.intervals.first { t <= $0.upper }.map { $0.outputIntercept + $0.outputSlope * t } ?? .nan }
            var fig = Figure(title: "Output along the segment: \(p.regionCount) regions, \(p.pieceCount) pieces", x: Axis("t", range: 0...1), y: Axis("z^(L+1)(x0 + t (x1 - x0))"),
                             layers: [.line(x: ts, y: zs, label: "output", color: 0, markers: false),
                                      .scatter(x: bt, y: bz, values: nil, label: "breakpoints", color: 3, radius: 2)])
            fig.width = 720
            try writeText(fig.svg(), to: svg, flag: "--svg")
            print("wrote \(svg)")
        }
    }

    func runBox(_ regions: LinearRegions, _ net: Network, _ h: Double) throws {
        let box = LinearRegions.PlaneBox.square(halfWidth: h)
        let start = Date()
        let p = try regions.plane(box)
        let secs = Date().timeIntervalSince(start)
        print("box [-\(fmt(h)), \(fmt(h))]^2: \(p.regionCount) activation regions (\(String(format: "%.3f", secs)) s)")
        print("  regions by layer (layers 1..l): " + p.regionCountsByLayer.enumerated().map { "l=\($0.offset + 1): \($0.element)" }.joined(separator: ", "))
        let relErr = abs(p.totalArea - box.area) / box.area
        print("  area check: sum of cell areas \(fmt(p.totalArea, 10)) vs box \(fmt(box.area, 10)) (relative error \(fmt(relErr, 2)))")
        let nodal = p.outputNodalSet
        print("  output nodal set {z^(L+1) = 0}: length \(fmt(nodal.length)) in \(nodal.componentCount) component\(nodal.componentCount == 1 ? "" : "s") (\(nodal.segments.count) segments)")
        // Layer 1 alone: an arrangement of N_1 lines; all its regions lie in the box holding every pairwise intersection.
        let n1 = width
        let z = try LinearRegions.zaslavskyCount(hyperplanes: n1, dimension: 2)
        let arch1 = architecture(hiddenWidths: [n1])
        let layout1 = ParameterLayout(arch1), layout = net.layout
        var p1 = [Double](repeating: 0, count: layout1.count)
        for (k, j) in zip(layout1.weightRange(1), layout.weightRange(1)) { p1[k] = net.parameters[j] }
        for (k, j) in zip(layout1.biasRange(1), layout.biasRange(1)) { p1[k] = net.parameters[j] }
        let layer1 = try LinearRegions(try Network(arch1, parameters: p1))
        let ibox = try layer1.intersectionBox()
        let all = try layer1.plane(ibox).regionCount
        print("  layer 1 alone: \(p.regionCountsByLayer[0]) regions in the box; Zaslavsky's count for \(n1) lines in R^2 is \(z), and \(all) are found in the box [\(fmt(ibox.lower.x)), \(fmt(ibox.upper.x))] x [\(fmt(ibox.lower.y)), \(fmt(ibox.upper.y))] holding all their intersections")
        if let csv {
            var lines = ["index,area,vertices,centroid_x1,centroid_x2,output_at_centroid,on_count,pattern"]
            for (i, c) in p.cells.enumerated() {
                let g = c.centroid
                lines.append("\(i),\(c.area),\(c.vertices.count),\(g.x),\(g.y),\(c.output(at: g)),\(c.pattern.onCount),\(c.pattern)")
            }
            try writeText(lines.joined(separator: "\n") + "\n", to: csv, flag: "--csv")
            print("wrote \(csv) (\(p.cells.count) cells)")
        }
        if let svg {
            let polys = p.cells.map { $0.vertices.map { ($0.x, $0.y) } }
            let values = p.cells.map { $0.output(at: $0.centroid) }
            let segs = nodal.segments
            var fig = Figure(title: "Linear regions: depth \(depth), width \(width), seed \(seed) (\(p.regionCount) regions)",
                             x: Axis("x_1", range: -h...h), y: Axis("x_2", range: -h...h),
                             layers: [.polygons(polys, values: values, label: nil),
                                      .segments(x0: segs.map(\.a.x), y0: segs.map(\.a.y), x1: segs.map(\.b.x), y1: segs.map(\.b.y), color: 3)])
            fig.colorLabel = "output"
            fig.width = 620
            fig.height = 540
            try writeText(fig.svg(), to: svg, flag: "--svg")
            print("wrote \(svg) (cells colored by the output at their centroid, its nodal set in red)")
        }
    }
}
