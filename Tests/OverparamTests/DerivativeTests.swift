import Foundation
import Testing
@testable import Overparam

// Parameter derivatives of a small network (gradient, JVP, nested directional derivatives up to order 3, HVP,
// reverse-over-jets) against central finite differences of the next-lower-order quantity.
//
// Tolerance. Central differences with step h along a unit direction have truncation error h^2/6 |D^{k+2}| and
// roundoff ~ eps |D^{k-1}| / h. With h = 1e-5 and the O(1)-O(10) derivative magnitudes of this small network
// (d = 3, widths [5, 4], unit-norm directions) that is ~1e-10 (truncation) + ~1e-11 (roundoff) relative; the
// relative tolerance 1e-6 leaves a factor ~1e4 for larger higher derivatives while still catching any wrong term
// (a missing Faa di Bruno or Leibniz term changes the result at O(1)).

// MARK: - Helpers

private let fdStep = 1e-5
private let fdTolerance = 1e-6



/// A network with parameters theta + h v.
private func shifted(_ net: Network, _ v: [Double], by h: Double) throws -> Network {
    var p = net.parameters
    for i in p.indices { p[i] += h * v[i] }
    return try Network(net.architecture, parameters: p)
}

/// A unit-norm parameter direction.
private func unitDirection(_ count: Int, seed: UInt64) -> [Double] {
    var rng = Xoshiro256StarStar(seed: seed, stream: 99)
    let v = rng.normals(count)
    let norm = dot(v, v).squareRoot()
    return v.map { $0 / norm }
}

/// (F(theta + h v) - F(theta - h v)) / (2h) for a matrix-valued F.
private func centralDifference(_ net: Network, along v: [Double], _ f: (Network) throws -> Matrix) throws -> Matrix {
    let plus = try f(shifted(net, v, by: fdStep)), minus = try f(shifted(net, v, by: -fdStep))
    return (1 / (2 * fdStep)) * (plus - minus)
}

/// The same for a vector-valued F.
private func centralDifference(_ net: Network, along v: [Double], _ f: (Network) throws -> [Double]) throws -> [Double] {
    let plus = try f(shifted(net, v, by: fdStep)), minus = try f(shifted(net, v, by: -fdStep))
    return zip(plus, minus).map { ($0 - $1) / (2 * fdStep) }
}

/// sum_{i,c} G_ic f_c(x_i; theta).
private func contracted(_ net: Network, _ x: Matrix, _ g: Matrix) throws -> Double {
    let f = try net(x)
    return zip(f.storage, g.storage).reduce(0) { $0 + $1.0 * $1.1 }
}

private func gradientOf(_ net: Network, _ x: Matrix, _ g: Matrix) throws -> [Double] {
    net.gradient(try net.forward(x), outputCotangent: g)
}

// MARK: - Tests

@Suite("Network derivatives")
struct DerivativeTests {
    static let smoothActivations: [Activation] = [.tanh, .erf, .gelu, .softplus(a: 1), .sin, .sigmoid, .shapedCubic(psi: 1, depth: 4)]
    static let parameterizations: [Parameterization] = [.ntk, .standard, .meanField, .scaled(alpha: 3), .huangYau, .fangGuZhang, .hanin]

    static let inputs = Matrix([[0.8, -0.3, 0.5], [-0.6, 0.9, 0.2], [0.1, 0.4, -1.1]])
    static let cotangent = Matrix([[0.7, -1.2], [0.4, 0.9], [-0.5, 0.3]])

