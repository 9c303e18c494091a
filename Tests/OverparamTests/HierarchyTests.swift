import Foundation
import Testing
@testable import Overparam

/// Seed 001's model: no biases, one output, Huang-Yau scaling.
func hierarchyNetwork(_ act: Activation, depth: Int = 2, width: Int = 12, d: Int = 3, seed: UInt64 = 1) throws -> Network {
    try Network(Architecture(inputDimension: d, hiddenWidths: [Int](repeating: width, count: depth), activation: act, weightVariance: 1,
                             readoutWeightVariance: 1, hasBias: false, parameterization: .huangYau), seed: seed)
}

/// grad f(x_b) at the network's parameters.
func outputGradient(_ net: Network, _ x: Matrix, _ b: Int) throws -> [Double] {
    let pass = try net.forward(x.rows(at: [b]))
    return net.gradient(pass, outputCotangent: Matrix(rows: 1, cols: 1, repeating: 1))
}

func shifted(_ net: Network, _ v: [Double], _ eps: Double) throws -> Network {
    try Network(net.architecture, parameters: zip(net.parameters, v).map { $0 + eps * $1 })
}

@Suite("Neural tangent hierarchy kernels")
struct HierarchyTests {
    static let activations: [Activation] = [.tanh, .sigmoid, .erf, .gelu, .softplus(a: 1)]

    @Test("K^(2) is the empirical NTK", arguments: [Activation.tanh, .gelu])
    func k2IsTheNTK(_ act: Activation) throws {
        let net = try hierarchyNetwork(act, depth: 3)
        let x = SyntheticData.sphereInputs(5, dimension: 3, seed: 2)
        let k = try NeuralTangentHierarchy(net).kernels(x, order: 2).k2
        let ref = try EmpiricalNTK.compute(net, x).ntk
        #expect(relativeError(k, ref) < 1e-13)
    }

    @Test("K^(3) equals central differences of K^(2) along grad f(x_b)", arguments: activations)
    func k3MatchesFiniteDifferences(_ act: Activation) throws {
        let net = try hierarchyNetwork(act)
        let x = SyntheticData.sphereInputs(4, dimension: 3, seed: 3)
        let k = try NeuralTangentHierarchy(net).kernels(x, order: 3)
        let n = x.rows
        var maxErr = 0.0, scale = 0.0
        for b in 0..<n {
            let v = try outputGradient(net, x, b)
            let eps = 1e-4
            let plus = try EmpiricalNTK.compute(try shifted(net, v, eps), x).ntk, minus = try EmpiricalNTK.compute(try shifted(net, v, -eps), x).ntk
            for a1 in 0..<n { for a2 in 0..<n {
                let fd = (plus[a1, a2] - minus[a1, a2]) / (2 * eps)
                maxErr = max(maxErr, abs(fd - k.k3(a1, a2, b))); scale = max(scale, abs(fd))
            } }
        }
        // Central differences carry an O(eps^2) truncation error (relative ~1e-8 here) plus rounding ~1e-16/eps.
        #expect(maxErr / scale < 1e-6, "max error \(maxErr) on scale \(scale)")
        for a1 in 0..<n { for a2 in 0..<n { for b in 0..<n { #expect(abs(k.k3(a1, a2, b) - k.k3(a2, a1, b)) <= 1e-14 * scale) } } }
    }

    @Test("K^(4) equals central differences of K^(3) along grad f(x_b2)", arguments: activations)
    func k4MatchesFiniteDifferences(_ act: Activation) throws {
        let net = try hierarchyNetwork(act, depth: act == .tanh ? 3 : 2)
        let x = SyntheticData.sphereInputs(3, dimension: 3, seed: 4)
        let k = try NeuralTangentHierarchy(net).kernels(x, order: 4)
        let n = x.rows
        var maxErr = 0.0, scale = 0.0
        for c in 0..<n {
            let v = try outputGradient(net, x, c)
            let eps = 1e-4
            let plus = try NeuralTangentHierarchy(try shifted(net, v, eps)).kernels(x, order: 3)
            let minus = try NeuralTangentHierarchy(try shifted(net, v, -eps)).kernels(x, order: 3)
            for a1 in 0..<n { for a2 in 0..<n { for b in 0..<n {
                let fd = (plus.k3(a1, a2, b) - minus.k3(a1, a2, b)) / (2 * eps)
                maxErr = max(maxErr, abs(fd - k.k4(a1, a2, b, c))); scale = max(scale, abs(fd))
            } } }
        }
        #expect(maxErr / scale < 1e-6, "max error \(maxErr) on scale \(scale)")
    }

    @Test("K^(3) is the symmetrized second derivative D^2 f_a1[grad f_a2, grad f_b] + (a1 <-> a2)")
    func k3FromSecondDerivatives() throws {
        let net = try hierarchyNetwork(.tanh)
        let x = SyntheticData.sphereInputs(3, dimension: 3, seed: 5)
        let k = try NeuralTangentHierarchy(net).kernels(x, order: 3)
        let grads = try (0..<3).map { try outputGradient(net, x, $0) }
        for a1 in 0..<3 { for a2 in 0..<3 { for b in 0..<3 {
            let t1 = try net.directionalDerivative(x, directions: [grads[a2], grads[b]])[a1, 0]
            let t2 = try net.directionalDerivative(x, directions: [grads[a1], grads[b]])[a2, 0]
            #expect(abs(t1 + t2 - k.k3(a1, a2, b)) < 1e-12 * max(1, abs(t1 + t2)))
        } } }
    }

    @Test("networks with biases or several outputs are rejected with a clear error")
    func rejectsUnsupported() throws {
        let biased = try Network(Architecture(inputDimension: 2, hiddenWidths: [4], biasVariance: 0.1), seed: 0)
        #expect { try NeuralTangentHierarchy(biased) } throws: { "\($0)".contains("without biases") }
        let multi = try Network(Architecture(inputDimension: 2, hiddenWidths: [4], outputDimension: 2), seed: 0)
        #expect { try NeuralTangentHierarchy(multi) } throws: { "\($0)".contains("one output") }
        let ok = try hierarchyNetwork(.tanh)
        #expect { try NeuralTangentHierarchy(ok).kernels(Matrix(rows: 2, cols: 3), order: 5) } throws: { "\($0)".contains("2, 3 or 4") }
    }
}
