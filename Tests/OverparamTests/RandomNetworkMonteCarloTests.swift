import Foundation
import Testing
@testable import Overparam

// The Monte-Carlo engine over random networks: determinism, thread-count independence, the NNGP variance, and the
// cumulant estimators with their jackknife standard errors.

@Suite("RandomNetworkMonteCarlo", .serialized)
struct RandomNetworkMonteCarloTests {
    static let arch = Architecture(inputDimension: 3, hiddenWidths: [16, 12], activation: .tanh, outputDimension: 2,
                                   weightVariance: 1.5, biasVariance: 0.1, hasBias: true, parameterization: .hanin)
    static let inputs = Matrix([[0.5, -1.0, 0.3], [1.2, 0.4, -0.7]])

    @Test("deterministic in the seed and independent of the thread count; network i is Network(seed: s_i)")
    func determinism() throws {
        let mc = try RandomNetworkMonteCarlo(Self.arch, inputs: Self.inputs, networks: 300, seed: 5, recordLayers: [1, 2])
        let (a, b) = try withThreadCountLock {
            let before = Parallel.threadCount
            defer { Parallel.setThreadCount(before) }
            Parallel.setThreadCount(1)
            let a = try mc.run()
            Parallel.setThreadCount(2)
            return (a, try mc.run())
        }
        #expect(a.outputs == b.outputs)
        #expect(a.preactivations == b.preactivations)
        let c = try RandomNetworkMonteCarlo(Self.arch, inputs: Self.inputs, networks: 300, seed: 6).run()
        #expect(a.outputs != c.outputs)
        // Network 137 reproduced through the package's batched (BLAS) forward pass.
        let net = try Network(Self.arch, seed: RandomNetworkMonteCarlo.networkSeed(5, 137))
        let pass = try net.forward(Self.inputs)
        for inp in 0..<2 {
            for k in 0..<2 {
                let v = a.outputs[(137 * 2 + inp) * 2 + k]
                #expect(abs(v - pass.outputs[inp, k]) < 1e-12)
            }
            let z1 = try a.layer(1, input: inp, network: 137)
            for (j, v) in z1.enumerated() { #expect(abs(v - pass.preactivations[0][inp, j]) < 1e-12) }
        }
        let z2 = try a.preactivation(layer: 2, input: 1, neuron: 3)
        #expect(z2.count == 300 && abs(z2[137] - pass.preactivations[1][1, 3]) < 1e-12)
        #expect(throws: OverparamError.self) { try a.preactivation(layer: 3, input: 0, neuron: 0) }
    }

    @Test("a wide tanh net's output variance is the infinite-width NNGP within 5 SE")
    func nngpVariance() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [128, 128], activation: .tanh, weightVariance: 1.5,
                                biasVariance: 0.1, hasBias: true, parameterization: .hanin)
        let x = [0.5, -1.0, 0.3]
        let s = try RandomNetworkMonteCarlo(arch, inputs: Matrix([x]), networks: 3000, seed: 9).run()
        let est = try SampleCumulants(s.output(input: 0))
        let k = try DepthAsymptotics(activation: .tanh, weightVariance: 1.5, biasVariance: 0.1).profile(x, x, depth: 2).variances[2]
        let nngp = try InfiniteWidthKernel(arch)(Matrix([x])).nngp[0, 0]
        print("NNGP \(k) (InfiniteWidthKernel \(nngp)); MC variance \(est.variance); mean \(est.mean)")
        #expect(abs(k - nngp) < 1e-10 * k)
        #expect(est.variance.zScore(k) < 5)
        #expect(est.mean.zScore(0) < 5)
    }

    @Test("k-statistics: Gaussian kappa_3 = kappa_4 = 0, exponential kappa_n = (n - 1)!, within 5 SE")
    func cumulantEstimators() throws {
        var rng = Xoshiro256StarStar(seed: 3)
        let g = try SampleCumulants((0..<200_000).map { _ in 2 + 3 * rng.normal() })
        print("Gaussian: \(g)")
        #expect(g.mean.zScore(2) < 5 && g.variance.zScore(9) < 5)
        #expect(g.thirdCumulant.zScore(0) < 5 && g.fourthCumulant.zScore(0) < 5 && g.excessKurtosis.zScore(0) < 5)
        // Jackknife SE against the Gaussian theory: SE(k4) ~ sqrt(24 / n) sigma^4.
        let theory = (24.0 / 200_000).squareRoot() * 81
        #expect(abs(g.fourthCumulant.standardError / theory - 1) < 0.1)
        let e = try SampleCumulants((0..<200_000).map { _ in -log(rng.uniformPositive()) })
        print("Exponential: \(e)")
        #expect(e.mean.zScore(1) < 5 && e.variance.zScore(1) < 5)
        #expect(e.thirdCumulant.zScore(2) < 5 && e.fourthCumulant.zScore(6) < 5 && e.excessKurtosis.zScore(6) < 5)
        // k-statistics are unbiased: exact small-sample check against the definition on 6 values.
        let v = [0.3, -1.2, 2.5, 0.7, 4.1, -0.9]
        let s = try SampleCumulants(v)
        let n = 6.0, mu = v.reduce(0, +) / n
        let m2 = v.reduce(0) { $0 + pow($1 - mu, 2) } / n, m4 = v.reduce(0) { $0 + pow($1 - mu, 4) } / n
        let k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
        #expect(abs(s.fourthCumulant.value - k4) < 1e-12 * abs(k4))
        #expect(abs(s.variance.value - m2 * n / (n - 1)) < 1e-13)
    }
}
