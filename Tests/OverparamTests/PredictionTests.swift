import Foundation
import Testing
@testable import Overparam

// Kernel-regime predictions: neural-tangents' gradient_descent_mse_ensemble fixtures, structural properties,
// a hand-computed closed form, the linearized finite network against explicit parameter-space gradient descent,
// and the digits demo.

// MARK: - Helpers

private let predictionFixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func predictionFixture(_ name: String) throws -> Matrix {
    try NPY.read(predictionFixtureFolder.appendingPathComponent(name).path)
}


/// Naive product (independent of BLAS).

/// The kernels of the prediction fixtures: relu, L = 3, C_W = 2, C_b = 0.1 on xp_train (train) and x2 (test).
private struct FixtureKernels {
    let xTrain: Matrix, xTest: Matrix, y: Matrix
    let trainTrain: KernelPair, testTrain: KernelPair, testTest: KernelPair

    init() throws {
        xTrain = try predictionFixture("xp_train.npy")
        xTest = try predictionFixture("x2.npy")
        y = try predictionFixture("y_train.npy")
        let arch = Architecture(inputDimension: 5, hiddenWidths: [512, 512, 512], activation: .relu,
                                weightVariance: 2, biasVariance: 0.1, parameterization: .ntk)
        let kernel = try InfiniteWidthKernel(arch)
        trainTrain = try kernel(xTrain)
        testTrain = try kernel(xTest, xTrain)
        testTest = try kernel(xTest)
    }
}

/// Smallest and largest eigenvalue of a symmetric matrix.
private func eigenRange(_ m: Matrix) throws -> (min: Double, max: Double) {
    let values = try SymmetricEigendecomposition(m).values
    return (values.first ?? 0, values.last ?? 0)
}

private func isExactlySymmetric(_ m: Matrix) -> Bool {
    guard m.isSquare else { return false }
    for i in 0..<m.rows { for j in 0..<i where m[i, j] != m[j, i] { return false } }
    return true
}

// MARK: - Tests

