import Foundation
import Overparam
import Synchronization
import TOMLKit

/// Options of `overparam reproduce`.
public struct ReproduceOptions: Sendable {
    public var preset: Preset = .quick
    public var configFile: String? = nil
    public var outDirectory: String = "overparam-report"
    public var seed: UInt64 = 0
    public var jobs: Int = 1
    /// Run only the `index`-th of `count` disjoint slices of every sweep.
    public var shard: (index: Int, count: Int)? = nil
    public var quiet = false
    /// Run the image experiments on MNIST IDX files in this folder instead of the bundled digits.
    public var mnistDirectory: String? = nil
    public init() {}
}

/// The outcome of `reproduce` or `report`.
public struct ReproduceSummary: Sendable {
    public var sections: [ReportSection]
    public var passed: Int { sections.reduce(0) { $0 + ($1.analysis?.claims.filter { $0.passed }.count ?? 0) } }
    public var failed: Int { sections.reduce(0) { $0 + ($1.analysis?.claims.filter { !$0.passed }.count ?? 0) } }
    /// Runs that failed (error messages), by experiment.
    public var runErrors: [String]
}

/// Runs experiments into a resumable store, then analyzes and reports them.
public struct Reproducer: Sendable {
    public let registry: ExperimentRegistry
    public let options: ReproduceOptions

    public init(registry: ExperimentRegistry = .standard, options: ReproduceOptions) {
        self.registry = registry
        self.options = options
    }

