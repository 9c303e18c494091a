import Foundation
import Dispatch
import Synchronization
import CBLAS

/// Seed 003 fig. 3: SGD on fresh samples in the teacher-student setting, repeated over student widths and random
/// teachers, with the test risk after training and the success rate per width.
///
/// One run of width m, repetition r:
///
///     teacher   y = f*(x) = sum_{k<=m0} a_k (b_k . x)_+,  a_k = +-1,  b_k uniform on S^{d-1}   (``GaussianTeacher/reluTeacher(neurons:inputDimension:seed:)``)
///     inputs    x ~ N(0, I_d), a fresh batch of B samples every step
///     student   h(x) = (1/m) sum_{j<=m} theta2_j (theta1_j . x)_+   (no input bias),
///               theta2_j = +-1, theta1_j uniform on S^{d-1}          (``MeanFieldNetwork/random(width:inputDimension:activation:inputBias:theta2:theta1:seed:)``)
///     SGD       ``ParticleSGD`` with step gamma, batch B, `steps` steps, gradient ``convention``
///     test risk R = (1/2n) sum_{i<=n} (h(x_i) - f*(x_i))^2 on n = ``testSamples`` fresh samples; success: R < ``successThreshold``
///
/// The two gradient conventions (``BatchGradientConvention``), per step, with delta_i = h(x_i) - y_i:
///
///     theta2_j <- theta2_j - gamma (1/B) sum_i delta_i (theta1_j . x_i)_+                                (both)
///     theta1_j <- theta1_j - gamma s (1/B) sum_i delta_i theta2_j 1(theta1_j . x_i > 0) x_i,  s = 1 (.mean) or B (.sumForInputWeights)
///
/// `.mean` is SGD on the batch risk in the mean-field time scale (a noisy Euler scheme of W' = -m grad G(W));
/// `.sumForInputWeights` is what the authors' code does (theta1's gradient summed, not averaged, over the batch), so
/// theta1 moves with the effective step gamma B = 0.5 in fig. 3. ``seed003Figure3`` uses the authors' convention:
/// with `.mean`, 10^4 steps of gamma = 0.005 move theta1 over a time of only 50 and the wide students do not reach
/// the figure's risks.
///
/// Seeds (so that a run's result depends only on (seed, m, r), never on scheduling or the thread count):
///
///     s(m, r) = F(F(F(seed) xor m) xor r),   F(x) = SplitMix64's output for the state x (``runSeed(seed:width:repetition:)``)
///
/// Repetition r's teacher, test set and batches come from s(0, r) (the teacher from stream 3, the test inputs from
/// stream ``testStream``, the SGD batches from stream ``batchStream``): every width of repetition r faces the same
/// teacher, test set and sequence of batches (a paired design: the success-rate curve compares widths on the same
/// 30 teachers, and ``runAll(seed:threads:traceEvery:progress:)`` samples each batch once for all widths). Only the
/// student's initialization (streams 1 and 2 of s(m, r)) depends on the width. Each run, on its own, is exactly
/// fig. 3's procedure; runs of one repetition are correlated, runs of different repetitions independent.
public struct TeacherStudentSweep: Sendable, Equatable {
    /// d, the input dimension.
    public var inputDimension: Int
    /// m0, the teacher's neurons.
    public var teacherNeurons: Int
    /// Student widths m, in the order results are reported.
    public var widths: [Int]
    /// SGD steps per run.
    public var steps: Int
    /// B, fresh samples per step.
    public var batchSize: Int
    /// gamma, the step size of ``ParticleSGD``.
    public var stepSize: Double
    /// Runs per width.
    public var repetitions: Int
    /// How theta1's batch gradient is formed (see the type's discussion).
    public var convention: BatchGradientConvention
    /// n, the fresh samples on which the test risk is measured.
    public var testSamples: Int
    /// A run succeeds when its final test risk is below this.
    public var successThreshold: Double

    /// Seed 003 fig. 3's widths: m = 1...30, then 40, 50, 70, 100 (the "and beyond" of SEED-NOTES sec. 3). The peer
    /// scripts (`bench/peers/meanfield_sgd.py`) repeat this list and must match it.
    public static let figure3Widths: [Int] = Array(1...30) + [40, 50, 70, 100]

    /// Seed 003 fig. 3 (SEED-NOTES sec. 3): d = 100, m0 = 10, widths ``figure3Widths``, 10^4 steps, batch 100, gamma =
    /// 0.005, 30 repetitions, the authors' ``BatchGradientConvention/sumForInputWeights``, test risk on 1000 fresh
    /// samples, success when it is below 10^-3.
    public static let seed003Figure3 = TeacherStudentSweep()

