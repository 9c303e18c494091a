import ArgumentParser
import Foundation
import Overparam
import OverparamExperiments

/// `overparam features`: the feature-learning library of seed 000 sec. VI (issue #15) on the user's own arrays.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features",
        abstract: "Feature learning in two-layer networks (seed 000 sec. VI): model a neuron distribution, prune a wide net by neuron sampling, train an output layer on given features.",
        discussion: """
        Neurons are rows (theta_j, b_j) of an m x (d+1) array: the effective first-layer weights theta_j = a_1 W^(1)_j \
        (d entries) with the bias b_j = beta_1 b^(1)_j as the LAST column, so h_j(x) = h(theta_j . x + b_j). This is the \
        layout of 'features fit --draw', of theta.npy from 'train --save-params' and of FeatureSet.vectors.
        """,
        subcommands: [FeaturesFit.self, FeaturesPrune.self, FeaturesRandomFeatures.self])
}

// MARK: - fit

struct FeaturesFit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit",
        abstract: "Fit a Gaussian mixture (EM) or a variational autoencoder to feature vectors and draw new ones (seed 000 figs. 8-9).")

    @Option(help: "Feature vectors, one per row (n x p .npy or .csv), e.g. neurons (theta_j, b_j) of trained nets.") var samples: String
    @Option(help: "gmm (Gaussian mixture, full covariances, EM) or vae (variational autoencoder).") var model: String = "gmm"
    @Option(help: "gmm: candidate numbers of components, comma-separated.") var components: String = "1,2,4,8"
    @Option(help: "gmm: choose the number of components by bic (on all samples) or held-out (mean log-likelihood of --held-out-fraction of the rows).") var select: String = "bic"
    @Option(help: "Share of the rows held out to report the held-out mean log-likelihood (gmm: the chosen k refitted on the other rows, the score of --select held-out; vae: a second training on the other rows); 0: report none.") var heldOutFraction: Double = 0.2
    @Option(help: "gmm: at most this many EM iterations per fit.") var maxIterations: Int = 200
    @Option(help: "Variance floor (original coordinates) added to every variance: gmm, each covariance diagonal (scikit-learn's reg_covar); vae, each decoder variance.") var covarianceFloor: Double = 1e-6
    @Option(help: "vae: latent dimension l.") var latentDimension: Int = 8
    @Option(help: "vae: width of the hidden layer of encoder and decoder.") var hiddenWidth: Int = 128
    @Option(help: "vae: activation of encoder and decoder.") var activation: String = "tanh"
    @Option(help: "vae: training epochs (minibatch Adam on the negative ELBO).") var epochs: Int = 100
    @Option(help: "vae: Adam learning rate.") var learningRate: Double = 1e-3
    @Option(help: "vae: minibatch size.") var batch: Int = 128
    @Option(help: "vae: importance samples K of the log-likelihood estimate (the IWAE bound; K = 1 is the ELBO).") var importanceSamples: Int = 64
    @Option(help: "Draw this many feature vectors from the fitted model (with --out).") var draw: Int?
    @Option(help: "Output .npy for the --draw samples (K x p).") var out: String?
    @Option(help: "Seed of the fit and the held-out split; the draws use a seed derived from it.") var seed: UInt64 = 0

    func run() throws {
        let x = try loadInputs(samples, flag: "--samples")
        guard model == "gmm" || model == "vae" else { throw OverparamError.invalidArgument(name: "--model", problem: "unknown model '\(model)'; use gmm or vae") }
        if (draw == nil) != (out == nil) { throw OverparamError.invalidArgument(name: "--draw/--out", problem: "pass both or neither") }
        if let draw, draw < 1 { throw OverparamError.invalidArgument(name: "--draw", problem: "must be >= 1 (got \(draw))") }
        guard heldOutFraction >= 0, heldOutFraction < 1 else { throw OverparamError.invalidArgument(name: "--held-out-fraction", problem: "must lie in [0, 1) (got \(heldOutFraction))") }
        let split = try heldOutFraction == 0 ? nil : naming("--held-out-fraction") { try HeldOutSplit(count: x.rows, fraction: heldOutFraction, seed: seed) }
        print("samples: \(x.rows) vectors of dimension \(x.cols) from \(samples)")
        noteNearlyConstantColumns(x)
        let drawn: Matrix?
        let drawSeed = TwoLayerTraining.memberSeed(seed, member: 1)
        if model == "gmm" {
            let gmm = try fitMixture(x, split: split)
            drawn = try draw.map { try gmm.sample(count: $0, seed: drawSeed) }
        } else {
            let vae = try fitAutoencoder(x, split: split)
            drawn = try draw.map { try vae.sample(count: $0, seed: drawSeed) }
        }
        if let drawn, let out {
            try save(drawn, out, flag: "--out")
            print("wrote \(drawn.rows) x \(drawn.cols) samples to \(out)")
        }
    }

    /// A note on stderr when some coordinates barely vary (e.g. the weights of always-blank pixels after weight decay):
    /// their fitted variances sit at the floor, so every log-density is dominated by them (without the floor, the VAE's
    /// standardization by their tiny spread made held-out values of -4e24 nats on width-1000 digits neurons).
    func noteNearlyConstantColumns(_ x: Matrix) {
        let n = Double(x.rows)
        let sd = (0..<x.cols).map { j -> Double in
            let c = x.column(j), mean = c.reduce(0, +) / n
            return (c.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        }
        let flat = sd.indices.filter { sd[$0] <= 1e-6 * (sd.max() ?? 0) }
        guard !flat.isEmpty else { return }
        FileHandle.standardError.write(Data("overparam: note: \(flat.count) of \(x.cols) coordinates of --samples are nearly constant (std <= 1e-6 x the largest; columns \(flat.prefix(6).map(String.init).joined(separator: ", "))\(flat.count > 6 ? ", ..." : "")): their variances sit at --covariance-floor, so log-likelihoods are dominated by them; drop those columns for a meaningful density\n".utf8))
    }

    func fitMixture(_ x: Matrix, split: HeldOutSplit?) throws -> GaussianMixture {
        let ks = try components.split(separator: ",", omittingEmptySubsequences: false).map { p in
            let s = p.trimmingCharacters(in: .whitespaces)
            guard let k = Int(s), k >= 1 else { throw OverparamError.invalidArgument(name: "--components", problem: "'\(s)' is not a count >= 1; pass distinct integers such as 1,2,4,8") }
            return k
        }
        guard Set(ks).count == ks.count else { throw OverparamError.invalidArgument(name: "--components", problem: "\(components) repeats a count; pass distinct integers such as 1,2,4,8") }
        let fitRows = select == "held-out" ? (split?.training.count ?? x.rows) : x.rows
        if let k = ks.max(), k > fitRows {
            throw OverparamError.invalidArgument(name: "--components", problem: "\(k) components need at least \(k) samples to fit, --samples gives \(fitRows); pass smaller counts")
        }
        guard maxIterations >= 1 else { throw OverparamError.invalidArgument(name: "--max-iterations", problem: "must be >= 1 (got \(maxIterations))") }
        guard covarianceFloor.isFinite, covarianceFloor >= 0 else { throw OverparamError.invalidArgument(name: "--covariance-floor", problem: "must be finite and >= 0 (got \(covarianceFloor))") }
        let criterion: GaussianMixture.Criterion
        switch select {
        case "bic": criterion = .bic
        case "held-out":
            guard split != nil else { throw OverparamError.invalidArgument(name: "--held-out-fraction", problem: "must be > 0 with --select held-out") }
            criterion = .heldOut(fraction: heldOutFraction)
        default: throw OverparamError.invalidArgument(name: "--select", problem: "unknown criterion '\(select)'; use bic or held-out")
        }
        func fitted(_ body: () throws -> GaussianMixture) throws -> GaussianMixture {
            do { return try body() } catch let e as OverparamError {
                switch e {
                case .singular, .diverged: throw OverparamError.invalidArgument(name: "--covariance-floor", problem: "\(e.description) (raise --covariance-floor)")
                default: throw e
                }
            }
        }
        var scores = [(components: Int, score: Double)]()
        let gmm = try fitted {
            let r = try GaussianMixture.select(x, candidates: ks, criterion: criterion, seed: seed, maxIterations: maxIterations, covarianceFloor: covarianceFloor)
            scores = r.scores
            return r.model
        }
        let label = select == "bic" ? "BIC (lower is better)" : "held-out mean log-likelihood (higher is better)"
        print("\(label) by number of components: " + scores.map { "\($0.components): \(fmt($0.score, 6))\($0.components == gmm.componentCount ? " *" : "")" }.joined(separator: ", "))
        print("chosen: Gaussian mixture with \(gmm.componentCount) full-covariance component\(gmm.componentCount == 1 ? "" : "s") (\(gmm.parameterCount) parameters), EM \(gmm.converged ? "converged" : "stopped") after \(gmm.history.count) iterations")
        print("training mean log-likelihood \(fmt(try gmm.meanLogLikelihood(x), 6)) (all \(x.rows) samples)")
        if let split {
            let held: Double
            if case .heldOut = criterion, let s = scores.first(where: { $0.components == gmm.componentCount }) { held = s.score } else {
                let m = try fitted { try GaussianMixture.fit(x.rows(at: split.training), components: gmm.componentCount, seed: seed, maxIterations: maxIterations, covarianceFloor: covarianceFloor) }
                held = try m.meanLogLikelihood(x.rows(at: split.heldOut))
            }
            print("held-out mean log-likelihood \(fmt(held, 6)) (\(gmm.componentCount) components fitted on \(split.training.count) samples, scored on the other \(split.heldOut.count))")
        }
        return gmm
    }

    func fitAutoencoder(_ x: Matrix, split: HeldOutSplit?) throws -> VariationalAutoencoder {
        guard latentDimension >= 1 else { throw OverparamError.invalidArgument(name: "--latent-dimension", problem: "must be >= 1 (got \(latentDimension))") }
        guard hiddenWidth >= 1 else { throw OverparamError.invalidArgument(name: "--hidden-width", problem: "must be >= 1 (got \(hiddenWidth))") }
        guard epochs >= 1 else { throw OverparamError.invalidArgument(name: "--epochs", problem: "must be >= 1 (got \(epochs))") }
        guard learningRate.isFinite, learningRate > 0 else { throw OverparamError.invalidArgument(name: "--learning-rate", problem: "must be > 0 (got \(learningRate))") }
        guard batch >= 1 else { throw OverparamError.invalidArgument(name: "--batch", problem: "must be >= 1 (got \(batch))") }
        guard importanceSamples >= 1 else { throw OverparamError.invalidArgument(name: "--importance-samples", problem: "must be >= 1 (got \(importanceSamples))") }
        guard covarianceFloor.isFinite, covarianceFloor >= 0 else { throw OverparamError.invalidArgument(name: "--covariance-floor", problem: "must be finite and >= 0 (got \(covarianceFloor))") }
        let untrained = try VariationalAutoencoder(inputDimension: x.cols, latentDimension: latentDimension, hiddenWidth: hiddenWidth,
                                                   activation: try Activation(parsing: activation), covarianceFloor: covarianceFloor, seed: seed)
        func trained(_ rows: Matrix) throws -> (VariationalAutoencoder, [Double]) {
            var vae = untrained
            do { let losses = try vae.train(rows, epochs: epochs, batchSize: batch, learningRate: learningRate, seed: seed); return (vae, losses) }
            catch let e as OverparamError {
                if case .diverged = e { throw OverparamError.invalidArgument(name: "--learning-rate", problem: "\(e.description) (lower --learning-rate)") }
                throw e
            }
        }
        func meanLogLikelihood(_ vae: VariationalAutoencoder, _ rows: Matrix) throws -> Double {
            try vae.importanceWeightedLogLikelihood(rows, samples: importanceSamples, seed: seed).reduce(0, +) / Double(rows.rows)
        }
        let (vae, losses) = try trained(x)
        print("chosen: variational autoencoder \(x.cols) -> \(hiddenWidth) -> 2 x \(latentDimension) | \(latentDimension) -> \(hiddenWidth) -> \(x.cols) (\(activation)), \(epochs) epochs of Adam \(fmt(learningRate, 3)), batch \(batch): negative ELBO \(fmt(losses.first!, 5)) -> \(fmt(losses.last!, 5))")
        print("training mean log-likelihood \(fmt(try meanLogLikelihood(vae, x), 6)) (importance-weighted bound, K = \(importanceSamples); all \(x.rows) samples)")
        if let split {
            let (heldVae, _) = try trained(x.rows(at: split.training))
            print("held-out mean log-likelihood \(fmt(try meanLogLikelihood(heldVae, x.rows(at: split.heldOut)), 6)) (trained on \(split.training.count) samples, scored on the other \(split.heldOut.count))")
        }
        return vae
    }
}

