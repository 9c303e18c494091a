import ArgumentParser
import Foundation
import Overparam

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks.",
                                                    subcommands: [KernelsBench.self, TrainBench.self, HierarchyBench.self, InitBench.self, MeanFieldBench.self, ConvexBench.self])
}

/// The flags every benchmark command shares.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print only 'workload,seconds,gflops' lines (the CSV that bench/compare.py reads).") var csv = false
    @Option(help: "Run only these workloads (comma-separated).") var only: String?
    @Option(help: "Repeats (best time is reported).") var repeats: Int = 3

    /// Run the chosen workloads and print a table (or CSV). `perStep`: also show 1 / seconds as steps per second.
    func run(_ all: [String], perStep: Bool = false, _ body: (String, Int) throws -> BenchmarkResult) throws {
        guard repeats >= 1 else { throw OverparamError.invalidArgument(name: "--repeats", problem: "must be >= 1") }
        let names = only.map { $0.split(separator: ",").map(String.init) } ?? all
        if !csv { print(pad("workload", 20) + lpad(perStep ? "s/step" : "seconds", 12) + lpad(perStep ? "steps/s" : "GFLOP/s", 10) + "  setting") }
        for n in names {
            let r = try body(n, repeats)
            let third = perStep ? String(format: "%.0f", 1 / r.seconds) : (r.gflops.map { String(format: "%.1f", $0) } ?? "-")
            if csv {
                print("\(r.workload),\(String(format: "%.6g", r.seconds)),\(r.gflops.map { String(format: "%.1f", $0) } ?? "")")
            } else {
                print(pad(r.workload, 20) + lpad(String(format: perStep ? "%.3e" : "%.4f", r.seconds), 12) + lpad(third, 10) + "  " + r.note)
            }
            fflush(nil)
        }
    }
}

struct KernelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels",
        abstract: "Time analytic kernels, the empirical NTK, predictions, and dgemm/dsyevd references.")
    @OptionGroup var options: BenchOptions
    func run() throws { try options.run(KernelBenchmarks.workloads) { try KernelBenchmarks.run($0, repeats: $1) } }
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Time minibatch SGD steps of a two-layer (100-1000-1) and a depth-3 (100-512-512-512-1) ReLU net, float64.")
    @OptionGroup var options: BenchOptions
    func run() throws { try options.run(TrainingBenchmarks.workloads, perStep: true) { try TrainingBenchmarks.run($0, repeats: $1) } }
}

struct HierarchyBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nth",
        abstract: "Time the neural tangent hierarchy kernels: K^(3) for n = 64 and K^(4) for n = 24 at width 512, depth 2.")
    @OptionGroup var options: BenchOptions
    func run() throws { try options.run(HierarchyBenchmarks.workloads) { try HierarchyBenchmarks.run($0, repeats: $1) } }
}

struct InitBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init",
        abstract: "Time random networks at initialization: Monte-Carlo networks per second (depth 3, width 256, ReLU) and exact linear regions (depth 3, width 32, N_0 = 2) in a 2-D box and along a segment.")
    @OptionGroup var options: BenchOptions
    func run() throws { try options.run(InitializationBenchmarks.workloads, perStep: true) { try InitializationBenchmarks.run($0, repeats: $1) } }
}

struct MeanFieldBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "meanfield",
        abstract: "Time seed 003 fig. 3's SGD: steps/s at d = 100, m = 1000, batch 100 of fresh Gaussian inputs (float64), and the wall time of the teacher-student sweep (34 widths x 10^4 steps x R repetitions, all cores).")
    @OptionGroup var options: BenchOptions
    @Option(help: "Repetitions R of the sweep workload (1...30; the paper's sweep has 30, and the time scales linearly in R).")
    var repetitions: Int = MeanFieldBenchmarks.fullRepetitions
    func run() throws {
        if !options.csv {
            let fig3 = TeacherStudentSweep.seed003Figure3
            print("seed 003 fig. 3: d = \(fig3.inputDimension), m0 = \(fig3.teacherNeurons), batch \(fig3.batchSize), gamma = \(fig3.stepSize), "
                  + "\(fig3.convention.rawValue), \(Parallel.threadCount) threads; sweep: widths 1...30, 40, 50, 70, 100, "
                  + "\(fig3.steps) steps, \(repetitions) of \(fig3.repetitions) repetitions")
        }
        // sgd-step reads as steps/s, sweep as seconds: one table each.
        let names = options.only.map { $0.split(separator: ",").map(String.init) } ?? MeanFieldBenchmarks.workloads
        var one = options
        one.only = nil
        for name in names {
            try one.run([name], perStep: name != "sweep") { try MeanFieldBenchmarks.run($0, repeats: $1, repetitions: repetitions) }
        }
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

struct ConvexBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convex",
        abstract: "Time seed 002's 1-D task at the seed's sizes (60k samples, widths 1000 2^(L-l), l_{1,2}, float64): an epoch of Adam on Q (batch 128) for L = 1, 2, and one full-batch Algorithm 1 step for L = 2.")
    @OptionGroup var options: BenchOptions
    func run() throws { try options.run(ConvexBenchmarks.workloads) { try ConvexBenchmarks.run($0, repeats: $1) } }
}
