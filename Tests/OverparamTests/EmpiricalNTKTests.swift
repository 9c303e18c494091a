import Foundation
import Testing
@testable import Overparam

// The structured empirical NTK against the explicit Jacobian, and its convergence to the infinite-width NTK.

// MARK: - Helpers


/// The columns `range` of `m`.
private func columnBlock(_ m: Matrix, _ range: Range<Int>) -> Matrix {
    var out = Matrix(rows: m.rows, cols: range.count)
    for i in 0..<m.rows {
        for (c, j) in range.enumerated() { out[i, c] = m[i, j] }
    }
    return out
}

/// The kernel J1 J2^T arranged like `EmpiricalNTK`: `.full` keeps entry (i k + c, j k + c'), `.mean` averages the
/// diagonal output blocks, (1/k) sum_c <grad f_c(x_i), grad f_c(x'_j)>.
private func jacobianKernel(_ j1: Matrix, _ j2: Matrix, outputs k: Int, mode: OutputKernelMode) -> Matrix {
    let full = Matrix.product(j1, .none, j2, .transposed)
    if mode == .full { return full }
    let n1 = j1.rows / k, n2 = j2.rows / k
    var m = Matrix(rows: n1, cols: n2)
    for i in 0..<n1 {
        for j in 0..<n2 {
            var s = 0.0
            for c in 0..<k { s += full[i * k + c, j * k + c] }
            m[i, j] = s / Double(k)
        }
    }
    return m
}

/// Least-squares line y = a + b x with the slope's standard error from the residuals (n - 2 degrees of freedom)
/// and propagated from per-point standard errors `sigma` (sum_i w_i^2 sigma_i^2, w_i = (x_i - xbar) / Sxx).
private struct SlopeFit {
    let slope: Double
    let intercept: Double
    let residualSE: Double
    let propagatedSE: Double

    init(x: [Double], y: [Double], sigma: [Double]) {
        let n = Double(x.count)
        let xm = x.reduce(0, +) / n, ym = y.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for i in x.indices { sxx += (x[i] - xm) * (x[i] - xm); sxy += (x[i] - xm) * (y[i] - ym) }
        slope = sxy / sxx
        intercept = ym - slope * xm
        var rss = 0.0, v = 0.0
        for i in x.indices {
            let r = y[i] - intercept - slope * x[i]
            rss += r * r
            let w = (x[i] - xm) / sxx
            v += w * w * sigma[i] * sigma[i]
        }
        residualSE = (rss / (n - 2) / sxx).squareRoot()
        propagatedSE = v.squareRoot()
    }

    /// The band half-width: 3 standard errors, the larger of the two estimates.
    var band: Double { 3 * Swift.max(residualSE, propagatedSE) }
}

/// E[Theta-hat_N(x, -x)] / Theta(x, -x) for a depth-2 ReLU network (NTK parameterization, no biases, C_W for every
/// layer) of width N, exactly. Derivation: layer-1 units are s g_j and -s g_j (g_j ~ N(0, 1)), so relu features of x
/// and -x live on disjoint units; every layer-1 and layer-2 contribution to Theta-hat(x, -x) vanishes and only the
/// readout term (C_W / N) sum_k relu(z_k(x)) relu(z_k(-x)) is left. Given layer 1, z_k(x) and z_k(-x) are independent
/// centred Gaussians with variances (C_W s^2 / N) A and (C_W s^2 / N) B, A = sum_j relu(g_j)^2 ~ chi^2_K,
/// B = sum_j relu(-g_j)^2 ~ chi^2_{N-K}, K ~ Binomial(N, 1/2) (A, B independent given K). With E relu(u) = sd / sqrt(2 pi):
/// E[Theta-hat] = C_W^2 s^2 E[sqrt(A B)] / (2 pi N), while Theta = C_W^2 s^2 / (4 pi). Hence the ratio
/// (2 / N) sum_K C(N, K) 2^-N m(K) m(N - K) with m(k) = E sqrt(chi^2_k) (m(0) = 0, m(1) = sqrt(2 / pi),
/// m(k + 1) = k / m(k) from Gamma((k+2)/2) = (k/2) Gamma(k/2)). It is 1 - 1.5 / N + O(N^-2).
private func antipodalFiniteWidthRatio(_ n: Int) -> Double {
    var m = [0.0, (2 / Double.pi).squareRoot()]
    if n >= 2 { for k in 1..<n { m.append(Double(k) / m[k]) } }
    var w = Foundation.pow(2.0, -Double(n))     // C(n, 0) 2^-n
    var s = 0.0
    for k in 0...n {
        s += w * m[k] * m[n - k]
        w = w * Double(n - k) / Double(k + 1)
    }
    return 2 * s / Double(n)
}

