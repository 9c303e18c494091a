import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Overparam
@testable import OverparamExperiments

// MARK: - Helpers

/// Parse `svg` as XML; nil when well-formed, otherwise the parser's error.
private func xmlProblem(_ svg: String) -> String? {
    let parser = XMLParser(data: Data(svg.utf8))
    let ok = parser.parse()
    if ok && parser.parserError == nil { return nil }
    return parser.parserError.map { "\($0)" } ?? "parse() returned false"
}

private func approxEq(_ a: Double, _ b: Double, _ tol: Double = 1e-9) -> Bool { abs(a - b) <= tol * max(1, abs(a), abs(b)) }

private func isPowerOfTen(_ t: Double) -> Bool {
    let e = log10(t)
    return abs(e - e.rounded()) < 1e-9
}

private func sampleValues(_ n: Int, seed: UInt64) -> [Double] {
    var rng = Xoshiro256StarStar(seed: seed)
    return rng.normals(n)
}

// MARK: - Well-formed documents

@Suite("SVG figures")
struct SVGTests {
    /// One figure per layer kind (and the colormap/log variants).
    static func figuresOfEveryKind() -> [(String, Figure)] {
        let xs = [1.0, 2, 3, 4, 5], ys = [0.5, 1.5, 1.0, 3.0, 2.5]
        var out = [(String, Figure)]()
        out.append(("empty", Figure(title: "empty", x: Axis("x"), y: Axis("y"))))
        out.append(("line", Figure(title: "line", x: Axis("x"), y: Axis("y"), layers: [
            .line(x: xs, y: ys, label: "solid"),
            .line(x: xs, y: ys.map { $0 + 1 }, label: "dashed", color: 3, dashed: true, markers: false),
        ])))
        out.append(("line-loglog", Figure(title: "line log", x: Axis("n", scale: .log), y: Axis("error", scale: .log), layers: [
            .line(x: [10, 100, 1000, 10000], y: [1, 0.3, 0.1, 0.03], label: "rate"),
            .line(x: [10, 100, -1, 0], y: [0, 1, 2, .nan], label: "dropped points"),
        ])))
        out.append(("errorBars", Figure(title: "error bars", x: Axis("x"), y: Axis("y"), layers: [
            .errorBars(x: xs, y: ys, err: [0.1, 0.2, 0.1, 0.3, 0.2], label: "mean +- SE"),
        ])))
        out.append(("errorBars-log", Figure(title: "error bars log", x: Axis("x", scale: .log), y: Axis("y", scale: .log), layers: [
            .errorBars(x: xs, y: ys, err: [0.6, 0.2, 0.1, 0.3, 0.2], label: nil),
        ])))
        out.append(("scatter", Figure(title: "scatter", x: Axis("x"), y: Axis("y"), layers: [
            .scatter(x: xs, y: ys, values: nil, label: "points"),
        ])))
        var colored = Figure(title: "scatter colored", x: Axis("x"), y: Axis("y"), layers: [
            .scatter(x: xs, y: ys, values: [0, 1, 2, 3, 4], label: nil, radius: 5),
        ])
        colored.colorLabel = "value"
        out.append(("scatter-values", colored))
        let h = Figure.histogram(sampleValues(500, seed: 1), bins: 20, density: true)
        out.append(("bars", Figure(title: "histogram", x: Axis("x"), y: Axis("density"), layers: [
            .bars(edges: h.edges, heights: h.heights, label: "density"),
        ])))
        out.append(("bars-log", Figure(title: "histogram log", x: Axis("x"), y: Axis("count", scale: .log), layers: [
            .bars(edges: [0, 1, 2, 3], heights: [1, 10, 100], label: nil),
        ])))
        let m = Matrix(rows: 4, cols: 3, storage: (0..<12).map { Double($0) })
        out.append(("heatmap", Figure(title: "heatmap", x: Axis("column"), y: Axis("row"), layers: [.heatmap(m)])))
        let big = Matrix(rows: 250, cols: 130, storage: (0..<(250 * 130)).map { sin(Double($0)) })
        out.append(("heatmap-big", Figure(title: "heatmap downsampled", x: Axis("j"), y: Axis("i"), layers: [.heatmap(big)])))
        let squares: [[(Double, Double)]] = [[(0, 0), (1, 0), (1, 1), (0, 1)], [(1, 0), (2, 0), (2, 1)], [(0, 1), (1, 1), (0.5, 2)]]
        out.append(("polygons-palette", Figure(title: "regions", x: Axis("x1"), y: Axis("x2"), layers: [
            .polygons(squares, values: [0, 1, 2], label: "regions"),
        ])))
        var cmapPolys = Figure(title: "regions colored", x: Axis("x1"), y: Axis("x2"), layers: [
            .polygons(squares, values: [0.1, 0.7, 0.3], label: nil),
        ])
        cmapPolys.colorLabel = "slope"
        out.append(("polygons-colormap", cmapPolys))
        out.append(("segments", Figure(title: "trajectories", x: Axis("x"), y: Axis("y"), layers: [
            .segments(x0: [0, 1, 2], y0: [0, 1, 0], x1: [1, 2, 3], y1: [1, 0, 1]),
        ])))
        out.append(("all-together", Figure(title: "mixed", x: Axis("x"), y: Axis("y"), layers: [
            .bars(edges: [0, 1, 2], heights: [1, 2], label: "bars"),
            .line(x: [0, 1, 2], y: [1, 2, 1], label: "line"),
            .errorBars(x: [0.5, 1.5], y: [1, 2], err: [0.1, 0.1], label: "err"),
            .scatter(x: [0.2, 1.8], y: [0.5, 1.5], values: nil, label: "pts"),
            .segments(x0: [0], y0: [0], x1: [2], y1: [2]),
        ])))
        return out
    }

