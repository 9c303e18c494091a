import Foundation

/// Colors for figures: a categorical palette (Tableau 10) and the viridis colormap.
public enum Colors {
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                 "#bcbd22", "#17becf"]

    /// Palette color `i` (cycled).
    public static func categorical(_ i: Int) -> String { palette[((i % palette.count) + palette.count) % palette.count] }

    static let viridis: [(Double, Double, Double)] = [
        (0.267, 0.005, 0.329), (0.283, 0.141, 0.458), (0.254, 0.265, 0.530), (0.207, 0.372, 0.553), (0.164, 0.471, 0.558),
        (0.128, 0.567, 0.551), (0.135, 0.659, 0.518), (0.267, 0.749, 0.441), (0.478, 0.821, 0.318), (0.741, 0.873, 0.150),
        (0.993, 0.906, 0.144)]

    /// viridis at t in [0, 1] as #rrggbb.
    public static func viridis(_ t: Double) -> String {
        let u = min(1, max(0, t.isFinite ? t : 0)) * Double(viridis.count - 1)
        let i = min(viridis.count - 2, Int(u)), f = u - Double(i)
        let (a, b) = (viridis[i], viridis[i + 1])
        func hex(_ x: Double) -> String { String(format: "%02x", Int((min(1, max(0, x)) * 255).rounded())) }
        return "#" + hex(a.0 + f * (b.0 - a.0)) + hex(a.1 + f * (b.1 - a.1)) + hex(a.2 + f * (b.2 - a.2))
    }
}
