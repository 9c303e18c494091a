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

@Suite("Truncated neural tangent hierarchy dynamics")
struct TruncatedHierarchyTests {
    static func problem(width: Int = 16, n: Int = 5, test: Int = 2) throws -> (net: Network, x: Matrix, y: [Double]) {
        let net = try hierarchyNetwork(.tanh, width: width, d: 3, seed: 7)
        let x = SyntheticData.sphereInputs(n + test, dimension: 3, seed: 8)
        let y = (0..<n).map { i in Foundation.sin(2 * x[i, 0]) + x[i, 1] }
        return (net, x, y)
    }

    @Test("along the true gradient flow dK2/dt = -(1/n) K3[f - y] and dK3/dt = -(1/n) K4[f - y]")
    func hierarchyIdentitiesAlongTheFlow() throws {
        let (net, x, y) = try Self.problem()
        let n = y.count, bigN = x.rows
        let flow = try NetworkGradientFlow(network: net, trainInputs: x.rows(at: Array(0..<n)), targets: y)
        let t = 0.7, h = 1e-3
        var at = [Double: (HierarchyKernels, [Double])]()
        try flow.run(times: [t - h, t, t + h], integrator: DormandPrince(relativeTolerance: 1e-12, absoluteTolerance: 1e-13)) { net, time in
            at[time] = (try NeuralTangentHierarchy(net).kernels(x, order: 4), try net(x).storage)
        }
        let (km, _) = at[t - h]!, (k0, f) = at[t]!, (kp, _) = at[t + h]!
        let r = (0..<n).map { f[$0] - y[$0] }
        var err2 = 0.0, scale2 = 0.0, err3 = 0.0, scale3 = 0.0
        for a1 in 0..<bigN { for a2 in 0..<bigN {
            let dk2 = (kp.k2[a1, a2] - km.k2[a1, a2]) / (2 * h)
            let pred2 = -(0..<n).reduce(0.0) { $0 + k0.k3(a1, a2, $1) * r[$1] } / Double(n)
            err2 = max(err2, abs(dk2 - pred2)); scale2 = max(scale2, abs(pred2))
            for b in 0..<bigN {
                let dk3 = (kp.k3(a1, a2, b) - km.k3(a1, a2, b)) / (2 * h)
                let pred3 = -(0..<n).reduce(0.0) { $0 + k0.k4(a1, a2, b, $1) * r[$1] } / Double(n)
                err3 = max(err3, abs(dk3 - pred3)); scale3 = max(scale3, abs(pred3))
            }
        } }
        // Central differences in t: O(h^2) ~ 1e-6 relative; the integration error (tolerance 1e-12) divided by 2h ~ 1e-9.
        #expect(err2 / scale2 < 1e-5, "dK2/dt: \(err2) on \(scale2)")
        #expect(err3 / scale3 < 1e-5, "dK3/dt: \(err3) on \(scale3)")
    }

    @Test("p = 2 is the frozen-NTK flow: it matches the closed-form kernel gradient flow at train and test points")
    func secondOrderIsTheFrozenKernelFlow() throws {
        let (net, x, y) = try Self.problem()
        let n = y.count, bigN = x.rows
        let k = try NeuralTangentHierarchy(net).kernels(x, order: 2)
        let f0 = try net(x).storage
        let nth = try TruncatedHierarchy(kernels: k, trainCount: n, targets: y, truncation: .order(2))
        let f = try nth.outputs(initial: f0, at: [1.5], integrator: DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-12))[0]
        let kTrain = k.k2.rows(at: Array(0..<n)).columns(Array(0..<n))
        let kTest = k.k2.rows(at: Array(n..<bigN)).columns(Array(0..<n))
        let kgf = try KernelGradientFlow(trainKernel: kTrain)
        let ym = Matrix(column: y), f0Train = Matrix(column: Array(f0[0..<n])), f0Test = Matrix(column: Array(f0[n...]))
        let train = try kgf.predict(.flow(1.5), targets: ym, f0Train: f0Train)
        let test = try kgf.predict(.flow(1.5), targets: ym, testTrainKernel: kTest, f0Train: f0Train, f0Test: f0Test)
        for i in 0..<n { #expect(abs(f[i] - train[i, 0]) < 1e-8) }
        for i in n..<bigN { #expect(abs(f[i] - test[i - n, 0]) < 1e-8) }
    }

    @Test("the reduced p = 3 system in (r, R) equals the full p = 3 truncation")
    func reducedThirdOrderMatches() throws {
        let (net, x, y) = try Self.problem()
        let k = try NeuralTangentHierarchy(net).kernels(x, order: 3)
        let f0 = try net(x).storage
        let tight = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-12)
        let full = try TruncatedHierarchy(kernels: k, trainCount: y.count, targets: y, truncation: .order(3)).outputs(initial: f0, at: [0.5, 2], integrator: tight)
        let reduced = try TruncatedHierarchy(kernels: k, trainCount: y.count, targets: y, truncation: .reducedThird).outputs(initial: f0, at: [0.5, 2], integrator: tight)
        for (a, b) in zip(full, reduced) { for (u, v) in zip(a, b) { #expect(abs(u - v) < 1e-8) } }
        #expect { try TruncatedHierarchy(kernels: k, trainCount: y.count, targets: y, truncation: .order(4)) } throws: { "\($0)".contains("K^(4)") }
    }
}

@Suite("Fixed-direction kernel of the discrete-time expansion (seed 001 eq. 29)")
struct FixedDirectionKernelTests {
    @Test("𝒦^(4) = D^2 K^(2)[grad f_b, grad f_c] by mixed central differences, symmetric in (b, c)", arguments: [Activation.tanh, .gelu])
    func matchesMixedDifferences(_ act: Activation) throws {
        let net = try hierarchyNetwork(act, depth: 3)
        let x = SyntheticData.sphereInputs(3, dimension: 3, seed: 9)
        let kk = try NeuralTangentHierarchy(net).fixedDirectionKernel4(x)
        let n = x.rows
        let grads = try (0..<n).map { try outputGradient(net, x, $0) }
        let eps = 1e-3
        var maxErr = 0.0, scale = 0.0
        for b in 0..<n { for c in 0..<n {
            func k2(_ sb: Double, _ sc: Double) throws -> Matrix {
                let v = zip(grads[b], grads[c]).map { sb * $0 + sc * $1 }
                return try EmpiricalNTK.compute(try shifted(net, v, eps), x).ntk
            }
            let pp = try k2(1, 1), pm = try k2(1, -1), mp = try k2(-1, 1), mm = try k2(-1, -1)
            for a1 in 0..<n { for a2 in 0..<n {
                let fd = (pp[a1, a2] - pm[a1, a2] - mp[a1, a2] + mm[a1, a2]) / (4 * eps * eps)
                let v = kk[((a1 * n + a2) * n + b) * n + c]
                maxErr = max(maxErr, abs(fd - v)); scale = max(scale, abs(fd))
                #expect(abs(v - kk[((a1 * n + a2) * n + c) * n + b]) <= 1e-12 * max(1, abs(v)))
            } }
        } }
        // Second differences: O(eps^2) truncation (~1e-6 relative) and rounding ~1e-16 / eps^2 = 1e-10.
        #expect(maxErr / scale < 1e-4, "max error \(maxErr) on scale \(scale)")
    }
}
