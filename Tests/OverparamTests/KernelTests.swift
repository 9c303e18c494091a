import Foundation
import Testing
@testable import Overparam

// Infinite-width kernels: neural-tangents fixtures, the quadrature path, an independent scalar recursion for the
// Huang-Yau parameterization, the diagonal shortcut, Monte-Carlo agreement and input validation.

// MARK: - Helpers

private let kernelFixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func kernelFixture(_ name: String) throws -> Matrix {
    try NPY.read(kernelFixtureFolder.appendingPathComponent(name).path)
}

/// The activation behind a fixture file's tag (Fixtures/README.md).
private func fixtureActivation(_ tag: String) -> Activation {
    switch tag {
    case "relu": return .relu
    case "erf": return .erf
    case "identity": return .identity
    case "abs": return .abs
    case "leaky": return .leakyRelu(0.1)
    case "sin": return .sin
    default: preconditionFailure("unknown fixture activation '\(tag)'")
    }
}

/// One (L, C_W, C_b) combination of the fixtures.
private struct FixtureHyper: Sendable {
    let depth: Int
    let cw: Double
    let cb: Double
    /// `cw2.0_cb0.1` as in the file names.
    let tag: String
}

private let fixtureHypers: [FixtureHyper] = [
    FixtureHyper(depth: 1, cw: 2.0, cb: 0.1, tag: "cw2.0_cb0.1"),
    FixtureHyper(depth: 1, cw: 1.5, cb: 0.0, tag: "cw1.5_cb0.0"),
    FixtureHyper(depth: 3, cw: 2.0, cb: 0.1, tag: "cw2.0_cb0.1"),
    FixtureHyper(depth: 3, cw: 1.5, cb: 0.0, tag: "cw1.5_cb0.0"),
]

/// neural-tangents' `stax.serial(*([Dense(512, W_std=sqrt(CW), b_std=sqrt(CB)), act] * L), Dense(1, ...))`.
private func fixtureArchitecture(_ activation: Activation, _ h: FixtureHyper) -> Architecture {
    Architecture(inputDimension: 5, hiddenWidths: [Int](repeating: 512, count: h.depth), activation: activation,
                 weightVariance: h.cw, biasVariance: h.cb, parameterization: .ntk)
}

private func fixtureName(_ act: String, _ h: FixtureHyper, _ which: String, _ pair: String) -> String {
    "k_\(act)_L\(h.depth)_\(h.tag)_\(which)_\(pair).npy"
}

/// Exactly aligned input pairs of the fixtures (README): in `_11` the diagonal and the duplicate rows 2 and 6 of x1;
/// in `_12` x1 row 4 with x2 row 1 (= 2 x1 row 4). There the exact angle is 0 but an angle computed from a
/// rounding-level q11 q22 - q12^2 is ~1e-8, so NT's NTK is only ~1e-8 accurate.
private func isAlignedFixturePair(_ pair: String, _ i: Int, _ j: Int) -> Bool {
    pair == "11" ? (i == j || (i == 2 && j == 6) || (i == 6 && j == 2)) : (i == 4 && j == 1)
}

/// Largest entry-wise relative error |a - b| / |b|, separately over generic and aligned entries.
private func entrywiseRelativeErrors(_ a: Matrix, _ reference: Matrix,
                                     aligned: (Int, Int) -> Bool) -> (generic: Double, aligned: Double) {
    guard a.rows == reference.rows, a.cols == reference.cols else { return (.infinity, .infinity) }
    var generic = 0.0, alignedWorst = 0.0
    for i in 0..<a.rows {
        for j in 0..<a.cols {
            let r = Swift.abs(a[i, j] - reference[i, j]) / Swift.max(Swift.abs(reference[i, j]), Double.leastNormalMagnitude)
            let e = r.isNaN ? Double.infinity : r
            if aligned(i, j) { alignedWorst = Swift.max(alignedWorst, e) } else { generic = Swift.max(generic, e) }
        }
    }
    return (generic, alignedWorst)
}


/// The kind of `OverparamError` thrown by `body` ("none" if it returns, "other" for other errors).

