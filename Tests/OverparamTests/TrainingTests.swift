import Foundation
import Testing
@testable import Overparam

// The training module: losses and regularizers against finite differences and hand-computed values, the
// trainer's objective gradient (plain, regularized, linearized) against finite differences of its value,
// the optimizers' update rules, the Dormand-Prince integrator on closed-form ODEs, gradient descent against
// gradient flow (first order in the step), linearized training against the empirical-kernel closed form of
// `LinearizedNetwork`, divergence reporting, and the training records.
//
// Finite-difference tolerance. Central differences with step h have truncation error h^2/6 |f'''| and roundoff
// ~ eps |f| / h. The losses and objectives here are smooth with O(1)-O(10) third derivatives (tiny networks, unit-
// scale inputs, O(1) values), so with h = 1e-5 both are ~1e-10 of the gradient scale (>= 1e-2 here); the relative
// tolerance 1e-6 (as in DerivativeTests) leaves a wide margin while any wrong term (a missing scale factor, a wrong
// factor 2 in a regularizer, J(theta) instead of J(theta_0) in the linearized objective) errs at O(1e-2)-O(1).

// MARK: - Helpers

fileprivate let trainingFDStep = 1e-5
fileprivate let trainingFDTolerance = 1e-6

fileprivate func trainingDistance(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
}

fileprivate func trainingNorm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// Central differences of a scalar function of a flat vector, one coordinate at a time. The divisor is the step
/// actually taken, (x + h) - (x - h) in floating point.
fileprivate func trainingCentralGradient(_ x: [Double], _ f: ([Double]) throws -> Double) rethrows -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    var p = x
    for q in x.indices {
        let up = x[q] + trainingFDStep, down = x[q] - trainingFDStep
        p[q] = up
        let plus = try f(p)
        p[q] = down
        let minus = try f(p)
        p[q] = x[q]
        g[q] = (plus - minus) / (up - down)
    }
    return g
}

/// dL/dF of a loss by central differences over the entries of F.
fileprivate func trainingLossGradientFD(_ loss: any Loss, _ f: Matrix, _ y: Matrix) throws -> Matrix {
    let g = try trainingCentralGradient(f.storage) { s in
        try loss.evaluate(outputs: Matrix(rows: f.rows, cols: f.cols, storage: s), targets: y).value
    }
    return Matrix(rows: f.rows, cols: f.cols, storage: g)
}

fileprivate func trainingOneHot(_ labels: [Int], classes k: Int) -> Matrix {
    var m = Matrix(rows: labels.count, cols: k)
    for (i, c) in labels.enumerated() { m[i, c] = 1 }
    return m
}

fileprivate func trainingNormals(_ count: Int, seed: UInt64) -> [Double] {
    var rng = Xoshiro256StarStar(seed: seed, stream: 7)
    return rng.normals(count)
}


fileprivate func trainingIsDiverged(_ error: OverparamError?) -> Bool {
    if case .diverged? = error { return true }
    return false
}

fileprivate func trainingIsShapeMismatch(_ error: OverparamError?) -> Bool {
    if case .shapeMismatch? = error { return true }
    return false
}

/// |a - b| <= tol * max(1, |a|, |b|).
fileprivate func trainingClose(_ a: Double, _ b: Double, _ tol: Double) -> Bool {
    abs(a - b) <= tol * Swift.max(1, abs(a), abs(b))
}

// MARK: - Losses and regularizers

@Suite("Training: losses and regularizers")
struct TrainingLossTests {
    @Test("loss gradients equal central finite differences")
    func lossGradientsMatchFiniteDifferences() throws {
        var rng = Xoshiro256StarStar(seed: 11)
        let n = 5, k = 3
        let f = Matrix.randomNormal(rows: n, cols: k, std: 1.5, using: &rng)
        let yReal = Matrix.randomNormal(rows: n, cols: k, using: &rng)
        let oneHot = trainingOneHot([0, 2, 1, 1, 0], classes: k)
        var probabilities = Matrix(rows: n, cols: k)
        for i in 0..<n {
            let w = (0..<k).map { _ in rng.uniform() + 0.1 }
            let s = w.reduce(0, +)
            for c in 0..<k { probabilities[i, c] = w[c] / s }
        }
        let f1 = Matrix.randomNormal(rows: n, cols: 1, std: 2, using: &rng)
        let plusMinus = Matrix(column: [1, -1, -1, 1, 1])
        let zeroOne = Matrix(column: [1, 0, 0, 1, 1])
        let cases: [(String, any Loss, Matrix, Matrix)] = [
            ("mse(half-mean)", MeanSquaredError(.halfMean), f, yReal),
            ("mse(mean)", MeanSquaredError(.mean), f, yReal),
            ("logistic +-1", BinaryLogistic(), f1, plusMinus),
            ("logistic 0/1", BinaryLogistic(), f1, zeroOne),
            ("cross-entropy one-hot", SoftmaxCrossEntropy(), f, oneHot),
            ("cross-entropy probabilities", SoftmaxCrossEntropy(), f, probabilities),
        ]
        for (name, loss, outputs, targets) in cases {
            let (value, grad) = try loss.evaluate(outputs: outputs, targets: targets)
            #expect(value.isFinite, "\(name)")
            #expect(grad.rows == outputs.rows && grad.cols == outputs.cols, "\(name): gradient shape")
            let fd = try trainingLossGradientFD(loss, outputs, targets)
            let err = relativeError(grad, fd)
            #expect(err <= trainingFDTolerance, "\(name): gradient vs finite differences \(err)")
        }
    }

