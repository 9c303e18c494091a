import Foundation
import Overparam

/// A power-law claim: the exponent fitted (weighted by seed standard errors) is within 3 SE of `expected`.
func exponentClaim(_ statement: String, widths: [Double], groups: [[Double]], expected: Double) -> (Claim, LinearFit?) {
    let st = groups.map { meanAndStandardError($0) }
    let fit = LinearFit.powerLaw(x: widths, y: st.map { $0.mean }, standardErrors: st.map { max($0.se, 1e-9 * abs($0.mean)) })
    guard let fit else { return (Claim(statement, measured: .nan, expected: "\(expected)", tolerance: "needs >= 2 widths", passed: false), nil) }
    return (Claim(statement, measured: fit.slope, expected: "\(expected)",
                  tolerance: "3 SE of the slope weighted by seed standard errors (SE \(sig(fit.slopeStandardError, 2)), \(groups.first?.count ?? 0) seeds)",
                  passed: abs(fit.slope - expected) <= 3 * fit.slopeStandardError), fit)
}

/// Runs keyed by width and seed.
func widthRuns(_ widths: [Int], seeds: Int, prefix: String = "") -> [RunKey] {
    widths.flatMap { w in (0..<seeds).map { RunKey("\(prefix)width=\(String(format: "%06d", w))", seed: $0) } }
}
func widthOf(_ key: RunKey) -> Int { Int(key.setting.split(separator: "=").last ?? "") ?? 0 }

/// Group a metric by width (sorted).
func byWidth(_ runs: [RunRecord], _ m: String) -> (widths: [Double], groups: [[Double]]) {
    let g = Dictionary(grouping: runs) { Double(widthOf($0.key)) }
    let ws = g.keys.sorted()
    return (ws, ws.map { w in g[w]!.compactMap { $0.output.metrics[m] } })
}

