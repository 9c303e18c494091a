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
        let norm = p.squareRoot()
        return abRelu(norm: norm, inverseNorm: norm > 0 ? 1 / norm : 0, q12, a: a, b: b)
    }

    /// The ab-relu closed form given sqrt(q11 q22) and its inverse (0 for a zero input, which gives theta = pi/2).
    /// sqrt(q11 q22 - q12^2) is evaluated as sqrt(q11 q22) sqrt(1 - c^2).
    @inlinable @inline(__always)
    public static func abRelu(norm: Double, inverseNorm: Double, _ q12: Double, a: Double, b: Double) -> SIMD2<Double> {
        var c = q12 * inverseNorm
        // Within 4 ulp of +-1 the inputs are parallel up to rounding: snap, so exactly parallel pairs (the diagonal)
        // get theta = 0 exactly instead of acos(1 - eps) ~ 2e-8.
        c = c > 1 - 4 * Double.ulpOfOne ? 1 : (c < -1 + 4 * Double.ulpOfOne ? -1 : c)
        let theta = arccos(c)
        let s = norm * Swift.max(0, (1 - c) * (1 + c)).squareRoot()
        let mix = (a * a + b * b) * (Double.pi - theta) + 2 * a * b * theta
        let inv2pi = 1 / (2 * Double.pi)
        return SIMD2(((a - b) * (a - b) * s + mix * q12) * inv2pi, mix * inv2pi)
    }

    /// arccos(x) for x in [-1, 1], inlinable (fdlibm's rational approximation of asin on [0, 1/2], with
    /// acos(x) = pi/2 - asin(x) for |x| <= 1/2 and 2 asin(sqrt((1 - |x|)/2)) otherwise); within 2 ulp of libm.
    /// Inlined so that independent kernel entries overlap in the pipeline.
    @inlinable @inline(__always)
    public static func arccos(_ x: Double) -> Double {
        let ax = Swift.abs(x)
        let big = ax > 0.5
        let z = big ? (1 - ax) * 0.5 : x * x
        let p = z * (1.66666666666666657415e-01 + z * (-3.25565818622400915405e-01 + z * (2.01212532134862925881e-01
                + z * (-4.00555345006794114027e-02 + z * (7.91534994289814532176e-04 + z * 3.47933107596021167570e-05)))))
        let q = 1 + z * (-2.40339491173441421878e+00 + z * (2.02094576023350569471e+00 + z * (-6.88283971605453293030e-01
                + z * 7.70381505559019352791e-02)))
        let r = p / q
        if !big { return 1.57079632679489655800e+00 - (x - (6.12323399573676603587e-17 - x * r)) }
        let s = z.squareRoot()
        let w = s + s * r
        return x > 0 ? 2 * w : Double.pi - 2 * w
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
