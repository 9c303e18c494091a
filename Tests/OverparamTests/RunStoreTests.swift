import Foundation
import Testing
import Overparam
@testable import OverparamExperiments


private struct DemoConfig: Codable, Sendable {
    var widths: [Int]
    var seeds: Int
}

private let configA = try! canonicalJSON(DemoConfig(widths: [16, 64], seeds: 2))
private let configB = try! canonicalJSON(DemoConfig(widths: [16, 64, 256], seeds: 2))
private let hashA = configHash(configA)
private let hashB = configHash(configB)

private func output(_ i: Int) -> RunOutput {
    let x = Double(i)
    return RunOutput(metrics: ["loss": 1 / (x + 3), "acc": 0.9 + x * 1e-3, "tiny": 1e-300 * (x + 1), "big": 6.02214076e23 + x],
                     series: ["loss": (0..<5).map { 1 / (Double($0) + x + 1) }, "grad": [0.1 * x, -2.5, 1e-17, 0]])
}

private func key(_ w: Int, _ s: Int = 0) -> RunKey { RunKey("width=\(w)", seed: s) }

private func finishedCount(_ store: RunStore, experiment: String) throws -> Int {
    try store.allRuns(experiment: experiment).filter { $0.status == .finished }.count
}

@Suite("Run store")
struct RunStoreTests {
    @Test("register, start, finish and fail runs; records round-trip exactly")
    func lifecycle() throws {
        let dir = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RunStore(directory: dir)
        #expect(store.path == dir + "/runs.sqlite")

        try store.register(experiment: "demo", hash: hashA, preset: .quick, config: configA)
        try store.register(experiment: "demo", hash: hashA, preset: .quick, config: configA)   // idempotent
        let configs = try store.configurations()
        #expect(configs.count == 1)
        #expect(configs.first?.experiment == "demo" && configs.first?.hash == hashA && configs.first?.preset == .quick)
        #expect(configs.first?.config == configA)

        try store.markStarted(experiment: "demo", hash: hashA, key: key(16))
        #expect(try store.finishedKeys(experiment: "demo", hash: hashA).isEmpty)
        #expect(try store.allRuns(experiment: "demo").map(\.status) == [.running])

        try store.markFinished(experiment: "demo", hash: hashA, key: key(16), output: output(1), seconds: 2.5)
        try store.markFinished(experiment: "demo", hash: hashA, key: key(64, 1), output: output(2), seconds: 0.75)
        try store.markStarted(experiment: "demo", hash: hashA, key: key(256))
        try store.markFailed(experiment: "demo", hash: hashA, key: key(256), error: "diverged: loss is NaN")

        #expect(try store.finishedKeys(experiment: "demo", hash: hashA) == [key(16), key(64, 1)])
        #expect(try store.finishedKeys(experiment: "demo", hash: "other").isEmpty)

        let records = try store.records(experiment: "demo", hash: hashA)
        #expect(records.map(\.key) == [key(16), key(64, 1)])
        #expect(records[0].output == output(1), "metrics and series round-trip exactly")
        #expect(records[1].output == output(2))
        #expect(records[0].seconds == 2.5 && records[1].seconds == 0.75)

        let failed = try store.allRuns(experiment: "demo").filter { $0.key == key(256) }
        #expect(failed.count == 1)
        #expect(failed.first?.status == .failed)
        #expect(failed.first?.error == "diverged: loss is NaN")

        // A finished run is never reset by a later start or failure, and a second finish keeps one row (the first).
        try store.markStarted(experiment: "demo", hash: hashA, key: key(16))
        try store.markFailed(experiment: "demo", hash: hashA, key: key(16), error: "late failure")
        try store.markFinished(experiment: "demo", hash: hashA, key: key(16), output: output(9), seconds: 99)
        let rows = try store.allRuns(experiment: "demo").filter { $0.key == key(16) }
        #expect(rows.count == 1)
        #expect(rows.first?.status == .finished)
        #expect(rows.first?.error == nil)
        let kept = try store.records(experiment: "demo", hash: hashA).first(where: { $0.key == key(16) })
        #expect(kept?.output == output(1) && kept?.seconds == 2.5)

        // A failed run can be retried and then finishes.
        try store.markStarted(experiment: "demo", hash: hashA, key: key(256))
        try store.markFinished(experiment: "demo", hash: hashA, key: key(256), output: output(3), seconds: 1)
        let retried = try store.allRuns(experiment: "demo").filter { $0.key == key(256) }
        #expect(retried.count == 1 && retried.first?.status == .finished && retried.first?.error == nil)
        #expect(try finishedCount(store, experiment: "demo") == 3)
    }

    @Test("non-finite values: metrics are dropped, series keep NaN in place")
    func nonFinite() throws {
        let dir = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RunStore(directory: dir)
        try store.register(experiment: "demo", hash: hashA, preset: .quick, config: configA)
        let out = RunOutput(metrics: ["ok": 1.5, "bad": .nan, "worse": .infinity], series: ["s": [1, .nan, 3]])
        try store.markFinished(experiment: "demo", hash: hashA, key: key(16), output: out, seconds: 1)
        let rec = try #require(try store.records(experiment: "demo", hash: hashA).first)
        #expect(rec.output.metrics == ["ok": 1.5])
        let s = try #require(rec.output.series["s"])
        #expect(s.count == 3 && s[0] == 1 && s[1].isNaN && s[2] == 3)
    }