    @Test("loss values on hand-computed cases")
    func lossValuesByHand() throws {
        // Residual r = (1, 2), n = 2, k = 1: half-mean (1/2n) |r|^2 = 5/4 with gradient r / n; mean |r|^2 / (n k) = 5/2
        // with gradient 2 r / (n k).
        let f = Matrix(column: [1, 3]), y = Matrix(column: [0, 1])
        let half = try MeanSquaredError(.halfMean).evaluate(outputs: f, targets: y)
        #expect(half.value == 1.25)
        #expect(half.gradient.storage == [0.5, 1])
        let mean = try MeanSquaredError(.mean).evaluate(outputs: f, targets: y)
        #expect(mean.value == 2.5)
        #expect(mean.gradient.storage == [1, 2])
        // n = 2, k = 3 (the conventions differ by the factor 2 / k): residual rows (1, 2, 0), (0, -2, 1), |r|^2 = 10.
        let f3 = Matrix([[1, 2, 0], [0, -1, 1]]), y3 = Matrix([[0, 0, 0], [0, 1, 0]])
        let half3 = try MeanSquaredError(.halfMean).evaluate(outputs: f3, targets: y3)
        #expect(trainingClose(half3.value, 2.5, 1e-15))
        #expect(relativeError(half3.gradient, Matrix([[0.5, 1, 0], [0, -1, 0.5]])) <= 1e-15)
        let mean3 = try MeanSquaredError(.mean).evaluate(outputs: f3, targets: y3)
        #expect(trainingClose(mean3.value, 10.0 / 6, 1e-15))
        #expect(relativeError(mean3.gradient, (1.0 / 3) * Matrix([[1, 2, 0], [0, -2, 1]])) <= 1e-15)

        // Logistic at f = 0: log 2 for either label, gradient -y sigma(0) / n = -y / (2n).
        let logistic = BinaryLogistic()
        let atZero = try logistic.evaluate(outputs: Matrix(column: [0, 0]), targets: Matrix(column: [1, -1]))
        #expect(trainingClose(atZero.value, Foundation.log(2.0), 1e-15))
        #expect(atZero.gradient.storage == [-0.25, 0.25])
        // 0 labels are read as -1: identical value and gradient.
        let fl = Matrix(column: [0.3, -1.7, 2.2, -0.4])
        let pm = try logistic.evaluate(outputs: fl, targets: Matrix(column: [1, -1, -1, 1]))
        let zo = try logistic.evaluate(outputs: fl, targets: Matrix(column: [1, 0, 0, 1]))
        #expect(pm.value == zo.value)
        #expect(pm.gradient == zo.gradient)
        // Large margins stay finite: margins +1000 and -1000 give (0 + 1000) / 2; gradients 0 and -1 / n.
        let big = try logistic.evaluate(outputs: Matrix(column: [1000, -1000]), targets: Matrix(column: [1, 1]))
        #expect(big.value == 500)
        #expect(big.gradient.storage == [0, -0.5])
        // Margin -40 with n = 1: log(1 + e^40) = 40 + log1p(e^-40).
        let m40 = try logistic.evaluate(outputs: Matrix(column: [-40]), targets: Matrix(column: [1]))
        #expect(trainingClose(m40.value, 40 + Foundation.log1p(Foundation.exp(-40.0)), 1e-15))

        // Cross-entropy of uniform logits is log k; gradient (1/k - y) / n. (Tolerances 1e-14: a few roundings of
        // log-sum-exp.)
        let ce = SoftmaxCrossEntropy()
        let uniform = Matrix(rows: 2, cols: 4, repeating: 0.7)
        let targets = trainingOneHot([1, 3], classes: 4)
        let u = try ce.evaluate(outputs: uniform, targets: targets)
        #expect(trainingClose(u.value, Foundation.log(4.0), 1e-14))
        #expect(relativeError(u.gradient, 0.5 * (Matrix(rows: 2, cols: 4, repeating: 0.25) - targets)) <= 1e-14)
        // Logits (0, log 3), class 1: p = (1/4, 3/4), loss log(4/3); shift-invariant and overflow-free at 1000.
        let two = try ce.evaluate(outputs: Matrix([[0, Foundation.log(3.0)]]), targets: Matrix([[0, 1]]))
        #expect(trainingClose(two.value, Foundation.log(4.0 / 3), 1e-14))
        #expect(relativeError(two.gradient, Matrix([[0.25, -0.25]])) <= 1e-14)
        let shifted = try ce.evaluate(outputs: Matrix([[1000, 1000 + Foundation.log(3.0)]]), targets: Matrix([[0, 1]]))
        #expect(abs(shifted.value - Foundation.log(4.0 / 3)) <= 1e-12)   // log 3 rounded at magnitude 1000: ~1e-13
        let confident = try ce.evaluate(outputs: Matrix([[1000, 0, -1000]]), targets: Matrix([[1, 0, 0]]))
        #expect(confident.value == 0 && confident.gradient.storage.allSatisfy { $0.isFinite })

        // Shape errors.
        #expect(trainingIsShapeMismatch(thrownError { _ = try MeanSquaredError().evaluate(outputs: f3, targets: y) }))
        #expect(trainingIsShapeMismatch(thrownError { _ = try logistic.evaluate(outputs: f3, targets: y3) }))
        #expect(trainingIsShapeMismatch(thrownError { _ = try ce.evaluate(outputs: f3, targets: uniform) }))

        // CLI names.
        #expect(try lossNamed("mse").name == "mse(half-mean)")
        #expect(try lossNamed("mse-mean").name == "mse(mean)")
        #expect(try lossNamed("logistic").name == "logistic")
        #expect(try lossNamed("cross-entropy").name == "cross-entropy")
        #expect(thrownError { _ = try lossNamed("hinge") } != nil)
    }

