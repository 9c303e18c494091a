import Foundation

/// The `overparam bench nth` workloads (issue targets): K^(3) for n = 64 and K^(4) for n = 24 at width 512, depth 2,
/// tanh, seed 001's model (no biases, Huang-Yau scaling), inputs on the unit sphere in d = 10.
public enum HierarchyBenchmarks {
    public static let workloads = ["nth-k3-n64", "nth-k4-n24"]

    public static func run(_ name: String, repeats: Int = 3, seed: UInt64 = 0) throws -> BenchmarkResult {
        let (n, order): (Int, Int)
        switch name {
        case "nth-k3-n64": (n, order) = (64, 3)
        case "nth-k4-n24": (n, order) = (24, 4)
        default: throw OverparamError.invalidArgument(name: "workload", problem: "unknown workload '\(name)'; use one of \(workloads.joined(separator: ", "))")
        }
        let arch = Architecture(inputDimension: 10, hiddenWidths: [512, 512], activation: .tanh, weightVariance: 1, readoutWeightVariance: 1,
                                hasBias: false, parameterization: .huangYau)
        let nth = try NeuralTangentHierarchy(try Network(arch, seed: seed))
        let x = SyntheticData.sphereInputs(n, dimension: 10, seed: seed)
        let t = try KernelBenchmarks.best(repeats) { _ = try nth.kernels(x, order: order) }
        return BenchmarkResult(workload: name, seconds: t, gflops: nil, note: "K^(\(order)) (all \(order == 3 ? n * n * n : n * n * n * n) entries), n = \(n), width 512, depth 2, tanh")
    }
}
