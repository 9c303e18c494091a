import Foundation

/// A function f applied to every neuron of a layer to form the collective observable
///
///     O_f^(l) = (1 / N_l) sum_{i <= N_l} f(z_i^(l)(x))            (seed 004 sec. 3.3.1, one input)
///
/// e.g. f = sigma^2, for which C_b + C_W O_f^(l) is the conditional variance K-hat^(l) of the next layer.
public struct NeuronFunction: Sendable {
    public let name: String
    public let f: @Sendable (Double) -> Double
    public init(_ name: String, _ f: @escaping @Sendable (Double) -> Double) { self.name = name; self.f = f }

    public static let square = NeuronFunction("z^2") { $0 * $0 }
    public static let fourthPower = NeuronFunction("z^4") { let s = $0 * $0; return s * s }
    public static let absoluteValue = NeuronFunction("|z|") { Swift.abs($0) }
    /// sigma(z)^2.
    public static func activationSquared(_ a: Activation) -> NeuronFunction {
        NeuronFunction("\(a)(z)^2") { let s = a($0); return s * s }
    }
}

/// Exact sampler of a random network's pre-activations at ONE input through the Markov chain of its collective
/// observables (seed 004 sec. 3.3.1): given layer l, the neurons of layer l + 1 are i.i.d. N(0, K-hat^(l)) with
///
///     K-hat^(0) = C_b + C_W |x|^2 / N_0   (deterministic),
///     K-hat^(l) = C_b + (C_W^(l+1) / N_l) sum_{j <= N_l} sigma(z_j^(l))^2,   l = 1...L,
///
/// where C_W^(L+1) is the readout's variance. So drawing z^(l+1) ~ N(0, K-hat^(l) I) layer by layer has exactly the
/// law of the network's (z^(1), ..., z^(L+1)) at x (for `.hanin`, `.ntk` and `.standard` layers, which all give the
/// pre-activation the variance C_b + C_W |previous|^2 / N), at a cost of sum_l N_l normals per network instead of
/// sum_l N_l N_(l-1): the tool for the large Monte-Carlo sizes that finite-width corrections of order N^-2 need.
/// The tests check it against whole sampled networks.
///
/// Network i draws from `Xoshiro256StarStar(seed: seed, stream: i)`; networks are split into fixed chunks, so the
/// samples do not depend on the thread count.
public struct SingleInputChain: Sendable {
    public let activation: Activation
    /// C_W of the hidden layers.
    public let weightVariance: Double
    /// C_b (0 without biases).
    public let biasVariance: Double
    /// C_W of the readout (used by K-hat^(L)).
    public let readoutWeightVariance: Double
    /// N_1, ..., N_L.
    public let widths: [Int]
    /// K-hat^(0), the variance of z^(1).
    public let inputVariance: Double

    public init(activation: Activation, weightVariance: Double, biasVariance: Double = 0, readoutWeightVariance: Double? = nil,
                widths: [Int], inputVariance: Double) throws {
        guard weightVariance >= 0, weightVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "weight variance", problem: "must be finite and >= 0 (got \(weightVariance))")
        }
        guard biasVariance >= 0, biasVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "bias variance", problem: "must be finite and >= 0 (got \(biasVariance))")
        }
        let r = readoutWeightVariance ?? weightVariance
        guard r >= 0, r.isFinite else { throw OverparamError.invalidArgument(name: "readout variance", problem: "must be finite and >= 0 (got \(r))") }
        guard !widths.isEmpty, widths.allSatisfy({ $0 >= 1 }) else {
            throw OverparamError.invalidArgument(name: "widths", problem: "need >= 1 hidden layer of width >= 1 (got \(widths))")
        }
        guard inputVariance >= 0, inputVariance.isFinite else {
            throw OverparamError.invalidArgument(name: "input variance", problem: "must be finite and >= 0 (got \(inputVariance))")
        }
        self.activation = activation
        self.weightVariance = weightVariance
        self.biasVariance = biasVariance
        self.readoutWeightVariance = r
        self.widths = widths
        self.inputVariance = inputVariance
    }

    /// The chain of `architecture` (one output) at input x.
    public init(_ architecture: Architecture, input x: [Double]) throws {
        try architecture.validate()
        switch architecture.parameterization {
        case .hanin, .ntk, .standard: break
        default:
            throw OverparamError.invalidArgument(name: "parameterization",
                                                 problem: "the single-input chain needs .hanin, .ntk or .standard (got \(architecture.parameterization))")
        }
        guard x.count == architecture.inputDimension else {
            throw OverparamError.shapeMismatch("the input has \(x.count) entries, the architecture takes d = \(architecture.inputDimension)")
        }
        guard x.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("input") }
        let cb = architecture.hasBias ? architecture.biasVariance : 0
        let k0 = cb + architecture.weightVariance * x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        try self.init(activation: architecture.activation, weightVariance: architecture.weightVariance, biasVariance: cb,
                      readoutWeightVariance: architecture.readoutWeightVariance, widths: architecture.hiddenWidths, inputVariance: k0)
    }

    /// Number of hidden layers L.
    public var depth: Int { widths.count }

    /// Sample `networks` networks: K-hat^(l) for l = 0...L and, for each function f_k, O_{f_k}^(l) for l = 1...L.
    public func run(networks m: Int, seed: UInt64, observables: [NeuronFunction] = []) throws -> CollectiveSamples {
        guard m >= 1 else { throw OverparamError.invalidArgument(name: "networks", problem: "must be >= 1 (got \(m))") }
        let depth = widths.count, nf = observables.count
        let kBuf = UnsafeMutableBufferPointer<Double>.allocate(capacity: (depth + 1) * m)
        let oBuf = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, nf * depth * m))
        kBuf.initialize(repeating: 0)
        oBuf.initialize(repeating: 0)
        defer { kBuf.deallocate(); oBuf.deallocate() }
        nonisolated(unsafe) let kp = kBuf.baseAddress!
        nonisolated(unsafe) let op = oBuf.baseAddress!
        let act = activation, widths = self.widths, cb = biasVariance, cw = weightVariance, cr = readoutWeightVariance
        let k0 = inputVariance
        let fs = observables.map(\.f)
        Parallel.forEachChunk(m, minChunk: 256) { range in
            var sums = [Double](repeating: 0, count: nf)
            for i in range {
                var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(i))
                var k = k0
                kp[i] = k0
                for l in 1...depth {
                    let n = widths[l - 1]
                    let sd = k.squareRoot()
                    var s = 0.0
                    for q in 0..<nf { sums[q] = 0 }
                    for _ in 0..<n {
                        let z = sd * rng.normal()
                        let a = act(z)
                        s += a * a
                        for q in 0..<nf { sums[q] += fs[q](z) }
                    }
                    k = cb + (l == depth ? cr : cw) * s / Double(n)
                    kp[l * m + i] = k
                    for q in 0..<nf { op[(q * depth + l - 1) * m + i] = sums[q] / Double(n) }
                }
            }
        }
        return CollectiveSamples(networkCount: m, widths: widths, conditionalVariances: Array(kBuf),
                                 observableNames: observables.map(\.name), observableValues: nf == 0 ? [] : Array(oBuf))
    }
}

