import Foundation
import Testing
import TOMLKit
@testable import Overparam
@testable import OverparamExperiments

/// A tiny deterministic experiment: run (setting, seed) returns numbers derived from its seed; counts its calls.
struct CountingExperiment: Experiment {
    struct Config: Codable, Sendable { var values: [Int]; var scale: Double; var label: String }
    let calls: CallCounter
    var name = "test.counting"
    var quickEstimate = "0 s"
    var id: String { name }
    var source: String { "test" }
    var summary: String { "counts" }
    var claimText: String { "sum of draws is finite" }
    var estimates: (quick: String, full: String) { (quickEstimate, "0 s") }
    var quickNote: String { "tiny" }
    func configuration(_ preset: Preset) -> Config { Config(values: preset == .quick ? [1, 2, 3] : [1, 2, 3, 4], scale: 1, label: "a") }
    func runs(_ c: Config) -> [RunKey] { c.values.flatMap { v in (0..<2).map { RunKey("v=\(v)", seed: $0) } } }
    func run(_ key: RunKey, config: Config, seed: UInt64) throws -> RunOutput {
        calls.increment()
        var rng = Xoshiro256StarStar(seed: seed)
        return RunOutput(metrics: ["draw": config.scale * rng.normal()], series: ["steps": [1, 2, Double(key.seed)]])
    }
    func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        let total = runs.reduce(0) { $0 + ($1.output.metrics["draw"] ?? .nan) }
        return Analysis(claims: [Claim("sum is finite", measured: total, expected: "finite", tolerance: "exact", passed: total.isFinite)],
                        figures: [NamedFigure("draws", "draws", Figure(title: "draws", x: Axis("run"), y: Axis("draw"),
                                                                             layers: [.scatter(x: runs.indices.map(Double.init), y: runs.map { $0.output.metrics["draw"] ?? 0 }, values: nil, label: nil)]))])
    }
}

final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
}

