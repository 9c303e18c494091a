import Foundation

/// A continuous piecewise-linear function f on R: breakpoints b_1 < ... < b_m, slopes s_0 (left of b_1),
/// s_k on (b_k, b_{k+1}), s_m (right of b_m), and the value f(b_1) (f(0) when m = 0).
///
/// ``network(width:)`` is the construction behind seed 004's Lemma 1.1.2: a one-hidden-layer ReLU network (eq. 1.1.3,
/// z(x) = b^(2) + sum_i W_i^(2) ReLU(W_i^(1) x + b_i^(1))) computing f exactly.
public struct PiecewiseLinearFunction: Sendable, Hashable {
    public let breakpoints: [Double]
    /// breakpoints.count + 1 slopes, left to right.
    public let slopes: [Double]
    /// f at ``anchor``.
    public let anchorValue: Double

    /// Checks that the breakpoints are finite and strictly increasing and that there is one more slope than
    /// breakpoints.
    public init(breakpoints: [Double], slopes: [Double], anchorValue: Double) throws {
        guard slopes.count == breakpoints.count + 1 else {
            throw OverparamError.shapeMismatch("\(breakpoints.count) breakpoints need \(breakpoints.count + 1) slopes (got \(slopes.count))")
        }
        guard (breakpoints + slopes + [anchorValue]).allSatisfy({ $0.isFinite }) else {
            throw OverparamError.nonFinite("piecewise-linear function")
        }
        for k in breakpoints.indices.dropFirst() where !(breakpoints[k] > breakpoints[k - 1]) {
            throw OverparamError.invalidArgument(name: "breakpoints", problem: "must be strictly increasing (b[\(k - 1)] = \(breakpoints[k - 1]), b[\(k)] = \(breakpoints[k]))")
        }
        self.breakpoints = breakpoints
        self.slopes = slopes
        self.anchorValue = anchorValue
    }

    /// b_1, or 0 without breakpoints.
    public var anchor: Double { breakpoints.first ?? 0 }

    /// f(x), evaluated directly from the breakpoints and slopes (walking from the anchor).
    public func callAsFunction(_ x: Double) -> Double {
        let p = anchor
        if breakpoints.isEmpty || x <= p { return anchorValue + slopes[0] * (x - p) }
        var value = anchorValue, left = p
        for k in 1..<breakpoints.count {
            let b = breakpoints[k]
            if x <= b { return value + slopes[k] * (x - left) }
            value += slopes[k] * (b - left)
            left = b
        }
        return value + slopes[breakpoints.count] * (x - left)
    }

    /// The smallest hidden width ``network(width:)`` accepts: m + 1 for m breakpoints, and 2 for an affine f.
    public var minimalWidth: Int { Swift.max(breakpoints.count + 1, 2) }

    /// A one-hidden-layer ReLU network (N_0 = 1, `.standard` parameterization, so the parameters are the raw W, b of
    /// eq. 1.1.3) that computes f exactly (up to rounding):
    ///
    ///     f(x) = f(b_1) - s_0 ReLU(b_1 - x) + s_1 ReLU(x - b_1) + sum_{k=2}^{m} (s_k - s_{k-1}) ReLU(x - b_k),
    ///
    /// m + 1 neurons for m breakpoints (seed 004 Lemma 1.1.2: N_1 neurons give every function with at most N_1 - 1
    /// breakpoints; with m = 0 the two neurons -s_0 ReLU(-x) + s_0 ReLU(x) make the affine part). Extra neurons
    /// up to `width` are zero. Note the lemma fails for N_1 = 1: one neuron cannot compute a non-constant affine map.
    public func network(width: Int? = nil) throws -> Network {
        let w = width ?? minimalWidth
        guard w >= minimalWidth else {
            throw OverparamError.invalidArgument(name: "width", problem: "\(breakpoints.count) breakpoints need at least \(minimalWidth) neurons (got \(w))")
        }
        let m = breakpoints.count, p = anchor
        var w1 = [Double](repeating: 0, count: w), b1 = [Double](repeating: 0, count: w), w2 = [Double](repeating: 0, count: w)
        // Neuron 0: ReLU(p - x), neuron 1: ReLU(x - p).
        w1[0] = -1; b1[0] = p; w2[0] = -slopes[0]
        w1[1] = 1; b1[1] = -p; w2[1] = m == 0 ? slopes[0] : slopes[1]
        if m >= 2 {
            for k in 2...m {
                w1[k] = 1
                b1[k] = -breakpoints[k - 1]
                w2[k] = slopes[k] - slopes[k - 1]
            }
        }
        return try Network(Self.architecture(width: w), parameters: w1 + b1 + w2 + [anchorValue])
    }

    /// The one-hidden-layer, one-input ReLU architecture whose parameters are used as given (`.standard`: a = 1,
    /// beta = 1); parameters are laid out W^(1) (N_1), b^(1) (N_1), W^(2) (N_1), b^(2) (1).
    public static func architecture(width: Int) -> Architecture {
        Architecture(inputDimension: 1, hiddenWidths: [width], activation: .relu, outputDimension: 1,
                     weightVariance: 1, biasVariance: 1, hasBias: true, parameterization: .standard)
    }

    /// The function the hat network of seed 004 sec. 1.1.2 computes without its final ReLU,
    /// 2 ReLU(x) - 4 ReLU(x - 1/2): 0 for x < 0, 2x on [0, 1/2], 2 - 2x on [1/2, infinity) (SEED-NOTES: the printed
    /// 1 - 2x is a typo). On [0, 1] it is the hat; beyond 1 it goes negative (the seed's outer ReLU clips it to 0).
    public static let hat = try! PiecewiseLinearFunction(breakpoints: [0, 0.5], slopes: [0, 2, -2], anchorValue: 0)

    /// The two-neuron hat network of seed 004 sec. 1.1.2: z(x) = 2 ReLU(x) - 4 ReLU(x - 1/2), i.e. W^(1) = (1, 1),
    /// b^(1) = (0, -1/2), W^(2) = (2, -4), b^(2) = 0, which equals ``hat``.
    public static func hatNetwork() -> Network {
        try! Network(architecture(width: 2), parameters: [1, 1, 0, -0.5, 2, -4, 0])
    }
}
