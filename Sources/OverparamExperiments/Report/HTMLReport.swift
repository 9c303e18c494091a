import Foundation
import Overparam

/// One experiment of a report: what it reproduces, how it was run, and its analysis (or why there is none).
public struct ReportSection: Sendable {
    public var id: String
    public var source: String
    public var summary: String
    public var claimText: String
    public var quickNote: String
    public var preset: Preset
    /// Canonical JSON of the configuration.
    public var configJSON: String
    public var finishedRuns: Int
    public var totalRuns: Int
    /// Sum of the run times in seconds.
    public var runSeconds: Double
    /// nil when the sweep is incomplete or the analysis failed.
    public var analysis: Analysis?
    /// The analysis error, or e.g. "k of n runs missing (shard); merge then run overparam report".
    public var error: String?

    public init(id: String, source: String, summary: String, claimText: String, quickNote: String, preset: Preset,
                configJSON: String, finishedRuns: Int, totalRuns: Int, runSeconds: Double,
                analysis: Analysis? = nil, error: String? = nil) {
        self.id = id; self.source = source; self.summary = summary; self.claimText = claimText; self.quickNote = quickNote
        self.preset = preset; self.configJSON = configJSON; self.finishedRuns = finishedRuns; self.totalRuns = totalRuns
        self.runSeconds = runSeconds; self.analysis = analysis; self.error = error
    }
}

