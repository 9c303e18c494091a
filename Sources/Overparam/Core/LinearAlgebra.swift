import CLAPACKE

/// The eigendecomposition A = V diag(lambda) V^T of a symmetric matrix (LAPACK `dsyevd`, divide and conquer).
///
/// Eigenvalues ascend. The eigenvectors are kept as the rows of ``eigenvectorRows`` (V^T, row-major): LAPACK is
/// called in column-major order on the row-major storage, which for a symmetric matrix is the same matrix, so no
/// transposed copies of the n x n input or output are made (they cost about 5 % of a 5000 x 5000 solve).
public struct SymmetricEigendecomposition: Sendable {
    public let values: [Double]
    /// V^T: row k is the eigenvector of `values[k]`.
    public let eigenvectorRows: Matrix

    /// Decompose a symmetric matrix (only one triangle is read). The argument is consumed (its storage is reused).
    public init(_ a: consuming Matrix) throws {
        guard a.isSquare else { throw OverparamError.shapeMismatch("eigendecomposition needs a square matrix, got \(a.rows)x\(a.cols)") }
        guard a.isFinite else { throw OverparamError.nonFinite("matrix handed to the eigendecomposition contains NaN or Inf") }
        let n = a.rows
        var v = a
        var w = [Double](repeating: 0, count: n)
        if n > 0 {
            Parallel.configureBLAS()
            let info = v.storage.withUnsafeMutableBufferPointer { vp in
                w.withUnsafeMutableBufferPointer { wp in
                    LAPACKE_dsyevd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n),
                                   vp.baseAddress, Int32(n), wp.baseAddress)
                }
            }
            if info != 0 { throw OverparamError.singular("dsyevd failed to converge (info \(info))") }
        }
        values = w
        eigenvectorRows = v
    }

    /// V: column k is the eigenvector of `values[k]` (a transposed copy).
    public var vectors: Matrix { eigenvectorRows.transposed }

    /// V diag(f(lambda)) V^T: a spectral function of the matrix.
    public func spectralMap(_ f: (Double) -> Double) -> Matrix {
        var scaled = eigenvectorRows
        let fv = values.map(f)
        let n = values.count
        for k in 0..<n { for i in 0..<n { scaled[k, i] *= fv[k] } }
        return Matrix.product(eigenvectorRows, .transposed, scaled, .none)
    }

    /// The spectral condition number lambda_max / lambda_min (infinite if lambda_min <= 0).
    public var conditionNumber: Double {
        guard let lo = values.first, let hi = values.last else { return .nan }
        return lo > 0 ? hi / lo : .infinity
    }
}

/// The Cholesky factorization A = L L^T of a symmetric positive-definite matrix (LAPACK `dpotrf`).
public struct CholeskyFactorization: Sendable {
    /// The lower factor in the lower triangle (upper triangle zeroed).
    public let lower: Matrix

    public init(_ a: Matrix) throws {
        guard a.isSquare else { throw OverparamError.shapeMismatch("Cholesky needs a square matrix, got \(a.rows)x\(a.cols)") }
        guard a.isFinite else { throw OverparamError.nonFinite("matrix handed to Cholesky contains NaN or Inf") }
        let n = a.rows
        var l = a
        Parallel.configureBLAS()
        let info = l.storage.withUnsafeMutableBufferPointer { lp in
            LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), lp.baseAddress, Int32(max(1, n)))
        }
        if info > 0 {
            throw OverparamError.singular("matrix is not positive definite (leading minor \(info)); add a diagonal regularizer (--diag-reg)")
        }
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { l[i, j] = 0 } }
        lower = l
    }

    /// Solve A X = B.
    public func solve(_ b: Matrix) -> Matrix {
        precondition(b.rows == lower.rows)
        var x = b
        let n = lower.rows
        if n == 0 || b.cols == 0 { return x }
        Parallel.configureBLAS()
        _ = lower.storage.withUnsafeBufferPointer { lp in
            x.storage.withUnsafeMutableBufferPointer { xp in
                LAPACKE_dpotrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), Int32(b.cols),
                               lp.baseAddress, Int32(n), xp.baseAddress, Int32(b.cols))
            }
        }
        return x
    }

    /// log det A = 2 sum log L_ii.
    public var logDeterminant: Double { 2 * lower.diagonal.reduce(0) { $0 + _log($1) } }
}

@inline(__always) private func _log(_ x: Double) -> Double { x.isFinite ? Foundation_log(x) : x }
import Foundation
@inline(__always) private func Foundation_log(_ x: Double) -> Double { Foundation.log(x) }

extension Matrix {
    /// Solve A X = B for a general square A (LAPACK `dgesv`, LU with partial pivoting).
    public func solve(_ b: Matrix) throws -> Matrix {
        guard isSquare else { throw OverparamError.shapeMismatch("solve needs a square matrix, got \(rows)x\(cols)") }
        guard b.rows == rows else { throw OverparamError.shapeMismatch("solve: right-hand side has \(b.rows) rows, expected \(rows)") }
        guard isFinite, b.isFinite else { throw OverparamError.nonFinite("linear system contains NaN or Inf") }
        var a = self
        var x = b
        var piv = [Int32](repeating: 0, count: rows)
        if rows == 0 { return x }
        Parallel.configureBLAS()
        let info = a.storage.withUnsafeMutableBufferPointer { ap in
            x.storage.withUnsafeMutableBufferPointer { xp in
                piv.withUnsafeMutableBufferPointer { pp in
                    LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(rows), Int32(b.cols), ap.baseAddress, Int32(rows),
                                  pp.baseAddress, xp.baseAddress, Int32(b.cols))
                }
            }
        }
        if info > 0 { throw OverparamError.singular("matrix is exactly singular (zero pivot \(info)); add a regularizer") }
        return x
    }
}
