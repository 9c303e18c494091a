import Foundation
import Dispatch
import Synchronization

/// A small team of persistent worker threads for the fine-grained parallel phases of ``ParticleSGD`` (two phases of
/// about 0.1-0.3 ms per step). `DispatchQueue.concurrentPerform` wakes parked threads for every call; in this virtual
/// machine a wake-up takes about as long as a phase, so the caller often ends up doing all the work (measured: four
/// 0.1 ms GEMM blocks ran no faster than serially). These workers instead spin for ``spinNanoseconds`` after each job
/// before parking on a condition variable, the way OpenBLAS's own pool does.
///
/// Caveat (measured): when another process keeps one of two cores busy, a worker that is descheduled while holding a
/// block stalls the phase, and 2 threads run slower than 1 (about 800 vs 1,000 steps/s in the d = 100, m = 1000 SGD
/// benchmark; 1,500-1,600 on a quiet machine). Set `OVERPARAM_THREADS=1` on a shared, loaded machine.
///
/// Determinism: blocks are claimed dynamically, but a block's arithmetic does not depend on which thread runs it, so
/// results never depend on the thread count. At most ``Parallel/threadCount`` threads (the caller included) work on a
/// job; with one thread the blocks run inline. Jobs from different callers are serialized; bodies must not nest jobs.
final class SpinningWorkers: @unchecked Sendable {
    static let shared = SpinningWorkers()

    /// How long an idle worker spins before parking.
    let spinNanoseconds: UInt64 = 500_000

    /// Bumped (release) to publish a job.
    private let generation = Atomic<Int>(0)
    /// (generation << 32) | (participants << 16) | block count of the current job.
    private let header = Atomic<Int>(0)
    /// (generation << 32) | next unclaimed block.
    private let ticket = Atomic<Int>(0)
    /// Blocks finished in the current job.
    private let finished = Atomic<Int>(0)
    private let callerLock = NSLock()
    private let parkCondition = NSCondition()
    /// Workers parked on `parkCondition` (guarded by it).
    private var parked = 0
    /// Workers started (guarded by `callerLock`).
    private var workerCount = 0
    /// The current job's body: written before the generation is published, read by a worker only after it claimed a
    /// block of that generation (the job cannot end before that block finishes).
    private var body: ((Int) -> Void)?

    private init() {}

    private static func pack(_ gen: Int, _ low: Int) -> Int { ((gen & 0x7FFF_FFFF) << 32) | low }

    /// Run `body(b)` for b in 0..<count, each exactly once, on up to ``Parallel/threadCount`` threads; returns when all
    /// are done (their writes visible to the caller).
    func run(_ count: Int, _ body: @Sendable (Int) -> Void) {
        let threads = Parallel.threadCount
        if count <= 1 || threads <= 1 {
            for b in 0..<count { body(b) }
            return
        }
        precondition(count < (1 << 16), "SpinningWorkers: too many blocks")
        withoutActuallyEscaping(body) { job in
            callerLock.lock()
            defer { callerLock.unlock() }
            let helpers = Swift.min(threads - 1, 0xFFFF)
            let gen = generation.load(ordering: .relaxed) &+ 1
            while workerCount < helpers { startWorker(index: workerCount, seen: gen &- 1) }
            self.body = job
            finished.store(0, ordering: .relaxed)
            ticket.store(Self.pack(gen, 0), ordering: .relaxed)
            header.store(Self.pack(gen, (helpers << 16) | count), ordering: .releasing)
            generation.store(gen, ordering: .releasing)
            parkCondition.lock()
            if parked > 0 { parkCondition.broadcast() }
            parkCondition.unlock()
            work(gen: gen, count: count)
            while finished.load(ordering: .acquiring) < count {}
            self.body = nil
        }
    }

    /// Claim and run blocks of job `gen` until none is left.
    private func work(gen: Int, count: Int) {
        while true {
            let t = ticket.load(ordering: .acquiring)
            guard t >> 32 == gen & 0x7FFF_FFFF else { return }
            let b = t & 0xFFFF_FFFF
            guard b < count else { return }
            if ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing).exchanged {
                body!(b)
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    private func startWorker(index: Int, seen initial: Int) {
        workerCount += 1
        let thread = Thread { [unowned self] in
            var seen = initial
            while true {
                let gen = self.waitForJob(after: seen)
                seen = gen
                let h = self.header.load(ordering: .acquiring)
                guard h >> 32 == gen & 0x7FFF_FFFF else { continue }
                let participants = (h >> 16) & 0xFFFF, count = h & 0xFFFF
                if index < participants { self.work(gen: gen, count: count) }
            }
        }
        thread.name = "overparam.meanfield.worker.\(index)"
        thread.start()
    }

    /// Spin until the generation moves past `seen`, parking after ``spinNanoseconds``.
    private func waitForJob(after seen: Int) -> Int {
        var spins = 0
        var start: UInt64 = 0
        while true {
            let g = generation.load(ordering: .acquiring)
            if g != seen { return g }
            spins &+= 1
            if spins & 1023 == 0 {
                let now = DispatchTime.now().uptimeNanoseconds
                if start == 0 {
                    start = now
                } else if now - start > spinNanoseconds {
                    parkCondition.lock()
                    parked += 1
                    while generation.load(ordering: .acquiring) == seen { parkCondition.wait() }
                    parked -= 1
                    parkCondition.unlock()
                    spins = 0
                    start = 0
                }
            }
        }
    }
}