    /// The stream of s(0, r) from which the test inputs are drawn ("TEST").
    public static let testStream: UInt64 = 0x5445_5354
    /// The stream of s(0, r) from which the SGD batches are drawn ("BTCH"), B inputs and their teacher outputs per step.
    public static let batchStream: UInt64 = 0x4254_4348

    /// Every parameter defaults to ``seed003Figure3``'s value. Checked by ``validate()`` before running.
    public init(inputDimension: Int = 100, teacherNeurons: Int = 10, widths: [Int] = TeacherStudentSweep.figure3Widths,
                steps: Int = 10_000, batchSize: Int = 100, stepSize: Double = 0.005, repetitions: Int = 30,
                convention: BatchGradientConvention = .sumForInputWeights, testSamples: Int = 1000,
                successThreshold: Double = 1e-3) {
        self.inputDimension = inputDimension
        self.teacherNeurons = teacherNeurons
        self.widths = widths
        self.steps = steps
        self.batchSize = batchSize
        self.stepSize = stepSize
        self.repetitions = repetitions
        self.convention = convention
        self.testSamples = testSamples
        self.successThreshold = successThreshold
    }

    /// Throws `invalidArgument` for d, m0, a width, B, the repetitions or n below 1, duplicate widths, negative
    /// steps, or a step size or threshold that is not finite and positive.
    public func validate() throws {
        func bad(_ name: String, _ problem: String) -> OverparamError { .invalidArgument(name: name, problem: problem) }
        guard inputDimension >= 1 else { throw bad("inputDimension", "d must be >= 1, got \(inputDimension)") }
        guard teacherNeurons >= 1 else { throw bad("teacherNeurons", "m0 must be >= 1, got \(teacherNeurons)") }
        guard !widths.isEmpty else { throw bad("widths", "need at least one student width") }
        guard widths.allSatisfy({ $0 >= 1 }) else { throw bad("widths", "every width must be >= 1, got \(widths)") }
        guard Set(widths).count == widths.count else { throw bad("widths", "widths must be distinct, got \(widths)") }
        guard steps >= 0 else { throw bad("steps", "must be >= 0, got \(steps)") }
        guard batchSize >= 1 else { throw bad("batchSize", "must be >= 1, got \(batchSize)") }
        guard stepSize.isFinite, stepSize > 0 else { throw bad("stepSize", "gamma must be finite and > 0, got \(stepSize)") }
        guard repetitions >= 1 else { throw bad("repetitions", "must be >= 1, got \(repetitions)") }
        guard testSamples >= 1 else { throw bad("testSamples", "must be >= 1, got \(testSamples)") }
        guard successThreshold.isFinite, successThreshold > 0 else { throw bad("successThreshold", "must be finite and > 0, got \(successThreshold)") }
    }

    // MARK: Seeds

    /// F(x): one SplitMix64 output from the state x.
    static func mix(_ x: UInt64) -> UInt64 {
        var s = SplitMix64(state: x)
        return s.next()
    }

    /// s(m, r) = F(F(F(seed) xor m) xor r); width 0 gives repetition r's teacher and test-set seed.
    public static func runSeed(seed: UInt64, width: Int, repetition: Int) -> UInt64 {
        mix(mix(mix(seed) ^ UInt64(truncatingIfNeeded: width)) ^ UInt64(truncatingIfNeeded: repetition))
    }

    /// Repetition r's teacher (shared by all widths).
    public func teacher(repetition r: Int, seed: UInt64) throws -> GaussianTeacher {
        try GaussianTeacher.reluTeacher(neurons: teacherNeurons, inputDimension: inputDimension,
                                        seed: Self.runSeed(seed: seed, width: 0, repetition: r))
    }

    /// Repetition r's test set: ``testSamples`` inputs x ~ N(0, I_d) and their teacher outputs.
    public func testSet(repetition r: Int, seed: UInt64) throws -> (inputs: Matrix, targets: [Double]) {
        try teacher(repetition: r, seed: seed).sample(testSamples, seed: Self.runSeed(seed: seed, width: 0, repetition: r),
                                                      stream: Self.testStream)
    }

    /// The student of width m in repetition r before training.
    public func initialStudent(width m: Int, repetition r: Int, seed: UInt64) throws -> MeanFieldNetwork {
        try MeanFieldNetwork.random(width: m, inputDimension: inputDimension, seed: Self.runSeed(seed: seed, width: m, repetition: r))
    }

    // MARK: Results

    /// The test risk after `step` steps.
    public struct RiskPoint: Sendable, Equatable {
        public var step: Int
        public var testRisk: Double
    }

