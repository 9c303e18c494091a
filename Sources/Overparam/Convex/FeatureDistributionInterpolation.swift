import Foundation

/// Feature-distribution interpolation of S trained ``DeepFeatureNetwork``s with the same layer widths (seed 002
/// sec. VII-D, fig. 7; the seed's Appendix D, which should describe the construction, is missing from the text:
/// SEED-NOTES sec. 2). This is our design; every layer is a convex fit.
///
/// Given mixture weights pi = (pi_1, ..., pi_S) on the simplex (fig. 7: (alpha, beta, 1 - alpha - beta)), the target
/// feature distribution of hidden layer l is the mixture of the networks' empirical distributions,
///
///     rho_pi^(l) = sum_s pi_s rho_s^(l),    rho_s^(l) = (1/m^(l)) sum_j delta_{neuron j of network s},
///
/// i.e. the union of the S networks' neurons, neuron (s, j) carrying mass pi_s / m^(l). Seed 002 identifies a neuron
/// with its pre-activation vector on the data (the set V-hat_theta^(l) of sec. VII-D), so the interpolating network
/// theta~_pi must have, at every layer, the pre-activations of the union:
///
///     g~^(l)_{(s,j)}(x_i) ~= g^(l)_{s,j}(x_i)   on the fitting data x_1..x_n,   for all s, j.
///
/// Construction, layer by layer (l = 1...L):
/// - l = 1: the input distribution is common to all networks, so its mixture is the input itself and
///   g^(1)_{s,j} = (1/m^(0)) sum_k w^(1)_{s,jk} x_k is reproduced exactly by the original weights, which are copied
///   (they are the exact minimizer of the convex fit below at zero ridge).
/// - l >= 2: the mixed network's own layer-(l-1) features f~^(l-1) (computed through the layers already built) with
///   masses pi_t / m^(l-1) form the measure rho~^(l-1); the incoming weights of every neuron (s, j) of layer l are
///   the solution of the convex ridge problem of ``MixtureRidgeFit``,
///
///       min_w (1/n) sum_i ( sum_{t,k} (pi_t/m^(l-1)) w(t,k) f~^(l-1)_{t,k}(x_i) - g^(l)_{s,j}(x_i) )^2
///             + lambda sum_{t,k} (pi_t/m^(l-1)) w(t,k)^2 ,
///
///   whose targets are the original networks' pre-activations (so the measured residual at layer l is the whole
///   discrepancy of the mixed network's pre-activation, errors of lower layers included). A neuron may use the
///   features of every network: its own network's features scaled by 1/pi_s always solve the equations exactly,
///   but the penalty prefers sharing them when pi_s is small.
/// - Readout: the mixture of the readouts, f~(x) = sum_s pi_s (1/m^(L)) sum_j u_{s,j} f~^(L)_{s,j}(x): each neuron keeps
///   its network's output weight (the readout sees the mixture of features). In the exact-fit limit the interpolant
///   is f~_pi = sum_s pi_s f_s, so any loss convex in f (the MSE of fig. 7) is convex in pi; the fits' residuals bound
///   the departure (``FeatureDistributionMixture/outputDeviationBound(inputs:)``).
///
/// At a vertex pi = e_s only network s's neurons have mass, its features are reproduced by the fit up to the ridge
/// bias (``MixtureRidgeFit``'s bound with w_ref the original weights), and the interpolant is network s's function.
///
/// The interpolant is returned as an ordinary ``DeepFeatureNetwork`` with widths S m^(l) (and the 1/(S m^(l))
/// scaling of eq. 1): the weight from neuron (t, k) is stored as S pi_t w(t, k), the readout of neuron (s, j) as S pi_s u_{s,j}.
/// Neurons of zero mass stay in the network (fitted like the others) with zero outgoing weights.
public struct FeatureDistributionInterpolation: Sendable {
    /// The S networks (same input dimension, bias, activation, widths and outputs).
    public let networks: [DeepFeatureNetwork]
    /// The fitting data x_1..x_n (n x d).
    public let fitInputs: Matrix
    /// The ridge relative to the trace of the feature Gram matrix (``MixtureRidgeFit``).
    public let relativeRidge: Double
    /// The targets g^(l)_{s,j}(x_i): targets[l - 1] is n x (S m^(l)) with network s in columns s m^(l) ..< (s+1) m^(l).
    let targets: [Matrix]

    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for no networks or a negative ridge,
    ///   ``OverparamError/shapeMismatch(_:)`` when the networks differ in architecture or the inputs do not fit them.
    public init(networks: [DeepFeatureNetwork], fitInputs x: Matrix, relativeRidge: Double = 1e-9) throws {
        guard let first = networks.first else { throw OverparamError.invalidArgument(name: "networks", problem: "need at least one network") }
        for (s, n) in networks.enumerated() where n.layout != first.layout || n.inputDimension != first.inputDimension
            || n.inputBias != first.inputBias || n.activation != first.activation {
            throw OverparamError.shapeMismatch("network \(s) has widths \(n.widths) and K = \(n.outputs); network 0 has \(first.widths) and K = \(first.outputs) (input, bias and activation must agree too)")
        }
        guard relativeRidge >= 0, relativeRidge.isFinite else {
            throw OverparamError.invalidArgument(name: "relativeRidge", problem: "\(relativeRidge) must be finite and >= 0")
        }
        let passes = try networks.map { try $0.forward(x) }
        targets = (0..<first.depth).map { l in Self.concatenate(passes.map { $0.preactivations[l] }) }
        self.networks = networks
        fitInputs = x
        self.relativeRidge = relativeRidge
    }

