import ArgumentParser
import Foundation
import Overparam

struct DigitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "digits",
        abstract: "NNGP and NTK predictions of a deep ReLU network on the bundled handwritten digits (the make run demo).")

    @Option(help: "Number of hidden layers.") var depth: Int = 3
    @Option(help: "Activation.") var activation: String = "relu"
    @Option(help: "Weight variance C_W.") var weightVariance: Double = 2
    @Option(help: "Bias variance C_b.") var biasVariance: Double = 0.1
    @Option(help: "Seed of the stratified train/test split.") var seed: UInt64 = 0
    @Option(help: "Directory for the .npy outputs.") var out: String = "out/digits"
    @Option(help: "Directory with MNIST IDX files to use instead of the digits (train part, first --limit images).") var mnist: String?
    @Option(help: "Use at most this many examples (MNIST).") var limit: Int = 3000

    func run() throws {
        guard depth >= 1 else { throw OverparamError.invalidArgument(name: "--depth", problem: "must be >= 1") }
        var demo = DigitsKernelDemo(depth: depth, activation: try Activation(parsing: activation), weightVariance: weightVariance, biasVariance: biasVariance)
        demo.seed = seed
        var data = try Digits.load()
        if let mnist {
            let m = try MNIST.load(directory: mnist)
            data = m.subset(Array(0..<min(limit, m.count)))
            demo.architecture.inputDimension = m.inputs.cols
        }
        print("Data: \(data.name), \(data.count) examples, \(data.inputs.cols) features, \(data.classCount) classes")
        print("Network: \(demo.architecture.depth) hidden layers, \(demo.architecture.activation), C_W = \(weightVariance), C_b = \(biasVariance), NTK parameterization (infinite width)")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let s = try demo.run(data: data)
        print("Split: \(s.trainCount) train / \(s.testCount) test (stratified, seed \(seed)); inputs centred and projected to |x|^2 = d")
        print("")
        print("                         test accuracy   test MSE     kernel condition number")
        print("  NNGP posterior mean    \(String(format: "%6.2f %%", 100 * s.gpAccuracy))        \(String(format: "%.5f", s.gpMSE))      \(fmt(s.nngpCondition))")
        print("  NTK flow at t = inf    \(String(format: "%6.2f %%", 100 * s.ntkAccuracy))        \(String(format: "%.5f", s.ntkMSE))      \(fmt(s.ntkCondition))")
        print("")
        print("Timings: kernels \(String(format: "%.3f", s.kernelSeconds)) s, predictions (Cholesky + eigendecomposition) \(String(format: "%.3f", s.predictSeconds)) s")
        for (name, m) in s.outputs.sorted(by: { $0.key < $1.key }) {
            try save(m, (out as NSString).appendingPathComponent(name + ".npy"), flag: "--out")
        }
        print("Wrote \(s.outputs.count) arrays (.npy) to \(out)/: \(s.outputs.keys.sorted().joined(separator: ", "))")
    }
}
