import Foundation
import Testing
@testable import Overparam

// The deep linear network's output norm (seed 004 sec. 3.2 with the SEED-NOTES corrections): special functions, the
// one-layer density, the exact sampler, Monte Carlo over sampled `Network`s against the exact moments, the normal
// approximation, and the depth-independent covariance x.x'/N_0.

// MARK: - Helpers

/// Sample mean, variance, and the standard errors of both (the variance's from the sample fourth central moment:
/// Var(s^2) ~ (m4 - s^4) / M).
private struct SampleMoments {
    let mean: Double
    let variance: Double
    let meanSE: Double
    let varianceSE: Double

    init(_ x: [Double]) {
        let m = Double(x.count)
        let mu = x.reduce(0, +) / m
        var m2 = 0.0, m4 = 0.0
        for v in x {
            let d = (v - mu) * (v - mu)
            m2 += d
            m4 += d * d
        }
        let s2 = m2 / (m - 1)
        m4 /= m
        mean = mu
        variance = s2
        meanSE = (s2 / m).squareRoot()
        varianceSE = (Swift.max(m4 - s2 * s2, 0) / m).squareRoot()
    }
}

/// The standard normal CDF.
private func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

/// Kolmogorov-Smirnov distance of a sample from N(mean, variance).
private func ksDistance(_ x: [Double], mean: Double, variance: Double) -> Double {
    let s = x.sorted()
    let n = Double(s.count), sd = variance.squareRoot()
    var d = 0.0
    for (i, v) in s.enumerated() {
        let f = normalCDF((v - mean) / sd)
        d = Swift.max(d, Swift.max(Double(i + 1) / n - f, f - Double(i) / n))
    }
    return d
}

private let eulerGamma = 0.57721566490153286061
private let apery = 1.20205690315959428540   // zeta(3)
private let catalan = 0.91596559417721901505

// MARK: - Special functions

@Suite("DeepLinear special functions")
struct DeepLinearSpecialFunctionTests {
    @Test("digamma, trigamma and tetragamma at known values (relative error < 1e-13)")
    func knownValues() {
        let ln2 = log(2.0), pi2 = Double.pi * Double.pi
        let cases: [(Double, Double, String)] = [
            (SpecialFunctions.digamma(1), -eulerGamma, "psi(1)"),
            (SpecialFunctions.digamma(0.5), -eulerGamma - 2 * ln2, "psi(1/2)"),
            (SpecialFunctions.digamma(0.25), -eulerGamma - Double.pi / 2 - 3 * ln2, "psi(1/4)"),
            (SpecialFunctions.digamma(2), 1 - eulerGamma, "psi(2)"),
            (SpecialFunctions.digamma(10), 7129.0 / 2520.0 - eulerGamma, "psi(10)"),
            (SpecialFunctions.digamma(1.5), 2 - eulerGamma - 2 * ln2, "psi(3/2)"),
            (SpecialFunctions.trigamma(1), pi2 / 6, "psi'(1)"),
            (SpecialFunctions.trigamma(0.5), pi2 / 2, "psi'(1/2)"),
            (SpecialFunctions.trigamma(0.25), pi2 + 8 * catalan, "psi'(1/4)"),
            (SpecialFunctions.trigamma(2), pi2 / 6 - 1, "psi'(2)"),
            (SpecialFunctions.trigamma(1.5), pi2 / 2 - 4, "psi'(3/2)"),
            (SpecialFunctions.tetragamma(1), -2 * apery, "psi''(1)"),
            (SpecialFunctions.tetragamma(0.5), -14 * apery, "psi''(1/2)"),
            (SpecialFunctions.tetragamma(3), -2 * apery + 2 + 2.0 / 8.0, "psi''(3)"),
        ]
        for (got, want, name) in cases {
            #expect(abs(got - want) <= 1e-13 * abs(want), "\(name) = \(got), expected \(want)")
        }
    }