// MARK: - Tests

@Suite("Empirical NTK")
struct EmpiricalNTKTests {
    static let parameterizations: [Parameterization] = [.ntk, .standard, .meanField, .scaled(alpha: 3), .huangYau, .fangGuZhang, .hanin]

    /// The structured kernel (deltas and layer inputs, never the Jacobian) equals J J^T from `Network.jacobian` to
    /// 1e-10 relative (both are O(P) sums of products in double precision), in both output modes, for one and two
    /// input sets, with and without biases; per-layer parts equal the Jacobian restricted to that layer's parameters
    /// and sum to the total.
    @Test("structured empirical NTK equals J J^T", arguments: EmpiricalNTKTests.parameterizations)
    func structuredMatchesJacobian(_ parameterization: Parameterization) throws {
        let x1 = Matrix([[0.7, -0.2, 0.5], [-0.4, 0.9, 0.1], [0.3, 0.4, -0.8], [1.1, 0.6, 0.2]])
        let x2 = Matrix([[-0.5, -0.5, 0.6], [0.2, -1.0, 0.3], [0.9, 0.1, 0.4]])
        let k = 3
        for act in [Activation.relu, .tanh, .erf, .gelu] {
            for bias in [false, true] {
                let arch = Architecture(inputDimension: 3, hiddenWidths: [6, 5], activation: act, outputDimension: k,
                                        weightVariance: 1.7, biasVariance: bias ? 0.2 : 0, hasBias: bias,
                                        parameterization: parameterization)
                let net = try Network(arch, seed: 11)
                let j1 = try net.jacobian(x1), j2 = try net.jacobian(x2)
                #expect(j1.rows == x1.rows * k && j1.cols == net.layout.count)
                let label = "\(parameterization) \(act) bias=\(bias)"
                for mode in [OutputKernelMode.full, .mean] {
                    let sym = try EmpiricalNTK.compute(net, x1, outputs: mode, perLayer: true)
                    let cross = try EmpiricalNTK.compute(net, x1, x2, outputs: mode, perLayer: true)
                    let e1 = relativeError(sym.ntk, jacobianKernel(j1, j1, outputs: k, mode: mode))
                    let e2 = relativeError(cross.ntk, jacobianKernel(j1, j2, outputs: k, mode: mode))
                    #expect(e1 <= 1e-10, "\(label) \(mode) symmetric: \(e1)")
                    #expect(e2 <= 1e-10, "\(label) \(mode) cross: \(e2)")
                    for (name, result, other) in [("symmetric", sym, j1), ("cross", cross, j2)] {
                        #expect(result.layers.count == arch.layerCount, "\(label) \(name): \(result.layers.count) layer parts")
                        guard result.layers.count == arch.layerCount else { continue }
                        var sum = Matrix(rows: result.ntk.rows, cols: result.ntk.cols)
                        for l in 1...arch.layerCount {
                            let range = net.layout.layerRange(l)
                            let reference = jacobianKernel(columnBlock(j1, range), columnBlock(other, range), outputs: k, mode: mode)
                            let el = relativeError(result.layers[l - 1], reference)
                            #expect(el <= 1e-10, "\(label) \(mode) \(name) layer \(l): \(el)")
                            sum.add(result.layers[l - 1], scaledBy: 1)
                        }
                        #expect(relativeError(sum, result.ntk) <= 1e-12, "\(label) \(mode) \(name): parts do not sum")
                    }
                }
                // The empirical NNGP: the readout's covariance given the last hidden layer,
                // a^2 v X_L X_L'^T + beta^2 vb.
                let pass1 = try net.forward(x1), pass2 = try net.forward(x2)
                let s = net.scales[arch.layerCount - 1]
                var nngp = Matrix.product(pass1.inputs[arch.depth], .none, pass2.inputs[arch.depth], .transposed, alpha: s.a * s.a * s.v)
                nngp.storage = nngp.storage.map { $0 + (bias ? s.beta * s.beta * s.vb : 0) }
                let cross = try EmpiricalNTK.compute(net, x1, x2)
                #expect(relativeError(cross.nngp, nngp) <= 1e-12, "\(label): empirical NNGP")
            }
        }
    }

