import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Overparam
@testable import OverparamExperiments


private func readText(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}

/// Two experiments: `demo.alpha` analyzed (a figure and a table named `curve`, two claims of which one failed,
/// a note), `demo.beta` without analysis (missing runs of a shard).
private func sampleSections() -> [ReportSection] {
    let fig = Figure(title: "Loss & error < 1", x: Axis("width", scale: .log), y: Axis("loss"), layers: [
        .line(x: [16, 64, 256], y: [0.5, 0.25, 0.125], label: "mean"),
    ])
    let table = DataTable("curve", header: ["width", "loss"], rows: [["16", "0.5"], ["64", "0.25"], ["256", "0.125"]])
    let claims = [
        Claim("slope, fitted on a log scale", measured: -0.4987, expected: "-0.5 +- 0.05", tolerance: "3 SE", passed: true),
        Claim("rate < 1 & \"fast\"", measured: 1.25, expected: "< 1", tolerance: "theory", passed: false),
    ]
    let analysis = Analysis(claims: claims, figures: [NamedFigure("curve", "Loss <b>vs</b> width", fig)], tables: [table],
                            notes: ["widths & seeds are small <quick>"])
    let alpha = ReportSection(id: "demo.alpha", source: "Seed sec. 2, Fig. 1", summary: "a < b & c",
                              claimText: "The loss falls like 1/width.", quickNote: "3 widths instead of 8",
                              preset: .quick, configJSON: #"{"seeds":3,"widths":[16,64,256]}"#,
                              finishedRuns: 3, totalRuns: 3, runSeconds: 75, analysis: analysis, error: nil)
    let beta = ReportSection(id: "demo.beta", source: "Seed eq. (7)", summary: "Second experiment",
                             claimText: "Something else.", quickNote: "fewer seeds", preset: .full,
                             configJSON: #"{"n":10}"#, finishedRuns: 5, totalRuns: 8, runSeconds: 3.25, analysis: nil,
                             error: "3 of 8 runs missing (shard); merge then run overparam report")
    return [alpha, beta]
}

@Suite("HTML report")
struct ReportTests {
    @Test("write creates index.html, claims.csv, figures and tables")
    func writesFiles() throws {
        let tmp = try makeTempDir("report")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let dir = tmp + "/report"   // created by write
        try HTMLReport.write(sampleSections(), to: dir, title: "Test report")

        let fm = FileManager.default
        for f in ["index.html", "claims.csv", "demo.alpha/curve.svg", "demo.alpha/curve.csv"] {
            #expect(fm.fileExists(atPath: dir + "/" + f), "missing \(f)")
        }
        #expect(!fm.fileExists(atPath: dir + "/demo.beta"), "no folder for an experiment without analysis")

        // The figure is a well-formed SVG, the table is the DataTable's CSV.
        let svg = try readText(dir + "/demo.alpha/curve.svg")
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "curve.svg: \(String(describing: parser.parserError))")
        #expect(try readText(dir + "/demo.alpha/curve.csv") == "width,loss\n16,0.5\n64,0.25\n256,0.125\n")

        // No temporary files left behind by the atomic writes.
        let leftovers = try fm.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")