    @Test("recurrences hold across the shift threshold, and the large-x asymptotics")
    func recurrences() {
        var x = 0.5
        while x < 40 {
            let r0 = SpecialFunctions.digamma(x + 1) - SpecialFunctions.digamma(x) - 1 / x
            let r1 = SpecialFunctions.trigamma(x) - SpecialFunctions.trigamma(x + 1) - 1 / (x * x)
            let r2 = SpecialFunctions.tetragamma(x + 1) - SpecialFunctions.tetragamma(x) - 2 / (x * x * x)
            #expect(abs(r0) <= 1e-14 * Swift.max(1, abs(SpecialFunctions.digamma(x + 1))), "psi recurrence at \(x): \(r0)")
            #expect(abs(r1) <= 1e-14 * SpecialFunctions.trigamma(x), "psi' recurrence at \(x): \(r1)")
            #expect(abs(r2) <= 1e-13 * abs(SpecialFunctions.tetragamma(x)), "psi'' recurrence at \(x): \(r2)")
            x += 0.37
        }
        // psi(x) - ln x -> -1/(2x) - 1/(12 x^2); psi'(x) -> 1/x + 1/(2 x^2) + 1/(6 x^3).
        let big = 1e6
        #expect(abs(SpecialFunctions.digamma(big) - (log(big) - 0.5 / big - 1 / (12 * big * big))) < 1e-15 * log(big))
        let tri = 1 / big + 0.5 / (big * big) + 1 / (6 * big * big * big)
        #expect(abs(SpecialFunctions.trigamma(big) - tri) < 1e-15 / big)
        // The derivative chain: psi' is the derivative of psi (central difference).
        let h = 1e-5
        for x in [0.7, 1.3, 4.0, 20.0] {
            let d = (SpecialFunctions.digamma(x + h) - SpecialFunctions.digamma(x - h)) / (2 * h)
            #expect(abs(d - SpecialFunctions.trigamma(x)) < 1e-8 * SpecialFunctions.trigamma(x))
        }
    }
}

// MARK: - The law of log ||z||

@Suite("DeepLinear norm law")
struct DeepLinearLawTests {
    @Test("the one-layer density integrates to 1 with the digamma/trigamma mean and variance")
    func layerDensity() {
        for k in [1, 2, 3, 8, 33, 200] {
            // Trapezoid rule on a wide grid (the density decays like exp(k y) below and exp(-k e^(2y)/2) above).
            let lo = -40.0 / Double(k) - 8, hi = 4.0
            let n = 400_000
            let h = (hi - lo) / Double(n)
            var m0 = 0.0, m1 = 0.0, m2 = 0.0
            for i in 0...n {
                let y = lo + Double(i) * h
                let w = (i == 0 || i == n) ? 0.5 * h : h
                let f = DeepLinearNorm.layerTermDensity(y, degreesOfFreedom: k)
                m0 += w * f
                m1 += w * f * y
                m2 += w * f * y * y
            }
            let mean = DeepLinearNorm.layerTermMean(degreesOfFreedom: k)
            let variance = DeepLinearNorm.layerTermVariance(degreesOfFreedom: k)
            #expect(abs(m0 - 1) < 1e-9, "k = \(k): mass \(m0)")
            #expect(abs(m1 - mean) < 1e-8, "k = \(k): mean \(m1) vs \(mean)")
            #expect(abs(m2 - m1 * m1 - variance) < 1e-8, "k = \(k): variance \(m2 - m1 * m1) vs \(variance)")
        }
        // SEED-NOTES: mean -1/(2N) + O(N^-2), variance 1/(2N) + O(N^-2) (the seed prints 1/(4N)).
        let n = 1000
        #expect(abs(DeepLinearNorm.layerTermMean(degreesOfFreedom: n) * 2 * Double(n) + 1) < 2.0 / Double(n))
        #expect(abs(DeepLinearNorm.layerTermVariance(degreesOfFreedom: n) * 2 * Double(n) - 1) < 2.0 / Double(n))
    }

    @Test("exact sampler (squared normals and Marsaglia-Tsang) matches the exact mean and variance")
    func exactSampler() throws {
        let m = 40_000
        for (hidden, out) in [([4, 8, 6], 1), ([100, 300], 3), ([16, 16, 16, 16], 1)] {
            let law = try DeepLinearNorm(inputDimension: 5, hiddenWidths: hidden, outputDimension: out)
            let s = SampleMoments(try law.exactSample(count: m, seed: 11))
            #expect(abs(s.mean - law.mean) < 5 * s.meanSE, "\(hidden), out \(out): mean \(s.mean) vs \(law.mean) (SE \(s.meanSE))")
            #expect(abs(s.variance - law.variance) < 5 * s.varianceSE,
                    "\(hidden), out \(out): variance \(s.variance) vs \(law.variance) (SE \(s.varianceSE))")
        }
        // With an input, the draws are shifted by the normalization log(||x|| sqrt(N_{L+1}/N_0)).
        let law = try DeepLinearNorm(inputDimension: 4, hiddenWidths: [8], outputDimension: 3)
        let x = [1.0, -2.0, 0.5, 3.0]
        let a = try law.exactSample(count: 10, seed: 3)
        let b = try law.exactSample(count: 10, seed: 3, input: x)
        let shift = 0.5 * log(x.reduce(0) { $0 + $1 * $1 } * 3 / 4)
        for (u, v) in zip(a, b) { #expect(abs(v - u - shift) < 1e-12) }
    }

