import Foundation
import Overparam

/// Shared pieces of the feature-learning experiments (issue #15, seed 000 sec. VI).
enum FeatureLearningSupport {
    /// The image split (digits by default, `mnist-5k`, `mnist:DIR`), scaled by ``ImageData/normalization(_:)`` with the training statistics, with integer labels.
    static func images(_ spec: String, maxTrain: Int, maxTest: Int) throws -> (x: Matrix, labels: [Int], tx: Matrix, tlabels: [Int], classes: Int) {
        let (train, test) = try ImageData.split(spec, maxTrain: maxTrain, maxTest: maxTest)
        let (x, tx) = ImageData.normalized(spec, train: train.inputs, test: test.inputs)
        return (x, train.labels, tx, test.labels, train.classCount)
    }

    /// The wide network of fig. 11 and eq. 24: d -> m -> classes, tanh, standard parameterization with biases, Adam,
    /// weight decay on both layers' weights.
    static func trainWide(_ d: (x: Matrix, labels: [Int], tx: Matrix, tlabels: [Int], classes: Int), width: Int, weightDecay: Double,
                          learningRate: Double, epochs: Int, batchSize: Int, seed: UInt64) throws -> TrainedTwoLayerNetwork {
        try TwoLayerTraining(width: width, weightDecay: weightDecay, optimizer: Adam(learningRate: learningRate), epochs: epochs, batchSize: batchSize)
            .trainClassifier(inputs: d.x, labels: d.labels, classCount: d.classes, seed: seed)
    }
}