    /// One output: `.mean` and `.full` coincide.
    @Test("single output: mean and full modes agree")
    func singleOutputModesAgree() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [7, 4], activation: .tanh, weightVariance: 1.5, biasVariance: 0.1)
        let net = try Network(arch, seed: 5)
        let x = Matrix([[0.7, -0.2, 0.5], [-0.4, 0.9, 0.1], [0.3, 0.4, -0.8]])
        let a = try EmpiricalNTK.compute(net, x, outputs: .mean)
        let b = try EmpiricalNTK.compute(net, x, outputs: .full)
        #expect(relativeError(a.ntk, b.ntk) <= 1e-14)
        #expect(a.layers.isEmpty)
    }

    /// Acceptance: a single network's relative error ||Theta-hat - Theta||_F / ||Theta||_F falls like N^(-1/2).
    /// Widths 64...1024, 24 seeds per width; the slope of log(mean error) on log N is fitted by least squares and
    /// must lie within 3 standard errors of -1/2 (the larger of the residual-based SE and the SE propagated from the
    /// per-width standard errors of the mean). The finite-width bias (~0.2 / N relative) is negligible against the
    /// fluctuation (~2.3 / sqrt(N)), and simulation shows error * sqrt(N) flat to ~2 % over this range.
    @Test("single-network NTK error falls like N^-1/2")
    func singleNetworkErrorScaling() throws {
        let x = Matrix([[1.0, 0.5, -0.3, 0.8], [-0.4, 1.2, 0.7, 0.1], [0.3, -0.9, 1.1, -0.6]])
        let widths = [64, 128, 256, 512, 1024]
        let seeds = 24
        var logN = [Double](), logErr = [Double](), sigma = [Double]()
        for n in widths {
            let arch = Architecture(inputDimension: 4, depth: 2, width: n, activation: .relu, weightVariance: 2, biasVariance: 0.1)
            let theta = try InfiniteWidthKernel(arch)(x).ntk
            var errs = [Double]()
            for s in 0..<seeds {
                let net = try Network(arch, seed: UInt64(1_000 * n + s))
                let emp = try EmpiricalNTK.compute(net, x)
                errs.append((emp.ntk - theta).frobeniusNorm / theta.frobeniusNorm)
            }
            let mean = errs.reduce(0, +) / Double(seeds)
            let sd = (errs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(seeds - 1)).squareRoot()
            logN.append(Foundation.log(Double(n)))
            logErr.append(Foundation.log(mean))
            sigma.append(sd / Double(seeds).squareRoot() / mean)
        }
        let fit = SlopeFit(x: logN, y: logErr, sigma: sigma)
        #expect(Swift.abs(fit.slope + 0.5) <= fit.band,
                "slope \(fit.slope), residual SE \(fit.residualSE), propagated SE \(fit.propagatedSE), errors \(logErr.map { Foundation.exp($0) })")
        #expect(Swift.max(fit.residualSE, fit.propagatedSE) < 0.2, "slope SE too large to be a test: \(fit.residualSE), \(fit.propagatedSE)")
    }

    /// Acceptance: the error of the average over many networks falls like N^(-1) (the finite-width bias), as long as
    /// it stays above the S^(-1/2) noise floor.
    ///
    /// Design. For generic input pairs the bias-to-noise ratio is poor: bias ~ b / N and the Monte-Carlo noise
    /// ~ c / sqrt(N S) with r = c^2 / b^2 ~ 100-1000 (measured for relu/erf/tanh, depth 2-4), so S >> r N networks
    /// would be needed. The antipodal pair (x, -x) of a depth-2 ReLU network without biases has r ~ 5 and an exactly
    /// known finite-width mean (`antipodalFiniteWidthRatio`: relative bias -1.5 / N + O(N^-2), local log-log slope
    /// -1.00 to -1.03 on N = 8...64). With S = 192 N the noise is ~0.15 of the bias at every width, so every point
    /// is ~6.7 standard errors above the noise floor. Widths 8...64 in steps of ~sqrt(2) (7 points) keep the cost
    /// at ~40k small networks.
    ///
    /// Checks: (1) the Monte-Carlo mean equals the exact finite-width mean within 5 SE at every width (this tests
    /// the sampled networks and the structured kernel, including the O(1/N) correction itself); (2) the bias is at
    /// least 2 SE (above the noise floor); (3) the fitted slope of log |mean - Theta| / Theta on log N is within 3
    /// standard errors of -1 (the larger of the residual and propagated SEs), and the propagated SE (from the
    /// per-width standard errors; the residual SE has only 5 degrees of freedom) is below 0.2.
    @Test("averaged NTK bias falls like N^-1")
    func averagedKernelBiasScaling() throws {
        // Self-check of the exact helper against independent 30-digit evaluations (mpmath).
        #expect(Swift.abs(antipodalFiniteWidthRatio(4) - 0.6128341974578337) <= 1e-13)
        #expect(Swift.abs(antipodalFiniteWidthRatio(64) - 0.9764687574968831) <= 1e-13)

        let u = [1.0, 0.5, -0.3, 0.8]
        let x = Matrix([u, u.map { -$0 }])
        let cw = 2.0
        let s2 = cw * dot(u, u) / Double(u.count)
        let thetaExact = cw * cw * s2 / (4 * Double.pi)
        let widths = [8, 11, 16, 23, 32, 45, 64]
        var logN = [Double](), logErr = [Double](), sigma = [Double]()
        for n in widths {
            let arch = Architecture(inputDimension: 4, depth: 2, width: n, activation: .relu, weightVariance: cw, biasVariance: 0)
            #expect(!arch.hasBias)
            let theta = try InfiniteWidthKernel(arch)(x).ntk[0, 1]
            #expect(Swift.abs(theta - thetaExact) <= 1e-10 * thetaExact, "analytic Theta(x, -x) = \(theta), expected \(thetaExact)")
            let mc = try MonteCarloKernel(arch, x, samples: 192 * n, seed: 777 + UInt64(n))
            let mean = mc.ntk[0, 1], se = mc.ntkStandardError[0, 1]
            let exact = antipodalFiniteWidthRatio(n) * theta
            #expect(Swift.abs(mean - exact) <= 5 * se,
                    "N = \(n): Monte-Carlo mean \(mean) vs exact finite-width mean \(exact) (SE \(se))")
            let bias = Swift.abs(mean - theta)
            #expect(bias >= 2 * se, "N = \(n): bias \(bias) is within the noise floor (SE \(se))")
            logN.append(Foundation.log(Double(n)))
            logErr.append(Foundation.log(Swift.max(bias, Double.leastNormalMagnitude) / theta))
            sigma.append(se / Swift.max(bias, Double.leastNormalMagnitude))
        }
        let fit = SlopeFit(x: logN, y: logErr, sigma: sigma)
        #expect(Swift.abs(fit.slope + 1) <= fit.band,
                "slope \(fit.slope), residual SE \(fit.residualSE), propagated SE \(fit.propagatedSE), relative errors \(logErr.map { Foundation.exp($0) })")
        #expect(fit.propagatedSE < 0.2, "slope SE too large to be a test: \(fit.propagatedSE)")
    }

    @Test("input validation")
    func inputValidation() throws {
        let arch = Architecture(inputDimension: 3, hiddenWidths: [4], activation: .tanh, outputDimension: 2)
        let net = try Network(arch, seed: 1)
        var bad = Matrix(rows: 2, cols: 3, repeating: 0.1)
        bad[0, 1] = .nan
        let good = Matrix(rows: 2, cols: 3, repeating: 0.1)
        var caught = 0
        do { _ = try EmpiricalNTK.compute(net, bad) } catch is OverparamError { caught += 1 }
        do { _ = try EmpiricalNTK.compute(net, good, bad) } catch is OverparamError { caught += 1 }
        do { _ = try EmpiricalNTK.compute(net, Matrix(rows: 2, cols: 4)) } catch is OverparamError { caught += 1 }
        do { _ = try net.forward(Matrix(rows: 2, cols: 5)) } catch is OverparamError { caught += 1 }
        do { _ = try Network(arch, parameters: [1, 2, 3]) } catch is OverparamError { caught += 1 }
        #expect(caught == 5)
    }
}