    /// S.
    public var count: Int { networks.count }

    /// The interpolant theta~_pi for mixture weights `pi` (S entries, >= 0, summing to 1 within 1e-9).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for weights off the simplex; errors of the fits.
    public func mixture(_ pi: [Double]) throws -> FeatureDistributionMixture {
        try Self.checkWeights(pi, count)
        let base = networks[0], S = count, L = base.depth, w = base.widths
        let mixedWidths = (1...L).map { S * w[$0] }
        let layout = DeepFeatureLayout(widths: [w[0]] + mixedWidths, outputs: base.outputs)
        var p = [Double](repeating: 0, count: layout.count)
        // Layer 1: copy (rows of network s at s m^(1)).
        for s in 0..<S {
            let src = networks[s].parameters[networks[s].layout.weightRange(1)]
            let off = layout.weightOffsets[0] + s * w[1] * w[0]
            p.replaceSubrange(off..<(off + src.count), with: src)
        }
        var residuals = [[Double]](repeating: [Double](repeating: 0, count: S * w[1]), count: 1)
        var ridges = [0.0]
        for l in 2...max(2, L) where l <= L {
            let partial = try DeepFeatureNetwork(inputDimension: base.inputDimension, hiddenWidths: Array(mixedWidths[0..<(l - 1)]),
                                                 outputs: 1, activation: base.activation, inputBias: base.inputBias,
                                                 parameters: Array(p[0..<layout.weightOffsets[l - 1]]) + [Double](repeating: 0, count: mixedWidths[l - 2]))
            let features = try partial.forward(fitInputs).features[l - 1]
            let masses = (0..<S).flatMap { t in [Double](repeating: pi[t] / Double(w[l - 1]), count: w[l - 1]) }
            let fit = try MixtureRidgeFit(features: features, masses: masses, targets: targets[l - 1], relativeRidge: relativeRidge)
            let cols = S * w[l - 1], off = layout.weightOffsets[l - 1]
            for j in 0..<(S * w[l]) { for k in 0..<cols {
                p[off + j * cols + k] = Double(S) * masses[k] * Double(w[l - 1]) * fit.weights[k, j]
            } }
            residuals.append(fit.meanSquaredResiduals)
            ridges.append(fit.ridge)
        }
        // Readout: neuron (s, j) keeps u_{s,j}, stored as S pi_s u_{s,j}.
        let K = base.outputs
        for s in 0..<S {
            let u = networks[s].parameters[networks[s].layout.readoutRange]
            for (i, v) in u.enumerated() { p[layout.readoutOffset + s * w[L] * K + i] = Double(S) * pi[s] * v }
        }
        let net = try DeepFeatureNetwork(inputDimension: base.inputDimension, hiddenWidths: mixedWidths, outputs: K,
                                         activation: base.activation, inputBias: base.inputBias, parameters: p)
        return FeatureDistributionMixture(weights: pi, network: net, originals: networks, fitResiduals: residuals, ridges: ridges)
    }