    /// Layout of d = 2, hidden [3], k = 1 with biases: W1 at 0..<6, b1 at 6..<9, W2 at 9..<12, b2 at 12.
    @Test("regularizer values and gradients by hand")
    func regularizersByHand() throws {
        let arch = Architecture(inputDimension: 2, hiddenWidths: [3], activation: .tanh, outputDimension: 1,
                                weightVariance: 1, biasVariance: 0.1)
        let layout = ParameterLayout(arch)
        #expect(layout.count == 13)
        let theta = (1...13).map { Double($0) / 10 }
        let w1 = 0..<6, w2 = 9..<12
        let sq1 = w1.reduce(0.0) { $0 + theta[$1] * theta[$1] }, sq2 = w2.reduce(0.0) { $0 + theta[$1] * theta[$1] }

        for (reg, l1, l2) in [(LayerL2(lambdas: [0.4, 0.2]), 0.4, 0.2),
                              (LayerL2(lambdas: [0.4, 0.2], perNeuron: true), 0.4 / 3, 0.2 / 3),
                              (LayerL2(lambdas: [0.4]), 0.4, 0.4)] {
            let (value, grad) = reg.evaluate(theta, layout: layout)
            #expect(trainingClose(value, 0.5 * l1 * sq1 + 0.5 * l2 * sq2, 1e-14), "\(reg)")
            var expected = [Double](repeating: 0, count: 13)   // biases unpenalized
            for i in w1 { expected[i] = l1 * theta[i] }
            for i in w2 { expected[i] = l2 * theta[i] }
            #expect(relativeError(grad, expected) <= 1e-14, "\(reg)")
            let fd = trainingCentralGradient(theta) { reg.evaluate($0, layout: layout).value }
            #expect(relativeError(grad, fd) <= trainingFDTolerance, "\(reg)")
        }

        let initial = theta.map { 1 - $0 }
        let toward = L2TowardInitialization(lambda: 0.3, initial: initial)
        let (value, grad) = toward.evaluate(theta, layout: layout)
        #expect(trainingClose(value, 0.3 * trainingDistance(theta, initial) * trainingDistance(theta, initial), 1e-14))
        #expect(relativeError(grad, zip(theta, initial).map { 0.6 * ($0 - $1) }) <= 1e-14)
        #expect(toward.evaluate(initial, layout: layout).value == 0)
    }
}

// MARK: - Objective gradients

@Suite("Training: objective gradients")
struct TrainingObjectiveTests {
    static let parameterizations: [Parameterization] = [.ntk, .standard, .meanField, .scaled(alpha: 2), .huangYau, .fangGuZhang, .hanin]
    static let activations: [Activation] = [.tanh, .erf, .gelu, .softplus(a: 1), .identity]
    static let inputs = Matrix([[0.8, -0.3, 0.5], [-0.6, 0.9, 0.2], [0.1, 0.4, -1.1], [1.2, 0.3, -0.4], [-0.2, -0.8, 0.6]])

    /// (name, loss, targets); the number of outputs is the targets' column count.
    static func lossCases() -> [(String, any Loss, Matrix)] {
        let y3 = Matrix([[0.5, -1.0, 0.3], [1.1, 0.2, -0.7], [-0.4, 0.8, 0.1], [0.0, -0.3, 0.9], [0.6, 0.4, -1.2]])
        return [
            ("mse(half-mean)", MeanSquaredError(.halfMean), y3),
            ("mse(mean)", MeanSquaredError(.mean), y3),
            ("logistic", BinaryLogistic(), Matrix(column: [1, -1, -1, 1, 1])),
            ("cross-entropy", SoftmaxCrossEntropy(), trainingOneHot([0, 2, 1, 2, 0], classes: 3)),
        ]
    }

    /// Every loss x smooth activation (and identity) x variant (plain, L2 + L2-toward-init, linearized, linearized +
    /// regularized) for one parameterization, on d = 3, widths [4, 3] with biases. The gradient is checked at
    /// theta_0 + 0.1 xi (xi ~ N(0, I)), away from the initialization, so the linearized gradient J(theta_0)^T dL/df
    /// differs from the network's and L2-toward-init has a nonzero gradient. At theta_0 itself the linearized
    /// objective and gradient must equal the network's.
    @Test("objective gradient equals finite differences of the objective", arguments: TrainingObjectiveTests.parameterizations)
    func objectiveGradientMatchesFiniteDifferences(_ p: Parameterization) throws {
        for (lossName, loss, y) in Self.lossCases() {
            for act in Self.activations {
                let arch = Architecture(inputDimension: 3, hiddenWidths: [4, 3], activation: act, outputDimension: y.cols,
                                        weightVariance: 1.5, biasVariance: 0.2, parameterization: p)
                let net = try Network(arch, seed: 5)
                #expect(net.architecture.hasBias)
                let theta0 = net.parameters
                let xi = trainingNormals(theta0.count, seed: 17)
                let theta = zip(theta0, xi).map { $0 + 0.1 * $1 }
                let regs: [any Regularizer] = [LayerL2(lambdas: [0.3, 0.2, 0.1]), L2TowardInitialization(lambda: 0.05, initial: theta0)]
                let regsPerNeuron: [any Regularizer] = [LayerL2(lambdas: [0.4, 0.1], perNeuron: true),
                                                        L2TowardInitialization(lambda: 0.05, initial: theta0)]
                let variants: [(String, Bool, [any Regularizer])] = [
                    ("plain", false, []), ("regularized", false, regs),
                    ("linearized", true, []), ("linearized+regularized", true, regsPerNeuron),
                ]
                var atInit = [String: (value: Double, gradient: [Double])]()
                for (variant, linearized, regularizers) in variants {
                    var options = TrainingOptions()
                    options.loss = loss
                    options.linearized = linearized
                    options.regularizers = regularizers
                    let trainer = try Trainer(network: net, trainInputs: Self.inputs, trainTargets: y, options: options)
                    let label = "\(p) \(act) \(lossName) \(variant)"
                    let (value, grad) = try trainer.objective(theta)
                    #expect(value.isFinite && grad.count == theta.count, "\(label)")
                    let fd = try trainingCentralGradient(theta) { try trainer.objective($0).value }
                    let err = relativeError(grad, fd)
                    #expect(err <= trainingFDTolerance, "\(label): objective gradient vs finite differences \(err)")
                    if regularizers.isEmpty { atInit[variant] = try trainer.objective(theta0) }
                }
                if let plain = atInit["plain"], let lin = atInit["linearized"] {
                    #expect(trainingClose(lin.value, plain.value, 1e-14), "\(p) \(act) \(lossName): linearized value at theta_0")
                    #expect(relativeError(lin.gradient, plain.gradient) <= 1e-14, "\(p) \(act) \(lossName): linearized gradient at theta_0")
                }
            }
        }
    }

