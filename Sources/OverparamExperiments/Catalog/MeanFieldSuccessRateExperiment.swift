import Foundation
import Overparam

/// `meanfield.success-rate` (seed 003 sec. 4.4, fig. 3; SEED-NOTES sec. 3): the test risk and the success rate
/// (risk < 1e-3) of SGD on fresh samples against random ReLU teachers with m0 = 10 neurons in d = 100, as the student
/// width m grows. One run is one repetition: a fresh teacher and every width trained on the same batches
/// (``TeacherStudentSweep``, a paired design), spread over the cores.
public struct SuccessRateExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var inputDimension: Int; public var teacherNeurons: Int; public var widths: [Int]; public var steps: Int
        public var batchSize: Int; public var stepSize: Double; public var repetitions: Int; public var convention: String
        public var testSamples: Int; public var threshold: Double
    }
    public init() {}
    public var id: String { "meanfield.success-rate" }
    public var source: String { "seed 003 sec. 4.4, fig. 3; SEED-NOTES sec. 3 (fig. 3 settings, gradient convention)" }
    public var summary: String { "Teacher-student success rate (test risk < 1e-3) vs student width m for a 10-neuron ReLU teacher" }
    public var claimText: String { "With few particles (m < m0) SGD fails to fit the teacher; as m grows past m0 the success rate rises to 1 (over-parameterization makes the non-convex problem benign, the m -> infinity limit being a global minimizer)." }
    public var estimates: (quick: String, full: String) { ("60 s", "15 min") }
    public var quickNote: String { "d = 50 (full: the seed's d = 100), 10 repetitions (full: 30), widths 1-30 in steps plus 40, 60 (full: every m in 1-30 plus 40, 50, 70, 100); 10^4 SGD steps, batch 100, gamma = 0.005, theta1's gradient summed over the batch as in the authors' code" }
    public func configuration(_ p: Preset) -> Config {
        let full = TeacherStudentSweep.seed003Figure3
        return p == .quick
            ? Config(inputDimension: 50, teacherNeurons: 10, widths: [1, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40, 60], steps: 10_000, batchSize: 100, stepSize: 0.005,
                     repetitions: 10, convention: full.convention.rawValue, testSamples: 1000, threshold: 1e-3)
            : Config(inputDimension: full.inputDimension, teacherNeurons: full.teacherNeurons, widths: full.widths, steps: full.steps, batchSize: full.batchSize,
                     stepSize: full.stepSize, repetitions: full.repetitions, convention: full.convention.rawValue, testSamples: full.testSamples, threshold: full.successThreshold)
    }
    public func runs(_ c: Config) -> [RunKey] { (0..<c.repetitions).map { RunKey("repetition", seed: $0) } }

    func sweep(_ c: Config) throws -> TeacherStudentSweep {
        guard let conv = BatchGradientConvention(rawValue: c.convention) else {
            throw OverparamError.invalidArgument(name: "convention", problem: "unknown batch-gradient convention '\(c.convention)'; use mean or sum-theta1")
        }
        let s = TeacherStudentSweep(inputDimension: c.inputDimension, teacherNeurons: c.teacherNeurons, widths: c.widths, steps: c.steps, batchSize: c.batchSize,
                                    stepSize: c.stepSize, repetitions: 1, convention: conv, testSamples: c.testSamples, successThreshold: c.threshold)
        try s.validate()
        return s
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let result = try sweep(c).runAll(seed: seed)
        var metrics = ["seconds_sweep": result.seconds]
        for r in result.runs { metrics["risk_\(MeanFieldSupport.widthKey(r.width))"] = r.testRisk }
        return RunOutput(metrics: metrics, series: ["width": result.runs.map { Double($0.width) }, "risk": result.runs.map(\.testRisk),
                                                    "initial_risk": result.runs.map(\.initialTestRisk)])
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let widths = c.widths.sorted()
        let risks: [Int: [Double]] = Dictionary(uniqueKeysWithValues: widths.map { m in
            (m, runs.compactMap { $0.output.metrics["risk_\(MeanFieldSupport.widthKey(m))"] })
        })
        func rate(_ ms: [Int]) -> (p: Double, n: Int) {
            let v = ms.flatMap { risks[$0] ?? [] }
            return (Double(v.filter { $0 < c.threshold }.count) / Double(Swift.max(1, v.count)), v.count)
        }
        let m0 = c.teacherNeurons
        let large = widths.filter { $0 >= 4 * m0 }, small = widths.filter { $0 < m0 }, past = widths.filter { $0 >= 2 * m0 }
        let top = rate(large)
        a.claims.append(Claim("The success rate reaches 1 for m >= 4 m0 = \(4 * m0): every run at widths \(large.map(String.init).joined(separator: ", ")) has test risk < \(sig(c.threshold, 2))",
                              measured: top.p, expected: "1 (all \(top.n) runs)", tolerance: "exact count over \(runs.count) repetitions; the seed's success threshold 1e-3",
                              passed: top.n > 0 && top.p == 1))
        let lo = rate(small), hi = rate(past)
        // Two-proportion z-test with the pooled proportion.
        let pool = (lo.p * Double(lo.n) + hi.p * Double(hi.n)) / Double(Swift.max(1, lo.n + hi.n))
        let se = (pool * (1 - pool) * (1 / Double(Swift.max(1, lo.n)) + 1 / Double(Swift.max(1, hi.n)))).squareRoot()
        let z = se > 0 ? (hi.p - lo.p) / se : (hi.p > lo.p ? Double.infinity : 0)
        a.claims.append(Claim("Success rises as m grows past m0: the success rate for m >= 2 m0 exceeds that for m < m0",
                              measured: z, expected: "z > 3 (rates \(sig(hi.p, 3)) vs \(sig(lo.p, 3)))",
                              tolerance: "pooled two-proportion SE over \(hi.n) and \(lo.n) runs", passed: lo.n > 0 && hi.n > 0 && z > 3))
        var rows = [[String]](), med = [Double](), q1 = [Double](), q3 = [Double](), rates = [Double]()
        for m in widths {
            let v = (risks[m] ?? []).sorted()
            guard !v.isEmpty else { continue }
            let r = rate([m]).p
            rates.append(r)
            med.append(v[v.count / 2]); q1.append(v[v.count / 4]); q3.append(v[(3 * v.count) / 4])
            rows.append([String(m), String(v.count), sig(v[v.count / 2], 3), sig(v.first!, 3), sig(v.last!, 3), sig(r, 3)])
        }
        a.tables.append(DataTable("success", header: ["m", "runs", "median test risk", "min", "max", "success rate"], rows: rows))
        let xs = widths.filter { !(risks[$0] ?? []).isEmpty }.map(Double.init)
        var scatterX = [Double](), scatterY = [Double]()
        for m in widths { for v in risks[m] ?? [] { scatterX.append(Double(m)); scatterY.append(Swift.max(v, 1e-12)) } }
        a.figures.append(NamedFigure("risk", "Test risk after \(c.steps) SGD steps per width (dots: every repetition; line: median; dashed: the 1e-3 success threshold; dotted: m0).",
            Figure(title: "Teacher-student, d = \(c.inputDimension), m0 = \(m0)", x: Axis("student width m", scale: .log), y: Axis("test risk", scale: .log),
                   layers: [.scatter(x: scatterX, y: scatterY, values: nil, label: "runs", color: 0, radius: 2),
                            .line(x: xs, y: med.map { Swift.max($0, 1e-12) }, label: "median", color: 1, markers: true),
                            .line(x: [xs.first ?? 1, xs.last ?? 1], y: [c.threshold, c.threshold], label: "1e-3", color: 7, dashed: true, markers: false),
                            .line(x: [Double(m0), Double(m0)], y: [Swift.max(1e-12, scatterY.min() ?? 1e-6), scatterY.max() ?? 1], label: "m0", color: 6, dashed: true, markers: false)])))
        a.figures.append(NamedFigure("success-rate", "Fraction of the \(runs.count) repetitions with test risk < 1e-3, per width (seed 003 fig. 3, right).",
            Figure(title: "Success rate vs width", x: Axis("student width m", scale: .log), y: Axis("success rate", range: 0...1.05),
                   layers: [.line(x: xs, y: rates, label: "success rate", color: 2, markers: true),
                            .line(x: [Double(m0), Double(m0)], y: [0, 1], label: "m0", color: 6, dashed: true, markers: false)])))
        a.notes.append("Gradient convention \(c.convention): \(c.convention == BatchGradientConvention.sumForInputWeights.rawValue ? "theta1's minibatch gradient is summed over the batch as in the authors' code (its effective step is gamma B = \(sig(c.stepSize * Double(c.batchSize), 3))), theta2's averaged" : "both layers follow the batch-mean gradient (the mean-field time scale)"). Test risk = (1/2) MSE on \(c.testSamples) fresh samples per repetition.")
        a.notes.append("Paired design: within one repetition every width sees the same teacher, test set and SGD batches; repetitions are independent.")
        return a
    }
}
