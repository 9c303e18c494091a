import ArgumentParser
import Foundation
import Overparam
import OverparamExperiments

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reproduce",
        abstract: "Run registered experiments (resumable sweeps into DIR/runs.sqlite) and write an HTML report.")

    @Argument(help: "Experiment ids (see --list).") var ids: [String] = []
    @Flag(help: "List the registered experiments.") var list = false
    @Flag(help: "Run every registered experiment.") var all = false
    @Option(help: "quick (seconds) or full (the seed's setting).") var preset: String = "quick"
    @Option(help: "TOML file with [experiment-id] tables overriding configuration keys.") var config: String?
    @Option(help: "Output folder (run store, figures, report).") var out: String = "overparam-report"
    @Option(help: "Global seed: every random number of every run derives from it.") var seed: UInt64 = 0
    @Option(help: "Runs executed in parallel (default: the number of cores; each run then uses one thread). Use --jobs 1 for big full presets that need the memory or the cores inside one run.") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Folder with the MNIST IDX files (train-/t10k-images-idx3-ubyte, -labels-idx1-ubyte, optionally .gz): the image experiments use them instead of the bundled digits.") var mnist: String?
    @Option(help: "Run only slice i of N of every sweep (i/N, 0 <= i < N), e.g. from a Slurm job array.") var shard: String?
    @Flag(help: "Exit with status 1 if a claim fails.") var strict = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let registry = ExperimentRegistry.standard
        if list {
            let rows = registry.experiments.map { [$0.id, $0.source, $0.summary, "\($0.estimates.quick) / \($0.estimates.full)"] }
            printTable(header: ["id", "source", "what it shows", "quick / full"], rows: rows)
            return
        }
        guard let p = Preset(rawValue: preset) else { throw OverparamError.invalidArgument(name: "--preset", problem: "'\(preset)' is not a preset; use quick or full") }
        guard jobs >= 1 else { throw OverparamError.invalidArgument(name: "--jobs", problem: "must be >= 1") }
        let chosen = all ? registry.ids : ids
        guard !chosen.isEmpty else { throw OverparamError.invalidArgument(name: "reproduce", problem: "name experiment ids, or pass --all or --list") }
        var options = ReproduceOptions()
        options.preset = p; options.configFile = config; options.outDirectory = out; options.seed = seed; options.jobs = jobs; options.quiet = quiet
        if let mnist {
            // Fail now, with the missing file named, rather than in every run.
            let dir = URL(fileURLWithPath: mnist).standardizedFileURL.path
            for part in [true, false] { _ = try MNIST.load(directory: dir, train: part) }
            options.mnistDirectory = dir
        }
        if let shard {
            let parts = shard.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
                throw OverparamError.invalidArgument(name: "--shard", problem: "'\(shard)' is not i/N with 0 <= i < N (e.g. 0/4)")
            }
            options.shard = (parts[0], parts[1])
        }
        let start = Date()
        let summary = try Reproducer(registry: registry, options: options).run(ids: chosen, progress: ProgressReporter(quiet: quiet))
        for e in summary.runErrors { FileHandle.standardError.write(Data("run failed: \(e)\n".utf8)) }
        for s in summary.sections {
            let claims = s.analysis?.claims ?? []
            let mark = s.analysis == nil ? "incomplete" : "\(claims.filter { $0.passed }.count)/\(claims.count) claims passed"
            print("\(s.id): \(s.finishedRuns)/\(s.totalRuns) runs, \(mark)")
            for c in claims where !c.passed { print("  FAILED: \(c.statement): measured \(sig(c.measured)), expected \(c.expected)") }
        }
        print("Report: \((out as NSString).appendingPathComponent("index.html")) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
        print("\(summary.passed) claims passed, \(summary.failed) failed")
        if strict && summary.failed > 0 { throw ExitCode(1) }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Rebuild DIR/index.html, figures and claims.csv from DIR/runs.sqlite.")
    @Argument(help: "Folder holding runs.sqlite.") var dir: String
    func run() throws {
        var options = ReproduceOptions()
        options.outDirectory = dir
        let store = try RunStore(directory: dir, create: false)
        let summary = try Reproducer(options: options).report(store: store)
        print("Report: \((dir as NSString).appendingPathComponent("index.html")) (\(summary.sections.count) experiments)")
        print("\(summary.passed) claims passed, \(summary.failed) failed")
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "Inspect, export and merge run stores.",
                                                    subcommands: [List.self, Show.self, Export.self, Merge.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per run.")
        @Argument(help: "Folder holding runs.sqlite.") var dir: String = "overparam-report"
        @Option(help: "Only this experiment.") var experiment: String?
        func run() throws {
            let runs = try RunStore(directory: dir, create: false).allRuns(experiment: experiment)
            printTable(header: ["id", "experiment", "config", "setting", "seed", "status", "seconds"],
                       rows: runs.map { ["\($0.id)", $0.experiment, String($0.configHash.prefix(8)), $0.key.setting, "\($0.key.seed)", $0.status.rawValue, String(format: "%.2f", $0.seconds)] })
            let done = runs.filter { $0.status == .finished }.count
            print("\(runs.count) runs, \(done) finished")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything about one run (by id).")
        @Argument(help: "Folder holding runs.sqlite.") var dir: String
        @Argument(help: "Run id (from runs list).") var id: Int64
        func run() throws {
            guard let r = try RunStore(directory: dir, create: false).allRuns().first(where: { $0.id == id }) else {
                throw OverparamError.invalidArgument(name: "id", problem: "no run \(id) in \(dir); see overparam runs list \(dir)")
            }
            print("run \(r.id): \(r.experiment) config \(r.configHash) \(r.key.setting) seed \(r.key.seed)")
            print("status: \(r.status.rawValue), \(String(format: "%.3f", r.seconds)) s, started \(r.started.map { "\($0)" } ?? "-"), finished \(r.finished.map { "\($0)" } ?? "-")")
            if let e = r.error { print("error: \(e)") }
            for (k, v) in r.metrics.sorted(by: { $0.key < $1.key }) { print("  \(k) = \(v)") }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export runs and metrics as CSV (stdout).")
        @Argument(help: "Folder holding runs.sqlite.") var dir: String = "overparam-report"
        @Option(help: "csv") var format: String = "csv"
        @Option(help: "Only this experiment.") var experiment: String?
        func run() throws {
            guard format == "csv" else { throw OverparamError.invalidArgument(name: "--format", problem: "'\(format)' is not supported; use csv") }
            let runs = try RunStore(directory: dir, create: false).allRuns(experiment: experiment)
            let keys = Array(Set(runs.flatMap { $0.metrics.keys })).sorted()
            print((["id", "experiment", "config_hash", "setting", "seed", "status", "seconds"] + keys).joined(separator: ","))
            for r in runs {
                let fields = ["\(r.id)", r.experiment, r.configHash, "\"\(r.key.setting)\"", "\(r.key.seed)", r.status.rawValue, "\(r.seconds)"]
                print((fields + keys.map { r.metrics[$0].map { "\($0)" } ?? "" }).joined(separator: ","))
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Merge shard stores into OUT (exactly once per run; idempotent).")
        @Argument(help: "Output folder.") var out: String
        @Argument(help: "Shard folders holding runs.sqlite.") var dirs: [String]
        func run() throws {
            guard !dirs.isEmpty else { throw OverparamError.invalidArgument(name: "runs merge", problem: "name at least one shard folder") }
            let target = try RunStore(directory: out)
            var added = 0
            for d in dirs { added += try target.merge(from: RunStore(directory: d, create: false)) }
            let total = try target.allRuns().filter { $0.status == .finished }.count
            print("merged \(dirs.count) stores into \(out): \(added) runs added, \(total) finished runs in all")
        }
    }
}

func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
    func line(_ r: [String]) -> String { r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
    print(line(header))
    print(line(widths.map { String(repeating: "-", count: $0) }))
    for r in rows { print(line(r)) }
}
