import Dispatch
import Foundation
import CBLAS
import CSupport

/// The threading policy of Overparam.
///
/// All parallel work is ours: element-wise loops (kernel recursions, activations), which
/// ``Parallel/forEachChunk(_:minChunk:_:)`` splits across cores with `DispatchQueue.concurrentPerform`, and the panels
/// of large products (below). OpenBLAS itself runs single-threaded, so at most `Parallel.threadCount` threads compute.
///
/// **Results never depend on the thread count, bit for bit.** Our loops use fixed, disjoint chunks that each write
/// their own outputs, and reductions are combined in chunk order. OpenBLAS's own threading is not thread-count
/// independent (threaded `dgemv`, `ddot`, the level-2 steps inside LAPACK's `dsytrd`, ... split their reductions
/// by the thread count), so OpenBLAS runs single-threaded: each BLAS or LAPACK call is then deterministic. Large
/// products get their parallelism from us instead: ``Matrix/gemm(_:_:_:_:alpha:beta:into:)`` and
/// ``Matrix/syrk(_:alpha:beta:into:)`` cut C into panels whose boundaries depend on the shape only, one
/// single-threaded `dgemm`/`dsyrk` per panel, run on ``threadCount`` threads (`blockedGemm`, `blockedSyrk`).
///
/// The price is LAPACK: a 5000 x 5000 `dsyevd` takes about 1.5 x as long on one OpenBLAS thread as on two (22 s vs
/// 14.5 s on the 2-core bench machine). `OVERPARAM_BLAS_THREADS=N` (N > 1) hands OpenBLAS N threads for every call
/// (and makes products single calls again): faster eigendecompositions, results no longer bitwise independent of
/// the thread count (they differ in the last bits; near-zero eigenvalues can differ more).
///
/// `OVERPARAM_THREADS` (or ``Parallel/setThreadCount(_:)``) sets the width of our loops and panels.
public enum Parallel {
    private static let configured: Int = {
        if let s = ProcessInfo.processInfo.environment["OVERPARAM_THREADS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()
    nonisolated(unsafe) private static var override: Int? = nil

    /// OpenBLAS's thread count: 1 (deterministic), or `OVERPARAM_BLAS_THREADS`.
    public static let blasThreads: Int = {
        if let s = ProcessInfo.processInfo.environment["OVERPARAM_BLAS_THREADS"], let n = Int(s), n > 0 { return n }
        return 1
    }()

    private static let blasConfigured: Bool = {
        openblas_set_num_threads(Int32(blasThreads))
        return true
    }()

    /// Set OpenBLAS to ``blasThreads`` threads (once per process; every BLAS/LAPACK wrapper calls it first).
    @inline(__always) public static func configureBLAS() { _ = blasConfigured }

    /// Number of threads used by element-wise loops and split products.
    public static var threadCount: Int { configureBLAS(); return override ?? configured }

    /// Set the thread count for our loops and split products (call before heavy work, from one thread). OpenBLAS
    /// keeps ``blasThreads``.
    public static func setThreadCount(_ n: Int) {
        configureBLAS()
        override = max(1, n)
    }

    /// Run `body(range)` over disjoint chunks of `0..<n`, in parallel when `n` is large enough.
    /// The chunking depends only on `n` and `minChunk`, never on the thread count.
    public static func forEachChunk(_ n: Int, minChunk: Int = 4096, _ body: @Sendable (Range<Int>) -> Void) {
        guard n > 0 else { return }
        let chunks = max(1, min(64, n / max(1, minChunk)))
        if chunks == 1 || threadCount == 1 {
            if chunks == 1 { body(0..<n) } else { for c in 0..<chunks { body(range(c, chunks, n)) } }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in body(range(c, chunks, n)) }
    }

    @inline(__always) static func range(_ c: Int, _ chunks: Int, _ n: Int) -> Range<Int> {
        (c * n / chunks)..<((c + 1) * n / chunks)
    }

    /// Row ranges of the upper triangle of an `n x n` matrix with about equal numbers of entries per chunk
    /// (row i has n - i entries). Deterministic in `n` only.
    public static func upperTriangleRowChunks(_ n: Int, chunks requested: Int = 32) -> [Range<Int>] {
        let chunks = max(1, min(requested, n))
        let total = Double(n) * Double(n + 1) / 2
        var bounds = [0]
        var acc = 0.0
        var next = 1
        for i in 0..<n {
            acc += Double(n - i)
            if next < chunks && acc >= total * Double(next) / Double(chunks) {
                bounds.append(i + 1); next += 1
            }
        }
        if bounds.last != n { bounds.append(n) }
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }.filter { !$0.isEmpty }
    }

    /// Make glibc keep large blocks in its heap (mmap threshold and trim threshold 1 GiB): training loops allocate
    /// many megabyte-sized temporaries per step, and a fresh mmap for each costs page faults (measured: more system
    /// time than compute). Called once by the CLI.
    public static func keepLargeAllocationsInHeap() { overparam_keep_large_allocations_in_heap() }

    /// Apply `f` entry-wise to a large array, split across cores.
    public static func map(_ x: [Double], _ f: @Sendable @escaping (Double) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { xi in
                nonisolated(unsafe) let op = o.baseAddress!
                nonisolated(unsafe) let ip = xi.baseAddress!
                forEachChunk(x.count, minChunk: 16384) { r in
                    for i in r { op[i] = f(ip[i]) }
                }
            }
        }
        return out
    }
}
