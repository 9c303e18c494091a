import Foundation

/// Monte Carlo over random networks at initialization: M independent networks sampled from one ``Architecture``,
/// evaluated at a fixed batch of inputs, with the outputs z^(L+1) and optionally the pre-activations of chosen
/// layers (all neurons) collected per network.
///
/// Network i is `Network(architecture, seed: s_i)` with s_i = `Xoshiro256StarStar(seed: seed, stream: i).next()`,
/// so sample i depends only on (seed, i). Networks are processed in fixed chunks of `0..<M`
/// (``Parallel/forEachChunk(_:minChunk:_:)``, chunking a function of M only) and each network writes its own
/// slots, so the samples are bit-for-bit the same whatever the thread count.
///
/// Threading choice: the forward passes are plain Swift loops inside the chunks, never BLAS. The package rule is
/// that BLAS is never called inside a parallel chunk (OpenBLAS would start its own pool on top of ours); the widths
/// here are small (tens to a few hundred) and the work per network is dominated by drawing its Gaussian weights,
/// so a hand-written mat-vec costs little and keeps the rule without touching OpenBLAS's thread count.
public struct RandomNetworkMonteCarlo: Sendable {
    public let architecture: Architecture
    /// The inputs (n x d).
    public let inputs: Matrix
    /// M.
    public let networkCount: Int
    public let seed: UInt64
    /// Layers (1...L+1) whose pre-activations are kept; L+1 is the output and is always kept in ``outputs``.
    public let recordedLayers: [Int]

    public init(_ architecture: Architecture, inputs: Matrix, networks: Int, seed: UInt64, recordLayers: [Int] = []) throws {
        try architecture.validate()
        guard inputs.cols == architecture.inputDimension, inputs.rows >= 1 else {
            throw OverparamError.shapeMismatch("inputs are \(inputs.rows) x \(inputs.cols), the architecture takes d = \(architecture.inputDimension)")
        }
        guard networks >= 1 else { throw OverparamError.invalidArgument(name: "networks", problem: "must be >= 1 (got \(networks))") }
        for l in recordLayers where !(1...architecture.layerCount).contains(l) {
            throw OverparamError.invalidArgument(name: "recordLayers", problem: "layer \(l) is outside 1...\(architecture.layerCount)")
        }
        self.architecture = architecture
        self.inputs = inputs
        self.networkCount = networks
        self.seed = seed
        self.recordedLayers = Array(Set(recordLayers)).sorted()
    }

    /// The seed of network i.
    public static func networkSeed(_ seed: UInt64, _ i: Int) -> UInt64 {
        var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(i))
        return rng.next()
    }

    /// Sample the M networks and run them on the inputs.
    public func run() throws -> RandomNetworkSamples {
        let arch = architecture
        let widths = arch.layerWidths
        let n = inputs.rows, m = networkCount
        let kOut = arch.outputDimension
        let layers = recordedLayers
        // Manually allocated destinations (chunks write disjoint slots), copied into arrays at the end.
        let outBuf = UnsafeMutableBufferPointer<Double>.allocate(capacity: m * n * kOut)
        outBuf.initialize(repeating: 0)
        let recBufs = layers.map { l -> UnsafeMutableBufferPointer<Double> in
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: m * n * widths[l])
            b.initialize(repeating: 0)
            return b
        }
        defer { outBuf.deallocate(); for b in recBufs { b.deallocate() } }
        // Validate once outside the parallel region (Network.init only throws on an invalid architecture).
        _ = try Network(arch, seed: 0)
        let x = inputs.storage
        let d = arch.inputDimension
        let seed = self.seed
        let layerSlots = Dictionary(uniqueKeysWithValues: layers.enumerated().map { ($1, $0) })
        nonisolated(unsafe) let op = outBuf.baseAddress!
        nonisolated(unsafe) let rp = recBufs.map { $0.baseAddress! }
        Parallel.forEachChunk(m, minChunk: 16) { range in
            var cur = [Double](repeating: 0, count: widths.max()!)
            var next = cur
            for i in range {
                // swiftlint:disable:next force_try
                let net = try! Network(arch, seed: Self.networkSeed(seed, i))
                let p = net.parameters
                for a in 0..<n {
                    for j in 0..<d { cur[j] = x[a * d + j] }
                    for l in 1...arch.layerCount {
                        let s = net.scales[l - 1]
                        let fanIn = widths[l - 1], fanOut = widths[l]
                        let w0 = net.layout.weightOffsets[l - 1]
                        let b0 = net.layout.biasOffsets[l - 1]
                        for r in 0..<fanOut {
                            var acc = 0.0
                            let row = w0 + r * fanIn
                            for c in 0..<fanIn { acc += p[row + c] * cur[c] }
                            var z = s.a * acc
                            if arch.hasBias { z += s.beta * p[b0 + r] }
                            next[r] = z
                        }
                        if let slot = layerSlots[l] {
                            let base = (i * n + a) * fanOut
                            for r in 0..<fanOut { rp[slot][base + r] = next[r] }
                        }
                        if l == arch.layerCount {
                            let base = (i * n + a) * kOut
                            for r in 0..<kOut { op[base + r] = next[r] }
                        } else {
                            for r in 0..<fanOut { cur[r] = arch.activation(next[r]) }
                        }
                    }
                }
            }
        }
        return RandomNetworkSamples(networkCount: m, inputCount: n, widths: widths, outputs: Array(outBuf),
                                    recordedLayers: layers, preactivations: recBufs.map { Array($0) })
    }
}