    /// One trained student.
    public struct RunResult: Sendable, Equatable {
        /// m.
        public var width: Int
        /// r (0-based).
        public var repetition: Int
        /// The test risk before training.
        public var initialTestRisk: Double
        /// The test risk after the last step (+infinity when SGD diverged).
        public var testRisk: Double
        /// testRisk < the sweep's success threshold.
        public var succeeded: Bool
        /// SGD produced a non-finite batch risk and stopped (counted as a failure).
        public var diverged: Bool
        /// The batch risk (1/2B) sum_i (h(x_i) - y_i)^2 of the last batch, before its update.
        public var lastBatchRisk: Double
        /// The test risk at steps 0, k, 2k, ... and at the last step when a trace interval k > 0 was asked for
        /// (empty otherwise).
        public var trace: [RiskPoint]
    }

    /// Every run of a sweep.
    public struct SweepResult: Sendable {
        /// The settings that were run.
        public var settings: TeacherStudentSweep
        /// The master seed.
        public var seed: UInt64
        /// Width-major, in the order of `settings.widths`, then repetition 0, 1, ...
        public var runs: [RunResult]
        /// Threads the runs were spread over.
        public var threads: Int
        /// Wall time of ``TeacherStudentSweep/runAll(seed:threads:traceEvery:progress:)``.
        public var seconds: Double

        /// The runs of width m (repetition order).
        public func runs(width m: Int) -> [RunResult] { runs.filter { $0.width == m } }
        /// The final test risks of width m (repetition order).
        public func testRisks(width m: Int) -> [Double] { runs(width: m).map(\.testRisk) }
        /// The fraction of width m's runs that succeeded (NaN for a width not in the sweep).
        public func successRate(width m: Int) -> Double {
            let r = runs(width: m)
            return r.isEmpty ? .nan : Double(r.filter(\.succeeded).count) / Double(r.count)
        }
        /// ``successRate(width:)`` for every width, in the order of `settings.widths`.
        public var successRates: [Double] { settings.widths.map { successRate(width: $0) } }
    }

    // MARK: Running

    /// Train the student of width m in repetition r (0 <= r < ``repetitions``; m need not be one of ``widths``).
    /// `traceEvery` k > 0 also records the test risk every k steps. Runs on the calling thread, with OpenBLAS set to
    /// one thread for the duration (process-wide; restored at the end); the result is the same, bit for bit, as in
    /// ``runAll(seed:threads:traceEvery:progress:)``.
    public func run(width m: Int, repetition r: Int, seed: UInt64, traceEvery: Int = 0) throws -> RunResult {
        try validate()
        guard m >= 1 else { throw OverparamError.invalidArgument(name: "width", problem: "m must be >= 1, got \(m)") }
        guard r >= 0, r < repetitions else {
            throw OverparamError.invalidArgument(name: "repetition", problem: "must be in 0..<\(repetitions), got \(r)")
        }
        guard traceEvery >= 0 else { throw OverparamError.invalidArgument(name: "traceEvery", problem: "must be >= 0, got \(traceEvery)") }
        let teacher = try teacher(repetition: r, seed: seed)
        let test = try testSet(repetition: r, seed: seed)
        return try StudentStack.withSingleThreadedBLAS {
            try runGroup([m], repetition: r, seed: seed, teacher: teacher, test: test, traceEvery: traceEvery)[0]
        }
    }