/// `regimes.kernel-velocity` (seed 004 sec. 2.4): in the NTK parameterization (gamma = 1) first-layer pre-activations
/// move O(1/sqrt(N_1)) while the output moves O(1); in the mean-field parameterization (gamma = sqrt(N_1), eta ~ gamma^2,
/// eq. 2.1.11) both move O(1). Fitted exponents: -1/2 and 0 (NTK), 0 and 0 (mean field).
public struct KernelVelocityExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var steps: Int; public var rate: Double; public var points: Int; public var dimension: Int; public var seeds: Int }
    public init() {}
    public var id: String { "regimes.kernel-velocity" }
    public var source: String { "seed 004 sec. 2.4 (and eqs. 2.1.1, 2.1.11, 2.3.6)" }
    public var summary: String { "How far pre-activations and outputs move: NTK vs mean-field parameterization" }
    public var claimText: String { "In the NTK parameterization each hidden pre-activation moves by O(1/sqrt(N1)) while the output moves by O(1); in the mean-field parameterization both move by O(1)." }
    public var estimates: (quick: String, full: String) { ("20 s", "5 min") }
    public var quickNote: String { "widths 256-4096 (full: to 16384), 200 GD steps, 32 points on the sphere in d = 16, 8 seeds (full: 8)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [256, 1024, 4096], steps: 200, rate: 0.5, points: 32, dimension: 16, seeds: 8)
                    : Config(widths: [256, 1024, 4096, 16384], steps: 200, rate: 0.5, points: 32, dimension: 16, seeds: 8)
    }
    public func runs(_ c: Config) -> [RunKey] { ["ntk", "mf"].flatMap { widthRuns(c.widths, seeds: c.seeds, prefix: "\($0),") } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let mf = key.setting.hasPrefix("mf")
        let n1 = widthOf(key)
        let (x, y) = try TrainingSupport.teacherRegression(n: c.points, d: c.dimension, seed: 1)
        let gamma = mf ? Double(n1).squareRoot() : 1
        let arch = Architecture(inputDimension: c.dimension, hiddenWidths: [n1], activation: .tanh, weightVariance: 1, hasBias: false,
                                parameterization: .haninScaled(gamma: gamma))
        var opts = TrainingOptions()
        opts.steps = c.steps; opts.recordEvery = c.steps; opts.trackMovement = true; opts.ntkProbePoints = c.points; opts.seed = seed
        let trainer = try Trainer(network: try Network(arch, seed: seed), trainInputs: x, trainTargets: y, options: opts)
        var gd = GradientDescent(learningRate: c.rate * gamma * gamma)   // eta ~ gamma^2 (eq. 2.1.11)
        let last = try trainer.train(&gd).last!
        return RunOutput(metrics: ["preactivation": last.preactivationMovement ?? .nan, "output": last.outputMovement ?? .nan, "loss": last.trainLoss])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var layers = [PlotLayer]()
        for (ri, (regime, name)) in [("ntk", "NTK (gamma = 1)"), ("mf", "mean field (gamma = sqrt(N1))")].enumerated() {
            let rs = runs.filter { $0.key.setting.hasPrefix(regime) }
            for (mi, (m, expect)) in [("preactivation", regime == "ntk" ? -0.5 : 0), ("output", 0.0)].enumerated() {
                let (ws, gs) = byWidth(rs, m)
                let (claim, _) = exponentClaim("\(name): RMS movement of the \(m == "output" ? "outputs" : "first-layer pre-activations") ~ N1^\(expect)", widths: ws, groups: gs, expected: expect)
                a.claims.append(claim)
                let st = gs.map { meanAndStandardError($0) }
                layers.append(.errorBars(x: ws, y: st.map { $0.mean }, err: st.map { $0.se }, label: "\(name): \(m)", color: 2 * ri + mi))
                layers.append(.line(x: ws, y: st.map { $0.mean }, label: nil, color: 2 * ri + mi, dashed: mi == 1))
            }
            // The seed's point is the relative speed: pre-activation movement / output movement ~ N1^-1/2 (NTK), ~ 1 (MF).
            let g = Dictionary(grouping: rs) { Double(widthOf($0.key)) }
            let ws = g.keys.sorted()
            let ratios = ws.map { w in g[w]!.compactMap { r -> Double? in
                guard let p = r.output.metrics["preactivation"], let o = r.output.metrics["output"], o > 0 else { return nil }
                return p / o } }
            let (claim, _) = exponentClaim("\(name): pre-activation movement / output movement ~ N1^\(regime == "ntk" ? -0.5 : 0)", widths: ws, groups: ratios,
                                           expected: regime == "ntk" ? -0.5 : 0)
            a.claims.append(claim)
        }
        a.figures.append(NamedFigure("movement", "RMS change of first-layer pre-activations and of outputs after \(c.steps) GD steps (eta = \(c.rate) gamma^2) vs width.",
                                     Figure(title: "Kernel velocity: what moves", x: Axis("N1", scale: .log), y: Axis("RMS movement", scale: .log), layers: layers)))
        return a
    }
}

