import Foundation

/// Least-squares line y = a + b x with the standard error of the slope (from the residuals; n - 2 degrees of
/// freedom) — the fits behind every "slope" claim.
public struct LinearFit: Sendable {
    public var intercept: Double
    public var slope: Double
    public var slopeStandardError: Double
    public var count: Int

    public init?(x: [Double], y: [Double]) {
        let pts = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        let n = Double(pts.count)
        guard pts.count >= 3 else { return nil }
        let mx = pts.reduce(0) { $0 + $1.0 } / n, my = pts.reduce(0) { $0 + $1.1 } / n
        let sxx = pts.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        guard sxx > 0 else { return nil }
        let sxy = pts.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let b = sxy / sxx, a0 = my - b * mx
        slope = b
        intercept = a0
        let rss = pts.reduce(0) { let r = $1.1 - (a0 + b * $1.0); return $0 + r * r }
        slopeStandardError = (rss / (n - 2) / sxx).squareRoot()
        count = pts.count
    }

    /// Weighted least squares with known standard deviations `sigma` of the y values: the slope's standard error
    /// then comes from the measurement errors, sqrt(1 / sum w_i (x_i - xbar_w)^2), w_i = 1 / sigma_i^2.
    public init?(x: [Double], y: [Double], sigma: [Double]) {
        let pts = (0..<min(x.count, y.count, sigma.count)).filter { x[$0].isFinite && y[$0].isFinite && sigma[$0] > 0 }
        guard pts.count >= 2 else { return nil }
        let w = pts.map { 1 / (sigma[$0] * sigma[$0]) }, sw = w.reduce(0, +)
        let mx = zip(pts, w).reduce(0) { $0 + $1.1 * x[$1.0] } / sw, my = zip(pts, w).reduce(0) { $0 + $1.1 * y[$1.0] } / sw
        let sxx = zip(pts, w).reduce(0) { $0 + $1.1 * (x[$1.0] - mx) * (x[$1.0] - mx) }
        guard sxx > 0 else { return nil }
        let sxy = zip(pts, w).reduce(0) { $0 + $1.1 * (x[$1.0] - mx) * (y[$1.0] - my) }
        slope = sxy / sxx
        intercept = my - slope * mx
        slopeStandardError = (1 / sxx).squareRoot()
        count = pts.count
    }

    /// Power law with standard errors of y: fits log y with sigma_log = se / y.
    public static func powerLaw(x: [Double], y: [Double], standardErrors se: [Double]) -> LinearFit? {
        let idx = (0..<min(x.count, y.count, se.count)).filter { x[$0] > 0 && y[$0] > 0 }
        return LinearFit(x: idx.map { Foundation.log(x[$0]) }, y: idx.map { Foundation.log(y[$0]) }, sigma: idx.map { se[$0] / y[$0] })
    }

    /// Fit log y against log x (power law y ~ x^slope).
    public static func powerLaw(x: [Double], y: [Double]) -> LinearFit? {
        let pts = zip(x, y).filter { $0.0 > 0 && $0.1 > 0 }
        return LinearFit(x: pts.map { Foundation.log($0.0) }, y: pts.map { Foundation.log($0.1) })
    }
}

/// Mean and standard error of the mean.
public func meanAndStandardError(_ v: [Double]) -> (mean: Double, se: Double) {
    let n = Double(v.count)
    guard v.count > 1 else { return (v.first ?? .nan, .nan) }
    let m = v.reduce(0, +) / n
    let s2 = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
    return (m, (s2 / n).squareRoot())
}

extension PlotLayer {
    /// The mean +- standard error of each group (``meanAndStandardError(_:)``; an undefined SE, one value, draws as 0)
    /// at x, as error bars joined by a line of the same color, all scaled by `scale`.
    static func meanWithErrorBars(_ x: [Double], _ groups: [[Double]], label: String, color: Int, scale: Double = 1) -> [PlotLayer] {
        let st = groups.map { meanAndStandardError($0) }
        return [.errorBars(x: x, y: st.map { $0.mean * scale }, err: st.map { ($0.se.isFinite ? $0.se : 0) * scale }, label: label, color: color),
                .line(x: x, y: st.map { $0.mean * scale }, label: nil, color: color)]
    }
}

/// Format a number with `digits` significant digits.
public func sig(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