    /// Naive parameter interpolation theta_pi = sum_s pi_s theta_s (the comparison of fig. 7's discussion).
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` for weights off the simplex.
    public func parameterMixture(_ pi: [Double]) throws -> DeepFeatureNetwork {
        try Self.checkWeights(pi, count)
        var net = networks[0]
        for i in net.parameters.indices { net.parameters[i] = (0..<count).reduce(0) { $0 + pi[$1] * networks[$1].parameters[i] } }
        return net
    }

    static func checkWeights(_ pi: [Double], _ S: Int) throws {
        guard pi.count == S, pi.allSatisfy({ $0 >= 0 && $0.isFinite }), abs(pi.reduce(0, +) - 1) <= 1e-9 else {
            throw OverparamError.invalidArgument(name: "mixture weights", problem: "\(pi) must be \(S) non-negative numbers summing to 1")
        }
    }

    /// Side-by-side columns of equally tall matrices.
    static func concatenate(_ ms: [Matrix]) -> Matrix {
        let n = ms[0].rows, c = ms.reduce(0) { $0 + $1.cols }
        var out = Matrix(rows: n, cols: c)
        var o = 0
        for m in ms { for i in 0..<n { for j in 0..<m.cols { out[i, o + j] = m[i, j] } }; o += m.cols }
        return out
    }
}

/// One interpolant theta~_pi of ``FeatureDistributionInterpolation``.
public struct FeatureDistributionMixture: Sendable {
    /// pi.
    public let weights: [Double]
    /// The interpolating network (widths S m^(l)).
    public let network: DeepFeatureNetwork
    /// The S original networks.
    public let originals: [DeepFeatureNetwork]
    /// Per layer l (index l - 1) and neuron (s, j): (1/n) sum_i (g~ - g)^2 on the fitting data (0 at layer 1, copied).
    public let fitResiduals: [[Double]]
    /// lambda of each layer's fit (0 at layer 1).
    public let ridges: [Double]

    /// The exact-fit limit sum_s pi_s f_s(x) (n x K).
    public func linearLimit(_ x: Matrix) throws -> Matrix {
        var out = Matrix(rows: x.rows, cols: network.outputs)
        for (s, n) in originals.enumerated() where weights[s] > 0 { out.add(try n(x), scaledBy: weights[s]) }
        return out
    }

    /// A bound on rms_x ||f~_pi(x) - sum_s pi_s f_s(x)|| over the data `x`, from the last layer's pre-activation
    /// residuals measured on `x` (h is 1-Lipschitz for tanh; Lip(h) in general):
    ///
    ///     epsilon = Lip(h) sum_s pi_s sqrt( (1/m^(L)) sum_j ||u_{s,j}||^2 ) sqrt( (1/m^(L)) sum_j (1/n) sum_i (g~^(L)_{s,j} - g^(L)_{s,j})^2 ),
    ///
    /// by the triangle inequality over s and Cauchy-Schwarz over j and the data. Since the targets of layer L are the
    /// original pre-activations, the residuals already contain every lower layer's error.
    public func outputDeviationBound(inputs x: Matrix) throws -> Double {
        try outputDeviationBound(try network.forward(x), inputs: x)
    }

    func outputDeviationBound(_ pass: DeepFeaturePass, inputs x: Matrix) throws -> Double {
        let L = network.depth, m = originals[0].widths[L]
        let gMix = pass.preactivations[L - 1]
        guard let lip = network.activation.slopeBound else {
            throw OverparamError.invalidArgument(name: "activation", problem: "\(network.activation) has no global Lipschitz bound; the output bound needs one")
        }
        var eps = 0.0
        for (s, net) in originals.enumerated() where weights[s] > 0 {
            let g = try net.forward(x).preactivations[L - 1]
            var r = 0.0
            for i in 0..<x.rows { for j in 0..<m { let d = gMix[i, s * m + j] - g[i, j]; r += d * d } }
            let u = net.parameters[net.layout.readoutRange]
            let u2 = u.reduce(0) { $0 + $1 * $1 } / Double(m)
            eps += weights[s] * (u2 * r / (Double(m) * Double(x.rows))).squareRoot()
        }
        return lip * eps
    }

    /// A bound tau on |L(f~_pi) - L(sum_s pi_s f_s)| for the half mean squared error L(f) = (1/2n) sum_i ||f(x_i) - y_i||^2
    /// on (x, y), with epsilon = ``outputDeviationBound(inputs:)`` and L~ the measured loss of f~:
    ///
    ///     tau = (sqrt(2 L~) + epsilon) epsilon + epsilon^2 / 2,
    ///
    /// because L(f + e) - L(f) = <f - y, e>/n + ||e||^2/(2n) and sqrt(2 L(f_lin)) <= sqrt(2 L~) + rms(e). L(sum_s pi_s f_s)
    /// is exactly convex in pi, so a discrete convexity violation of the measured surface beyond these tolerances
    /// (``SimplexGrid/convexityCheck(_:tolerances:)``) cannot come from the fits' residuals.
    /// - Returns: the loss L~, the bound tau, epsilon and the interpolant's outputs f~_pi(x) (n x K; one forward pass serves all).
    public func lossTolerance(inputs x: Matrix, targets y: Matrix) throws -> (loss: Double, tolerance: Double, outputBound: Double, outputs: Matrix) {
        let pass = try network.forward(x), f = pass.outputs
        guard y.rows == f.rows, y.cols == f.cols else { throw OverparamError.shapeMismatch("targets are \(y.rows)x\(y.cols), outputs \(f.rows)x\(f.cols)") }
        let loss = try MeanSquaredError(.halfMean).evaluate(outputs: f, targets: y).value
        let eps = try outputDeviationBound(pass, inputs: x)
        return (loss, ((2 * loss).squareRoot() + eps) * eps + eps * eps / 2, eps, f)
    }
}

extension Activation {
    /// sup_t |h'(t)| (nil when unbounded): the Lipschitz constant used by ``FeatureDistributionMixture/outputDeviationBound(inputs:)``.
    var slopeBound: Double? {
        switch self {
        case .tanh, .relu, .sin, .identity, .softplus: return 1
        case let .abRelu(a, b): return Swift.max(Swift.abs(a), Swift.abs(b))
        case .erf: return 2 / Double.pi.squareRoot()
        case .sigmoid: return 0.25
        case .gelu: return 1.1289
        case .shapedCubic: return nil
        }
    }
}
