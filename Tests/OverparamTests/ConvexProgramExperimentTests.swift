import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// convex.program and convex.discretization (seed 002) end to end at tiny sizes.

@Suite("Convex program experiments")
struct ConvexProgramExperimentTests {
    @Test("convex.program at a tiny size: certified optimum <= trained Q, and the p = 1 identity")
    func program() throws {
        let e = ConvexProgramExperiment()
        var c = e.configuration(.quick)
        c.widths = [12, 6]; c.trainSamples = 60; c.steps = 100; c.seeds = 1
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 3)
        for cl in a.claims { #expect(cl.passed, "\(cl.statement): \(cl.measured)") }
        #expect(a.tables.first?.rows.count == 1 && a.figures.count == 1)
    }

    @Test("convex.discretization at a tiny size produces the exponent claim, one constant claim per layer and the figure")
    func discretization() throws {
        let e = ConvexDiscretizationExperiment()
        var c = e.configuration(.quick)
        c.widths = [32, 16]; c.trainSamples = 64; c.steps = 20; c.evalPoints = 32; c.scaledWidths = [8, 16, 32]; c.layerFactors = [2, 4]; c.repetitions = 40
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 1 + 2 + 1)
        #expect(a.claims.allSatisfy { $0.measured.isFinite })
        #expect(a.figures.count == 1 && a.tables.first?.rows.count == 3 + 2 * 2)
    }
}