// MARK: - prune

struct FeaturesPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune",
        abstract: "Keep K neurons of a wide two-layer net, drawn with replacement uniformly or by importance ||u_j|| std h_j, fix their theta and refit the output layer (seed 000 fig. 11).")

    @Option(help: "First layer, m x (d+1): row j is (theta_j, b_j) with the bias LAST (effective weights: theta_j = a_1 W^(1)_j, b_j = beta_1 b^(1)_j; theta.npy of 'train --save-params').") var theta: String
    @Option(help: "Readout, m x k: row j is neuron j's output weights u_j (U = a_2 W^(2)^T; u.npy of 'train --save-params').") var u: String
    @Option(help: "Training inputs (n x d .npy or .csv): the data of the importance weights and of the refit.") var x: String
    @Option(help: "Integer class labels 0..<k of --x (n entries, .npy or .csv).") var labels: String
    @Option(help: "Test inputs.") var testX: String?
    @Option(help: "Test labels.") var testLabels: String?
    @Option(help: "h of the neurons (as in train's --activation; seed 000 uses tanh).") var activation: String = "tanh"
    @Option(help: "K, the number of neurons to draw (1...m).") var keep: Int
    @Option(help: "importance (p_j ~ ||u_j|| std_x h_j), uniform (p_j = 1/m), or both.") var rule: String = "both"
    @Option(help: "Independent draws (and refits) per rule.") var repetitions: Int = 8
    @Option(help: "softmax (softmax regression by Adam, the seed's refit) or ridge (exact ridge on one-hot targets).") var refit: String = "softmax"
    @Option(help: "Penalty lambda/2 ||U||_F^2 of the refit (default: 0 for softmax, 1e-6 for ridge).") var ridge: Double?
    @Option(help: "softmax: epochs.") var epochs: Int = 300
    @Option(help: "softmax: Adam learning rate.") var learningRate: Double = 1e-3
    @Option(help: "softmax: minibatch size.") var batch: Int = 128
    @Option(help: "Seed of the draws and the minibatches.") var seed: UInt64 = 0
    @Option(help: "Per-repetition results (CSV: rule, repetition, distinct_neurons, train_cross_entropy or train_squared_error, train_accuracy, test_accuracy; test_accuracy empty without a test set).") var out: String?

    func run() throws {
        let act = try Activation(parsing: activation)
        let data = try loadInputs(x, flag: "--x")
        let wide = try loadFeatureSet(theta, flag: "--theta", activation: act, inputs: data)
        let uMatrix = try loadInputs(u, flag: "--u")
        guard uMatrix.rows == wide.count else {
            throw OverparamError.invalidArgument(name: "--u", problem: "has \(uMatrix.rows) rows but --theta has m = \(wide.count) neurons; row j of --u is neuron j's output weights")
        }
        let readout = try OutputLayer(weights: uMatrix)
        let k = readout.outputCount
        let y = try loadLabels(labels, flag: "--labels", rows: data.rows, rowsFlag: "--x", classCount: k, classes: "the columns of --u")
        let test = try loadTestSet(testX, testLabels, inputDimension: data.cols, classCount: k, classes: "the columns of --u")
        guard keep >= 1, keep <= wide.count else { throw OverparamError.invalidArgument(name: "--keep", problem: "must be in 1...\(wide.count) (m, the rows of --theta), got \(keep)") }
        guard repetitions >= 1 else { throw OverparamError.invalidArgument(name: "--repetitions", problem: "must be >= 1 (got \(repetitions))") }
        let rules: [NeuronSampling.Rule]
        switch rule {
        case "both": rules = [.importance, .uniform]
        case let name: guard let r = NeuronSampling.Rule(rawValue: name) else {
            throw OverparamError.invalidArgument(name: "--rule", problem: "unknown rule '\(name)'; use importance, uniform or both")
        }; rules = [r]
        }
        guard refit == "softmax" || refit == "ridge" else { throw OverparamError.invalidArgument(name: "--refit", problem: "unknown refit '\(refit)'; use softmax or ridge") }
        let lambda = ridge ?? (refit == "ridge" ? 1e-6 : 0)
        guard lambda.isFinite, lambda >= 0 else { throw OverparamError.invalidArgument(name: "--ridge", problem: "must be finite and >= 0 (got \(lambda))") }
        guard epochs >= 1 else { throw OverparamError.invalidArgument(name: "--epochs", problem: "must be >= 1 (got \(epochs))") }
        guard learningRate.isFinite, learningRate > 0 else { throw OverparamError.invalidArgument(name: "--learning-rate", problem: "must be > 0 (got \(learningRate))") }
        guard batch >= 1 else { throw OverparamError.invalidArgument(name: "--batch", problem: "must be >= 1 (got \(batch))") }
        let targets = refit == "ridge" ? try LabeledDataset(inputs: data, labels: y, classCount: k, name: "--labels").oneHot() : nil

        let lossName = refit == "softmax" ? "cross-entropy" : "squared error"
        var lines = ["rule,repetition,distinct_neurons,train_\(lossName.replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")),train_accuracy,test_accuracy"]
        var table = [(NeuronSampling.Rule, [[Double]])]()
        for r in rules {
            var rows = [[Double]]()
            for rep in 0..<repetitions {
                let s = TwoLayerTraining.memberSeed(seed, member: rep)
                let (sub, idx) = try naming("--u") {
                    try NeuronSampling.prune(features: wide, outputLayer: readout, data: data, keep: keep, rule: r, seed: s ^ (r == .uniform ? 0x5555 : 0xAAAA))
                }
                let h = try sub.features(data)
                let layer: OutputLayer, loss: Double
                if let targets {
                    layer = try naming("--ridge") { try OutputLayer.ridge(features: h, targets: targets, penalty: lambda) }
                    loss = try layer.meanSquaredError(features: h, targets: targets)
                } else {
                    let fit = try naming("--learning-rate") {
                        try OutputLayer.softmaxRegression(features: h, labels: y, classCount: k, penalty: lambda, optimizer: Adam(learningRate: learningRate),
                                                          epochs: epochs, batchSize: batch, seed: s ^ 0x1234)
                    }
                    layer = fit.0; loss = fit.1.last!
                }
                let testAccuracy = try test.map { try layer.accuracy(features: try sub.features($0.x), labels: $0.labels) }
                let row = [Double(Set(idx).count), loss, try layer.accuracy(features: h, labels: y), testAccuracy ?? .nan]
                rows.append(row)
                lines.append("\(r.rawValue),\(rep),\(Int(row[0])),\(row[1]),\(row[2]),\(testAccuracy.map { "\($0)" } ?? "")")
            }
            table.append((r, rows))
        }
        let how = refit == "softmax" ? "softmax regression (Adam \(fmt(learningRate, 3)), \(epochs) epochs, batch \(batch)\(lambda > 0 ? ", penalty \(fmt(lambda, 3))" : ""))"
                                     : "exact ridge on one-hot targets (penalty \(fmt(lambda, 3)))"
        print("pruned m = \(wide.count) neurons (d = \(wide.inputDimension), \(activation), k = \(k) classes) to K = \(keep) drawn with replacement; \(repetitions) repetition\(repetitions == 1 ? "" : "s") per rule; refit: \(how)")
        func cell(_ text: String) -> String { text.padding(toLength: 24, withPad: " ", startingAt: 0) }
        print(cell("rule") + cell("train \(lossName)") + cell("train accuracy") + (test == nil ? "" : cell("test accuracy")) + "distinct neurons")
        for (r, rows) in table {
            func column(_ i: Int, percent: Bool) -> String {
                let (m, se) = meanAndStandardError(rows.map { $0[i] })
                let scale = percent ? 100.0 : 1
                return cell((percent ? String(format: "%.2f %%", scale * m) : fmt(m, 5)) + (se.isFinite ? " +- " + fmt(scale * se, 2) : ""))
            }
            print(cell(r.rawValue) + column(1, percent: false) + column(2, percent: true) + (test == nil ? "" : column(3, percent: true))
                  + fmt(rows.map { $0[0] }.reduce(0, +) / Double(rows.count), 3))
        }
        print("(mean +- standard error over the repetitions)")
        if let out {
            do { try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: out) }
            catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--out", problem: e.description) }
            print("per-repetition results: \(out)")
        }
    }
}

