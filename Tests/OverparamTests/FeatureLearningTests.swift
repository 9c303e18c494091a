import Foundation
import Testing
@testable import Overparam

// Feature learning in two-layer networks (seed 000 sec. VI, figs. 8-11, eq. 24): features and output layers against
// the networks they come from, ridge fits against their optimality conditions (primal = dual), the tangent model's
// kernel identity and dual-primal equality, neuron sampling frequencies, the exact discretization variance against
// Monte Carlo, Gaussian mixtures against known truths (density, BIC selection, sample moments), the VAE's gradient
// against finite differences and its density against a linear-Gaussian truth, and thread-count independence of
// ensembles.
//
// Statistical tolerances are 5 standard errors (two-sided; a correct implementation fails a given check with
// probability below 6e-7, and every test is seeded, so a pass is reproducible). Deterministic identities use 1e-12
// (same arithmetic, different order) or 1e-8 (two different linear solves of conditioned systems).

// MARK: - Helpers

fileprivate func flData(_ n: Int, _ d: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256StarStar(seed: seed, stream: 77)
    return Matrix.randomNormal(rows: n, cols: d, using: &rng)
}

fileprivate func flMaxAbs(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.rows == b.rows && a.cols == b.cols)
    return zip(a.storage, b.storage).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

fileprivate func flMean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }

/// Mean and standard error (sample std / sqrt(n)).
fileprivate func flMeanSE(_ v: [Double]) -> (mean: Double, se: Double) {
    let m = flMean(v)
    let variance = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)
    return (m, (variance / Double(v.count)).squareRoot())
}

/// Labels from a random linear teacher: argmax of x W.
fileprivate func flLabels(_ x: Matrix, classes k: Int, seed: UInt64) -> [Int] {
    var rng = Xoshiro256StarStar(seed: seed, stream: 5)
    let w = Matrix.randomNormal(rows: x.cols, cols: k, using: &rng)
    let s = x * w
    return (0..<x.rows).map { i in (0..<k).max { s[i, $0] < s[i, $1] }! }
}

// MARK: - Features and output layers

@Suite("FeatureLearning: features and output layers")
struct FeatureLearningLayerTests {
    @Test("FeatureSet: h(theta x + b) entry by entry, vectors round trip, subset; Network parts reproduce the network to 1e-12")
    func featureSet() throws {
        let fs = try FeatureSet(gaussian: 7, inputDimension: 3, variance: 0.5, biasVariance: 0.2, seed: 1)
        let x = flData(5, 3, seed: 2)
        let (h, s) = try fs.featuresAndSlopes(x)
        for i in 0..<5 { for j in 0..<7 {
            var t = fs.bias[j]
            for l in 0..<3 { t += fs.theta[j, l] * x[i, l] }
            #expect(Swift.abs(h[i, j] - Foundation.tanh(t)) <= 1e-15 && Swift.abs(s[i, j] - Activation.tanh.derivative(t, order: 1)) <= 1e-15)
        } }
        #expect(try fs.features(x) == h && fs.slopes(x) == s)
        #expect(try FeatureSet(vectors: fs.vectors, activation: .tanh) == fs)
        let sub = try fs.subset([3, 3, 0])
        #expect(sub.count == 3 && sub.theta.row(1) == fs.theta.row(3) && sub.bias == [fs.bias[3], fs.bias[3], fs.bias[0]])
        // Effective weights of networks in several parameterizations (with and without biases).
        for (p, hasBias) in [(Parameterization.ntk, true), (.standard, true), (.meanField, false), (.scaled(alpha: 3), true)] {
            let arch = Architecture(inputDimension: 3, hiddenWidths: [6], activation: .tanh, outputDimension: 2, weightVariance: 1.3,
                                    biasVariance: 0.4, hasBias: hasBias, parameterization: p)
            var net = try Network(arch, seed: 4)
            if hasBias { for i in net.layout.biasRange(2) { net.parameters[i] = 0.3 * Double(i % 5) - 0.5 } }
            let f = try net(x)
            let g = try OutputLayer(network: net).outputs(features: try FeatureSet(network: net).features(x))
            #expect(flMaxAbs(f, g) <= 1e-12 * Swift.max(1, f.maxAbs), "\(p)")
        }
    }