/// The samples of a ``RandomNetworkMonteCarlo`` run. Layouts are [network][input][neuron], row-major.
public struct RandomNetworkSamples: Sendable {
    public let networkCount: Int
    public let inputCount: Int
    /// n_0, ..., n_{L+1}.
    public let widths: [Int]
    /// z^(L+1): M x n x n_{L+1}.
    public let outputs: [Double]
    public let recordedLayers: [Int]
    /// preactivations[j]: z^(recordedLayers[j]), M x n x n_l.
    public let preactivations: [[Double]]

    /// The M samples of output component `component` at input `input`.
    public func output(input: Int, component: Int = 0) -> [Double] {
        let k = widths[widths.count - 1]
        return (0..<networkCount).map { outputs[($0 * inputCount + input) * k + component] }
    }

    /// The M samples of z_neuron^(layer) at input `input` (the layer must have been recorded).
    public func preactivation(layer: Int, input: Int, neuron: Int) throws -> [Double] {
        guard let j = recordedLayers.firstIndex(of: layer) else {
            throw OverparamError.invalidArgument(name: "layer", problem: "layer \(layer) was not recorded (recorded: \(recordedLayers))")
        }
        let w = widths[layer]
        return (0..<networkCount).map { preactivations[j][($0 * inputCount + input) * w + neuron] }
    }

    /// All n_l neurons of `layer` at `input` for network i.
    public func layer(_ layer: Int, input: Int, network i: Int) throws -> ArraySlice<Double> {
        guard let j = recordedLayers.firstIndex(of: layer) else {
            throw OverparamError.invalidArgument(name: "layer", problem: "layer \(layer) was not recorded (recorded: \(recordedLayers))")
        }
        let w = widths[layer]
        let base = (i * inputCount + input) * w
        return preactivations[j][base..<(base + w)]
    }
}

/// An estimate with its standard error.
public struct MonteCarloEstimate: Sendable, Hashable, CustomStringConvertible {
    public var value: Double
    public var standardError: Double
    public init(value: Double, standardError: Double) { self.value = value; self.standardError = standardError }
    /// |value - target| in standard errors.
    public func zScore(_ target: Double) -> Double { Swift.abs(value - target) / standardError }
    public var description: String { "\(value) +- \(standardError)" }
}

