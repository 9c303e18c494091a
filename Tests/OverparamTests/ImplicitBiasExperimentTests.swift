import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// The implicit-bias.* experiments (seed 003 sec. 5.5): their helpers (contours, sign test) and tiny end-to-end runs.

@Suite("Implicit-bias experiments")
struct ImplicitBiasExperimentTests {
    @Test("Marching squares: the zero set of x1^2 + x2^2 - r^2 lies on the circle and has its length; a linear function gives a straight line")
    func marchingSquares() {
        let n = 81, r = 0.3
        let grid = ImplicitBiasSupport.planeGrid(n, -0.5, 0.5)
        let circle = (0..<grid.rows).map { grid[$0, 1] * grid[$0, 1] + grid[$0, 2] * grid[$0, 2] - r * r }
        let s = ImplicitBiasSupport.zeroSegments(circle, count: n, -0.5, 0.5)
        #expect(!s.x0.isEmpty)
        var length = 0.0, worst = 0.0
        for i in s.x0.indices {
            length += ((s.x1[i] - s.x0[i]) * (s.x1[i] - s.x0[i]) + (s.y1[i] - s.y0[i]) * (s.y1[i] - s.y0[i])).squareRoot()
            for (u, v) in [(s.x0[i], s.y0[i]), (s.x1[i], s.y1[i])] { worst = Swift.max(worst, abs((u * u + v * v).squareRoot() - r)) }
        }
        let h = 1.0 / Double(n - 1)
        #expect(worst < h * h, "endpoints off the circle by \(worst)")
        #expect(abs(length - 2 * Double.pi * r) < 0.01 * 2 * Double.pi * r, "length \(length)")
        let line = (0..<grid.rows).map { grid[$0, 1] - 0.1234 }
        let l = ImplicitBiasSupport.zeroSegments(line, count: n, -0.5, 0.5)
        #expect(l.x0.count == n - 1 && (l.x0 + l.x1).allSatisfy { abs($0 - 0.1234) < 1e-12 })
        // A saddle cell: corners (+, -, -, +) with a positive centre joins the negative corners' cuts.
        let saddle = ImplicitBiasSupport.zeroSegments([1, -1, -1, 1.5], count: 2, 0, 1)
        #expect(saddle.x0.count == 2)
    }

    @Test("Sign test and paired statistics")
    func statistics() {
        #expect(abs(ImplicitBiasSupport.signTestPValue(successes: 10, trials: 10) - 1 / 1024.0) < 1e-15)
        #expect(abs(ImplicitBiasSupport.signTestPValue(successes: 9, trials: 10) - 11 / 1024.0) < 1e-14)
        #expect(ImplicitBiasSupport.signTestPValue(successes: 0, trials: 10) == 1)
        let p = ImplicitBiasSupport.paired([0.3, 0.4, 0.5], [0.1, 0.1, 0.1])
        #expect(abs(p.mean - 0.3) < 1e-15 && p.z > 5)
        #expect(ImplicitBiasSupport.paired([0.2, 0.2], [0.1, 0.1]).z == .infinity)
        #expect(ImplicitBiasSupport.testError([1, -1, 0, 2], [1, 1, 1, -1]) == 0.75)
    }

    @Test("implicit-bias.boundaries at a tiny size: the exact max-margin bounds hold; figures and table are made")
    func boundaries() throws {
        let e = ImplicitBiasBoundariesExperiment()
        var c = e.configuration(.quick)
        c.trainingSets = 1; c.samples = 24; c.width = 120; c.iterations = 3000; c.outputIterations = 5000; c.gridDirections = 300; c.plotResolution = 41
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 5)
        #expect(a.claims[1].passed, "exact bounds: \(a.claims[1].measured)")
        #expect(a.figures.count == 2 && a.tables.count == 1)
        #expect(e.configuration(.full).iterations == 100_000 && e.configuration(.full).width == 1000)
    }

    @Test("implicit-bias.test-error at a tiny size produces paired claims, a table row per setting and both figures")
    func testError() throws {
        let e = ImplicitBiasTestErrorExperiment()
        var c = e.configuration(.quick)
        c.sampleSizes = [16, 32]; c.dimensions = [5, 6]; c.dimensionForSamples = 5; c.samplesForDimensions = 32
        c.width = 60; c.iterations = 300; c.repetitions = 3; c.testSamples = 300
        #expect(e.runs(c).count == 3 * 3, "the shared point (d = 5, n = 32) runs once")
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 3)
        #expect(a.tables.first?.rows.count == 4)
        #expect(a.figures.count == 2)
        let full = e.configuration(.full)
        #expect(full.repetitions == 20 && full.iterations == 50_000 && full.sampleSizes == [32, 64, 128, 256, 512] && full.dimensions == [5, 10, 15, 20, 25])
    }

    @Test("implicit-bias.rkhs-limit at a tiny size: the exact cosine bound holds; claims and figures are made")
    func rkhsLimit() throws {
        let e = ImplicitBiasRKHSLimitExperiment()
        var c = e.configuration(.quick)
        c.trainingSets = 1; c.samples = 12; c.width = 100; c.outputIterations = 30_000; c.bothIterations = 1000; c.records = 8; c.gridDirections = 300
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 5)
        #expect(a.claims[2].passed, "cos >= 1 - 2 (1 - ratio): slack \(a.claims[2].measured)")
        #expect(a.figures.count == 2 && a.tables.count == 1)
    }
}
