import Foundation
import CBLAS

/// The mean potential of seed 003 eq. 3.6 (seed 000's particle gradient g(rho, u, theta), eq. 18, with alpha = 1),
/// frozen at one measure mu:
///
///     J(w | mu) = < Psi(w), grad R(h_mu) > + r(w) = theta2 c(theta1) + r(w),
///     c(u) = E[(h_mu(x) - y) sigma(u . x~)],
///
/// for the square loss R(h) = (1/2) E (h - y)^2, whose gradient in L2(P_x) is h - E[y | x], and the penalty r of
/// ``ConfiningPenalty``. Its gradient drives every particle: grad_w J(w_j | mu) = m grad_{w_j} G(W), so the flow
/// W' = -m grad G(W) (seed 003 eq. 3.4) is w_j' = -grad J(w_j | mu) (seed 003 sec. 4.2, seed 000 eq. 20).
///
/// Global optimality (seed 003 sec. 4.3, Theorem 3; seed 000 eqs. 17-19): J = 0 on the support of the optimal mu
/// (for 2-homogeneous Psi; a constant in general) and J >= 0 everywhere. For ReLU and a homogeneous penalty the
/// minimum over the unit sphere of w is min_{|u| = 1} -(1/2) |c(u)| + lambda/2 (``sphereMinimum(directions:)``).
public struct MeanFieldPotential: Sendable {
    enum Source: Sendable {
        /// An empirical measure: augmented inputs x~_i (n x D) and residuals h(x_i) - y_i.
        case sample(inputs: Matrix, residuals: [Double], activation: Activation)
        /// ReLU with x ~ N(0, variance I): the residual is sum_l coefficients_l (v_l . x)_+ (+ label noise, which is
        /// independent of x and drops out of c).
        case gaussianReLU(coefficients: [Double], directions: Matrix, variance: Double)
    }

    let source: Source
    /// The penalty r in J.
    public let penalty: ConfiningPenalty
    /// D, the dimension of theta1.
    public let featureDimension: Int

    init(source: Source, penalty: ConfiningPenalty, featureDimension: Int) {
        self.source = source
        self.penalty = penalty
        self.featureDimension = featureDimension
    }

    /// c(u) = E[(h(x) - y) sigma(u . x~)] and grad_u c(u) = E[(h(x) - y) sigma'(u . x~) x~] for every row u of `u`
    /// (k x D). Sample measures: two GEMMs; the Gaussian ReLU population: the arc-cosine kernel in closed form.
    public func correlation(_ u: Matrix) throws -> (values: [Double], gradients: Matrix) {
        guard u.cols == featureDimension else {
            throw OverparamError.shapeMismatch("theta1 points have \(u.cols) coordinates, the potential lives in D = \(featureDimension)")
        }
        guard u.isFinite else { throw OverparamError.nonFinite("points where J is evaluated") }
        let k = u.rows, dd = featureDimension
        var values = [Double](repeating: 0, count: k)
        var grads = Matrix(rows: k, cols: dd)
        if k == 0 { return (values, grads) }
        switch source {
        case let .sample(x, delta, act):
            let n = x.rows
            var z = Matrix(uninitializedRows: n, cols: k)
            Matrix.gemm(x, .none, u, .transposed, into: &z)
            // z <- delta_i sigma'(z_ij) / n, values_j = (1/n) sum_i delta_i sigma(z_ij); rows in fixed order.
            let invN = 1 / Double(n)
            z.storage.withUnsafeMutableBufferPointer { zp in
                values.withUnsafeMutableBufferPointer { vp in
                    delta.withUnsafeBufferPointer { dp in
                        for i in 0..<n {
                            let di = dp[i] * invN
                            for j in 0..<k {
                                let (s, ds) = act.valueAndSlope(zp[i * k + j])
                                vp[j] += di * s
                                zp[i * k + j] = di * ds
                            }
                        }
                    }
                }
            }
            Matrix.gemm(z, .transposed, x, .none, into: &grads)
        case let .gaussianReLU(c, v, s2):
            let l = c.count
            u.storage.withUnsafeBufferPointer { up in
                v.storage.withUnsafeBufferPointer { vp in
                    grads.storage.withUnsafeMutableBufferPointer { gp in
                        for j in 0..<k {
                            var acc = 0.0
                            for q in 0..<l where c[q] != 0 {
                                acc += c[q] * ReLUGaussianKernel.accumulate(up.baseAddress! + j * dd, vp.baseAddress! + q * dd, dd,
                                                                           variance: s2, gradientScale: c[q],
                                                                           into: gp.baseAddress! + j * dd)
                            }
                            values[j] = acc
                        }
                    }
                }
            }
        }
        return (values, grads)
    }

    /// J(w | mu) and grad_w J(w | mu) at every row w = (theta2, theta1) of `points` (k x (1 + D)).
    public func valuesAndGradients(at points: Matrix) throws -> (values: [Double], gradients: Matrix) {
        guard points.cols == featureDimension + 1 else {
            throw OverparamError.shapeMismatch("points have \(points.cols) coordinates, particles w = (theta2, theta1) have 1 + D = \(featureDimension + 1)")
        }
        let k = points.rows, dd = featureDimension, pd = dd + 1
        var u = Matrix(rows: k, cols: dd)
        for j in 0..<k { for q in 0..<dd { u.storage[j * dd + q] = points.storage[j * pd + 1 + q] } }
        let (c, gc) = try correlation(u)
        var values = [Double](repeating: 0, count: k)
        var grads = Matrix(rows: k, cols: pd)
        let l2 = penalty.theta2, l1 = penalty.theta1
        for j in 0..<k {
            let t2 = points.storage[j * pd]
            var n1 = 0.0
            for q in 0..<dd { let t = u.storage[j * dd + q]; n1 += t * t }
            values[j] = t2 * c[j] + penalty.value(theta2: t2, theta1SquaredNorm: n1)
            grads.storage[j * pd] = c[j] + l2 * t2
            for q in 0..<dd { grads.storage[j * pd + 1 + q] = t2 * gc.storage[j * dd + q] + l1 * u.storage[j * dd + q] }
        }
        return (values, grads)
    }

