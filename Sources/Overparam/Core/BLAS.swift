import CBLAS

/// Whether an operand of a product enters as is or transposed.
public enum Transpose: Sendable { case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

extension Matrix {
    /// General product C = alpha * op(A) op(B) + beta * C (BLAS `dgemm`, row-major).
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
                    cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                                ap.baseAddress, Int32(a.cols), bp.baseAddress, Int32(b.cols), beta,
                                cp.baseAddress, Int32(n))
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

    /// C := alpha A A^T + beta C on the upper triangle only (BLAS `dsyrk`). Call
    /// ``symmetrizeFromUpper()`` when done accumulating.
    public static func syrk(_ a: Matrix, alpha: Double = 1, beta: Double = 0, into c: inout Matrix) {
        precondition(c.rows == a.rows && c.cols == a.rows, "syrk: output must be \(a.rows)x\(a.rows)")
        if a.rows == 0 { return }
        a.storage.withUnsafeBufferPointer { ap in
            c.storage.withUnsafeMutableBufferPointer { cp in
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(a.rows), Int32(a.cols), alpha,
                            ap.baseAddress, Int32(max(1, a.cols)), beta, cp.baseAddress, Int32(a.rows))
            }
        }
    }

    /// y = alpha * op(A) x (BLAS `dgemv`).
    public func apply(_ x: [Double], _ t: Transpose = .none, alpha: Double = 1) -> [Double] {
        let outCount = t == .none ? rows : cols
        precondition(x.count == (t == .none ? cols : rows), "gemv: vector length mismatch")
        var y = [Double](repeating: 0, count: outCount)
        if rows == 0 || cols == 0 { return y }
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
    return a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
        cblas_ddot(Int32(a.count), ap.baseAddress, 1, bp.baseAddress, 1) } }
}
