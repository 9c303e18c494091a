import Foundation
import Overparam

/// `kernels.gallery`: NNGP and NTK of every activation on points of the circle: heatmaps and 1-D profiles
/// k(angle). Checks what must hold exactly: kernels are positive semidefinite Grams, they depend on the angle only
/// (rotation invariance on the circle), and the quadrature path equals the closed forms where both exist.
public struct KernelGalleryExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var activations: [String]
        public var points: Int
        public var depth: Int
        public var weightVariance: Double
        public var biasVariance: Double
    }

    public init() {}
    public var id: String { "kernels.gallery" }
    public var source: String { "seed 000 sec. IV (k^u, k^theta), seed 004 sec. 3 (kernel recursions); neural-tangents' stax kernels" }
    public var summary: String { "NNGP/NTK heatmaps and 1-D profiles on the circle for each activation" }
    public var claimText: String {
        "Infinite-width kernels are positive semidefinite, depend only on the angle between inputs of equal norm, and the 2-D quadrature of the Gaussian expectations reproduces the arc-cosine / arcsine closed forms."
    }
    public var estimates: (quick: String, full: String) { ("5 s", "20 s") }
    public var quickNote: String { "32 points on the circle (full: 96)" }

    public func configuration(_ preset: Preset) -> Config {
        Config(activations: Activation.all.map { $0.description }, points: preset == .quick ? 32 : 96, depth: 3,
               weightVariance: 2, biasVariance: 0.1)
    }

    public func runs(_ c: Config) -> [RunKey] { c.activations.map { RunKey("activation=\($0)") } }

    static func circle(_ n: Int) -> Matrix {
        // Radius sqrt(2) in d = 2, so that |x|^2 / d = 1.
        let r = Double(2).squareRoot()
        return Matrix((0..<n).map { k in let t = 2 * Double.pi * Double(k) / Double(n); return [r * cos(t), r * sin(t)] })
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let act = try Activation(parsing: String(key.setting.dropFirst("activation=".count)))
        // C_W = 1 for tanh-like activations keeps deep kernels from saturating; the table records what was used.
        let arch = Architecture(inputDimension: 2, depth: c.depth, width: 512, activation: act, weightVariance: c.weightVariance,
                                biasVariance: c.biasVariance)
        let x = Self.circle(c.points)
        let kernel = try InfiniteWidthKernel(arch)
        let k = try kernel(x)
        var metrics = [String: Double]()
        for (name, m) in [("nngp", k.nngp), ("ntk", k.ntk)] {
            let eig = try SymmetricEigendecomposition(m)
            metrics["\(name)_min_eig_rel"] = (eig.values.first ?? 0) / max(eig.values.last ?? 1, 1e-300)
            var dev = 0.0
            for i in 0..<c.points { for j in 0..<c.points { dev = max(dev, abs(m[i, j] - m[0, (j - i + c.points) % c.points])) } }
            metrics["\(name)_rotation_dev_rel"] = dev / m.maxAbs
        }
        if kernel.dual.isClosedForm {
            let q = try InfiniteWidthKernel(arch, forceQuadrature: true)(x)
            metrics["quadrature_vs_closed_rel"] = max((q.nngp - k.nngp).maxAbs / k.nngp.maxAbs, (q.ntk - k.ntk).maxAbs / k.ntk.maxAbs)
        }
        return RunOutput(metrics: metrics, series: ["nngp": k.nngp.storage, "ntk": k.ntk.storage])
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let n = c.points
        let angles = (0...n / 2).map { 360.0 * Double($0) / Double(n) }
        var profN = [PlotLayer](), profT = [PlotLayer]()
        var rows = [[String]]()
        let eps = Double.ulpOfOne
        var worstEig = 0.0, worstRot = 0.0, worstQuad = 0.0
        for (i, r) in runs.enumerated() {
            let name = String(r.key.setting.dropFirst("activation=".count))
            let t = Matrix(rows: n, cols: n, storage: r.output.series["ntk"]!)
            let s = Matrix(rows: n, cols: n, storage: r.output.series["nngp"]!)
            a.figures.append(NamedFigure("ntk-\(name)", "NTK of \(name) on \(n) points of the circle (row/column = angle index).",
                                         Figure(title: "NTK, \(name)", x: Axis("point j"), y: Axis("point i"), layers: [.heatmap(t)])))
            profN.append(.line(x: angles, y: angles.indices.map { s[0, $0] / s[0, 0] }, label: name, color: i, markers: false))
            profT.append(.line(x: angles, y: angles.indices.map { t[0, $0] / t[0, 0] }, label: name, color: i, markers: false))
            let m = r.output.metrics
            worstEig = min(worstEig, m["nngp_min_eig_rel"] ?? 0, m["ntk_min_eig_rel"] ?? 0)
            worstRot = max(worstRot, m["nngp_rotation_dev_rel"] ?? 0, m["ntk_rotation_dev_rel"] ?? 0)
            if let q = m["quadrature_vs_closed_rel"] { worstQuad = max(worstQuad, q) }
            rows.append([name] + angles.indices.map { sig(s[0, $0], 10) } + angles.indices.map { sig(t[0, $0], 10) })
        }
        a.figures.insert(NamedFigure("profiles-nngp", "NNGP k(angle) / k(0) on the circle for every activation (depth \(c.depth), C_W = \(c.weightVariance), C_b = \(c.biasVariance)).",
                                     Figure(title: "NNGP profiles", x: Axis("angle (degrees)"), y: Axis("k(angle) / k(0)"), layers: profN)), at: 0)
        a.figures.insert(NamedFigure("profiles-ntk", "NTK Theta(angle) / Theta(0) on the circle for every activation.",
                                     Figure(title: "NTK profiles", x: Axis("angle (degrees)"), y: Axis("Theta(angle) / Theta(0)"), layers: profT)), at: 1)
        a.tables.append(DataTable("profiles-nngp", header: ["activation"] + angles.map { "nngp@\(sig($0, 4))" } + angles.map { "ntk@\(sig($0, 4))" }, rows: rows))
        let eigTol = 10 * Double(n) * eps
        a.claims.append(Claim("all kernels are PSD: min eigenvalue / max eigenvalue >= -10 n eps", measured: worstEig, expected: ">= -\(sig(eigTol, 3))",
                              tolerance: "backward error of the symmetric eigensolver, 10 n eps", passed: worstEig >= -eigTol))
        a.claims.append(Claim("kernels depend only on the angle (max relative deviation from a circulant matrix)", measured: worstRot, expected: "<= 1e-12",
                              tolerance: "floating-point roundoff of the recursion (depth \(c.depth))", passed: worstRot <= 1e-12))
        a.claims.append(Claim("2-D quadrature equals the closed forms (relu, leaky, abs, erf, identity; max relative difference)", measured: worstQuad, expected: "<= 1e-8",
                              tolerance: "the foundation's stated quadrature accuracy", passed: worstQuad <= 1e-8))
        return a
    }
}
