import CBLAS
import Dispatch

/// Whether an operand of a product enters as is or transposed.
public enum Transpose: Sendable { case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

extension Matrix {
    /// General product C = alpha * op(A) op(B) + beta * C (BLAS `dgemm`, row-major; ``blockedGemm``).
    public static func gemm(_ a: Matrix, _ ta: Transpose, _ b: Matrix, _ tb: Transpose,
                            alpha: Double = 1, beta: Double = 0, into c: inout Matrix) {
        let m = ta == .none ? a.rows : a.cols
        let k = ta == .none ? a.cols : a.rows
        let kb = tb == .none ? b.rows : b.cols
        let n = tb == .none ? b.cols : b.rows
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.cols == n, "gemm: output is \(c.rows)x\(c.cols), expected \(m)x\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 { if beta == 0 { c = Matrix(rows: m, cols: n) } else { c.scale(by: beta) }; return }
        a.storage.withUnsafeBufferPointer { ap in
            b.storage.withUnsafeBufferPointer { bp in
                c.storage.withUnsafeMutableBufferPointer { cp in
                    blockedGemm(ta, tb, m: m, n: n, k: k, alpha: alpha, ap.baseAddress!, lda: a.cols, bp.baseAddress!, ldb: b.cols,
                                beta: beta, cp.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// op(A) op(B) (a new matrix).
    public static func product(_ a: Matrix, _ ta: Transpose, _ b: Matrix, _ tb: Transpose,
                               alpha: Double = 1) -> Matrix {
        let m = ta == .none ? a.rows : a.cols
        let n = tb == .none ? b.cols : b.rows
        var c = Matrix(rows: m, cols: n)
        gemm(a, ta, b, tb, alpha: alpha, into: &c)
        return c
    }

    /// Matrix product A B.
    public static func * (a: Matrix, b: Matrix) -> Matrix { product(a, .none, b, .none) }

    /// The Gram matrix alpha * A A^T (BLAS `dsyrk`, full symmetric result).
    public func gram(alpha: Double = 1) -> Matrix {
        var c = Matrix(rows: rows, cols: rows)
        Matrix.syrk(self, alpha: alpha, beta: 0, into: &c)
        c.symmetrizeFromUpper()
        return c
    }

    /// C := alpha A A^T + beta C on the upper triangle only (BLAS `dsyrk`; ``blockedSyrk``). Call
    /// ``symmetrizeFromUpper()`` when done accumulating.
    public static func syrk(_ a: Matrix, alpha: Double = 1, beta: Double = 0, into c: inout Matrix) {
        precondition(c.rows == a.rows && c.cols == a.rows, "syrk: output must be \(a.rows)x\(a.rows)")
        if a.rows == 0 { return }
        if a.cols == 0 {
            for i in 0..<a.rows { for j in i..<a.rows { c.storage[i * a.rows + j] = beta == 0 ? 0 : beta * c.storage[i * a.rows + j] } }
            return
        }
        a.storage.withUnsafeBufferPointer { ap in
            c.storage.withUnsafeMutableBufferPointer { cp in
                blockedSyrk(n: a.rows, k: a.cols, alpha: alpha, ap.baseAddress!, lda: a.cols, beta: beta, cp.baseAddress!, ldc: a.rows)
            }
        }
    }

    /// y = alpha * op(A) x (BLAS `dgemv`).
    public func apply(_ x: [Double], _ t: Transpose = .none, alpha: Double = 1) -> [Double] {
        let outCount = t == .none ? rows : cols
        precondition(x.count == (t == .none ? cols : rows), "gemv: vector length mismatch")
        var y = [Double](repeating: 0, count: outCount)
        if rows == 0 || cols == 0 { return y }
        Parallel.configureBLAS()
        storage.withUnsafeBufferPointer { ap in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    cblas_dgemv(CblasRowMajor, t.cblas, Int32(rows), Int32(cols), alpha, ap.baseAddress,
                                Int32(cols), xp.baseAddress, 1, 0, yp.baseAddress, 1)
                }
            }
        }
        return y
    }
}

/// Dot product of two equal-length vectors (BLAS `ddot`).
public func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    Parallel.configureBLAS()
    return a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
        cblas_ddot(Int32(a.count), ap.baseAddress, 1, bp.baseAddress, 1) } }
}

// MARK: - Thread-count independent level-3 BLAS

/// Products below this many multiply-adds (m n k) are one single-threaded `dgemm`/`dsyrk` call.
let blockedBLASMinimumWork = 4_000_000
/// The smallest panel (rows or columns of C) of a split product.
let blockedBLASMinimumPanel = 128
/// About this many multiply-adds per panel (at least 2 panels): fewer, larger calls for mid-sized products, where
/// each dispatch costs more than OpenBLAS's spinning threads did (measured: 128-column panels of the 100 x 512 x 512
/// products of a depth-3 SGD step lost 20 % against 2 OpenBLAS threads; 2-3 panels lose 0-10 %).
let blockedBLASPanelWork = 50_000_000
/// The most panels a product is split into.
let blockedBLASMaximumPanels = 16

/// The panels `0..<count` is cut into for a product of `work` multiply-adds: shape only (never the thread count),
/// so every entry of C is computed by the same single-threaded `dgemm` call on any number of threads.
func blockedPanels(_ count: Int, work: Int) -> [Range<Int>] {
    guard work >= blockedBLASMinimumWork else { return [0..<count] }
    let panels = Swift.max(1, Swift.min(blockedBLASMaximumPanels, count / blockedBLASMinimumPanel, Swift.max(2, work / blockedBLASPanelWork)))
    return (0..<panels).map { (($0 * count) / panels)..<((($0 + 1) * count) / panels) }
}

/// C = alpha op(A) op(B) + beta C on raw row-major storage (m x n output, inner dimension k > 0), bitwise independent
/// of the thread count.
///
/// OpenBLAS runs single-threaded (``Parallel``), so one `dgemm` call is deterministic; a large product is cut into
/// panels of C along its longer side (``blockedPanels(_:work:)``, boundaries from the shape alone), each panel one
/// single-threaded `dgemm` over the whole inner dimension, and the panels run on ``Parallel/threadCount`` threads.
/// A panel of rows re-reads all of op(B) and a panel of columns all of op(A): at most 1/128 extra traffic per panel.
/// With `OVERPARAM_BLAS_THREADS` > 1 (OpenBLAS threads its own calls) the product is one call.
func blockedGemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Double,
                 _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                 beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
    Parallel.configureBLAS()
    let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue
    let splitRows = m >= n
    let panels = Parallel.blasThreads > 1 ? [0..<(splitRows ? m : n)] : blockedPanels(splitRows ? m : n, work: work)
    nonisolated(unsafe) let (ap, bp, cp) = (a, b, c)
    let one = { @Sendable (p: Int) in
        let r = panels[p]
        guard !r.isEmpty else { return }
        if splitRows {
            // Rows r of op(A): rows of A (no transpose) or columns of A (transposed).
            let aOff = ta == .none ? r.lowerBound * lda : r.lowerBound
            cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(r.count), Int32(n), Int32(k), alpha, ap + aOff, Int32(lda),
                        bp, Int32(ldb), beta, cp + r.lowerBound * ldc, Int32(ldc))
        } else {
            // Columns r of op(B): columns of B (no transpose) or rows of B (transposed).
            let bOff = tb == .none ? r.lowerBound : r.lowerBound * ldb
            cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(r.count), Int32(k), alpha, ap, Int32(lda),
                        bp + bOff, Int32(ldb), beta, cp + r.lowerBound, Int32(ldc))
        }
    }
    if panels.count == 1 || Parallel.threadCount == 1 {
        for p in panels.indices { one(p) }
    } else {
        DispatchQueue.concurrentPerform(iterations: panels.count, execute: one)
    }
}