// MARK: - An independent scalar recursion (Huang-Yau, seed 001; SEED-NOTES sec. 2)

/// (E, Edot) written out from the textbook formulas, independent of `DualActivation`.
private func referenceDual(_ act: String, _ q11: Double, _ q22: Double, _ q12: Double) -> (e: Double, eDot: Double) {
    switch act {
    case "relu":
        // Cho-Saul: theta = arccos(q12 / sqrt(q11 q22)).
        let c = Swift.min(1, Swift.max(-1, q12 / (q11 * q22).squareRoot()))
        let theta = Foundation.acos(c)
        let e = ((Swift.max(0, q11 * q22 - q12 * q12)).squareRoot() + (Double.pi - theta) * q12) / (2 * Double.pi)
        return (e, (Double.pi - theta) / (2 * Double.pi))
    case "erf":
        // Williams: E = (2/pi) asin(2 q12 / sqrt((1 + 2 q11)(1 + 2 q22))), Edot = (4/pi) / sqrt((1+2q11)(1+2q22) - 4 q12^2).
        let d = (1 + 2 * q11) * (1 + 2 * q22)
        return (2 / Double.pi * Foundation.asin(2 * q12 / d.squareRoot()), 4 / Double.pi / (d - 4 * q12 * q12).squareRoot())
    default:
        preconditionFailure("no reference dual for \(act)")
    }
}

/// Seed 001 in the limit (SEED-NOTES sec. 2), H hidden layers, no biases:
/// Sigma^(1) = s_w^2 x.x'; E_l, Edot_l at Sigma^(l); Sigma^(l+1) = s_w^2 E_l (l < H); NNGP = s_a^2 E_H;
/// G^(l) = [x.x' if l = 1 else E_{l-1}] s_a^2 Edot_H prod_{k=l}^{H-1} s_w^2 Edot_k for l = 1...H, G^(H+1) = E_H
/// (the readout weights); NTK = sum_l G^(l).
private func huangYauReference(_ act: String, sw2: Double, sa2: Double, hidden h: Int,
                               _ x: [Double], _ y: [Double]) -> (nngp: Double, ntk: Double, pieces: [Double]) {
    var xy = 0.0, xx = 0.0, yy = 0.0
    for k in x.indices { xy += x[k] * y[k]; xx += x[k] * x[k]; yy += y[k] * y[k] }
    var q12 = sw2 * xy, q11 = sw2 * xx, q22 = sw2 * yy
    var e = [Double](), eDot = [Double]()          // E_l, Edot_l at index l - 1, l = 1...H
    for l in 1...h {
        let v = referenceDual(act, q11, q22, q12)
        e.append(v.e); eDot.append(v.eDot)
        if l < h {
            let e11 = referenceDual(act, q11, q11, q11).e, e22 = referenceDual(act, q22, q22, q22).e
            q12 = sw2 * v.e; q11 = sw2 * e11; q22 = sw2 * e22
        }
    }
    var pieces = [Double]()
    for l in 1...h {
        var p = (l == 1 ? xy : e[l - 2]) * sa2 * eDot[h - 1]
        if l <= h - 1 { for k in l...(h - 1) { p *= sw2 * eDot[k - 1] } }
        pieces.append(p)
    }
    pieces.append(e[h - 1])
    return (sa2 * e[h - 1], pieces.reduce(0, +), pieces)
}

// MARK: - Tests

@Suite("Infinite-width kernels")
struct KernelTests {
    /// Closed forms vs neural-tangents 0.6.5: generic entries to 1e-10 relative (NT and an independent numpy
    /// recursion agree to <= 5e-13 there), aligned pairs to 1e-7 (NT's own NTK error there is up to 2.4e-8).
    @Test("closed-form kernels equal neural-tangents", arguments: ["relu", "erf", "identity", "abs", "leaky"])
    func closedFormMatchesNeuralTangents(_ tag: String) throws {
        let x1 = try kernelFixture("x1.npy"), x2 = try kernelFixture("x2.npy")
        for h in fixtureHypers {
            let kernel = try InfiniteWidthKernel(fixtureArchitecture(fixtureActivation(tag), h))
            #expect(kernel.dual.isClosedForm)
            let k11 = try kernel(x1), k12 = try kernel(x1, x2)
            for (pair, k) in [("11", k11), ("12", k12)] {
                for (which, ours) in [("nngp", k.nngp), ("ntk", k.ntk)] {
                    let name = fixtureName(tag, h, which, pair)
                    let reference = try kernelFixture(name)
                    let err = entrywiseRelativeErrors(ours, reference) { isAlignedFixturePair(pair, $0, $1) }
                    #expect(err.generic <= 1e-10, "\(name): generic entries off by \(err.generic) (relative)")
                    #expect(err.aligned <= 1e-7, "\(name): aligned entries off by \(err.aligned) (relative)")
                }
            }
        }
    }

