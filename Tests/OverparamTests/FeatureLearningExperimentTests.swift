import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// The features.* experiments (seed 000 sec. VI) at tiny sizes: they run end to end and their exact checks hold.

@Suite("Feature-learning experiments")
struct FeatureLearningExperimentTests {
    @Test("features.discretization at a tiny size: eq. 24 holds within 5 SE at every m (it is exact for i.i.d. draws from the wide net)")
    func discretization() throws {
        let e = FeatureDiscretizationExperiment()
        var c = e.configuration(.quick)
        c.width = 200; c.epochs = 2; c.subWidths = [5, 20, 80]; c.draws = 200; c.seeds = 1; c.maxTrain = 300; c.maxTest = 100
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 2)
        #expect(a.claims[0].passed, "eq. 24 check: \(a.claims[0].measured)")
        #expect(a.tables.first?.rows.count == 3 && a.figures.count == 1)
    }

    @Test("features.pruning at a tiny size produces the paired claim, the table and the refit curves")
    func pruning() throws {
        let e = FeaturePruningExperiment()
        var c = e.configuration(.quick)
        c.width = 100; c.epochs = 2; c.refitEpochs = 3; c.repetitions = 2; c.maxTrain = 300; c.maxTest = 100
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 1 && a.claims[0].measured.isFinite)
        #expect(a.tables.first?.rows.count == 3)
        #expect(a.figures.first.map { $0.figure.layers.count } == 2)
    }
}
