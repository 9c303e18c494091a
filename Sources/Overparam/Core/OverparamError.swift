/// Every failure the library reports: one clear line naming the culprit (a file, a flag, an argument)
/// and the fix. The CLI prints `description` to stderr and exits non-zero.
public enum OverparamError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file could not be read or written (`path`, what went wrong, how to fix it).
    case file(path: String, problem: String)
    /// A file's contents are not what was expected (format, dtype, shape...).
    case format(path: String, problem: String)
    /// An argument or flag has an invalid value (`name` is the flag or parameter).
    case invalidArgument(name: String, problem: String)
    /// Shapes of two inputs do not fit together.
    case shapeMismatch(String)
    /// Data contains NaN or infinity.
    case nonFinite(String)
    /// A linear system or factorization failed (singular / not positive definite).
    case singular(String)
    /// A computation diverged (NaN/Inf loss, exploding parameters).
    case diverged(String)

    public var description: String {
        switch self {
        case let .file(path, problem): return "\(path): \(problem)"
        case let .format(path, problem): return "\(path): \(problem)"
        case let .invalidArgument(name, problem): return "\(name): \(problem)"
        case let .shapeMismatch(s): return "shape mismatch: \(s)"
        case let .nonFinite(s): return "non-finite values: \(s)"
        case let .singular(s): return "singular system: \(s)"
        case let .diverged(s): return "diverged: \(s)"
        }
    }
}
