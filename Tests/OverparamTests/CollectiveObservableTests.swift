import Foundation
import Testing
@testable import Overparam

// Seed 004 sec. 3.3.1 (the Markov chain of collective observables), Theorem 3.3.3 and eq. 3.4.2.

@Suite("Collective observables and the perturbative expansion")
struct CollectiveObservableTests {
    @Test("Jackknife central moments of a standard normal sample: mu2 = 1, mu3 = 0, mu4 = 3 within 5 SE")
    func jackknifeNormal() throws {
        var rng = Xoshiro256StarStar(seed: 11)
        let x = rng.normals(200_000)
        let m = try Jackknife.centralMoments(x)
        #expect(m.second.zScore(1) < 5, "\(m.second)")
        #expect(m.third.zScore(0) < 5, "\(m.third)")
        #expect(m.fourth.zScore(3) < 5, "\(m.fourth)")
        // SE of the sample variance of N(0,1) is sqrt(2 / M).
        #expect(abs(m.second.standardError / (2.0 / 200_000).squareRoot() - 1) < 0.05)
    }

    @Test("The single-input chain has the law of whole sampled networks (ReLU with biases and tanh)",
          arguments: [("relu", 2.0, 0.1), ("tanh", 1.5, 0.0)])
    func chainMatchesNetworks(_ name: String, _ cw: Double, _ cb: Double) throws {
        let act = try Activation(parsing: name)
        let arch = Architecture(inputDimension: 3, hiddenWidths: [12, 10], activation: act, weightVariance: cw, biasVariance: cb,
                                hasBias: cb > 0, parameterization: .hanin)
        let x = [0.7, -1.1, 0.4]
        let full = try RandomNetworkMonteCarlo(arch, inputs: Matrix([x]), networks: 40_000, seed: 5).run()
        let mc = try SampleCumulants(full.output(input: 0))
        let chain = try SingleInputChain(arch, input: x).run(networks: 200_000, seed: 6)
        let khat = try chain.conditionalVariance(layer: 2)
        // Output variance = E K-hat^(L); output fourth cumulant = 3 Var K-hat^(L).
        let mean = try Jackknife.ofMeans([khat]) { $0[0] }
        let k4 = try Jackknife.ofMeans([khat, khat.map { $0 * $0 }]) { 3 * ($0[1] - $0[0] * $0[0]) }
        let zVar = abs(mc.variance.value - mean.value) / (mc.variance.standardError * mc.variance.standardError + mean.standardError * mean.standardError).squareRoot()
        let zK4 = abs(mc.fourthCumulant.value - k4.value) / (mc.fourthCumulant.standardError * mc.fourthCumulant.standardError + k4.standardError * k4.standardError).squareRoot()
        #expect(zVar < 5, "variance: networks \(mc.variance), chain \(mean)")
        #expect(zK4 < 5, "fourth cumulant: networks \(mc.fourthCumulant), chain \(k4)")
        #expect(mc.fourthCumulant.value > 5 * mc.fourthCumulant.standardError, "the check must see a nonzero fourth cumulant")
    }

    @Test("Layer 1: O_{z^2} is a mean of N i.i.d. K0 chi^2_1, so mu2 = 2K^2/N, mu3 = 8K^3/N^2, mu4 = 12K^4/N^2 + 48K^4/N^3")
    func firstLayerExact() throws {
        let n = 8, k0 = 1.3
        let chain = try SingleInputChain(activation: .relu, weightVariance: 2, widths: [n, n], inputVariance: k0)
        let s = try chain.run(networks: 400_000, seed: 9, observables: [.square])
        let m = try CollectiveMoments(try s.observable(0, layer: 1))
        let nn = Double(n)
        #expect(m.second.zScore(2 * k0 * k0 / nn) < 5, "\(m.second)")
        #expect(m.third.zScore(8 * pow(k0, 3) / (nn * nn)) < 5, "\(m.third)")
        #expect(m.fourth.zScore(12 * pow(k0, 4) / (nn * nn) + 48 * pow(k0, 4) / (nn * nn * nn)) < 5, "\(m.fourth)")
    }