    /// sin has no closed form here: the quadrature path against NT's closed form exp(-(q11+q22)/2) sinh(q12).
    /// NT is exact for smooth activations at aligned pairs, so every entry is held to 1e-8.
    @Test("quadrature kernels of sin equal neural-tangents")
    func sinQuadratureMatchesNeuralTangents() throws {
        let x1 = try kernelFixture("x1.npy"), x2 = try kernelFixture("x2.npy")
        for h in fixtureHypers {
            let kernel = try InfiniteWidthKernel(fixtureArchitecture(.sin, h))
            #expect(!kernel.dual.isClosedForm)
            let k11 = try kernel(x1), k12 = try kernel(x1, x2)
            for (pair, k) in [("11", k11), ("12", k12)] {
                for (which, ours) in [("nngp", k.nngp), ("ntk", k.ntk)] {
                    let name = fixtureName("sin", h, which, pair)
                    let reference = try kernelFixture(name)
                    let err = entrywiseRelativeErrors(ours, reference) { _, _ in false }
                    #expect(err.generic <= 1e-8, "\(name): off by \(err.generic) (relative)")
                }
            }
        }
    }

    /// `forceQuadrature` (2-D Gauss rules) against the closed forms, on the fixture inputs and on the same inputs
    /// scaled by 3 (first-layer variances up to ~40, where plain Gauss-Hermite would fail for erf). 1e-8 relative;
    /// aligned pairs 1e-7 (an angle within rounding of 0 moves Edot by up to ~1e-8).
    @Test("forced quadrature agrees with the closed forms", arguments: ["relu", "erf", "abs", "leaky", "identity"])
    func quadratureMatchesClosedForms(_ tag: String) throws {
        let x1 = try kernelFixture("x1.npy"), x2 = try kernelFixture("x2.npy")
        for scale in [1.0, 3.0] {
            let a = scale * x1, b = scale * x2
            for h in fixtureHypers {
                let arch = fixtureArchitecture(fixtureActivation(tag), h)
                let closed = try InfiniteWidthKernel(arch)
                let quadrature = try InfiniteWidthKernel(arch, forceQuadrature: true)
                #expect(closed.dual.isClosedForm)
                #expect(!quadrature.dual.isClosedForm)
                let c11 = try closed(a), q11 = try quadrature(a)
                let c12 = try closed(a, b), q12 = try quadrature(a, b)
                let pairs: [(String, KernelPair, KernelPair)] = [("11", c11, q11), ("12", c12, q12)]
                for (pair, kc, kq) in pairs {
                    let blocks: [(String, Matrix, Matrix)] = [("nngp", kc.nngp, kq.nngp), ("ntk", kc.ntk, kq.ntk)]
                    for (which, c, q) in blocks {
                        let err = entrywiseRelativeErrors(q, c) { isAlignedFixturePair(pair, $0, $1) }
                        let label = "\(tag) L=\(h.depth) \(h.tag) scale \(scale) \(which)_\(pair)"
                        #expect(err.generic <= 1e-8, "\(label): generic entries off by \(err.generic)")
                        #expect(err.aligned <= 1e-7, "\(label): aligned entries off by \(err.aligned)")
                    }
                }
            }
        }
    }

