import Foundation
import Overparam
import TOMLKit

/// A type-erased experiment whose configuration travels as canonical JSON (sorted keys): the form stored in the
/// run store and hashed into the configuration hash.
public struct AnyExperiment: Sendable {
    public let id: String
    public let source: String
    public let summary: String
    public let claimText: String
    public let estimates: (quick: String, full: String)
    public let quickNote: String
    let _configure: @Sendable (Preset, TOMLTable?, String, [String: String]) throws -> Data
    let _runs: @Sendable (Data) throws -> [RunKey]
    let _run: @Sendable (RunKey, Data, UInt64) throws -> RunOutput
    let _analyze: @Sendable (Data, [RunRecord]) throws -> Analysis
    let _seedKey: @Sendable (RunKey) -> RunKey

    public init<E: Experiment>(_ e: E) {
        id = e.id; source = e.source; summary = e.summary; claimText = e.claimText; estimates = e.estimates; quickNote = e.quickNote
        let eid = e.id
        _configure = { preset, table, file, settings in
            var cfg = e.configuration(preset)
            let preset: TOMLTable = try TOMLEncoder().encode(cfg)
            let applicable = settings.filter { preset[$0.key]?.string != nil }
            if table != nil || !applicable.isEmpty {
                let table = table ?? TOMLTable()
                let base = preset
                for (key, value) in applicable { base[key] = value }
                for key in table.keys {
                    guard let old = base[key], let new = table[key] else {
                        throw OverparamError.format(path: file, problem: "[\(eid)] has unknown key '\(key)'; known keys: \(base.keys.sorted().joined(separator: ", "))")
                    }
                    base[key] = try coerce(new, like: old, key: "[\(eid)] \(key)", file: file)
                }
                do { cfg = try TOMLDecoder().decode(E.Config.self, from: base) } catch {
                    throw OverparamError.format(path: file, problem: "[\(eid)]: values do not fit the configuration (\(error))")
                }
            }
            return try canonicalJSON(cfg)
        }
        _runs = { e.runs(try JSONDecoder().decode(E.Config.self, from: $0)) }
        _run = { key, data, seed in try e.run(key, config: try JSONDecoder().decode(E.Config.self, from: data), seed: seed) }
        _analyze = { data, runs in try e.analyze(try JSONDecoder().decode(E.Config.self, from: data), runs: runs) }
        _seedKey = { e.seedKey($0) }
    }

    /// The preset's configuration with TOML overrides applied: the keys of the table `[<id>]` of the file replace
    /// the preset's values (unknown keys and wrong types are errors naming the file and key). `settings` are string
    /// keys set in every experiment whose configuration has them (e.g. `images` from `reproduce --mnist DIR`),
    /// before the file's overrides.
    public func configuration(_ preset: Preset, overrides: TOMLTable? = nil, file: String = "config",
                              settings: [String: String] = [:]) throws -> Data {
        try _configure(preset, overrides.flatMap { tomlTable($0, path: id) }, file, settings)
    }

    public func runs(_ config: Data) throws -> [RunKey] { try _runs(config) }
    public func run(_ key: RunKey, config: Data, seed: UInt64) throws -> RunOutput { try _run(key, config, seed) }
    public func analyze(_ config: Data, runs: [RunRecord]) throws -> Analysis { try _analyze(config, runs) }
    /// The key whose seed the run uses (``Experiment/seedKey(_:)``).
    public func seedKey(_ key: RunKey) -> RunKey { _seedKey(key) }
}

/// JSON with sorted keys: equal configurations give equal bytes.
public func canonicalJSON<T: Encodable>(_ value: T) throws -> Data {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    return try enc.encode(value)
}

/// FNV-1a 64-bit hash as 16 hex digits (the configuration hash of the run store).
public func configHash(_ data: Data) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in data { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return String(format: "%016llx", h)
}

/// An override value converted to the type of the preset's value (integers widen to floating point).
func coerce(_ v: TOMLValueConvertible, like old: TOMLValueConvertible, key: String, file: String) throws -> TOMLValueConvertible {
    let bad = OverparamError.format(path: file, problem: "\(key): expected a \(old.type) like the preset's \(old.debugDescription), got a \(v.type)")
    switch (old.type, v.type) {
    case (.double, .int): return Double(v.int!)
    case (.array, .array):
        guard let oldArr = old.array, let newArr = v.array else { throw bad }
        guard let sample = oldArr.first else { return newArr }
        let out = TOMLArray()
        for item in newArr { out.append(try coerce(item, like: sample, key: key, file: file)) }
        return out
    case let (a, b) where a == b: return v
    default: throw bad
    }
}

/// The table at a dotted path: `[kernels.mc-convergence]` parses as nested tables, `["kernels.mc-convergence"]` as one.
func tomlTable(_ root: TOMLTable, path: String) -> TOMLTable? {
    if let t = root[path]?.table { return t }
    var node: TOMLTable? = root
    for part in path.split(separator: ".") { node = node?[String(part)]?.table }
    return node
}

/// Experiment ids named by a config file's tables (dotted or quoted), and the paths that name none.
func tomlExperimentPaths(_ root: TOMLTable, known: Set<String>, prefix: String = "") -> (ids: [String], unknown: [String]) {
    var ids = [String](), unknown = [String]()
    for key in root.keys {
        let path = prefix.isEmpty ? key : prefix + "." + key
        if known.contains(path) { ids.append(path); continue }
        if let sub = root[key]?.table, known.contains(where: { $0.hasPrefix(path + ".") }) {
            let r = tomlExperimentPaths(sub, known: known, prefix: path)
            ids += r.ids; unknown += r.unknown
        } else {
            unknown.append(path)
        }
    }
    return (ids, unknown)
}
