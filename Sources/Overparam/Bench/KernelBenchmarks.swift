import Foundation

/// One benchmark measurement.
public struct BenchmarkResult: Sendable {
    public var workload: String
    public var seconds: Double
    /// Achieved GFLOP/s where the flop count is well defined (nil otherwise).
    public var gflops: Double?
    public var note: String
}

/// The `overparam bench kernels` workloads (issue acceptance settings), each timed as the best of `repeats` runs.
public enum KernelBenchmarks {
    public static let workloads = ["dgemm-peak", "dsyevd-5000", "nngp-ntk-analytic", "ntk-empirical", "predict-5000"]

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

    static func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        var bestTime = Double.infinity
        for _ in 0..<max(1, repeats) { bestTime = min(bestTime, seconds(try clock.measure(body))) }
        return bestTime
    }

    /// Run one workload by name.
    public static func run(_ name: String, repeats: Int = 3, seed: UInt64 = 0) throws -> BenchmarkResult {
        var rng = Xoshiro256StarStar(seed: seed)
        switch name {
        case "dgemm-peak":
            let n = 2000
            let a = Matrix.randomNormal(rows: n, cols: n, using: &rng), b = Matrix.randomNormal(rows: n, cols: n, using: &rng)
            var c = Matrix(rows: n, cols: n)
            let t = best(repeats) { Matrix.gemm(a, .none, b, .none, into: &c) }
            return BenchmarkResult(workload: name, seconds: t, gflops: 2 * pow(Double(n), 3) / t / 1e9, note: "2000x2000 dgemm")
        case "dsyevd-5000":
            let n = 5000
            // A full-rank SPD matrix with a spread spectrum (a low-rank one deflates and solves faster).
            var a = Matrix.randomNormal(rows: n, cols: n, using: &rng).gram(alpha: 1 / Double(n))
            a.addToDiagonal(1e-3)
            let t = try best(1) { _ = try SymmetricEigendecomposition(a) }
            return BenchmarkResult(workload: name, seconds: t, gflops: nil, note: "one 5000x5000 dsyevd with vectors")
        case "nngp-ntk-analytic":
            let x = Matrix.randomNormal(rows: 2000, cols: 100, using: &rng)
            let k = try InfiniteWidthKernel(Architecture(inputDimension: 100, depth: 3, width: 512, weightVariance: 2, biasVariance: 0.1))
            let t = try best(repeats) { _ = try k(x) }
            return BenchmarkResult(workload: name, seconds: t, gflops: nil, note: "n=2000, d=100, relu, L=3, C_W=2, C_b=0.1")
        case "ntk-empirical":
            let x = Matrix.randomNormal(rows: 1000, cols: 100, using: &rng)
            let arch = Architecture(inputDimension: 100, depth: 3, width: 1024, weightVariance: 2, biasVariance: 0.1)
            let net = try Network(arch, seed: seed)
            let t = try best(repeats) { _ = try EmpiricalNTK.compute(net, x) }
            return BenchmarkResult(workload: name, seconds: t, gflops: EmpiricalNTK.flopCount(arch, n: 1000) / t / 1e9,
                                   note: "n=1000, width 1024, L=3, structured")
        case "predict-5000":
            let xTrain = Matrix.randomNormal(rows: 5000, cols: 100, using: &rng)
            let xTest = Matrix.randomNormal(rows: 500, cols: 100, using: &rng)
            let y = Matrix.randomNormal(rows: 5000, cols: 1, using: &rng)
            let k = try InfiniteWidthKernel(Architecture(inputDimension: 100, depth: 3, width: 512, weightVariance: 2, biasVariance: 0.1))
            var phases = [Double]()
            let clock = ContinuousClock()
            let t = try best(1) {
                var ktt: KernelPair!, kst: KernelPair!, kss: KernelPair!, flow: KernelGradientFlow!
                phases = [seconds(try clock.measure { ktt = try k(xTrain); kst = try k(xTest, xTrain); kss = try k(xTest) })]
                let reg = 1e-4 * ktt.ntk.trace / 5000
                phases.append(seconds(try clock.measure { flow = try KernelGradientFlow(trainKernel: ktt.ntk, diagonalRegularizer: reg) }))
                phases.append(seconds(try clock.measure {
                    _ = try flow.ensemble(at: [.flow(10), .infinity], targets: y, testTrainKernel: kst.ntk, nngpTrainTrain: ktt.nngp,
                                          nngpTestTrain: kst.nngp, nngpTestTest: kss.nngp)
                }))
            }
            return BenchmarkResult(workload: name, seconds: t, gflops: nil,
                                   note: "5000 train / 500 test, mean+cov at t=10 and inf (kernels \(String(format: "%.2f", phases[0])) s, eigendecomposition \(String(format: "%.2f", phases[1])) s, predictions \(String(format: "%.2f", phases[2])) s)")
        default:
            throw OverparamError.invalidArgument(name: "workload", problem: "unknown workload '\(name)'; use one of \(workloads.joined(separator: ", "))")
        }
    }
}