/// The upper triangle of C = alpha A A^T + beta C (A n x k row-major, k > 0), bitwise independent of the thread count:
/// block rows of C from ``Parallel/upperTriangleRowChunks(_:chunks:)`` (about equal work, shape only), each a
/// single-threaded `dsyrk` on its diagonal block plus one `dgemm` for the block right of it.
func blockedSyrk(n: Int, k: Int, alpha: Double, _ a: UnsafePointer<Double>, lda: Int, beta: Double,
                 _ c: UnsafeMutablePointer<Double>, ldc: Int) {
    Parallel.configureBLAS()
    let work = n.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue / 2
    let rows = Parallel.blasThreads > 1 || work < blockedBLASMinimumWork || n < 2 * blockedBLASMinimumPanel
        ? [0..<n] : Parallel.upperTriangleRowChunks(n, chunks: Swift.min(blockedBLASMaximumPanels, n / blockedBLASMinimumPanel,
                                                                       Swift.max(2, work / blockedBLASPanelWork)))
    nonisolated(unsafe) let (ap, cp) = (a, c)
    let one = { @Sendable (p: Int) in
        let r = rows[p]
        guard !r.isEmpty else { return }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(r.count), Int32(k), alpha, ap + r.lowerBound * lda, Int32(lda),
                    beta, cp + r.lowerBound * ldc + r.lowerBound, Int32(ldc))
        let right = n - r.upperBound
        if right > 0 {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r.count), Int32(right), Int32(k), alpha,
                        ap + r.lowerBound * lda, Int32(lda), ap + r.upperBound * lda, Int32(lda), beta,
                        cp + r.lowerBound * ldc + r.upperBound, Int32(ldc))
        }
    }
    if rows.count == 1 || Parallel.threadCount == 1 {
        for p in rows.indices { one(p) }
    } else {
        DispatchQueue.concurrentPerform(iterations: rows.count, execute: one)
    }
}
