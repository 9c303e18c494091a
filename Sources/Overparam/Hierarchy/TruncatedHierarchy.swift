import Foundation

/// The truncated neural tangent hierarchy (seed 001 eq. 15): under gradient flow on L = (1/2n) sum_b (f_b - y_b)^2,
///
///     d f_a / dt                    = -(1/n) sum_b K^(2)(a, b) r_b,                 r_b = f(x_b) - y_b,
///     d K^(r)(a_1..a_(r-1), .) / dt = -(1/n) sum_b K^(r+1)(a_1..a_(r-1), ., b) r_b,  r = 2, ..., p - 1,
///
/// with K^(p) frozen at its value at t = 0. p = 2 is the frozen empirical-NTK (lazy) dynamics, p = 3 lets the NTK
/// drift along the frozen K^(3), p = 4 lets K^(3) drift along the frozen K^(4). Outputs at test points (eq. 22) follow
/// from the same equations with their first index at a test point: all kernels are held over the training points
/// followed by the test points.
///
/// ``Truncation/reducedThird`` is the seed's reduced p = 3 system in (r, R) (SEED-NOTES correction):
/// K_t^(2)(a, c) = K_0^(2)(a, c) - (1/n) sum_b K_0^(3)(a, c, b) R_b(t), dR/dt = r; it equals ``Truncation/order(_:)``
/// with p = 3 and has n extra unknowns instead of N^2.
public struct TruncatedHierarchy: Sendable {
    public enum Truncation: Sendable, Hashable, CustomStringConvertible {
        case order(Int)
        case reducedThird
        public var description: String { if case .order(let p) = self { return "p=\(p)" } else { return "p=3 (reduced)" } }
        var neededOrder: Int { if case .order(let p) = self { return p } else { return 3 } }
    }

    public let kernels: HierarchyKernels
    public let trainCount: Int
    public let targets: [Double]
    public let truncation: Truncation

    /// `kernels` at t = 0 over N points whose first `trainCount` are the training points with `targets`.
    public init(kernels: HierarchyKernels, trainCount: Int, targets: [Double], truncation: Truncation) throws {
        guard trainCount >= 1, trainCount <= kernels.count, targets.count == trainCount else {
            throw OverparamError.shapeMismatch("\(targets.count) targets for \(trainCount) training points among \(kernels.count) kernel points")
        }
        switch truncation {
        case .order(let p): guard (2...4).contains(p) else { throw OverparamError.invalidArgument(name: "--truncation", problem: "p must be 2, 3 or 4 (got \(p))") }
        case .reducedThird: break
        }
        let needed = truncation.neededOrder
        guard needed < 3 || kernels.k3 != nil, needed < 4 || kernels.k4 != nil else {
            throw OverparamError.invalidArgument(name: "kernels", problem: "truncation \(truncation) needs K^(\(needed)); compute the kernels with order \(needed)")
        }
        self.kernels = kernels; self.trainCount = trainCount; self.targets = targets; self.truncation = truncation
    }