    /// `.huangYau` (seed 001) with readout variance s_a^2 and no biases: NNGP, NTK and every layer's NTK piece
    /// against the scalar recursion above, to 1e-10 relative; the pieces sum to the NTK.
    @Test("Huang-Yau layerwise pieces equal an independent recursion", arguments: ["relu", "erf"])
    func huangYauLayerwisePieces(_ act: String) throws {
        let sw2 = 1.3, sa2 = 0.7, hidden = 3
        let arch = Architecture(inputDimension: 4, hiddenWidths: [64, 64, 64], activation: act == "relu" ? .relu : .erf,
                                outputDimension: 1, weightVariance: sw2, biasVariance: 0, readoutWeightVariance: sa2,
                                hasBias: false, parameterization: .huangYau)
        let kernel = try InfiniteWidthKernel(arch)
        let x1 = Matrix([[0.9, -0.4, 0.3, 0.5], [-0.2, 0.8, 0.6, -0.7], [0.4, 0.1, -0.9, 0.3]])
        let x2 = Matrix([[0.5, 0.5, -0.5, 0.2], [-0.6, -0.3, 0.2, 0.9]])
        let cases: [(String, Matrix, Matrix?)] = [("cross", x1, x2), ("symmetric", x1, nil)]
        for (label, a, b) in cases {
            let other = b ?? a
            let layers = try kernel.layerwise(a, b)
            let full = try kernel(a, b)
            #expect(layers.ntkPieces.count == hidden + 1, "\(label): expected \(hidden + 1) pieces")
            guard layers.ntkPieces.count == hidden + 1 else { continue }
            var pieceSum = Matrix(rows: a.rows, cols: other.rows)
            for piece in layers.ntkPieces { pieceSum.add(piece, scaledBy: 1) }
            #expect(relativeError(pieceSum, full.ntk) <= 1e-12, "\(label): pieces do not sum to the NTK")
            for i in 0..<a.rows {
                for j in 0..<other.rows {
                    let ref = huangYauReference(act, sw2: sw2, sa2: sa2, hidden: hidden, a.row(i), other.row(j))
                    #expect(Swift.abs(full.nngp[i, j] - ref.nngp) <= 1e-10 * Swift.abs(ref.nngp), "\(label) nngp (\(i),\(j))")
                    #expect(Swift.abs(full.ntk[i, j] - ref.ntk) <= 1e-10 * Swift.abs(ref.ntk), "\(label) ntk (\(i),\(j))")
                    for l in 0...hidden {
                        let p = layers.ntkPieces[l][i, j]
                        #expect(Swift.abs(p - ref.pieces[l]) <= 1e-10 * Swift.abs(ref.pieces[l]),
                                "\(label) piece G^(\(l + 1)) at (\(i),\(j)): \(p) vs \(ref.pieces[l])")
                    }
                }
            }
        }
    }

    /// `diagonal(x)` is the diagonal of the full symmetric kernel (closed-form and quadrature activations).
    @Test("diagonal equals the diagonal of the full kernel", arguments: [Activation.relu, .erf, .tanh, .gelu, .leakyRelu(0.2)])
    func diagonalMatchesFullKernel(_ act: Activation) throws {
        let x = try kernelFixture("x1.npy")
        for h in fixtureHypers {
            let kernel = try InfiniteWidthKernel(fixtureArchitecture(act, h))
            let full = try kernel(x)
            let diag = try kernel.diagonal(x)
            #expect(diag.nngp.count == x.rows && diag.ntk.count == x.rows)
            guard diag.nngp.count == x.rows && diag.ntk.count == x.rows else { continue }
            for i in 0..<x.rows {
                #expect(Swift.abs(diag.nngp[i] - full.nngp[i, i]) <= 1e-12 * Swift.abs(full.nngp[i, i]), "\(act) nngp \(i)")
                #expect(Swift.abs(diag.ntk[i] - full.ntk[i, i]) <= 1e-12 * Swift.abs(full.ntk[i, i]), "\(act) ntk \(i)")
            }
        }
    }

    /// The average of S = 48 sampled networks of width N = 1024 agrees with the infinite-width kernels within 5
    /// standard errors per entry. The relative fluctuation of one network's kernel entry is c / sqrt(N) with
    /// c ~ 1.5-3.5, so the standard error is ~ c / sqrt(N S) ~ 1e-2 relative; the finite-width bias is b / N with
    /// |b| <~ 1.2 (relative, per entry; measured by simulation for these depths and activations), i.e. ~1e-3 --
    /// about 0.1 standard errors, well inside the 5-SE band.
    @Test("Monte-Carlo kernels agree with the analytic kernels", arguments: [Activation.relu, .erf, .tanh])
    func monteCarloAgreesWithAnalytic(_ act: Activation) throws {
        let arch = Architecture(inputDimension: 3, depth: 2, width: 1024, activation: act, weightVariance: 2, biasVariance: 0.1)
        let x = Matrix([[1.0, 0.5, -0.3], [-0.4, 1.2, 0.7], [0.3, -0.9, 1.1], [0.8, 0.1, 0.6]])
        let analytic = try InfiniteWidthKernel(arch)(x)
        let mc = try MonteCarloKernel(arch, x, samples: 48, seed: 4242)
        #expect(mc.samples == 48)
        let blocks: [(String, Matrix, Matrix, Matrix)] = [("nngp", mc.nngp, mc.nngpStandardError, analytic.nngp),
                                                          ("ntk", mc.ntk, mc.ntkStandardError, analytic.ntk)]
        for (which, estimate, se, exact) in blocks {
            let scale = exact.maxAbs
            for i in 0..<x.rows {
                for j in 0..<x.rows {
                    let diff = Swift.abs(estimate[i, j] - exact[i, j])
                    #expect(diff <= 5 * se[i, j] + 1e-12 * scale,
                            "\(act) \(which) (\(i),\(j)): |\(estimate[i, j]) - \(exact[i, j])| = \(diff) > 5 SE = \(5 * se[i, j])")
                    // The test has teeth: standard errors are positive and small compared with the kernel.
                    #expect(se[i, j] > 0 && se[i, j] < 0.05 * scale, "\(act) \(which) (\(i),\(j)): SE \(se[i, j])")
                }
            }
        }
    }

    @Test("input validation")
    func inputValidation() throws {
        let arch = Architecture(inputDimension: 5, depth: 2, width: 16, activation: .relu, weightVariance: 2, biasVariance: 0.1)
        let kernel = try InfiniteWidthKernel(arch)
        let good = Matrix(rows: 3, cols: 5, repeating: 0.5)
        let wrong = Matrix(rows: 3, cols: 4, repeating: 0.5)
        var withNaN = good
        withNaN[1, 2] = .nan
        var withInf = good
        withInf[0, 0] = .infinity

        let wrongColumns = errorKind { _ = try kernel(wrong) }
        let wrongSecondColumns = errorKind { _ = try kernel(good, wrong) }
        let wrongDiagonalColumns = errorKind { _ = try kernel.diagonal(wrong) }
        let wrongLayerwiseColumns = errorKind { _ = try kernel.layerwise(wrong) }
        let nanInput = errorKind { _ = try kernel(withNaN) }
        let nanSecondInput = errorKind { _ = try kernel(good, withNaN) }
        let infInput = errorKind { _ = try kernel(withInf) }
        let fine = errorKind { _ = try kernel(good) }
        #expect(wrongColumns == "shapeMismatch")
        #expect(wrongSecondColumns == "shapeMismatch")
        #expect(wrongDiagonalColumns == "shapeMismatch")
        #expect(wrongLayerwiseColumns == "shapeMismatch")
        #expect(nanInput == "nonFinite")
        #expect(nanSecondInput == "nonFinite")
        #expect(infInput == "nonFinite")
        #expect(fine == "none")

        var noLayers = arch
        noLayers.hiddenWidths = []
        let noLayersKind = errorKind { _ = try InfiniteWidthKernel(noLayers) }
        #expect(noLayersKind == "invalidArgument")
        var negative = arch
        negative.weightVariance = -1
        let negativeKind = errorKind { _ = try InfiniteWidthKernel(negative) }
        #expect(negativeKind == "invalidArgument")
        let oneSampleKind = errorKind { _ = try MonteCarloKernel(arch, good, samples: 1, seed: 0) }
        #expect(oneSampleKind == "invalidArgument")
    }
}
