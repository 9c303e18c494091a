import Foundation
import Overparam

/// The two levels of every experiment: `quick` (seconds, claims still honest at its size) and `full` (the seed's
/// own setting, SEED-NOTES sec. 3).
public enum Preset: String, Sendable, Codable, CaseIterable { case quick, full }

/// One run of a sweep: a setting (a point of the grid, written canonically, e.g. "width=256") and a seed index.
public struct RunKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var setting: String
    public var seed: Int
    public init(_ setting: String, seed: Int = 0) { self.setting = setting; self.seed = seed }
    public static func < (a: RunKey, b: RunKey) -> Bool { (a.setting, a.seed) < (b.setting, b.seed) }
    public var description: String { "\(setting)#\(seed)" }
}

/// What one run produces: scalar metrics and per-step series (stored in the run store).
public struct RunOutput: Sendable, Codable, Equatable {
    public var metrics: [String: Double]
    public var series: [String: [Double]]
    public init(metrics: [String: Double] = [:], series: [String: [Double]] = [:]) { self.metrics = metrics; self.series = series }
}

/// A finished run as read back from the store.
public struct RunRecord: Sendable {
    public var key: RunKey
    public var output: RunOutput
    public var seconds: Double
}

/// A checked statement: what the seed (or theory) claims, what we measured, what was expected, the tolerance and
/// where it comes from, and the verdict. A claim that fails stays failed; the report shows the evidence.
public struct Claim: Sendable, Codable {
    public var statement: String
    public var measured: Double
    /// The expected value or relation, in words (e.g. "-0.5 +- 3 SE (0.04)" or "> 0.9").
    public var expected: String
    /// Where the tolerance comes from (theory, standard errors of the run).
    public var tolerance: String
    public var passed: Bool
    public init(_ statement: String, measured: Double, expected: String, tolerance: String, passed: Bool) {
        self.statement = statement; self.measured = measured; self.expected = expected; self.tolerance = tolerance; self.passed = passed
    }
}

/// A named figure of an experiment.
public struct NamedFigure: Sendable {
    public var name: String
    public var caption: String
    public var figure: Figure
    public init(_ name: String, _ caption: String, _ figure: Figure) { self.name = name; self.caption = caption; self.figure = figure }
}

/// A table of numbers written as CSV next to the figures.
public struct DataTable: Sendable {
    public var name: String
    public var header: [String]
    public var rows: [[String]]
    public init(_ name: String, header: [String], rows: [[String]]) { self.name = name; self.header = header; self.rows = rows }
    public var csv: String {
        ([header] + rows).map { $0.map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

/// The analysis of a finished sweep.
public struct Analysis: Sendable {
    public var claims: [Claim]
    public var figures: [NamedFigure]
    public var tables: [DataTable]
    /// Findings and caveats in words (shown in the report).
    public var notes: [String]
    public init(claims: [Claim] = [], figures: [NamedFigure] = [], tables: [DataTable] = [], notes: [String] = []) {
        self.claims = claims; self.figures = figures; self.tables = tables; self.notes = notes
    }
}

/// An experiment that reproduces a seed figure or checks a theorem: a typed configuration with presets, a grid of
/// runs, a run function, and an analysis into claims, figures and tables.
public protocol Experiment: Sendable {
    associatedtype Config: Codable & Sendable
    /// Identifier, e.g. `kernels.mc-convergence`.
    var id: String { get }
    /// The seed document and figure/equation reproduced.
    var source: String { get }
    /// What it shows, in one line.
    var summary: String { get }
    /// What the seed (or theory) claims, in words, for the report.
    var claimText: String { get }
    /// Rough run-time estimates of the presets, e.g. ("5 s", "2 min").
    var estimates: (quick: String, full: String) { get }
    func configuration(_ preset: Preset) -> Config
    /// How the quick preset shrinks the full one (shown in the report).
    var quickNote: String { get }
    func runs(_ config: Config) -> [RunKey]
    /// One run; `seed` is derived from the global seed, the experiment and the setting and seed index of
    /// ``seedKey(_:)`` (by default the run's own key).
    func run(_ key: RunKey, config: Config, seed: UInt64) throws -> RunOutput
    func analyze(_ config: Config, runs: [RunRecord]) throws -> Analysis
    /// The key whose seed a run receives. Runs that must share their random numbers (the same data, or the same
    /// initialization in a paired comparison) map to one key; the default is the run's own key.
    func seedKey(_ key: RunKey) -> RunKey
}

extension Experiment {
    public func seedKey(_ key: RunKey) -> RunKey { key }
}

/// The seed of one run: a hash of (global seed, experiment id, setting, seed index), so results do not depend on
/// order, jobs or shards.
public func runSeed(global: UInt64, experiment: String, key: RunKey) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in "\(experiment)|\(key.setting)|\(key.seed)".utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    var sm = SplitMix64(state: h ^ global &* 0x9E37_79B9_7F4A_7C15)
    return sm.next()
}
