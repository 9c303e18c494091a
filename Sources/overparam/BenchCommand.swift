import ArgumentParser
import Foundation
import Overparam

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks.",
                                                    subcommands: [KernelsBench.self, TrainBench.self, HierarchyBench.self])
}

struct KernelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels",
        abstract: "Time analytic kernels, the empirical NTK, predictions, and dgemm/dsyevd references.")

    @Flag(help: "Print only 'workload,seconds,gflops' lines.") var csv = false
    @Option(help: "Run only these workloads (comma-separated).") var only: String?
    @Option(help: "Repeats (best time is reported).") var repeats: Int = 3

    func run() throws {
        let names = only.map { $0.split(separator: ",").map(String.init) } ?? KernelBenchmarks.workloads
        if !csv { print(pad("workload", 20) + lpad("seconds", 10) + lpad("GFLOP/s", 10) + "  setting") }
        for n in names {
            let r = try KernelBenchmarks.run(n, repeats: repeats)
            if csv {
                print("\(r.workload),\(String(format: "%.4f", r.seconds)),\(r.gflops.map { String(format: "%.1f", $0) } ?? "")")
            } else {
                print(pad(r.workload, 20) + lpad(String(format: "%.4f", r.seconds), 10) + lpad(r.gflops.map { String(format: "%.1f", $0) } ?? "-", 10) + "  " + r.note)
            }
            fflush(nil)
        }
    }
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Time minibatch SGD steps of a two-layer (100-1000-1) and a depth-3 (100-512-512-512-1) ReLU net, float64.")

    @Flag(help: "Print only 'workload,seconds-per-step,' lines.") var csv = false
    @Option(help: "Run only these workloads (comma-separated).") var only: String?
    @Option(help: "Repeats (best time is reported).") var repeats: Int = 3

    func run() throws {
        let names = only.map { $0.split(separator: ",").map(String.init) } ?? TrainingBenchmarks.workloads
        if !csv { print(pad("workload", 20) + lpad("s/step", 12) + lpad("steps/s", 10) + "  setting") }
        for n in names {
            let r = try TrainingBenchmarks.run(n, repeats: repeats)
            if csv {
                print("\(r.workload),\(String(format: "%.6g", r.seconds)),")
            } else {
                print(pad(r.workload, 20) + lpad(String(format: "%.3e", r.seconds), 12) + lpad(String(format: "%.0f", 1 / r.seconds), 10) + "  " + r.note)
            }
            fflush(nil)
        }
    }
}

struct HierarchyBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nth",
        abstract: "Time the neural tangent hierarchy kernels: K^(3) for n = 64 and K^(4) for n = 24 at width 512, depth 2.")

    @Flag(help: "Print only 'workload,seconds,' lines.") var csv = false
    @Option(help: "Repeats (best time is reported).") var repeats: Int = 3

    func run() throws {
        if !csv { print(pad("workload", 20) + lpad("seconds", 10) + "  setting") }
        for n in HierarchyBenchmarks.workloads {
            let r = try HierarchyBenchmarks.run(n, repeats: repeats)
            print(csv ? "\(r.workload),\(String(format: "%.4f", r.seconds))," : pad(r.workload, 20) + lpad(String(format: "%.4f", r.seconds), 10) + "  " + r.note)
            fflush(nil)
        }
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
