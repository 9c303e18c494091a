import CBLAS

/// A dense, row-major matrix of `Double`.
///
/// Entry `(i, j)` lives at `storage[i * cols + j]` (C order, the layout of NumPy's `.npy` files).
/// Products go through OpenBLAS (`dgemm`, `dsyrk`, `dgemv`); factorizations through LAPACKE
/// (see ``SymmetricEigendecomposition``, ``CholeskyFactorization``, ``Matrix/solve(_:)``).
public struct Matrix: Sendable, Equatable, CustomStringConvertible {
    public private(set) var rows: Int
    public private(set) var cols: Int
    /// Row-major entries, `rows * cols` of them.
    public var storage: [Double]

    /// A matrix from row-major entries; `storage.count` must equal `rows * cols`.
    public init(rows: Int, cols: Int, storage: [Double]) {
        precondition(rows >= 0 && cols >= 0 && storage.count == rows * cols, "Matrix: storage size mismatch")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A matrix filled with `value`.
    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        self.init(rows: rows, cols: cols, storage: [Double](repeating: value, count: rows * cols))
    }

    /// A matrix whose entries the caller overwrites before reading them (skips zero-filling large outputs).
    init(uninitializedRows rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        storage = [Double](unsafeUninitializedCapacity: rows * cols) { _, count in count = rows * cols }
    }

    /// A matrix from nested rows (all of equal length).
    public init(_ nested: [[Double]]) {
        let r = nested.count
        let c = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == c }, "Matrix: ragged rows")
        self.init(rows: r, cols: c, storage: nested.flatMap { $0 })
    }

    /// A column vector (n x 1).
    public init(column: [Double]) { self.init(rows: column.count, cols: 1, storage: column) }

    /// The `n x n` identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.storage[i * n + i] = 1 }
        return m
    }

    /// A diagonal matrix.
    public static func diagonal(_ d: [Double]) -> Matrix {
        var m = Matrix(rows: d.count, cols: d.count)
        for i in 0..<d.count { m.storage[i * d.count + i] = d[i] }
        return m
    }

    public var count: Int { storage.count }
    public var shape: (rows: Int, cols: Int) { (rows, cols) }
    public var isSquare: Bool { rows == cols }

    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Double] { Array(storage[(i * cols)..<((i + 1) * cols)]) }
    /// Column `j` as an array.
    public func column(_ j: Int) -> [Double] { (0..<rows).map { storage[$0 * cols + j] } }

    /// The rows at the given indices, in that order.
    public func rows(at indices: [Int]) -> Matrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * cols)
        for i in indices { out.append(contentsOf: storage[(i * cols)..<((i + 1) * cols)]) }
        return Matrix(rows: indices.count, cols: cols, storage: out)
    }

    /// The columns at the given indices, in that order.
    public func columns(_ indices: [Int]) -> Matrix {
        var out = Matrix(rows: rows, cols: indices.count)
        for i in 0..<rows { for (j, c) in indices.enumerated() { out[i, j] = self[i, c] } }
        return out
    }

    /// The main diagonal.
    public var diagonal: [Double] { (0..<Swift.min(rows, cols)).map { storage[$0 * cols + $0] } }

    /// The transpose.
    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        storage.withUnsafeBufferPointer { a in
            t.storage.withUnsafeMutableBufferPointer { b in
                for i in 0..<rows { for j in 0..<cols { b[j * rows + i] = a[i * cols + j] } }
            }
        }
        return t
    }

    /// Reinterpret the same row-major entries with a new shape.
    public func reshaped(rows r: Int, cols c: Int) -> Matrix { Matrix(rows: r, cols: c, storage: storage) }

    /// True when every entry is finite.
    public var isFinite: Bool { storage.allSatisfy { $0.isFinite } }

    /// Frobenius norm ||A||_F.
    public var frobeniusNorm: Double {
        storage.withUnsafeBufferPointer { cblas_dnrm2(Int32($0.count), $0.baseAddress, 1) }
    }

    /// Largest absolute entry.
    public var maxAbs: Double { storage.reduce(0) { Swift.max($0, abs($1)) } }

    /// Sum of the diagonal.
    public var trace: Double { diagonal.reduce(0, +) }

    /// Copy the upper triangle onto the lower one (A := triu(A) + triu(A, 1)^T).
    public mutating func symmetrizeFromUpper() {
        precondition(isSquare)
        let n = rows
        let tile = 64
        storage.withUnsafeMutableBufferPointer { a in
            nonisolated(unsafe) let p = a.baseAddress!
            // Tiles below the diagonal, one tile-row per task: cache-friendly and split across cores.
            Parallel.forEachChunk((n + tile - 1) / tile, minChunk: 1) { blocks in
                for bi in blocks {
                    let i0 = bi * tile, i1 = Swift.min(n, i0 + tile)
                    for j0 in stride(from: 0, through: i0, by: tile) {
                        let j1 = Swift.min(n, j0 + tile)
                        for i in i0..<i1 { for j in j0..<Swift.min(j1, i) { p[i * n + j] = p[j * n + i] } }
                    }
                }
            }
        }
    }

    /// (A + A^T) / 2.
    public var symmetricPart: Matrix {
        precondition(isSquare)
        var s = self
        for i in 0..<rows { for j in (i + 1)..<Swift.max(i + 1, cols) {
            let v = 0.5 * (self[i, j] + self[j, i]); s[i, j] = v; s[j, i] = v
        } }
        return s
    }

    public var description: String {
        let shown = (0..<Swift.min(rows, 6)).map { i in
            (0..<Swift.min(cols, 6)).map { j in String(format6(self[i, j])) }.joined(separator: " ")
        }
        return "Matrix(\(rows)x\(cols))\n" + shown.joined(separator: "\n")
    }
}

