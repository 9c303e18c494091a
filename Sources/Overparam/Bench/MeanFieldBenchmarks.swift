import Foundation

/// The `overparam bench meanfield` workloads: seed 003 fig. 3's SGD (``TeacherStudentSweep/seed003Figure3``).
/// `bench/peers/meanfield_sgd.py` runs the same loops in NumPy, PyTorch and JAX.
///
/// - `sgd-step`: ``ParticleSGD`` steps per second at d = 100, m = 1000, B = 100, float64, gamma = 0.005, the
///   authors' gradient convention (theta1's gradient summed over the batch), ReLU teacher with m0 = 10. One step =
///   sampling B fresh inputs x ~ N(0, I_100) and their teacher outputs, forward pass, gradients of both layers,
///   update (about 40 MFLOP of small GEMMs, plus 0.2 MFLOP for the teacher). Particle blocks on
///   ``Parallel/threadCount`` threads. Best of `repeats` runs of 1000 steps after 50 warm-up steps.
/// - `sweep`: the wall time of ``TeacherStudentSweep/runAll(seed:threads:traceEvery:progress:)`` on fig. 3's settings
///   (34 widths, 10^4 steps each) with R repetitions (30 in the paper; fewer to keep `make bench` short: runs are
///   independent, so the time scales linearly in R). The students of a repetition train in lockstep on its shared
///   batches (one sampled batch per step); repetitions (or balanced parts of them) run concurrently on
///   ``Parallel/threadCount`` threads, each single-threaded. Timed once (no best-of): it is long.
public enum MeanFieldBenchmarks {
    public static let workloads = ["sgd-step", "sweep"]

    /// Timed steps per run of `sgd-step`.
    public static let timedSteps = 1000

    /// The full sweep's repetitions (``TeacherStudentSweep/seed003Figure3``).
    public static var fullRepetitions: Int { TeacherStudentSweep.seed003Figure3.repetitions }

    /// Run one workload. `repetitions` R applies to `sweep` only (1...30).
    public static func run(_ name: String, repeats: Int = 3, repetitions: Int = fullRepetitions, seed: UInt64 = 0) throws -> BenchmarkResult {
        let fig3 = TeacherStudentSweep.seed003Figure3
        switch name {
        case "sgd-step":
            let teacher = try GaussianTeacher.reluTeacher(neurons: fig3.teacherNeurons, inputDimension: fig3.inputDimension, seed: seed)
            let net = try MeanFieldNetwork.random(width: 1000, inputDimension: fig3.inputDimension, seed: seed &+ 1)
            var sgd = try ParticleSGD(network: net, stepSize: fig3.stepSize, batchSize: fig3.batchSize,
                                      convention: fig3.convention, seed: seed &+ 2)
            try sgd.train(teacher, steps: 50)
            let steps = timedSteps
            let t = try KernelBenchmarks.best(repeats) { try sgd.train(teacher, steps: steps) }
            let perStep = t / Double(steps)
            guard sgd.lastBatchRisk.isFinite else { throw OverparamError.diverged("bench sgd-step: non-finite batch risk") }
            return BenchmarkResult(workload: name, seconds: perStep, gflops: 40e6 / perStep / 1e9,
                                   note: String(format: "%.0f steps/s; d = 100, m = 1000, B = 100 fresh, float64, %@, %d threads, best of %d x %d steps",
                                                1 / perStep, fig3.convention.rawValue, Parallel.threadCount, repeats, steps))
        case "sweep":
            guard (1...fullRepetitions).contains(repetitions) else {
                throw OverparamError.invalidArgument(name: "--repetitions", problem: "must be in 1...\(fullRepetitions), got \(repetitions)")
            }
            var sweep = fig3
            sweep.repetitions = repetitions
            let result = try sweep.runAll(seed: seed)
            let succeeded = result.runs.filter(\.succeeded).count
            let scale = repetitions == fullRepetitions ? "the full sweep"
                : String(format: "%d of %d repetitions; full sweep about %.0f s (x %d/%d, runs are independent)",
                         repetitions, fullRepetitions, result.seconds * Double(fullRepetitions) / Double(repetitions),
                         fullRepetitions, repetitions)
            return BenchmarkResult(workload: name, seconds: result.seconds, gflops: nil,
                                   note: "\(scale); \(sweep.widths.count) widths x \(sweep.steps) steps, \(result.runs.count) runs "
                                       + "on \(result.threads) threads, \(succeeded) succeeded")
        default:
            throw OverparamError.invalidArgument(name: "workload", problem: "unknown workload '\(name)'; use one of \(workloads.joined(separator: ", "))")
        }
    }
}