    @Test("every layer kind renders a well-formed SVG document")
    func wellFormed() {
        for (name, fig) in Self.figuresOfEveryKind() {
            let svg = fig.svg()
            #expect(xmlProblem(svg) == nil, "\(name): \(xmlProblem(svg) ?? "")")
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), "\(name)")
            #expect(svg.hasSuffix("</svg>\n"), "\(name)")
            #expect(!svg.contains("nan") && !svg.contains("inf"), "\(name): non-finite coordinate in the SVG")
        }
    }

    @Test("value-colored layers draw a colorbar, plain ones do not")
    func colorbar() {
        let figs = Dictionary(uniqueKeysWithValues: Self.figuresOfEveryKind())
        #expect(figs["heatmap"]!.hasColorbar)
        #expect(figs["scatter-values"]!.hasColorbar)
        #expect(figs["polygons-colormap"]!.hasColorbar)
        #expect(!figs["polygons-palette"]!.hasColorbar)
        #expect(!figs["line"]!.hasColorbar)
        #expect(!figs["scatter"]!.hasColorbar)
    }

    // MARK: - Axis mapping

    @Test("linear axes send the range ends to the plot edges and the midpoint to the middle")
    func linearMapping() {
        let f = Figure(title: "t", x: Axis("x", range: -2...6), y: Axis("y", range: 10...30))
        #expect(approxEq(f.pixelX(-2), f.left))
        #expect(approxEq(f.pixelX(6), f.right))
        #expect(approxEq(f.pixelX(2), (f.left + f.right) / 2))
        #expect(approxEq(f.pixelY(10), f.bottom))
        #expect(approxEq(f.pixelY(30), f.top))
        #expect(approxEq(f.pixelY(20), (f.top + f.bottom) / 2))
        #expect(f.pixelY(11) > f.pixelY(12), "SVG y pixels decrease as data y increases")
        #expect(f.pixelX(1) < f.pixelX(2))
        #expect(approxEq(Figure.map(3, 1...5, .linear, 0, 100), 50))
        #expect(approxEq(Figure.map(1, 1...5, .linear, 100, 0), 100))
    }

    @Test("log axes send the range ends to the plot edges and the geometric midpoint to the middle")
    func logMapping() {
        let f = Figure(title: "t", x: Axis("n", scale: .log, range: 10...1000), y: Axis("err", scale: .log, range: 1e-4...1))
        #expect(approxEq(f.pixelX(10), f.left))
        #expect(approxEq(f.pixelX(1000), f.right))
        #expect(approxEq(f.pixelX(100), (f.left + f.right) / 2))
        #expect(approxEq(f.pixelY(1e-4), f.bottom))
        #expect(approxEq(f.pixelY(1), f.top))
        #expect(approxEq(f.pixelY(1e-2), (f.top + f.bottom) / 2))
        #expect(f.pixelY(1e-3) > f.pixelY(1e-2), "SVG y pixels decrease as data y increases")
        #expect(approxEq(Figure.map(2, 1...4, .log, 0, 100), 50))
        #expect(approxEq(Figure.map(sqrt(10), 1...10, .log, 0, 100), 50))
    }

    @Test("fitted ranges: the data range ends map to the plot edges, data stays inside")
    func fittedRange() {
        let f = Figure(title: "t", x: Axis("x"), y: Axis("y", scale: .log), layers: [
            .line(x: [0, 1, 2, 3], y: [0.01, 0.1, 1, 10], label: nil),
        ])
        let xr = f.dataRange(f.x, isX: true), yr = f.dataRange(f.y, isX: false)
        #expect(xr.lowerBound < 0 && xr.upperBound > 3, "linear ranges are padded")
        #expect(approxEq(yr.lowerBound, 0.01) && approxEq(yr.upperBound, 10), "log ranges are the data range")
        #expect(approxEq(f.pixelX(xr.lowerBound), f.left) && approxEq(f.pixelX(xr.upperBound), f.right))
        #expect(approxEq(f.pixelY(yr.lowerBound), f.bottom) && approxEq(f.pixelY(yr.upperBound), f.top))
        for x in [0.0, 1, 2, 3] { #expect(f.pixelX(x) > f.left && f.pixelX(x) < f.right) }
    }

    // MARK: - Ticks

    @Test("log ticks are powers of ten inside the range", arguments: [
        (1e-3, 1e4), (0.5, 2000.0), (1.0, 1000.0), (1e-10, 1e10), (3e-7, 2e-2),
    ])
    func logTicks(lo: Double, hi: Double) {
        let ticks = Figure.ticks(lo...hi, .log)
        #expect(ticks.count >= 3 && ticks.count <= 8, "\(ticks)")
        #expect(ticks == ticks.sorted())
        for t in ticks {
            #expect(t >= lo && t <= hi, "tick \(t) outside \(lo)...\(hi)")
            #expect(isPowerOfTen(t), "tick \(t) is not a power of ten")
        }
    }

    @Test("narrow log ranges use 1-2-5 ticks inside the range")
    func narrowLogTicks() {
        let ticks = Figure.ticks(2...50, .log)
        #expect(ticks.count >= 3, "\(ticks)")
        for t in ticks {
            #expect(t >= 2 && t <= 50)
            let mantissa = t / pow(10, floor(log10(t)))
            #expect([1.0, 2, 5].contains { approxEq($0, mantissa) }, "tick \(t)")
        }
    }

    @Test("linear ticks are 1-2-5 multiples covering the range", arguments: [
        (0.0, 1.0), (-3.7, 12.2), (0.013, 0.0171), (1e5, 3e5), (-1.0, 1.0), (-250.0, -20.0), (7.0, 7.5),
    ])
    func linearTicks(lo: Double, hi: Double) {
        let ticks = Figure.ticks(lo...hi, .linear)
        #expect(ticks.count >= 3 && ticks.count <= 11, "\(ticks)")
        guard ticks.count >= 2 else { return }
        let step = ticks[1] - ticks[0]
        let mantissa = step / pow(10, floor(log10(step)))
        #expect([1.0, 2, 5, 10].contains { approxEq($0, mantissa, 1e-6) }, "step \(step) is not 1, 2 or 5 times a power of ten")
        for (i, t) in ticks.enumerated() {
            #expect(t >= lo - 1e-9 * step && t <= hi + 1e-9 * step, "tick \(t) outside \(lo)...\(hi)")
            #expect(abs(t / step - (t / step).rounded()) < 1e-6, "tick \(t) is not a multiple of \(step)")
            if i > 0 { #expect(abs((t - ticks[i - 1]) - step) < 1e-6 * step, "uneven tick spacing at \(t)") }
        }
        // Covering: no gap of a full step at either end.
        #expect(ticks.first! - lo < step + 1e-9 * step)
        #expect(hi - ticks.last! < step + 1e-9 * step)
    }

    @Test("tick labels are short and readable")
    func tickLabels() {
        #expect(Figure.label(0) == "0")
        #expect(Figure.label(0.5) == "0.5")
        #expect(Figure.label(2) == "2")
        #expect(Figure.label(1e5) == "1e5")
        #expect(Figure.label(2e-4) == "2e-4")
    }

    // MARK: - Histogram

    @Test("histogram counts sum to n and the density integrates to 1")
    func histogram() {
        let values = sampleValues(1000, seed: 7)
        let counts = Figure.histogram(values, bins: 25)
        #expect(counts.edges.count == 26 && counts.heights.count == 25)
        #expect(counts.heights.reduce(0, +) == 1000)
        #expect(approxEq(counts.edges.first!, values.min()!) && approxEq(counts.edges.last!, values.max()!))

        let dens = Figure.histogram(values, bins: 25, density: true)
        let area = zip(dens.heights, zip(dens.edges, dens.edges.dropFirst())).map { $0.0 * ($0.1.1 - $0.1.0) }.reduce(0, +)
        #expect(abs(area - 1) < 1e-9, "density integrates to \(area)")

        // Values outside a fixed range are not counted; the maximum lands in the last bin.
        let fixed = Figure.histogram([-5, 0, 0.5, 1, 1, 7], bins: 2, range: 0...1)
        #expect(fixed.heights == [1, 3])
        #expect(fixed.edges == [0, 0.5, 1])
        // Non-finite values are ignored.
        #expect(Figure.histogram([1, 2, .nan, .infinity, 3], bins: 3).heights.reduce(0, +) == 3)
    }

    // MARK: - Escaping

    @Test("titles, axis labels, legend entries and color labels are XML-escaped")
    func escaping() {
        var f = Figure(title: "a < b & c", x: Axis("x <i>"), y: Axis("y & \"z\""), layers: [
            .line(x: [1, 2], y: [1, 2], label: "<legend> & more"),
            .scatter(x: [1, 2], y: [2, 1], values: [0, 1], label: nil),
        ])
        f.colorLabel = "|w| < 1"
        let svg = f.svg()
        #expect(xmlProblem(svg) == nil, "\(xmlProblem(svg) ?? "")")
        #expect(svg.contains("a &lt; b &amp; c"))
        #expect(svg.contains("x &lt;i&gt;"))
        #expect(svg.contains("y &amp; &quot;z&quot;"))
        #expect(svg.contains("&lt;legend&gt; &amp; more"))
        #expect(svg.contains("|w| &lt; 1"))
        #expect(!svg.contains("a < b"))
        #expect(!svg.contains("<legend>"))
        #expect(!svg.contains("<i>"))
    }
}