/// `features.pruning` (seed 000 sec. VI, fig. 11; SEED-NOTES sec. 3): a wide two-layer tanh network trained with
/// weight decay has many "wasted" neurons (small ||u_j||). Keep k = 10 of its neurons, drawn with replacement either
/// uniformly or with probability p_j proportional to ||u_j|| std_x h(theta_j . x) (``NeuronSampling``), fix their
/// theta and refit the output layer (a convex problem) by Adam; compare the training losses.
public struct FeaturePruningExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var images: String; public var maxTrain: Int; public var maxTest: Int
        public var width: Int; public var epochs: Int; public var learningRate: Double; public var weightDecay: Double
        public var keep: Int; public var refitEpochs: Int; public var refitLearningRate: Double; public var batchSize: Int
        /// Wide networks trained (independent seeds).
        public var repetitions: Int
        /// Pruning draws per wide network and rule (each: k neurons drawn, output layer refit).
        public var draws: Int
    }
    public init() {}
    public var id: String { "features.pruning" }
    public var source: String { "seed 000 sec. VI, fig. 11; SEED-NOTES sec. 3 (m = 10^4, weight decay 1e-3, 10 neurons, Adam 1e-3, 20 epochs)" }
    public var summary: String { "Prune a wide regularized network to 10 neurons: importance vs uniform sampling, then refit u" }
    public var claimText: String { "Many neurons of a wide regularized network are wasted; sampling neurons with probability proportional to their importance ||u_j|| std h_j and refitting the output layer gives a lower training loss than sampling them uniformly." }
    public var estimates: (quick: String, full: String) { ("90 s", "30 min") }
    public var quickNote: String { "one wide network of the seed's m = 10^4 trained for 200 epochs (full: 20 networks; narrower or shorter-trained networks have too few wasted neurons for the effect: m = 1000 or 100 epochs leave an effective fraction of 0.7-0.9), pruned 20 times per rule, so the quick claim is conditional on that network; refit 300 epochs (full: 1000; the digits have 10 batches per epoch, MNIST 469, so the seed's 20 refit epochs are about 9,400 steps); digits by default" }
    public func configuration(_ p: Preset) -> Config {
        Config(images: "digits", maxTrain: 0, maxTest: 0, width: 10_000, epochs: 200, learningRate: 1e-3,
               weightDecay: 1e-3, keep: 10, refitEpochs: p == .quick ? 300 : 1000, refitLearningRate: 1e-3, batchSize: 128,
               repetitions: p == .quick ? 1 : 20, draws: p == .quick ? 20 : 1)
    }
    public func runs(_ c: Config) -> [RunKey] { (0..<c.repetitions).map { RunKey("repetition", seed: $0) } }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = try FeatureLearningSupport.images(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest)
        let wide = try FeatureLearningSupport.trainWide(d, width: c.width, weightDecay: c.weightDecay, learningRate: c.learningRate,
                                                        epochs: c.epochs, batchSize: c.batchSize, seed: seed)
        let h = try wide.features.features(d.x)
        var metrics: [String: Double] = ["wide_train_loss": try wide.output.crossEntropy(features: h, labels: d.labels),
                                         "wide_test_accuracy": try wide.output.accuracy(features: try wide.features.features(d.tx), labels: d.tlabels)]
        let norms = DiscretizationVariance.outputWeightNorms(wide.output.weights)
        let largest = norms.max() ?? 1
        metrics["wasted_fraction"] = Double(norms.filter { $0 < 0.01 * largest }.count) / Double(Swift.max(1, norms.count))
        // Spread of the importance weights: the effective fraction of neurons 1 / (m sum_j p_j^2) (1 for uniform weights).
        let p = try NeuronSampling.importanceWeights(features: h, outputWeights: wide.output.weights)
        metrics["importance_effective_fraction"] = 1 / (Double(p.count) * p.reduce(0) { $0 + $1 * $1 })
        var series = [String: [Double]]()
        let draws = Swift.max(1, c.draws)
        for rule in NeuronSampling.Rule.allCases {
            var finals = [Double](), accuracies = [Double](), meanCurve = [Double]()
            for draw in 0..<draws {
                // Draw 0 uses the seeds of the one-draw design, so one-draw configurations reproduce earlier runs.
                let offset = UInt64(draw) &* 0x9E37_79B9_7F4A_7C15
                let (sub, _) = try NeuronSampling.prune(features: wide.features, outputLayer: wide.output, data: d.x, keep: c.keep, rule: rule,
                                                       seed: (seed ^ (rule == .uniform ? 0x5555 : 0xAAAA)) &+ offset)
                let hs = try sub.features(d.x)
                let (layer, losses) = try OutputLayer.softmaxRegression(features: hs, labels: d.labels, classCount: d.classes,
                                                                        optimizer: Adam(learningRate: c.refitLearningRate), epochs: c.refitEpochs,
                                                                        batchSize: c.batchSize, seed: (seed ^ 0x1234) &+ offset)
                finals.append(losses.last ?? .nan)
                accuracies.append(try layer.accuracy(features: try sub.features(d.tx), labels: d.tlabels))
                meanCurve = meanCurve.isEmpty ? losses : zip(meanCurve, losses).map { $0 + $1 }
            }
            metrics["\(rule.rawValue)_train_loss"] = finals.reduce(0, +) / Double(draws)
            metrics["\(rule.rawValue)_test_accuracy"] = accuracies.reduce(0, +) / Double(draws)
            series["\(rule.rawValue)_loss"] = meanCurve.map { $0 / Double(draws) }
            series["\(rule.rawValue)_final_losses"] = finals
        }
        return RunOutput(metrics: metrics, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        // The unit of the paired comparison: each wide network (its mean over draws) when there are several networks;
        // with one network, each draw (the claim is then about that network, conditional on its training).
        let u: [Double], imp: [Double], unit: String
        if runs.count >= 2 {
            u = runs.compactMap { $0.output.metrics["uniform_train_loss"] }; imp = runs.compactMap { $0.output.metrics["importance_train_loss"] }
            unit = "\(runs.count) wide networks, each the mean over its \(Swift.max(1, c.draws)) draw(s)"
        } else {
            u = runs.flatMap { $0.output.series["uniform_final_losses"] ?? [] }; imp = runs.flatMap { $0.output.series["importance_final_losses"] ?? [] }
            unit = "\(u.count) draws from one wide network"
        }
        let diffs = zip(u, imp).map { $0 - $1 }
        let (md, sd) = meanAndStandardError(diffs)
        let z = sd > 0 ? md / sd : (md > 0 ? Double.infinity : 0)
        a.claims.append(Claim("Importance sampling reaches a lower training loss than uniform sampling after the refit (paired over \(unit): mean of uniform - importance cross-entropy)",
                              measured: md, expected: "> 0 by more than 3 SE (z = \(sig(z, 3)))",
                              tolerance: "paired standard error over the repetitions (SE = \(sig(sd, 3)))", passed: diffs.count >= 2 && z > 3))
        let (mu, su) = meanAndStandardError(u), (mi, si) = meanAndStandardError(imp)
        let ua = meanAndStandardError(runs.compactMap { $0.output.metrics["uniform_test_accuracy"] })
        let ia = meanAndStandardError(runs.compactMap { $0.output.metrics["importance_test_accuracy"] })
        let wl = meanAndStandardError(runs.compactMap { $0.output.metrics["wide_train_loss"] })
        let wa = meanAndStandardError(runs.compactMap { $0.output.metrics["wide_test_accuracy"] })
        let wasted = meanAndStandardError(runs.compactMap { $0.output.metrics["wasted_fraction"] })
        let effective = meanAndStandardError(runs.compactMap { $0.output.metrics["importance_effective_fraction"] })
        a.tables.append(DataTable("pruning", header: ["network", "train cross-entropy", "SE", "test accuracy", "SE"], rows: [
            ["wide, m = \(c.width)", sig(wl.mean, 4), sig(wl.se, 2), sig(wa.mean, 4), sig(wa.se, 2)],
            ["\(c.keep) neurons, uniform", sig(mu, 4), sig(su, 2), sig(ua.mean, 4), sig(ua.se, 2)],
            ["\(c.keep) neurons, importance", sig(mi, 4), sig(si, 2), sig(ia.mean, 4), sig(ia.se, 2)]]))
        var layers = [PlotLayer]()
        for (i, rule) in NeuronSampling.Rule.allCases.enumerated() {
            let curves = runs.compactMap { $0.output.series["\(rule.rawValue)_loss"] }
            guard let n = curves.map(\.count).min(), n > 0 else { continue }
            let mean = (0..<n).map { e in curves.reduce(0) { $0 + $1[e] } / Double(curves.count) }
            layers.append(.line(x: (1...n).map(Double.init), y: mean, label: rule.rawValue, color: i, markers: true))
        }
        a.figures.append(NamedFigure("refit-loss", "Training cross-entropy of the refit output layer per epoch (mean over repetitions), \(c.keep) neurons drawn from the wide network (seed 000 fig. 11).",
            Figure(title: "Pruning to \(c.keep) neurons", x: Axis("epoch"), y: Axis("train loss"), layers: layers)))
        a.notes.append("Wide network: d -> \(c.width) -> 10, tanh, standard parameterization with biases, Adam \(sig(c.learningRate, 2)), \(c.epochs) epochs, batch \(c.batchSize), weight decay \(sig(c.weightDecay, 2)) on both layers. A fraction \(sig(wasted.mean, 3)) of its neurons have ||u_j|| below 1 % of the largest, and the importance weights' effective fraction of neurons 1 / (m sum p_j^2) is \(sig(effective.mean, 3)) (1 = uniform): when the wide network has no wasted neurons the two rules sample nearly alike. Refit: softmax regression of the output layer (with bias) from zero, Adam \(sig(c.refitLearningRate, 2)), \(c.refitEpochs) epochs; both rules get the same refit.")
        a.notes.append(TrainingSupport.imageNote(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        return a
    }
}

/// `features.discretization` (seed 000 eq. 24): a wide trained network is taken as the feature distribution rho
/// (its empirical measure); sub-networks of m neurons drawn i.i.d. from it, f_m = (1/m) sum_j U_j h_j, have
/// E ||f_m - f_rho||^2 = (1/m) integral ||U h - f_rho||^2 d rho (``DiscretizationVariance``). Also reports the spread
/// of ||u_j|| across neurons (the claim of the seed's reference [58]).
public struct FeatureDiscretizationExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var images: String; public var maxTrain: Int; public var maxTest: Int
        public var width: Int; public var epochs: Int; public var learningRate: Double; public var weightDecay: Double; public var batchSize: Int
        public var subWidths: [Int]; public var draws: Int; public var seeds: Int
    }
    public init() {}
    public var id: String { "features.discretization" }
    public var source: String { "seed 000 sec. VI, eq. 24" }
    public var summary: String { "Sub-networks of a wide trained network: measured ||f_m - f_rho||^2 vs the (1/m) variance of eq. 24" }
    public var claimText: String { "Sampling m hidden units i.i.d. from the feature distribution rho gives a discretization error ||f_m - f_rho||^2 ~ (1/m) integral ||alpha u h - f_rho||^2 d rho (eq. 24): it falls like 1/m with the stated constant." }
    public var estimates: (quick: String, full: String) { ("10 s", "2 min") }
    public var quickNote: String { "wide network m = 2000 (full: 10^4), 400 draws per sub-width (full: 2000), 2 trained networks (full: 4)" }
    public func configuration(_ p: Preset) -> Config {
        Config(images: "digits", maxTrain: 0, maxTest: 0, width: p == .quick ? 2000 : 10_000, epochs: p == .quick ? 10 : 30, learningRate: 1e-3,
               weightDecay: 1e-3, batchSize: 128, subWidths: [10, 20, 50, 100, 200, 500], draws: p == .quick ? 400 : 2000, seeds: p == .quick ? 2 : 4)
    }
    public func runs(_ c: Config) -> [RunKey] { (0..<c.seeds).map { RunKey("network", seed: $0) } }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let d = try FeatureLearningSupport.images(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest)
        let wide = try FeatureLearningSupport.trainWide(d, width: c.width, weightDecay: c.weightDecay, learningRate: c.learningRate,
                                                        epochs: c.epochs, batchSize: c.batchSize, seed: seed)
        // Mean-field form f_rho = (1/M) sum_j U_j h_j: U_j = M u_j for the network's f = sum_j u_j h_j + c (c cancels).
        var u = wide.output.weights
        for i in 0..<u.count { u.storage[i] *= Double(c.width) }
        let dv = try DiscretizationVariance(features: try wide.features.features(d.tx), outputWeights: u)
        var measured = [Double](), se = [Double](), predicted = [Double]()
        for (i, m) in c.subWidths.enumerated() {
            let r = try dv.measured(m: m, repetitions: c.draws, seed: seed &+ UInt64(i + 1))
            measured.append(r.mean); se.append(r.standardError); predicted.append(dv.predicted(m))
        }
        let norms = DiscretizationVariance.outputWeightNorms(wide.output.weights)
        let initialNorms = DiscretizationVariance.outputWeightNorms(try OutputLayer(network: try Network(wide.network.architecture, seed: seed)).weights)
        return RunOutput(metrics: ["cv_trained": try DiscretizationVariance.coefficientOfVariation(norms),
                                   "cv_initial": try DiscretizationVariance.coefficientOfVariation(initialNorms),
                                   "per_neuron_variance": dv.perNeuronVariance],
                         series: ["m": c.subWidths.map(Double.init), "measured": measured, "se": se, "predicted": predicted])
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        var worstZ = 0.0, rows = [[String]](), layers = [PlotLayer]()
        var slopes = [(Double, Double)]()
        for (k, r) in runs.enumerated() {
            guard let m = r.output.series["m"], let y = r.output.series["measured"], let se = r.output.series["se"], let p = r.output.series["predicted"] else { continue }
            for i in m.indices {
                let z = abs(y[i] - p[i]) / se[i]
                worstZ = Swift.max(worstZ, z)
                rows.append([String(r.key.seed), String(Int(m[i])), sig(y[i], 4), sig(se[i], 2), sig(p[i], 4), sig(z, 3)])
            }
            if let fit = LinearFit.powerLaw(x: m, y: y, standardErrors: se) { slopes.append((fit.slope, fit.slopeStandardError)) }
            layers.append(.errorBars(x: m, y: y, err: se.map { 2 * $0 }, label: k == 0 ? "measured (2 SE)" : nil, color: k))
            layers.append(.line(x: m, y: p, label: k == 0 ? "eq. 24: (1/m) Var" : nil, color: k, dashed: true, markers: false))
        }
        a.claims.append(Claim("Eq. 24: the measured mean ||f_m - f_rho||^2 over the test images equals (1/m) integral ||U h - f_rho||^2 d rho at every m and network",
                              measured: worstZ, expected: "|measured - predicted| <= 5 SE at every point", tolerance: "Monte-Carlo SE of the mean over \(c.draws) draws per point",
                              passed: !rows.isEmpty && worstZ <= 5))
        for (i, s) in slopes.enumerated() {
            a.claims.append(Claim("The discretization error falls like 1/m (network \(i)): fitted exponent of ||f_m - f_rho||^2 vs m",
                                  measured: s.0, expected: "-1 +- 3 SE (\(sig(3 * s.1, 2)))", tolerance: "weighted least squares on log values, SE from the draws",
                                  passed: abs(s.0 + 1) <= 3 * s.1))
        }
        a.tables.append(DataTable("discretization", header: ["network", "m", "measured", "SE", "predicted", "|z|"], rows: rows))
        a.figures.append(NamedFigure("variance", "Discretization error of m-neuron sub-networks drawn i.i.d. from a wide trained network (error bars: 2 SE) and the (1/m) variance of eq. 24 (dashed).",
            Figure(title: "||f_m - f_rho||^2 vs m", x: Axis("m", scale: .log), y: Axis("mean squared difference", scale: .log), layers: layers)))
        let cvT = meanAndStandardError(runs.compactMap { $0.output.metrics["cv_trained"] }), cvI = meanAndStandardError(runs.compactMap { $0.output.metrics["cv_initial"] })
        a.notes.append("Coefficient of variation of ||u_j|| across neurons: \(sig(cvT.mean, 3)) after training vs \(sig(cvI.mean, 3)) at initialization (mean over \(runs.count) networks). Reference [58] predicts nearly constant ||u_j|| at the optimum only for batch-normalized features (sum_i h(theta, x_i)^2 / n = 1) and full optimization; these networks have unnormalized tanh features and \(c.epochs) epochs, so this is reported, not claimed.")
        a.notes.append("Wide network: d -> \(c.width) -> 10, tanh, standard parameterization with biases, Adam, weight decay \(sig(c.weightDecay, 2)); sub-networks draw neurons uniformly with replacement from its empirical measure, so eq. 24 is exact in expectation here. " + TrainingSupport.imageNote(c.images, maxTrain: c.maxTrain, maxTest: c.maxTest))
        return a
    }
}
