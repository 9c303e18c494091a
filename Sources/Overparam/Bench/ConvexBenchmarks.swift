import Foundation

/// The `overparam bench convex` workloads: seed 002's 1-D task (sec. VII-A; SEED-NOTES sec. 3) at the seed's sizes,
/// x ~ U[-2 pi, 2 pi], y = cos 4x, 60,000 training samples, widths m^(l) = 1000 2^(L-l), tanh, input bias, l_{1,2}
/// regularizer (lambda = 1e-4 on every layer and the readout), float64.
///
/// - `adam-epoch-L2`: one epoch of Adam on Q (``ConvexTrainer`` with minibatches of 128, the experiments' full
///   preset; widths 2000, 1000) = 469 steps, each a forward and backward pass over the batch, the l_{1,2}
///   mini-norm subgradient and the Adam update of all 2,006,000 weights (the step of ``ConvexTrainer/train(_:inputs:targets:objective:optimizer:options:)``
///   without its record steps). Timed over `fractionSteps` steps after 5 warm-up steps and extrapolated to 469
///   (every step costs the same).
/// - `adam-epoch-L1`: the same for L = 1 (width 1000).
/// - `algorithm1-step-L2`: one step of Algorithm 1 (``ScaledSubgradientDescent``, full batch: the mini-norm
///   subgradient of Q itself), L = 2, on all 60,000 samples (7.2 GB peak resident), best of `repeats` after a warm-up step.
public enum ConvexBenchmarks {
    public static let workloads = ["adam-epoch-L1", "adam-epoch-L2", "algorithm1-step-L2"]
    /// Samples, batch size and steps per epoch of the seed's task.
    public static let samples = 60_000, batchSize = 128
    public static var stepsPerEpoch: Int { (samples + batchSize - 1) / batchSize }
    /// Steps timed per Adam repeat (a documented fraction of the epoch, extrapolated).
    public static let fractionSteps = 40

    static func problem(depth: Int, seed: UInt64) throws -> (net: DeepFeatureNetwork, x: Matrix, y: Matrix, objective: ConvexObjective) {
        var rng = Xoshiro256StarStar(seed: seed, stream: 0xC0B)
        let xs = (0..<samples).map { _ in -2 * Double.pi + 4 * Double.pi * rng.uniform() }
        let x = Matrix(column: xs), y = Matrix(column: xs.map { Foundation.cos(4 * $0) })
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: try DeepFeatureNetwork.seedWidths(depth: depth), seed: seed &+ 1)
        let reg = try MixedNormRegularizer.l12(layerWeights: [Double](repeating: 1e-4, count: depth), readoutWeight: 1e-4)
        return (net, x, y, ConvexObjective(regularizer: reg))
    }

    /// Run one workload.
    public static func run(_ name: String, repeats: Int = 3, seed: UInt64 = 0) throws -> BenchmarkResult {
        switch name {
        case "adam-epoch-L1", "adam-epoch-L2":
            let depth = name.hasSuffix("L1") ? 1 : 2
            var (net, x, y, objective) = try problem(depth: depth, seed: seed)
            var scales = [Double](repeating: Double(net.widths[depth]), count: net.layout.count)
            for l in 1...depth { for i in net.layout.weightRange(l) { scales[i] = Double(net.widths[l - 1]) } }
            var adam = Adam(learningRate: 1e-4, scales: scales)
            // The minibatch step of ConvexTrainer.train (batches without replacement from a shuffled order), without
            // its record steps' full-data passes.
            var rng = Xoshiro256StarStar(seed: seed, stream: 0xBA7C4)
            var order = Array(0..<samples)
            order.shuffle(using: &rng)
            var cursor = 0
            func steps(_ k: Int) throws {
                for _ in 0..<k {
                    if cursor + batchSize > samples { order.shuffle(using: &rng); cursor = 0 }
                    let idx = Array(order[cursor..<(cursor + batchSize)]); cursor += batchSize
                    let g = try objective.evaluate(net, inputs: x.rows(at: idx), targets: y.rows(at: idx)).subgradient
                    adam.step(&net.parameters, gradient: g)
                }
            }
            try steps(5)
            let t = try KernelBenchmarks.best(repeats) { try steps(fractionSteps) }
            guard net.parameters.allSatisfy({ $0.isFinite }) else { throw OverparamError.diverged("bench \(name): non-finite weights") }
            let perStep = t / Double(fractionSteps)
            return BenchmarkResult(workload: name, seconds: perStep * Double(stepsPerEpoch), gflops: nil,
                                   note: String(format: "L = %d, widths %@, %d samples, batch %d: %.2f ms/step x %d steps/epoch (best of %d x %d steps, extrapolated), %d threads",
                                                depth, net.widths.dropFirst().map(String.init).joined(separator: "-"), samples, batchSize,
                                                perStep * 1e3, stepsPerEpoch, repeats, fractionSteps, Parallel.threadCount))
        case "algorithm1-step-L2":
            // One full-batch step on all 60,000 samples (7.2 GB peak resident), after one warm-up step that
            // faults the pages in. (Extrapolating from two smaller N was dominated by timing noise: 12.8 s vs 32 s.)
            var (net, x, y, objective) = try problem(depth: 2, seed: seed)
            var gd = try ScaledSubgradientDescent(learningRate: 1e-9, layout: net.layout, regularizer: objective.regularizer)
            func step() throws {
                let v = try objective.evaluate(net, inputs: x, targets: y)
                gd.step(&net.parameters, gradient: v.subgradient)
            }
            try step()
            let t = try KernelBenchmarks.best(repeats) { try step() }
            guard net.parameters.allSatisfy({ $0.isFinite }) else { throw OverparamError.diverged("bench algorithm1-step: non-finite weights") }
            return BenchmarkResult(workload: name, seconds: t, gflops: nil,
                                   note: String(format: "L = 2, widths 2000-1000, full batch of %d samples (forward, backward, mini-norm subgradient, scaled step); best of %d after a warm-up step, %d threads",
                                                samples, repeats, Parallel.threadCount))
        default:
            throw OverparamError.invalidArgument(name: "workload", problem: "unknown workload '\(name)'; use one of \(workloads.joined(separator: ", "))")
        }
    }
}
