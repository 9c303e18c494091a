import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// convex.landscape and convex.classification (seed 002 figs. 1, 5-7) at tiny sizes: they run end to end, and the
// exact parts of their claims hold (the feature-interpolation surface is convex within the Cauchy-Schwarz tolerance
// of its fit residuals and its vertices are the trained networks, for any trained networks); plus the seeded
// Gaussian-mixture generator.

@Suite("Convex landscape and classification experiments")
struct ConvexLandscapeExperimentTests {
    @Test("convex.landscape at a tiny size: feature surface convex within tau, vertices recovered, all figures")
    func landscape() throws {
        let e = ConvexLandscapeExperiment()
        var c = e.configuration(.quick)
        c.trainSamples = 150; c.testSamples = 100; c.fitSamples = 150; c.evalSamples = 100; c.baseWidth = 4; c.depth = 2; c.steps = 100; c.resolution = 4
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 5)
        #expect(a.claims[0].passed, "convexity beyond tau: \(a.claims[0].measured)")
        #expect(a.claims[1].passed, "vertex recovery: \(a.claims[1].measured)")
        #expect(a.figures.count == 3 && a.tables.first?.rows.count == 15)
    }

    @Test("convex.classification: all runs on a data set share the global-seed-derived seed; other experiments keep their own")
    func classificationSeedKey() throws {
        let e = ConvexClassificationExperiment(), c = e.configuration(.quick)
        let keys = e.runs(c)
        for data in c.datasets {
            let group = Set(keys.filter { $0.setting.hasPrefix("data=\(data),") }.map { e.seedKey($0) })
            #expect(group == [RunKey("data=\(data)")])
        }
        let seeds = Set(keys.map { runSeed(global: 5, experiment: e.id, key: e.seedKey($0)) })
        #expect(seeds.count == c.datasets.count)
        #expect(runSeed(global: 5, experiment: e.id, key: e.seedKey(keys[0])) != runSeed(global: 6, experiment: e.id, key: e.seedKey(keys[0])))
        let other = AnyExperiment(ConvexLandscapeExperiment()), k = RunKey("landscape", seed: 3)
        #expect(other.seedKey(k) == k)
    }

    @Test("convex.classification at a tiny size produces its claims, figures and tables")
    func classification() throws {
        let e = ConvexClassificationExperiment()
        var c = e.configuration(.quick)
        c.datasets = ["gaussian-mixture"]; c.gmClasses = 3; c.gmDimension = 8; c.gmSignalDimension = 3; c.gmPerClass = [20, 5, 5]
        c.depths = [1, 2]; c.gmBase = 4; c.steps = 40; c.recordEvery = 20; c.varianceSamples = 30; c.thresholds = 8
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 4 && a.claims.allSatisfy { $0.measured.isFinite })
        #expect(a.figures.count == 4 && a.tables.first?.rows.count == 3)
    }

    @Test("GaussianMixtureClassification: sizes, interleaved labels, seeded, class means at the stated separation")
    func gaussianMixture() throws {
        let (tr, va, te) = try GaussianMixtureClassification.generate(classes: 4, dimension: 50, signalDimension: 5, separation: 3,
                                                                      perClass: (train: 200, validation: 2, test: 3), seed: 7)
        #expect(tr.count == 800 && va.count == 8 && te.count == 12 && tr.inputs.cols == 50 && tr.classCount == 4)
        #expect(tr.labels.prefix(5) == [0, 1, 2, 3, 0])
        let again = try GaussianMixtureClassification.generate(classes: 4, dimension: 50, signalDimension: 5, separation: 3,
                                                               perClass: (train: 200, validation: 9, test: 3), seed: 7)
        #expect(again.train.inputs == tr.inputs && again.test.inputs == te.inputs)
        // Class means: the sample mean of 200 points has per-coordinate SE 1/sqrt(200); the squared distance of two
        // means estimates ||mu_a - mu_b||^2 + 2 d / 200, and E||mu_a - mu_b||^2 = 2 s^2 = 18 with a chi^2_5 spread.
        var means = Matrix(rows: 4, cols: 50)
        for (i, l) in tr.labels.enumerated() { for k in 0..<50 { means[l, k] += tr.inputs[i, k] / 200 } }
        var d2 = [Double]()
        for a in 0..<4 { for b in (a + 1)..<4 { d2.append((0..<50).reduce(0) { $0 + (means[a, $1] - means[b, $1]) * (means[a, $1] - means[b, $1]) } - 100.0 / 200) } }
        let mean = d2.reduce(0, +) / Double(d2.count)
        #expect(mean > 18 / 4 && mean < 18 * 4)
        // Within-class noise is unit: pooled variance about 1 (SE about 0.005 over 40,000 values).
        var v = 0.0
        for (i, l) in tr.labels.enumerated() { for k in 0..<50 { let e = tr.inputs[i, k] - means[l, k]; v += e * e } }
        #expect(abs(v / Double(800 * 50) - 1) < 0.05)
        #expect(throws: OverparamError.self) { try GaussianMixtureClassification.generate(classes: 1, dimension: 5, signalDimension: 2, separation: 1, perClass: (1, 1, 1), seed: 0) }
        #expect(throws: OverparamError.self) { try GaussianMixtureClassification.generate(classes: 3, dimension: 5, signalDimension: 6, separation: 1, perClass: (1, 1, 1), seed: 0) }
        #expect(throws: OverparamError.self) { try GaussianMixtureClassification.generate(classes: 3, dimension: 5, signalDimension: 2, separation: 1, perClass: (1, 0, 1), seed: 0) }
    }
}
