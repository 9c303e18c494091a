import Foundation
import Overparam

/// Scale of a plot axis.
public enum AxisScale: Sendable { case linear, log }

/// One axis: label, scale, and an optional fixed range (otherwise fitted to the data).
public struct Axis: Sendable {
    public var label: String
    public var scale: AxisScale
    public var range: ClosedRange<Double>?
    public init(_ label: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.label = label; self.scale = scale; self.range = range
    }
}

/// What a figure draws.
public enum PlotLayer: Sendable {
    /// A polyline through (x, y) points, optionally dashed, with markers.
    case line(x: [Double], y: [Double], label: String?, color: Int? = nil, dashed: Bool = false, markers: Bool = true)
    /// Points with optional error bars (y +- err).
    case errorBars(x: [Double], y: [Double], err: [Double], label: String?, color: Int? = nil)
    /// Points, colored by `values` through the colormap when given (then a colorbar is drawn).
    case scatter(x: [Double], y: [Double], values: [Double]?, label: String?, color: Int? = nil, radius: Double = 3)
    /// Histogram bars: bin edges (count + 1) and heights.
    case bars(edges: [Double], heights: [Double], label: String?, color: Int? = nil)
    /// A matrix as colored cells; row 0 at the top. Axes run over column and row indices.
    case heatmap(Matrix)
    /// Filled polygons (e.g. linear regions), colored by `values` through the colormap or by palette index.
    case polygons([[(Double, Double)]], values: [Double], label: String?)
    /// Arrows from (x0, y0) to (x1, y1) (e.g. particle trajectories).
    case segments(x0: [Double], y0: [Double], x1: [Double], y1: [Double], color: Int? = nil)
}

/// A 2-D figure rendered as a standalone SVG document: title, axes with readable ticks (linear or log),
/// legend, and an optional colorbar. Small and dependency-free; see ``svg()``.
public struct Figure: Sendable {
    public var title: String
    public var x: Axis
    public var y: Axis
    public var layers: [PlotLayer]
    public var width: Double = 640
    public var height: Double = 440
    /// Colorbar label for value-colored layers.
    public var colorLabel: String? = nil

    public init(title: String, x: Axis, y: Axis, layers: [PlotLayer] = []) {
        self.title = title; self.x = x; self.y = y; self.layers = layers
    }

    // Plot area in pixels.
    var left: Double { 72 }
    var right: Double { width - (hasColorbar ? 96 : 24) }
    var top: Double { 40 }
    var bottom: Double { height - 56 }
    var hasColorbar: Bool {
        layers.contains { if case .heatmap = $0 { return true }; if case let .scatter(_, _, v, _, _, _) = $0 { return v != nil }
            if case .polygons = $0 { return colorLabel != nil }; return false }
    }

    /// Data range of the x or y axis (after log filtering), padded for linear axes.
    func dataRange(_ axis: Axis, isX: Bool) -> ClosedRange<Double> {
        if let r = axis.range { return r }
        var vals = [Double]()
        for layer in layers {
            switch layer {
            case let .line(xs, ys, _, _, _, _): vals += isX ? xs : ys
            case let .errorBars(xs, ys, err, _, _): vals += isX ? xs : zip(ys, err).flatMap { [$0 - $1, $0 + $1] }
            case let .scatter(xs, ys, _, _, _, _): vals += isX ? xs : ys
            case let .bars(edges, heights, _, _): vals += isX ? edges : heights + [0]
            case let .heatmap(m): vals += isX ? [0, Double(m.cols)] : [0, Double(m.rows)]
            case let .polygons(ps, _, _): vals += ps.flatMap { $0.map { isX ? $0.0 : $0.1 } }
            case let .segments(x0, y0, x1, y1, _): vals += isX ? x0 + x1 : y0 + y1
            }
        }
        vals = vals.filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
        guard var lo = vals.min(), var hi = vals.max() else { return axis.scale == .log ? 1...10 : 0...1 }
        if axis.scale == .log {
            if lo == hi { lo /= 2; hi *= 2 }
            return lo...hi
        }
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let pad = 0.04 * (hi - lo)
        let heat = layers.contains { if case .heatmap = $0 { return true }; return false }
        return heat ? lo...hi : (lo - pad)...(hi + pad)
    }

    /// Map a data value to a pixel coordinate along an axis.
    static func map(_ v: Double, _ r: ClosedRange<Double>, _ scale: AxisScale, _ p0: Double, _ p1: Double) -> Double {
        switch scale {
        case .linear: return p0 + (v - r.lowerBound) / (r.upperBound - r.lowerBound) * (p1 - p0)
        case .log:
            let lv = Foundation.log10(max(v, 1e-300)), a = Foundation.log10(r.lowerBound), b = Foundation.log10(r.upperBound)
            return p0 + (lv - a) / (b - a) * (p1 - p0)
        }
    }

    /// Pixel x of a data x.
    public func pixelX(_ v: Double) -> Double { Self.map(v, dataRange(x, isX: true), x.scale, left, right) }
    /// Pixel y of a data y (SVG y grows downward).
    public func pixelY(_ v: Double) -> Double { Self.map(v, dataRange(y, isX: false), y.scale, bottom, top) }

    /// Readable tick positions: 1-2-5 steps for linear axes, powers of ten (with 2 and 5 when few) for log axes.
    public static func ticks(_ r: ClosedRange<Double>, _ scale: AxisScale) -> [Double] {
        switch scale {
        case .linear:
            let span = r.upperBound - r.lowerBound
            guard span > 0, span.isFinite else { return [r.lowerBound] }
            let raw = span / 5, mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
            let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
            var t = Foundation.ceil(r.lowerBound / step) * step, out = [Double]()
            while t <= r.upperBound + 1e-9 * step { out.append(abs(t) < 1e-12 * step ? 0 : t); t += step }
            return out
        case .log:
            let a = Int(Foundation.floor(Foundation.log10(r.lowerBound))), b = Int(Foundation.ceil(Foundation.log10(r.upperBound)))
            var out = (a...max(a, b)).map { Foundation.pow(10, Double($0)) }.filter { r.contains($0) }
            if out.count < 3 {
                out = (a...max(a, b)).flatMap { e in [1.0, 2, 5].map { $0 * Foundation.pow(10, Double(e)) } }.filter { r.contains($0) }
            }
            if out.count > 8 { let k = (out.count + 7) / 8; out = out.enumerated().filter { $0.offset % k == 0 }.map { $0.element } }
            return out
        }
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 {
            let e = Int(Foundation.floor(Foundation.log10(a)))
            let m = v / Foundation.pow(10, Double(e))
            return abs(m - m.rounded()) < 1e-9 ? (m.rounded() == 1 ? "1e\(e)" : "\(Int(m.rounded()))e\(e)") : String(format: "%.1fe%d", m, e)
        }
        var s = String(format: "%.4g", v)
        if s.contains(".") && !s.contains("e") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}
