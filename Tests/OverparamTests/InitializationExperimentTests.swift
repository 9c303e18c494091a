import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// The fits behind the init.* claims, and small end-to-end runs of the experiments.

@Suite("Initialization experiments")
struct InitializationExperimentTests {
    @Test("Weighted least squares recovers exact coefficients; SEs follow the measurement errors")
    func leastSquares() throws {
        let x = [1.0, 2, 3, 4, 5]
        let y = x.map { 2 - 3 * $0 + 0.5 * $0 * $0 }
        let fit = try #require(InitSupport.weightedLeastSquares(x.map { [1, $0, $0 * $0] }, y, [Double](repeating: 0.1, count: 5)))
        #expect(zip(fit.coefficients, [2.0, -3, 0.5]).allSatisfy { abs($0 - $1) < 1e-10 })
        // One parameter, n points of equal sigma: SE of the mean = sigma / sqrt(n).
        let mean = try #require(InitSupport.weightedLeastSquares(x.map { _ in [1] }, y, [Double](repeating: 2, count: 5)))
        #expect(abs(mean.errors[0] - 2 / 5.0.squareRoot()) < 1e-12)
        #expect(InitSupport.weightedLeastSquares([[1, 1], [2, 2]], [1, 2], [1, 1]) == nil, "singular design")
    }

    @Test("Scaling fit: an exact A N^p (1 + B/N) gives p; a 1/N^2 law fails an N^-1 claim")
    func scaling() {
        let n = [32.0, 64, 128, 256, 512]
        let e = n.map { MonteCarloEstimate(value: 3 * pow($0, -2) * Foundation.exp(20 / $0), standardError: 1e-3 * 3 * pow($0, -2)) }
        #expect(InitSupport.scalingClaim("exact", x: n, estimates: e, expected: -2).passed)
        #expect(!InitSupport.scalingClaim("wrong", x: n, estimates: e, expected: -1).passed)
        let unresolved = n.map { _ in MonteCarloEstimate(value: 1e-6, standardError: 1) }
        #expect(!InitSupport.scalingClaim("noise", x: n, estimates: unresolved, expected: -2).passed, "unresolved points cannot pass")
    }

    @Test("1/N-coefficient claims: a pure 1/N^2 residual passes 'vanishes', a 1/N residual passes 'present' and fails 'vanishes'")
    func inverseWidth() {
        let n = [16.0, 32, 64, 128]
        let quadratic = n.map { MonteCarloEstimate(value: 75 / ($0 * $0) + 125 / ($0 * $0 * $0), standardError: 1e-4) }
        let linear = n.map { MonteCarloEstimate(value: 15 / $0 + 75 / ($0 * $0), standardError: 1e-4) }
        #expect(InitSupport.inverseWidthClaim("q", x: n, estimates: quadratic, vanishes: true).0.passed)
        #expect(InitSupport.inverseWidthClaim("l", x: n, estimates: linear, vanishes: false).0.passed)
        #expect(!InitSupport.inverseWidthClaim("l", x: n, estimates: linear, vanishes: true).0.passed)
        #expect(abs(InitSupport.inverseWidthClaim("l", x: n, estimates: linear, vanishes: false).1[0] - 15) < 1e-6)
    }

    @Test("Three-point extrapolation is exact on T + (a ln l + b)/l; the decade-ratio claim rejects a wrong limit")
    func extrapolation() throws {
        let l = [100.0, 1000, 10000]
        let y = l.map { 44 + (-3 * Foundation.log($0) + 7) / $0 }
        let (t, a) = try #require(InitSupport.extrapolate(l, y))
        #expect(abs(t - 44) < 1e-9 && abs(a + 3) < 1e-7)
        #expect(InitSupport.limitClaim("right", l: l, y: y, target: 44).0.passed)
        #expect(!InitSupport.limitClaim("wrong", l: l, y: y, target: 44.1).0.passed)
    }

    /// Runs an experiment's configuration through run + analyze (no store).
    static func analyze<E: Experiment>(_ e: E, _ c: E.Config, seed: UInt64 = 1) throws -> Analysis {
        let records = try e.runs(c).enumerated().map { i, key in
            RunRecord(key: key, output: try e.run(key, config: c, seed: seed &+ UInt64(i)), seconds: 0)
        }
        return try e.analyze(c, runs: records)
    }

    @Test("init.depth-asymptotics quick preset: all claims pass (deterministic)")
    func depthAsymptotics() throws {
        let e = DepthAsymptoticsExperiment()
        let a = try Self.analyze(e, e.configuration(.quick))
        #expect(a.claims.count == 4)
        for c in a.claims { #expect(c.passed, "\(c.statement): \(c.measured) vs \(c.expected)") }
    }

    @Test("init.perturbative and init.fourth-cumulant at a reduced size produce their claims and figures")
    func smallMonteCarloRuns() throws {
        let p = PerturbativeExperiment()
        let pa = try Self.analyze(p, .init(activations: ["relu"], depth: 3, widths: [16, 32, 64], networks: 20_000))
        #expect(pa.claims.count == 6)
        #expect(pa.figures.count == 1 && pa.tables.count == 1)
        // The uncorrected residuals carry a clear 1/N term even at this size (ReLU: c_1 = 5 L for z1^2 z2^2).
        for c in pa.claims where c.statement.contains("without") { #expect(c.passed, "\(c.statement): \(c.measured)") }
        let f = FourthCumulantExperiment()
        let fa = try Self.analyze(f, .init(activations: ["relu"], depths: [1, 2], ratios: [0.1, 0.2], networks: 20_000, tanhDepths: [100, 1000, 10000]))
        #expect(fa.claims.count == 3)
        #expect(fa.claims[0].passed, "closure vs Monte Carlo: \(fa.claims[0].measured)")
    }

    @Test("init.deep-linear-norm and init.gp-limit at a reduced size: Monte Carlo agrees with the exact law and the NNGP")
    func exactLaws() throws {
        let d = DeepLinearNormExperiment()
        let da = try Self.analyze(d, .init(settings: [[1, 8], [4, 8], [2, 16]], inputDimension: 4, networks: 1500))
        #expect(da.claims[0].passed && da.claims[1].passed, "\(da.claims.map { "\($0.statement): \($0.measured)" })")
        let g = GaussianProcessLimitExperiment()
        let ga = try Self.analyze(g, .init(widths: [8, 16, 32], depth: 2, networks: 1500, dimension: 3))
        #expect(ga.claims[0].passed, "variance vs NNGP: \(ga.claims[0].measured)")
        #expect(ga.figures.count == 2)
    }
}