    /// f(t) at all N points for each of `times` (increasing, >= 0), starting from the outputs `f0` at t = 0.
    public func outputs(initial f0: [Double], at times: [Double], integrator: DormandPrince = DormandPrince()) throws -> [[Double]] {
        let bigN = kernels.count, n = trainCount
        guard f0.count == bigN else { throw OverparamError.shapeMismatch("\(f0.count) initial outputs for \(bigN) points") }
        let nn = bigN * bigN
        var y0 = f0
        switch truncation {
        case .order(let p):
            if p >= 3 { y0 += kernels.k2.storage }
            if p >= 4 { y0 += kernels.k3! }
        case .reducedThird:
            y0 += [Double](repeating: 0, count: n)
        }
        let k2 = kernels.k2.storage, k3 = kernels.k3, k4 = kernels.k4, ys = targets, truncation = self.truncation
        let scale = -1 / Double(n)
        let rhs: ([Double], Double) throws -> [Double] = { y, _ in
            var dy = [Double](repeating: 0, count: y.count)
            let r = (0..<n).map { y[$0] - ys[$0] }
            switch truncation {
            case .order(let p):
                let kNow: ArraySlice<Double> = p >= 3 ? y[bigN..<(bigN + nn)] : k2[...]
                let base = kNow.startIndex
                for a in 0..<bigN { var s = 0.0; for b in 0..<n { s += kNow[base + a * bigN + b] * r[b] }; dy[a] = scale * s }
                if p >= 3 {
                    // dK^(2)[a1, a2] = -(1/n) sum_b K^(3)[a1, a2, b] r_b (K^(3) evolving for p = 4, frozen for p = 3).
                    let k3Now: ArraySlice<Double> = p >= 4 ? y[(bigN + nn)...] : k3![...]
                    let b3 = k3Now.startIndex
                    for i in 0..<nn { var s = 0.0; let o = b3 + i * bigN; for b in 0..<n { s += k3Now[o + b] * r[b] }; dy[bigN + i] = scale * s }
                }
                if p >= 4 {
                    let k4v = k4!
                    for i in 0..<(nn * bigN) { var s = 0.0; let o = i * bigN; for b in 0..<n { s += k4v[o + b] * r[b] }; dy[bigN + nn + i] = scale * s }
                }
            case .reducedThird:
                // K_t^(2)(a, c) = K_0^(2)(a, c) - (1/n) sum_b K_0^(3)(a, c, b) R_b;  df_a = -(1/n) sum_c K_t^(2)(a, c) r_c.
                let bigR = Array(y[bigN..<(bigN + n)])
                let k3v = k3!
                for a in 0..<bigN {
                    var s = 0.0
                    for c in 0..<n {
                        var kt = k2[a * bigN + c]
                        let o = (a * bigN + c) * bigN
                        var drift = 0.0
                        for b in 0..<n { drift += k3v[o + b] * bigR[b] }
                        kt += scale * drift
                        s += kt * r[c]
                    }
                    dy[a] = scale * s
                }
                for b in 0..<n { dy[bigN + b] = r[b] }
            }
            return dy
        }
        var out = [[Double]]()
        let sorted = times.sorted()
        guard let last = sorted.last, sorted.first! >= 0 else { throw OverparamError.invalidArgument(name: "--time", problem: "times must be >= 0") }
        if last == 0 { return sorted.map { _ in f0 } }
        _ = try integrator.integrate(y0, from: 0, to: last, outputTimes: sorted, rhs, observe: { y, t in
            if sorted.contains(where: { abs($0 - t) <= 1e-12 * max(1, abs(t)) }) { out.append(Array(y[0..<bigN])) }
        })
        // Times repeated or equal to 0 are observed once: fill so that out[i] answers times[i].
        return try sorted.map { t in
            guard let i = Self.observedTimes(sorted).firstIndex(where: { abs($0 - t) <= 1e-12 * max(1, abs(t)) }), i < out.count else {
                throw OverparamError.invalidArgument(name: "--time", problem: "time \(t) was not reached")
            }
            return out[i]
        }
    }

    static func observedTimes(_ sorted: [Double]) -> [Double] {
        var seen = [Double]()
        for t in sorted where !seen.contains(where: { abs($0 - t) <= 1e-12 * max(1, abs(t)) }) { seen.append(t) }
        return seen
    }
}

/// The true gradient flow of a finite network, theta' = -grad L(theta), L = (1/2n) sum_b (f(x_b) - y_b)^2 (seed 001
/// eq. 5), with the outputs at extra points recorded at the requested times: the reference for ``TruncatedHierarchy``.
public struct NetworkGradientFlow: Sendable {
    public let network: Network
    public let trainInputs: Matrix
    public let targets: [Double]

    public init(network: Network, trainInputs: Matrix, targets: [Double]) throws {
        guard trainInputs.rows == targets.count, !targets.isEmpty else {
            throw OverparamError.shapeMismatch("\(trainInputs.rows) training inputs but \(targets.count) targets")
        }
        guard network.architecture.outputDimension == 1 else { throw OverparamError.invalidArgument(name: "network", problem: "one output expected") }
        self.network = network; self.trainInputs = trainInputs; self.targets = targets
    }

    /// theta' = -grad L at parameters theta.
    public func velocity(_ theta: [Double]) throws -> [Double] {
        let net = try Network(network.architecture, parameters: theta)
        let pass = try net.forward(trainInputs)
        let n = Double(targets.count)
        var g = pass.outputs
        for i in 0..<targets.count { g[i, 0] = -(g[i, 0] - targets[i]) / n }
        return net.gradient(pass, outputCotangent: g)
    }

    /// The parameters at each of `times` (increasing), each passed with the time to `observe`.
    public func run(times: [Double], integrator: DormandPrince = DormandPrince(), observe: (Network, Double) throws -> Void) throws {
        let sorted = times.sorted()
        guard let last = sorted.last, sorted.first! >= 0 else { throw OverparamError.invalidArgument(name: "--time", problem: "times must be >= 0") }
        let wanted = TruncatedHierarchy.observedTimes(sorted)
        if last == 0 { try observe(network, 0); return }
        _ = try integrator.integrate(network.parameters, from: 0, to: last, outputTimes: sorted, { theta, _ in try velocity(theta) },
                                     observe: { theta, t in
            guard wanted.contains(where: { abs($0 - t) <= 1e-12 * max(1, abs(t)) }) else { return }
            guard theta.allSatisfy({ $0.isFinite }) else { throw OverparamError.diverged("the gradient flow left the finite numbers at t = \(t); shorten --time") }
            try observe(try Network(network.architecture, parameters: theta), t)
        })
    }
}
