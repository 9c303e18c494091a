import Foundation
import GRDB
import Overparam

/// The status of a run in the store.
public enum RunStatus: String, Sendable, Codable { case running, finished, failed }

/// A run row as listed by `overparam runs list`.
public struct StoredRun: Sendable {
    public var id: Int64
    public var experiment: String
    public var configHash: String
    public var key: RunKey
    public var status: RunStatus
    public var started: Date?
    public var finished: Date?
    public var seconds: Double
    public var metrics: [String: Double]
    public var error: String?
}

/// The resumable run store: an embedded SQLite database (GRDB, WAL journal) at `DIR/runs.sqlite`.
///
/// Tables: `configs` (experiment, config_hash, preset, config JSON), `runs` (one row per (experiment, config_hash,
/// setting, seed), with status, timestamps, metrics JSON and error), `series` (per-step values of a run).
/// A run's results (metrics, series, status `finished`) are written in one transaction, so a `kill -9` at any
/// moment loses no finished run and never leaves half of one; the unique key makes every run appear once.
public final class RunStore: Sendable {
    public let path: String
    let db: DatabasePool

    /// Open (creating if needed) the store in `directory`.
    public init(directory: String, create: Bool = true) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: directory, isDirectory: &isDir) {
            guard create else { throw OverparamError.file(path: directory, problem: "no such run directory") }
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw OverparamError.file(path: directory, problem: "cannot create the output folder (\(error.localizedDescription)); choose a writable --out")
            }
        } else if !isDir.boolValue {
            throw OverparamError.file(path: directory, problem: "is a file, not a folder; choose another --out")
        }
        guard fm.isWritableFile(atPath: directory) || !create else {
            throw OverparamError.file(path: directory, problem: "folder is not writable; choose another --out")
        }
        path = (directory as NSString).appendingPathComponent("runs.sqlite")
        if !create && !fm.fileExists(atPath: path) { throw OverparamError.file(path: path, problem: "no run store here (expected runs.sqlite from overparam reproduce)") }
        var config = Configuration()
        config.busyMode = .timeout(30)
        do {
            db = try DatabasePool(path: path, configuration: config)
            try RunStore.migrator.migrate(db)
        } catch {
            throw OverparamError.file(path: path, problem: "cannot open the run store (\(error)); is it an overparam runs.sqlite?")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE configs (experiment TEXT NOT NULL, config_hash TEXT NOT NULL, preset TEXT NOT NULL,
                                      config TEXT NOT NULL, PRIMARY KEY (experiment, config_hash));
                CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, experiment TEXT NOT NULL, config_hash TEXT NOT NULL,
                                   setting TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
                                   started_at REAL, finished_at REAL, seconds REAL NOT NULL DEFAULT 0,
                                   metrics TEXT, error TEXT,
                                   UNIQUE (experiment, config_hash, setting, seed));
                CREATE TABLE series (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,
                                     step INTEGER NOT NULL, value REAL, PRIMARY KEY (run_id, name, step));
                """)
        }
        return m
    }

    /// Record a configuration (idempotent).
    public func register(experiment: String, hash: String, preset: Preset, config: Data) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO configs (experiment, config_hash, preset, config) VALUES (?, ?, ?, ?)",
                           arguments: [experiment, hash, preset.rawValue, String(decoding: config, as: UTF8.self)])
        }
    }

    /// All stored configurations: (experiment, hash, preset, config JSON).
    public func configurations() throws -> [(experiment: String, hash: String, preset: Preset, config: Data)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT experiment, config_hash, preset, config FROM configs ORDER BY experiment").map {
                ($0["experiment"], $0["config_hash"], Preset(rawValue: $0["preset"]) ?? .quick, Data(($0["config"] as String).utf8))
            }
        }
    }

    /// Keys of finished runs of a configuration.
    public func finishedKeys(experiment: String, hash: String) throws -> Set<RunKey> {
        try db.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT setting, seed FROM runs WHERE experiment = ? AND config_hash = ? AND status = 'finished'",
                                 arguments: [experiment, hash]).map { RunKey($0["setting"], seed: $0["seed"]) })
        }
    }

    /// Mark a run as started (creating or resetting its row).
    public func markStarted(experiment: String, hash: String, key: RunKey) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO runs (experiment, config_hash, setting, seed, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)
                ON CONFLICT (experiment, config_hash, setting, seed) DO UPDATE SET status = 'running', started_at = excluded.started_at, error = NULL
                WHERE status != 'finished'
                """, arguments: [experiment, hash, key.setting, key.seed, Date().timeIntervalSince1970])
        }
    }

    /// Store a finished run: metrics, series and status in one transaction.
    public func markFinished(experiment: String, hash: String, key: RunKey, output: RunOutput, seconds: Double,
                             started: Date? = nil, finished: Date = Date()) throws {
        let metrics = String(decoding: try canonicalJSON(output.metrics.mapValues { $0.isFinite ? $0 : Double.nan }.filter { $0.value.isFinite }), as: UTF8.self)
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO runs (experiment, config_hash, setting, seed, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)
                ON CONFLICT (experiment, config_hash, setting, seed) DO NOTHING
                """, arguments: [experiment, hash, key.setting, key.seed, (started ?? finished).timeIntervalSince1970])
            guard let row = try Row.fetchOne(db, sql: "SELECT id, status FROM runs WHERE experiment = ? AND config_hash = ? AND setting = ? AND seed = ?",
                                             arguments: [experiment, hash, key.setting, key.seed]) else { return }
            let id: Int64 = row["id"]
            if (row["status"] as String) == "finished" { return }
            try db.execute(sql: "DELETE FROM series WHERE run_id = ?", arguments: [id])
            for (name, values) in output.series {
                for (step, v) in values.enumerated() {
                    try db.execute(sql: "INSERT INTO series (run_id, name, step, value) VALUES (?, ?, ?, ?)",
                                   arguments: [id, name, step, v.isFinite ? v : nil])
                }
            }
            try db.execute(sql: "UPDATE runs SET status = 'finished', finished_at = ?, seconds = ?, metrics = ?, error = NULL WHERE id = ?",
                           arguments: [finished.timeIntervalSince1970, seconds, metrics, id])
        }
    }

    /// Store a failed run with its error message.
    public func markFailed(experiment: String, hash: String, key: RunKey, error: String) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO runs (experiment, config_hash, setting, seed, status, error) VALUES (?, ?, ?, ?, 'failed', ?)
                ON CONFLICT (experiment, config_hash, setting, seed) DO UPDATE SET status = 'failed', error = excluded.error
                WHERE status != 'finished'
                """, arguments: [experiment, hash, key.setting, key.seed, error])
        }
    }

    /// Finished runs of a configuration with metrics and series.
    public func records(experiment: String, hash: String) throws -> [RunRecord] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, setting, seed, seconds, metrics FROM runs WHERE experiment = ? AND config_hash = ? AND status = 'finished' ORDER BY setting, seed",
                                        arguments: [experiment, hash])
            return try rows.map { row in
                let id: Int64 = row["id"]
                let metrics = (try? JSONDecoder().decode([String: Double].self, from: Data(((row["metrics"] as String?) ?? "{}").utf8))) ?? [:]
                var series = [String: [Double]]()
                for s in try Row.fetchAll(db, sql: "SELECT name, step, value FROM series WHERE run_id = ? ORDER BY name, step", arguments: [id]) {
                    series[s["name"], default: []].append((s["value"] as Double?) ?? .nan)
                }
                return RunRecord(key: RunKey(row["setting"], seed: row["seed"]), output: RunOutput(metrics: metrics, series: series), seconds: row["seconds"])
            }
        }
    }

    /// Every run row (for `runs list/show/export`).
    public func allRuns(experiment: String? = nil) throws -> [StoredRun] {
        try db.read { db in
            let sql = "SELECT * FROM runs" + (experiment == nil ? "" : " WHERE experiment = ?") + " ORDER BY experiment, config_hash, setting, seed"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(experiment.map { [$0] } ?? [])).map { r in
                let metrics = (try? JSONDecoder().decode([String: Double].self, from: Data(((r["metrics"] as String?) ?? "{}").utf8))) ?? [:]
                return StoredRun(id: r["id"], experiment: r["experiment"], configHash: r["config_hash"], key: RunKey(r["setting"], seed: r["seed"]),
                                 status: RunStatus(rawValue: r["status"]) ?? .failed,
                                 started: (r["started_at"] as Double?).map { Date(timeIntervalSince1970: $0) },
                                 finished: (r["finished_at"] as Double?).map { Date(timeIntervalSince1970: $0) },
                                 seconds: r["seconds"], metrics: metrics, error: r["error"])
            }
        }
    }

    /// Merge the finished runs and configurations of `other` into this store: exactly once per run key,
    /// idempotent. Refuses a store whose configuration of an experiment differs from ours.
    @discardableResult
    public func merge(from other: RunStore) throws -> Int {
        let mine = Dictionary(try configurations().map { ($0.experiment, $0.hash) }, uniquingKeysWith: { a, _ in a })
        let theirs = try other.configurations()
        for c in theirs {
            if let h = mine[c.experiment], h != c.hash {
                throw OverparamError.invalidArgument(name: other.path, problem: "\(c.experiment) was run with a different configuration (hash \(c.hash), here \(h)); merge only shards of the same sweep")
            }
        }
        var added = 0
        for c in theirs {
            try register(experiment: c.experiment, hash: c.hash, preset: c.preset, config: c.config)
            let have = try finishedKeys(experiment: c.experiment, hash: c.hash)
            let stored = try other.allRuns(experiment: c.experiment).filter { $0.configHash == c.hash && $0.status == .finished }
            let recs = Dictionary(try other.records(experiment: c.experiment, hash: c.hash).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for r in stored where !have.contains(r.key) {
                guard let rec = recs[r.key] else { continue }
                try markFinished(experiment: c.experiment, hash: c.hash, key: r.key, output: rec.output, seconds: r.seconds,
                                 started: r.started, finished: r.finished ?? Date())
                added += 1
            }
        }
        return added
    }
}
