import Foundation

/// The adaptive Runge-Kutta method of Dormand and Prince, order 5 with an embedded order-4 error estimate
/// (FSAL, the method of MATLAB's ode45), for y' = F(t, y) with y a flat vector. Used for gradient flow
/// theta' = -grad L(theta) and for function-space flows (neural tangent hierarchy).
///
/// Step-size control: err = max_i |y5_i - y4_i| / (atol + rtol max(|y_i|, |y5_i|)); accept when err <= 1;
/// h <- h min(5, max(0.2, 0.9 err^(-1/5))).
public struct DormandPrince: Sendable {
    public var relativeTolerance: Double
    public var absoluteTolerance: Double
    public var initialStep: Double?
    public var maxSteps: Int

    public init(relativeTolerance: Double = 1e-8, absoluteTolerance: Double = 1e-10, initialStep: Double? = nil, maxSteps: Int = 1_000_000) {
        self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
        self.initialStep = initialStep; self.maxSteps = maxSteps
    }

    static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    static let a: [[Double]] = [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    /// 5th-order weights (= last row of a) and the difference to the embedded 4th-order weights.
    static let b5: [Double] = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0]
    static let e: [Double] = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40]

    /// Integrate from t0 to t1; `observe(t, y)` is called at t0, at each time in `outputTimes` (hit exactly, in
    /// increasing order) and at t1. Returns y(t1) and the number of accepted steps.
    public func integrate(_ y0: [Double], from t0: Double, to t1: Double, outputTimes: [Double] = [],
                          _ f: ([Double], Double) throws -> [Double],
                          observe: ([Double], Double) throws -> Void = { _, _ in }) throws -> (y: [Double], steps: Int) {
        var y = y0, t = t0
        try observe(y, t)
        var targets = outputTimes.filter { $0 > t0 && $0 < t1 } + [t1]
        var k1 = try f(y, t)
        let n = y.count
        var h = initialStep ?? {
            let d0 = Foundation.sqrt(y.reduce(0) { $0 + $1 * $1 } / Double(max(1, n)))
            let d1 = Foundation.sqrt(k1.reduce(0) { $0 + $1 * $1 } / Double(max(1, n)))
            return (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        }()
        h = Swift.min(h, t1 - t0)
        var steps = 0
        var ks = [[Double]](repeating: [], count: 7)
        while !targets.isEmpty {
            guard steps < maxSteps else { throw OverparamError.diverged("gradient flow took more than \(maxSteps) steps; loosen the tolerance or shorten the time") }
            let target = targets[0]
            var hStep = Swift.min(h, target - t)
            if hStep <= 0 { targets.removeFirst(); try observe(y, t); continue }
            ks[0] = k1
            var yTmp = y
            for s in 1...6 {
                for i in 0..<n {
                    var acc = 0.0
                    for j in 0..<s where Self.a[s][j] != 0 { acc += Self.a[s][j] * ks[j][i] }
                    yTmp[i] = y[i] + hStep * acc
                }
                ks[s] = try f(yTmp, t + Self.c[s] * hStep)
            }
            // yTmp is now the 5th-order solution (row 6 of a equals b5); ks[6] = f at it (FSAL).
            var err = 0.0
            for i in 0..<n {
                var d = 0.0
                for j in 0..<7 where Self.e[j] != 0 { d += Self.e[j] * ks[j][i] }
                let sc = absoluteTolerance + relativeTolerance * Swift.max(Swift.abs(y[i]), Swift.abs(yTmp[i]))
                err = Swift.max(err, Swift.abs(hStep * d) / sc)
            }
            guard err.isFinite, yTmp.allSatisfy({ $0.isFinite }) else {
                throw OverparamError.diverged("gradient flow produced NaN/Inf at t = \(t); lower the learning rate or the time horizon")
            }
            if err <= 1 {
                t += hStep
                y = yTmp
                k1 = ks[6]
                steps += 1
                if Swift.abs(t - target) <= 1e-14 * Swift.max(1, Swift.abs(target)) { t = target; targets.removeFirst(); try observe(y, t) }
            }
            let factor = err == 0 ? 5 : Swift.min(5, Swift.max(0.2, 0.9 * Foundation.pow(err, -0.2)))
            hStep *= factor
            h = hStep
        }
        return (y, steps)
    }
}
