import Dispatch
import Foundation
import CBLAS
import CSupport

/// The threading policy of Overparam.
///
/// Two kinds of parallel work exist: dense linear algebra inside OpenBLAS (its own pthread pool) and our
/// element-wise loops (kernel recursions, activations), which ``Parallel/forEachChunk(_:minChunk:_:)`` splits
/// across cores with `DispatchQueue.concurrentPerform`. The rule that prevents oversubscription:
/// **the two never run at the same time.** Our loops never call BLAS inside a chunk, and BLAS is only called
/// from the caller's thread between loops. So at any moment at most `Parallel.threadCount` threads compute.
///
/// Our loops never depend on the thread count: chunks are fixed, disjoint index ranges that each write their own
/// outputs, and reductions are combined in chunk order. OpenBLAS's own threading is not bitwise thread-count
/// independent (some `dgemm` shapes and long `ddot`s round differently with 1 and 2 threads), so bit-identical
/// results across machines need a pinned `OVERPARAM_THREADS`. `OVERPARAM_THREADS` (or
/// ``Parallel/setThreadCount(_:)``) sets both our loop width and OpenBLAS's pool size.
public enum Parallel {
    private static let configured: Int = {
        if let s = ProcessInfo.processInfo.environment["OVERPARAM_THREADS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()
    nonisolated(unsafe) private static var override: Int? = nil

    /// Number of threads used by element-wise loops (and handed to OpenBLAS).
    public static var threadCount: Int { override ?? configured }

    /// Set the thread count for our loops and OpenBLAS (call before heavy work, from one thread).
    public static func setThreadCount(_ n: Int) {
        override = max(1, n)
        openblas_set_num_threads(Int32(max(1, n)))
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
