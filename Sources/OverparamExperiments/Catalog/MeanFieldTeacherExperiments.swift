import Foundation
import Overparam

/// `meanfield.teacher-2d` (seed 003 sec. 4.4, fig. 2; SEED-NOTES sec. 3): a d = 2 ReLU teacher with m0 = 4 neurons
/// (a_k = +-1, b_k on the unit circle) learned by students of width m in {5, 20, 100, 1000} (theta2 = +-1, theta1 on the
/// unit circle) with SGD on fresh Gaussian batches. The risk is the exact population risk (arc-cosine kernel), so
/// "reaches the global optimum" is measured without sampling noise.
public struct TeacherTwoDimensionalExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var widths: [Int]; public var repetitions: Int; public var steps: Int; public var stepSize: Double
        public var batchSize: Int; public var convention: String; public var riskPoints: Int; public var snapshots: Int
        public var trackedParticles: Int; public var threshold: Double
    }
    public init() {}
    public var id: String { "meanfield.teacher-2d" }
    public var source: String { "seed 003 sec. 4.4, fig. 2 (eqs. 3.1, 3.3); SEED-NOTES sec. 3 (fig. 2 settings)" }
    public var summary: String { "Teacher-student in d = 2: particle trajectories of SGD and the population risk for widths 5 to 1000" }
    public var claimText: String { "With m >= 20 particles, SGD on the population risk of a 4-neuron ReLU teacher reaches the global optimum (risk ~ 0); the particles' alignment with the teacher directions is shown, not claimed (a property of the demo seed, not a theorem)." }
    public var estimates: (quick: String, full: String) { ("40 s", "15 min") }
    public var quickNote: String { "2 x 10^4 SGD steps with gamma = 0.01 (full: 2 x 10^5 steps with the seed's gamma = 0.002, the same flow time x 0.5), 3 repetitions per width (full: 5); batch 100; theta1's gradient summed over the batch as in the authors' code" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [5, 20, 100, 1000], repetitions: 3, steps: 20_000, stepSize: 0.01, batchSize: 100, convention: BatchGradientConvention.sumForInputWeights.rawValue,
                             riskPoints: 60, snapshots: 40, trackedParticles: 60, threshold: 1e-3)
                    : Config(widths: [5, 20, 100, 1000], repetitions: 5, steps: 200_000, stepSize: 0.002, batchSize: 100, convention: BatchGradientConvention.sumForInputWeights.rawValue,
                             riskPoints: 100, snapshots: 60, trackedParticles: 80, threshold: 1e-3)
    }
    public func runs(_ c: Config) -> [RunKey] {
        c.widths.flatMap { m in (0..<c.repetitions).map { RunKey(MeanFieldSupport.widthKey(m), seed: $0) } }
    }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let m = InitSupport.int(key, "m")
        guard let convention = BatchGradientConvention(rawValue: c.convention) else {
            throw OverparamError.invalidArgument(name: "convention", problem: "unknown batch-gradient convention '\(c.convention)'; use mean or sum-theta1")
        }
        let teacher = try GaussianTeacher.reluTeacher(neurons: 4, inputDimension: 2, seed: seed)
        let population = try MeanFieldObjective(population: teacher)
        let net = try MeanFieldNetwork.random(width: m, inputDimension: 2, theta2: .signs(magnitude: 1), theta1: .sphere(radius: 1), seed: seed &+ 1)
        var sgd = try ParticleSGD(network: net, stepSize: c.stepSize, batchSize: c.batchSize, convention: convention, seed: seed &+ 2)
        var steps = [Double](), risks = [Double](), tx = [Double](), ty = [Double]()
        let riskEvery = Swift.max(1, c.steps / c.riskPoints), snapEvery = Swift.max(1, c.steps / c.snapshots)
        let every = gcd(riskEvery, snapEvery)
        try sgd.train(teacher, steps: c.steps, observeEvery: every) { w, k in
            if k % riskEvery == 0 || k == c.steps {
                steps.append(Double(k)); risks.append(try population.risk(w))
            }
            if k % snapEvery == 0 || k == c.steps {
                let p = MeanFieldSupport.squashedPositions(w, limit: c.trackedParticles)
                tx += p.x; ty += p.y
            }
        }
        let final = MeanFieldSupport.squashedPositions(sgd.network)
        let tracked = MeanFieldSupport.squashedPositions(net, limit: c.trackedParticles)
        return RunOutput(metrics: ["final_risk": risks.last ?? .nan, "initial_risk": risks.first ?? .nan, "width": Double(m)],
                         series: ["step": steps, "risk": risks, "traj_x": tx, "traj_y": ty, "tracked_sign": tracked.sign,
                                  "final_x": final.x, "final_y": final.y, "final_sign": final.sign,
                                  "teacher_a": teacher.outputWeights, "teacher_b": teacher.inputWeights.storage])
    }
    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let groups = Dictionary(grouping: runs) { InitSupport.int($0.key, "m") }
        let widths = groups.keys.sorted()
        let wide = runs.filter { InitSupport.int($0.key, "m") >= 20 }.compactMap { $0.output.metrics["final_risk"] }
        a.claims.append(MeanFieldSupport.allBelowClaim("Every student with m >= 20 reaches the global optimum: final population risk below 1e-3",
                                                       values: wide, threshold: c.threshold, what: "exact population risk (1/2) E (h - y)^2"))
        var rows = [[String]](), curves = [PlotLayer]()
        for (i, m) in widths.enumerated() {
            let rs = (groups[m] ?? []).sorted { $0.key < $1.key }
            let finals = rs.compactMap { $0.output.metrics["final_risk"] }
            let reached = finals.filter { $0 < c.threshold }.count
            rows.append([String(m), String(rs.count), sig(finals.min() ?? .nan, 3), sig(finals.sorted()[finals.count / 2], 3), sig(finals.max() ?? .nan, 3), "\(reached)/\(finals.count)"])
            for (j, r) in rs.enumerated() {
                let s = r.output.series
                guard let st = s["step"], let rk = s["risk"] else { continue }
                let keep = zip(st, rk).filter { $0.0 > 0 && $0.1 > 0 }
                curves.append(.line(x: keep.map { $0.0 }, y: keep.map { $0.1 }, label: j == 0 ? "m = \(m)" : nil, color: i, markers: false))
            }
        }
        a.tables.append(DataTable("final-risk", header: ["m", "runs", "min", "median", "max", "below 1e-3"], rows: rows))
        a.figures.append(NamedFigure("risk", "Exact population risk along SGD for each width (every repetition; the dashed line is the 1e-3 success threshold).",
            Figure(title: "Teacher-student, d = 2, m0 = 4", x: Axis("SGD step", scale: .log), y: Axis("population risk", scale: .log),
                   layers: curves + [.line(x: [Double(Swift.max(1, c.steps / c.riskPoints)), Double(c.steps)], y: [c.threshold, c.threshold], label: "1e-3", color: 7, dashed: true, markers: false)])))
        // Trajectory pictures: the first repetition of every width.
        for m in widths {
            guard let r = (groups[m] ?? []).min(by: { $0.key < $1.key }) else { continue }
            let s = r.output.series
            guard let tx = s["traj_x"], let ty = s["traj_y"], let sign = s["tracked_sign"], let fx = s["final_x"], let fy = s["final_y"], let fs = s["final_sign"],
                  let ta = s["teacher_a"], let tb = s["teacher_b"], !sign.isEmpty else { continue }
            let k = sign.count, frames = tx.count / k
            var layers = [PlotLayer]()
            for j in 0..<k {
                let xs = (0..<frames).map { tx[$0 * k + j] }, ys = (0..<frames).map { ty[$0 * k + j] }
                layers.append(.line(x: xs, y: ys, label: nil, color: MeanFieldSupport.signColor(sign[j]), markers: false))
            }
            let pos = fs.indices.filter { fs[$0] >= 0 }, neg = fs.indices.filter { fs[$0] < 0 }
            layers.append(.scatter(x: pos.map { fx[$0] }, y: pos.map { fy[$0] }, values: nil, label: "theta2 > 0", color: MeanFieldSupport.signColor(1), radius: 2))
            layers.append(.scatter(x: neg.map { fx[$0] }, y: neg.map { fy[$0] }, values: nil, label: "theta2 < 0", color: MeanFieldSupport.signColor(-1), radius: 2))
            layers += MeanFieldSupport.rays(Matrix(rows: ta.count, cols: 2, storage: tb), signs: ta, label: "teacher directions")
            var f = Figure(title: "m = \(m): particles |theta2| theta1, radius tanh(r/2)", x: Axis("coordinate 1", range: -1.05...1.05), y: Axis("coordinate 2", range: -1.05...1.05), layers: layers)
            f.width = 520; f.height = 520
            a.figures.append(NamedFigure("particles-\(MeanFieldSupport.widthKey(m))",
                "Seed 003 fig. 2 at m = \(m) (repetition 0, final risk \(sig(r.output.metrics["final_risk"] ?? .nan, 3))): trajectories of \(k) particles (lines) and the final particles (dots), colored by the sign of theta2; dashed: the teacher's directions.", f))
        }
        a.notes.append("Gradient convention: the authors' code sums theta1's minibatch gradient over the batch (BatchGradientConvention.sumForInputWeights), so theta1 moves B = \(c.batchSize) times faster than theta2; this is a preconditioned version of the mean-field flow with the same stationary points.")
        a.notes.append("The risk is the exact population risk of the Gaussian-input ReLU teacher (closed-form arc-cosine kernel), not a test-sample estimate.")
        return a
    }
}
