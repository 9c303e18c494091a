import Foundation

/// The spectral centroid of a function sampled on a uniform grid x_t = x_0 + t dx, t = 0...n-1 (used for seed 002
/// fig. 3's claim that higher layers carry higher frequencies):
///
///     F_k = sum_t w_t (y_t - ybar) e^{-2 pi i k t / n}      (direct DFT of the mean-removed samples, taper w),
///     P_k = |F_k|^2,  k = 1...floor(n/2),
///     centroid = sum_k omega_k P_k / sum_k P_k,   omega_k = 2 pi k / (n dx)   (angular frequency, rad per unit x),
///
/// so a pure cos(omega x) with omega on the DFT grid has centroid omega (cos 4x gives 4). The direct DFT costs
/// O(n^2) (the trigonometric table is built once per length). `Taper.rectangular` is the plain mean-removed DFT;
/// `Taper.hann` multiplies by w_t = sin^2(pi t / (n - 1)), which suppresses the 1/k leakage tail that a
/// non-periodic function (a ramp, a step) leaves on a finite window. A constant function has no spectrum: its
/// centroid is 0.
public struct SpectralCentroid: Sendable {
    public enum Taper: String, Sendable, Codable, CaseIterable { case rectangular, hann }

    /// n.
    public let length: Int
    /// dx.
    public let spacing: Double
    public let taper: Taper
    let cosTable: [Double], sinTable: [Double], window: [Double]

    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` unless n >= 4 and dx > 0 is finite.
    public init(length n: Int, spacing dx: Double, taper: Taper = .rectangular) throws {
        guard n >= 4 else { throw OverparamError.invalidArgument(name: "length", problem: "spectral centroid needs n >= 4 samples (got \(n))") }
        guard dx > 0, dx.isFinite else { throw OverparamError.invalidArgument(name: "spacing", problem: "grid spacing \(dx) must be positive and finite") }
        length = n; spacing = dx; self.taper = taper
        cosTable = (0..<n).map { Foundation.cos(2 * Double.pi * Double($0) / Double(n)) }
        sinTable = (0..<n).map { Foundation.sin(2 * Double.pi * Double($0) / Double(n)) }
        window = (0..<n).map { t in taper == .rectangular ? 1 : Foundation.pow(Foundation.sin(Double.pi * Double(t) / Double(n - 1)), 2) }
    }

    /// For a grid made by ``NeuronFeatures/uniformGrid(from:to:count:)``.
    public init(grid: [Double], taper: Taper = .rectangular) throws {
        guard grid.count >= 4 else { throw OverparamError.invalidArgument(name: "length", problem: "spectral centroid needs n >= 4 samples (got \(grid.count))") }
        try self.init(length: grid.count, spacing: (grid[grid.count - 1] - grid[0]) / Double(grid.count - 1), taper: taper)
    }

    /// P_k for k = 1...floor(n/2).
    public func powerSpectrum(_ y: [Double]) throws -> [Double] {
        guard y.count == length else { throw OverparamError.shapeMismatch("spectrum of \(y.count) samples, the transform has length \(length)") }
        guard y.allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("samples of the spectral centroid") }
        let mean = y.reduce(0, +) / Double(length)
        let z = (0..<length).map { (y[$0] - mean) * window[$0] }
        var p = [Double]()
        for k in 1...(length / 2) {
            var re = 0.0, im = 0.0, idx = 0
            for t in 0..<length {
                re += z[t] * cosTable[idx]; im -= z[t] * sinTable[idx]
                idx += k; if idx >= length { idx -= length }
            }
            p.append(re * re + im * im)
        }
        return p
    }

    /// omega_k = 2 pi k / (n dx), k = 1...floor(n/2).
    public var frequencies: [Double] { (1...(length / 2)).map { 2 * Double.pi * Double($0) / (Double(length) * spacing) } }

    /// The centroid sum_k omega_k P_k / sum_k P_k (0 for a constant function).
    public func callAsFunction(_ y: [Double]) throws -> Double {
        let p = try powerSpectrum(y), w = frequencies
        let total = p.reduce(0, +)
        guard total > 0 else { return 0 }
        return zip(w, p).reduce(0) { $0 + $1.0 * $1.1 } / total
    }
}