/// The report of a set of experiments: a self-contained `index.html` (inline CSS and a small inline check script,
/// no network), the figures as SVG files and the tables as CSV files next to it, and `claims.csv` with every verdict.
///
/// Layout of the output folder:
/// ```
/// DIR/index.html
/// DIR/claims.csv
/// DIR/<experiment id>/<figure name>.svg
/// DIR/<experiment id>/<table name>.csv
/// ```
public enum HTMLReport {
    /// Write DIR/<id>/<figure>.svg, DIR/<id>/<table>.csv, DIR/index.html and DIR/claims.csv (every file atomically).
    public static func write(_ sections: [ReportSection], to directory: String, title: String = "Overparam report") throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw OverparamError.file(path: directory, problem: "is a file, not a folder; choose another report folder")
            }
        } else {
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw OverparamError.file(path: directory, problem: "cannot create the report folder (\(error.localizedDescription)); choose a writable folder")
            }
        }
        for s in sections {
            guard let a = s.analysis else { continue }
            let sub = join(directory, fileComponent(s.id))
            for f in a.figures {
                try AtomicFile.write(Data(f.figure.svg().utf8), to: join(sub, fileComponent(f.name) + ".svg"), createDirectories: true)
            }
            for t in a.tables {
                try AtomicFile.write(Data(t.csv.utf8), to: join(sub, fileComponent(t.name) + ".csv"), createDirectories: true)
            }
        }
        try AtomicFile.write(Data(claimsCSV(sections).utf8), to: join(directory, "claims.csv"))
        try AtomicFile.write(Data(html(sections, title: title).utf8), to: join(directory, "index.html"))
    }

    // MARK: - claims.csv

    /// `claims.csv`: header `experiment,claim,measured,expected,passed`, one row per claim of every analyzed
    /// experiment; `measured` at full precision (Swift's shortest round-trip form), `passed` as true/false; fields
    /// with commas, quotes or line breaks are quoted (RFC 4180).
    public static func claimsCSV(_ sections: [ReportSection]) -> String {
        var lines = ["experiment,claim,measured,expected,passed"]
        for s in sections {
            for c in s.analysis?.claims ?? [] {
                lines.append([s.id, c.statement, "\(c.measured)", c.expected, c.passed ? "true" : "false"].map(csvField).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One CSV field, quoted when it contains a comma, a quote or a line break (quotes doubled).
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - index.html

    /// The self-contained HTML page (figures referenced as files `<id>/<name>.svg` next to it).
    public static func html(_ sections: [ReportSection], title: String) -> String {
        let allClaims = sections.flatMap { $0.analysis?.claims ?? [] }
        let passed = allClaims.filter(\.passed).count, failed = allClaims.count - passed
        let missing = sections.filter { $0.analysis == nil }.count
        let date = ISO8601DateFormatter().string(from: Date())
        let experimentsText = sections.count == 1 ? "1 experiment" : "\(sections.count) experiments"
        let totalsClass = failed == 0 ? "pass" : "fail"
        var missingText = ""
        if missing > 0 {
            let what = missing == 1 ? "1 experiment" : "\(missing) experiments"
            missingText = " · <span class=\"fail\">" + what + " without results</span>"
        }

        var o = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <header>
        <h1>\(esc(title))</h1>
        <p class="meta">Generated \(esc(date)) · \(experimentsText)</p>
        <p class="totals"><span class="\(totalsClass)">\(passed) claims passed, \(failed) failed</span>\(missingText)</p>
        </header>

        """

        // Summary table.
        o += "<table class=\"summary\">\n<thead><tr><th>Experiment</th><th>Source</th><th>Runs</th><th>Claims</th></tr></thead>\n<tbody>\n"
        for s in sections {
            let cs = s.analysis?.claims ?? []
            let p = cs.filter(\.passed).count, f = cs.count - p
            var claimsCell: String
            if s.analysis == nil {
                claimsCell = "<span class=\"fail\">✗ no results</span>"
            } else {
                claimsCell = "<span class=\"pass\">✓ \(p)</span>"
                if f > 0 { claimsCell += " <span class=\"fail\">✗ \(f)</span>" }
            }
            let runsClass = s.finishedRuns < s.totalRuns ? " class=\"fail\"" : ""
            o += "<tr><td><a href=\"#\(esc(s.id))\">\(esc(s.id))</a></td><td>\(esc(s.source))</td>"
            o += "<td\(runsClass)>\(s.finishedRuns)/\(s.totalRuns)</td><td>\(claimsCell)</td></tr>\n"
        }
        o += "</tbody>\n</table>\n"

        for s in sections { o += section(s) }

        o += """
        <pre id="report-check"></pre>
        <script>
        \(checkScript)
        </script>
        </body>
        </html>

        """
        return o
    }

    /// One `<section class="experiment">`.
    static func section(_ s: ReportSection) -> String {
        let dir = urlComponent(fileComponent(s.id))
        var o = "\n<section id=\"\(esc(s.id))\" class=\"experiment\">\n"
        o += "<h2>\(esc(s.id))</h2>\n"
        o += "<p class=\"source\">\(esc(s.source))</p>\n"
        o += "<p class=\"summary\">\(esc(s.summary))</p>\n"
        o += "<h3>What the seed claims</h3>\n<p class=\"claim-text\">\(esc(s.claimText))</p>\n"
        if s.preset == .quick {
            o += "<p class=\"preset\"><strong>Quick preset:</strong> \(esc(s.quickNote))</p>\n"
        } else {
            o += "<p class=\"preset\"><strong>Preset:</strong> \(esc(s.preset.rawValue))</p>\n"
        }
        if let e = s.error {
            o += "<div class=\"error\" role=\"alert\"><strong>\(s.analysis == nil ? "No results" : "Problem"):</strong> \(esc(e))</div>\n"
        }
        if let a = s.analysis {
            let tableNames = Set(a.tables.map(\.name))
            for f in a.figures {
                let base = dir + "/" + urlComponent(fileComponent(f.name))
                let caption = f.caption.isEmpty ? f.figure.title : f.caption
                o += "<figure><img src=\"\(esc(base)).svg\" alt=\"\(esc(caption.isEmpty ? f.name : caption))\" data-figure=\"1\">"
                o += "<figcaption>\(esc(caption))"
                if tableNames.contains(f.name) { o += " · <a href=\"\(esc(base)).csv\">data</a>" }
                o += "</figcaption></figure>\n"
            }
            if !a.claims.isEmpty {
                o += "<h3>Claims</h3>\n<table class=\"claims\">\n<thead><tr><th>Statement</th><th>Measured</th><th>Expected</th><th>Tolerance</th><th>Verdict</th></tr></thead>\n<tbody>\n"
                for c in a.claims {
                    o += "<tr class=\"\(c.passed ? "pass" : "fail")\"><td>\(esc(c.statement))</td><td class=\"num\">\(esc(format4(c.measured)))</td>"
                    o += "<td>\(esc(c.expected))</td><td>\(esc(c.tolerance))</td>"
                    let verdict = c.passed ? "<span class=\"pass\">PASS</span>" : "<span class=\"fail\">FAIL</span>"
                    o += "<td class=\"verdict\">" + verdict + "</td></tr>\n"
                }
                o += "</tbody>\n</table>\n"
            }
            if !a.notes.isEmpty {
                o += "<h3>Notes</h3>\n<ul class=\"notes\">\n"
                for n in a.notes { o += "<li>\(esc(n))</li>\n" }
                o += "</ul>\n"
            }
            if !a.tables.isEmpty {
                o += "<p class=\"tables\">Data: "
                o += a.tables.map { (t: DataTable) -> String in
                    let href = dir + "/" + urlComponent(fileComponent(t.name)) + ".csv"
                    return "<a href=\"\(esc(href))\">\(esc(fileComponent(t.name))).csv</a>"
                }.joined(separator: ", ")
                o += "</p>\n"
            }
        }
        o += "<details class=\"config\"><summary>Configuration</summary><pre>\(esc(prettyJSON(s.configJSON)))</pre></details>\n"
        o += "<p class=\"runtime\">Runs: \(s.finishedRuns)/\(s.totalRuns) finished · run time \(esc(duration(s.runSeconds)))</p>\n"
        o += "</section>\n"
        return o
    }

    // MARK: - Helpers

    /// Escape text for HTML (text and attribute values).
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A value with 4 significant digits.
    static func format4(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "∞" : "-∞" }
        return String(format: "%.4g", v)
    }

    /// A run time in words: "0.4 s", "12.3 s", "4 min 5 s", "1 h 2 min".
    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "unknown" }
        if s < 60 { return String(format: "%.1f s", s) }
        let t = Int(s.rounded())
        if t < 3600 { return "\(t / 60) min \(t % 60) s" }
        return "\(t / 3600) h \((t % 3600) / 60) min"
    }

    /// A name usable as one path component (no slashes, not empty, not `.` or `..`).
    static func fileComponent(_ s: String) -> String {
        let r = String(s.map { $0 == "/" || $0 == "\\" || $0 == "\0" ? "_" : $0 })
        return r.isEmpty || r == "." || r == ".." ? "_" : r
    }

    /// Percent-encode one path component for a relative URL.
    static func urlComponent(_ s: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;:")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// Re-indent compact JSON text (two spaces) without re-parsing numbers, so values show exactly as stored.
    static func prettyJSON(_ json: String) -> String {
        let chars = Array(json)
        var out = "", depth = 0, inString = false, escaped = false
        func newline() { out += "\n" + String(repeating: "  ", count: max(0, depth)) }
        func nextNonSpace(after i: Int) -> Character? {
            var j = i + 1
            while j < chars.count, chars[j].isWhitespace { j += 1 }
            return j < chars.count ? chars[j] : nil
        }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                i += 1; continue
            }
            switch c {
            case "\"": inString = true; out.append(c)
            case "{", "[":
                out.append(c)
                let n = nextNonSpace(after: i)
                if (c == "{" && n == "}") || (c == "[" && n == "]") {
                    out.append(n!)
                    var j = i + 1
                    while chars[j].isWhitespace { j += 1 }
                    i = j
                } else { depth += 1; newline() }
            case "}", "]": depth -= 1; newline(); out.append(c)
            case ",": out.append(c); newline()
            case ":": out += ": "
            case _ where c.isWhitespace: break
            default: out.append(c)
            }
            i += 1
        }
        return out
    }

    static let css = """
    :root { --pass: #1a7f37; --fail: #cf222e; --muted: #57606a; --line: #d0d7de; }
    * { box-sizing: border-box; }
    body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.5;
           color: #1f2328; max-width: 1100px; margin: 0 auto; padding: 24px; background: #fff; }
    header { border-bottom: 2px solid var(--line); margin-bottom: 16px; }
    h1 { margin: 0 0 4px 0; font-size: 28px; }
    h2 { margin-top: 0; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 20px; }
    h3 { font-size: 16px; margin: 18px 0 6px 0; }
    .meta, .source, .runtime, .preset { color: var(--muted); }
    .totals { font-size: 18px; font-weight: 600; }
    span.pass, td.pass { color: var(--pass); font-weight: 600; }
    span.fail, td.fail { color: var(--fail); font-weight: 600; }
    table { border-collapse: collapse; margin: 8px 0 16px 0; width: 100%; }
    th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
    th { background: #f6f8fa; }
    td.num { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
    tr.fail td.verdict { background: #ffebe9; }
    tr.pass td.verdict { background: #dafbe1; }
    section.experiment { border: 1px solid var(--line); border-radius: 6px; padding: 16px 20px; margin: 24px 0; }
    figure { display: inline-block; margin: 8px 12px 8px 0; vertical-align: top; max-width: 100%; }
    figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
    figcaption { font-size: 13px; color: var(--muted); max-width: 640px; }
    .error { border: 2px solid var(--fail); background: #ffebe9; color: #82071e; padding: 10px 14px; border-radius: 6px;
             margin: 12px 0; font-size: 16px; white-space: pre-wrap; }
    details.config pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 13px; }
    a { color: #0969da; }
    #report-check { display: none; }
    """

    /// Runs on `window.load`: every figure image must have loaded, every experiment section must have text and a
    /// figure or an error box. Writes `ok` or `fail: <problems>` to `body[data-check]` and `#report-check`.
    static let checkScript = """
    window.addEventListener("load", function () {
      var problems = [];
      var imgs = document.querySelectorAll("img[data-figure]");
      for (var i = 0; i < imgs.length; i++) {
        var img = imgs[i];
        if (!(img.complete && img.naturalWidth > 0)) problems.push("figure did not load: " + img.getAttribute("src"));
      }
      var sections = document.querySelectorAll("section.experiment");
      if (sections.length === 0) problems.push("no experiment sections");
      for (var j = 0; j < sections.length; j++) {
        var s = sections[j];
        if (!s.textContent || s.textContent.trim().length === 0) problems.push("empty section: " + s.id);
        if (!s.querySelector("img[data-figure]") && !s.querySelector(".error")) problems.push("section has neither a figure nor an error: " + s.id);
      }
      var result = problems.length === 0 ? "ok" : "fail: " + problems.join("; ");
      document.body.dataset.check = result;
      var pre = document.getElementById("report-check");
      if (pre) pre.textContent = result;
    });
    """
}
