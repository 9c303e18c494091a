import CLAPACKE

/// The eigendecomposition A = V diag(lambda) V^T of a symmetric matrix (LAPACK `dsyevd`).
///
/// Eigenvalues ascend; `vectors` holds the eigenvectors as columns (row-major storage).
public struct SymmetricEigendecomposition: Sendable {
    public let values: [Double]
    /// Columns are the eigenvectors: `vectors[i, k]` is component i of eigenvector k.
    public let vectors: Matrix

    /// Decompose a symmetric matrix (only its upper triangle is read).
    public init(_ a: Matrix) throws {
        guard a.isSquare else { throw OverparamError.shapeMismatch("eigendecomposition needs a square matrix, got \(a.rows)x\(a.cols)") }
        guard a.isFinite else { throw OverparamError.nonFinite("matrix handed to the eigendecomposition contains NaN or Inf") }
        let n = a.rows
        var v = a
        var w = [Double](repeating: 0, count: n)
        if n > 0 {
            let info = v.storage.withUnsafeMutableBufferPointer { vp in
                w.withUnsafeMutableBufferPointer { wp in
                    LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "L")), Int32(n),
                                   vp.baseAddress, Int32(n), wp.baseAddress)
                }
            }
            if info != 0 { throw OverparamError.singular("dsyevd failed to converge (info \(info))") }
        }
        values = w
        vectors = v
    }

    /// V diag(f(lambda)) V^T: a spectral function of the matrix.
    public func spectralMap(_ f: (Double) -> Double) -> Matrix {
        let n = values.count
        var scaled = vectors
        let fv = values.map(f)
        for i in 0..<n { for k in 0..<n { scaled[i, k] *= fv[k] } }
        return Matrix.product(scaled, .none, vectors, .transposed)
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
