import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes, with one-line errors naming the file and the fix.
///
/// ``write(_:to:createDirectories:)`` writes into a hidden temporary file next to the target
/// (`.name.tmp-<pid>-<random>`), flushes it, then `rename(2)`s it over the target, so readers never
/// see a half-written file and a failed write leaves the old contents (or nothing) in place.
public enum AtomicFile {
    /// Atomically replace the file at `path` with `data`.
    ///
    /// - Parameters:
    ///   - data: The complete new contents.
    ///   - path: The destination file. Its directory must exist unless `createDirectories` is true.
    ///   - createDirectories: Create missing parent directories first (like `mkdir -p`).
    /// - Throws: ``OverparamError/file(path:problem:)`` when the directory is missing or not writable,
    ///   the disk is full, or `path` is a directory. The temporary file is removed on every failure.
    public static func write(_ data: Data, to path: String, createDirectories: Bool = false) throws {
        let (directory, name) = split(path)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw OverparamError.file(path: path, problem: "not a file name; pass a file path such as out/result.npy")
        }
        if createDirectories { try createParentDirectories(of: path) }

        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw OverparamError.file(path: path, problem:
                "directory '\(directory)' does not exist; create it first (mkdir -p '\(directory)') or choose another output path")
        }
        guard isDirectory.boolValue else {
            throw OverparamError.file(path: path, problem: "'\(directory)' is not a directory; choose an output path inside a directory")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw OverparamError.file(path: path, problem: "is a directory; pass a file path inside it, e.g. \(path)/out.dat")
        }

        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let temporary = (directory == "/" ? "/" : directory + "/") + ".\(name).tmp-\(getpid())-\(suffix)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            let hint = (code == EACCES || code == EROFS || code == EPERM)
                ? "directory '\(directory)' is not writable; choose a writable output directory"
                : "cannot create a temporary file in '\(directory)'; check the directory and free disk space"
            throw OverparamError.file(path: path, problem: "\(hint) (\(describe(code)))")
        }

        var problem: String?
        let written = data.withUnsafeBytes { writeAll(fd, $0) }
        if written != 0 {
            problem = written == ENOSPC || written == EDQUOT
                ? "write failed: no space left (\(describe(written))); free disk space or choose another output directory"
                : "write failed (\(describe(written))); check the disk and the output directory"
        } else if fsync(fd) != 0, errno != EINVAL, errno != ENOTSUP {
            problem = "flushing to disk failed (\(describe(errno))); check the disk and free space"
        }
        if close(fd) != 0, problem == nil {
            problem = "closing the file failed (\(describe(errno))); check the disk and free space"
        }
        if problem == nil, rename(temporary, path) != 0 {
            problem = "cannot move the temporary file into place (\(describe(errno))); check that '\(path)' is writable"
        }
        if let problem {
            unlink(temporary)
            throw OverparamError.file(path: path, problem: problem)
        }
    }

    /// Create the missing parent directories of `path` (like `mkdir -p "$(dirname path)"`).
    ///
    /// - Throws: ``OverparamError/file(path:problem:)`` naming the directory that could not be created.
    public static func createParentDirectories(of path: String) throws {
        let directory = split(path).directory
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OverparamError.file(path: directory, problem:
                "cannot create directory (\(error.localizedDescription)); check permissions or choose another output path")
        }
    }

    /// Read the whole file at `path`.
    ///
    /// - Throws: ``OverparamError/file(path:problem:)`` when the file is missing, is a directory, or is unreadable.
    public static func read(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OverparamError.file(path: path, problem:
                "no such file; check the path (relative paths start at \(FileManager.default.currentDirectoryPath))")
        }
        guard !isDirectory.boolValue else {
            throw OverparamError.file(path: path, problem: "is a directory, not a file; pass the path of a file inside it")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw OverparamError.file(path: path, problem: "permission denied; make the file readable (chmod u+r)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw OverparamError.file(path: path, problem: "cannot read file (\(error.localizedDescription)); check the file and the disk")
        }
    }

    /// `(directory, last component)` of a path, using `.` for a bare file name.
    static func split(_ path: String) -> (directory: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let directory = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        return (directory, String(trimmed[trimmed.index(after: slash)...]))
    }

    /// Write every byte to `fd`, retrying on EINTR and short writes; returns 0 or the `errno`.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard var cursor = bytes.baseAddress else { return 0 }
        var remaining = bytes.count
        while remaining > 0 {
            let n = posixWrite(fd, cursor, Swift.min(remaining, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            cursor += n
            remaining -= n
        }
        return 0
    }

    private static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// `write(2)`, reachable by its plain name outside `AtomicFile` (whose own `write` would shadow it).
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