    /// Students of the given widths in repetition r, trained in lockstep: each step draws one batch from repetition
    /// r's batch stream and every student takes its ``ParticleSGD`` step on it, all of them stacked in one
    /// ``StudentStack`` (two GEMMs per step for the group). A student's arithmetic does not involve the others' weights,
    /// and with this machine's OpenBLAS the result for width m is the same, bit for bit, in any group (and in
    /// ``run(width:repetition:seed:traceEvery:)``, a group of one); see ``StudentStack``. OpenBLAS runs with its
    /// current thread count (``runAll(seed:threads:traceEvery:progress:)`` sets one).
    func runGroup(_ group: [Int], repetition r: Int, seed: UInt64, teacher: GaussianTeacher,
                  test: (inputs: Matrix, targets: [Double]), traceEvery: Int) throws -> [RunResult] {
        let students = try group.map { try initialStudent(width: $0, repetition: r, seed: seed) }
        let initial = try students.map { try $0.risk(test.inputs, targets: test.targets) }
        let stack = StudentStack(students, batchSize: batchSize, stepSize: stepSize, convention: convention)
        /// Student i's test risk now (+infinity once diverged or when not finite).
        func testRisk(_ i: Int) throws -> Double {
            let risk = stack.diverged[i] ? Double.infinity : try stack.network(i).risk(test.inputs, targets: test.targets)
            return risk.isFinite ? risk : .infinity
        }
        var traces = initial.map { traceEvery > 0 ? [RiskPoint(step: 0, testRisk: $0)] : [] }
        var rng = Xoshiro256StarStar(seed: Self.runSeed(seed: seed, width: 0, repetition: r), stream: Self.batchStream)
        let b = batchSize
        var x = Matrix(rows: b, cols: inputDimension)
        var y = [Double](repeating: 0, count: b)
        for k in stride(from: 1, through: steps, by: 1) {
            teacher.sample(count: b, into: &x, targets: &y, using: &rng)
            x.storage.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in stack.step(inputs: xp.baseAddress!, targets: yp.baseAddress!) }
            }
            if traceEvery > 0, k % traceEvery == 0 || k == steps {
                for i in group.indices { traces[i].append(RiskPoint(step: k, testRisk: try testRisk(i))) }
            }
        }
        return try group.indices.map { i in
            let finalRisk = try testRisk(i)
            return RunResult(width: group[i], repetition: r, initialTestRisk: initial[i], testRisk: finalRisk,
                             succeeded: finalRisk < successThreshold, diverged: finalRisk == .infinity,
                             lastBatchRisk: stack.lastBatchRisk[i], trace: traces[i])
        }
    }

    /// Split the widths into `count` groups of about equal cost (a step of width m costs about 16 + m particles'
    /// worth), largest first. Only the speed depends on the grouping, never the results.
    static func balancedGroups(_ widths: [Int], count: Int) -> [[Int]] {
        let k = Swift.max(1, Swift.min(count, widths.count))
        var groups = [[Int]](repeating: [], count: k)
        var load = [Int](repeating: 0, count: k)
        for m in widths.sorted(by: >) {
            let g = load.indices.min { load[$0] < load[$1] }!
            groups[g].append(m)
            load[g] += 16 + m
        }
        return groups
    }

    /// Every (width, repetition) run, spread over `threads` (default ``Parallel/threadCount``) threads. A task is one
    /// repetition's students, or a cost-balanced part of them when there are fewer repetitions than 2 `threads`,
    /// trained in lockstep on the repetition's shared batches (one sampled batch per step for the whole task); tasks
    /// run concurrently, each on one thread, claimed dynamically.
    /// Results depend only on (settings, seed): bit-identical for any thread count. OpenBLAS is set to one thread
    /// for the duration (process-wide; restored at the end), so do not run other BLAS-heavy work concurrently.
    /// `progress` is called (from the worker threads) after each run.
    public func runAll(seed: UInt64, threads: Int? = nil, traceEvery: Int = 0,
                       progress: (@Sendable (RunResult) -> Void)? = nil) throws -> SweepResult {
        try validate()
        guard traceEvery >= 0 else { throw OverparamError.invalidArgument(name: "traceEvery", problem: "must be >= 0, got \(traceEvery)") }
        if let t = threads, t < 1 { throw OverparamError.invalidArgument(name: "threads", problem: "must be >= 1, got \(t)") }
        let start = DispatchTime.now().uptimeNanoseconds
        let reps = repetitions
        let threadCount = threads ?? Parallel.threadCount
        // Per repetition: the teacher and test set (shared by all widths).
        var teachers = [GaussianTeacher](), tests = [(inputs: Matrix, targets: [Double])]()
        for r in 0..<reps {
            teachers.append(try teacher(repetition: r, seed: seed))
            tests.append(try testSet(repetition: r, seed: seed))
        }
        let groupsPerRepetition = threadCount > 1 ? (2 * threadCount + reps - 1) / reps : 1
        let groups = Self.balancedGroups(widths, count: groupsPerRepetition)
        let tasks = (0..<reps).flatMap { r in groups.map { (r, $0) } }
        let workers = Swift.max(1, Swift.min(threadCount, tasks.count))
        let box = SweepBox()
        let next = Atomic<Int>(0)
        let settings = self
        let teachersC = teachers, testsC = tests
        StudentStack.withSingleThreadedBLAS { DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while !box.failed {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard k < tasks.count else { return }
                let (r, group) = tasks[k]
                do {
                    let results = try settings.runGroup(group, repetition: r, seed: seed, teacher: teachersC[r], test: testsC[r],
                                                        traceEvery: traceEvery)
                    box.store(results)
                    if let progress { for result in results { progress(result) } }
                } catch {
                    box.fail(error)
                }
            }
        } }
        if let e = box.error { throw e }
        let position = Dictionary(uniqueKeysWithValues: widths.enumerated().map { ($1, $0) })
        let runs = box.results.sorted { a, b in (position[a.width]!, a.repetition) < (position[b.width]!, b.repetition) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return SweepResult(settings: self, seed: seed, runs: runs, threads: workers, seconds: seconds)
    }
}

/// Results of concurrent runs and the first error.
private final class SweepBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results = [TeacherStudentSweep.RunResult]()
    private(set) var error: Error?
    var failed: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }
    func store(_ r: [TeacherStudentSweep.RunResult]) { lock.lock(); results += r; lock.unlock() }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}
