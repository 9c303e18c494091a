import Foundation

/// The dual (Gaussian-expectation) maps of an activation, the nonlinear step of every kernel recursion:
///
///     E(q11, q22, q12)    = E[sigma(u) sigma(v)],
///     Edot(q11, q22, q12) = E[sigma'(u) sigma'(v)],   (u, v) ~ N(0, [[q11, q12], [q12, q22]]).
///
/// Closed forms (Cho-Saul arc-cosine kernels, Williams' arcsine kernel), with theta = arccos(q12 / sqrt(q11 q22)):
/// - relu: E = (sqrt(q11 q22 - q12^2) + (pi - theta) q12) / (2 pi), Edot = (pi - theta) / (2 pi);
/// - ab-relu (a t for t < 0, b t for t > 0):
///   E = [(a - b)^2 sqrt(q11 q22 - q12^2) + ((a^2 + b^2)(pi - theta) + 2 a b theta) q12] / (2 pi),
///   Edot = ((a^2 + b^2)(pi - theta) + 2 a b theta) / (2 pi);
/// - erf: E = (2/pi) arcsin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22))),
///   Edot = (4/pi) / sqrt((1 + 2 q11)(1 + 2 q22) - 4 q12^2);
/// - identity: E = q12, Edot = 1.
/// Every other activation uses ``GaussianExpectation`` (2-D quadrature).
public struct DualActivation: Sendable {
    public let activation: Activation
    /// Use quadrature even where a closed form exists (for cross-checks).
    public let forceQuadrature: Bool
    let quadrature: GaussianExpectation

    public init(_ activation: Activation, forceQuadrature: Bool = false, quadrature: GaussianExpectation = .standard) {
        self.activation = activation
        self.forceQuadrature = forceQuadrature
        self.quadrature = quadrature
    }

    /// True when a closed form is used.
    public var isClosedForm: Bool {
        if forceQuadrature { return false }
        switch activation { case .relu, .abRelu, .erf, .identity: return true; default: return false }
    }

    /// (E, Edot) at one covariance.
    @inlinable public func callAsFunction(_ q11: Double, _ q22: Double, _ q12: Double) -> SIMD2<Double> {
        if !forceQuadrature {
            switch activation {
            case .relu: return Self.abRelu(q11, q22, q12, a: 0, b: 1)
            case let .abRelu(a, b): return Self.abRelu(q11, q22, q12, a: a, b: b)
            case .erf: return Self.erf(q11, q22, q12)
            case .identity: return SIMD2(q12, 1)
            default: break
            }
        }
        return quadratureValue(q11, q22, q12)
    }

    /// (E[sigma(u)^2], E[sigma'(u)^2]) for u ~ N(0, q): the diagonal of the maps.
    public func diagonal(_ q: Double) -> SIMD2<Double> { self(q, q, q) }

    @usableFromInline func quadratureValue(_ q11: Double, _ q22: Double, _ q12: Double) -> SIMD2<Double> {
        let act = activation
        return quadrature.expectation(q11: q11, q22: q22, q12: q12, kinksOnAxes: !act.isSmooth) { u, v in
            SIMD2(act.derivative(u, order: 0) * act.derivative(v, order: 0), act.derivative(u, order: 1) * act.derivative(v, order: 1))
        }
    }

    /// The ab-relu closed form (relu is a = 0, b = 1).
    @inlinable @inline(__always)
    public static func abRelu(_ q11: Double, _ q22: Double, _ q12: Double, a: Double, b: Double) -> SIMD2<Double> {
        let p = q11 * q22
        if p <= 0 { return SIMD2(0, (a + b) * (a + b) / 4) }  // a zero input: take theta = pi/2
        let norm = p.squareRoot()
        var c = q12 / norm
        c = c > 1 ? 1 : (c < -1 ? -1 : c)
        let theta = Foundation.acos(c)
        let s = norm * Swift.max(0, 1 - c * c).squareRoot()
        let mix = (a * a + b * b) * (Double.pi - theta) + 2 * a * b * theta
        let e = ((a - b) * (a - b) * s + mix * q12) / (2 * Double.pi)
        return SIMD2(e, mix / (2 * Double.pi))
    }

    /// The erf closed form.
    @inlinable @inline(__always)
    public static func erf(_ q11: Double, _ q22: Double, _ q12: Double) -> SIMD2<Double> {
        let d = (1 + 2 * q11) * (1 + 2 * q22)
        let e = 2 / Double.pi * Foundation.asin(2 * q12 / d.squareRoot())
        let ed = 4 / Double.pi / (d - 4 * q12 * q12).squareRoot()
        return SIMD2(e, ed)
    }
}
