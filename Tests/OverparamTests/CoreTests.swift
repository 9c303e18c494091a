import Foundation
import Testing
@testable import Overparam

// Core numerics: BLAS wrappers, LAPACK factorizations, the RNG, Gauss rules and Gaussian expectations, parallel
// chunking, data splits and normalizations, activation derivatives and CLI name parsing.

// MARK: - Helpers

private func coreRandomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256StarStar(seed: seed)
    return Matrix.randomNormal(rows: rows, cols: cols, using: &rng)
}


private func naiveTranspose(_ a: Matrix) -> Matrix {
    var t = Matrix(rows: a.cols, cols: a.rows)
    for i in 0..<a.rows { for j in 0..<a.cols { t[j, i] = a[i, j] } }
    return t
}



/// Closed form of the relu dual maps (Cho-Saul), with c = q12 / sqrt(q11 q22) given exactly.
private func reluDual(_ q11: Double, _ q22: Double, c: Double) -> (e: Double, eDot: Double) {
    let norm = (q11 * q22).squareRoot()
    let theta = Foundation.acos(c)
    return ((Foundation.sin(theta) + (Double.pi - theta) * c) * norm / (2 * Double.pi), (Double.pi - theta) / (2 * Double.pi))
}

// MARK: - Linear algebra

@Suite("Core: linear algebra")
struct LinearAlgebraTests {
    /// BLAS results vs naive loops: a handful of roundings per entry, so 1e-13 relative.
    @Test("gemm with every transpose combination, alpha and beta")
    func gemmMatchesNaive() {
        let m = 4, k = 3, n = 5
        let opA = coreRandomMatrix(m, k, seed: 1), opB = coreRandomMatrix(k, n, seed: 2), c0 = coreRandomMatrix(m, n, seed: 3)
        let alpha = 0.7, beta = 0.3
        let expected = alpha * naiveProduct(opA, opB) + beta * c0
        for ta in [Transpose.none, .transposed] {
            for tb in [Transpose.none, .transposed] {
                let a = ta == .none ? opA : naiveTranspose(opA)
                let b = tb == .none ? opB : naiveTranspose(opB)
                var c = c0
                Matrix.gemm(a, ta, b, tb, alpha: alpha, beta: beta, into: &c)
                #expect(relativeError(c, expected) <= 1e-13, "gemm \(ta) \(tb)")
                let p = Matrix.product(a, ta, b, tb, alpha: alpha)
                #expect(relativeError(p, alpha * naiveProduct(opA, opB)) <= 1e-13, "product \(ta) \(tb)")
            }
        }
        #expect(relativeError(opA * opB, naiveProduct(opA, opB)) <= 1e-13)
    }

