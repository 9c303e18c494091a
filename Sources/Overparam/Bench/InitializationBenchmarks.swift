import Foundation

/// The `overparam bench init` workloads (random networks at initialization, seed 004 ch. 3-4). Times are per step so
/// that the runner's rate column reads directly as a throughput:
/// - `mc-networks`: ``RandomNetworkMonteCarlo`` sampling 1000 networks of depth 3, width 256, ReLU (Hanin's
///   parameterization, C_W = 2, no biases, N_0 = 10) at one input, all cores; one step = one network (so steps/s is
///   networks per second).
/// - `regions-2d`: ``LinearRegions/plane(_:slice:nodalNeurons:sliverTolerance:)`` of eq. 4.0.1's network (depth 3,
///   width 32, N_0 = 2, C_W = 2, C_b = 1, seed 0) in the box [-32, 32]^2, which holds 95% of its regions: 5147 of the
///   5401 met by [-10^4, 10^4]^2 (3669 in [-4, 4]^2, 4910 in [-16, 16]^2; the far regions are the unbounded cells
///   between layer 1's lines, whose pairwise intersections reach |x| ~ 170); one step = one enumeration,
///   single-threaded.
/// - `regions-1d`: ``LinearRegions/segment(from:to:)`` of the same network along the box's diagonal
///   (-32, -32) -> (32, 32); one step = one segment.
public enum InitializationBenchmarks {
    public static let workloads = ["mc-networks", "regions-2d", "regions-1d"]

    /// The box half-width of `regions-2d` and `regions-1d`.
    public static let regionsHalfWidth = 32.0

    /// Eq. 4.0.1's network of the region workloads: depth 3, width 32, N_0 = 2, W ~ N(0, 2), b ~ N(0, 1).
    public static func regionsNetwork(seed: UInt64 = 0) throws -> LinearRegions {
        let arch = Architecture(inputDimension: 2, hiddenWidths: [32, 32, 32], activation: .relu, weightVariance: 2, biasVariance: 1,
                                parameterization: .hanin)
        return try LinearRegions(try Network(arch, seed: seed))
    }

    public static func run(_ name: String, repeats: Int = 3, seed: UInt64 = 0) throws -> BenchmarkResult {
        switch name {
        case "mc-networks":
            let m = 1000
            let arch = Architecture(inputDimension: 10, hiddenWidths: [256, 256, 256], activation: .relu, weightVariance: 2, biasVariance: 0,
                                    parameterization: .hanin)
            let x = SyntheticData.sphereInputs(1, dimension: 10, seed: seed)
            let mc = try RandomNetworkMonteCarlo(arch, inputs: x, networks: m, seed: seed)
            let t = try KernelBenchmarks.best(repeats) { _ = try mc.run() }
            return BenchmarkResult(workload: name, seconds: t / Double(m), gflops: nil,
                                   note: "per network: \(m) networks, depth 3, width 256, relu, N_0 = 10, 1 input (\(String(format: "%.3f", t)) s in all)")
        case "regions-2d":
            let r = try regionsNetwork(seed: seed)
            let box = LinearRegions.PlaneBox.square(halfWidth: regionsHalfWidth)
            var count = 0
            let t = try KernelBenchmarks.best(repeats) { count = try r.plane(box).regionCount }
            return BenchmarkResult(workload: name, seconds: t, gflops: nil,
                                   note: "per enumeration: depth 3, width 32, N_0 = 2, box [-32, 32]^2, \(count) regions")
        case "regions-1d":
            let r = try regionsNetwork(seed: seed)
            let h = regionsHalfWidth, inner = 100
            var count = 0
            let t = try KernelBenchmarks.best(repeats) {
                for _ in 0..<inner { count = try r.segment(from: [-h, -h], to: [h, h]).regionCount }
            }
            return BenchmarkResult(workload: name, seconds: t / Double(inner), gflops: nil,
                                   note: "per segment: same network, (-32, -32) -> (32, 32), \(count) regions")
        default:
            throw OverparamError.invalidArgument(name: "workload", problem: "unknown workload '\(name)'; use one of \(workloads.joined(separator: ", "))")
        }
    }
}
