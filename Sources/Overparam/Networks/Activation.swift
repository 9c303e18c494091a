import Foundation

/// A point-wise nonlinearity sigma with its first three derivatives.
///
/// The neural tangent hierarchy (seed 001) differentiates the network three times in its parameters, which needs
/// sigma', sigma'' and sigma''' (``derivative(_:order:)``). Derivatives of the piecewise-linear activations are
/// taken away from their kinks (sigma'' = sigma''' = 0).
///
/// Infinite-width kernels need the Gaussian expectations E[sigma(u) sigma(v)] and E[sigma'(u) sigma'(v)] for
/// (u, v) ~ N(0, [[q11, q12], [q12, q22]]); see ``DualActivation``: closed forms for `relu`, `abRelu` (which covers
/// leaky ReLU and abs), `erf` and `identity`, two-dimensional Gauss-Hermite quadrature for everything else.
public enum Activation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// max(0, t).
    case relu
    /// a t for t < 0, b t for t > 0 (leaky ReLU is (alpha, 1); abs is (-1, 1)).
    case abRelu(a: Double, b: Double)
    /// erf(t).
    case erf
    /// tanh(t).
    case tanh
    /// The logistic sigmoid 1 / (1 + e^{-t}).
    case sigmoid
    /// softplus_a(t) = ln(1 + e^{a t}) / a (seed 001).
    case softplus(a: Double)
    /// GELU t Phi(t) (exact, with the normal CDF).
    case gelu
    /// sin(t).
    case sin
    /// t.
    case identity
    /// The shaped cubic t + psi t^3 / (3 L) of seed 004 sec. 3.3.3 (corrected: the printed activation drops the cube;
    /// SEED-NOTES sec. 2).
    case shapedCubic(psi: Double, depth: Int)

    /// Leaky ReLU with negative slope `alpha`.
    public static func leakyRelu(_ alpha: Double) -> Activation { .abRelu(a: alpha, b: 1) }
    /// |t|.
    public static var abs: Activation { .abRelu(a: -1, b: 1) }

    /// Parse a CLI name: relu, leaky-relu[:alpha], abs, ab-relu:a,b, erf, tanh, sigmoid, softplus[:a], gelu, sin,
    /// identity, shaped-cubic:psi,L.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first else {
            throw OverparamError.invalidArgument(name: "--activation", problem: "empty activation name; use one of relu, leaky-relu[:alpha], abs, ab-relu:a,b, erf, tanh, sigmoid, softplus[:a], gelu, sin, identity, shaped-cubic:psi,L")
        }
        let args = parts.count > 1 ? parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) } : []
        func arg(_ i: Int, _ def: Double?) throws -> Double {
            if i < args.count { if let v = args[i] { return v } }
            else if let d = def { return d }
            throw OverparamError.invalidArgument(name: "--activation", problem: "'\(text)' needs numeric parameters, e.g. ab-relu:-1,1 or shaped-cubic:1,10")
        }
        switch name {
        case "relu": self = .relu
        case "leaky-relu", "leakyrelu", "leaky_relu": self = .abRelu(a: try arg(0, 0.01), b: 1)
        case "abs": self = .abRelu(a: -1, b: 1)
        case "ab-relu", "abrelu": self = .abRelu(a: try arg(0, nil), b: try arg(1, nil))
        case "erf": self = .erf
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "softplus":
            let a = try arg(0, 1)
            guard a > 0 else { throw OverparamError.invalidArgument(name: "--activation", problem: "softplus:a needs a > 0") }
            self = .softplus(a: a)
        case "gelu": self = .gelu
        case "sin": self = .sin
        case "identity", "linear": self = .identity
        case "shaped-cubic", "cubic":
            let psi = try arg(0, nil); let l = try arg(1, nil)
            guard l >= 1, l == l.rounded() else { throw OverparamError.invalidArgument(name: "--activation", problem: "shaped-cubic:psi,L needs an integer L >= 1") }
            self = .shapedCubic(psi: psi, depth: Int(l))
        default:
            throw OverparamError.invalidArgument(name: "--activation", problem: "unknown activation '\(text)'; use one of relu, leaky-relu[:alpha], abs, ab-relu:a,b, erf, tanh, sigmoid, softplus[:a], gelu, sin, identity, shaped-cubic:psi,L")
        }
    }

    public var description: String {
        switch self {
        case .relu: return "relu"
        case let .abRelu(a, b): return a == -1 && b == 1 ? "abs" : (b == 1 ? "leaky-relu:\(a)" : "ab-relu:\(a),\(b)")
        case .erf: return "erf"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case let .softplus(a): return "softplus:\(a)"
        case .gelu: return "gelu"
        case .sin: return "sin"
        case .identity: return "identity"
        case let .shapedCubic(psi, l): return "shaped-cubic:\(psi),\(l)"
        }
    }

    /// Every activation kind with default parameters (for galleries and exhaustive tests).
    public static let all: [Activation] = [.relu, .leakyRelu(0.1), .abs, .erf, .tanh, .sigmoid, .softplus(a: 1), .gelu, .sin,
                                           .identity, .shapedCubic(psi: 1, depth: 4)]

    /// True for activations with sigma(c t) = c sigma(t) for c > 0 (piecewise linear through 0).
    public var isPositivelyHomogeneous: Bool {
        switch self { case .relu, .abRelu, .identity: return true; default: return false }
    }

    /// True when sigma is infinitely differentiable (the hypothesis of seed 001's Assumption 2.1).
    public var isSmooth: Bool {
        switch self { case .relu, .abRelu: return false; default: return true }
    }

    /// sigma(t).
    @inlinable public func callAsFunction(_ t: Double) -> Double { derivative(t, order: 0) }

    /// (sigma(t), sigma'(t)) with one transcendental evaluation where the derivative follows from the value
    /// (tanh: 1 - y^2; sigmoid: y (1 - y)).
    @inlinable public func valueAndSlope(_ t: Double) -> (Double, Double) {
        switch self {
        case .tanh: let y = Activation.fastTanh(t); return (y, 1 - y * y)
        case .sigmoid:
            // One exp of -|t| and a select instead of a branch (signs are random in SGD's inner loops, so a branch
            // mispredicts half the time): 1 / (1 + e^-t) for t >= 0, e^t / (1 + e^t) below; the same values as the
            // two-branch form bit for bit.
            let e = Foundation.exp(-Swift.abs(t))
            let y = (t >= 0 ? 1 : e) / (1 + e)
            return (y, y * (1 - y))
        case .relu: return t > 0 ? (t, 1) : (0, 0)
        case .identity: return (t, 1)
        default: return (derivative(t, order: 0), derivative(t, order: 1))
        }
    }

    /// tanh with one `exp` (glibc's tanh goes through a slower expm1): for |t| >= 0.5, (1 - e)/(1 + e) with
    /// e = exp(-2|t|) has no cancellation; below, expm1 keeps full relative accuracy. Saturates to +-1 past 19.1.
    @inlinable @inline(__always) public static func fastTanh(_ t: Double) -> Double {
        let a = Swift.abs(t)
        if a >= 19.1 { return t > 0 ? 1 : -1 }
        if a < 0.5 { let m = Foundation.expm1(-2 * a); return (t > 0 ? -1 : 1) * m / (2 + m) }
        let e = Foundation.exp(-2 * a)
        let y = (1 - e) / (1 + e)
        return t > 0 ? y : -y
    }

    /// The `order`-th derivative sigma^(order)(t), order 0...4 (order 4 only for the smooth closed forms; else 0).
    @inlinable public func derivative(_ t: Double, order: Int) -> Double {
        switch self {
        case .relu:
            switch order { case 0: return t > 0 ? t : 0; case 1: return t > 0 ? 1 : 0; default: return 0 }
        case let .abRelu(a, b):
            switch order { case 0: return t > 0 ? b * t : a * t; case 1: return t > 0 ? b : a; default: return 0 }
        case .erf:
            if order == 0 { return Foundation.erf(t) }
            let g = 2 / Double.pi.squareRoot() * Foundation.exp(-t * t)
            switch order { case 1: return g; case 2: return -2 * t * g; case 3: return (4 * t * t - 2) * g
            default: return (12 * t - 8 * t * t * t) * g }
        case .tanh:
            let y = Activation.fastTanh(t), s = 1 - y * y
            switch order { case 0: return y; case 1: return s; case 2: return -2 * y * s; case 3: return s * (6 * y * y - 2)
            default: return s * (16 * y - 24 * y * y * y) }
        case .sigmoid:
            let s = t >= 0 ? 1 / (1 + Foundation.exp(-t)) : Foundation.exp(t) / (1 + Foundation.exp(t))
            let d = s * (1 - s)
            switch order { case 0: return s; case 1: return d; case 2: return d * (1 - 2 * s); case 3: return d * (1 - 6 * s + 6 * s * s)
            default: return d * (1 - 2 * s) * (1 - 12 * s + 12 * s * s) }
        case let .softplus(a):
            let y = a * t
            if order == 0 { return (Swift.max(y, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(y)))) / a }
            let s = y >= 0 ? 1 / (1 + Foundation.exp(-y)) : Foundation.exp(y) / (1 + Foundation.exp(y))
            let d = s * (1 - s)
            switch order { case 1: return s; case 2: return a * d; case 3: return a * a * d * (1 - 2 * s)
            default: return a * a * a * d * (1 - 6 * s + 6 * s * s) }
        case .gelu:
            let pdf = Foundation.exp(-0.5 * t * t) / (2 * Double.pi).squareRoot()
            switch order {
            case 0: return t * 0.5 * Foundation.erfc(-t / 2.0.squareRoot())
            case 1: return 0.5 * Foundation.erfc(-t / 2.0.squareRoot()) + t * pdf
            case 2: return pdf * (2 - t * t)
            case 3: return pdf * (t * t * t - 4 * t)
            default: return pdf * (-t * t * t * t + 7 * t * t - 4) }
        case .sin:
            switch order % 4 { case 0: return Foundation.sin(t); case 1: return Foundation.cos(t); case 2: return -Foundation.sin(t)
            default: return -Foundation.cos(t) }
        case .identity:
            return order == 0 ? t : (order == 1 ? 1 : 0)
        case let .shapedCubic(psi, l):
            let c = psi / Double(l)
            switch order { case 0: return t + c * t * t * t / 3; case 1: return 1 + c * t * t; case 2: return 2 * c * t
            case 3: return 2 * c; default: return 0 }
        }
    }
}