    @Test("objective on a batch of all rows equals the full objective; regularizers add their values")
    func objectiveBatchesAndRegularizers() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [4, 3], activation: .tanh, outputDimension: 3,
                                weightVariance: 1.5, biasVariance: 0.2)
        let net = try Network(arch, seed: 6)
        let y = Self.lossCases()[0].2
        var options = TrainingOptions()
        options.loss = MeanSquaredError(.halfMean)
        let trainer = try Trainer(network: net, trainInputs: Self.inputs, trainTargets: y, options: options)
        let full = try trainer.objective(net.parameters)
        let permuted = try trainer.objective(net.parameters, batch: [3, 0, 4, 2, 1])
        #expect(trainingClose(permuted.value, full.value, 1e-14))
        #expect(relativeError(permuted.gradient, full.gradient) <= 1e-13)
        // A single-row batch is that row's loss: (1/2) ||f(x_2) - y_2||^2.
        let f = try net(Self.inputs)
        let single = try trainer.objective(net.parameters, batch: [2])
        let r = zip(f.row(2), y.row(2)).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        #expect(trainingClose(single.value, 0.5 * r, 1e-14))

        let reg = LayerL2(lambdas: [0.3])
        options.regularizers = [reg]
        let regTrainer = try Trainer(network: net, trainInputs: Self.inputs, trainTargets: y, options: options)
        let withReg = try regTrainer.objective(net.parameters)
        let (rv, rg) = reg.evaluate(net.parameters, layout: net.layout)
        #expect(trainingClose(withReg.value, full.value + rv, 1e-14))
        #expect(relativeError(withReg.gradient, zip(full.gradient, rg).map { $0 + $1 }) <= 1e-14)
    }
}

// MARK: - Optimizers

@Suite("Training: optimizers")
struct TrainingOptimizerTests {
    @Test("gradient descent is theta - eta s g, with per-layer scales on each layer's range")
    func gradientDescentAndLayerScales() throws {
        let theta0 = trainingNormals(39, seed: 1), g = trainingNormals(39, seed: 2)
        var gd = GradientDescent(learningRate: 0.37)
        var theta = theta0
        gd.step(&theta, gradient: g)
        #expect(theta == zip(theta0, g).map { $0 - 0.37 * $1 })

        // d = 3, widths [4, 3], k = 2 with biases: layer 1 = 3*4 + 4 = 16 entries, layer 2 = 4*3 + 3 = 15, layer 3 =
        // 3*2 + 2 = 8 (39 in all). Layer 3 has no entry in the list: scale 1.
        let arch = Architecture(inputDimension: 3, hiddenWidths: [4, 3], activation: .tanh, outputDimension: 2,
                                weightVariance: 1.5, biasVariance: 0.2)
        let layout = ParameterLayout(arch)
        #expect(layout.count == 39)
        let scales = LearningRateScales.perLayer([0.5, 2], layout: layout)
        let expectedScales = [Double](repeating: 0.5, count: 16) + [Double](repeating: 2, count: 15) + [Double](repeating: 1, count: 8)
        #expect(scales == expectedScales)
        #expect(LearningRateScales.perLayer([], layout: layout) == [Double](repeating: 1, count: 39))

        var scaled = GradientDescent(learningRate: 0.37, scales: scales)
        theta = theta0
        scaled.step(&theta, gradient: g)
        #expect(theta == (0..<39).map { theta0[$0] - 0.37 * expectedScales[$0] * g[$0] })
    }

    @Test("heavy ball: momentum 0 is gradient descent; constant gradients accumulate (1 + beta)")
    func heavyBall() throws {
        let theta0 = trainingNormals(20, seed: 3)
        let grads = (4...6).map { trainingNormals(20, seed: UInt64($0)) }
        var gd = GradientDescent(learningRate: 0.2)
        var hb = HeavyBall(learningRate: 0.2, momentum: 0)
        var a = theta0, b = theta0
        for g in grads {
            gd.step(&a, gradient: g)
            hb.step(&b, gradient: g)
        }
        #expect(a == b)

        // v1 = g, v2 = beta g + g: the second step moves by eta (1 + beta) g.
        var momentum = HeavyBall(learningRate: 0.2, momentum: 0.9)
        var theta = [Double](repeating: 0, count: 20)
        momentum.step(&theta, gradient: grads[0])
        let afterOne = theta
        momentum.step(&theta, gradient: grads[0])
        let second = zip(theta, afterOne).map { $0 - $1 }
        #expect(relativeError(second, grads[0].map { -0.2 * 1.9 * $0 }) <= 1e-14)
    }

