import Foundation
import Overparam

/// `kernels.digits`: test accuracy of the NNGP posterior mean and of the NTK gradient-flow predictor at t = infinity
/// on the bundled handwritten digits, versus depth and activation (one-hot regression, argmax).
public struct DigitsKernelExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var depths: [Int]
        public var activations: [String]
        public var testFraction: Double
        public var relativeRegularizer: Double
        public var splitSeed: Int
        /// Image source (``ImageData``): "digits", "mnist-5k" or "mnist:DIR" (then the first maxTrain + maxTest MNIST training
        /// images, split like the digits).
        public var images: String; public var maxTrain: Int; public var maxTest: Int
    }

    public init() {}
    public var id: String { "kernels.digits" }
    public var source: String { "foundation (infinite-width predictions); the digits stand in for MNIST" }
    public var summary: String { "NNGP/NTK test accuracy on the digits vs depth and activation" }
    public var claimText: String {
        "Infinitely wide networks used as kernel machines classify the handwritten digits well: both the NNGP posterior mean and the NTK gradient-flow predictor reach well above 90 % test accuracy."
    }
    public var estimates: (quick: String, full: String) { ("15 s", "3 min") }
    public var quickNote: String { "depths 1, 2, 3, 5 and relu/erf/abs (full: depths 1-10, also leaky-relu and gelu)" }

    public func configuration(_ preset: Preset) -> Config {
        switch preset {
        case .quick: return Config(depths: [1, 2, 3, 5], activations: ["relu", "erf", "abs"], testFraction: 0.3, relativeRegularizer: 1e-6, splitSeed: 0,
                                   images: "digits", maxTrain: 2100, maxTest: 900)
        case .full: return Config(depths: Array(1...10), activations: ["relu", "erf", "abs", "leaky-relu:0.1", "gelu"], testFraction: 0.3,
                                  relativeRegularizer: 1e-6, splitSeed: 0, images: "digits", maxTrain: 7000, maxTest: 3000)
        }
    }

    public func runs(_ c: Config) -> [RunKey] {
        c.activations.flatMap { a in c.depths.map { RunKey("activation=\(a),depth=\(String(format: "%02d", $0))") } }
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let parts = key.setting.split(separator: ",")
        let act = try Activation(parsing: String(parts[0].dropFirst("activation=".count)))
        guard let depth = Int(parts[1].dropFirst("depth=".count)) else { throw OverparamError.invalidArgument(name: "setting", problem: key.setting) }
        var demo = DigitsKernelDemo(depth: depth, activation: act, weightVariance: act == .relu || act.isPositivelyHomogeneous ? 2 : 1.5, biasVariance: 0.1)
        demo.testFraction = c.testFraction
        demo.relativeRegularizer = c.relativeRegularizer
        demo.seed = UInt64(c.splitSeed)
        let s = try demo.run(data: try ImageData.pool(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        return RunOutput(metrics: ["gp_accuracy": s.gpAccuracy, "ntk_accuracy": s.ntkAccuracy, "gp_mse": s.gpMSE, "ntk_mse": s.ntkMSE,
                                   "test_count": Double(s.testCount), "nngp_condition": s.nngpCondition, "ntk_condition": s.ntkCondition,
                                   "depth": Double(depth), "weight_variance": demo.architecture.weightVariance])
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var layers = [PlotLayer]()
        var rows = [[String]]()
        for (i, act) in c.activations.enumerated() {
            let rs = runs.filter { $0.key.setting.hasPrefix("activation=\(act),") }.sorted { ($0.output.metrics["depth"] ?? 0) < ($1.output.metrics["depth"] ?? 0) }
            let depths = rs.map { $0.output.metrics["depth"] ?? 0 }
            layers.append(.line(x: depths, y: rs.map { $0.output.metrics["gp_accuracy"] ?? .nan }, label: "\(act) NNGP", color: i))
            layers.append(.line(x: depths, y: rs.map { $0.output.metrics["ntk_accuracy"] ?? .nan }, label: "\(act) NTK", color: i, dashed: true))
            for r in rs {
                let m = r.output.metrics
                rows.append([act, "\(Int(m["depth"] ?? 0))", sig(m["weight_variance"] ?? .nan), sig(m["gp_accuracy"] ?? .nan, 6), sig(m["ntk_accuracy"] ?? .nan, 6),
                             sig(m["gp_mse"] ?? .nan, 6), sig(m["ntk_mse"] ?? .nan, 6), sig(m["nngp_condition"] ?? .nan), sig(m["ntk_condition"] ?? .nan)])
            }
            for kind in ["gp", "ntk"] {
                guard let worst = rs.min(by: { ($0.output.metrics["\(kind)_accuracy"] ?? 0) < ($1.output.metrics["\(kind)_accuracy"] ?? 0) }) else { continue }
                let acc = worst.output.metrics["\(kind)_accuracy"] ?? 0, n = worst.output.metrics["test_count"] ?? 1
                let se = (acc * (1 - acc) / n).squareRoot()
                a.claims.append(Claim("\(act), \(kind == "gp" ? "NNGP posterior" : "NTK flow t = inf"): lowest test accuracy over depths \(c.depths) is above 90 %",
                                      measured: acc, expected: "> 0.90 + 2 SE", tolerance: "binomial SE sqrt(p(1-p)/n) = \(sig(se, 2)), n = \(Int(n)) test images",
                                      passed: acc - 2 * se > 0.9))
            }
        }
        a.figures.append(NamedFigure("accuracy", "Test accuracy on the digits vs depth (solid: NNGP posterior mean; dashed: NTK gradient flow at t = infinity).",
                                     Figure(title: "Digits: infinite-width kernel predictors", x: Axis("depth (hidden layers)"), y: Axis("test accuracy"), layers: layers)))
        a.tables.append(DataTable("accuracy", header: ["activation", "depth", "C_W", "nngp_accuracy", "ntk_accuracy", "nngp_mse", "ntk_mse", "nngp_condition", "ntk_condition"], rows: rows))
        a.notes.append((c.images == "digits" ? "Data: the 1,797 UCI digits (8x8) stand in for MNIST (run with --mnist DIR for the real thing)"
                       : "Data: the first \(c.maxTrain + c.maxTest) training images of \(ImageData.name(c.images))") + "; stratified \(Int((1 - c.testFraction) * 100))/\(Int(c.testFraction * 100)) split; inputs centred and projected to |x|^2 = d; C_b = 0.1; C_W = 2 for piecewise-linear activations, 1.5 otherwise.")
        return a
    }
}