/// `theory.min-norm` (seed 004 eqs. 1.3.5-1.3.7): gradient descent on an overparameterized linear least-squares model
/// converges to the projection of theta_0 onto the solution set, theta* = theta_0 + J^T (J J^T)^{-1} (y - J theta_0);
/// from theta_0 = 0 the minimum-norm interpolant. The model is a network's linearization (features J = d f / d theta).
public struct MinNormExperiment: Experiment {
    public struct Config: Codable, Sendable { public var points: Int; public var width: Int; public var steps: Int; public var seeds: Int }
    public init() {}
    public var id: String { "theory.min-norm" }
    public var source: String { "seed 004 eqs. 1.3.5-1.3.7" }
    public var summary: String { "GD on overparameterized least squares finds the projection of the initialization" }
    public var claimText: String { "Gradient descent on an overparameterized linear least-squares problem converges to the interpolant closest to its initialization (the minimum-norm one from zero)." }
    public var estimates: (quick: String, full: String) { ("3 s", "10 s") }
    public var quickNote: String { "20 points, a width-32 two-layer net's 321 features (full: 40 points)" }
    public func configuration(_ p: Preset) -> Config { Config(points: p == .quick ? 20 : 40, width: 32, steps: 3_000_000, seeds: 3) }
    public func runs(_ c: Config) -> [RunKey] { ["from=init", "from=zero"].flatMap { s in (0..<c.seeds).map { RunKey(s, seed: $0) } } }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let (x, y) = try TrainingSupport.teacherRegression(n: c.points, d: 8, seed: seed)
        let net = try Network(Architecture(inputDimension: 8, hiddenWidths: [c.width], activation: .tanh, weightVariance: 1, biasVariance: 0.1), seed: seed)
        let j = try net.jacobian(x)                        // n x P features
        let n = Double(c.points), p = j.cols
        var rng = Xoshiro256StarStar(seed: seed, stream: 99)
        let theta0 = key.setting == "from=zero" ? [Double](repeating: 0, count: p) : rng.normals(p)
        // theta* = theta0 + J^T (J J^T)^{-1} (y - J theta0)
        let k = j.gram()
        let r = y - Matrix.product(j, .none, Matrix(column: theta0), .none)
        let target = Matrix(column: theta0) + Matrix.product(j, .transposed, try CholeskyFactorization(k).solve(r), .none)
        // GD with eta = n / lambda_max on L = (1/2n) ||J theta - y||^2; contraction (1 - lambda_min/lambda_max) per step.
        let eig = try SymmetricEigendecomposition(k)
        let eta = n / eig.values.last!
        var theta = theta0
        var gd = GradientDescent(learningRate: eta)
        // Enough steps for the worst contraction (1 - lambda_min/lambda_max)^k to reach 1e-10 (capped by `steps`).
        let rate = eig.values.first! / eig.values.last!
        let needed = rate > 0 ? Int((Foundation.log(1e-10) / Foundation.log1p(-rate)).rounded(.up)) : c.steps
        let steps = min(c.steps, max(1, needed))
        for _ in 0..<steps {
            let res = Matrix.product(j, .none, Matrix(column: theta), .none) - y
            gd.step(&theta, gradient: j.apply(res.storage, .transposed).map { $0 / n })
        }
        let err = (Matrix(column: theta) - target).frobeniusNorm / max(target.frobeniusNorm, 1e-300)
        let contraction = Foundation.pow(1 - rate, Double(steps))
        let minNormGap = key.setting == "from=zero" ? (Matrix(column: theta).frobeniusNorm - target.frobeniusNorm) / target.frobeniusNorm : .nan
        return RunOutput(metrics: ["relative_error": err, "contraction_bound": contraction, "condition": eig.conditionNumber, "features": Double(p), "steps": Double(steps),
                                   "min_norm_gap": minNormGap])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var rows = [[String]]()
        for r in runs { rows.append([r.key.setting, "\(r.key.seed)"] + ["relative_error", "contraction_bound", "condition", "features"].map { sig(r.output.metrics[$0] ?? .nan, 4) }) }
        for s in ["from=init", "from=zero"] {
            let rs = runs.filter { $0.key.setting == s }
            let worstContraction = rs.compactMap { $0.output.metrics["contraction_bound"] }.max() ?? 1
            let errs = rs.compactMap { $0.output.metrics["relative_error"] }
            a.claims.append(Claim(s == "from=init" ? "GD converges to the projection of theta_0 onto the solution set" : "from theta_0 = 0, GD converges to the minimum-norm interpolant",
                                  measured: errs.max() ?? .nan, expected: "<= 1e-6",
                                  tolerance: "GD run until its contraction bound (1 - lambda_min/lambda_max)^k <= 1e-10 (worst reached: \(sig(worstContraction, 2))); 1e-6 leaves room for roundoff amplified by the condition number",
                                  passed: (errs.max() ?? .infinity) <= 1e-6 && worstContraction <= 1e-9))
        }
        a.tables.append(DataTable("convergence", header: ["start", "seed", "relative_error", "contraction_bound", "condition", "features"], rows: rows))
        let rs = runs.filter { $0.key.setting == "from=init" }
        a.figures.append(NamedFigure("convergence", "Relative distance of the GD limit from the predicted projection, per run (log scale).",
                                     Figure(title: "GD limit vs projection", x: Axis("run"), y: Axis("relative error", scale: .log),
                                            layers: [.scatter(x: runs.indices.map(Double.init), y: runs.map { max($0.output.metrics["relative_error"] ?? 1e-17, 1e-17) }, values: nil, label: "runs (init then zero)")] )))
        _ = rs
        return a
    }
}

