import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// Small end-to-end runs of the meanfield.* experiments (run + analyze, no store) and the pieces behind their claims.

@Suite("Mean-field experiments")
struct MeanFieldExperimentTests {
    @Test("three-point quadrature with unequal spacings is exact for quadratics; the trapezoid rule is not")
    func quadrature() {
        let t = [0.0, 0.1, 0.35, 0.4, 1.0, 1.7, 2.0]
        let f = t.map { 1 + 2 * $0 - 3 * $0 * $0 }
        let exact = 2.0 + 4 - 8   // integral_0^2 of 1 + 2t - 3t^2
        let q = MeanFieldOptimalityExperiment.integrals(Array(t.prefix(7)), Array(f.prefix(7)))
        #expect(abs(q.simpson - exact) < 1e-12)
        #expect(abs(q.trapezoid - exact) > 1e-3)
    }

    @Test("greater-than claim: separated means pass, overlapping means fail")
    func greaterClaim() {
        #expect(MeanFieldSupport.greaterClaim("s", a: [1.0, 1.1, 0.9, 1.05], b: [0.2, 0.25, 0.15, 0.2], what: "x").passed)
        #expect(!MeanFieldSupport.greaterClaim("o", a: [1.0, 0.2, 0.9, 0.3], b: [0.8, 0.25, 0.7, 0.4], what: "x").passed)
        #expect(!MeanFieldSupport.allBelowClaim("t", values: [1e-4, 2e-3], threshold: 1e-3, what: "risk").passed)
    }

    @Test("teacher-2d: a short run learns the d = 2 teacher at m = 20 and produces the figures")
    func teacher2d() throws {
        let e = TeacherTwoDimensionalExperiment()
        var c = e.configuration(.quick)
        c.widths = [20]; c.repetitions = 2; c.steps = 6000; c.riskPoints = 10; c.snapshots = 5; c.trackedParticles = 5
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 1)
        #expect(a.claims[0].measured < 0.05, "risk fell from O(1) (got \(a.claims[0].measured))")
        #expect(a.figures.contains { $0.name == "particles-m=0020" })
    }

    @Test("sigmoid-teacher: wider students reach lower loss; the noisy panel runs and reports the census")
    func sigmoidTeacher() throws {
        let e = SigmoidTeacherExperiment()
        var c = e.configuration(.quick)
        c.widths = [4, 40]; c.repetitions = 3; c.steps = 600; c.batchSize = 200; c.panelWidth = 40; c.panelRepetitions = 2; c.testSamples = 500; c.lossPoints = 5
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 2)
        #expect(a.claims[0].passed, "m = 40 beats m = 4: \(a.claims[0].measured)")
        #expect(a.figures.contains { $0.name == "particles-noisy" })
    }

    @Test("optimality: the certificate bounds the risk from above at every observation; the energy identity holds")
    func optimality() throws {
        let e = MeanFieldOptimalityExperiment()
        var c = e.configuration(.quick)
        c.samples = 300; c.widths = [4, 16]; c.repetitions = 3; c.referenceWidth = 64; c.steps = 400; c.observations = 20
        c.directions = 720; c.optimalityWidth = 32; c.optimalitySteps = 800; c.energyWidth = 8; c.energyTime = 5
        let runs = try e.runs(c).map { k in RunRecord(key: k, output: try e.run(k, config: c, seed: runSeed(global: 3, experiment: e.id, key: k)), seconds: 0) }
        let op = try #require(runs.first { $0.key.setting == "optimality" })
        let risk = try #require(op.output.series["risk"]), cert = try #require(op.output.series["certificate"])
        // R - R* <= certificate is an exact inequality (R* = 0 for a realizable teacher), up to the grid's minimum.
        for (r, b) in zip(risk, cert) { #expect(r <= b + 2e-5, "grid error of the sphere minimum is O(1e-5) here") }
        let a = try e.analyze(c, runs: runs)
        let energy = try #require(a.claims.first { $0.statement.hasPrefix("Energy identity") })
        #expect(energy.passed, "\(energy.measured) vs \(energy.expected)")
    }
}
