import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe writes of a whole folder of files: readers see either the old folder or the complete new one.
///
/// ``write(_:to:replacing:)`` writes every file into a hidden staging folder next to the target
/// (`.name.tmp-<pid>-<random>`, each file through ``AtomicFile``), then `rename(2)`s it into place. An existing
/// target is replaced only when `replacing` accepts its entries (a previous output of the same kind): it is first
/// renamed aside, the new folder renamed in, then the old one removed; on any failure the staging folder is removed
/// and the old folder restored.
public enum AtomicDirectory {
    /// Throw unless `path` can receive a new folder: it does not exist (its parent is created on write), or it is a
    /// folder whose entries `replacing` accepts (an empty folder always is). Call it before long work so that a bad
    /// output path fails first.
    /// - Throws: ``OverparamError/file(path:problem:)`` naming the folder and the fix.
    public static func checkReplaceable(_ path: String, replacing: ([String]) -> Bool) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw OverparamError.file(path: path, problem: "is a file, not a folder; choose a new output folder")
        }
        let entries = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
        guard entries.isEmpty || replacing(entries) else {
            let shown = entries.prefix(4).joined(separator: ", ") + (entries.count > 4 ? ", ..." : "")
            throw OverparamError.file(path: path, problem: "already exists and holds other files (\(shown)); choose a new output folder or remove it")
        }
    }

    /// Atomically make `path` a folder holding exactly `files` (flat names, no `/`).
    /// - Throws: ``OverparamError/file(path:problem:)`` when the target cannot be replaced (see
    ///   ``checkReplaceable(_:replacing:)``) or a write fails; nothing is left behind on failure.
    public static func write(_ files: [(name: String, data: Data)], to path: String, replacing: ([String]) -> Bool) throws {
        let fm = FileManager.default
        for f in files where f.name.isEmpty || f.name.contains("/") || f.name.hasPrefix(".") {
            throw OverparamError.invalidArgument(name: "files", problem: "'\(f.name)' is not a plain file name")
        }
        try checkReplaceable(path, replacing: replacing)
        let (parent, name) = AtomicFile.split(path)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw OverparamError.file(path: path, problem: "not a folder name; pass a path such as out/run1")
        }
        try AtomicFile.createParentDirectories(of: path)
        let prefix = (parent == "/" ? "/" : parent + "/") + "." + name
        let suffix = "\(ProcessInfo.processInfo.processIdentifier)-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        let staging = prefix + ".tmp-" + suffix, aside = prefix + ".old-" + suffix
        do { try fm.createDirectory(atPath: staging, withIntermediateDirectories: false) } catch {
            throw OverparamError.file(path: path, problem: "cannot create a folder in '\(parent)' (\(error.localizedDescription)); choose a writable output folder")
        }
        do {
            for f in files { try AtomicFile.write(f.data, to: staging + "/" + f.name) }
        } catch {
            try? fm.removeItem(atPath: staging)
            if let e = error as? OverparamError, case let .file(_, problem) = e { throw OverparamError.file(path: path, problem: problem) }
            throw error
        }
        let replaced = fm.fileExists(atPath: path)
        if replaced, rename(path, aside) != 0 {
            try? fm.removeItem(atPath: staging)
            throw OverparamError.file(path: path, problem: "cannot replace the existing folder (\(String(cString: strerror(errno)))); check that it is writable")
        }
        if rename(staging, path) != 0 {
            let reason = String(cString: strerror(errno))
            if replaced { _ = rename(aside, path) }
            try? fm.removeItem(atPath: staging)
            throw OverparamError.file(path: path, problem: "cannot move the new folder into place (\(reason)); check that '\(parent)' is writable")
        }
        if replaced { try? fm.removeItem(atPath: aside) }
    }
}