    /// Adam's first step: m-hat = g and v-hat = g^2 (up to the rounding of the bias corrections), so each coordinate
    /// moves by eta g / (|g| + eps), about eta sign(g); a zero gradient does not move. With a constant gradient the
    /// bias-corrected moments stay g and g^2, so every step has that size.
    @Test("Adam's first step is eta g / (|g| + eps)")
    func adamFirstStep() throws {
        let g: [Double] = [3.0, -0.02, 1e-3, -250, 0, 0.7, -1e-6]
        let eta = 0.01, eps = 1e-8
        var adam = Adam(learningRate: eta, epsilon: eps)
        var theta = [Double](repeating: 0, count: g.count)
        adam.step(&theta, gradient: g)
        for i in g.indices {
            let move = -theta[i]
            let expected = eta * g[i] / (abs(g[i]) + eps)
            #expect(abs(move - expected) <= 1e-14 * abs(expected), "coordinate \(i): moved \(move), expected \(expected)")
            if g[i] != 0 { #expect(abs(move - eta * (g[i] > 0 ? 1 : -1)) <= eta * eps / abs(g[i]) + 1e-14 * eta) }
        }
        #expect(theta[4] == 0)
        for _ in 0..<5 {
            let before = theta
            adam.step(&theta, gradient: g)
            for i in g.indices {
                let expected = eta * g[i] / (abs(g[i]) + eps)
                #expect(abs((before[i] - theta[i]) - expected) <= 1e-12 * eta, "coordinate \(i)")
            }
        }
    }

    /// Noisy gradient descent at temperature 0 is gradient descent. With g = 0 each increment is
    /// sqrt(2 lambda eta s) xi: over N = 40,000 coordinates the sample variance estimates 2 lambda eta s with standard
    /// error 2 lambda eta s sqrt(2 / (N - 1)) (Gaussian fourth moment) and the sample mean has standard error
    /// sqrt(2 lambda eta s / N); both must be within 5 standard errors.
    @Test("noisy gradient descent: temperature 0 is gradient descent; the noise has variance 2 lambda eta")
    func noisyGradientDescent() throws {
        let theta0 = trainingNormals(30, seed: 8), g = trainingNormals(30, seed: 9)
        var gd = GradientDescent(learningRate: 0.05)
        var cold = NoisyGradientDescent(learningRate: 0.05, temperature: 0, seed: 1)
        var a = theta0, b = theta0
        for _ in 0..<3 {
            gd.step(&a, gradient: g)
            cold.step(&b, gradient: g)
        }
        #expect(a == b)

        let n = 40_000, lambda = 0.3, eta = 0.05
        func moments(_ x: ArraySlice<Double>) -> (mean: Double, variance: Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1))
        }
        func check(_ x: ArraySlice<Double>, variance v: Double, _ label: String) {
            let (m, s2) = moments(x)
            let count = Double(x.count)
            #expect(abs(m) <= 5 * (v / count).squareRoot(), "\(label): mean \(m)")
            #expect(abs(s2 - v) <= 5 * v * (2 / (count - 1)).squareRoot(), "\(label): variance \(s2) vs \(v)")
        }
        var hot = NoisyGradientDescent(learningRate: eta, temperature: lambda, seed: 42)
        var theta = [Double](repeating: 0, count: n)
        hot.step(&theta, gradient: [Double](repeating: 0, count: n))
        check(theta[...], variance: 2 * lambda * eta, "unscaled")

        // Per-coordinate scales: the first half at s = 4 has four times the variance.
        let scales = [Double](repeating: 4, count: n / 2) + [Double](repeating: 1, count: n / 2)
        var scaledNoise = NoisyGradientDescent(learningRate: eta, temperature: lambda, seed: 43, scales: scales)
        theta = [Double](repeating: 0, count: n)
        scaledNoise.step(&theta, gradient: [Double](repeating: 0, count: n))
        check(theta[0..<(n / 2)], variance: 2 * lambda * eta * 4, "scale 4")
        check(theta[(n / 2)...], variance: 2 * lambda * eta, "scale 1")

        // Same seed, same noise.
        var again = NoisyGradientDescent(learningRate: eta, temperature: lambda, seed: 42)
        var replay = [Double](repeating: 0, count: 100)
        again.step(&replay, gradient: [Double](repeating: 0, count: 100))
        var first = NoisyGradientDescent(learningRate: eta, temperature: lambda, seed: 42)
        var original = [Double](repeating: 0, count: 100)
        first.step(&original, gradient: [Double](repeating: 0, count: 100))
        #expect(replay == original)
    }
}

// MARK: - Dormand-Prince

/// Global errors. With error-per-step control at relative tolerance rtol, DP5(4) with local extrapolation (the
/// 5th-order solution is propagated while the controller bounds the larger 4th-order estimate) has global errors of
/// order rtol on O(1) horizons of non-expanding problems (decay, rotation); 10 rtol leaves a margin of ~10.
@Suite("Training: Dormand-Prince")
struct TrainingDormandPrinceTests {
    static let rtol = 1e-8

    @Test("y' = -y and y' = -2 t y against their closed forms")
    func decay() throws {
        let dp = DormandPrince(relativeTolerance: Self.rtol, absoluteTolerance: 1e-12)
        let (y, steps) = try dp.integrate([1], from: 0, to: 3) { y, _ in [-y[0]] }
        let exact = Foundation.exp(-3.0)
        #expect(abs(y[0] - exact) <= 10 * Self.rtol * exact, "y(3) = \(y[0]), exact \(exact)")
        #expect(steps > 0)
        // Starting at t0 = 1 from e^-1.
        let (y1, _) = try dp.integrate([Foundation.exp(-1.0)], from: 1, to: 3) { y, _ in [-y[0]] }
        #expect(abs(y1[0] - exact) <= 10 * Self.rtol * exact, "from t0 = 1: \(y1[0])")
        // A time-dependent field (the stage times t + c_s h matter): y = exp(-t^2) at t = 2.
        let (y2, _) = try dp.integrate([1], from: 0, to: 2) { y, t in [-2 * t * y[0]] }
        let exact2 = Foundation.exp(-4.0)
        #expect(abs(y2[0] - exact2) <= 10 * Self.rtol * exact2, "y' = -2ty: \(y2[0]) vs \(exact2)")
    }

    @Test("rotation keeps the norm and the phase")
    func rotation() throws {
        let dp = DormandPrince(relativeTolerance: Self.rtol, absoluteTolerance: 1e-12)
        let t1 = 2 * Double.pi
        let (y, _) = try dp.integrate([1, 0], from: 0, to: t1) { y, _ in [y[1], -y[0]] }
        let norm = (y[0] * y[0] + y[1] * y[1]).squareRoot()
        #expect(abs(norm - 1) <= 10 * Self.rtol, "norm \(norm)")
        #expect(trainingDistance(y, [Foundation.cos(t1), -Foundation.sin(t1)]) <= 10 * Self.rtol)
    }