@Suite("Predictions")
struct PredictionTests {
    /// NTK ensemble mean and covariance at t = 0.5 and t = inf, diag_reg 0 and 0.01 (absolute), for the test points
    /// (x2) and the training points, against neural-tangents. NT's time convention exp(-eta t Theta / (n k)) with
    /// k = 1 is ours with learning rate 1 and normalization n. The fixtures are reproduced by closed forms to 5e-15,
    /// and the kernels agree to ~1e-15 (no aligned pairs among xp_train and x2 except the diagonals, where both are
    /// exact), so 1e-9 relative (Frobenius) is generous. NT's t = inf train covariance is exactly 0: ours must be
    /// 0 up to rounding relative to the NNGP's scale.
    @Test("NTK gradient-flow ensemble equals neural-tangents")
    func ntkEnsembleMatchesNeuralTangents() throws {
        let k = try FixtureKernels()
        for (reg, regTag) in [(0.0, "0"), (0.01, "0.01")] {
            let flow = try KernelGradientFlow(trainKernel: k.trainTrain.ntk, learningRate: 1, diagonalRegularizer: reg)
            #expect(flow.normalization == 7)
            let times: [(TrainingTime, String)] = [(.flow(0.5), "0.5"), (.infinity, "inf")]
            for (time, timeTag) in times {
                let prefix = "pred_ntk_t\(timeTag)_reg\(regTag)"
                // Test points.
                let testMean = try flow.predict(time, targets: k.y, testTrainKernel: k.testTrain.ntk)
                let testCov = try flow.covariance(time, testTrainKernel: k.testTrain.ntk, nngpTrainTrain: k.trainTrain.nngp,
                                                  nngpTestTrain: k.testTrain.nngp, nngpTestTest: k.testTest.nngp)
                let em = relativeError(testMean, try predictionFixture("\(prefix)_test_mean.npy"))
                let ec = relativeError(testCov, try predictionFixture("\(prefix)_test_cov.npy"))
                #expect(em <= 1e-9, "\(prefix)_test_mean: \(em)")
                #expect(ec <= 1e-9, "\(prefix)_test_cov: \(ec)")
                // Training points.
                let trainMean = try flow.predict(time, targets: k.y)
                let trainCov = try flow.covariance(time, nngpTrainTrain: k.trainTrain.nngp)
                let tm = relativeError(trainMean, try predictionFixture("\(prefix)_train_mean.npy"))
                #expect(tm <= 1e-9, "\(prefix)_train_mean: \(tm)")
                let covRef = try predictionFixture("\(prefix)_train_cov.npy")
                if covRef.frobeniusNorm == 0 {
                    #expect(trainCov.rows == 7 && trainCov.cols == 7)
                    #expect(trainCov.frobeniusNorm <= 1e-9 * k.trainTrain.nngp.frobeniusNorm,
                            "\(prefix)_train_cov should vanish, norm \(trainCov.frobeniusNorm)")
                } else {
                    let tc = relativeError(trainCov, covRef)
                    #expect(tc <= 1e-9, "\(prefix)_train_cov: \(tc)")
                }
            }
        }
    }

    /// The NNGP posterior (GP regression with noise variance = diag_reg) against NT's `get='nngp'`, t = inf.
    /// NT's train-point files are y and 0 "regardless of diag_reg" (it returns non-regularized train predictions),
    /// which is the exact posterior only without noise, so they are compared for reg = 0 only.
    @Test("NNGP posterior equals neural-tangents")
    func nngpPosteriorMatchesNeuralTangents() throws {
        let k = try FixtureKernels()
        for (reg, regTag) in [(0.0, "0"), (0.01, "0.01")] {
            let gp = try GaussianProcessPosterior(trainKernel: k.trainTrain.nngp, noiseVariance: reg)
            let prefix = "pred_nngp_tinf_reg\(regTag)"
            let mean = gp.mean(testTrainKernel: k.testTrain.nngp, targets: k.y)
            let cov = gp.covariance(testTrainKernel: k.testTrain.nngp, testTestKernel: k.testTest.nngp)
            let em = relativeError(mean, try predictionFixture("\(prefix)_test_mean.npy"))
            let ec = relativeError(cov, try predictionFixture("\(prefix)_test_cov.npy"))
            #expect(em <= 1e-9, "\(prefix)_test_mean: \(em)")
            #expect(ec <= 1e-9, "\(prefix)_test_cov: \(ec)")
            if reg == 0 {
                let trainMean = gp.mean(testTrainKernel: k.trainTrain.nngp, targets: k.y)
                let trainCov = gp.covariance(testTrainKernel: k.trainTrain.nngp, testTestKernel: k.trainTrain.nngp)
                let tm = relativeError(trainMean, try predictionFixture("\(prefix)_train_mean.npy"))
                #expect(tm <= 1e-9, "\(prefix)_train_mean: \(tm)")
                // Cancellation K - K K^-1 K: rounding ~ cond(K) eps ||K|| with cond ~ 63.
                #expect(trainCov.frobeniusNorm <= 1e-9 * k.trainTrain.nngp.frobeniusNorm, "\(prefix)_train_cov: \(trainCov.frobeniusNorm)")
            }
        }
    }

    @Test("structural properties of the gradient-flow predictions")
    func gradientFlowProperties() throws {
        let k = try FixtureKernels()
        // t = inf without regularization interpolates the targets.
        let flow = try KernelGradientFlow(trainKernel: k.trainTrain.ntk)
        let atInfinity = try flow.predict(.infinity, targets: k.y)
        #expect(relativeError(atInfinity, k.y) <= 1e-9)

        // t = 0: the prior mean (zero, or f0 when given) and the NNGP covariance.
        let meanAtZero = try flow.predict(.flow(0), targets: k.y, testTrainKernel: k.testTrain.ntk)
        #expect(meanAtZero.maxAbs == 0)
        let covAtZero = try flow.covariance(.flow(0), testTrainKernel: k.testTrain.ntk, nngpTrainTrain: k.trainTrain.nngp,
                                            nngpTestTrain: k.testTrain.nngp, nngpTestTest: k.testTest.nngp)
        #expect(relativeError(covAtZero, k.testTest.nngp) <= 1e-14)
        let f0Train = Matrix(column: [0.3, -0.2, 0.1, 0.5, -0.4, 0.2, 0.0])
        let f0Test = Matrix(column: [0.25, -0.5, 0.75, 1.0])
        let shiftedAtZero = try flow.predict(.flow(0), targets: k.y, testTrainKernel: k.testTrain.ntk, f0Train: f0Train, f0Test: f0Test)
        #expect(relativeError(shiftedAtZero, f0Test) <= 1e-15)
        // With f0 the flow acts on the residual: f_t = f0 + A_t (y - f0(X)).
        let shifted = try flow.predict(.flow(0.5), targets: k.y, testTrainKernel: k.testTrain.ntk, f0Train: f0Train, f0Test: f0Test)
        let residual = try flow.predict(.flow(0.5), targets: k.y - f0Train, testTrainKernel: k.testTrain.ntk)
        #expect(relativeError(shifted, residual + f0Test) <= 1e-12)

        // Covariances are symmetric and positive semi-definite (NTK ensemble: a linear map of the Gaussian f0;
        // GP posterior: a Schur complement).
        var covariances: [(String, Matrix)] = [("t=0", covAtZero)]
        for reg in [0.0, 0.01] {
            let f = try KernelGradientFlow(trainKernel: k.trainTrain.ntk, diagonalRegularizer: reg)
            let times: [TrainingTime] = [.flow(0.5), .flow(3), .infinity]
            for time in times {
                covariances.append(("test \(time) reg \(reg)",
                                    try f.covariance(time, testTrainKernel: k.testTrain.ntk, nngpTrainTrain: k.trainTrain.nngp,
                                                     nngpTestTrain: k.testTrain.nngp, nngpTestTest: k.testTest.nngp)))
            }
            covariances.append(("train t=0.5 reg \(reg)", try f.covariance(.flow(0.5), nngpTrainTrain: k.trainTrain.nngp)))
            let gp = try GaussianProcessPosterior(trainKernel: k.trainTrain.nngp, noiseVariance: reg)
            covariances.append(("gp reg \(reg)", gp.covariance(testTrainKernel: k.testTrain.nngp, testTestKernel: k.testTest.nngp)))
        }
        for (label, c) in covariances {
            #expect(isExactlySymmetric(c), "\(label): not symmetric")
            let range = try eigenRange(c)
            #expect(range.min >= -1e-10 * Swift.max(range.max, 0), "\(label): eigenvalues \(range)")
        }

        // The singular kernel has no t = inf limit; a finite time is fine.
        let singular = try KernelGradientFlow(trainKernel: Matrix([[1, 1], [1, 1]]))
        var caught = false
        do { _ = try singular.predict(.infinity, targets: Matrix(column: [1, 2])) } catch is OverparamError { caught = true }
        #expect(caught)
        let finite = try singular.predict(.flow(1), targets: Matrix(column: [1, 2]))
        #expect(finite.isFinite)
    }

    /// A hand-computed 3-point case: Theta = [[a, b, 0], [b, a, 0], [0, 0, c]] has eigenvectors (1, 1)/sqrt2,
    /// (1, -1)/sqrt2 (eigenvalues a +- b) and e3 (c), so exp(-s Theta) = e^{-s a} [[cosh sb, -sinh sb], [-sinh sb,
    /// cosh sb]] (+) e^{-s c}, and (I - eta Theta / n)^k = [[(p+q)/2, (p-q)/2], [(p-q)/2, (p+q)/2]] (+) r^k with
    /// p = (1 - eta (a + b)/n)^k, q = (1 - eta (a - b)/n)^k, r = 1 - eta c / n. Only well-conditioned closed forms
    /// are involved, so 1e-12 relative.
    @Test("hand-computed three-point gradient flow")
    func handComputedThreePointFlow() throws {
        let a = 2.0, b = 0.5, c = 1.3, eta = 0.7, n = 3.0, t = 1.7, steps = 5
        let theta = Matrix([[a, b, 0], [b, a, 0], [0, 0, c]])
        let y = Matrix(column: [0.3, -1.1, 0.8])
        let kStar = Matrix([[0.4, -0.2, 0.9]])
        let thetaInverse = Matrix([[a / (a * a - b * b), -b / (a * a - b * b), 0],
                                   [-b / (a * a - b * b), a / (a * a - b * b), 0],
                                   [0, 0, 1 / c]])
        let flow = try KernelGradientFlow(trainKernel: theta, learningRate: eta)
        #expect(flow.normalization == n)

        // Gradient flow at t.
        let s = eta * t / n
        let ea = Foundation.exp(-s * a), ch = Foundation.cosh(s * b), sh = Foundation.sinh(s * b)
        let expFlow = Matrix([[ea * ch, -ea * sh, 0], [-ea * sh, ea * ch, 0], [0, 0, Foundation.exp(-s * c)]])
        let oneMinusFlow = Matrix.identity(3) - expFlow
        let trainFlow = naiveProduct(oneMinusFlow, y)
        let testFlow = naiveProduct(naiveProduct(kStar, thetaInverse), trainFlow)
        #expect(relativeError(try flow.predict(.flow(t), targets: y), trainFlow) <= 1e-12)
        #expect(relativeError(try flow.predict(.flow(t), targets: y, testTrainKernel: kStar), testFlow) <= 1e-12)

        // Train covariance E K E for an NNGP K.
        let nngp = Matrix([[1.0, 0.2, 0.0], [0.2, 0.9, 0.1], [0.0, 0.1, 0.5]])
        let covFlow = naiveProduct(naiveProduct(expFlow, nngp), expFlow)
        #expect(relativeError(try flow.covariance(.flow(t), nngpTrainTrain: nngp), covFlow) <= 1e-12)

        // k discrete steps.
        let p = Foundation.pow(1 - eta * (a + b) / n, Double(steps)), q = Foundation.pow(1 - eta * (a - b) / n, Double(steps))
        let r = Foundation.pow(1 - eta * c / n, Double(steps))
        let power = Matrix([[(p + q) / 2, (p - q) / 2, 0], [(p - q) / 2, (p + q) / 2, 0], [0, 0, r]])
        let trainSteps = naiveProduct(Matrix.identity(3) - power, y)
        let testSteps = naiveProduct(naiveProduct(kStar, thetaInverse), trainSteps)
        #expect(relativeError(try flow.predict(.steps(steps), targets: y), trainSteps) <= 1e-12)
        #expect(relativeError(try flow.predict(.steps(steps), targets: y, testTrainKernel: kStar), testSteps) <= 1e-12)
        // The same by iterating f <- f - (eta / n) Theta (f - y) from f = 0.
        var f = Matrix(rows: 3, cols: 1)
        for _ in 0..<steps { f = f - (eta / n) * naiveProduct(theta, f - y) }
        #expect(relativeError(f, trainSteps) <= 1e-12)

        // t = inf.
        #expect(relativeError(try flow.predict(.infinity, targets: y), y) <= 1e-12)
        let testInfinity = naiveProduct(naiveProduct(kStar, thetaInverse), y)
        #expect(relativeError(try flow.predict(.infinity, targets: y, testTrainKernel: kStar), testInfinity) <= 1e-12)
    }

    /// The linearized finite network trained by explicit gradient descent in parameter space,
    /// theta_{k+1} = theta_k - eta grad (1/2n) ||f0 + J (theta - theta0) - y||^2, equals
    /// `LinearizedNetwork.predict(.steps(k))` at the training and test points (two coupled outputs). Both are exact
    /// linear recursions in double precision; with eta lambda_max / n = 0.9 they are contractive, so 1e-8 relative
    /// (on the change from f0) leaves a wide margin over rounding.
    @Test("linearized network equals parameter-space gradient descent")
    func linearizedNetworkMatchesParameterSpaceDescent() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [16, 12], activation: .tanh, outputDimension: 2,
                                weightVariance: 1.5, biasVariance: 0.1, parameterization: .ntk)
        let net = try Network(arch, seed: 21)
        var rng = Xoshiro256StarStar(seed: 8)
        let xTrain = Matrix.randomNormal(rows: 6, cols: 3, using: &rng)
        let xTest = Matrix.randomNormal(rows: 3, cols: 3, using: &rng)
        let y = Matrix.randomNormal(rows: 6, cols: 2, using: &rng)
        let n = Double(xTrain.rows)
        let count = net.layout.count

        let j = try net.jacobian(xTrain), js = try net.jacobian(xTest)
        let f0 = try net(xTrain), f0s = try net(xTest)
        let thetaHat = Matrix.product(j, .none, j, .transposed)
        let lambdaMax = try SymmetricEigendecomposition(thetaHat).values.last!
        let eta = 0.9 * n / lambdaMax

        let steps = 20
        var delta = [Double](repeating: 0, count: count)
        for _ in 0..<steps {
            let jd = j.apply(delta)
            var residual = [Double](repeating: 0, count: jd.count)
            for i in 0..<jd.count { residual[i] = f0.storage[i] + jd[i] - y.storage[i] }
            let grad = j.apply(residual, .transposed)
            for q in 0..<count { delta[q] -= eta / n * grad[q] }
        }
        let moveTrain = Matrix(rows: 6, cols: 2, storage: j.apply(delta))
        let moveTest = Matrix(rows: 3, cols: 2, storage: js.apply(delta))

        let lin = try LinearizedNetwork(network: net, trainInputs: xTrain, learningRate: eta)
        let predTrain = try lin.predict(.steps(steps), targets: y)
        let predTest = try lin.predict(.steps(steps), targets: y, testInputs: xTest)
        #expect(relativeError(predTrain - f0, moveTrain) <= 1e-8)
        #expect(relativeError(predTest - f0s, moveTest) <= 1e-8)

        // Short gradient flow: with s = eta t / n and r = y - f0, the train move is (I - e^{-s Theta}) r =
        // s Theta r - s^2 Theta^2 r / 2 + R with |R| <= (s lambda_max)^3 |r| / 6, and the test move is
        // Theta_* (s - s^2 Theta / 2) r + R_* with |R_*| <= s^3 ||Theta_*|| lambda_max^2 |r| / 6. At s lambda_max = 1e-3
        // the remainders are ~1e-10 of the first-order term; the bound (doubled) is the tolerance, plus rounding.
        let sTarget = 1e-3 / lambdaMax
        let tFlow = sTarget * n / eta
        let s = eta * tFlow / n
        let r = Matrix(column: (y - f0).storage)
        let thetaR = naiveProduct(thetaHat, r)
        let expectedTrain = s * thetaR - (s * s / 2) * naiveProduct(thetaHat, thetaR)
        let thetaStar = Matrix.product(js, .none, j, .transposed)
        let expectedTest = s * naiveProduct(thetaStar, r) - (s * s / 2) * naiveProduct(thetaStar, thetaR)
        let flowTrain = try lin.predict(.flow(tFlow), targets: y)
        let flowTest = try lin.predict(.flow(tFlow), targets: y, testInputs: xTest)
        let gotTrain = Matrix(column: (flowTrain - f0).storage), gotTest = Matrix(column: (flowTest - f0s).storage)
        let cube = Foundation.pow(s * lambdaMax, 3) / 6
        let trainBound = 2 * cube * r.frobeniusNorm + 1e-13 * (f0.frobeniusNorm + r.frobeniusNorm)
        let testBound = 2 * cube * thetaStar.frobeniusNorm / lambdaMax * r.frobeniusNorm + 1e-13 * (f0s.frobeniusNorm + r.frobeniusNorm)
        #expect((gotTrain - expectedTrain).frobeniusNorm <= trainBound, "train flow: \((gotTrain - expectedTrain).frobeniusNorm) > \(trainBound)")
        #expect((gotTest - expectedTest).frobeniusNorm <= testBound, "test flow: \((gotTest - expectedTest).frobeniusNorm) > \(testBound)")
        // The move itself is resolved: first order ~ s |Theta r| >> the bound.
        #expect(expectedTrain.frobeniusNorm > 1e3 * trainBound)
    }

    /// The digits demo (1,258 train / 539 test images): both NNGP and NTK predictions classify > 90 %.
    @Test("digits demo reaches 90 % test accuracy")
    func digitsDemoAccuracy() throws {
        let summary = try DigitsKernelDemo().run()
        #expect(summary.trainCount + summary.testCount == 1797)
        #expect(summary.gpAccuracy > 0.9, "NNGP accuracy \(summary.gpAccuracy)")
        #expect(summary.ntkAccuracy > 0.9, "NTK accuracy \(summary.ntkAccuracy)")
    }
}