        // Writing again replaces the files.
        try HTMLReport.write(sampleSections(), to: dir, title: "Test report")
        #expect(try readText(dir + "/claims.csv") == HTMLReport.claimsCSV(sampleSections()))
    }

    @Test("claims.csv has the exact header and rows, quoting per RFC 4180")
    func claimsCSV() throws {
        let tmp = try makeTempDir("report")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try HTMLReport.write(sampleSections(), to: tmp)
        let csv = try readText(tmp + "/claims.csv")
        let expected = [
            "experiment,claim,measured,expected,passed",
            #"demo.alpha,"slope, fitted on a log scale",-0.4987,-0.5 +- 0.05,true"#,
            #"demo.alpha,"rate < 1 & ""fast""",1.25,< 1,false"#,
        ].joined(separator: "\n") + "\n"
        #expect(csv == expected)
        #expect(HTMLReport.claimsCSV([]) == "experiment,claim,measured,expected,passed\n")
        #expect(HTMLReport.csvField("plain") == "plain")
        #expect(HTMLReport.csvField("two\nlines") == "\"two\nlines\"")
    }

    @Test("index.html has both sections, the totals, the figure links and escaped text")
    func indexHTML() throws {
        let tmp = try makeTempDir("report")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try HTMLReport.write(sampleSections(), to: tmp, title: "Report <draft> & co")
        let html = try readText(tmp + "/index.html")

        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
        #expect(html.contains("<title>Report &lt;draft&gt; &amp; co</title>"))
        #expect(html.contains("1 claims passed, 1 failed"))
        #expect(html.contains("1 experiment without results"))

        // Sections and summary links.
        #expect(html.contains("<section id=\"demo.alpha\" class=\"experiment\">"))
        #expect(html.contains("<section id=\"demo.beta\" class=\"experiment\">"))
        #expect(html.contains("href=\"#demo.alpha\""))
        #expect(html.contains("href=\"#demo.beta\""))
        #expect(html.contains("5/8"))

        // Figures are files next to the page; the data link appears because a table of the same name exists.
        #expect(html.contains("<img src=\"demo.alpha/curve.svg\""))
        #expect(html.contains("data-figure=\"1\""))
        #expect(html.contains("<a href=\"demo.alpha/curve.csv\">data</a>"))
        #expect(html.contains("Loss &lt;b&gt;vs&lt;/b&gt; width"))

        // Claims table: 4 significant digits, verdicts.
        #expect(html.contains("-0.4987"))
        #expect(html.contains("PASS"))
        #expect(html.contains("FAIL"))
        #expect(html.contains("rate &lt; 1 &amp; &quot;fast&quot;"))

        // Presets, notes, configuration, error box, run time.
        #expect(html.contains("Quick preset:"))
        #expect(html.contains("3 widths instead of 8"))
        #expect(html.contains("widths &amp; seeds are small &lt;quick&gt;"))
        #expect(html.contains("<details"))
        #expect(html.contains("&quot;seeds&quot;: 3"))
        #expect(html.contains("class=\"error\""))
        #expect(html.contains("3 of 8 runs missing (shard); merge then run overparam report"))
        #expect(html.contains("1 min 15 s"))

        // Escaped text: no raw markup from the inputs.
        #expect(html.contains("a &lt; b &amp; c"))
        #expect(!html.contains("a < b & c"))
        #expect(!html.contains("<quick>"))
        #expect(!html.contains("<b>vs</b>"))

        // Self-contained: no external resources; the browser check hooks are there.
        #expect(!html.contains("<link"))
        #expect(!html.contains("src=\"http"))
        #expect(!html.contains("@import"))
        #expect(html.contains("<pre id=\"report-check\"></pre>"))
        #expect(html.contains("document.body.dataset.check"))
        #expect(html.contains("window.addEventListener(\"load\""))
    }

    @Test("a full-preset section says so; the configuration is pretty-printed exactly")
    func presetAndConfig() {
        let html = HTMLReport.html(sampleSections(), title: "t")
        #expect(html.contains("<strong>Preset:</strong> full"))
        #expect(HTMLReport.prettyJSON(#"{"a":[1,2.5],"b":{},"c":"x,y:{z}","d":[]}"#) ==
            "{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"b\": {},\n  \"c\": \"x,y:{z}\",\n  \"d\": []\n}")
        #expect(HTMLReport.prettyJSON(#"{"s":"quote \" and \\"}"#) == "{\n  \"s\": \"quote \\\" and \\\\\"\n}")
    }

    @Test("number and duration formatting")
    func formatting() {
        #expect(HTMLReport.format4(-0.4987) == "-0.4987")
        #expect(HTMLReport.format4(0.123456) == "0.1235")
        #expect(HTMLReport.format4(1234567) == "1.235e+06")
        #expect(HTMLReport.format4(.nan) == "NaN")
        #expect(HTMLReport.duration(3.25) == "3.2 s" || HTMLReport.duration(3.25) == "3.3 s")
        #expect(HTMLReport.duration(75) == "1 min 15 s")
        #expect(HTMLReport.duration(3723) == "1 h 2 min")
    }

    @Test("writing into a regular file fails with a message naming the path")
    func writeIntoFile() throws {
        let tmp = try makeTempDir("report")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let file = tmp + "/not-a-folder"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        do {
            try HTMLReport.write(sampleSections(), to: file)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains(file))
        }
    }
}