private func tempDir() -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("overparam-registry-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

@Suite("Experiment registry and runner")
struct RegistryTests {
    @Test("TOML overrides replace preset values, widen integers, and reject unknown keys and wrong types")
    func overrides() throws {
        let e = AnyExperiment(CountingExperiment(calls: CallCounter()))
        let t = try TOMLTable(string: "[test.counting]\nvalues = [5, 6]\nscale = 2\n")
        let cfg = try JSONDecoder().decode(CountingExperiment.Config.self, from: e.configuration(.quick, overrides: t, file: "x.toml"))
        #expect(cfg.values == [5, 6])
        #expect(cfg.scale == 2.0)
        #expect(cfg.label == "a")
        let quoted = try TOMLTable(string: "[\"test.counting\"]\nlabel = \"b\"\n")
        #expect(try JSONDecoder().decode(CountingExperiment.Config.self, from: e.configuration(.quick, overrides: quoted)).label == "b")
        let unknown = try TOMLTable(string: "[test.counting]\nvaluez = [1]\n")
        #expect { try e.configuration(.quick, overrides: unknown, file: "x.toml") } throws: { "\($0)".contains("valuez") && "\($0)".contains("x.toml") }
        let wrong = try TOMLTable(string: "[test.counting]\nlabel = 3\n")
        #expect { try e.configuration(.quick, overrides: wrong, file: "x.toml") } throws: { "\($0)".contains("label") }
    }

    @Test("configuration hashes are stable and distinguish presets; run seeds depend only on (seed, id, key)")
    func hashing() throws {
        let e = AnyExperiment(CountingExperiment(calls: CallCounter()))
        #expect(configHash(try e.configuration(.quick)) == configHash(try e.configuration(.quick)))
        #expect(configHash(try e.configuration(.quick)) != configHash(try e.configuration(.full)))
        let k = RunKey("v=1", seed: 0)
        #expect(runSeed(global: 1, experiment: "a", key: k) == runSeed(global: 1, experiment: "a", key: k))
        #expect(runSeed(global: 1, experiment: "a", key: k) != runSeed(global: 2, experiment: "a", key: k))
        #expect(runSeed(global: 1, experiment: "a", key: k) != runSeed(global: 1, experiment: "a", key: RunKey("v=1", seed: 1)))
    }

    @Test("a second reproduce skips finished runs; jobs and shards give the same results")
    func resumeAndShards() throws {
        let calls = CallCounter()
        let registry = ExperimentRegistry([AnyExperiment(CountingExperiment(calls: calls))])
        var options = ReproduceOptions()
        options.outDirectory = tempDir(); options.quiet = true
        let first = try Reproducer(registry: registry, options: options).run(ids: ["test.counting"], progress: ProgressReporter(quiet: true))
        #expect(calls.count == 6)
        #expect(first.passed == 1 && first.failed == 0)
        _ = try Reproducer(registry: registry, options: options).run(ids: ["test.counting"], progress: ProgressReporter(quiet: true))
        #expect(calls.count == 6)   // nothing re-run
        let reference = try RunStore(directory: options.outDirectory, create: false).allRuns().map { "\($0.key)=\($0.metrics)" }.sorted()
        #expect(reference.count == 6)

        // Two jobs.
        var parallel = options
        parallel.outDirectory = tempDir(); parallel.jobs = 2
        _ = try Reproducer(registry: registry, options: parallel).run(ids: ["test.counting"], progress: ProgressReporter(quiet: true))
        #expect(try RunStore(directory: parallel.outDirectory, create: false).allRuns().map { "\($0.key)=\($0.metrics)" }.sorted() == reference)

        // Three shards are disjoint, cover everything, and merge to the same runs.
        let merged = try RunStore(directory: tempDir())
        var seen = 0
        for i in 0..<3 {
            var s = options
            s.outDirectory = tempDir(); s.shard = (i, 3)
            let summary = try Reproducer(registry: registry, options: s).run(ids: ["test.counting"], progress: ProgressReporter(quiet: true))
            #expect(summary.sections.first?.analysis == nil)   // incomplete shard: no claims
            let store = try RunStore(directory: s.outDirectory, create: false)
            seen += try store.allRuns().count
            try merged.merge(from: store)
        }
        #expect(seen == 6)
        #expect(try merged.allRuns().map { "\($0.key)=\($0.metrics)" }.sorted() == reference)
        #expect(FileManager.default.fileExists(atPath: options.outDirectory + "/claims.csv"))
        let csv = try String(contentsOfFile: options.outDirectory + "/claims.csv", encoding: .utf8)
        #expect(csv.hasPrefix("experiment,claim,measured,expected,passed"))
    }

    @Test("all experiments share one queue, longest estimated runs first; results equal separate reproduces")
    func sharedQueue() throws {
        let calls = CallCounter()
        let short = CountingExperiment(calls: calls, name: "test.short", quickEstimate: "1 s")
        let long = CountingExperiment(calls: calls, name: "test.long", quickEstimate: "2 min")
        let registry = ExperimentRegistry([AnyExperiment(short), AnyExperiment(long)])
        var options = ReproduceOptions()
        options.quiet = true; options.jobs = 2
        var separate = [String: [String: Double]]()
        for id in ["test.short", "test.long"] {
            options.outDirectory = tempDir()
            _ = try Reproducer(registry: registry, options: options).run(ids: [id], progress: ProgressReporter(quiet: true))
            for r in try RunStore(directory: options.outDirectory, create: false).allRuns() { separate["\(r.experiment) \(r.key)"] = r.metrics }
        }
        #expect(separate.count == 12)
        options.outDirectory = tempDir()
        let both = try Reproducer(registry: registry, options: options).run(ids: ["test.short", "test.long"], progress: ProgressReporter(quiet: true))
        #expect(both.passed == 2 && calls.count == 24)
        var joint = [String: [String: Double]]()
        for r in try RunStore(directory: options.outDirectory, create: false).allRuns() where r.status == .finished { joint["\(r.experiment) \(r.key)"] = r.metrics }
        #expect(joint == separate)
        let pending = [(short, 1.0, 0), (long, 10.0, 0), (short, 1.0, 1), (long, 10.0, 1)].map { e, t, i in
            Reproducer.PendingRun(experiment: AnyExperiment(e), config: Data(), hash: "h", key: RunKey("k", seed: i), estimatedSeconds: t)
        }
        #expect(Reproducer.schedule(pending).map { "\($0.experiment.id)#\($0.key.seed)" } == ["test.long#0", "test.long#1", "test.short#0", "test.short#1"])
        #expect(Reproducer.seconds("35 s") == 35 && Reproducer.seconds("2 min") == 120 && Reproducer.seconds("2.5 h (about 1.5 h)") == 9000
                && Reproducer.seconds("weeks (not run)") == 0)
    }

    @Test("unknown ids and config tables naming no experiment are errors")
    func unknownIds() throws {
        let registry = ExperimentRegistry([AnyExperiment(CountingExperiment(calls: CallCounter()))])
        #expect(throws: OverparamError.self) { try registry.experiment("nope") }
        var options = ReproduceOptions()
        options.outDirectory = tempDir()
        let cfg = options.outDirectory + "/c.toml"
        try "[test.countin]\nscale = 1\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        options.configFile = cfg
        #expect { try Reproducer(registry: registry, options: options).run(ids: ["test.counting"], progress: ProgressReporter(quiet: true)) }
            throws: { "\($0)".contains("test.countin") }
    }

    @Test("the standard registry lists the foundation experiments with quick presets that plan runs")
    func standard() throws {
        let reg = ExperimentRegistry.standard
        for id in ["kernels.mc-convergence", "kernels.gallery", "kernels.digits"] {
            let e = try reg.experiment(id)
            #expect(!(try e.runs(try e.configuration(.quick))).isEmpty)
            #expect(try e.runs(try e.configuration(.quick)).count <= (try e.runs(try e.configuration(.full))).count)
        }
    }
}

