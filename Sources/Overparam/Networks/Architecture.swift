import Foundation

/// A fully connected network: the one description from which Overparam derives the finite network
/// (``Network``), its infinite-width kernels (``InfiniteWidthKernel``), its empirical kernels (``EmpiricalNTK``)
/// and its training dynamics.
///
/// `hiddenWidths.count` is the depth L (number of hidden layers); layer L + 1 is the linear readout with
/// `outputDimension` outputs. Weights and biases are scaled by ``parameterization`` (see ``Parameterization``).
public struct Architecture: Sendable, Hashable, Codable, CustomStringConvertible {
    public var inputDimension: Int
    public var hiddenWidths: [Int]
    public var activation: Activation
    public var outputDimension: Int
    /// C_W: the weight variance of hidden layers (sigma_w^2, s_w^2).
    public var weightVariance: Double
    /// C_b: the bias variance (used only when `hasBias`).
    public var biasVariance: Double
    /// C_W of the readout layer (s_a^2 in seed 001); nil means `weightVariance`.
    public var readoutWeightVariance: Double?
    /// Whether layers have biases (seeds 000, 001 and 003 have none).
    public var hasBias: Bool
    public var parameterization: Parameterization

    public init(inputDimension: Int, hiddenWidths: [Int], activation: Activation = .relu, outputDimension: Int = 1,
                weightVariance: Double = 2, biasVariance: Double = 0, readoutWeightVariance: Double? = nil,
                hasBias: Bool? = nil, parameterization: Parameterization = .ntk) {
        self.inputDimension = inputDimension
        self.hiddenWidths = hiddenWidths
        self.activation = activation
        self.outputDimension = outputDimension
        self.weightVariance = weightVariance
        self.biasVariance = biasVariance
        self.readoutWeightVariance = readoutWeightVariance
        self.hasBias = hasBias ?? (biasVariance > 0)
        self.parameterization = parameterization
    }

    /// L hidden layers of equal width.
    public init(inputDimension: Int, depth: Int, width: Int, activation: Activation = .relu, outputDimension: Int = 1,
                weightVariance: Double = 2, biasVariance: Double = 0, parameterization: Parameterization = .ntk) {
        self.init(inputDimension: inputDimension, hiddenWidths: [Int](repeating: width, count: depth), activation: activation,
                  outputDimension: outputDimension, weightVariance: weightVariance, biasVariance: biasVariance,
                  parameterization: parameterization)
    }

    /// Number of hidden layers L.
    public var depth: Int { hiddenWidths.count }
    /// Widths n_0 = d, n_1..n_L, n_{L+1} = outputs.
    public var layerWidths: [Int] { [inputDimension] + hiddenWidths + [outputDimension] }
    /// Number of parameterized layers (L + 1).
    public var layerCount: Int { hiddenWidths.count + 1 }

    /// The scale factors of layer `l` (1-based).
    public func scale(layer l: Int) -> LayerScale {
        let isReadout = l == layerCount
        let cw = isReadout ? (readoutWeightVariance ?? weightVariance) : weightVariance
        var s = parameterization.scale(layer: l, fanIn: layerWidths[l - 1], isReadout: isReadout, weightVariance: cw,
                                       biasVariance: biasVariance)
        if !hasBias { s.beta = 0; s.vb = 0 }
        return s
    }

    /// All layers' scale factors.
    public var scales: [LayerScale] { (1...layerCount).map { scale(layer: $0) } }

    /// Total number of trainable parameters.
    public var parameterCount: Int {
        let w = layerWidths
        return (1..<w.count).reduce(0) { $0 + w[$1] * w[$1 - 1] + (hasBias ? w[$1] : 0) }
    }

    /// Check the description; throws a one-line error naming the offending field.
    public func validate() throws {
        if inputDimension < 1 { throw OverparamError.invalidArgument(name: "input dimension", problem: "must be >= 1 (got \(inputDimension))") }
        if hiddenWidths.isEmpty { throw OverparamError.invalidArgument(name: "--depth", problem: "depth (hidden layers) must be >= 1") }
        if let w = hiddenWidths.first(where: { $0 < 1 }) { throw OverparamError.invalidArgument(name: "--width", problem: "widths must be >= 1 (got \(w))") }
        if outputDimension < 1 { throw OverparamError.invalidArgument(name: "--outputs", problem: "must be >= 1") }
        if !(weightVariance >= 0) || !weightVariance.isFinite { throw OverparamError.invalidArgument(name: "--weight-variance", problem: "must be a finite number >= 0 (got \(weightVariance))") }
        if !(biasVariance >= 0) || !biasVariance.isFinite { throw OverparamError.invalidArgument(name: "--bias-variance", problem: "must be a finite number >= 0 (got \(biasVariance))") }
        if let r = readoutWeightVariance, !(r >= 0) || !r.isFinite { throw OverparamError.invalidArgument(name: "--readout-variance", problem: "must be a finite number >= 0 (got \(r))") }
    }

    public var description: String {
        "\(depth)x[\(hiddenWidths.map(String.init).joined(separator: ","))] \(activation) d=\(inputDimension) out=\(outputDimension) C_W=\(weightVariance) C_b=\(hasBias ? "\(biasVariance)" : "none") \(parameterization)"
    }
}