@usableFromInline func format6(_ x: Double) -> String {
    let s = "\(Double(Int((x * 1e6).rounded())) / 1e6)"
    return s
}

// MARK: - Element-wise arithmetic (vectorized by the compiler; large maps see `Parallel`)

extension Matrix {
    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols, "Matrix +: shape mismatch")
        var c = a
        c.add(b, scaledBy: 1)
        return c
    }
    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols, "Matrix -: shape mismatch")
        var c = a
        c.add(b, scaledBy: -1)
        return c
    }
    public static func * (s: Double, a: Matrix) -> Matrix {
        var c = a
        c.scale(by: s)
        return c
    }
    /// Hadamard (entry-wise) product.
    public static func .* (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols, "Matrix .*: shape mismatch")
        var c = a
        c.storage.withUnsafeMutableBufferPointer { cp in
            b.storage.withUnsafeBufferPointer { bp in
                for i in 0..<cp.count { cp[i] *= bp[i] }
            }
        }
        return c
    }
    /// self += s * b (BLAS daxpy).
    public mutating func add(_ b: Matrix, scaledBy s: Double) {
        precondition(rows == b.rows && cols == b.cols, "Matrix add: shape mismatch")
        let n = Int32(count)
        storage.withUnsafeMutableBufferPointer { cp in
            b.storage.withUnsafeBufferPointer { bp in cblas_daxpy(n, s, bp.baseAddress, 1, cp.baseAddress, 1) }
        }
    }
    /// self *= s.
    public mutating func scale(by s: Double) {
        let n = Int32(count)
        storage.withUnsafeMutableBufferPointer { cblas_dscal(n, s, $0.baseAddress, 1) }
    }
    /// Add `s` to the diagonal.
    public mutating func addToDiagonal(_ s: Double) {
        for i in 0..<Swift.min(rows, cols) { storage[i * cols + i] += s }
    }
    /// Apply `f` to every entry (serial; see ``Parallel/map(_:_:)`` for large matrices).
    public func map(_ f: (Double) -> Double) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: storage.map(f))
    }
    /// Add a row vector to every row.
    public mutating func addRowVector(_ v: [Double], scaledBy s: Double = 1) {
        precondition(v.count == cols)
        storage.withUnsafeMutableBufferPointer { a in
            for i in 0..<rows { for j in 0..<cols { a[i * cols + j] += s * v[j] } }
        }
    }
    /// Column sums (a row vector of length `cols`).
    public var columnSums: [Double] {
        var s = [Double](repeating: 0, count: cols)
        for i in 0..<rows { for j in 0..<cols { s[j] += storage[i * cols + j] } }
        return s
    }
}

infix operator .* : MultiplicationPrecedence