    @Test("reopening the store keeps its data")
    func reopen() throws {
        let dir = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try RunStore(directory: dir)
            try store.register(experiment: "demo", hash: hashA, preset: .full, config: configA)
            try store.markFinished(experiment: "demo", hash: hashA, key: key(16), output: output(4), seconds: 3)
            try store.markFailed(experiment: "demo", hash: hashA, key: key(64), error: "boom")
        }
        let again = try RunStore(directory: dir, create: false)
        #expect(try again.configurations().map(\.hash) == [hashA])
        #expect(try again.configurations().first?.preset == .full)
        #expect(try again.finishedKeys(experiment: "demo", hash: hashA) == [key(16)])
        let recs = try again.records(experiment: "demo", hash: hashA)
        #expect(recs.count == 1 && recs.first?.output == output(4) && recs.first?.seconds == 3)
        #expect(try again.allRuns().count == 2)
    }

    @Test("opening without create needs an existing store")
    func openMissing() throws {
        let dir = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: (any Error).self) { _ = try RunStore(directory: dir + "/nothing-here", create: false) }
        #expect(throws: (any Error).self) { _ = try RunStore(directory: dir, create: false) }
    }

    @Test("merge of disjoint shards gives the union exactly once and is idempotent")
    func merge() throws {
        let tmp = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let a = try RunStore(directory: tmp + "/a"), b = try RunStore(directory: tmp + "/b")
        for s in [a, b] { try s.register(experiment: "demo", hash: hashA, preset: .quick, config: configA) }
        try a.markFinished(experiment: "demo", hash: hashA, key: key(16, 0), output: output(0), seconds: 1)
        try a.markFinished(experiment: "demo", hash: hashA, key: key(16, 1), output: output(1), seconds: 2)
        try b.markFinished(experiment: "demo", hash: hashA, key: key(64, 0), output: output(2), seconds: 3)
        try b.markFinished(experiment: "demo", hash: hashA, key: key(64, 1), output: output(3), seconds: 4)
        try b.markFailed(experiment: "demo", hash: hashA, key: key(256, 0), error: "boom")
        // A second experiment only in b travels along.
        try b.register(experiment: "other", hash: hashB, preset: .full, config: configB)
        try b.markFinished(experiment: "other", hash: hashB, key: key(8), output: output(5), seconds: 5)

        #expect(try a.merge(from: b) == 3)
        let all: Set<RunKey> = [key(16, 0), key(16, 1), key(64, 0), key(64, 1)]
        #expect(try a.finishedKeys(experiment: "demo", hash: hashA) == all)
        #expect(try finishedCount(a, experiment: "demo") == 4, "each run exactly once")
        #expect(try a.allRuns(experiment: "demo").filter { $0.key == key(256, 0) }.isEmpty, "failed runs are not merged")
        let merged = try a.records(experiment: "demo", hash: hashA)
        let recs = Dictionary(uniqueKeysWithValues: merged.map { ($0.key, $0) })
        #expect(recs[key(64, 0)]?.output == output(2) && recs[key(64, 0)]?.seconds == 3)
        #expect(recs[key(64, 1)]?.output == output(3) && recs[key(64, 1)]?.seconds == 4)
        #expect(recs[key(16, 0)]?.output == output(0))
        #expect(try a.configurations().map(\.experiment).sorted() == ["demo", "other"])
        #expect(try a.records(experiment: "other", hash: hashB).map(\.output) == [output(5)])

        // Idempotent.
        #expect(try a.merge(from: b) == 0)
        #expect(try finishedCount(a, experiment: "demo") == 4)
        #expect(try finishedCount(a, experiment: "other") == 1)

        // The other direction gives the same union.
        #expect(try b.merge(from: a) == 2)
        #expect(try b.finishedKeys(experiment: "demo", hash: hashA) == all)
        #expect(try b.merge(from: a) == 0)
    }

    @Test("merge refuses a store with a different configuration of the same experiment")
    func mergeRefusesOtherConfig() throws {
        let tmp = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let a = try RunStore(directory: tmp + "/a"), c = try RunStore(directory: tmp + "/c")
        try a.register(experiment: "demo", hash: hashA, preset: .quick, config: configA)
        try a.markFinished(experiment: "demo", hash: hashA, key: key(16), output: output(0), seconds: 1)
        try c.register(experiment: "demo", hash: hashB, preset: .quick, config: configB)
        try c.markFinished(experiment: "demo", hash: hashB, key: key(64), output: output(1), seconds: 1)

        #expect(hashA != hashB)
        #expect(throws: (any Error).self) { try a.merge(from: c) }
        // Nothing was merged.
        #expect(try a.configurations().map(\.hash) == [hashA])
        #expect(try a.allRuns().count == 1)
    }

    @Test("a directory path that is a regular file is an error naming the path")
    func directoryIsFile() throws {
        let tmp = try makeTempDir("store")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let file = tmp + "/plain-file"
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: file))
        do {
            _ = try RunStore(directory: file)
            Issue.record("expected RunStore(directory:) to throw for a regular file")
        } catch {
            #expect("\(error)".contains(file), "error does not name the path: \(error)")
        }
    }
}
