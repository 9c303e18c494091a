import Foundation
@testable import Overparam

/// ||a - reference||_F / ||reference||_F (infinity for mismatched shapes or NaN).
func relativeError(_ a: Matrix, _ reference: Matrix) -> Double {
    guard a.rows == reference.rows, a.cols == reference.cols else { return .infinity }
    let e = (a - reference).frobeniusNorm / Swift.max(reference.frobeniusNorm, Double.leastNormalMagnitude)
    return e.isNaN ? .infinity : e
}

/// Relative error of two vectors.
func relativeError(_ a: [Double], _ reference: [Double]) -> Double {
    relativeError(Matrix(column: a), Matrix(column: reference))
}

/// A B by three loops (independent of BLAS).
func naiveProduct(_ a: Matrix, _ b: Matrix) -> Matrix {
    var c = Matrix(rows: a.rows, cols: b.cols)
    for i in 0..<a.rows {
        for j in 0..<b.cols {
            var s = 0.0
            for k in 0..<a.cols { s += a[i, k] * b[k, j] }
            c[i, j] = s
        }
    }
    return c
}

/// A fresh temporary folder.
func makeTempDir(_ prefix: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// The kind of `OverparamError` thrown by `body` ("none" if it returns, "other" for other errors).
func errorKind(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "none"
    } catch let error as OverparamError {
        switch error {
        case .singular: return "singular"
        case .shapeMismatch: return "shapeMismatch"
        case .nonFinite: return "nonFinite"
        case .invalidArgument: return "invalidArgument"
        default: return "otherOverparamError"
        }
    } catch {
        return "other"
    }
}

/// The `OverparamError` thrown by `body`, or nil when it succeeds or throws something else.
func thrownError(_ body: () throws -> Void) -> OverparamError? {
    do {
        try body()
        return nil
    } catch let error as OverparamError {
        return error
    } catch {
        return nil
    }
}

/// `Parallel.setThreadCount` changes process-wide state (our pool and OpenBLAS); tests that compare results across
/// thread counts run their body under this lock so that two of them never change the setting under each other.
func withThreadCountLock<T>(_ body: () throws -> T) rethrows -> T {
    threadCountLock.lock()
    defer { threadCountLock.unlock() }
    return try body()
}
nonisolated(unsafe) private let threadCountLock = NSLock()