    @Test("Samples do not depend on the thread count")
    func threadIndependence() throws {
        let chain = try SingleInputChain(activation: .tanh, weightVariance: 1, widths: [5, 7], inputVariance: 1)
        let a = try chain.run(networks: 3000, seed: 1, observables: [.absoluteValue])
        let b = try withThreadCountLock {
            let saved = Parallel.threadCount
            defer { Parallel.setThreadCount(saved) }
            Parallel.setThreadCount(1)
            return try chain.run(networks: 3000, seed: 1, observables: [.absoluteValue])
        }
        #expect(try a.conditionalVariance(layer: 2) == b.conditionalVariance(layer: 2))
        #expect(try a.observable(0, layer: 2) == b.observable(0, layer: 2))
    }

    @Test("Bilaplacian means satisfy the heat equation: d^2/dG^2 E_G[f] = E_G[(sum d^2)^2 f] / 4")
    func heatEquation() {
        for f in PerturbativeObservable.allCases {
            for g in [0.3, 1.0, 2.5] {
                let h = 1e-3 * g
                let d2 = (f.gaussianMean(variance: g + h) - 2 * f.gaussianMean(variance: g) + f.gaussianMean(variance: g - h)) / (h * h)
                #expect(abs(d2 - f.bilaplacianMean(variance: g) / 4) < 1e-5 * max(1, abs(d2)), "\(f) at G = \(g)")
            }
        }
    }

    @Test("Eq. 3.4.2 for ReLU (C_W = 2): the z^4 residual is 3 K^2 ((1 + 5/N)^L - 1 - 5L/N) with the leading-order kappa_4")
    func reluResidualExact() throws {
        let n = 24, depth = 3, k0 = 1.0
        let chain = try SingleInputChain(activation: .relu, weightVariance: 2, widths: [Int](repeating: n, count: depth), inputVariance: k0)
        let s = try chain.run(networks: 300_000, seed: 3)
        let lead = try FourthCumulant(activation: .relu, weightVariance: 2).leadingOrder(inputVariance: k0, widths: chain.widths)
        let r = try PerturbativeCorrection.residuals(.fourthPower, conditionalVariances: s.conditionalVariance(layer: depth), kappa4: lead.kappa4[depth])
        let exact = 3 * k0 * k0 * (pow(1 + 5 / Double(n), Double(depth)) - 1 - 5 * Double(depth) / Double(n))
        #expect(r.corrected.zScore(exact) < 5, "corrected \(r.corrected) vs exact \(exact)")
        #expect(r.uncorrected.zScore(3 * k0 * k0 * (pow(1 + 5 / Double(n), Double(depth)) - 1)) < 5)
        #expect(r.corrected.value > 5 * r.corrected.standardError, "the residual must be resolved")
        #expect(abs(r.corrected.value) < abs(r.uncorrected.value) / 3)
    }

    @Test("Bad input gives typed errors")
    func badInput() {
        #expect(throws: OverparamError.self) { try SingleInputChain(activation: .relu, weightVariance: -1, widths: [4], inputVariance: 1) }
        #expect(throws: OverparamError.self) { try SingleInputChain(activation: .relu, weightVariance: 2, widths: [], inputVariance: 1) }
        #expect(throws: OverparamError.self) { try SingleInputChain(activation: .relu, weightVariance: 2, widths: [4], inputVariance: .nan) }
        #expect(throws: OverparamError.self) {
            try SingleInputChain(activation: .relu, weightVariance: 2, widths: [4], inputVariance: 1).run(networks: 0, seed: 0)
        }
        #expect(throws: OverparamError.self) { try Jackknife.centralMoments([1]) }
    }
}