/// Unbiased cumulant estimators (Fisher's k-statistics k1...k4) of a scalar sample, each with a delete-one
/// jackknife standard error (exact, computed in O(M) from leave-one-out power sums of the centred data).
/// Excess kurtosis is k4 / k2^2 (its jackknife SE as well).
public struct SampleCumulants: Sendable, CustomStringConvertible {
    public let count: Int
    /// k1 (the mean).
    public let mean: MonteCarloEstimate
    /// k2 (the unbiased variance).
    public let variance: MonteCarloEstimate
    /// k3.
    public let thirdCumulant: MonteCarloEstimate
    /// k4 (E x^4 - 3 (E x^2)^2 for centred x, unbiasedly).
    public let fourthCumulant: MonteCarloEstimate
    /// k4 / k2^2.
    public let excessKurtosis: MonteCarloEstimate

    /// (k1, k2, k3, k4) from the power sums of n values.
    static func kStatistics(n nInt: Int, _ s1: Double, _ s2: Double, _ s3: Double, _ s4: Double) -> SIMD4<Double> {
        let n = Double(nInt)
        let k1 = s1 / n
        let k2 = (n * s2 - s1 * s1) / (n * (n - 1))
        let k3num = 2 * s1 * s1 * s1 - 3 * n * s1 * s2 + n * n * s3
        let k3 = k3num / (n * (n - 1) * (n - 2))
        let t1 = -6 * s1 * s1 * s1 * s1
        let t2 = 12 * n * s1 * s1 * s2
        let t3 = -3 * n * (n - 1) * s2 * s2
        let t4 = -4 * n * (n + 1) * s1 * s3
        let t5 = n * n * (n + 1) * s4
        let den = n * (n - 1) * (n - 2) * (n - 3)
        let k4 = (t1 + t2 + t3 + t4 + t5) / den
        return SIMD4(k1, k2, k3, k4)
    }

    public init(_ x: [Double]) throws {
        let n = x.count
        guard n >= 5 else { throw OverparamError.invalidArgument(name: "samples", problem: "need >= 5 values (got \(n))") }
        let c = x.reduce(0, +) / Double(n)
        var s = SIMD4<Double>(0, 0, 0, 0)
        for v in x {
            let y = v - c, y2 = y * y
            s += SIMD4(y, y2, y2 * y, y2 * y2)
        }
        let full = Self.kStatistics(n: n, s[0], s[1], s[2], s[3])
        let fullKurt = full[3] / (full[1] * full[1])
        // Delete-one jackknife: two passes (mean, then squared deviations) over the leave-one-out estimates.
        var sumT = SIMD4<Double>(0, 0, 0, 0), sumK = 0.0
        func loo(_ v: Double) -> (SIMD4<Double>, Double) {
            let y = v - c, y2 = y * y
            let t = s - SIMD4(y, y2, y2 * y, y2 * y2)
            let k = Self.kStatistics(n: n - 1, t[0], t[1], t[2], t[3])
            return (SIMD4(k[0] + c, k[1], k[2], k[3]), k[3] / (k[1] * k[1]))
        }
        for v in x { let (t, k) = loo(v); sumT += t; sumK += k }
        let meanT = sumT / Double(n), meanK = sumK / Double(n)
        var ssT = SIMD4<Double>(0, 0, 0, 0), ssK = 0.0
        for v in x {
            let (t, k) = loo(v)
            let dt = t - meanT
            ssT += dt * dt
            ssK += (k - meanK) * (k - meanK)
        }
        let f = Double(n - 1) / Double(n)
        let se = (f * ssT).squareRoot()
        count = n
        mean = MonteCarloEstimate(value: full[0] + c, standardError: se[0])
        variance = MonteCarloEstimate(value: full[1], standardError: se[1])
        thirdCumulant = MonteCarloEstimate(value: full[2], standardError: se[2])
        fourthCumulant = MonteCarloEstimate(value: full[3], standardError: se[3])
        excessKurtosis = MonteCarloEstimate(value: fullKurt, standardError: (f * ssK).squareRoot())
    }

    public var description: String {
        "n=\(count) mean \(mean) var \(variance) k3 \(thirdCumulant) k4 \(fourthCumulant) kurt \(excessKurtosis)"
    }
}
