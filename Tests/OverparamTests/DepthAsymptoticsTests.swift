import Foundation
import Testing
@testable import Overparam

// Large-depth asymptotics of the infinite-width Gaussian process (seed 004 sec. 3.3.3 with the SEED-NOTES corrections):
// agreement with the package's kernel recursion, ReLU's correlation, tanh's variance, fixed points and criticality,
// and the shaped cubic's continuum limit.

@Suite("DepthAsymptotics")
struct DepthAsymptoticsTests {
    @Test("the profile is InfiniteWidthKernel's per-layer NNGP with the .hanin parameterization", arguments: [
        (Activation.relu, 2.0, 0.1), (.tanh, 1.3, 0.05), (.erf, 1.0, 0.0), (.shapedCubic(psi: 1, depth: 4), 1.0, 0.0),
    ])
    func matchesLayerwiseKernels(_ act: Activation, _ cw: Double, _ cb: Double) throws {
        let x = [0.8, -0.4, 1.1], x2 = [0.3, 0.9, -0.2]
        let depth = 4
        let arch = Architecture(inputDimension: 3, hiddenWidths: [Int](repeating: 7, count: depth), activation: act,
                                weightVariance: cw, biasVariance: cb, hasBias: cb > 0, parameterization: .hanin)
        let layers = try InfiniteWidthKernel(arch).layerwise(Matrix([x, x2]))
        let profile = try DepthAsymptotics(activation: act, weightVariance: cw, biasVariance: cb).profile(x, x2, depth: depth)
        #expect(profile.depth == depth)
        for l in 0...depth {
            let k = profile.covariances[l], s = layers.nngp[l]
            #expect(abs(k.k11 - s[0, 0]) <= 1e-11 * abs(s[0, 0]), "\(act) l = \(l): K(x,x) \(k.k11) vs \(s[0, 0])")
            #expect(abs(k.k22 - s[1, 1]) <= 1e-11 * abs(s[1, 1]), "\(act) l = \(l): K(x',x') \(k.k22) vs \(s[1, 1])")
            #expect(abs(k.k12 - s[0, 1]) <= 1e-11 * Swift.max(abs(s[0, 1]), 1e-3), "\(act) l = \(l): K(x,x') \(k.k12) vs \(s[0, 1])")
        }
    }

    @Test("the shaped cubic's exact Gaussian moments agree with DualActivation's quadrature")
    func shapedCubicMoments() {
        let act = Activation.shapedCubic(psi: 1.5, depth: 3)
        let dual = DualActivation(act)
        let asym = DepthAsymptotics(activation: act)
        for (a, b, c) in [(0.3, 0.7, 0.2), (1.0, 1.0, -0.5), (2.5, 0.4, 0.9)] {
            let exact = asym.pairMoments(CovariancePair(k11: a, k22: b, k12: c))
            let quad = dual(a, b, c)
            #expect(abs(exact[0] - quad[0]) < 1e-9 * Swift.max(1, abs(exact[0])), "E[s s] at (\(a), \(b), \(c)): \(exact[0]) vs \(quad[0])")
            #expect(abs(exact[1] - quad[1]) < 1e-9 * Swift.max(1, abs(exact[1])), "E[s' s'] at (\(a), \(b), \(c)): \(exact[1]) vs \(quad[1])")
        }
    }

