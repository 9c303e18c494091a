import Foundation
import Synchronization

/// Progress of a sweep on stderr: a bar with runs done/total and ETA on a terminal, plain lines every few seconds
/// otherwise (logs, CI, batch schedulers).
public final class ProgressReporter: Sendable {
    struct State { var done = 0; var total = 0; var start = Date(); var lastLine = Date.distantPast; var label = ""; var printedDone = -1 }
    let state = Mutex(State())
    let isTerminal: Bool
    let quiet: Bool

    public init(quiet: Bool = false) {
        isTerminal = isatty(2) == 1
        self.quiet = quiet
    }

    public func begin(total: Int, label: String) {
        state.withLock { $0 = State(done: 0, total: total, start: Date(), lastLine: .distantPast, label: label) }
        draw(force: true)
    }

    public func advance(_ what: String) {
        state.withLock { $0.done += 1; $0.label = what }
        draw(force: false)
    }

    public func end() {
        draw(force: true)
        if isTerminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func draw(force: Bool) {
        guard !quiet else { return }
        let (line, emit): (String, Bool) = state.withLock { s in
            let elapsed = Date().timeIntervalSince(s.start)
            let eta = s.done > 0 ? elapsed / Double(s.done) * Double(s.total - s.done) : .nan
            let etaText = eta.isFinite ? Self.clock(eta) : "--:--"
            if isTerminal {
                let width = 28, filled = s.total > 0 ? width * s.done / s.total : width
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                return ("\r[\(bar)] \(s.done)/\(s.total) runs  ETA \(etaText)  \(s.label.prefix(40))\u{1B}[K", true)
            }
            let now = Date()
            // A line when something changed: at the start, every 5 s, and once at the end.
            guard s.done != s.printedDone, force || now.timeIntervalSince(s.lastLine) >= 5 || s.done == s.total else { return ("", false) }
            s.lastLine = now
            s.printedDone = s.done
            return ("progress: \(s.done)/\(s.total) runs, elapsed \(Self.clock(elapsed)), ETA \(etaText) (\(s.label))\n", true)
        }
        if emit { FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
