import Foundation
import Testing
@testable import Overparam

/// Runs `body` with `threads` threads for our loops and split products, then restores the count. (The count is
/// global; other suites running meanwhile are unaffected in their results, which is what this suite checks.)
private func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let before = Parallel.threadCount
    Parallel.setThreadCount(threads)
    defer { Parallel.setThreadCount(before) }
    return try body()
}

/// C = op(A) op(B) entry by entry in order, and |op(A)| |op(B)| for the rounding bound.
private func naiveProduct(_ a: Matrix, _ ta: Transpose, _ b: Matrix, _ tb: Transpose) -> (c: Matrix, abs: Matrix) {
    let m = ta == .none ? a.rows : a.cols, k = ta == .none ? a.cols : a.rows, n = tb == .none ? b.cols : b.rows
    var c = Matrix(rows: m, cols: n), s = Matrix(rows: m, cols: n)
    for i in 0..<m { for j in 0..<n {
        var acc = 0.0, accAbs = 0.0
        for q in 0..<k {
            let x = ta == .none ? a[i, q] : a[q, i], y = tb == .none ? b[q, j] : b[j, q]
            acc += x * y; accAbs += Swift.abs(x * y)
        }
        c[i, j] = acc; s[i, j] = accAbs
    } }
    return (c, s)
}

@Suite("Results do not depend on the thread count (OpenBLAS single-threaded, shape-only panels)")
struct DeterminismTests {
    /// Shapes below the split threshold, split by rows (m >= n) and by columns (n > m), in every transpose.
    static let shapes: [(m: Int, n: Int, k: Int)] = [(10, 20, 30), (600, 300, 200), (200, 700, 100), (513, 257, 64)]

    @Test("gemm: bit-identical on 1 and 2 threads; within the rounding bound 2 k eps |A||B| of the ordered sum")
    func gemm() throws {
        var rng = Xoshiro256StarStar(seed: 11, stream: 0)
        for (m, n, k) in Self.shapes {
            for (ta, tb) in [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)] {
                let a = ta == .none ? Matrix.randomNormal(rows: m, cols: k, using: &rng) : Matrix.randomNormal(rows: k, cols: m, using: &rng)
                let b = tb == .none ? Matrix.randomNormal(rows: k, cols: n, using: &rng) : Matrix.randomNormal(rows: n, cols: k, using: &rng)
                let c0 = Matrix.randomNormal(rows: m, cols: n, using: &rng)
                func run() -> Matrix { var c = c0; Matrix.gemm(a, ta, b, tb, alpha: 0.7, beta: 0.3, into: &c); return c }
                let one = withThreads(1, run), two = withThreads(2, run)
                #expect(one.storage == two.storage, "\(m)x\(n)x\(k) \(ta) \(tb): results differ between 1 and 2 threads")
                // |fl(sum) - sum| <= gamma_k sum |x y| with gamma_k = k eps / (1 - k eps) < 2 k eps (Higham, Thm. 3.1);
                // the alpha/beta update adds 2 more roundings.
                let (exact, bound) = naiveProduct(a, ta, b, tb)
                var worst = 0.0
                for i in 0..<(m * n) {
                    let want = 0.7 * exact.storage[i] + 0.3 * c0.storage[i]
                    let tol = 2 * Double(k + 4) * Double.ulpOfOne * (0.7 * bound.storage[i] + 0.3 * Swift.abs(c0.storage[i]))
                    worst = Swift.max(worst, Swift.abs(one.storage[i] - want) / tol)
                }
                #expect(worst <= 1, "\(m)x\(n)x\(k) \(ta) \(tb): error / bound = \(worst)")
            }
        }
    }

    @Test("syrk: the upper triangle is bit-identical on 1 and 2 threads and within the rounding bound of A A^T")
    func syrk() throws {
        var rng = Xoshiro256StarStar(seed: 12, stream: 0)
        for (n, k) in [(40, 30), (700, 90), (300, 200)] {
            let a = Matrix.randomNormal(rows: n, cols: k, using: &rng)
            let c0 = Matrix.randomNormal(rows: n, cols: n, using: &rng)
            func run() -> Matrix { var c = c0; Matrix.syrk(a, alpha: 1.5, beta: 0.5, into: &c); return c }
            let one = withThreads(1, run), two = withThreads(2, run)
            let (exact, bound) = naiveProduct(a, .none, a, .transposed)
            var worst = 0.0, differ = 0
            for i in 0..<n { for j in i..<n {
                if one[i, j] != two[i, j] { differ += 1 }
                let want = 1.5 * exact[i, j] + 0.5 * c0[i, j]
                let tol = 2 * Double(k + 4) * Double.ulpOfOne * (1.5 * bound[i, j] + 0.5 * Swift.abs(c0[i, j]))
                worst = Swift.max(worst, Swift.abs(one[i, j] - want) / tol)
            } }
            #expect(differ == 0, "n = \(n), k = \(k): \(differ) upper-triangle entries differ between 1 and 2 threads")
            #expect(worst <= 1, "n = \(n), k = \(k): error / bound = \(worst)")
        }
    }

    @Test("panels depend on the shape only; small products are one call")
    func panels() {
        #expect(blockedPanels(1000, work: 1000) == [0..<1000])
        let p = blockedPanels(600, work: 160_000_000)
        #expect(p.count == 3 && p.first?.lowerBound == 0 && p.last?.upperBound == 600)
        #expect(blockedPanels(600, work: 36_000_000).count == 2)
        #expect(zip(p, p.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(blockedPanels(100_000, work: Int.max).count == 16)
        #expect(Parallel.blasThreads == 1, "the tests run with OpenBLAS single-threaded (OVERPARAM_BLAS_THREADS unset)")
    }

    @Test("a wide network's outputs, its empirical NTK and the kernel's eigendecomposition are bit-identical on 1 and 2 threads")
    func endToEnd() throws {
        let arch = Architecture(inputDimension: 32, hiddenWidths: [1024, 1024], activation: .relu, outputDimension: 1,
                                weightVariance: 2, biasVariance: 0.1, hasBias: true, parameterization: .ntk)
        var rng = Xoshiro256StarStar(seed: 13, stream: 0)
        let x = Matrix.randomNormal(rows: 300, cols: 32, using: &rng)
        func run() throws -> [Double] {
            let net = try Network(arch, seed: 5)
            let f = try net(x)
            let ntk = try EmpiricalNTK.compute(net, x).ntk
            let eig = try SymmetricEigendecomposition(ntk)
            return f.storage + ntk.storage + eig.values + eig.eigenvectorRows.storage
        }
        let one = try withThreads(1, run), two = try withThreads(2, run)
        #expect(one == two)
    }
}