    @Test("ridge: primal = dual to 1e-10, the optimality conditions hold, lambda = 0 in the dual interpolates")
    func ridge() throws {
        let x = flData(30, 4, seed: 3)
        let h = try FeatureSet(gaussian: 12, inputDimension: 4, biasVariance: 1, seed: 5).features(x)
        let y = flData(30, 2, seed: 6)
        for fitBias in [true, false] {
            let lambda = 0.05
            let p = try OutputLayer.ridge(features: h, targets: y, penalty: lambda, fitBias: fitBias, solver: .primal)
            let d = try OutputLayer.ridge(features: h, targets: y, penalty: lambda, fitBias: fitBias, solver: .dual)
            #expect(flMaxAbs(p.weights, d.weights) <= 1e-10 && zip(p.bias, d.bias).allSatisfy { Swift.abs($0 - $1) <= 1e-10 })
            // Stationarity: H^T r / n + lambda U = 0 and (with the bias) 1^T r = 0, r the residual.
            let r = try p.outputs(features: h) - y
            var g = Matrix.product(h, .transposed, r, .none, alpha: 1 / 30.0)
            g.add(p.weights, scaledBy: lambda)
            #expect(g.maxAbs <= 1e-12)
            if fitBias { #expect(r.columnSums.allSatisfy { Swift.abs($0) <= 1e-11 }) } else { #expect(p.bias == [0, 0]) }
        }
        // n < m: the automatic solver is the dual; at lambda = 0 it interpolates.
        let wide = try FeatureSet(gaussian: 60, inputDimension: 4, biasVariance: 1, seed: 7).features(x)
        let interp = try OutputLayer.ridge(features: wide, targets: y, penalty: 0)
        #expect(flMaxAbs(try interp.outputs(features: wide), y) <= 1e-8)
        #expect(try interp.meanSquaredError(features: wide, targets: y) <= 1e-16)
    }

    @Test("softmax cross-entropy on labels equals SoftmaxCrossEntropy on one-hot targets; softmax regression learns")
    func softmax() throws {
        let f = flData(9, 4, seed: 8)
        let labels = [0, 3, 1, 2, 2, 0, 1, 3, 3]
        var onehot = Matrix(rows: 9, cols: 4)
        for (i, c) in labels.enumerated() { onehot[i, c] = 1 }
        let ref = try SoftmaxCrossEntropy().evaluate(outputs: f, targets: onehot)
        let mine = OutputMetrics.softmaxCrossEntropy(logits: f, labels: labels)
        #expect(Swift.abs(ref.value - mine.value) <= 1e-14 && flMaxAbs(ref.gradient, mine.gradient) <= 1e-15)

        let x = flData(400, 5, seed: 9)
        let y = flLabels(x, classes: 3, seed: 10)
        let h = try FeatureSet(gaussian: 40, inputDimension: 5, variance: 0.2, seed: 11).features(x)
        let (layer, losses) = try OutputLayer.softmaxRegression(features: h, labels: y, classCount: 3, penalty: 1e-4,
                                                                optimizer: Adam(learningRate: 0.02), epochs: 30, batchSize: 64, seed: 12)
        #expect(losses.count == 30 && losses.last! < 0.5 * losses.first! && losses.first! < Foundation.log(3.0))
        #expect(try layer.accuracy(features: h, labels: y) > 0.9)
        #expect(Swift.abs(try layer.crossEntropy(features: h, labels: y) - losses.last!) <= 1e-15)
        // Seeded: the same run again is identical.
        let again = try OutputLayer.softmaxRegression(features: h, labels: y, classCount: 3, penalty: 1e-4,
                                                      optimizer: Adam(learningRate: 0.02), epochs: 30, batchSize: 64, seed: 12)
        #expect(again.0 == layer && again.1 == losses)
    }

    @Test("bad input throws one-line OverparamErrors naming the argument")
    func validation() throws {
        let h = flData(6, 3, seed: 1), y = flData(6, 1, seed: 2)
        #expect(errorKind { _ = try OutputLayer.ridge(features: h, targets: y, penalty: -1) } == "invalidArgument")
        #expect(errorKind { _ = try OutputLayer.ridge(features: h, targets: flData(5, 1, seed: 2), penalty: 1) } == "shapeMismatch")
        var bad = h; bad[0, 0] = .nan
        #expect(errorKind { _ = try OutputLayer.ridge(features: bad, targets: y, penalty: 1) } == "nonFinite")
        #expect(errorKind { _ = try OutputLayer.ridge(features: Matrix(rows: 0, cols: 3), targets: Matrix(rows: 0, cols: 1), penalty: 1) } == "invalidArgument")
        #expect(errorKind { _ = try OutputLayer.ridge(features: h, targets: y, penalty: 0, solver: .dual) } == "singular")
        #expect(errorKind { _ = try OutputLayer.softmaxRegression(features: h, labels: [0, 1, 2, 0, 1, 5], classCount: 3, optimizer: Adam(), epochs: 1, batchSize: 2, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try OutputLayer.softmaxRegression(features: h, labels: [0, 0, 0, 0, 0, 0], classCount: 0, optimizer: Adam(), epochs: 1, batchSize: 2, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try OutputLayer.softmaxRegression(features: h, labels: [0, 0, 0, 0, 0, 0], classCount: 1, optimizer: Adam(), epochs: 1, batchSize: 0, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try FeatureSet(gaussian: 0, inputDimension: 3, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try FeatureSet(theta: h, bias: [1, 2]) } == "shapeMismatch")
        let fs = try FeatureSet(gaussian: 4, inputDimension: 3, seed: 0)
        #expect(errorKind { _ = try fs.features(flData(2, 5, seed: 0)) } == "shapeMismatch")
        #expect(errorKind { _ = try fs.subset([4]) } == "invalidArgument")
        if case let .invalidArgument(name, _)? = thrownError({ _ = try OutputLayer.ridge(features: h, targets: y, penalty: .nan) }) { #expect(name == "penalty") }
        else { Issue.record("expected invalidArgument(penalty)") }
    }
}

// MARK: - Tangent model

@Suite("FeatureLearning: the tangent model (fig. 10)")
struct FeatureLearningTangentTests {
    @Test("kernel = Phi Phi'^T, fast outputs = Phi coefficients + bias, pullback = Phi^T G")
    func identities() throws {
        let fs = try FeatureSet(gaussian: 5, inputDimension: 3, variance: 0.7, biasVariance: 0.3, seed: 1)
        let x = flData(7, 3, seed: 2), x2 = flData(4, 3, seed: 3)
        let model = try TangentModel(featureSet: fs, outputCount: 2)
        let phi = try model.features(x), phi2 = try model.features(x2)
        #expect(phi.cols == 5 * (3 + 2) && model.featureDimension == 25)
        let k = try model.kernel(x, x2)
        #expect(relativeError(k, Matrix.product(phi, .none, phi2, .transposed)) <= 1e-12)
        var rng = Xoshiro256StarStar(seed: 4, stream: 0)
        let coef = Matrix.randomNormal(rows: 25, cols: 2, using: &rng)
        let m2 = try TangentModel(featureSet: fs, coefficients: coef, bias: [0.3, -0.7])
        var explicit = phi * coef
        explicit.addRowVector([0.3, -0.7])
        #expect(relativeError(try m2.outputs(x), explicit) <= 1e-12)
        let g = flData(7, 2, seed: 5)
        let (h, s) = try fs.featuresAndSlopes(x)
        let pb = TangentModel.pullback(g, h: h, s: s, x: x)
        #expect(relativeError(Array(pb[0..<50]), Matrix.product(phi, .transposed, g, .none).storage) <= 1e-12)
        #expect(relativeError(Array(pb[50...]), g.columnSums) <= 1e-12)
        // The seed's formula for one output at one point.
        var direct = 0.3
        for j in 0..<5 {
            var t = fs.bias[j], vx = coef[5 + 5 * 3 + j, 0]
            for l in 0..<3 { t += fs.theta[j, l] * x[0, l]; vx += coef[5 + j * 3 + l, 0] * x[0, l] }
            direct += coef[j, 0] * Foundation.tanh(t) + Activation.tanh.derivative(t, order: 1) * vx
        }
        #expect(Swift.abs(direct - (try m2.outputs(x))[0, 0]) <= 1e-12)
    }

    @Test("dual kernel ridge = primal ridge on the explicit features (1e-8), on train and new inputs")
    func dualEqualsPrimal() throws {
        let fs = try FeatureSet(gaussian: 4, inputDimension: 3, biasVariance: 0.5, seed: 6)
        let x = flData(40, 3, seed: 7), y = flData(40, 2, seed: 8), xt = flData(9, 3, seed: 9)
        let model = try TangentModel(featureSet: fs, outputCount: 2)
        let lambda = 1e-3
        let dual = try TangentModel.kernelRidge(featureSet: fs, inputs: x, targets: y, penalty: lambda)
        let primal = try OutputLayer.ridge(features: try model.features(x), targets: y, penalty: lambda, solver: .primal)
        let converted = try dual.primal()
        #expect(flMaxAbs(converted.coefficients, primal.weights) <= 1e-8 * Swift.max(1, primal.weights.maxAbs))
        #expect(zip(converted.bias, primal.bias).allSatisfy { Swift.abs($0 - $1) <= 1e-8 })
        let ref = try primal.outputs(features: try model.features(xt))
        let fd = try dual.outputs(xt), fc = try converted.outputs(xt)
        #expect(flMaxAbs(fd, ref) <= 1e-8 && flMaxAbs(fc, ref) <= 1e-8)
        // Fewer points than features: lambda -> 0 interpolates (the minimum-norm interpolant).
        let small = flData(12, 3, seed: 10), ys = flData(12, 2, seed: 11)
        let interp = try TangentModel.kernelRidge(featureSet: fs, inputs: small, targets: ys, penalty: 0)
        #expect(try interp.meanSquaredError(small, targets: ys) <= 1e-14)
    }

    @Test("softmax training in the primal lowers the loss and fits separable labels")
    func softmaxTraining() throws {
        let x = flData(300, 4, seed: 12)
        let y = flLabels(x, classes: 3, seed: 13)
        var model = try TangentModel(featureSet: try FeatureSet(gaussian: 10, inputDimension: 4, variance: 0.25, seed: 14), outputCount: 3)
        let losses = try model.trainSoftmax(inputs: x, labels: y, optimizer: Adam(learningRate: 0.01), epochs: 15, batchSize: 32, seed: 15)
        #expect(losses.count == 15 && losses.last! < 0.4 * losses.first!)
        #expect(try model.accuracy(x, labels: y) > 0.9)
        #expect(errorKind { _ = try model.trainSoftmax(inputs: x, labels: Array(y.dropLast()), optimizer: Adam(), epochs: 1, batchSize: 8, seed: 0) } == "shapeMismatch")
    }
}

// MARK: - Sampling and the discretization variance

@Suite("FeatureLearning: neuron sampling (fig. 11) and eq. 24")
struct FeatureLearningSamplingTests {
    @Test("10^5 draws match p within 5 binomial SE; zero-weight neurons are never drawn; seeded")
    func frequencies() throws {
        let p = [0.3, 0, 0.05, 0.2, 0, 0.25, 0.001, 0.199]
        let total = 100_000
        let draws = try NeuronSampling.sample(count: total, probabilities: p, seed: 3)
        var counts = [Int](repeating: 0, count: p.count)
        for j in draws { counts[j] += 1 }
        for j in p.indices {
            // Count_j ~ Binomial(N, p_j): SE sqrt(N p (1 - p)).
            let expected = Double(total) * p[j], se = (Double(total) * p[j] * (1 - p[j])).squareRoot()
            if p[j] == 0 { #expect(counts[j] == 0) } else { #expect(Swift.abs(Double(counts[j]) - expected) <= 5 * se, "neuron \(j)") }
        }
        #expect(try NeuronSampling.sample(count: 50, probabilities: p, seed: 3) == Array(draws[0..<50]))
        #expect(try NeuronSampling.sample(count: 50, probabilities: p, seed: 4) != Array(draws[0..<50]))
        #expect(errorKind { _ = try NeuronSampling.sample(count: 5, probabilities: [0, 0], seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try NeuronSampling.sample(count: 0, probabilities: [1], seed: 0) } == "invalidArgument")
    }

    @Test("importance weights ||u_j|| std h_j; prune keeps the drawn neurons")
    func importance() throws {
        let fs = try FeatureSet(gaussian: 6, inputDimension: 2, biasVariance: 1, seed: 1)
        let x = flData(50, 2, seed: 2)
        let h = try fs.features(x)
        var u = flData(6, 3, seed: 3)
        for c in 0..<3 { u[2, c] = 0 }
        let p = try NeuronSampling.importanceWeights(features: h, outputWeights: u)
        let raw = (0..<6).map { j -> Double in
            let col = h.column(j), m = flMean(col)
            let sd = (col.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 50).squareRoot()
            return dot(u.row(j), u.row(j)).squareRoot() * sd
        }
        let sum = raw.reduce(0, +)
        #expect(relativeError(p, raw.map { $0 / sum }) <= 1e-13 && p[2] == 0)
        let layer = try OutputLayer(weights: u)
        let pruned = try NeuronSampling.prune(features: fs, outputLayer: layer, data: x, keep: 40, rule: .importance, seed: 4)
        let expected = try fs.subset(pruned.indices)
        #expect(pruned.features.count == 40 && !pruned.indices.contains(2) && pruned.features == expected)
        // prune's blocked std (shifted sums over blocks of rows) draws what the formula on the full H draws.
        #expect(pruned.indices == (try NeuronSampling.sample(count: 40, probabilities: p, seed: 4)))
        let blocked = try NeuronSampling.featureStandardDeviations(fs, data: flData(5000, 2, seed: 8))
        let full = try fs.features(flData(5000, 2, seed: 8))
        for j in 0..<6 {
            let col = full.column(j), m = flMean(col)
            let sd = (col.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 5000).squareRoot()
            #expect(Swift.abs(blocked[j] - sd) <= 1e-12 * Swift.max(1, sd))
        }
        let uniform = try NeuronSampling.prune(features: fs, outputLayer: layer, data: x, keep: 400, rule: .uniform, seed: 4)
        #expect(uniform.indices.contains(2))
        #expect(try NeuronSampling.uniformWeights(count: 4) == [0.25, 0.25, 0.25, 0.25])
    }

    @Test("eq. 24: the measured error of m-neuron subnetworks matches sigma^2 / m within 5 SE; predicted scales as 1/m")
    func discretization() throws {
        let fs = try FeatureSet(gaussian: 40, inputDimension: 3, biasVariance: 0.5, seed: 5)
        let h = try fs.features(flData(30, 3, seed: 6))
        let u = flData(40, 2, seed: 7)
        let dv = try DiscretizationVariance(features: h, outputWeights: u)
        // sigma^2 from its definition, entry by entry.
        var direct = 0.0
        for j in 0..<40 { for i in 0..<30 { for c in 0..<2 {
            let e = u[j, c] * h[i, j] - dv.meanFunction[i, c]; direct += e * e
        } } }
        direct /= 40 * 30
        #expect(Swift.abs(dv.perNeuronVariance - direct) <= 1e-12 * direct)
        for m in [1, 5, 20] {
            #expect(dv.predicted(m) == dv.perNeuronVariance / Double(m))
            let (mean, se) = try dv.measured(m: m, repetitions: 4000, seed: UInt64(m))
            #expect(Swift.abs(mean - dv.predicted(m)) <= 5 * se, "m = \(m): \(mean) +- \(se) vs \(dv.predicted(m))")
        }
        #expect(try DiscretizationVariance.coefficientOfVariation([2, 2, 2]) == 0)
        #expect(Swift.abs(try DiscretizationVariance.coefficientOfVariation([1, 3]) - 0.5) <= 1e-15)
        #expect(DiscretizationVariance.outputWeightNorms(Matrix([[3, 4], [0, 0]])) == [5, 0])
        #expect(errorKind { _ = try DiscretizationVariance(features: h, outputWeights: flData(39, 2, seed: 1)) } == "shapeMismatch")
    }
}

// MARK: - Gaussian mixtures

fileprivate func flTrueMixture2D() throws -> GaussianMixture {
    try GaussianMixture(weights: [0.5, 0.3, 0.2], means: Matrix([[0, 0], [5, 0], [0, 5]]),
                        covariances: [Matrix([[1, 0.5], [0.5, 1]]), Matrix([[0.5, 0], [0, 2]]), Matrix([[1.5, -0.7], [-0.7, 0.8]])])
}

fileprivate func flTrueMixture5D() throws -> GaussianMixture {
    var rng = Xoshiro256StarStar(seed: 50, stream: 0)
    var covs = [Matrix]()
    for _ in 0..<3 {
        let a = Matrix.randomNormal(rows: 5, cols: 5, std: 0.5, using: &rng)
        var s = Matrix.product(a, .none, a, .transposed)
        s.addToDiagonal(0.3)
        covs.append(s)
    }
    return try GaussianMixture(weights: [0.4, 0.35, 0.25], means: Matrix([[0, 0, 0, 0, 0], [4, 0, 0, 3, 0], [0, -4, 2, 0, 1]]), covariances: covs)
}

@Suite("FeatureLearning: Gaussian mixtures")
struct FeatureLearningMixtureTests {
    @Test("log-density of one Gaussian equals the closed form")
    func closedForm() throws {
        let g = try GaussianMixture(weights: [1], means: Matrix([[1, -2]]), covariances: [Matrix([[2, 0.6], [0.6, 1]])])
        let x = Matrix([[0.3, 0.4], [1, -2]])
        let det = 2 * 1 - 0.36
        let ld = try g.logDensity(x)
        for i in 0..<2 {
            let a = x[i, 0] - 1, b = x[i, 1] + 2
            let q = (1 * a * a - 2 * 0.6 * a * b + 2 * b * b) / det
            #expect(Swift.abs(ld[i] - (-Foundation.log(2 * Double.pi) - 0.5 * Foundation.log(det) - 0.5 * q)) <= 1e-13)
        }
        #expect(g.parameterCount == 0 + 2 + 3)
    }

    @Test("EM on a known 3-component mixture (2-D and 5-D): fresh-sample mean log-likelihood within 5 SE of the truth's")
    func fitMatchesTruth() throws {
        for (truth, n) in [(try flTrueMixture2D(), 3000), (try flTrueMixture5D(), 4000)] {
            let train = try truth.sample(count: n, seed: 1)
            let fresh = try truth.sample(count: n, seed: 2)
            let fitted = try GaussianMixture.fit(train, components: 3, seed: 3)
            #expect(fitted.converged && fitted.history.count >= 2)
            // EM never decreases the likelihood.
            #expect(zip(fitted.history, fitted.history.dropFirst()).allSatisfy { $1 >= $0 - 1e-10 })
            // Tolerance: 5 SE of the mean of the truth's per-sample log-density on the fresh sample (as specified). The
            // fit's own excess risk is ~ p / (2n) (= 0.003 in 2-D, 0.008 in 5-D), far inside it.
            let truthLogs = try truth.logDensity(fresh)
            let (truthMean, se) = flMeanSE(truthLogs)
            let fittedMean = try fitted.meanLogLikelihood(fresh)
            #expect(Swift.abs(fittedMean - truthMean) <= 5 * se, "d = \(truth.dimension): \(fittedMean) vs \(truthMean) +- \(se)")
        }
    }

    @Test("BIC and held-out likelihood select 3 components among 1...6")
    func selection() throws {
        let x = try flTrueMixture2D().sample(count: 2000, seed: 4)
        let (model, scores) = try GaussianMixture.select(x, candidates: Array(1...6), criterion: .bic, seed: 5)
        #expect(model.componentCount == 3 && scores.map(\.components) == Array(1...6))
        #expect(scores.min { $0.score < $1.score }!.components == 3)
        let held = try GaussianMixture.select(x, candidates: [1, 2, 3], criterion: .heldOut(fraction: 0.3), seed: 5)
        #expect(held.model.componentCount == 3)
        #expect(errorKind { _ = try GaussianMixture.select(x, candidates: [2, 2], criterion: .bic, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try GaussianMixture.select(x, candidates: [2], criterion: .heldOut(fraction: 1), seed: 0) } == "invalidArgument")
    }

    @Test("sample() moments match the model within 5 SE")
    func sampleMoments() throws {
        let g = try flTrueMixture2D()
        let n = 40_000
        let x = try g.sample(count: n, seed: 6)
        // Model moments: E x = sum w mu, E x x^T = sum w (Sigma + mu mu^T).
        for a in 0..<2 {
            let mean = (0..<3).reduce(0) { $0 + g.weights[$1] * g.means[$1, a] }
            let (m, se) = flMeanSE(x.column(a))
            #expect(Swift.abs(m - mean) <= 5 * se)
            for b in a..<2 {
                let second = (0..<3).reduce(0) { $0 + g.weights[$1] * (g.covariances[$1][a, b] + g.means[$1, a] * g.means[$1, b]) }
                let (s, sse) = flMeanSE((0..<n).map { x[$0, a] * x[$0, b] })
                #expect(Swift.abs(s - second) <= 5 * sse, "E x_\(a) x_\(b)")
            }
        }
        #expect(try g.sample(count: 10, seed: 6) == x.rows(at: Array(0..<10)))
    }

    @Test("bad input: components < 1, too few samples, NaN, bad parameters")
    func validation() throws {
        let x = flData(10, 2, seed: 1)
        #expect(errorKind { _ = try GaussianMixture.fit(x, components: 0, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try GaussianMixture.fit(x, components: 11, seed: 0) } == "invalidArgument")
        var bad = x; bad[3, 1] = .infinity
        #expect(errorKind { _ = try GaussianMixture.fit(bad, components: 2, seed: 0) } == "nonFinite")
        #expect(errorKind { _ = try GaussianMixture(weights: [0.5, 0.6], means: Matrix(rows: 2, cols: 2), covariances: [.identity(2), .identity(2)]) } == "invalidArgument")
        #expect(errorKind { _ = try GaussianMixture(weights: [1], means: Matrix(rows: 1, cols: 2), covariances: [Matrix([[1, 2], [2, 1]])]) } == "singular")
        #expect(errorKind { _ = try flTrueMixture2D().logDensity(flData(3, 3, seed: 0)) } == "shapeMismatch")
    }
}

// MARK: - Variational autoencoder

@Suite("FeatureLearning: variational autoencoder")
struct FeatureLearningVAETests {
    @Test("the -ELBO gradient (fixed noise) matches central differences to 1e-6")
    func gradient() throws {
        // A floor of the size of the data's variances, so that the chain rule through v = e^s + c is exercised.
        var vae = try VariationalAutoencoder(inputDimension: 3, latentDimension: 2, hiddenWidths: [4, 3], covarianceFloor: 0.3, seed: 1)
        _ = try vae.train(flData(20, 3, seed: 2), epochs: 1, batchSize: 5, learningRate: 0.05, seed: 3)   // move off the init
        let xs = try vae.standardized(flData(6, 3, seed: 4))
        let eps = flData(6, 2, seed: 5)
        let theta = vae.parameters
        let (_, g) = try vae.negativeELBO(theta, standardized: xs, noise: eps)
        var p = theta, worst = 0.0, scale = 0.0
        for q in theta.indices {
            let h = 1e-6
            p[q] = theta[q] + h
            let up = try vae.negativeELBO(p, standardized: xs, noise: eps).value
            p[q] = theta[q] - h
            let down = try vae.negativeELBO(p, standardized: xs, noise: eps).value
            p[q] = theta[q]
            worst = Swift.max(worst, Swift.abs((up - down) / (2 * h) - g[q]))
            scale = Swift.max(scale, Swift.abs(g[q]))
        }
        // Central differences of an O(1) smooth function with h = 1e-6: error ~1e-10 (roundoff), far below 1e-6.
        #expect(worst <= 1e-6 * Swift.max(1, scale), "max |FD - grad| = \(worst)")
    }

    @Test("on linear-Gaussian data the IWAE log-likelihood matches the exact density within the stated tolerance")
    func linearGaussianDensity() throws {
        // x = A z + s xi, z ~ N(0, I_2), xi ~ N(0, I_4): x ~ N(0, Sigma), Sigma = A A^T + s^2 I, so
        // log p(x) = -(1/2) [4 log 2 pi + log det Sigma + x^T Sigma^{-1} x] exactly.
        let a = Matrix([[1.0, 0.0], [0.5, 1.0], [-0.8, 0.4], [0.3, -1.2]])
        let s = 0.5
        func draw(_ n: Int, _ seed: UInt64) -> Matrix {
            var rng = Xoshiro256StarStar(seed: seed, stream: 0)
            var x = Matrix.product(Matrix.randomNormal(rows: n, cols: 2, using: &rng), .none, a, .transposed)
            x.add(Matrix.randomNormal(rows: n, cols: 4, std: s, using: &rng), scaledBy: 1)
            return x
        }
        var sigma = Matrix.product(a, .none, a, .transposed)
        sigma.addToDiagonal(s * s)
        let truth = try GaussianMixture(weights: [1], means: Matrix(rows: 1, cols: 4), covariances: [sigma])
        var vae = try VariationalAutoencoder(inputDimension: 4, latentDimension: 2, hiddenWidth: 32, seed: 7)
        let losses = try vae.train(draw(4000, 1), epochs: 60, batchSize: 100, learningRate: 3e-3, seed: 2)
        #expect(losses.last! < losses.first!)
        let fresh = draw(2000, 3)
        let exact = try truth.logDensity(fresh)
        let iwae = try vae.importanceWeightedLogLikelihood(fresh, samples: 100, seed: 4)
        let elbo = try vae.elbo(fresh, seed: 4)
        // Paired differences: the per-sample noise of log p(x) cancels, leaving the model's error.
        let (gap, se) = flMeanSE(zip(iwae, exact).map { $0 - $1 })
        // Upper side: E[IWAE] <= E_true[log p_model] <= E_true[log p_true] (Gibbs), so the estimate may exceed the
        // truth only by noise: gap <= 5 SE. Lower side, tolerance 0.05 nats: a Gaussian-decoder VAE contains this
        // model exactly (a linear decoder with orthogonal columns has a diagonal Gaussian posterior; the per-coordinate
        // decoder variance represents the noise, which standardization makes non-isotropic), so the variational gap at
        // the optimum is 0 and IWAE-100 shrinks what the encoder misses; the estimation error of the fit is
        // ~ p / (2n) = 15 / 8000 = 0.002 nats. What remains is the optimization error of 60 epochs and the tanh
        // networks' approximation of linear maps, which 0.05 nats (1 % of the entropy, about 5.4 nats) bounds.
        #expect(gap <= 5 * se, "IWAE - exact = \(gap) +- \(se)")
        #expect(gap >= -0.05, "IWAE - exact = \(gap) +- \(se)")
        // The IWAE bound is at least the ELBO in expectation. The one-sample ELBO is noisy (per-row std ~1.5 nats here:
        // the decoder mean moves by ~0.3 under the posterior noise, against a decoder noise std e^{s/2} ~ 0.4), so
        // compare the means up to 5 SE of the paired difference.
        let (excess, excessSE) = flMeanSE(zip(iwae, elbo).map { $0 - $1 })
        #expect(excess >= -5 * excessSE, "IWAE - ELBO = \(excess) +- \(excessSE)")
        // Samples reproduce the covariance roughly (a 10 % check of the generative direction).
        let xs = try vae.sample(count: 20_000, seed: 5)
        for i in 0..<4 {
            let c = xs.column(i), m = flMean(c)
            let v = c.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(c.count)
            #expect(Swift.abs(v - sigma[i, i]) <= 0.1 * sigma[i, i], "Var x_\(i): \(v) vs \(sigma[i, i])")
        }
        #expect(try vae.sampleMeans(count: 3, seed: 5).rows == 3)
    }

    @Test("the variance floor keeps held-out densities finite on a nearly constant coordinate (the width-1000 digits failure)")
    func varianceFloor() throws {
        // Two N(0, 1) coordinates and one that is nearly constant in training (std 1e-9, like the weight of an
        // always-blank pixel) but spread 1e-4 in held-out samples (another net's neurons). Standardization divides it
        // by 1e-9: without a floor its held-out residuals are ~1e5 decoder standard deviations.
        func draw(_ n: Int, _ spread: Double, _ seed: UInt64) -> Matrix {
            var rng = Xoshiro256StarStar(seed: seed, stream: 0)
            return Matrix(rows: n, cols: 3, storage: (0..<n).flatMap { _ in [rng.normal(), rng.normal(), spread * rng.normal()] })
        }
        let train = draw(2000, 1e-9, 1), held = draw(1000, 1e-4, 2)
        func heldOut(_ floor: Double) throws -> (Double, VariationalAutoencoder) {
            var vae = try VariationalAutoencoder(inputDimension: 3, latentDimension: 2, hiddenWidth: 16, covarianceFloor: floor, seed: 3)
            try vae.train(train, epochs: 30, batchSize: 100, learningRate: 3e-3, seed: 4)
            return (flMean(try vae.importanceWeightedLogLikelihood(held, samples: 32, seed: 5)), vae)
        }
        let (bare, _) = try heldOut(0)
        #expect(bare < -1e6, "no floor: held-out mean log-likelihood \(bare)")
        let (floored, vae) = try heldOut(1e-6)
        // Every decoder variance in original coordinates is at least the floor.
        let v = vae.decoderVariances(vae.decoderLogVariance)
        #expect(zip(v, vae.inputScale).allSatisfy { $0 * $1 * $1 >= 1e-6 })
        // Reference: the training distribution with the floor added, N(0, 1) x N(0, 1) x N(0, 1e-6 + 1e-18), scored on
        // the held-out rows. The VAE's coordinate-3 term equals the reference's up to a relative 1e-12 (its variance
        // there is 1e-6 + 1e-18 e^s, its mean ~1e-9), so the difference is the fit of the two N(0, 1) coordinates:
        // 0.5 nats bounds 30 epochs' optimization error there (the linear-Gaussian test reaches 0.05 nats in 60 epochs).
        let exact = flMean((0..<held.rows).map { i -> Double in
            let a = held[i, 0], b = held[i, 1], c = held[i, 2], f = 1e-6
            return -0.5 * (3 * Foundation.log(2 * Double.pi) + Foundation.log(f) + a * a + b * b + c * c / f)
        })
        #expect(floored.isFinite && floored >= exact - 0.5, "floor 1e-6: held-out \(floored), floored truth \(exact)")
    }

    @Test("bad input throws")
    func validation() throws {
        #expect(errorKind { _ = try VariationalAutoencoder(inputDimension: 3, latentDimension: 1, hiddenWidth: 4, covarianceFloor: -1, seed: 0) } == "invalidArgument")
        var vae = try VariationalAutoencoder(inputDimension: 3, latentDimension: 1, hiddenWidth: 4, seed: 0)
        #expect(errorKind { _ = try vae.train(flData(5, 2, seed: 0), epochs: 1, batchSize: 2, learningRate: 0.1, seed: 0) } == "shapeMismatch")
        #expect(errorKind { _ = try vae.train(flData(5, 3, seed: 0), epochs: 1, batchSize: 2, learningRate: -1, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try VariationalAutoencoder(inputDimension: 3, latentDimension: 0, hiddenWidth: 4, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try vae.importanceWeightedLogLikelihood(flData(2, 3, seed: 0), samples: 0, seed: 0) } == "invalidArgument")
    }
}

// MARK: - Two-layer training

@Suite("FeatureLearning: training two-layer nets (fig. 8)")
struct FeatureLearningTrainingTests {
    @Test("an ensemble is bit-identical on 1 and 2 threads; its parts reproduce each network to 1e-12; losses fall")
    func ensemble() throws {
        let x = flData(96, 5, seed: 1)
        let y = flLabels(x, classes: 3, seed: 2)
        let settings = TwoLayerTraining(width: 8, weightDecay: 1e-3, optimizer: Adam(learningRate: 0.01), epochs: 6, batchSize: 16)
        let (one, two) = try withThreadCountLock {
            (try settings.ensemble(count: 3, inputs: x, labels: y, classCount: 3, seed: 9, threads: 1),
             try settings.ensemble(count: 3, inputs: x, labels: y, classCount: 3, seed: 9, threads: 2))
        }
        #expect(one.map(\.network.parameters) == two.map(\.network.parameters))
        #expect(one.map(\.trainLoss) == two.map(\.trainLoss))
        #expect(Set(one.map { $0.network.parameters[0] }).count == 3)
        for member in one {
            let f = try member.network(x)
            let g = try member.output.outputs(features: try member.features.features(x))
            #expect(flMaxAbs(f, g) <= 1e-12 * Swift.max(1, f.maxAbs))
            #expect(member.trainLoss.count == 6 && member.trainLoss.last! < member.trainLoss.first!)
            #expect(member.features.count == 8 && member.output.outputCount == 3 && member.features.bias.contains { $0 != 0 })
        }
        // A member is the single training with its seed.
        let single = try TwoLayerTraining.trainClassifier(inputs: x, labels: y, classCount: 3, width: 8, weightDecay: 1e-3,
                                                          optimizer: Adam(learningRate: 0.01), epochs: 6, batchSize: 16,
                                                          seed: TwoLayerTraining.memberSeed(9, member: 1))
        #expect(relativeError(single.features.theta, one[1].features.theta) <= 1e-10)
        #expect(errorKind { _ = try settings.ensemble(count: 0, inputs: x, labels: y, classCount: 3, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try settings.trainClassifier(inputs: x, labels: y, classCount: 2, seed: 0) } == "invalidArgument")
    }
}