    /// Parse the TOML config file, if any (errors name the file and line).
    func overrides() throws -> TOMLTable? {
        guard let path = options.configFile else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw OverparamError.file(path: path, problem: "cannot read the config file; check the --config path")
        }
        do { return try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw OverparamError.format(path: path, problem: "line \(e.source.begin.line): \(e.description); fix the TOML syntax")
        } catch {
            throw OverparamError.format(path: path, problem: "not valid TOML (\(error))")
        }
    }

    /// One pending run of one experiment's configuration.
    struct PendingRun: Sendable {
        let experiment: AnyExperiment
        let config: Data
        let hash: String
        let key: RunKey
        /// The experiment's quick/full estimate divided by its number of runs (scheduling only).
        let estimatedSeconds: Double
    }

    /// Run the sweeps of the given experiments (resuming finished runs), then write the report of the store.
    ///
    /// All pending runs of all experiments go through one queue of `jobs` workers, so an experiment with few long
    /// runs does not leave cores idle while the next experiment waits. The queue starts the runs with the longest
    /// estimated time first (each experiment's estimate over its run count; ties keep the given order). The order
    /// changes nothing but the wall-clock time: every run's seed comes from (global seed, experiment, key) alone.
    public func run(ids: [String], progress: ProgressReporter) throws -> ReproduceSummary {
        let experiments = try ids.map { try registry.experiment($0) }
        let table = try overrides()
        if let table, let bad = tomlExperimentPaths(table, known: Set(registry.ids)).unknown.first {
            throw OverparamError.format(path: options.configFile ?? "config", problem: "[\(bad)] is not an experiment id; see overparam reproduce --list")
        }
        let store = try RunStore(directory: options.outDirectory)
        var queue = [PendingRun]()
        for exp in experiments {
            let settings = options.mnistDirectory.map { ["images": "mnist:\($0)"] } ?? [:]
            let config = try exp.configuration(options.preset, overrides: table, file: options.configFile ?? "config", settings: settings)
            let hash = configHash(config)
            try store.register(experiment: exp.id, hash: hash, preset: options.preset, config: config)
            let all = try exp.runs(config).sorted()
            var keys = all
            if let shard = options.shard { keys = keys.enumerated().filter { $0.offset % shard.count == shard.index }.map { $0.element } }
            let done = try store.finishedKeys(experiment: exp.id, hash: hash)
            let estimate = Self.seconds(options.preset == .quick ? exp.estimates.quick : exp.estimates.full) / Double(max(1, all.count))
            queue += keys.filter { !done.contains($0) }.map { PendingRun(experiment: exp, config: config, hash: hash, key: $0, estimatedSeconds: estimate) }
        }
        queue = Self.schedule(queue)
        progress.begin(total: queue.count, label: experiments.count == 1 ? experiments[0].id : "\(experiments.count) experiments")
        let errors = try execute(queue, store: store, progress: progress)
        progress.end()
        var summary = try report(store: store)
        summary.runErrors = errors
        return summary
    }

    /// The queue order: longest estimated run first; equal estimates keep their given order.
    static func schedule(_ runs: [PendingRun]) -> [PendingRun] {
        runs.enumerated().sorted { ($0.element.estimatedSeconds, -$0.offset) > ($1.element.estimatedSeconds, -$1.offset) }.map(\.element)
    }

    /// Seconds in an estimate such as "35 s", "2 min", "1.5 h" or "100 h or more (not run)" (0 if it has no number).
    static func seconds(_ estimate: String) -> Double {
        let words = estimate.split(separator: " ")
        guard let first = words.first, let value = Double(first) else { return 0 }
        switch words.dropFirst().first.map(String.init) {
        case "min": return value * 60
        case "h": return value * 3600
        default: return value
        }
    }

    /// Execute runs with `jobs` workers; each run is stored in one transaction when it finishes.
    func execute(_ runs: [PendingRun], store: RunStore, progress: ProgressReporter) throws -> [String] {
        guard !runs.isEmpty else { return [] }
        let next = Mutex(0)
        let failures = Mutex([String]())
        let storeError = Mutex<OverparamError?>(nil)
        let jobs = max(1, min(options.jobs, runs.count))
        let previousThreads = Parallel.threadCount
        if jobs > 1 { Parallel.setThreadCount(1) }   // parallel runs replace parallel loops inside a run
        defer { if jobs > 1 { Parallel.setThreadCount(previousThreads) } }
        let global = options.seed
        let worker = { @Sendable in
            while true {
                let i: Int = next.withLock { v in defer { v += 1 }; return v }
                guard i < runs.count, storeError.withLock({ $0 == nil }) else { return }
                let (exp, config, hash, key) = (runs[i].experiment, runs[i].config, runs[i].hash, runs[i].key)
                do {
                    try store.markStarted(experiment: exp.id, hash: hash, key: key)
                    let started = Date()
                    let clock = ContinuousClock()
                    var output = RunOutput()
                    let elapsed = clock.measure {
                        do { output = try exp.run(key, config: config, seed: runSeed(global: global, experiment: exp.id, key: exp.seedKey(key))) } catch {
                            output = RunOutput(metrics: ["__failed": 1], series: [:])
                            failures.withLock { $0.append("\(exp.id) \(key): \(error)") }
                            try? store.markFailed(experiment: exp.id, hash: hash, key: key, error: "\(error)")
                        }
                    }
                    if output.metrics["__failed"] == nil {
                        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                        try store.markFinished(experiment: exp.id, hash: hash, key: key, output: output, seconds: secs, started: started)
                    }
                } catch let e as OverparamError {
                    storeError.withLock { $0 = e }
                } catch {
                    storeError.withLock { $0 = .file(path: store.path, problem: "\(error)") }
                }
                progress.advance("\(exp.id) \(key)")
            }
        }
        if jobs == 1 { worker() } else { DispatchQueue.concurrentPerform(iterations: jobs) { _ in worker() } }
        if let e = storeError.withLock({ $0 }) { throw e }
        return failures.withLock { $0 }
    }

    /// Analyze every configuration in the store and write the HTML report, figures, CSVs and claims.csv.
    public func report(store: RunStore) throws -> ReproduceSummary {
        var sections = [ReportSection]()
        let configs = try store.configurations()
        let counts = Dictionary(configs.map { ($0.experiment, 1) }, uniquingKeysWith: +)
        for c in configs {
            guard let exp = try? registry.experiment(c.experiment) else { continue }
            let keys = try exp.runs(c.config)
            let records = try store.records(experiment: c.experiment, hash: c.hash)
            let have = Set(records.map { $0.key })
            let missing = keys.filter { !have.contains($0) }.count
            var analysis: Analysis? = nil
            var problem: String? = nil
            if missing > 0 {
                problem = "\(missing) of \(keys.count) runs are not in this store (a shard, an interrupted or failed sweep); run the missing shards, merge them with `overparam runs merge`, then `overparam report`."
            } else {
                let wanted = Set(keys)
                do { analysis = try exp.analyze(c.config, runs: records.filter { wanted.contains($0.key) }) } catch {
                    problem = "analysis failed: \(error)"
                }
            }
            let pretty = (try? JSONSerialization.jsonObject(with: c.config)).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys]) }
            sections.append(ReportSection(
                id: (counts[c.experiment] ?? 1) > 1 ? "\(c.experiment)-\(c.hash.prefix(6))" : c.experiment,
                source: exp.source, summary: exp.summary, claimText: exp.claimText, quickNote: exp.quickNote, preset: c.preset,
                configJSON: String(decoding: pretty ?? c.config, as: UTF8.self), finishedRuns: keys.count - missing, totalRuns: keys.count,
                runSeconds: records.reduce(0) { $0 + $1.seconds }, analysis: analysis, error: problem))
        }
        try HTMLReport.write(sections, to: options.outDirectory)
        return ReproduceSummary(sections: sections, runErrors: [])
    }
}