    @Test("observe is called at t0, at each output time exactly, and at t1")
    func outputTimes() throws {
        let dp = DormandPrince(relativeTolerance: Self.rtol, absoluteTolerance: 1e-12)
        var seen = [(Double, Double)]()
        let (y, _) = try dp.integrate([1], from: 0, to: 3, outputTimes: [-1, 0.5, 1.0, 2.25, 5], { y, _ in [-y[0]] },
                                      observe: { y, t in seen.append((t, y[0])) })
        #expect(seen.map(\.0) == [0, 0.5, 1.0, 2.25, 3])   // times outside (t0, t1) are ignored
        for (t, v) in seen {
            let exact = Foundation.exp(-t)
            #expect(abs(v - exact) <= 10 * Self.rtol * exact, "t = \(t): \(v)")
        }
        #expect(seen.last?.1 == y[0])
    }

    @Test("NaN and step exhaustion throw diverged")
    func divergence() throws {
        let dp = DormandPrince()
        let late = thrownError { _ = try dp.integrate([1], from: 0, to: 3) { y, t in t > 1 ? [.nan] : [-y[0]] } }
        #expect(trainingIsDiverged(late), "NaN after t = 1: \(String(describing: late))")
        let immediate = thrownError { _ = try dp.integrate([1, 2], from: 0, to: 1) { _, _ in [.nan, 0] } }
        #expect(trainingIsDiverged(immediate), "NaN at t0: \(String(describing: immediate))")
        let exhausted = thrownError {
            _ = try DormandPrince(maxSteps: 5).integrate([1, 0], from: 0, to: 100) { y, _ in [y[1], -y[0]] }
        }
        #expect(trainingIsDiverged(exhausted), "max steps: \(String(describing: exhausted))")
    }
}

// MARK: - Trainer dynamics

@Suite("Training: trainer dynamics")
struct TrainingDynamicsTests {
    /// Gradient descent with step eta = T / N follows the modified flow theta' = -g - (eta/2) H g + O(eta^2), so
    /// theta_N - theta(T) = eta E(T) + O(eta^2) with E independent of eta: the discrepancy is first order and halves
    /// when eta halves. At eta = 5e-4 on this O(1)-curvature problem the O(eta) correction to the ratio
    /// error(N) / error(2N) = 2 + O(eta) is ~1e-3, and the flow's integration error (rtol 1e-11) and GD's rounding
    /// (~N eps) are ~1e-6 of error(2N); the ratio must be within 10 % of 2.
    @Test("gradient descent approaches gradient flow at first order in the step")
    func gradientDescentApproachesFlow() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [6], activation: .tanh, outputDimension: 1,
                                weightVariance: 1.5, biasVariance: 0.2, parameterization: .ntk)
        let net = try Network(arch, seed: 9)
        var rng = Xoshiro256StarStar(seed: 4)
        let x = Matrix.randomNormal(rows: 5, cols: 3, using: &rng)
        let y = Matrix.randomNormal(rows: 5, cols: 1, using: &rng)
        let t1 = 1.0
        var options = TrainingOptions()
        options.loss = MeanSquaredError(.halfMean)

        let flowTrainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: options)
        let flowRecords = try flowTrainer.trainByFlow(time: t1, integrator: DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-13),
                                                      recordTimes: [0.25, 0.5])
        #expect(flowRecords.map(\.time) == [0, 0.25, 0.5, t1])
        #expect(flowRecords.last!.trainLoss < flowRecords.first!.trainLoss)
        let thetaFlow = flowTrainer.network.parameters

        func descend(_ steps: Int) throws -> [Double] {
            var o = options
            o.steps = steps
            o.recordEvery = steps
            let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: o)
            var gd = GradientDescent(learningRate: t1 / Double(steps))
            let records = try trainer.train(&gd)
            #expect(records.map(\.step) == [0, steps])
            #expect(trainingClose(records.last!.time, t1, 1e-12))
            return trainer.network.parameters
        }
        let e1 = trainingDistance(try descend(2000), thetaFlow)
        let e2 = trainingDistance(try descend(4000), thetaFlow)
        let moved = trainingDistance(thetaFlow, net.parameters)
        #expect(e1 <= 1e-2 * moved, "GD at eta = 5e-4 is \(e1) from the flow, which moved \(moved)")
        #expect(e2 > 0)
        let ratio = e1 / e2
        #expect(abs(ratio - 2) <= 0.2, "error(N) / error(2N) = \(ratio) (\(e1) / \(e2))")
    }

    /// Linearized training with the half-mean MSE is linear: k steps of GD give exactly
    /// f_0 + (I - (I - eta Theta/n)^k)(Y - f_0) on the training points and f_0(x*) + Theta(x*, X) Theta^-1 (...) at test
    /// points, which `LinearizedNetwork.predict(.steps(k))` evaluates by eigendecomposition. With eta lambda_max / n =
    /// 0.5 both recursions are contractive and agree to rounding (~1e-13); 1e-6 relative on the outputs and on their
    /// change from f_0 is the acceptance bound. The flow: trainByFlow at rtol 1e-10 vs `.flow(T)` (eta lambda_max T / n
    /// = 5). The flow is non-expansive (gradient flow of a convex quadratic), so the parameter error is at most the sum
    /// of the per-step local errors (~1e2 steps x 1e-10 |theta|); mapped through J it stays below ~1e-7 of the move;
    /// the bound is 1e-6.
    @Test("linearized training equals the empirical-kernel formula", arguments: [1, 2])
    func linearizedTrainingMatchesKernelFormula(_ k: Int) throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [8, 6], activation: .tanh, outputDimension: k,
                                weightVariance: 1.5, biasVariance: 0.1, parameterization: .ntk)
        let net = try Network(arch, seed: 13)
        var rng = Xoshiro256StarStar(seed: 21)
        let xTrain = Matrix.randomNormal(rows: 6, cols: 3, using: &rng)
        let xTest = Matrix.randomNormal(rows: 3, cols: 3, using: &rng)
        let y = Matrix.randomNormal(rows: 6, cols: k, using: &rng)
        let n = Double(xTrain.rows)
        let kernel = try EmpiricalNTK.compute(net, xTrain, outputs: .full).ntk
        let lambdaMax = try SymmetricEigendecomposition(kernel).values.last!
        let eta = 0.5 * n / lambdaMax
        let steps = 40
        let f0 = try net(xTrain), f0Test = try net(xTest)
        let lin = try LinearizedNetwork(network: net, trainInputs: xTrain, learningRate: eta)

        var options = TrainingOptions()
        options.loss = MeanSquaredError(.halfMean)
        options.linearized = true
        options.steps = steps
        options.recordEvery = steps
        let trainer = try Trainer(network: net, trainInputs: xTrain, trainTargets: y, options: options)
        var gd = GradientDescent(learningRate: eta)
        _ = try trainer.train(&gd)
        let thetaK = trainer.network.parameters
        let gotTrain = try trainer.outputs(xTrain, parameters: thetaK)
        let gotTest = try trainer.outputs(xTest, parameters: thetaK)
        let wantTrain = try lin.predict(.steps(steps), targets: y)
        let wantTest = try lin.predict(.steps(steps), targets: y, testInputs: xTest)
        #expect(relativeError(gotTrain, wantTrain) <= 1e-6, "k = \(k) train: \(relativeError(gotTrain, wantTrain))")
        #expect(relativeError(gotTest, wantTest) <= 1e-6, "k = \(k) test: \(relativeError(gotTest, wantTest))")
        #expect(relativeError(gotTrain - f0, wantTrain - f0) <= 1e-6, "k = \(k) train move")
        #expect(relativeError(gotTest - f0Test, wantTest - f0Test) <= 1e-6, "k = \(k) test move")
        #expect((wantTrain - f0).frobeniusNorm > 1e-2 * (y - f0).frobeniusNorm, "the training moved the outputs")

        let t1 = 10.0
        let flowTrainer = try Trainer(network: net, trainInputs: xTrain, trainTargets: y, options: options)
        _ = try flowTrainer.trainByFlow(time: t1, learningRate: eta,
                                        integrator: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
        let thetaT = flowTrainer.network.parameters
        let flowTrain = try flowTrainer.outputs(xTrain, parameters: thetaT)
        let flowTest = try flowTrainer.outputs(xTest, parameters: thetaT)
        let wantFlowTrain = try lin.predict(.flow(t1), targets: y)
        let wantFlowTest = try lin.predict(.flow(t1), targets: y, testInputs: xTest)
        #expect(relativeError(flowTrain - f0, wantFlowTrain - f0) <= 1e-6,
                "k = \(k) flow train move: \(relativeError(flowTrain - f0, wantFlowTrain - f0))")
        #expect(relativeError(flowTest - f0Test, wantFlowTest - f0Test) <= 1e-6,
                "k = \(k) flow test move: \(relativeError(flowTest - f0Test, wantFlowTest - f0Test))")
    }

    /// With eta = 1e6 the readout's quadratic is amplified ~1e5-fold per step: parameters pass 1e12 within a few steps.
    @Test("a huge learning rate throws diverged naming the learning rate")
    func hugeLearningRateDiverges() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [8], activation: .tanh, outputDimension: 1,
                                weightVariance: 1.5, biasVariance: 0.2, parameterization: .ntk)
        let net = try Network(arch, seed: 3)
        var rng = Xoshiro256StarStar(seed: 5)
        let x = Matrix.randomNormal(rows: 6, cols: 3, using: &rng)
        let y = Matrix.randomNormal(rows: 6, cols: 1, using: &rng)
        var options = TrainingOptions()
        options.loss = MeanSquaredError(.halfMean)
        options.steps = 200
        let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: options)
        let lr = 1e6
        var gd = GradientDescent(learningRate: lr)
        let error = thrownError { _ = try trainer.train(&gd) }
        #expect(trainingIsDiverged(error), "got \(String(describing: error))")
        let text = error?.description ?? ""
        #expect(text.contains("learning-rate") && text.contains("\(lr)"), "message: \(text)")
    }
}

