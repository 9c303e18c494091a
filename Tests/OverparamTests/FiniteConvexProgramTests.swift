import Foundation
import Testing
@testable import Overparam

// Seed 002's finite convex program (21)-(24) (FiniteConvexProgram) on hand-solvable instances, its convexity and
// gradient, the re-parameterization identity at p = 1, and the certified solver against a trained network.

@Suite("Finite convex program (seed 002 Theorems 3, 5, 6)")
struct FiniteConvexProgramTests {
    static func randomMatrix(_ r: Int, _ c: Int, _ rng: inout Xoshiro256StarStar, std: Double = 1) -> Matrix {
        Matrix(rows: r, cols: c, storage: (0..<(r * c)).map { _ in std * rng.normal() })
    }

    /// The program on a random network's own neurons, with random 1-D inputs (std 2) and targets.
    static func randomProgram(widths: [Int], samples n: Int, lambdas: [Double], readout: Double, seed: UInt64,
                              using rng: inout Xoshiro256StarStar) throws -> FiniteConvexProgram {
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: widths, seed: seed)
        let x = randomMatrix(n, 1, &rng, std: 2), y = randomMatrix(n, 1, &rng)
        return try FiniteConvexProgram(network: net, inputs: x, targets: y, regularizer: try .l12(layerWeights: lambdas, readoutWeight: readout))
    }

    /// A random feasible density vector (p >= 0, sum q p = 1) for uniform q.
    static func randomDensity(_ n: Int, _ rng: inout Xoshiro256StarStar) -> [Double] {
        let e = (0..<n).map { _ in 0.05 + rng.uniform() }
        let s = e.reduce(0, +) / Double(n)
        return e.map { $0 / s }
    }

    /// One layer, two candidates with disjoint supports (orthogonal features), lambda^(1) = 0: minimizing p out gives
    /// the squared group lasso (1/2N)||sum beta_i h_i - y||^2 + lambda^(u) (sum |beta_i|)^2 (beta_i = q_i u~_i), whose
    /// solution is |beta_i| = (|c_i| - 2 lambda N T)_+ / s_i with T = sum |beta_i| (c_i = h_i.y, s_i = ||h_i||^2),
    /// and p_i = |beta_i| / (q_i T).
    static func groupLasso(h: [[Double]], y: [Double], lambda: Double) -> (value: Double, beta: [Double]) {
        let n = Double(y.count)
        let s = h.map { $0.reduce(0) { $0 + $1 * $1 } }, c = h.map { zip($0, y).reduce(0) { $0 + $1.0 * $1.1 } }
        let order = c.indices.sorted { abs(c[$0]) / 1 > abs(c[$1]) }
        var beta = [Double](repeating: 0, count: h.count)
        for k in 1...order.count {
            let act = Array(order.prefix(k))
            let t = act.reduce(0) { $0 + abs(c[$1]) / s[$1] } / (1 + 2 * lambda * n * act.reduce(0) { $0 + 1 / s[$1] })
            let thr = 2 * lambda * n * t
            let nextOK = k == order.count || abs(c[order[k]]) <= thr
            if act.allSatisfy({ abs(c[$0]) > thr }) && nextOK {
                for i in act { beta[i] = (c[i] > 0 ? 1 : -1) * (abs(c[i]) - thr) / s[i] }
                break
            }
        }
        var r = y
        for i in h.indices { for k in r.indices { r[k] -= beta[i] * h[i][k] } }
        let tt = beta.reduce(0) { $0 + abs($1) }
        return (r.reduce(0) { $0 + $1 * $1 } / (2 * n) + lambda * tt * tt, beta)
    }

    @Test("One layer, orthogonal features: the certified optimum equals the closed-form squared group lasso (both candidates active, and one pruned)")
    func orthogonalGroupLasso() throws {
        // F0 = I_6 (N = m^(0) = 6): candidate z_i = 6 c_i 1_{S_i} gives theta_1 = c_i 1_{S_i}, h_i = tanh(c_i) 1_{S_i}, S_1, S_2 disjoint.
        let f0 = Matrix.identity(6)
        let z1 = Matrix([[6 * 0.8, 6 * 0.8, 6 * 0.8, 0, 0, 0], [0, 0, 0, 6 * -0.5, 6 * -0.5, 0]])
        let y = [0.9, 0.7, 0.8, 0.2, 0.4, -0.3]
        let cand = try FeatureCandidateSet(inputFeatures: f0, firstLayer: z1, representations: [])
        let h = (0..<2).map { i in (0..<6).map { cand.features[0][$0, i] } }
        for lambda in [0.01, 0.2] {
            let prog = try FiniteConvexProgram(candidates: cand, targets: Matrix(column: y), regularizer: try .l12(layerWeights: [0], readoutWeight: lambda))
            let exact = Self.groupLasso(h: h, y: y, lambda: lambda)
            let t = exact.beta.reduce(0) { $0 + abs($1) }
            // The closed-form point itself, evaluated by the program's objective (independent of the solver).
            let pStar = exact.beta.map { abs($0) / (0.5 * t) }
            let uStar = Matrix(column: exact.beta.map { $0 / 0.5 })
            let atStar = try prog.objective(densities: [pStar], readout: uStar)
            #expect(abs(atStar - exact.value) <= 1e-13, "objective at the closed form \(atStar) vs \(exact.value)")
            let sol = try prog.solve(tolerance: 1e-11)
            #expect(sol.isCertified, "gap \(sol.gap)")
            #expect(sol.lowerBound - 1e-13 <= exact.value && exact.value <= sol.value + 1e-13, "optimum \(exact.value) outside [\(sol.lowerBound), \(sol.value)]")
            if lambda == 0.2 { #expect(exact.beta.contains(0), "the large lambda prunes one candidate") } else { #expect(!exact.beta.contains(0)) }
        }
    }

    @Test("Two layers, two first-layer candidates feeding one node: p^(1) = 2|a_j| / (|a_1| + |a_2|) and R = lambda^(2) (|a_1| + |a_2|)^2 / 4 by hand")
    func twoCandidateHandCase() throws {
        var rng = Xoshiro256StarStar(seed: 5)
        let f0 = Self.randomMatrix(7, 2, &rng), z1 = Self.randomMatrix(2, 2, &rng, std: 1.5)
        let a1 = 1.3, a2 = -0.4, lam2 = 0.05, lamU = 0.02
        let y = Self.randomMatrix(7, 1, &rng)
        let cand = try FeatureCandidateSet(inputFeatures: f0, firstLayer: z1, representations: [Matrix([[a1, a2]])])
        let prog = try FiniteConvexProgram(candidates: cand, targets: y, regularizer: try .l12(layerWeights: [0, lam2], readoutWeight: lamU))
        let h = (0..<7).map { cand.features[1][$0, 0] }, yv = y.storage, n = 7.0
        let hh = h.reduce(0) { $0 + $1 * $1 }, hy = zip(h, yv).reduce(0) { $0 + $1.0 * $1.1 }, yy = yv.reduce(0) { $0 + $1 * $1 }
        let exact = (yy - hy * hy / (hh + 2 * n * lamU)) / (2 * n) + lam2 * (abs(a1) + abs(a2)) * (abs(a1) + abs(a2)) / 4
        let sol = try prog.solve(tolerance: 1e-10)
        #expect(sol.isCertified)
        #expect(sol.lowerBound - 1e-13 <= exact && exact <= sol.value + 1e-13, "\(exact) vs [\(sol.lowerBound), \(sol.value)]")
        let pHand = [2 * abs(a1) / (abs(a1) + abs(a2)), 2 * abs(a2) / (abs(a1) + abs(a2))]
        #expect(try abs(prog.reducedObjective([pHand, [1]]).value - exact) <= 1e-13)
    }

    @Test("Re-parameterization at p = 1 (eqs. 18-20): Q~(1, w, u) of a network's own candidates equals its Q (eq. 9) exactly; J(1) <= Q")
    func embeddingIdentity() throws {
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [12, 8, 5], seed: 3)
        var rng = Xoshiro256StarStar(seed: 4)
        let x = Self.randomMatrix(20, 1, &rng, std: 2), y = Self.randomMatrix(20, 1, &rng)
        let r = try MixedNormRegularizer.l12(layerWeights: [1e-3, 2e-3, 5e-4], readoutWeight: 1e-2)
        let q = try ConvexObjective(regularizer: r).value(net, inputs: x, targets: y)
        let prog = try FiniteConvexProgram(network: net, inputs: x, targets: y, regularizer: r)
        let emb = try prog.objective(densities: prog.uniformDensities, readout: net.readout)
        #expect(abs(emb - q) <= 1e-12 * q, "\(emb) vs \(q)")
        #expect(try prog.reducedObjective(prog.uniformDensities).value <= q)
    }

    @Test("Convexity (Theorem 3): the midpoint inequality holds on random pairs for Q~(p, u~) and for J(p) = min_u~ Q~")
    func midpointConvexity() throws {
        var rng = Xoshiro256StarStar(seed: 9)
        let prog = try Self.randomProgram(widths: [10, 6, 4], samples: 15, lambdas: [0.3, 0.2, 0.1], readout: 0.05, seed: 8, using: &rng)
        var worst = -Double.infinity
        for _ in 0..<40 {
            let pa = prog.candidates.sizes.map { Self.randomDensity($0, &rng) }, pb = prog.candidates.sizes.map { Self.randomDensity($0, &rng) }
            let ua = Self.randomMatrix(4, 1, &rng, std: 5), ub = Self.randomMatrix(4, 1, &rng, std: 5)
            let pm = zip(pa, pb).map { zip($0, $1).map { ($0 + $1) / 2 } }
            let um = Matrix(rows: 4, cols: 1, storage: zip(ua.storage, ub.storage).map { ($0 + $1) / 2 })
            let fa = try prog.objective(densities: pa, readout: ua), fb = try prog.objective(densities: pb, readout: ub)
            let fm = try prog.objective(densities: pm, readout: um)
            worst = max(worst, (fm - (fa + fb) / 2) / max(fa, fb))
            let ja = try prog.reducedObjective(pa).value, jb = try prog.reducedObjective(pb).value, jm = try prog.reducedObjective(pm).value
            worst = max(worst, (jm - (ja + jb) / 2) / max(ja, jb))
        }
        #expect(worst <= 1e-12, "largest relative midpoint violation \(worst)")
    }

    @Test("The gradient of J(p) matches central finite differences along feasible directions")
    func gradient() throws {
        var rng = Xoshiro256StarStar(seed: 12)
        let prog = try Self.randomProgram(widths: [9, 7, 5], samples: 18, lambdas: [0.2, 0.1, 0.3], readout: 0.02, seed: 11, using: &rng)
        let p = prog.candidates.sizes.map { Self.randomDensity($0, &rng) }
        let g = try prog.reducedObjective(p).gradient
        for _ in 0..<5 {
            // A direction with sum_i q_i d_i = 0 in every layer (q uniform: zero mean).
            let d = prog.candidates.sizes.map { n -> [Double] in let v = (0..<n).map { _ in rng.normal() }; let m = v.reduce(0, +) / Double(n); return v.map { $0 - m } }
            let eps = 1e-5
            let plus = zip(p, d).map { zip($0, $1).map { $0 + eps * $1 } }, minus = zip(p, d).map { zip($0, $1).map { $0 - eps * $1 } }
            let fd = (try prog.reducedObjective(plus).value - prog.reducedObjective(minus).value) / (2 * eps)
            let an = zip(g, d).reduce(0) { $0 + zip($1.0, $1.1).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(abs(fd - an) <= 1e-6 * max(1, abs(an)), "directional derivative \(an) vs finite difference \(fd)")
        }
    }

    @Test("Projection onto {p >= 0, q.p = 1} satisfies its KKT conditions")
    func simplexProjection() {
        var rng = Xoshiro256StarStar(seed: 2)
        for _ in 0..<20 {
            let raw = (0..<7).map { _ in 0.1 + rng.uniform() }
            let total = raw.reduce(0, +)
            let q = raw.map { $0 / total }
            let v = (0..<7).map { _ in 3 * rng.normal() }
            let p = FiniteConvexProgram.projectOntoSimplex(v, weights: q)
            #expect(abs(zip(p, q).reduce(0) { $0 + $1.0 * $1.1 } - 1) <= 1e-12 && p.allSatisfy { $0 >= 0 })
            // theta from any active coordinate; inactive ones have v_i <= theta q_i.
            guard let i = p.indices.first(where: { p[$0] > 0 }) else { Issue.record("empty support"); continue }
            let theta = (v[i] - p[i]) / q[i]
            for k in p.indices { if p[k] > 0 { #expect(abs((v[k] - p[k]) / q[k] - theta) <= 1e-9) } else { #expect(v[k] <= theta * q[k] + 1e-12) } }
        }
    }

    @Test("Trained network as rho_0: the certified optimum is <= the trained Q (Theorem 3's program contains the network)")
    func trainedNetwork() throws {
        var net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [16, 8], seed: 21)
        let xs = (0..<40).map { -2 * Double.pi + 4 * Double.pi * Double($0) / 39 }
        let x = Matrix(column: xs), y = Matrix(column: xs.map { cos(4 * $0) })
        let obj = ConvexObjective(regularizer: try .l12(layerWeights: [1e-4, 1e-4], readoutWeight: 1e-3))
        var adam = Adam(learningRate: 1e-2)
        var opts = ConvexTrainingOptions(); opts.steps = 200; opts.recordEvery = 200
        _ = try ConvexTrainer.train(&net, inputs: x, targets: y, objective: obj, optimizer: &adam, options: opts)
        let q = try obj.value(net, inputs: x, targets: y)
        let prog = try FiniteConvexProgram(network: net, inputs: x, targets: y, regularizer: obj.regularizer)
        let sol = try prog.solve(tolerance: 1e-10)
        #expect(sol.isCertified, "gap \(sol.gap) after \(sol.iterations) iterations")
        #expect(sol.value <= q + 1e-10, "optimum \(sol.value) vs trained Q \(q)")
        #expect(sol.startValue <= q && sol.lowerBound <= sol.value)
    }

    @Test("Bad input gives typed errors")
    func errors() throws {
        let f0 = Matrix.identity(3), z1 = Matrix([[1, 0, 0]])
        #expect(throws: OverparamError.self) { try FeatureCandidateSet(inputFeatures: f0, firstLayer: Matrix([[1, 0]]), representations: []) }
        #expect(throws: OverparamError.self) { try FeatureCandidateSet(inputFeatures: f0, firstLayer: z1, representations: [], weights: [[0.5]]) }
        let c = try FeatureCandidateSet(inputFeatures: f0, firstLayer: z1, representations: [])
        #expect(throws: OverparamError.self) { try FiniteConvexProgram(candidates: c, targets: Matrix(column: [1, 2, 3]), regularizer: try .l12(layerWeights: [0], readoutWeight: 0)) }
        #expect(throws: OverparamError.self) { try FiniteConvexProgram(candidates: c, targets: Matrix(column: [1, 2, 3]), regularizer: try .weightDecay(layerWeights: [0], readoutWeight: 1)) }
    }
}