/// `theory.jacobian-rank` (seed 004 sec. 1.3.1, eqs. 2.2.4-2.2.6): with more parameters than data, the Jacobian at a
/// random theta has full rank (lambda_min of the empirical NTK > 0), and the NTK concentrates around its mean as the
/// width grows (relative fluctuation ~ N^(-1/2)).
public struct JacobianRankExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var points: Int; public var seeds: Int }
    public init() {}
    public var id: String { "theory.jacobian-rank" }
    public var source: String { "seed 004 sec. 1.3.1 and eqs. 2.2.4-2.2.6" }
    public var summary: String { "Full-rank Jacobians at random parameters; NTK concentration with width" }
    public var claimText: String { "When P > |D| the Jacobian at random parameters has full rank, so the NTK is positive definite; its fluctuations shrink as the width grows." }
    public var estimates: (quick: String, full: String) { ("5 s", "1 min") }
    public var quickNote: String { "widths 16-1024, 16 points, 8 seeds (full: 32 seeds, width 4096)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [16, 64, 256, 1024], points: 16, seeds: 8) : Config(widths: [16, 64, 256, 1024, 4096], points: 16, seeds: 32)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let x = SyntheticData.sphereInputs(c.points, dimension: 8, seed: 5)
        let arch = Architecture(inputDimension: 8, depth: 2, width: widthOf(key), activation: .tanh, weightVariance: 1.5, biasVariance: 0.1)
        let emp = try EmpiricalNTK.compute(try Network(arch, seed: seed), x)
        let exact = try InfiniteWidthKernel(arch)(x).ntk
        let eig = try SymmetricEigendecomposition(emp.ntk)
        return RunOutput(metrics: ["lambda_min_rel": eig.values.first! / eig.values.last!, "deviation": (emp.ntk - exact).frobeniusNorm / exact.frobeniusNorm,
                                   "parameters": Double(arch.parameterCount)])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let worst = runs.compactMap { $0.output.metrics["lambda_min_rel"] }.min() ?? -1
        let tol = 100 * Double(c.points) * Double.ulpOfOne
        a.claims.append(Claim("P > |D|: the empirical NTK is positive definite at every sampled theta (lambda_min / lambda_max)", measured: worst,
                              expected: "> 100 n eps = \(sig(tol, 2))", tolerance: "above the eigensolver's roundoff floor", passed: worst > tol))
        let (ws, gs) = byWidth(runs, "deviation")
        let (claim, _) = exponentClaim("NTK concentration: ||Theta-hat - Theta|| / ||Theta|| ~ N^(-1/2)", widths: ws, groups: gs, expected: -0.5)
        a.claims.append(claim)
        let (_, lg) = byWidth(runs, "lambda_min_rel")
        a.figures.append(NamedFigure("concentration", "Relative deviation of the empirical NTK from its infinite-width limit, and lambda_min / lambda_max, vs width.",
            Figure(title: "Jacobian rank and NTK concentration", x: Axis("width", scale: .log), y: Axis("value", scale: .log),
                   layers: PlotLayer.meanWithErrorBars(ws, gs, label: "relative deviation", color: 0) + [
                            .line(x: ws, y: lg.map { meanAndStandardError($0).mean }, label: "lambda_min / lambda_max", color: 1)])))
        return a
    }
}

