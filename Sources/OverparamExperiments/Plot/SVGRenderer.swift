import Foundation
import Overparam

extension Figure {
    /// Escape text for XML.
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    static func f(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Range of values for the colormap.
    var colorRange: ClosedRange<Double> {
        var vals = [Double]()
        for l in layers {
            switch l {
            case let .heatmap(m): vals += m.storage
            case let .scatter(_, _, v?, _, _, _): vals += v
            case let .polygons(_, v, _) where colorLabel != nil: vals += v
            default: break
            }
        }
        vals = vals.filter { $0.isFinite }
        guard let lo = vals.min(), let hi = vals.max() else { return 0...1 }
        return lo == hi ? (lo - 0.5)...(hi + 0.5) : lo...hi
    }

    /// The standalone SVG document.
    public func svg() -> String {
        let xr = dataRange(x, isX: true), yr = dataRange(y, isX: false)
        var o = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
        <text x="\(Self.f(width / 2))" y="22" text-anchor="middle" font-size="14" font-weight="bold">\(Self.esc(title))</text>

        """
        // Clip to the plot area.
        o += "<defs><clipPath id=\"plot\"><rect x=\"\(Self.f(left))\" y=\"\(Self.f(top))\" width=\"\(Self.f(right - left))\" height=\"\(Self.f(bottom - top))\"/></clipPath></defs>\n"
        // Grid and ticks.
        let heat = layers.contains { if case .heatmap = $0 { return true }; return false }
        for t in Self.ticks(xr, x.scale) {
            let px = Self.map(t, xr, x.scale, left, right)
            if !heat { o += "<line x1=\"\(Self.f(px))\" y1=\"\(Self.f(top))\" x2=\"\(Self.f(px))\" y2=\"\(Self.f(bottom))\" stroke=\"#e5e5e5\"/>\n" }
            o += "<line x1=\"\(Self.f(px))\" y1=\"\(Self.f(bottom))\" x2=\"\(Self.f(px))\" y2=\"\(Self.f(bottom + 5))\" stroke=\"black\"/>\n"
            o += "<text class=\"xtick\" x=\"\(Self.f(px))\" y=\"\(Self.f(bottom + 18))\" text-anchor=\"middle\">\(Self.esc(Self.label(t)))</text>\n"
        }
        for t in Self.ticks(yr, y.scale) {
            let py = Self.map(t, yr, y.scale, bottom, top)
            if !heat { o += "<line x1=\"\(Self.f(left))\" y1=\"\(Self.f(py))\" x2=\"\(Self.f(right))\" y2=\"\(Self.f(py))\" stroke=\"#e5e5e5\"/>\n" }
            o += "<line x1=\"\(Self.f(left - 5))\" y1=\"\(Self.f(py))\" x2=\"\(Self.f(left))\" y2=\"\(Self.f(py))\" stroke=\"black\"/>\n"
            o += "<text class=\"ytick\" x=\"\(Self.f(left - 8))\" y=\"\(Self.f(py + 4))\" text-anchor=\"end\">\(Self.esc(Self.label(t)))</text>\n"
        }
        // Layers.
        o += "<g clip-path=\"url(#plot)\">\n"
        let cr = colorRange
        func cmap(_ v: Double) -> String { Colors.viridis((v - cr.lowerBound) / (cr.upperBound - cr.lowerBound)) }
        var legend = [(String, String, Bool)]()
        for (li, layer) in layers.enumerated() {
            switch layer {
            case let .line(xs, ys, label, color, dashed, markers):
                let c = Colors.categorical(color ?? li)
                let pts = zip(xs, ys).filter { $0.0.isFinite && $0.1.isFinite && (x.scale == .linear || $0.0 > 0) && (y.scale == .linear || $0.1 > 0) }
                let path = pts.map { "\(Self.f(Self.map($0.0, xr, x.scale, left, right))),\(Self.f(Self.map($0.1, yr, y.scale, bottom, top)))" }.joined(separator: " ")
                o += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6,4\"" : "") points=\"\(path)\"/>\n"
                if markers { for p in pts { o += "<circle cx=\"\(Self.f(Self.map(p.0, xr, x.scale, left, right)))\" cy=\"\(Self.f(Self.map(p.1, yr, y.scale, bottom, top)))\" r=\"2.5\" fill=\"\(c)\"/>\n" } }
                if let label { legend.append((label, c, dashed)) }
            case let .errorBars(xs, ys, err, label, color):
                let c = Colors.categorical(color ?? li)
                for i in 0..<min(xs.count, ys.count, err.count) where xs[i].isFinite && ys[i].isFinite {
                    let px = Self.map(xs[i], xr, x.scale, left, right)
                    let lo = y.scale == .log ? max(ys[i] - err[i], ys[i] * 1e-3) : ys[i] - err[i]
                    o += "<line x1=\"\(Self.f(px))\" y1=\"\(Self.f(Self.map(lo, yr, y.scale, bottom, top)))\" x2=\"\(Self.f(px))\" y2=\"\(Self.f(Self.map(ys[i] + err[i], yr, y.scale, bottom, top)))\" stroke=\"\(c)\"/>\n"
                    o += "<circle cx=\"\(Self.f(px))\" cy=\"\(Self.f(Self.map(ys[i], yr, y.scale, bottom, top)))\" r=\"3\" fill=\"\(c)\"/>\n"
                }
                if let label { legend.append((label, c, false)) }
            case let .scatter(xs, ys, values, label, color, radius):
                let c = Colors.categorical(color ?? li)
                for i in 0..<min(xs.count, ys.count) where xs[i].isFinite && ys[i].isFinite {
                    let fill = values.map { cmap($0[i]) } ?? c
                    o += "<circle cx=\"\(Self.f(Self.map(xs[i], xr, x.scale, left, right)))\" cy=\"\(Self.f(Self.map(ys[i], yr, y.scale, bottom, top)))\" r=\"\(Self.f(radius))\" fill=\"\(fill)\" fill-opacity=\"0.8\"/>\n"
                }
                if let label { legend.append((label, c, false)) }
            case let .bars(edges, heights, label, color):
                let c = Colors.categorical(color ?? li)
                for i in 0..<min(heights.count, edges.count - 1) {
                    let x0 = Self.map(edges[i], xr, x.scale, left, right), x1 = Self.map(edges[i + 1], xr, x.scale, left, right)
                    let y0 = Self.map(y.scale == .log ? max(yr.lowerBound, 1e-300) : 0, yr, y.scale, bottom, top)
                    let y1 = Self.map(heights[i], yr, y.scale, bottom, top)
                    o += "<rect x=\"\(Self.f(x0))\" y=\"\(Self.f(min(y0, y1)))\" width=\"\(Self.f(max(0.5, x1 - x0)))\" height=\"\(Self.f(abs(y0 - y1)))\" fill=\"\(c)\" fill-opacity=\"0.55\" stroke=\"\(c)\"/>\n"
                }
                if let label { legend.append((label, c, false)) }
            case let .heatmap(m):
                // Downsample big matrices to at most 120 x 120 cells (block means).
                let br = max(1, (m.rows + 119) / 120), bc = max(1, (m.cols + 119) / 120)
                for i in stride(from: 0, to: m.rows, by: br) { for j in stride(from: 0, to: m.cols, by: bc) {
                    var s = 0.0, k = 0
                    for a in i..<min(m.rows, i + br) { for b in j..<min(m.cols, j + bc) { s += m[a, b]; k += 1 } }
                    let x0 = Self.map(Double(j), xr, .linear, left, right), x1 = Self.map(Double(min(m.cols, j + bc)), xr, .linear, left, right)
                    // Row 0 at the top: y data = rows - i.
                    let y0 = Self.map(Double(m.rows - i), yr, .linear, bottom, top), y1 = Self.map(Double(m.rows - min(m.rows, i + br)), yr, .linear, bottom, top)
                    o += "<rect x=\"\(Self.f(x0))\" y=\"\(Self.f(y0))\" width=\"\(Self.f(x1 - x0 + 0.3))\" height=\"\(Self.f(y1 - y0 + 0.3))\" fill=\"\(cmap(s / Double(k)))\"/>\n"
                } }
            case let .polygons(ps, values, label):
                for (i, poly) in ps.enumerated() where poly.count >= 3 {
                    let fill = colorLabel != nil ? cmap(values[i]) : Colors.categorical(Int(values[i]))
                    let pts = poly.map { "\(Self.f(Self.map($0.0, xr, x.scale, left, right))),\(Self.f(Self.map($0.1, yr, y.scale, bottom, top)))" }.joined(separator: " ")
                    o += "<polygon points=\"\(pts)\" fill=\"\(fill)\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.4\"/>\n"
                }
                if let label { legend.append((label, Colors.categorical(0), false)) }
            case let .segments(x0, y0, x1, y1, color):
                let c = Colors.categorical(color ?? li)
                for i in 0..<min(x0.count, y0.count, x1.count, y1.count) {
                    o += "<line x1=\"\(Self.f(Self.map(x0[i], xr, x.scale, left, right)))\" y1=\"\(Self.f(Self.map(y0[i], yr, y.scale, bottom, top)))\" x2=\"\(Self.f(Self.map(x1[i], xr, x.scale, left, right)))\" y2=\"\(Self.f(Self.map(y1[i], yr, y.scale, bottom, top)))\" stroke=\"\(c)\" stroke-opacity=\"0.6\"/>\n"
                }
            }
        }
        o += "</g>\n"
        // Frame and axis labels.
        o += "<rect x=\"\(Self.f(left))\" y=\"\(Self.f(top))\" width=\"\(Self.f(right - left))\" height=\"\(Self.f(bottom - top))\" fill=\"none\" stroke=\"black\"/>\n"
        o += "<text x=\"\(Self.f((left + right) / 2))\" y=\"\(Self.f(height - 14))\" text-anchor=\"middle\">\(Self.esc(x.label))</text>\n"
        o += "<text x=\"16\" y=\"\(Self.f((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(Self.f((top + bottom) / 2)))\">\(Self.esc(y.label))</text>\n"
        // Legend.
        if !legend.isEmpty {
            let w = 12.0 + 7.0 * Double(legend.map { $0.0.count }.max() ?? 0) + 30
            let lx = right - w - 8, ly = top + 8
            o += "<rect x=\"\(Self.f(lx))\" y=\"\(Self.f(ly))\" width=\"\(Self.f(w))\" height=\"\(Self.f(Double(legend.count) * 16 + 8))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
            for (i, e) in legend.enumerated() {
                let yy = ly + 14 + Double(i) * 16
                o += "<line x1=\"\(Self.f(lx + 6))\" y1=\"\(Self.f(yy - 4))\" x2=\"\(Self.f(lx + 26))\" y2=\"\(Self.f(yy - 4))\" stroke=\"\(e.1)\" stroke-width=\"3\"\(e.2 ? " stroke-dasharray=\"6,4\"" : "")/>\n"
                o += "<text class=\"legend\" x=\"\(Self.f(lx + 32))\" y=\"\(Self.f(yy))\">\(Self.esc(e.0))</text>\n"
            }
        }
        // Colorbar.
        if hasColorbar {
            let bx = width - 80, steps = 40
            for k in 0..<steps {
                let t = Double(k) / Double(steps)
                let yy = bottom - (bottom - top) * Double(k + 1) / Double(steps)
                o += "<rect x=\"\(Self.f(bx))\" y=\"\(Self.f(yy))\" width=\"14\" height=\"\(Self.f((bottom - top) / Double(steps) + 0.5))\" fill=\"\(Colors.viridis(t + 0.5 / Double(steps)))\"/>\n"
            }
            for t in Self.ticks(cr, .linear) {
                let yy = Self.map(t, cr, .linear, bottom, top)
                o += "<text x=\"\(Self.f(bx + 18))\" y=\"\(Self.f(yy + 4))\">\(Self.esc(Self.label(t)))</text>\n"
            }
            if let cl = colorLabel { o += "<text x=\"\(Self.f(bx))\" y=\"\(Self.f(top - 8))\">\(Self.esc(cl))</text>\n" }
        }
        o += "</svg>\n"
        return o
    }

    /// Equal-width histogram of `values` over [lo, hi] with `bins` bins: (edges, counts), optionally normalized to
    /// a density (area 1).
    public static func histogram(_ values: [Double], bins: Int, range: ClosedRange<Double>? = nil, density: Bool = false) -> (edges: [Double], heights: [Double]) {
        let v = values.filter { $0.isFinite }
        let lo = range?.lowerBound ?? (v.min() ?? 0), hi0 = range?.upperBound ?? (v.max() ?? 1)
        let hi = hi0 > lo ? hi0 : lo + 1
        let w = (hi - lo) / Double(bins)
        var counts = [Double](repeating: 0, count: bins)
        for x in v where x >= lo && x <= hi { counts[min(bins - 1, Int((x - lo) / w))] += 1 }
        if density, !v.isEmpty { counts = counts.map { $0 / (Double(v.count) * w) } }
        return ((0...bins).map { lo + Double($0) * w }, counts)
    }
}