    static func network(_ act: Activation, _ p: Parameterization) throws -> Network {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [5, 4], activation: act, outputDimension: 2,
                                weightVariance: 1.5, biasVariance: 0.2, parameterization: p)
        return try Network(arch, seed: 3)
    }

    @Test("gradient equals finite differences of sum G f", arguments: DerivativeTests.smoothActivations)
    func gradientMatchesFiniteDifferences(_ act: Activation) throws {
        let x = Self.inputs, g = Self.cotangent
        for p in Self.parameterizations {
            let net = try Self.network(act, p)
            #expect(net.architecture.hasBias)
            let grad = try gradientOf(net, x, g)
            #expect(grad.count == net.layout.count)
            var fd = [Double](repeating: 0, count: net.layout.count)
            for q in 0..<net.layout.count {
                var e = [Double](repeating: 0, count: net.layout.count)
                e[q] = 1
                let plus = try contracted(shifted(net, e, by: fdStep), x, g)
                let minus = try contracted(shifted(net, e, by: -fdStep), x, g)
                fd[q] = (plus - minus) / (2 * fdStep)
            }
            let err = relativeError(grad, fd)
            #expect(err <= fdTolerance, "\(act) \(p): gradient vs finite differences \(err)")
        }
    }

    @Test("JVP and nested directional derivatives equal finite differences", arguments: DerivativeTests.smoothActivations)
    func directionalDerivativesMatchFiniteDifferences(_ act: Activation) throws {
        let x = Self.inputs
        for p in Self.parameterizations {
            let net = try Self.network(act, p)
            let count = net.layout.count
            let v1 = unitDirection(count, seed: 1), v2 = unitDirection(count, seed: 2), v3 = unitDirection(count, seed: 3)
            let label = "\(act) \(p)"

            // D f[v1] vs (f(theta + h v1) - f(theta - h v1)) / 2h.
            let jvp = try net.jvp(x, direction: v1)
            let jvpFD = try centralDifference(net, along: v1) { try $0(x) }
            #expect(relativeError(jvp, jvpFD) <= fdTolerance, "\(label): jvp")
            let d1 = try net.directionalDerivative(x, directions: [v1])
            #expect(relativeError(d1, jvp) <= 1e-13, "\(label): one-direction derivative vs jvp")

            // D^2 f[v1, v2] vs finite differences of D f[v1] along v2; symmetric in its directions.
            let d12 = try net.directionalDerivative(x, directions: [v1, v2])
            let d12FD = try centralDifference(net, along: v2) { try $0.jvp(x, direction: v1) }
            #expect(relativeError(d12, d12FD) <= fdTolerance, "\(label): D2[v1, v2]")
            let d21 = try net.directionalDerivative(x, directions: [v2, v1])
            #expect(relativeError(d21, d12) <= 1e-12, "\(label): D2 symmetry")

            // D^3 f[v1, v2, v3] vs finite differences of D^2 f[v1, v2] along v3.
            let d123 = try net.directionalDerivative(x, directions: [v1, v2, v3])
            let d123FD = try centralDifference(net, along: v3) { try $0.directionalDerivative(x, directions: [v1, v2]) }
            #expect(relativeError(d123, d123FD) <= fdTolerance, "\(label): D3[v1, v2, v3]")

            // Repeated directions: D^3 f[v, v, v] and D^3 f[v1, v1, v2].
            let d111 = try net.directionalDerivative(x, directions: [v1, v1, v1])
            let d111FD = try centralDifference(net, along: v1) { try $0.directionalDerivative(x, directions: [v1, v1]) }
            #expect(relativeError(d111, d111FD) <= fdTolerance, "\(label): D3[v, v, v]")
            let d112 = try net.directionalDerivative(x, directions: [v1, v1, v2])
            let d112FD = try centralDifference(net, along: v2) { try $0.directionalDerivative(x, directions: [v1, v1]) }
            #expect(relativeError(d112, d112FD) <= fdTolerance, "\(label): D3[v1, v1, v2]")
            let d121 = try net.directionalDerivative(x, directions: [v1, v2, v1])
            #expect(relativeError(d121, d112) <= 1e-12, "\(label): D3 symmetry")
        }
    }

    @Test("HVP and reverse-over-jets equal finite differences of the gradient", arguments: DerivativeTests.smoothActivations)
    func hessianVectorProductsMatchFiniteDifferences(_ act: Activation) throws {
        let x = Self.inputs, g = Self.cotangent
        for p in Self.parameterizations {
            let net = try Self.network(act, p)
            let count = net.layout.count
            let v1 = unitDirection(count, seed: 4), v2 = unitDirection(count, seed: 5)
            let label = "\(act) \(p)"

            let grad = try gradientOf(net, x, g)
            let hv = try net.hvp(x, outputCotangent: g, direction: v1)
            let hvFD = try centralDifference(net, along: v1) { try gradientOf($0, x, g) }
            #expect(hv.count == count)
            #expect(relativeError(hv, hvFD) <= fdTolerance, "\(label): hvp")

            // reverseOnJets: index 0 is the gradient, index 1 (= {v1}) is H v1, index 2 is H v2, index 3 is
            // grad_theta sum G D^2 f[v1, v2], the derivative of H v1 along v2.
            let parts = try net.reverseOnJets(x, outputCotangent: g, directions: [v1, v2])
            #expect(parts.count == 4)
            guard parts.count == 4 else { continue }
            #expect(relativeError(parts[0], grad) <= 1e-12, "\(label): reverseOnJets[0] vs gradient")
            #expect(relativeError(parts[1], hv) <= 1e-12, "\(label): reverseOnJets[1] vs hvp")
            let hv2 = try net.hvp(x, outputCotangent: g, direction: v2)
            #expect(relativeError(parts[2], hv2) <= 1e-12, "\(label): reverseOnJets[2] vs hvp")
            let mixedFD = try centralDifference(net, along: v2) { try $0.hvp(x, outputCotangent: g, direction: v1) }
            #expect(relativeError(parts[3], mixedFD) <= fdTolerance, "\(label): reverseOnJets[3]")

            // Consistency with the forward jets: v2 . (H v1) = sum G D^2 f[v1, v2].
            let d12 = try net.directionalDerivative(x, directions: [v1, v2])
            let contractedD12 = zip(d12.storage, g.storage).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(Swift.abs(dot(v2, hv) - contractedD12) <= 1e-12 * Swift.max(1, Swift.abs(contractedD12)), "\(label): v2 . H v1")
        }
    }

    @Test("derivative arguments are validated")
    func argumentValidation() throws {
        let net = try Self.network(.tanh, .ntk)
        let v = unitDirection(net.layout.count, seed: 9)
        var caught = 0
        do { _ = try net.directionalDerivative(Self.inputs, directions: [v, v, v, v]) } catch is OverparamError { caught += 1 }
        do { _ = try net.directionalDerivative(Self.inputs, directions: []) } catch is OverparamError { caught += 1 }
        do { _ = try net.jvp(Self.inputs, direction: [1, 2]) } catch is OverparamError { caught += 1 }
        do { _ = try net.hvp(Self.inputs, outputCotangent: Matrix(rows: 3, cols: 1), direction: v) } catch is OverparamError { caught += 1 }
        do { _ = try net.jvp(Matrix(rows: 2, cols: 4), direction: v) } catch is OverparamError { caught += 1 }
        #expect(caught == 5)
    }
}