/// `theory.hessian-scale` (seed 004 eq. 2.2.7): the spectral norm of Hess_theta z(x) of a one-hidden-layer network
/// in the NTK parameterization, by power iteration on Hessian-vector products, falls like N1^(-1/2).
public struct HessianScaleExperiment: Experiment {
    public struct Config: Codable, Sendable { public var widths: [Int]; public var iterations: Int; public var seeds: Int }
    public init() {}
    public var id: String { "theory.hessian-scale" }
    public var source: String { "seed 004 eq. 2.2.7" }
    public var summary: String { "Spectral norm of the parameter Hessian of the output vs width" }
    public var claimText: String { "Every second derivative of the output with respect to the parameters carries a 1/sqrt(N1) prefactor, so the Hessian's norm vanishes with width." }
    public var estimates: (quick: String, full: String) { ("10 s", "2 min") }
    public var quickNote: String { "widths 64-4096, 50 power iterations, 4 seeds (full: to 16384, 8 seeds)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(widths: [64, 256, 1024, 4096], iterations: 50, seeds: 4) : Config(widths: [64, 256, 1024, 4096, 16384], iterations: 100, seeds: 8)
    }
    public func runs(_ c: Config) -> [RunKey] { widthRuns(c.widths, seeds: c.seeds) }
    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let x = SyntheticData.sphereInputs(1, dimension: 16, seed: 3)
        let net = try Network(Architecture(inputDimension: 16, hiddenWidths: [widthOf(key)], activation: .tanh, weightVariance: 1, hasBias: false,
                                           parameterization: .hanin), seed: seed)
        var rng = Xoshiro256StarStar(seed: seed, stream: 7)
        var v = rng.normals(net.layout.count)
        var norm = 0.0
        let e = Matrix(rows: 1, cols: 1, repeating: 1)
        for _ in 0..<c.iterations {
            let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / nv }
            let hv = try net.hvp(x, outputCotangent: e, direction: v)
            norm = hv.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = hv
        }
        return RunOutput(metrics: ["hessian_norm": norm])
    }
    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let (ws, gs) = byWidth(runs, "hessian_norm")
        let (claim, _) = exponentClaim("||Hess_theta z(x)|| ~ N1^(-1/2) (NTK parameterization)", widths: ws, groups: gs, expected: -0.5)
        a.claims.append(claim)
        // Eq. 2.2.7 bounds each entry by O(1/sqrt(N1)); the Hessian is block diagonal over neurons (plus the readout
        // coupling), so its operator norm is the largest block, ~ max_i |W2_i| / sqrt(N1) ~ sqrt(2 ln N1) / sqrt(N1).
        let corrected = zip(ws, gs).map { w, g in g.map { $0 / (2 * Foundation.log(w)).squareRoot() } }
        let (claim2, _) = exponentClaim("||Hess_theta z(x)|| / sqrt(2 ln N1) ~ N1^(-1/2) (entries O(1/sqrt(N1)), norm = largest of N1 neuron blocks)",
                                        widths: ws, groups: corrected, expected: -0.5)
        a.claims.append(claim2)
        a.notes.append("The operator norm picks the largest of N1 per-neuron blocks, each ~ |W2_i| / sqrt(N1); the maximum of N1 Gaussians grows like sqrt(2 ln N1), which bends the plain fit to about -0.4 over these widths. Eq. 2.2.7 itself is entrywise.")
        let st = gs.map { meanAndStandardError($0) }
        a.figures.append(NamedFigure("hessian", "Spectral norm of the Hessian of the output in the parameters (power iteration on HVPs) vs width.",
            Figure(title: "Hessian norm vs width", x: Axis("N1", scale: .log), y: Axis("||Hess z||", scale: .log),
                   layers: [.errorBars(x: ws, y: st.map { $0.mean }, err: st.map { $0.se }, label: "measured", color: 0),
                            .line(x: ws, y: ws.map { st[0].mean * ($0 / ws[0]).squareRoot().reciprocal }, label: "N1^-1/2", color: 1, dashed: true, markers: false)])))
        return a
    }
}
