import Foundation
import Overparam

/// Shared pieces of the random-networks-at-initialization experiments (seed 004 chapters 3-4).
enum InitSupport {
    /// Settings written "key=value,key=value" (values zero-padded where they sort).
    static func value(_ key: RunKey, _ name: String) -> String? {
        for part in key.setting.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 && kv[0] == name { return String(kv[1]) }
        }
        return nil
    }
    static func int(_ key: RunKey, _ name: String) -> Int { Int(value(key, name) ?? "") ?? 0 }

    /// The activation at criticality used throughout chapter 3: ReLU with C_W = 2, tanh with C_W = 1.
    static func criticalWeightVariance(_ activation: String) -> Double { activation == "relu" ? 2 : 1 }

    /// A power-law claim on Monte-Carlo estimates with standard errors: the exponent of a weighted fit of log |y| on
    /// log x, using only the points resolved from zero (|y| > 2 SE, so that log |y| is meaningful), is within 3 SE of
    /// `expected` (plus `bias`, a theory-computed offset of the finite-size exponent, when given).
    static func exponentClaim(_ statement: String, x: [Double], estimates: [MonteCarloEstimate], expected: Double,
                              bias: Double = 0, biasNote: String = "") -> (Claim, LinearFit?) {
        let keep = estimates.indices.filter { abs(estimates[$0].value) > 2 * estimates[$0].standardError && x[$0] > 0 }
        let fit = LinearFit.powerLaw(x: keep.map { x[$0] }, y: keep.map { abs(estimates[$0].value) },
                                     standardErrors: keep.map { estimates[$0].standardError })
        let used = "fit over \(keep.count) of \(x.count) points with |value| > 2 SE"
        guard let fit, keep.count >= 3 else {
            return (Claim(statement, measured: .nan, expected: sig(expected, 3), tolerance: "needs >= 3 resolved points (\(used))", passed: false), nil)
        }
        let target = expected + bias
        let expectedText = bias == 0 ? sig(expected, 3) : "\(sig(target, 3)) (\(sig(expected, 3)) asymptotically; \(biasNote))"
        return (Claim(statement, measured: fit.slope, expected: expectedText,
                      tolerance: "3 SE of the weighted slope (SE \(sig(fit.slopeStandardError, 2)); \(used))",
                      passed: abs(fit.slope - target) <= 3 * fit.slopeStandardError), fit)
    }

    /// Weighted least squares y ~ sum_j c_j f_j(x) with known standard deviations: coefficients and their standard
    /// errors (from the measurement errors: sqrt of the diagonal of (F^T W F)^-1). Nil if singular or underdetermined.
    static func weightedLeastSquares(_ design: [[Double]], _ y: [Double], _ sigma: [Double]) -> (coefficients: [Double], errors: [Double])? {
        let p = design.first?.count ?? 0
        guard p > 0, design.count >= p, design.count == y.count, y.count == sigma.count else { return nil }
        var a = [[Double]](repeating: [Double](repeating: 0, count: 2 * p), count: p), b = [Double](repeating: 0, count: p)
        for (i, row) in design.enumerated() {
            let w = 1 / (sigma[i] * sigma[i])
            for j in 0..<p { b[j] += w * row[j] * y[i]; for k in 0..<p { a[j][k] += w * row[j] * row[k] } }
        }
        for j in 0..<p { a[j][p + j] = 1 }
        // Gauss-Jordan with partial pivoting on [A | I].
        for col in 0..<p {
            guard let piv = (col..<p).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[piv][col]) > 0 else { return nil }
            a.swapAt(col, piv)
            let d = a[col][col]
            for k in 0..<(2 * p) { a[col][k] /= d }
            for r in 0..<p where r != col {
                let f = a[r][col]
                if f != 0 { for k in 0..<(2 * p) { a[r][k] -= f * a[col][k] } }
            }
        }
        let inv = a.map { Array($0[p...]) }
        let c = (0..<p).map { j in (0..<p).reduce(0.0) { $0 + inv[j][$1] * b[$1] } }
        return (c, (0..<p).map { inv[$0][$0].squareRoot() })
    }

    /// The exponent p of |y| ~ A N^p (1 + B/N): weighted fit of log |y| on (1, log N, 1/N), the standard fit with the
    /// leading correction to scaling (Theorem 3.3.3 and eq. 3.4.2 are statements about N -> infinity at fixed L; at
    /// finite N every moment carries relative corrections of order L/N). Claim: p within 3 SE of `expected`.
    static func scalingClaim(_ statement: String, x: [Double], estimates: [MonteCarloEstimate], expected: Double) -> Claim {
        let keep = estimates.indices.filter { abs(estimates[$0].value) > 2 * estimates[$0].standardError && x[$0] > 0 }
        let used = "\(keep.count) of \(x.count) widths with |value| > 2 SE"
        guard keep.count >= 4, let fit = weightedLeastSquares(keep.map { [1, Foundation.log(x[$0]), 1 / x[$0]] }, keep.map { Foundation.log(abs(estimates[$0].value)) },
                                                             keep.map { estimates[$0].standardError / abs(estimates[$0].value) }) else {
            return Claim(statement, measured: .nan, expected: sig(expected, 3), tolerance: "needs >= 4 resolved widths (\(used))", passed: false)
        }
        return Claim(statement, measured: fit.coefficients[1], expected: sig(expected, 3),
                     tolerance: "3 SE of the exponent of a weighted fit log|y| = a + p log N + b/N (SE \(sig(fit.errors[1], 2)); \(used))",
                     passed: abs(fit.coefficients[1] - expected) <= 3 * fit.errors[1])
    }

    /// The 1/N coefficient c_1 of y = c_1/N + c_2/N^2 + c_3/N^3 (weighted fit). `vanishes`: claim c_1 = 0 within 3 SE
    /// (the 1/N term is removed); otherwise claim c_1 != 0 by more than 5 SE (a genuine 1/N term).
    static func inverseWidthClaim(_ statement: String, x: [Double], estimates: [MonteCarloEstimate], vanishes: Bool) -> (Claim, [Double]) {
        guard let fit = weightedLeastSquares(x.map { [1 / $0, 1 / ($0 * $0), 1 / ($0 * $0 * $0)] }, estimates.map(\.value), estimates.map(\.standardError)) else {
            return (Claim(statement, measured: .nan, expected: vanishes ? "0" : "!= 0", tolerance: "needs >= 3 widths", passed: false), [])
        }
        let c1 = fit.coefficients[0], se = fit.errors[0]
        let detail = "c_2 = \(sig(fit.coefficients[1], 3)) +- \(sig(fit.errors[1], 2)); weighted fit y = c1/N + c2/N^2 + c3/N^3 over \(x.count) widths"
        return (Claim(statement, measured: c1, expected: vanishes ? "0 within 3 SE (SE \(sig(se, 2)))" : "nonzero by > 5 SE (SE \(sig(se, 2)))",
                      tolerance: "Monte-Carlo standard errors propagated through the fit; \(detail)",
                      passed: vanishes ? abs(c1) <= 3 * se : abs(c1) > 5 * se), fit.coefficients)
    }

    /// "All estimates agree with their predictions within 5 SE": the claim reports the largest z-score.
    static func agreementClaim(_ statement: String, estimates: [MonteCarloEstimate], predictions: [Double], what: String) -> Claim {
        let z = zip(estimates, predictions).map { $0.zScore($1) }
        let worst = z.max() ?? .nan
        return Claim(statement, measured: worst, expected: "max |MC - \(what)| / SE < 5",
                     tolerance: "5 Monte-Carlo standard errors (jackknife) at each of \(z.count) settings", passed: worst < 5)
    }

    static func estimate(_ m: [String: Double], _ name: String) -> MonteCarloEstimate {
        MonteCarloEstimate(value: m[name] ?? .nan, standardError: m[name + "_se"] ?? .nan)
    }

    static func put(_ m: inout [String: Double], _ name: String, _ e: MonteCarloEstimate) {
        m[name] = e.value
        m[name + "_se"] = e.standardError
    }

    static func errorBars(_ x: [Double], _ e: [MonteCarloEstimate], label: String, color: Int, absolute: Bool = false) -> [PlotLayer] {
        let y = e.map { absolute ? abs($0.value) : $0.value }
        return [.errorBars(x: x, y: y, err: e.map { $0.standardError.isFinite ? $0.standardError : 0 }, label: label, color: color),
                .line(x: x, y: y, label: nil, color: color)]
    }

    /// Extrapolation of a large-depth limit: with y(l) = T + (a ln l + b) / l + O((ln l)^2 / l^2) (the form of every
    /// depth asymptotic here: one logarithm from summing the O(1/l) corrections), three depths l1 < l2 < l3 determine
    /// (T, a, b). Returns (T, a).
    static func extrapolate(_ l: [Double], _ y: [Double]) -> (limit: Double, logCoefficient: Double)? {
        guard l.count == 3, y.count == 3 else { return nil }
        let rows = l.map { [1, Foundation.log($0) / $0, 1 / $0] }
        func det(_ m: [[Double]]) -> Double {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        }
        let d = det(rows)
        guard d != 0 else { return nil }
        func replaced(_ c: Int) -> [[Double]] { rows.enumerated().map { i, r in var r = r; r[c] = y[i]; return r } }
        return (det(replaced(0)) / d, det(replaced(1)) / d)
    }

    /// "y(l) -> target at rate (ln l)/l": the gap |y - target| must shrink by a factor >= 5 over the last decade of
    /// depth. Theory: y = target + (a ln l + b)/l + ..., whose gap shrinks by about 10 ln(l/10)/ln(l) (8-9 here) per
    /// decade; a wrong target would plateau (factor -> 1) and a 1/sqrt(l) approach would give 3.2. The three-point
    /// extrapolation (``extrapolate(_:_:)``) is reported alongside.
    static func limitClaim(_ statement: String, l: [Double], y: [Double], target: Double, derivedLogCoefficient: (Double, String)? = nil) -> (Claim, String) {
        guard l.count == 3, y.count == 3, let (t, a) = extrapolate(l, y) else {
            return (Claim(statement, measured: .nan, expected: sig(target, 6), tolerance: "needs 3 depths", passed: false), "")
        }
        let factor = abs(y[1] - target) / abs(y[2] - target)
        let note = "y = \(zip(l, y).map { "\(sig($1, 8)) at l = \(Int($0))" }.joined(separator: ", ")); three-point extrapolation \(sig(t, 8)) (target \(sig(target, 8))), log coefficient a = \(sig(a, 4))"
            + (derivedLogCoefficient.map { ", derived \(sig($0.0, 4)) (\($0.1))" } ?? "")
        return (Claim(statement, measured: factor, expected: ">= 5 (the gap to \(sig(target, 6)) shrinks from \(sig(abs(y[1] - target), 2)) at l = \(Int(l[1])) to \(sig(abs(y[2] - target), 2)) at l = \(Int(l[2])))",
                      tolerance: "deterministic; theory: gap = (a ln l + b)/l, about 8-9x smaller per decade; a wrong limit plateaus (1x), a 1/sqrt(l) approach gives 3.2x",
                      passed: factor >= 5), note)
    }
}