    @Test("ReLU at C_W = 2: variance constant, l^2 (1 - C^(l)) -> 9 pi^2 / 2 (SEED-NOTES values from C^(0) = 0)")
    func reluCorrelation() throws {
        let relu = DepthAsymptotics(activation: .relu, weightVariance: 2)
        let profile = try relu.profile(from: CovariancePair(variance: 1, correlation: 0), depth: 1000)
        for k in profile.variances { #expect(abs(k - 1) < 1e-12) }
        let c = profile.correlations
        func scaled(_ l: Int) -> Double { Double(l * l) * (1 - c[l]) }
        let limit = 9 * Double.pi * Double.pi / 2
        // SEED-NOTES: 12.8, 35.8, 43.1 at l = 10, 100, 1000 (reproduced from orthogonal inputs, C^(0) = 0).
        #expect(abs(scaled(10) - 12.8) < 0.05, "l = 10: \(scaled(10))")
        #expect(abs(scaled(100) - 35.8) < 0.05, "l = 100: \(scaled(100))")
        #expect(abs(scaled(1000) - 43.1) < 0.05, "l = 1000: \(scaled(1000))")
        // Monotone convergence from below, and the constant at large l.
        let checkpoints = [10, 30, 100, 300, 1000].map(scaled)
        for i in 1..<checkpoints.count { #expect(checkpoints[i] > checkpoints[i - 1] && checkpoints[i] < limit) }
        #expect(abs(scaled(1000) - limit) < 2)
        // The correlation map increases to 1 (never overshoots).
        for l in 1...1000 { #expect(c[l] > c[l - 1] && c[l] < 1) }
    }

    @Test("tanh at C_W = 1: 2 l K^(l)(x, x) -> 1 (the seed's +2K^2 corrected to -2K^2)")
    func tanhVariance() {
        let tanh = DepthAsymptotics(activation: .tanh, weightVariance: 1)
        let k = tanh.variances(from: 1, depth: 1000)
        func scaled(_ l: Int) -> Double { 2 * Double(l) * k[l] }
        let errors = [10, 100, 1000].map { abs(scaled($0) - 1) }
        #expect(errors[2] < 0.02, "2 l K at l = 1000: \(scaled(1000))")
        #expect(errors[0] > errors[1] && errors[1] > errors[2], "errors \(errors)")
        // One step near 0: K - 2 K^2 + O(K^3).
        let small = 1e-3
        let step = tanh.varianceMap(small)
        #expect(abs((step - small) / (small * small) + 2) < 0.02)
    }

    @Test("fixed points and chi: ReLU C_W = 2 scale-free with chi = 1; tanh C_W = 1 at K* = 0 with chi = 1")
    func fixedPoints() throws {
        let relu = DepthAsymptotics(activation: .relu, weightVariance: 2)
        guard case let .everyVariance(chi) = relu.fixedPoints() else { Issue.record("ReLU at C_W = 2 is not scale-free"); return }
        #expect(abs(chi - 1) < 1e-15)
        let r = try #require(relu.fixedPoint(from: 3.7))
        #expect(r.variance == 3.7 && abs(r.chi - 1) < 1e-15 && abs(r.slope - 1) < 1e-15)

        let tanh = DepthAsymptotics(activation: .tanh, weightVariance: 1)
        guard case let .isolated(points) = tanh.fixedPoints() else { Issue.record("tanh: expected isolated fixed points"); return }
        #expect(points.count == 1 && points.first?.variance == 0, "tanh fixed points: \(points)")
        let t = try #require(tanh.fixedPoint(from: 1))
        #expect(t.variance == 0 && abs(t.chi - 1) < 1e-14 && abs(t.slope - 1) < 1e-14 && t.isAttracting)

        // ReLU with a bias: K* = C_b / (1 - C_W / 2), chi = C_W / 2 < 1 (ordered phase).
        let reluBias = DepthAsymptotics(activation: .relu, weightVariance: 1.5, biasVariance: 0.1)
        let rb = try #require(reluBias.fixedPoint(from: 5))
        #expect(abs(rb.variance - 0.4) < 1e-14 && abs(rb.chi - 0.75) < 1e-14)

        // tanh with C_W > 1: K* = 0 becomes unstable (chi = slope = C_W) and a positive attracting fixed point appears;
        // with a bias, the only fixed point is positive.
        for (cw, cb) in [(1.5, 0.0), (1.5, 0.05), (0.8, 0.3)] {
            let m = DepthAsymptotics(activation: .tanh, weightVariance: cw, biasVariance: cb)
            guard case let .isolated(pts) = m.fixedPoints() else { Issue.record("tanh C_W = \(cw)"); continue }
            let positive = try #require(pts.last, "C_W = \(cw), C_b = \(cb): no fixed point")
            #expect(positive.variance > 0)
            #expect(abs(m.varianceMap(positive.variance) - positive.variance) < 1e-12 * positive.variance)
            #expect(positive.isAttracting && positive.slope < 1)
            if cb == 0 {
                #expect(pts.count == 2 && pts[0].variance == 0 && abs(pts[0].chi - cw) < 1e-12 && !pts[0].isAttracting)
            } else {
                #expect(pts.count == 1)
            }
            // The iteration from K = 1 lands on it; the slope is the derivative of the map (central difference).
            let f = try #require(m.fixedPoint(from: 1))
            #expect(abs(f.variance - positive.variance) < 1e-12 * positive.variance)
            let h = 1e-5 * positive.variance
            let derivative = (m.varianceMap(positive.variance + h) - m.varianceMap(positive.variance - h)) / (2 * h)
            #expect(abs(derivative - positive.slope) < 1e-7, "slope \(positive.slope) vs difference quotient \(derivative)")
        }
    }

    @Test("shaped cubic: the L-layer recursion approaches eq. 3.3.7 with an error falling like 1/L", arguments: [1.0, -1.0])
    func shapedCubicLimit(_ psi: Double) throws {
        let k0 = CovariancePair(k11: 0.3, k22: 0.2, k12: 0.1)
        let limit = try ShapedCubicLimit(psi: psi).covariance(at: 1, initial: k0)
        var errors = [[Double]]()
        for depth in [50, 100, 200] {
            let p = try DepthAsymptotics.shapedCubic(psi: psi, depth: depth).profile(from: k0, depth: depth)
            let out = p.covariances[depth]
            errors.append([out.k11 - limit.k11, out.k22 - limit.k22, out.k12 - limit.k12])
        }
        for i in 1..<errors.count {
            for j in 0..<3 {
                let ratio = errors[i - 1][j] / errors[i][j]
                #expect(ratio > 1.9 && ratio < 2.1, "psi = \(psi), entry \(j): error ratio \(ratio) (errors \(errors))")
            }
        }
        #expect(errors[2].allSatisfy { abs($0) < 4e-3 })
        // The correlation is constant along the limit flow.
        #expect(abs(limit.correlation - k0.correlation) < 1e-14)
    }

    @Test("the closed form solves dK/dtau = psi (D K + K D) (RK4 check) and throws past the blow-up time")
    func shapedCubicODE() throws {
        let psi = 0.8
        let k0 = CovariancePair(k11: 0.5, k22: 0.25, k12: -0.2)
        func rhs(_ k: CovariancePair) -> CovariancePair {
            CovariancePair(k11: 2 * psi * k.k11 * k.k11, k22: 2 * psi * k.k22 * k.k22, k12: psi * k.k12 * (k.k11 + k.k22))
        }
        func axpy(_ a: CovariancePair, _ s: Double, _ b: CovariancePair) -> CovariancePair {
            CovariancePair(k11: a.k11 + s * b.k11, k22: a.k22 + s * b.k22, k12: a.k12 + s * b.k12)
        }
        var k = k0
        let steps = 2000, h = 1.0 / Double(steps)
        for _ in 0..<steps {
            let a = rhs(k), b = rhs(axpy(k, h / 2, a)), c = rhs(axpy(k, h / 2, b)), d = rhs(axpy(k, h, c))
            let sum = CovariancePair(k11: a.k11 + 2 * b.k11 + 2 * c.k11 + d.k11, k22: a.k22 + 2 * b.k22 + 2 * c.k22 + d.k22,
                                     k12: a.k12 + 2 * b.k12 + 2 * c.k12 + d.k12)
            k = axpy(k, h / 6, sum)
        }
        let limit = ShapedCubicLimit(psi: psi)
        let closed = try limit.covariance(at: 1, initial: k0)
        #expect(abs(k.k11 - closed.k11) < 1e-11 && abs(k.k22 - closed.k22) < 1e-11 && abs(k.k12 - closed.k12) < 1e-11)
        // K0 = ||x||^2 / N_0: 2 psi K0 = 0.8 < 1 is valid at tau = 1; K0 = 0.625 blows up at tau = 1.
        #expect(abs(limit.blowUpTime(variance: 0.5) - 1.25) < 1e-15)
        #expect(errorKind { _ = try limit.variance(at: 1, initial: 0.625) } == "invalidArgument")
        #expect(errorKind { _ = try limit.outputCovariance([1, 1], [1, 0]) } == "invalidArgument")   // K0 = 1
        let fromInputs = try limit.outputCovariance([0.5, 0.5], [0.5, -0.5])
        #expect(abs(fromInputs.k11 - 0.25 / 0.6) < 1e-15 && fromInputs.k12 == 0)
        #expect(ShapedCubicLimit(psi: -1).blowUpTime(variance: 1) == .infinity)
    }
}
