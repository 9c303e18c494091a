import Foundation

/// Delete-one jackknife standard errors for smooth functions of sample means (the estimators behind the
/// Monte-Carlo claims of the initialization experiments).
///
/// For columns x_c (c = 1...C, M samples each) and a statistic T(m_1, ..., m_C) of the column means, the
/// leave-one-out values T_(i) use m_c,(i) = (S_c - x_ci) / (M - 1), and
///
///     SE^2 = (M - 1) / M * sum_i (T_(i) - T_bar)^2,
///
/// all in O(M C) time. The reported value is T at the full-sample means.
public enum Jackknife {
    /// T(means of `columns`) with its jackknife standard error. All columns need the same count M >= 2.
    public static func ofMeans(_ columns: [[Double]], _ statistic: ([Double]) -> Double) throws -> MonteCarloEstimate {
        guard let m = columns.first?.count, m >= 2 else {
            throw OverparamError.invalidArgument(name: "samples", problem: "the jackknife needs >= 2 samples")
        }
        guard columns.allSatisfy({ $0.count == m }) else {
            throw OverparamError.shapeMismatch("jackknife columns have different lengths \(columns.map(\.count))")
        }
        let c = columns.count
        let sums = columns.map { $0.reduce(0, +) }
        let full = statistic(sums.map { $0 / Double(m) })
        var loo = [Double](repeating: 0, count: m)
        var means = [Double](repeating: 0, count: c)
        let inv = 1 / Double(m - 1)
        for i in 0..<m {
            for k in 0..<c { means[k] = (sums[k] - columns[k][i]) * inv }
            loo[i] = statistic(means)
        }
        let bar = loo.reduce(0, +) / Double(m)
        let ss = loo.reduce(0) { $0 + ($1 - bar) * ($1 - bar) }
        return MonteCarloEstimate(value: full, standardError: (Double(m - 1) / Double(m) * ss).squareRoot())
    }

    /// The centred moments mu_2, mu_3, mu_4 of a sample (mu_k = E (X - E X)^k, plug-in estimators, bias O(1/M)),
    /// each with its jackknife standard error. The data are centred at their mean first, for accuracy.
    public static func centralMoments(_ x: [Double]) throws -> (second: MonteCarloEstimate, third: MonteCarloEstimate, fourth: MonteCarloEstimate) {
        guard x.count >= 2 else { throw OverparamError.invalidArgument(name: "samples", problem: "need >= 2 values (got \(x.count))") }
        guard x.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("Monte-Carlo samples") }
        let c = x.reduce(0, +) / Double(x.count)
        let y = x.map { $0 - c }
        let cols = [y, y.map { $0 * $0 }, y.map { $0 * $0 * $0 }, y.map { $0 * $0 * $0 * $0 }]
        let mu2 = try ofMeans(cols) { m in m[1] - m[0] * m[0] }
        let mu3 = try ofMeans(cols) { m in m[2] - 3 * m[0] * m[1] + 2 * m[0] * m[0] * m[0] }
        let mu4 = try ofMeans(cols) { m in
            let a = m[0], a2 = a * a
            return m[3] - 4 * a * m[2] + 6 * a2 * m[1] - 3 * a2 * a2
        }
        return (mu2, mu3, mu4)
    }
}