/// Samples of the single-input chain: per network, the conditional variances K-hat^(l) and the collective
/// observables O_f^(l).
public struct CollectiveSamples: Sendable {
    public let networkCount: Int
    public let widths: [Int]
    /// K-hat^(l) of network i at [l * M + i], l = 0...L.
    let conditionalVariances: [Double]
    public let observableNames: [String]
    /// O_{f_k}^(l) of network i at [(k * L + l - 1) * M + i].
    let observableValues: [Double]

    /// K-hat^(l) of every network (l = 0...L); K-hat^(L) is the variance of the output z^(L+1) given the network's
    /// hidden layers, so Var K-hat^(L) = kappa_4^(L+1).
    public func conditionalVariance(layer l: Int) throws -> [Double] {
        guard (0...widths.count).contains(l) else {
            throw OverparamError.invalidArgument(name: "layer", problem: "must be in 0...\(widths.count) (got \(l))")
        }
        return Array(conditionalVariances[(l * networkCount)..<((l + 1) * networkCount)])
    }

    /// O_{f_k}^(l) of every network (l = 1...L), k indexing the observables passed to ``SingleInputChain/run(networks:seed:observables:)``.
    public func observable(_ k: Int, layer l: Int) throws -> [Double] {
        guard (0..<observableNames.count).contains(k) else {
            throw OverparamError.invalidArgument(name: "observable", problem: "must be in 0..<\(observableNames.count) (got \(k))")
        }
        guard (1...widths.count).contains(l) else {
            throw OverparamError.invalidArgument(name: "layer", problem: "must be in 1...\(widths.count) (got \(l))")
        }
        let start = (k * widths.count + l - 1) * networkCount
        return Array(observableValues[start..<(start + networkCount)])
    }
}

/// Theorem 3.3.3 (structure theorem for collective observables): the centred moments of O_f^(l) satisfy
///
///     E[(O_f^(l) - E O_f^(l))^k] = O(N^(-ceil(k/2))),   N = min(N_1, ..., N_l),
///
/// so the variance falls like 1/N and the third and fourth centred moments like 1/N^2 (the fourth is
/// 3 Var^2 + O(N^-3), the third is a genuine N^-2 effect). This type measures the three moments with jackknife
/// standard errors from samples of the single-input chain.
public struct CollectiveMoments: Sendable {
    /// mu_2 (the variance), mu_3 and mu_4.
    public let second: MonteCarloEstimate
    public let third: MonteCarloEstimate
    public let fourth: MonteCarloEstimate

    public init(_ samples: [Double]) throws {
        (second, third, fourth) = try Jackknife.centralMoments(samples)
    }

    /// The moment of order k (2, 3 or 4).
    public func moment(_ k: Int) -> MonteCarloEstimate { k == 2 ? second : k == 3 ? third : fourth }

    /// The exponent of N that Theorem 3.3.3 gives for order k: -ceil(k / 2).
    public static func predictedExponent(order k: Int) -> Double { -Double((k + 1) / 2) }
}