// MARK: - random-features

struct FeaturesRandomFeatures: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "random-features",
        abstract: "Train only the output layer (exact ridge on one-hot targets, bias unpenalized) on fixed features h(theta_j . x + b_j) and report accuracy (seed 000 fig. 9).")

    @Option(help: "Neurons, m x (d+1): row j is (theta_j, b_j) with the bias last (e.g. 'features fit --draw', or theta.npy of 'train --save-params').") var features: String?
    @Option(help: "Instead of --features: M Gaussian random features theta_jl ~ N(0, --variance), b_j ~ N(0, --bias-variance).") var gaussian: Int?
    @Option(help: "--gaussian: variance of theta's entries (default 1/d).") var variance: Double?
    @Option(help: "--gaussian: variance of the biases.") var biasVariance: Double = 0
    @Option(help: "h of the features (seed 000 uses tanh).") var activation: String = "tanh"
    @Option(help: "Training inputs (n x d .npy or .csv).") var x: String
    @Option(help: "Integer class labels 0..<k of --x.") var labels: String
    @Option(help: "Test inputs.") var testX: String?
    @Option(help: "Test labels.") var testLabels: String?
    @Option(help: "Number of classes k (default: the largest label + 1).") var classes: Int?
    @Option(help: "Ridge penalty lambda of (1/2n) ||H U + 1 c^T - Y||^2 + (lambda/2) ||U||^2.") var ridge: Double = 1e-6
    @Option(help: "Seed of the --gaussian features.") var seed: UInt64 = 0
    @Option(help: "Write the fitted output weights U (m x k .npy; the --u of 'features prune').") var out: String?

    func run() throws {
        let act = try Activation(parsing: activation)
        let data = try loadInputs(x, flag: "--x")
        if let classes, classes < 1 { throw OverparamError.invalidArgument(name: "--classes", problem: "must be >= 1 (got \(classes))") }
        guard ridge.isFinite, ridge >= 0 else { throw OverparamError.invalidArgument(name: "--ridge", problem: "must be finite and >= 0 (got \(ridge))") }
        let fs: FeatureSet, source: String
        switch (features, gaussian) {
        case let (path?, nil):
            fs = try loadFeatureSet(path, flag: "--features", activation: act, inputs: data); source = path
        case let (nil, m?):
            guard m >= 1 else { throw OverparamError.invalidArgument(name: "--gaussian", problem: "must be >= 1 (got \(m))") }
            let v = variance ?? 1 / Double(data.cols)
            guard v.isFinite, v >= 0 else { throw OverparamError.invalidArgument(name: "--variance", problem: "must be finite and >= 0 (got \(v))") }
            guard biasVariance.isFinite, biasVariance >= 0 else { throw OverparamError.invalidArgument(name: "--bias-variance", problem: "must be finite and >= 0 (got \(biasVariance))") }
            fs = try FeatureSet(gaussian: m, inputDimension: data.cols, variance: v, biasVariance: biasVariance, activation: act, seed: seed)
            source = "Gaussian, theta ~ N(0, \(fmt(v, 3))), b ~ N(0, \(fmt(biasVariance, 3))), seed \(seed)"
        default: throw OverparamError.invalidArgument(name: "--features/--gaussian", problem: "pass exactly one: a neuron file or a number of Gaussian random features")
        }
        let classSource = classes == nil ? "" : "--classes"
        let y = try loadLabels(labels, flag: "--labels", rows: data.rows, rowsFlag: "--x", classCount: classes, classes: classSource)
        let test = try loadTestSet(testX, testLabels, inputDimension: data.cols, classCount: classes, classes: classSource)
        let k = classes ?? (max(y.max()!, test?.labels.max() ?? 0) + 1)
        let targets = try LabeledDataset(inputs: data, labels: y, classCount: k, name: "--labels").oneHot()
        let h = try fs.features(data)
        let layer = try naming("--ridge") { try OutputLayer.ridge(features: h, targets: targets, penalty: ridge) }
        print("random features: m = \(fs.count) (\(source); \(activation)), d = \(fs.inputDimension); output layer by exact ridge (lambda = \(fmt(ridge, 3)), bias unpenalized) on one-hot targets of \(k) classes")
        print("train accuracy \(String(format: "%.2f %%", 100 * (try layer.accuracy(features: h, labels: y)))) (n = \(data.rows)), train squared error \(fmt(try layer.meanSquaredError(features: h, targets: targets)))"
              + (try test.map { t in ", test accuracy \(String(format: "%.2f %%", 100 * (try layer.accuracy(features: try fs.features(t.x), labels: t.labels)))) (n = \(t.x.rows))" } ?? ""))
        if let out {
            try save(layer.weights, out, flag: "--out")
            print("output weights U (\(layer.weights.rows) x \(layer.weights.cols)): \(out)")
        }
    }
}