    /// J(w | mu) at every row of `points`.
    public func values(at points: Matrix) throws -> [Double] { try valuesAndGradients(at: points).values }

    /// grad_w J(w | mu) at every row of `points`.
    public func gradients(at points: Matrix) throws -> Matrix { try valuesAndGradients(at: points).gradients }

    /// min of J over the unit sphere ||w|| = 1 of R^{1+D}, searched over the unit directions u in S^{D-1} given as rows
    /// (e.g. ``MeanFieldDiagnostics/unitDirections(dimension:count:seed:)``): for positively 1-homogeneous sigma and a
    /// homogeneous penalty, J(theta2, s u) = theta2 s c(u) + lambda/2 with theta2^2 + s^2 = 1 is smallest at
    /// theta2 = -sign(c(u)) s = -+1/sqrt(2): -(1/2)|c(u)| + lambda/2. Theorem 3 (seed 003) says a stationary point is
    /// a global optimum exactly when this is >= 0 (with J = 0 on the support). Returns the minimizing w.
    public func sphereMinimum(directions u: Matrix) throws -> (value: Double, point: [Double]) {
        switch source {
        case let .sample(_, _, act): guard act.isPositivelyHomogeneous else {
            throw OverparamError.invalidArgument(name: "activation", problem: "the sphere minimum needs a positively homogeneous sigma (relu, ab-relu, identity), got \(act)")
        }
        case .gaussianReLU: break
        }
        guard penalty.isHomogeneous else {
            throw OverparamError.invalidArgument(name: "penalty", problem: "the sphere minimum needs a 2-homogeneous penalty (lambda2 = lambda1), got \(penalty.theta2), \(penalty.theta1)")
        }
        guard u.rows >= 1 else { throw OverparamError.invalidArgument(name: "directions", problem: "need at least one direction") }
        var un = u
        for j in 0..<u.rows {
            var n = 0.0
            for q in 0..<u.cols { n += u[j, q] * u[j, q] }
            guard n > 0 else { throw OverparamError.invalidArgument(name: "directions", problem: "direction \(j) is zero") }
            let s = 1 / n.squareRoot()
            for q in 0..<u.cols { un[j, q] *= s }
        }
        let c = try correlation(un).values
        var best = 0
        for j in 1..<c.count where Swift.abs(c[j]) > Swift.abs(c[best]) { best = j }
        let h = 1 / 2.0.squareRoot()
        let t2 = c[best] > 0 ? -h : h
        return (-0.5 * Swift.abs(c[best]) + 0.5 * penalty.theta2, [t2] + un.row(best).map { h * $0 })
    }
}

/// The ReLU arc-cosine kernel under x ~ N(0, s^2 I): with phi the angle between u and v,
///
///     k(u, v) = E[(u . x)_+ (v . x)_+] = s^2 |u| |v| (sin phi + (pi - phi) cos phi) / (2 pi),
///     grad_u k(u, v) = E[1(u . x > 0) (v . x)_+ x] = s^2 [(pi - phi) v + |v| sin phi u / |u|] / (2 pi)
///
/// (Cho-Saul 2009; the gradient as in Tian 2017). Checked against Monte Carlo and finite differences in the tests.
enum ReLUGaussianKernel {
    /// |u|, |v|, the angle phi between them and sin phi (nil when either vector is zero).
    @inline(__always)
    static func geometry(_ u: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ n: Int) -> (nu: Double, nv: Double, phi: Double, cos: Double, sin: Double)? {
        var uu = 0.0, vv = 0.0, uv = 0.0
        for q in 0..<n { uu += u[q] * u[q]; vv += v[q] * v[q]; uv += u[q] * v[q] }
        let nu = uu.squareRoot(), nv = vv.squareRoot()
        if nu == 0 || nv == 0 { return nil }
        let c = Swift.min(1, Swift.max(-1, uv / (nu * nv)))
        return (nu, nv, Foundation.acos(c), c, (1 - c * c).squareRoot())
    }

    /// k(u, v) for two length-n vectors.
    static func value(_ u: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ n: Int, variance s2: Double) -> Double {
        guard let g = geometry(u, v, n) else { return 0 }
        return s2 * g.nu * g.nv * (g.sin + (Double.pi - g.phi) * g.cos) / (2 * Double.pi)
    }

    /// Returns k(u, v) and adds gradientScale * grad_u k(u, v) to g.
    static func accumulate(_ u: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ n: Int, variance s2: Double,
                           gradientScale a: Double, into g: UnsafeMutablePointer<Double>) -> Double {
        guard let t = geometry(u, v, n) else { return 0 }
        let f = s2 / (2 * Double.pi)
        let cv = a * f * (Double.pi - t.phi), cu = a * f * t.nv * t.sin / t.nu
        for q in 0..<n { g[q] += cv * v[q] + cu * u[q] }
        return s2 * t.nu * t.nv * (t.sin + (Double.pi - t.phi) * t.cos) / (2 * Double.pi)
    }
}
