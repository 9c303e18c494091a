import Foundation

/// The main job of `make run`: infinite-width NNGP and NTK predictions of a deep ReLU network on the bundled
/// handwritten digits, by one-hot regression and argmax.
public struct DigitsKernelDemo: Sendable {
    public var architecture: Architecture
    public var testFraction = 0.3
    public var seed: UInt64 = 0
    /// GP observation noise / NTK diagonal regularizer, relative to the mean diagonal of the train kernel.
    public var relativeRegularizer = 1e-6
    public var normalization = InputNormalization.centeredSphere

    public init(depth: Int = 3, activation: Activation = .relu, weightVariance: Double = 2, biasVariance: Double = 0.1) {
        architecture = Architecture(inputDimension: 64, depth: depth, width: 512, activation: activation, outputDimension: 10,
                                    weightVariance: weightVariance, biasVariance: biasVariance)
    }

    /// What the demo found.
    public struct Summary: Sendable {
        public var trainCount: Int, testCount: Int
        public var nngpCondition: Double, ntkCondition: Double
        public var gpAccuracy: Double, gpMSE: Double
        public var ntkAccuracy: Double, ntkMSE: Double
        public var kernelSeconds: Double, predictSeconds: Double
        public var outputs: [String: Matrix]
    }

    public func run(data: LabeledDataset? = nil) throws -> Summary {
        let digits = try data ?? Digits.load()
        let (train, test) = try digits.stratifiedSplit(testFraction: testFraction, seed: seed)
        let xTrain = normalization.apply(train.inputs, reference: train.inputs)
        let xTest = normalization.apply(test.inputs, reference: train.inputs)
        let yTrain = train.oneHot(centered: true), yTest = test.oneHot(centered: true)
        let clock = ContinuousClock()
        let kernel = try InfiniteWidthKernel(architecture)
        var kTrain: KernelPair!, kTest: KernelPair!, kTestTest: (nngp: [Double], ntk: [Double])!
        let kernelTime = try clock.measure {
            kTrain = try kernel(xTrain)
            kTest = try kernel(xTest, xTrain)
            kTestTest = try kernel.diagonal(xTest)
        }
        var gpMean: Matrix!, ntkMean: Matrix!, ntkVar = [Double](), nngpCond = 0.0, ntkCond = 0.0
        let predictTime = try clock.measure {
            let regGP = relativeRegularizer * kTrain.nngp.trace / Double(kTrain.nngp.rows)
            let regNTK = relativeRegularizer * kTrain.ntk.trace / Double(kTrain.ntk.rows)
            let gp = try GaussianProcessPosterior(trainKernel: kTrain.nngp, noiseVariance: regGP)
            gpMean = gp.mean(testTrainKernel: kTest.nngp, targets: yTrain)
            nngpCond = try SymmetricEigendecomposition(kTrain.nngp).conditionNumber
            let flow = try KernelGradientFlow(trainKernel: kTrain.ntk, learningRate: 1, diagonalRegularizer: regNTK)
            ntkCond = flow.eigen.conditionNumber
            ntkMean = try flow.predict(.infinity, targets: yTrain, testTrainKernel: kTest.ntk)
            // Ensemble variance at the test points: diagonal of the covariance.
            let a = try flow.operatorAt(.infinity, testTrainKernel: kTest.ntk)
            let ak = Matrix.product(a, .none, kTrain.nngp, .none)
            for i in 0..<a.rows {
                let quad = dot(ak.row(i), a.row(i)) - 2 * dot(a.row(i), kTest.nngp.row(i))
                ntkVar.append(kTestTest.nngp[i] + quad)
            }
        }
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        return Summary(trainCount: train.count, testCount: test.count, nngpCondition: nngpCond, ntkCondition: ntkCond,
                       gpAccuracy: argmaxAccuracy(gpMean, labels: test.labels), gpMSE: meanSquaredError(gpMean, yTest),
                       ntkAccuracy: argmaxAccuracy(ntkMean, labels: test.labels), ntkMSE: meanSquaredError(ntkMean, yTest),
                       kernelSeconds: seconds(kernelTime), predictSeconds: seconds(predictTime),
                       outputs: ["nngp_train": kTrain.nngp, "ntk_train": kTrain.ntk, "nngp_test_train": kTest.nngp,
                                 "ntk_test_train": kTest.ntk, "gp_test_mean": gpMean, "ntk_test_mean": ntkMean,
                                 "ntk_test_variance": Matrix(column: ntkVar),
                                 "test_labels": Matrix(column: test.labels.map(Double.init))])
    }
}