// MARK: - Shared input handling

/// Run `body`, rethrowing a library ``OverparamError`` as one line that names `flag`.
private func naming<T>(_ flag: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as OverparamError { throw OverparamError.invalidArgument(name: flag, problem: problem(e)) }
}

/// The message of an error without a library argument name in front (the CLI names its flag instead).
private func problem(_ e: OverparamError) -> String {
    if case let .invalidArgument(_, p) = e { return p }
    return e.description
}

/// An m x (d+1) neuron file as a ``FeatureSet`` whose d matches the inputs.
private func loadFeatureSet(_ path: String, flag: String, activation: Activation, inputs: Matrix) throws -> FeatureSet {
    let v = try loadInputs(path, flag: flag)
    guard v.cols == inputs.cols + 1 else {
        throw OverparamError.invalidArgument(name: flag, problem: "\(path) has \(v.cols) columns but --x has d = \(inputs.cols); row j must be (theta_j, b_j): d weights, then the bias (d + 1 = \(inputs.cols + 1) columns)")
    }
    return try naming(flag) { try FeatureSet(vectors: v, activation: activation) }
}

/// Integer labels 0..<classCount, one per row of the data; `classes` names where classCount comes from.
private func loadLabels(_ path: String, flag: String, rows: Int, rowsFlag: String, classCount: Int?, classes: String) throws -> [Int] {
    let m = try loadInputs(path, flag: flag)
    let y: [Int]
    do { y = try ClassLabels.decode(m, classCount: classCount) } catch let e as OverparamError {
        throw OverparamError.invalidArgument(name: flag, problem: "\(path): \(problem(e))" + (classCount == nil || classes.isEmpty ? "" : " (k = \(classCount!) from \(classes))"))
    }
    guard y.count == rows else { throw OverparamError.invalidArgument(name: flag, problem: "\(path) has \(y.count) labels but \(rowsFlag) has \(rows) rows; pass one label per row") }
    return y
}

/// The optional test set of --test-x/--test-labels (both or neither).
private func loadTestSet(_ xPath: String?, _ labelPath: String?, inputDimension d: Int, classCount: Int?, classes: String) throws -> (x: Matrix, labels: [Int])? {
    guard xPath != nil || labelPath != nil else { return nil }
    guard let xPath, let labelPath else { throw OverparamError.invalidArgument(name: "--test-x/--test-labels", problem: "pass both or neither") }
    let tx = try loadInputs(xPath, flag: "--test-x")
    guard tx.cols == d else { throw OverparamError.invalidArgument(name: "--test-x", problem: "has \(tx.cols) columns, --x has \(d)") }
    return (tx, try loadLabels(labelPath, flag: "--test-labels", rows: tx.rows, rowsFlag: "--test-x", classCount: classCount, classes: classes))
}