// MARK: - Records

@Suite("Training: records")
struct TrainingRecordTests {
    /// A two-layer (one hidden layer) classifier with cross-entropy, NTK and linearization tracking.
    @Test("records: distances, kernel change, linearization gap, accuracy")
    func recordsOfTwoLayerNetwork() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [8], activation: .tanh, outputDimension: 3,
                                weightVariance: 1.5, biasVariance: 0.2, parameterization: .ntk)
        let net = try Network(arch, seed: 2)
        var rng = Xoshiro256StarStar(seed: 12)
        let x = Matrix.randomNormal(rows: 9, cols: 3, using: &rng)
        let xTest = Matrix.randomNormal(rows: 4, cols: 3, using: &rng)
        let labels = (0..<9).map { $0 % 3 }, testLabels = [2, 0, 1, 1]
        let y = trainingOneHot(labels, classes: 3), yTest = trainingOneHot(testLabels, classes: 3)
        var options = TrainingOptions()
        options.loss = SoftmaxCrossEntropy()
        options.steps = 25
        options.recordEvery = 10
        options.trackNTK = true
        options.trackLinearizationGap = true
        let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, testInputs: xTest, testTargets: yTest, options: options)
        var gd = GradientDescent(learningRate: 0.5)
        let records = try trainer.train(&gd)
        #expect(records.map(\.step) == [0, 10, 20, 25])
        #expect(records.map(\.time) == [0, 5, 10, 12.5])

        let first = records[0], last = records[records.count - 1]
        #expect(first.relativeDistance == [0, 0])
        #expect(first.meanNeuronDistance == 0)
        #expect(first.meanOutputWeightDistance == 0)
        #expect(first.ntkChange.map { $0 <= 1e-14 } == true, "ntkChange at step 0: \(String(describing: first.ntkChange))")
        #expect(first.linearizationGap.map { $0 <= 1e-14 } == true, "gap at step 0: \(String(describing: first.linearizationGap))")
        #expect(last.relativeDistance.count == 2 && last.relativeDistance.allSatisfy { $0 > 0 })
        #expect((last.meanNeuronDistance ?? 0) > 0)
        #expect((last.meanOutputWeightDistance ?? 0) > 0)
        #expect((last.ntkChange ?? 0) > 0)
        #expect((last.linearizationGap ?? 0) > 0)
        #expect(last.trainLoss < first.trainLoss)

        // The distances by hand from the layout: W1 is 8 x 3 (rows theta_j), W2 is 3 x 8 (columns u_j).
        let theta = trainer.network.parameters, theta0 = net.parameters, layout = net.layout
        var neuron = 0.0, output = 0.0
        for j in 0..<8 {
            neuron += trainingDistance((0..<3).map { theta[layout.weightOffsets[0] + j * 3 + $0] },
                                       (0..<3).map { theta0[layout.weightOffsets[0] + j * 3 + $0] })
            output += trainingDistance((0..<3).map { theta[layout.weightOffsets[1] + $0 * 8 + j] },
                                       (0..<3).map { theta0[layout.weightOffsets[1] + $0 * 8 + j] })
        }
        #expect(trainingClose(last.meanNeuronDistance ?? -1, neuron / 8, 1e-13))
        #expect(trainingClose(last.meanOutputWeightDistance ?? -1, output / 8, 1e-13))
        for l in 1...2 {
            let r = layout.layerRange(l)
            let want = trainingDistance(Array(theta[r]), Array(theta0[r])) / trainingNorm(Array(theta0[r]))
            #expect(trainingClose(last.relativeDistance[l - 1], want, 1e-13), "layer \(l)")
        }

        // Accuracy for one-hot targets is argmax accuracy of the outputs.
        let f = try trainer.outputs(x, parameters: theta), fTest = try trainer.outputs(xTest, parameters: theta)
        #expect(last.trainAccuracy == argmaxAccuracy(f, labels: labels))
        #expect(last.testAccuracy == argmaxAccuracy(fTest, labels: testLabels))
        let testLoss = try SoftmaxCrossEntropy().evaluate(outputs: fTest, targets: yTest).value
        #expect(trainingClose(last.testLoss ?? .nan, testLoss, 1e-14))
    }

    @Test("deeper networks have no neuron distances; linearized runs have no gap or kernel change")
    func optionalRecordFields() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [4, 3], activation: .tanh, outputDimension: 1,
                                weightVariance: 1.5, biasVariance: 0.2)
        let net = try Network(arch, seed: 4)
        var rng = Xoshiro256StarStar(seed: 14)
        let x = Matrix.randomNormal(rows: 5, cols: 3, using: &rng)
        let y = Matrix(column: [1, -1, 1, 1, -1])
        var options = TrainingOptions()
        options.steps = 3
        options.trackNTK = true
        options.trackLinearizationGap = true
        options.linearized = true
        let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: options)
        var gd = GradientDescent(learningRate: 0.1)
        let records = try trainer.train(&gd)
        #expect(records.map(\.step) == [0, 3])
        #expect(records[0].relativeDistance == [0, 0, 0])
        #expect(records.allSatisfy { $0.meanNeuronDistance == nil && $0.ntkChange == nil && $0.linearizationGap == nil })
    }

    /// One output: sign agreement with threshold 0 for +-1 labels (any loss) and logits (logistic); 1/2 for 0/1
    /// regression targets; no accuracy for real-valued targets.
    @Test("binary accuracy thresholds")
    func binaryAccuracy() throws {
        let arch = Architecture(inputDimension: 2, hiddenWidths: [3], activation: .tanh, outputDimension: 1)
        let net = try Network(arch, seed: 1)
        let x = Matrix([[1, 0], [0, 1], [1, 1], [-1, 0]])
        let f = Matrix(column: [0.3, -0.2, 0.7, 0.4])
        let plusMinus = Matrix(column: [1, -1, -1, 1]), zeroOne = Matrix(column: [1, 0, 0, 1])
        func trainer(_ loss: any Loss, _ y: Matrix) throws -> Trainer {
            var options = TrainingOptions()
            options.loss = loss
            return try Trainer(network: net, trainInputs: x, trainTargets: y, options: options)
        }
        #expect(try trainer(MeanSquaredError(), plusMinus).accuracy(f, plusMinus) == 0.75)
        #expect(try trainer(MeanSquaredError(), zeroOne).accuracy(f, zeroOne) == 0.25)
        #expect(try trainer(BinaryLogistic(), zeroOne).accuracy(f, zeroOne) == 0.75)
        #expect(try trainer(BinaryLogistic(), plusMinus).accuracy(f, plusMinus) == 0.75)
        let real = Matrix(column: [0.3, 1.2, -0.5, 2])
        #expect(try trainer(MeanSquaredError(), real).accuracy(f, real) == nil)
    }

    @Test("trainer rejects mismatched shapes")
    func shapeChecks() throws {
        let arch = Architecture(inputDimension: 2, hiddenWidths: [3], activation: .tanh, outputDimension: 2)
        let net = try Network(arch, seed: 1)
        let x = Matrix([[1, 0], [0, 1], [1, 1]])
        #expect(trainingIsShapeMismatch(thrownError { _ = try Trainer(network: net, trainInputs: x, trainTargets: Matrix(rows: 2, cols: 2), options: TrainingOptions()) }))
        #expect(trainingIsShapeMismatch(thrownError { _ = try Trainer(network: net, trainInputs: x, trainTargets: Matrix(rows: 3, cols: 1), options: TrainingOptions()) }))
        #expect(trainingIsShapeMismatch(thrownError {
            _ = try Trainer(network: net, trainInputs: x, trainTargets: Matrix(rows: 3, cols: 2), testInputs: x, testTargets: Matrix(rows: 2, cols: 2), options: TrainingOptions())
        }))
    }
}