    /// Monte Carlo over sampled networks: the exact normalization ||z||^2 = (||x||^2 N_{L+1}/N_0) prod chi^2_{N_l}/N_l.
    @Test("sampled deep linear Networks: mean and variance of log ||z|| within 5 SE of the exact law",
          arguments: [
            (3, [4, 8, 6], 1),
            (5, [4, 4, 4, 4, 4, 4], 3),
            (2, [16, 12], 1),
            (6, [8, 16, 8, 16, 8], 3),
          ])
    func monteCarlo(_ n0: Int, _ hidden: [Int], _ out: Int) throws {
        let law = try DeepLinearNorm(inputDimension: n0, hiddenWidths: hidden, outputDimension: out)
        let x: [Double] = (0..<n0).map { i in
            let sign: Double = i % 2 == 0 ? 1 : -1
            return 0.3 + sign * 0.7 * Double(i)
        }
        let samples = try law.monteCarlo(networks: 20_000, seed: UInt64(7 + n0), input: x)
        let offset = law.logNormalization(input: x)
        let s = SampleMoments(samples.map { $0 - offset })
        let tag = "N0 = \(n0), hidden \(hidden), out \(out)"
        #expect(abs(s.mean - law.mean) < 5 * s.meanSE, "\(tag): mean \(s.mean) vs exact \(law.mean) (SE \(s.meanSE))")
        #expect(abs(s.variance - law.variance) < 5 * s.varianceSE,
                "\(tag): variance \(s.variance) vs exact \(law.variance) (SE \(s.varianceSE))")
        // At narrow widths the same test has the power to reject the printed law N(-beta/4, beta/4) for the hidden
        // layers (with the exact readout term).
        guard hidden.allSatisfy({ $0 <= 8 }) else { return }
        let printedMean = -0.25 * law.beta + DeepLinearNorm.layerTermMean(degreesOfFreedom: out)
        let printedVariance = 0.25 * law.beta + DeepLinearNorm.layerTermVariance(degreesOfFreedom: out)
        #expect(abs(s.variance - printedVariance) > 5 * s.varianceSE || abs(s.mean - printedMean) > 5 * s.meanSE,
                "\(tag): the misprinted N(-beta/4, beta/4) is not rejected")
        if out > 1 {
            // Dropping sqrt(N_{L+1}) from the normalization shifts the mean by (1/2) log N_{L+1}: rejected.
            #expect(abs(s.mean + 0.5 * log(Double(out)) - law.mean) > 5 * s.meanSE)
        }
    }

    @Test("the sampled networks are z = W z / sqrt(fan-in), W ~ N(0, 1), no biases (the .hanin identity network)")
    func networkConvention() throws {
        let law = try DeepLinearNorm(inputDimension: 3, hiddenWidths: [4, 5], outputDimension: 2)
        let x = Matrix([[0.4, -1.0, 2.0]])
        let seeds = DeepLinearNorm.networkSeeds(1, seed: 99)
        let net = try Network(law.architecture, seed: seeds[0])
        var z = x.row(0)
        for l in 1...3 {
            let w = net.weight(layer: l)
            let fanIn = Double(w.cols)
            z = (0..<w.rows).map { i in (0..<w.cols).reduce(0) { $0 + w[i, $1] * z[$1] } / fanIn.squareRoot() }
        }
        let sampled = try law.sampleOutputs(networks: 1, seed: 99, inputs: x)[0]
        #expect(relativeError(sampled.row(0), z) < 1e-13)
        #expect(law.architecture.parameterCount == 3 * 4 + 4 * 5 + 5 * 2)
    }

    @Test("the normal approximation N(-beta/2, beta/2) improves as N grows at fixed L/N = 1/2")
    func normalApproximation() throws {
        var meanErrors = [Double](), varianceErrors = [Double](), skews = [Double]()
        for n in [4, 8, 16, 32, 64, 128] {
            let law = try DeepLinearNorm(inputDimension: 10, hiddenWidths: [Int](repeating: n, count: n / 2), outputDimension: 1)
            #expect(abs(law.beta - 0.5) < 1e-15)
            meanErrors.append(abs(law.hiddenMean + 0.5 * law.beta))
            varianceErrors.append(abs(law.hiddenVariance - 0.5 * law.beta))
            skews.append(abs(law.hiddenSkewness))
            // The approximation keeps the readout term exact: it differs from the exact law only through the hidden part.
            let approx = law.normalApproximation
            #expect(abs((law.mean - approx.mean) - (law.hiddenMean + 0.5 * law.beta)) < 1e-13)
            #expect(abs((law.variance - approx.variance) - (law.hiddenVariance - 0.5 * law.beta)) < 1e-13)
        }
        // Each error is O(L / N^2) = O(1/N) at fixed L/N: halves when N doubles.
        for errors in [meanErrors, varianceErrors, skews] {
            for i in 1..<errors.count {
                let ratio = errors[i - 1] / errors[i]
                #expect(ratio > 1.7 && ratio < 2.3, "ratio \(ratio) in \(errors)")
            }
        }
        // At the level of the distribution: Kolmogorov-Smirnov distance of exact draws from the normal approximation.
        let m = 40_000
        let small = try DeepLinearNorm(inputDimension: 10, hiddenWidths: [4, 4], outputDimension: 1)
        let large = try DeepLinearNorm(inputDimension: 10, hiddenWidths: [Int](repeating: 64, count: 32), outputDimension: 1)
        func hiddenDraws(_ law: DeepLinearNorm, seed: UInt64) throws -> [Double] {
            // The readout term is exact in both laws; draw the hidden part alone.
            let hiddenOnly = try DeepLinearNorm(inputDimension: law.inputDimension, hiddenWidths: Array(law.hiddenWidths.dropLast()),
                                                outputDimension: law.hiddenWidths.last!)
            return try hiddenOnly.exactSample(count: m, seed: seed)
        }
        let ksSmall = ksDistance(try hiddenDraws(small, seed: 1), mean: -0.5 * small.beta, variance: 0.5 * small.beta)
        let ksLarge = ksDistance(try hiddenDraws(large, seed: 2), mean: -0.5 * large.beta, variance: 0.5 * large.beta)
        #expect(ksSmall > 0.025, "KS at N = 4: \(ksSmall)")
        #expect(ksLarge < 0.015, "KS at N = 64: \(ksLarge)")
    }

    @Test("E[z_i(x) z_i(x')] = x.x'/N_0 at every depth (Monte Carlo within 5 SE)")
    func covariance() throws {
        let x = [1.0, 0.5, -0.3, 2.0], x2 = [0.2, 1.5, 1.0, 0.7]
        let inputs = Matrix([x, x2])
        for hidden in [[6], [4, 4, 4, 4, 4]] {
            let law = try DeepLinearNorm(inputDimension: 4, hiddenWidths: hidden, outputDimension: 3)
            let outs = try law.sampleOutputs(networks: 20_000, seed: 5, inputs: inputs)
            // Per network: the average over the 3 outputs of z_i(x) z_i(x') (an unbiased estimate of the covariance).
            let products = outs.map { z in (0..<3).reduce(0.0) { $0 + z[0, $1] * z[1, $1] } / 3 }
            let s = SampleMoments(products)
            let want = try law.gaussianProcessCovariance(x, x2)
            #expect(abs(want - dot(x, x2) / 4) < 1e-15)
            #expect(abs(s.mean - want) < 5 * s.meanSE, "hidden \(hidden): \(s.mean) vs \(want) (SE \(s.meanSE))")
        }
    }

    @Test("invalid widths and inputs throw one-line errors")
    func validation() throws {
        #expect(errorKind { _ = try DeepLinearNorm(inputDimension: 0, hiddenWidths: [3], outputDimension: 1) } == "invalidArgument")
        #expect(errorKind { _ = try DeepLinearNorm(inputDimension: 2, hiddenWidths: [], outputDimension: 1) } == "invalidArgument")
        #expect(errorKind { _ = try DeepLinearNorm(inputDimension: 2, hiddenWidths: [3, 0], outputDimension: 1) } == "invalidArgument")
        let law = try DeepLinearNorm(inputDimension: 2, hiddenWidths: [3], outputDimension: 1)
        #expect(errorKind { _ = try law.monteCarlo(networks: 3, seed: 0, input: [1, 2, 3]) } == "shapeMismatch")
        #expect(errorKind { _ = try law.monteCarlo(networks: 3, seed: 0, input: [0, 0]) } == "invalidArgument")
        #expect(errorKind { _ = try law.exactSample(count: 3, seed: 0, input: [.nan, 1]) } == "nonFinite")
    }
}
