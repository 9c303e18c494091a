import Foundation
import Testing
import TOMLKit
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
        c.width = 100; c.epochs = 2; c.refitEpochs = 3; c.repetitions = 2; c.draws = 2; c.maxTrain = 300; c.maxTest = 100
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.count == 1 && a.claims[0].measured.isFinite && a.claims[0].statement.contains("2 wide networks"))
        #expect(a.tables.first?.rows.count == 3)
        #expect(a.figures.first.map { $0.figure.layers.count } == 2)
        // One wide network: the draws are the units, and the claim's mean is the mean of the per-draw differences.
        c.repetitions = 1; c.draws = 3
        let one = try InitializationExperimentTests.analyze(e, c)
        #expect(one.claims[0].statement.contains("3 draws from one wide network"))
        let out = try e.run(RunKey("repetition", seed: 0), config: c, seed: 7)
        let u = try #require(out.series["uniform_final_losses"]), imp = try #require(out.series["importance_final_losses"])
        #expect(u.count == 3 && imp.count == 3 && Set(u).count == 3, "distinct draws give distinct refits")
        #expect(abs(try #require(out.metrics["uniform_train_loss"]) - u.reduce(0, +) / 3) < 1e-12)
    }

    @Test("The feature configurations code as one flat table: the preset's keys, overrides key by key, unchanged JSON")
    func flatConfigKeys() throws {
        let e = FeatureRepopulationExperiment()
        let json = try canonicalJSON(e.configuration(.full))
        let keys = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]).keys.sorted()
        #expect(keys == ["autoencoderEpochs", "autoencoderLearningRate", "batchSize", "draws", "hiddenWidth", "images", "latentDimension",
                         "learningRate", "maxTest", "maxTrain", "mixtureComponents", "outputEpochs", "outputLearningRate", "poolEpochs",
                         "poolHeldOut", "poolNets", "poolWidth", "repetitions", "weightDecay", "widths"])
        let back = try JSONDecoder().decode(FeatureRepopulationExperiment.Config.self, from: json)
        #expect(try canonicalJSON(back) == json && back.poolNets == 1000 && back.draws == 4)
        let t = try TOMLTable(string: "[features.tangent-space]\npoolNets = 5\nwidth = 30\npenalty = 1\n")
        let c = try JSONDecoder().decode(FeatureTangentSpaceExperiment.Config.self,
                                         from: AnyExperiment(FeatureTangentSpaceExperiment()).configuration(.quick, overrides: t, file: "x.toml"))
        #expect(c.poolNets == 5 && c.width == 30 && c.penalty == 1 && c.poolWidth == 100 && c.repetitions == 4)
        let bad = try TOMLTable(string: "[features.weights]\npool = 3\n")
        #expect { try AnyExperiment(FeatureWeightsExperiment()).configuration(.quick, overrides: bad, file: "x.toml") } throws: { "\($0)".contains("pool") }
    }

    @Test("features.weights at a tiny size: the 4-row weight montage and the held-out likelihood table")
    func weights() throws {
        let e = FeatureWeightsExperiment()
        var c = e.configuration(.quick)
        c.poolNets = 3; c.poolHeldOut = 1; c.poolWidth = 16; c.poolEpochs = 2; c.autoencoderEpochs = 3; c.mixtureComponents = [1]; c.shown = 4
        c.maxTrain = 300; c.maxTest = 100
        let a = try InitializationExperimentTests.analyze(e, c)
        #expect(a.claims.isEmpty && a.tables.first?.rows.count == 3)
        guard case let .heatmap(img)? = a.figures.first?.figure.layers.first else { Issue.record("no montage"); return }
        #expect(img.rows == 4 * 9 - 1 && img.cols == 4 * 9 - 1)
        #expect(img.storage.allSatisfy { $0.isFinite && abs($0) <= 1 })
    }

    @Test("features.repopulation and features.tangent-space at a tiny size produce their claims and tables")
    func repopulationAndTangent() throws {
        let r = FeatureRepopulationExperiment()
        var c = r.configuration(.quick)
        c.poolNets = 3; c.poolHeldOut = 1; c.poolWidth = 16; c.poolEpochs = 2; c.autoencoderEpochs = 3; c.mixtureComponents = [1]
        c.widths = [5, 20]; c.outputEpochs = 3; c.repetitions = 2; c.maxTrain = 300; c.maxTest = 100
        let a = try InitializationExperimentTests.analyze(r, c)
        #expect(a.claims.count == 2 && a.claims.allSatisfy { !$0.measured.isNaN })
        #expect(a.tables.first?.rows.count == 4)
        let t = FeatureTangentSpaceExperiment()
        var ct = t.configuration(.quick)
        ct.poolNets = 3; ct.poolHeldOut = 1; ct.poolWidth = 16; ct.poolEpochs = 2; ct.autoencoderEpochs = 3; ct.mixtureComponents = [1]
        ct.width = 20; ct.repetitions = 2; ct.maxTrain = 300; ct.maxTest = 100
        let b = try InitializationExperimentTests.analyze(t, ct)
        #expect(b.claims.count == 3 && b.tables.first?.rows.count == 2)
        // 300 images, m (d + 2) = 1320 tangent coefficients per class: the ridge solution with penalty 1e-6 interpolates.
        #expect(b.claims[0].passed && b.claims[1].passed, "train errors \(b.claims[0].measured), \(b.claims[1].measured)")
    }
}
