import Foundation

/// The `overparam bench train` workloads: minibatch SGD steps through the library's own ``Trainer``.
///
/// Both workloads: n = 2000 inputs x ~ N(0, I_100), targets y ~ N(0, 1), float64, minibatches of B = 100 drawn
/// without replacement per epoch, loss (1/2B) sum_i (f(x_i) - y_i)^2, plain SGD with eta = 0.01, networks in the
/// standard parameterization with biases (W ~ N(0, 2 / fan-in), b ~ N(0, 0.1)), ReLU hidden layers, one output.
/// `bench/peers/train_loops.py` runs the same loops in NumPy, PyTorch and JAX.
///
/// One step = batch gather, forward pass, loss, backward pass, parameter update. The trainer also records the
/// full-data loss at step 0 and at the end (2 of 2000 forward passes over 2000 points, under 1 % of the time).
public enum TrainingBenchmarks {
    public static let workloads = ["sgd-two-layer", "sgd-depth3"]

    /// The architecture and number of timed steps of a workload.
    public static func setting(_ name: String) throws -> (architecture: Architecture, steps: Int) {
        switch name {
        case "sgd-two-layer":
            return (Architecture(inputDimension: 100, hiddenWidths: [1000], weightVariance: 2, biasVariance: 0.1, parameterization: .standard), 2000)
        case "sgd-depth3":
            return (Architecture(inputDimension: 100, hiddenWidths: [512, 512, 512], weightVariance: 2, biasVariance: 0.1, parameterization: .standard), 1000)
        default:
            throw OverparamError.invalidArgument(name: "workload", problem: "unknown workload '\(name)'; use one of \(workloads.joined(separator: ", "))")
        }
    }

    /// Run one workload; `seconds` is the best time per step over `repeats` runs (each after a 50-step warm-up).
    public static func run(_ name: String, repeats: Int = 3, seed: UInt64 = 0) throws -> BenchmarkResult {
        let (arch, steps) = try setting(name)
        var rng = Xoshiro256StarStar(seed: seed)
        let x = Matrix.randomNormal(rows: 2000, cols: 100, using: &rng)
        let y = Matrix.randomNormal(rows: 2000, cols: 1, using: &rng)
        let net = try Network(arch, seed: seed)
        func loop(_ count: Int) throws {
            var options = TrainingOptions()
            options.loss = MeanSquaredError(.halfMean)
            options.steps = count
            options.batchSize = 100
            options.recordEvery = count
            options.seed = seed
            let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: options)
            var sgd = GradientDescent(learningRate: 0.01)
            _ = try trainer.train(&sgd)
        }
        try loop(50)
        let total = try KernelBenchmarks.best(repeats) { try loop(steps) }
        let perStep = total / Double(steps)
        return BenchmarkResult(workload: name, seconds: perStep, gflops: nil,
                               note: String(format: "%.0f steps/s; widths %@, batch 100, %d steps", 1 / perStep,
                                            arch.layerWidths.map(String.init).joined(separator: "-"), steps))
    }
}