@Suite("MNIST image source")
struct ImageSourceTests {
    /// A fake MNIST folder: `n` train and `m` test images of 2 x 2 pixels (gzipped), labels i mod 10.
    static func fakeMNIST(train n: Int, test m: Int) throws -> String {
        let dir = try makeTempDir("mnist")
        for (prefix, count) in [("train", n), ("t10k", m)] {
            let pixels = (0..<(4 * count)).map { UInt8(($0 * 37) % 256) }
            let labels = (0..<count).map { UInt8($0 % 10) }
            try Gzip.compress(IDX.encode(shape: [count, 2, 2], bytes: pixels)).write(to: URL(fileURLWithPath: dir + "/\(prefix)-images-idx3-ubyte.gz"))
            try IDX.encode(shape: [count], bytes: labels).write(to: URL(fileURLWithPath: dir + "/\(prefix)-labels-idx1-ubyte"))
        }
        return dir
    }

    @Test("--mnist sets `images` in every image experiment (a new configuration hash) and leaves the others alone")
    func settingsReachImageExperiments() throws {
        let reg = ExperimentRegistry.standard
        let set = ["images": "mnist:/data/mnist"]
        for id in ["regimes.alpha-sweep", "regimes.width-sweep", "regimes.linearization", "regimes.breaking-ntk", "kernels.digits"] {
            let e = try reg.experiment(id)
            let plain = try e.configuration(.quick), mnist = try e.configuration(.quick, settings: set)
            let bundled = id == "regimes.linearization" ? ImageData.bundledMNIST : "digits"
            #expect(String(decoding: plain, as: UTF8.self).contains("\"images\":\"\(bundled)\""))
            #expect(String(decoding: mnist, as: UTF8.self).contains("mnist:\\/data\\/mnist"))
            #expect(configHash(plain) != configHash(mnist))
        }
        let other = try reg.experiment("theory.min-norm")
        #expect(try other.configuration(.quick, settings: set) == (try other.configuration(.quick)))
    }

    @Test("MNIST train and t10k files load, are capped, standardized (globally), and labelled like the digits")
    func loadsFakeMNIST() throws {
        let dir = try Self.fakeMNIST(train: 30, test: 12)
        let d = try TrainingSupport.images("mnist:\(dir)", maxTrain: 20, maxTest: 0)
        #expect(d.x.rows == 20 && d.x.cols == 4 && d.tx.rows == 12)
        #expect(d.y.cols == 10 && d.y[3, 3] == 1)
        // MNIST: one mean and SD over all training pixels (torchvision's Normalize), not per pixel.
        let mean = d.x.storage.reduce(0, +) / Double(d.x.storage.count)
        let sd = (d.x.storage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d.x.storage.count)).squareRoot()
        #expect(abs(mean) < 1e-12 && abs(sd - 1) < 1e-12)
        let b = try TrainingSupport.images("mnist:\(dir)", binary: true)
        #expect(b.y.cols == 1 && b.y[7, 0] == 1 && b.y[2, 0] == -1)
        #expect(try ImageData.pool("mnist:\(dir)", maxTrain: 5, maxTest: 3).count == 8)
        #expect { try TrainingSupport.images("mnist:\(dir)/missing") } throws: { "\($0)".contains("train-images-idx3-ubyte") }
        #expect { try TrainingSupport.images("cifar") } throws: { "\($0)".contains("mnist:DIR") }
    }
}
