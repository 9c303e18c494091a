import ArgumentParser
import Foundation
import Overparam

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict",
        abstract: "Predictions of an infinitely wide network trained by MSE gradient flow (NTK), or the NNGP posterior.")

    @Option(help: "Training inputs (n x d .npy).") var xTrain: String
    @Option(help: "Training targets (n x k or n-vector .npy).") var yTrain: String
    @Option(help: "Test inputs (m x d .npy).") var xTest: String
    @Option(help: "Training time t (>= 0) or inf.") var time: String = "inf"
    @Option(help: "Learning rate eta (dynamics df/dt = -(eta/n) Theta (f - y)).") var learningRate: Double = 1
    @Option(help: "Diagonal regularizer added to the train kernel (absolute).") var diagReg: Double = 0
    @Option(help: "ntk: gradient-flow ensemble; nngp: Bayesian GP posterior (uses --diag-reg as noise variance).") var kernel: String = "ntk"
    @OptionGroup var arch: ArchitectureOptions
    @Option(help: "Output path for the test mean (m x k .npy).") var meanOut: String
    @Option(help: "Output path for the test covariance (m x m .npy).") var covOut: String?

    func run() throws {
        let xt = try loadInputs(xTrain, flag: "--x-train")
        var y = try loadInputs(yTrain, flag: "--y-train")
        let xs = try loadInputs(xTest, flag: "--x-test")
        if y.rows == 1 && y.cols == xt.rows && xt.rows > 1 { y = y.reshaped(rows: xt.rows, cols: 1) }
        guard y.rows == xt.rows else { throw OverparamError.invalidArgument(name: "--y-train", problem: "has \(y.rows) rows but --x-train has \(xt.rows); targets must be n x k") }
        guard xs.cols == xt.cols else { throw OverparamError.invalidArgument(name: "--x-test", problem: "has \(xs.cols) columns but --x-train has \(xt.cols)") }
        guard diagReg >= 0 else { throw OverparamError.invalidArgument(name: "--diag-reg", problem: "must be >= 0 (got \(diagReg))") }
        let t = try TrainingTime(parsing: time)
        let k = try InfiniteWidthKernel(try arch.architecture(inputDimension: xt.cols), forceQuadrature: arch.quadrature)
        let ktt = try k(xt), kst = try k(xs, xt)
        let kss = covOut == nil ? nil : try k(xs)
        let mean: Matrix
        var cov: Matrix? = nil
        switch kernel {
        case "ntk":
            let flow = try KernelGradientFlow(trainKernel: ktt.ntk, learningRate: learningRate, diagonalRegularizer: diagReg)
            mean = try flow.predict(t, targets: y, testTrainKernel: kst.ntk)
            if let kss { cov = try flow.covariance(t, testTrainKernel: kst.ntk, nngpTrainTrain: ktt.nngp, nngpTestTrain: kst.nngp, nngpTestTest: kss.nngp) }
        case "nngp":
            let gp = try GaussianProcessPosterior(trainKernel: ktt.nngp, noiseVariance: diagReg)
            mean = gp.mean(testTrainKernel: kst.nngp, targets: y)
            if let kss { cov = gp.covariance(testTrainKernel: kst.nngp, testTestKernel: kss.nngp) }
        default:
            throw OverparamError.invalidArgument(name: "--kernel", problem: "unknown kernel '\(kernel)'; use ntk or nngp")
        }
        guard mean.isFinite, cov?.isFinite ?? true else { throw OverparamError.singular("predictions are not finite; add --diag-reg") }
        try save(mean, meanOut, flag: "--mean-out")
        if let cov, let p = covOut { try save(cov, p, flag: "--cov-out") }
        print("\(kernel) predictions at \(t) for \(xs.rows) test points (train \(xt.rows)): wrote \(meanOut)\(covOut.map { " and " + $0 } ?? "")")
    }
}