    @Test("syrk, gram and gemv")
    func syrkGramGemv() {
        let a = coreRandomMatrix(5, 7, seed: 4)
        let aat = naiveProduct(a, naiveTranspose(a))
        #expect(relativeError(a.gram(alpha: 0.5), 0.5 * aat) <= 1e-13)
        let g = a.gram()
        for i in 0..<5 { for j in 0..<5 { #expect(g[i, j] == g[j, i]) } }
        // syrk accumulates into the upper triangle.
        let c0 = coreRandomMatrix(5, 5, seed: 5)
        var c = c0
        Matrix.syrk(a, alpha: 2, beta: 0.5, into: &c)
        c.symmetrizeFromUpper()
        var expected = 2 * aat
        for i in 0..<5 { for j in i..<5 { expected[i, j] += 0.5 * c0[i, j]; if j != i { expected[j, i] = expected[i, j] } } }
        #expect(relativeError(c, expected) <= 1e-13)

        let x = [0.3, -1.2, 0.5, 2.0, -0.7, 0.1, 0.9], z = [1.0, -0.5, 0.25, 0.8, -1.1]
        let ax = a.apply(x, alpha: 1.5), atz = a.apply(z, .transposed)
        let axRef = naiveProduct(a, Matrix(column: x)), atzRef = naiveProduct(naiveTranspose(a), Matrix(column: z))
        #expect(relativeError(Matrix(column: ax), 1.5 * axRef) <= 1e-13)
        #expect(relativeError(Matrix(column: atz), atzRef) <= 1e-13)
        #expect(Swift.abs(dot(x, x) - x.reduce(0) { $0 + $1 * $1 }) <= 1e-14 * dot(x, x))
    }

    /// A = V diag(lambda) V^T to 1e-12 relative (backward-stable dsyevd), V orthogonal, eigenvalues ascending.
    @Test("symmetric eigendecomposition reconstructs the matrix")
    func eigendecomposition() throws {
        let b = coreRandomMatrix(6, 6, seed: 6)
        let a = b + naiveTranspose(b)
        let eig = try SymmetricEigendecomposition(a)
        #expect(eig.values.count == 6)
        #expect(zip(eig.values, eig.values.dropFirst()).allSatisfy { $0 <= $1 })
        let rebuilt = naiveProduct(naiveProduct(eig.vectors, Matrix.diagonal(eig.values)), naiveTranspose(eig.vectors))
        #expect(relativeError(rebuilt, a) <= 1e-12)
        #expect(relativeError(eig.spectralMap { $0 }, a) <= 1e-12)
        #expect(relativeError(naiveProduct(naiveTranspose(eig.vectors), eig.vectors), Matrix.identity(6)) <= 1e-12)
        // A known spectrum.
        let known = try SymmetricEigendecomposition(Matrix([[2, 1], [1, 2]]))
        #expect(Swift.abs(known.values[0] - 1) <= 1e-14 && Swift.abs(known.values[1] - 3) <= 1e-14)
        #expect(Swift.abs(known.conditionNumber - 3) <= 1e-13)
        var bad = a
        bad[0, 0] = .nan
        let badKind = errorKind { _ = try SymmetricEigendecomposition(bad) }
        #expect(badKind == "nonFinite")
    }

    @Test("Cholesky solve and log-determinant")
    func cholesky() throws {
        let b = coreRandomMatrix(5, 5, seed: 7)
        var a = naiveProduct(b, naiveTranspose(b))
        a.addToDiagonal(1)
        let chol = try CholeskyFactorization(a)
        let l = chol.lower
        for i in 0..<5 { for j in (i + 1)..<5 { #expect(l[i, j] == 0) } }
        #expect(relativeError(naiveProduct(l, naiveTranspose(l)), a) <= 1e-13)
        let rhs = coreRandomMatrix(5, 3, seed: 8)
        let x = chol.solve(rhs)
        // Backward error ~ eps cond(A); cond(A) <= ~1e2 here.
        #expect(relativeError(naiveProduct(a, x), rhs) <= 1e-12)
        let logDet = try SymmetricEigendecomposition(a).values.reduce(0) { $0 + Foundation.log($1) }
        #expect(Swift.abs(chol.logDeterminant - logDet) <= 1e-12 * Swift.max(1, Swift.abs(logDet)))
        let notPD = errorKind { _ = try CholeskyFactorization(Matrix([[1, 2], [2, 1]])) }
        #expect(notPD == "singular")
    }

    @Test("general solve and singular systems")
    func generalSolve() throws {
        var a = coreRandomMatrix(6, 6, seed: 9)
        a.addToDiagonal(4)
        let rhs = coreRandomMatrix(6, 2, seed: 10)
        let x = try a.solve(rhs)
        #expect(relativeError(naiveProduct(a, x), rhs) <= 1e-12)
        // Exactly singular: LU meets an exact zero pivot.
        let rankOne = errorKind { _ = try Matrix([[1, 2], [2, 4]]).solve(Matrix(column: [1, 1])) }
        #expect(rankOne == "singular")
        let zero = errorKind { _ = try Matrix(rows: 3, cols: 3).solve(Matrix(column: [1, 2, 3])) }
        #expect(zero == "singular")
        let notSquare = errorKind { _ = try Matrix(rows: 2, cols: 3).solve(Matrix(column: [1, 2])) }
        #expect(notSquare == "shapeMismatch")
    }
}

// MARK: - Random numbers

@Suite("Core: random numbers")
struct RandomTests {
    @Test("xoshiro streams are deterministic and distinct")
    func determinism() {
        var a = Xoshiro256StarStar(seed: 42), b = Xoshiro256StarStar(seed: 42)
        let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }
        #expect(sa == sb)
        var s0 = Xoshiro256StarStar(seed: 42, stream: 0)
        let stream0 = (0..<100).map { _ in s0.next() }
        #expect(stream0 == sa)
        var c = Xoshiro256StarStar(seed: 43), d = Xoshiro256StarStar(seed: 42, stream: 1)
        let sc = (0..<100).map { _ in c.next() }, sd = (0..<100).map { _ in d.next() }
        #expect(sc != sa)
        #expect(sd != sa)
        #expect(sc != sd)
        var n1 = Xoshiro256StarStar(seed: 7), n2 = Xoshiro256StarStar(seed: 7)
        let z1 = n1.normals(50), z2 = n2.normals(50)
        #expect(z1 == z2)
    }

    /// 1e5 draws: |mean| <= 5 / sqrt(n), |var - 1| <= 5 sqrt(2 / n) (the sample variance of a normal has variance
    /// 2 / (n - 1)); uniforms: mean 1/2 within 5 sqrt(1 / (12 n)), all in [0, 1).
    @Test("normal and uniform moments within 5 standard errors")
    func moments() {
        let n = 100_000
        var rng = Xoshiro256StarStar(seed: 2024)
        let z = rng.normals(n)
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(Swift.abs(mean) <= 5 / Double(n).squareRoot(), "mean \(mean)")
        #expect(Swift.abs(variance - 1) <= 5 * (2 / Double(n)).squareRoot(), "variance \(variance)")
        let fourth = z.reduce(0) { $0 + Foundation.pow($1 - mean, 4) } / Double(n)
        // Var(z^4) = E z^8 - 9 = 96.
        #expect(Swift.abs(fourth - 3) <= 5 * (96 / Double(n)).squareRoot(), "fourth moment \(fourth)")
        let u = (0..<n).map { _ in rng.uniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let um = u.reduce(0, +) / Double(n)
        #expect(Swift.abs(um - 0.5) <= 5 * (1 / (12 * Double(n))).squareRoot(), "uniform mean \(um)")
        let scaled = rng.normals(n, mean: 3, std: 2)
        let sm = scaled.reduce(0, +) / Double(n)
        #expect(Swift.abs(sm - 3) <= 5 * 2 / Double(n).squareRoot(), "shifted mean \(sm)")
        for bound in [1, 2, 7, 100] {
            let idx = (0..<1000).map { _ in rng.index(below: bound) }
            #expect(idx.allSatisfy { $0 >= 0 && $0 < bound })
        }
    }

    @Test("points on the sphere have unit norm")
    func sphere() {
        var rng = Xoshiro256StarStar(seed: 3)
        for d in [1, 2, 3, 10, 100] {
            for _ in 0..<20 {
                let p = rng.onSphere(dimension: d)
                #expect(p.count == d)
                #expect(Swift.abs(dot(p, p) - 1) <= 1e-13)
            }
        }
        let m = Matrix.randomOnSphere(rows: 5, dimension: 4, using: &rng)
        for i in 0..<5 { #expect(Swift.abs(dot(m.row(i), m.row(i)) - 1) <= 1e-13) }
    }
}

// MARK: - Quadrature

@Suite("Core: quadrature")
struct QuadratureTests {
    /// Gauss rules with n nodes integrate polynomials of degree < 2n exactly (up to rounding).
    @Test("Gauss rules integrate low-degree polynomials exactly", arguments: [3, 10, 48])
    func gaussRules(_ n: Int) {
        func moment(_ r: GaussRule, _ p: Int) -> Double { zip(r.nodes, r.weights).reduce(0) { $0 + $1.1 * Foundation.pow($1.0, Double(p)) } }
        let h = GaussRule.hermite(n)
        #expect(h.nodes.count == n && h.weights.count == n)
        #expect(Swift.abs(moment(h, 0) - 1) <= 1e-12)
        #expect(Swift.abs(moment(h, 1)) <= 1e-12)
        #expect(Swift.abs(moment(h, 2) - 1) <= 1e-12)
        #expect(Swift.abs(moment(h, 4) - 3) <= 1e-12)
        let l = GaussRule.legendre(n)
        #expect(Swift.abs(moment(l, 0) - 2) <= 1e-12)
        #expect(Swift.abs(moment(l, 2) - 2.0 / 3) <= 1e-12)
        #expect(Swift.abs(moment(l, 4) - 2.0 / 5) <= 1e-12)
        let g = GaussRule.laguerre(n)
        #expect(Swift.abs(moment(g, 0) - 1) <= 1e-12)
        #expect(Swift.abs(moment(g, 1) - 1) <= 1e-12)
        #expect(Swift.abs(moment(g, 2) - 2) <= 1e-12 * 2)
        #expect(Swift.abs(moment(g, 3) - 6) <= 1e-12 * 6)
    }

    /// E[uv] = q12 and E[u^2 v^2] = q11 q22 + 2 q12^2 (Isserlis) for small variances (Gauss-Hermite, exact for
    /// polynomials: 1e-12) and large ones (the graded composite rule, documented accuracy ~1e-11: 1e-9).
    @Test("bivariate Gaussian moments")
    func bivariateMoments() {
        let ge = GaussianExpectation.standard
        for (q11, q22, tol) in [(0.8, 0.5, 1e-12), (4.0, 2.5, 1e-9), (9.0, 16.0, 1e-9)] {
            for c in [-1.0, -0.6, 0.0, 0.3, 0.95, 1.0] {
                let q12 = c * (q11 * q22).squareRoot()
                let m = ge.expectation(q11: q11, q22: q22, q12: q12) { u, v in SIMD2(u * v, u * u * v * v) }
                let fourth = q11 * q22 + 2 * q12 * q12
                #expect(Swift.abs(m[0] - q12) <= tol * (q11 * q22).squareRoot(), "E[uv] at q=(\(q11),\(q22)) c=\(c): \(m[0])")
                #expect(Swift.abs(m[1] - fourth) <= tol * fourth, "E[u^2 v^2] at q=(\(q11),\(q22)) c=\(c): \(m[1])")
                // The kinked (polar) rule is exact for positively homogeneous integrands of degree 2.
                let k = ge.expectation(q11: q11, q22: q22, q12: q12, kinksOnAxes: true) { u, v in SIMD2(u * v, u * u) }
                #expect(Swift.abs(k[0] - q12) <= 1e-12 * (q11 * q22).squareRoot(), "polar E[uv] c=\(c)")
                #expect(Swift.abs(k[1] - q11) <= 1e-12 * q11, "polar E[u^2] c=\(c)")
            }
        }
        // Univariate: E[relu(u)^2] = q / 2 (kink at zero), E[u^4] = 3 q^2.
        for q in [0.5, 1.0, 2.5] {
            let r = ge.expectation(variance: q, kinkAtZero: true) { u in SIMD2(u > 0 ? u * u : 0, u * u) }
            #expect(Swift.abs(r[0] - q / 2) <= 1e-12 * q && Swift.abs(r[1] - q) <= 1e-12 * q)
            let s = ge.expectation(variance: q) { u in SIMD2(u * u * u * u, u * u) }
            #expect(Swift.abs(s[0] - 3 * q * q) <= 1e-9 * 3 * q * q && Swift.abs(s[1] - q) <= 1e-9 * q)
        }
    }

    /// E[relu(u) relu(v)] and E[relu'(u) relu'(v)] by the polar rule against the arc-cosine closed form at several
    /// correlations, including c = +-1 and 0. q11 = 4 and q22 = 2.25 have exact square roots, so c = q12 / 3 is
    /// exactly the intended value at c = +-1 and 0.
    @Test("relu expectations by quadrature equal the closed form")
    func reluExpectations() {
        let ge = GaussianExpectation.standard
        let q11 = 4.0, q22 = 2.25
        for c in [-1.0, -0.8, -0.3, 0.0, 0.4, 0.95, 1.0] {
            let q12 = c * 3
            let quad = ge.expectation(q11: q11, q22: q22, q12: q12, kinksOnAxes: true) { u, v in
                SIMD2((u > 0 ? u : 0) * (v > 0 ? v : 0), (u > 0 ? 1 : 0) * (v > 0 ? 1 : 0))
            }
            let exact = reluDual(q11, q22, c: c)
            #expect(Swift.abs(quad[0] - exact.e) <= 1e-12 * 3, "E at c = \(c): \(quad[0]) vs \(exact.e)")
            #expect(Swift.abs(quad[1] - exact.eDot) <= 1e-12, "Edot at c = \(c): \(quad[1]) vs \(exact.eDot)")
            // The library's closed form agrees too.
            let lib = DualActivation.abRelu(q11, q22, q12, a: 0, b: 1)
            #expect(Swift.abs(lib[0] - exact.e) <= 1e-12 * 3 && Swift.abs(lib[1] - exact.eDot) <= 1e-12, "closed form at c = \(c)")
        }
    }
}

// MARK: - Parallel chunks, data

@Suite("Core: parallel chunks and data")
struct ParallelAndDataTests {
    @Test("upper-triangle row chunks partition 0..<n", arguments: [0, 1, 2, 5, 31, 32, 33, 100, 1000])
    func upperTriangleChunks(_ n: Int) {
        for requested in [1, 3, 32, 64] {
            let chunks = Parallel.upperTriangleRowChunks(n, chunks: requested)
            #expect(chunks.allSatisfy { !$0.isEmpty })
            #expect(chunks.count <= Swift.max(1, requested))
            var next = 0
            for r in chunks {
                #expect(r.lowerBound == next, "n = \(n), requested \(requested): gap or overlap at \(r)")
                next = r.upperBound
            }
            #expect(next == n, "n = \(n), requested \(requested): chunks end at \(next)")
        }
    }

    private func labeledData() throws -> (LabeledDataset, [Int]) {
        let sizes = [12, 7, 20, 3]
        var labels = [Int]()
        for (c, s) in sizes.enumerated() { labels += [Int](repeating: c, count: s) }
        var rng = Xoshiro256StarStar(seed: 77)
        for i in stride(from: labels.count - 1, to: 0, by: -1) { labels.swapAt(i, rng.index(below: i + 1)) }
        // Row i's only feature is i, so rows can be traced back.
        let x = Matrix(column: (0..<labels.count).map(Double.init))
        return (try LabeledDataset(inputs: x, labels: labels, name: "synthetic"), sizes)
    }

    @Test("The bundled MNIST subset: 5,000 28 x 28 images, 500 per digit, interleaved, pixels 0...255; global standardization")
    func bundledMNIST() throws {
        let d = try MNIST.bundledSubset()
        #expect(d.count == 5000 && d.inputs.cols == 784 && d.classCount == 10)
        #expect(Array(d.labels.prefix(20)) == Array(0..<10) + Array(0..<10), "interleaved so that any prefix is balanced")
        for c in 0..<10 { #expect(d.labels.filter { $0 == c }.count == 500) }
        #expect(d.inputs.storage.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
        #expect(d.inputs.storage.max() == 255)
        // One mean and SD for all pixels: the training set gets mean 0 and SD 1 overall, and the map is affine with
        // the same coefficients in every column (unlike per-pixel standardization).
        let z = InputNormalization.globalStandardize.apply(d.inputs)
        let n = Double(z.storage.count)
        let mean = z.storage.reduce(0, +) / n, sd = (z.storage.reduce(0) { $0 + $1 * $1 } / n - mean * mean).squareRoot()
        #expect(Swift.abs(mean) < 1e-12 && Swift.abs(sd - 1) < 1e-9, "sd \(sd)")  // rounding of a 3.9M-term sum
        let zeroValue = z.storage[d.inputs.storage.firstIndex(of: 0)!]
        for (v, x) in zip(z.storage, d.inputs.storage) where x == 0 { #expect(v == zeroValue) }
    }

    @Test("stratified split: per-class proportions, disjoint cover, determinism")
    func stratifiedSplit() throws {
        let (data, sizes) = try labeledData()
        #expect(data.classCount == 4)
        let fraction = 0.25
        let (train, test) = try data.stratifiedSplit(testFraction: fraction, seed: 5)
        #expect(train.count + test.count == data.count)
        for c in 0..<sizes.count {
            let expectedTest = Int((fraction * Double(sizes[c])).rounded())
            #expect(test.labels.filter { $0 == c }.count == expectedTest, "class \(c)")
            #expect(train.labels.filter { $0 == c }.count == sizes[c] - expectedTest, "class \(c)")
        }
        let trainIdx = (0..<train.count).map { Int(train.inputs[$0, 0]) }
        let testIdx = (0..<test.count).map { Int(test.inputs[$0, 0]) }
        #expect(Set(trainIdx).isDisjoint(with: testIdx))
        #expect(Set(trainIdx).union(testIdx) == Set(0..<data.count))
        for (k, i) in trainIdx.enumerated() { #expect(train.labels[k] == data.labels[i]) }
        for (k, i) in testIdx.enumerated() { #expect(test.labels[k] == data.labels[i]) }
        // Same seed, same split; another seed, another split.
        let (_, again) = try data.stratifiedSplit(testFraction: fraction, seed: 5)
        #expect(again.inputs == test.inputs)
        let (_, other) = try data.stratifiedSplit(testFraction: fraction, seed: 6)
        #expect(other.inputs != test.inputs)
        let zeroFraction = errorKind { _ = try data.stratifiedSplit(testFraction: 0, seed: 1) }
        let oneFraction = errorKind { _ = try data.stratifiedSplit(testFraction: 1, seed: 1) }
        #expect(zeroFraction == "invalidArgument")
        #expect(oneFraction == "invalidArgument")
        // One-hot targets.
        let y = data.oneHot(), yc = data.oneHot(centered: true)
        for i in 0..<data.count {
            #expect(y.row(i).reduce(0, +) == 1 && y[i, data.labels[i]] == 1)
            #expect(Swift.abs(yc.row(i).reduce(0, +)) <= 1e-15)
        }
    }

    @Test("sphere normalization gives unit rows")
    func sphereNormalization() {
        var x = coreRandomMatrix(6, 5, seed: 12)
        for j in 0..<5 { x[3, j] = 0 }
        let s = InputNormalization.sphere.apply(x)
        for i in 0..<6 {
            let norm = dot(s.row(i), s.row(i)).squareRoot()
            if i == 3 { #expect(norm == 0) } else { #expect(Swift.abs(norm - 1) <= 1e-14) }
        }
        let cs = InputNormalization.centeredSphere.apply(x)
        for i in 0..<6 where i != 3 {
            #expect(Swift.abs(dot(cs.row(i), cs.row(i)) / 5 - 1) <= 1e-13)
        }
    }
}

// MARK: - Activations and parsing

@Suite("Core: activations and parsing")
struct ActivationTests {
    /// sigma^(k) vs the central difference of sigma^(k-1) with h = 1e-5: truncation h^2/6 |sigma^(k+2)| <~ 1e-9 and
    /// roundoff eps |sigma^(k-1)| / h <~ 1e-10 at these points, so 1e-7 (1 + |sigma^(k)|). Points avoid the kinks of
    /// the piecewise-linear activations; orders 1...4 for smooth activations, 1...3 otherwise.
    @Test("derivatives equal finite differences of the lower order", arguments: Activation.all)
    func derivativesMatchFiniteDifferences(_ act: Activation) {
        let h = 1e-5
        let maxOrder = act.isSmooth ? 4 : 3
        for t in [-2.3, -1.7, -0.6, 0.35, 1.2, 2.5] {
            for order in 1...maxOrder {
                let fd = (act.derivative(t + h, order: order - 1) - act.derivative(t - h, order: order - 1)) / (2 * h)
                let exact = act.derivative(t, order: order)
                #expect(Swift.abs(fd - exact) <= 1e-7 * (1 + Swift.abs(exact)), "\(act) order \(order) at t = \(t): \(exact) vs \(fd)")
            }
            #expect(act(t) == act.derivative(t, order: 0))
        }
    }

    @Test("activation values")
    func activationValues() {
        let relu = Activation.relu, absolute = Activation.abs, leaky = Activation.leakyRelu(0.1)
        let gelu = Activation.gelu, softplus = Activation.softplus(a: 2), sigmoid = Activation.sigmoid
        let cubic = Activation.shapedCubic(psi: 3, depth: 2)
        #expect(relu(-1.5) == 0 && relu(2) == 2)
        #expect(absolute(-1.5) == 1.5)
        #expect(Swift.abs(leaky(-2) + 0.2) <= 1e-16)
        #expect(Swift.abs(gelu(1) - 0.8413447460685429) <= 1e-15)
        #expect(Swift.abs(softplus(0.5) - Foundation.log(1 + Foundation.exp(1.0)) / 2) <= 1e-15)
        #expect(Swift.abs(sigmoid(-40) - Foundation.exp(-40.0) / (1 + Foundation.exp(-40.0))) <= 1e-30)
        #expect(cubic(2) == 6)
        #expect(!Activation.relu.isSmooth && Activation.tanh.isSmooth)
        #expect(Activation.relu.isPositivelyHomogeneous && !Activation.erf.isPositivelyHomogeneous)
    }

    @Test("activation names round-trip and unknown names are rejected")
    func activationParsing() throws {
        for act in Activation.all {
            #expect(try Activation(parsing: act.description) == act, "\(act.description)")
        }
        #expect(try Activation(parsing: "ReLU") == .relu)
        #expect(try Activation(parsing: "leaky-relu") == .abRelu(a: 0.01, b: 1))
        #expect(try Activation(parsing: "ab-relu:-0.5,2") == .abRelu(a: -0.5, b: 2))
        #expect(try Activation(parsing: "softplus") == .softplus(a: 1))
        #expect(try Activation(parsing: "linear") == .identity)
        #expect(try Activation(parsing: "shaped-cubic:2,5") == .shapedCubic(psi: 2, depth: 5))
        // (The empty string is not tried: `Activation(parsing: "")` indexes parts[0] of an empty split and traps.)
        for bad in ["swish", "ab-relu", "ab-relu:x,1", "softplus:0", "softplus:-1", "shaped-cubic:1,2.5", "shaped-cubic:1,0"] {
            let kind = errorKind { _ = try Activation(parsing: bad) }
            #expect(kind == "invalidArgument", "'\(bad)' gave \(kind)")
        }
    }

    @Test("parameterization names round-trip and unknown names are rejected")
    func parameterizationParsing() throws {
        let all: [Parameterization] = [.ntk, .standard, .meanField, .scaled(alpha: 3), .scaled(alpha: 0.25), .huangYau, .fangGuZhang, .hanin]
        for p in all {
            #expect(try Parameterization(parsing: p.description) == p, "\(p.description)")
        }
        #expect(try Parameterization(parsing: "seed001") == .huangYau)
        #expect(try Parameterization(parsing: "seed002") == .fangGuZhang)
        #expect(try Parameterization(parsing: "seed004") == .hanin)
        #expect(try Parameterization(parsing: "MeanField") == .meanField)
        for bad in ["ntk2", "", "scaled:", "scaled:0", "scaled:-1", "scaled:abc"] {
            let kind = errorKind { _ = try Parameterization(parsing: bad) }
            #expect(kind == "invalidArgument", "'\(bad)' gave \(kind)")
        }
    }
}
