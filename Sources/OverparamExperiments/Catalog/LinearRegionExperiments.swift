import Foundation
import Overparam

// Seed 004 ch. 4 ("Nodal Set Problems", eq. 4.0.1 and Theorems 4.2.1-4.2.2, as corrected in SEED-NOTES) and sec. 1.1.2
// (the hat function and Lemma 1.1.2): the exact linear regions of random ReLU networks and the exact constructions.

/// Shared pieces of the linear-region experiments: eq. 4.0.1's random network, run keys, grouping.
enum LinearRegionSupport {
    /// Hidden widths for `depth` layers holding `total` neurons, as equal as possible (the first total mod depth layers
    /// get one more neuron).
    static func widths(depth: Int, total: Int) -> [Int] {
        (0..<depth).map { total / depth + ($0 < total % depth ? 1 : 0) }
    }

    /// Eq. 4.0.1 (SEED-NOTES): z^(l+1) = b^(l+1) + W^(l+1) ReLU(z^(l)) / sqrt(N_l), z^(1) = b^(1) + W^(1) x / sqrt(N_0),
    /// W ~ N(0, 2) in every layer including the one-output readout, b ~ N(0, 1).
    static func network(inputDimension n0: Int = 2, depth: Int, total: Int, seed: UInt64) throws -> Network {
        try Network(Architecture(inputDimension: n0, hiddenWidths: widths(depth: depth, total: total), activation: .relu,
                                 weightVariance: 2, biasVariance: 1, parameterization: .hanin), seed: seed)
    }

    static func key(depth: Int, total: Int, seed: Int) -> RunKey {
        RunKey("depth=\(depth),total=\(String(format: "%05d", total))", seed: seed)
    }

    /// (depth, total) of a run key written by ``key(depth:total:seed:)``.
    static func parse(_ key: RunKey) -> (depth: Int, total: Int) {
        var d = 0, t = 0
        for part in key.setting.split(separator: ",") {
            let kv = part.split(separator: "=")
            guard kv.count == 2, let v = Int(kv[1]) else { continue }
            if kv[0] == "depth" { d = v } else if kv[0] == "total" { t = v }
        }
        return (d, t)
    }

    /// Values of `metric` grouped by total neuron count T, for one depth (sorted by T).
    static func byTotal(_ runs: [RunRecord], depth: Int, _ metric: String) -> (totals: [Double], groups: [[Double]]) {
        let rs = runs.filter { parse($0.key).depth == depth }
        let g = Dictionary(grouping: rs) { Double(parse($0.key).total) }
        let ts = g.keys.sorted()
        return (ts, ts.map { t in g[t]!.sorted { $0.key.seed < $1.key.seed }.compactMap { $0.output.metrics[metric] } })
    }

    /// Weighted power-law fit of the seed means (weights from their standard errors).
    static func powerFit(_ xs: [Double], _ groups: [[Double]]) -> LinearFit? {
        let st = groups.map { meanAndStandardError($0) }
        return LinearFit.powerLaw(x: xs, y: st.map { $0.mean }, standardErrors: st.map { max($0.se, 1e-9 * abs($0.mean)) })
    }

    /// Sample variance (n - 1).
    static func variance(_ v: [Double]) -> Double {
        guard v.count > 1 else { return .nan }
        let m = v.reduce(0, +) / Double(v.count)
        return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)
    }
}

// MARK: - init.linear-regions

/// `init.linear-regions` (seed 004 ch. 4, eq. 4.0.1 corrected per SEED-NOTES, Theorems 4.2.1-4.2.2): the exact
/// activation regions of random ReLU networks along a line and in a fixed 2-D box, against the total neuron count
/// T = N_1 + ... + N_L, for depths L = 1...4 at equal T (widths T / L >= 16).
///
/// Per network (eq. 4.0.1, N_0 = 2, W ~ N(0, 2), b ~ N(0, 1), one output):
/// - the exact partition of the box [-h, h]^2 (``LinearRegions/plane(_:slice:nodalNeurons:sliverTolerance:)``):
///   the region count N_A (the seed's Q2), the total length of all hidden neurons' nodal sets Z_A (Q1), and the
///   number B of points where nodal sets cross the box boundary (exact, from ``LinearRegions/segment(from:to:)``
///   along the four edges). Generically every nodal component is an arc with both ends on the boundary or a closed
///   curve, so by Euler's formula N_A = 1 + B/2 + V with V the number of interior crossing points of two nodal
///   sets; V = sum over neuron pairs {i, j} of #(H_i cap H_j cap A), the bulk term that carries the (sum N)^2 of
///   "regions per unit area"; B/2 is a perimeter term of order T (Theorem 4.2.1 on the edges). V is also counted
///   independently as (number of cell corners inside the box) / 4: each crossing is a corner of exactly 4 cells.
/// - one layer (L = 1): in a box holding every vertex of the line arrangement the count equals Zaslavsky's
///   1 + N_1 + C(N_1, 2) exactly (``LinearRegions/intersectionBox(slice:margin:)``).
/// - the segment x = (s, 0), s in [-a, a]: the number of activation breakpoints (N_0 = 1's Z_A; the restriction of
///   eq. 4.0.1 to a line through 0 is eq. 4.0.1 with N_0 = 1 and x scaled by 1/sqrt 2) and of output pieces. For
///   L = 1, a neuron's zero is at s = -b / (W_1 / sqrt 2), a ratio of independent standard normals (Cauchy), so
///   E[#breakpoints] = T (2 / pi) arctan(a) exactly.
/// - E ||grad_x z^(L+1)||^2 at random inputs x ~ N(0, I_2), exactly 2 = C_W^out (C_W / 2)^L for every depth and width
///   (``LinearRegions/affineMap(at:)``; SEED-NOTES: the seed prints 1).
public struct LinearRegionsExperiment: Experiment {
    public struct Config: Codable, Sendable {
        public var depths: [Int]
        /// Total hidden neurons T (widths T / depth, as equal as possible).
        public var totals: [Int]
        public var seeds: Int
        /// The fixed box [-h, h]^2.
        public var boxHalfWidth: Double
        /// The segment (s, 0), s in [-a, a].
        public var segmentHalfLength: Double
        /// E ||grad_x z||^2: per run, this many fresh networks of the run's architecture (||grad||^2 of a 2-input network
        /// does not concentrate with width: it is the squared norm of a 2-vector with O(1) fluctuations, so the
        /// Monte Carlo needs many networks) ...
        public var gradientNetworks: Int
        /// ... at this many random inputs x ~ N(0, I_2) each.
        public var gradientPoints: Int
        /// Depth-1 networks with T <= this are checked against Zaslavsky's count (a box holding all C(T, 2) vertices).
        public var zaslavskyMaxTotal: Int
        /// Total neurons and box half-width of the pictures (seed 0 of each depth).
        public var pictureTotal: Int
        public var pictureHalfWidth: Double
    }
    public init() {}
    public var id: String { "init.linear-regions" }
    public var source: String { "seed 004 ch. 4: eq. 4.0.1, Theorems 4.2.1-4.2.2, Zaslavsky's count (SEED-NOTES: eq. 4.0.1 corrected, E||grad||^2 = 2)" }
    public var summary: String { "Exact activation regions of random ReLU networks on a line and in a 2-D box vs total neurons, depths 1-4" }
    public var claimText: String {
        "One-layer partitions are hyperplane arrangements (Zaslavsky's count exactly). For random networks (eq. 4.0.1) the number of activation regions per unit area grows like (N_1 + ... + N_L)^2 in 2-D and depends only weakly on depth at equal total neurons (Theorem 4.2.2, for widths >= ~16); along a line each neuron contributes O(1) breakpoints per unit length (Theorem 4.2.1, eq. 4.2.2). E ||grad_x z||^2 is 2 with eq. 4.0.1's conventions (the seed prints 1). The seed conjectures that the variance of these counts grows with depth."
    }
    public var estimates: (quick: String, full: String) { ("20 s", "6 min") }
    public var quickNote: String { "T in {64, 96, 128, 192, 256} (full: to 512), 12 networks per (depth, T) (full: 24), Zaslavsky check for T <= 128 (full: 256), 24 x 8 gradient samples per run (full: 48 x 8); box [-1, 1]^2, segment s in [-4, 4]" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick
            ? Config(depths: [1, 2, 3, 4], totals: [64, 96, 128, 192, 256], seeds: 12, boxHalfWidth: 1, segmentHalfLength: 4,
                     gradientNetworks: 24, gradientPoints: 8, zaslavskyMaxTotal: 128, pictureTotal: 64, pictureHalfWidth: 1.5)
            : Config(depths: [1, 2, 3, 4], totals: [64, 96, 128, 192, 256, 384, 512], seeds: 24, boxHalfWidth: 1, segmentHalfLength: 4,
                     gradientNetworks: 48, gradientPoints: 8, zaslavskyMaxTotal: 256, pictureTotal: 96, pictureHalfWidth: 1.5)
    }
    public func runs(_ c: Config) -> [RunKey] {
        c.depths.flatMap { d in c.totals.flatMap { t in (0..<c.seeds).map { LinearRegionSupport.key(depth: d, total: t, seed: $0) } } }
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        let (depth, total) = LinearRegionSupport.parse(key)
        let net = try LinearRegionSupport.network(depth: depth, total: total, seed: seed)
        let r = try LinearRegions(net)
        var m = [String: Double](), series = [String: [Double]]()

        // The fixed box: regions, nodal length, boundary crossings, interior crossings (two ways).
        let h = c.boxHalfWidth
        let box = LinearRegions.PlaneBox.square(halfWidth: h)
        let hidden = (0..<r.hiddenNeuronCount).map { r.neuron(atFlatIndex: $0) }
        let part = try r.plane(box, nodalNeurons: hidden)
        let corners = box.corners.map { [$0.x, $0.y] }
        var boundary = 0
        for k in 0..<4 { boundary += try r.segment(from: corners[k], to: corners[(k + 1) % 4]).breakpoints.count }
        let tol = 1e-9 * box.diagonal
        var inside = 0
        for cell in part.cells {
            for v in cell.vertices where min(v.x - box.lower.x, box.upper.x - v.x, v.y - box.lower.y, box.upper.y - v.y) > tol { inside += 1 }
        }
        let regions = part.regionCount
        m["regions"] = Double(regions)
        m["boundary_crossings"] = Double(boundary)
        m["vertices"] = Double(regions - 1) - Double(boundary) / 2
        m["corner_incidences"] = Double(inside)
        m["nodal_length"] = part.nodalSets.reduce(0) { $0 + $1.length }
        m["output_zero_length"] = part.outputNodalSet.length
        m["area"] = box.area
        m["distinct_output_gradients"] = Double(Set(part.cells.map { [($0.outputGradient.x * 1e9).rounded(), ($0.outputGradient.y * 1e9).rounded()] }).count)
        series["regions_by_layer"] = part.regionCountsByLayer.map(Double.init)

        // The line (s, 0), s in [-a, a].
        let a = c.segmentHalfLength
        let seg = try r.segment(from: [-a, 0], to: [a, 0])
        m["line_breakpoints"] = Double(seg.breakpoints.count)
        m["line_regions"] = Double(seg.regionCount)
        m["line_pieces"] = Double(seg.pieceCount)
        m["line_length"] = seg.length

        // E ||grad_x z||^2 at x ~ N(0, I_2), over fresh networks of this architecture: the run's mean is one independent
        // sample of the Monte Carlo (the runs are the units of the standard error).
        var rng = Xoshiro256StarStar(seed: seed, stream: 77)
        var g2 = 0.0
        for _ in 0..<c.gradientNetworks {
            let rg = try LinearRegions(try LinearRegionSupport.network(depth: depth, total: total, seed: rng.next()))
            for _ in 0..<c.gradientPoints {
                let g = try rg.inputGradient(at: rng.normals(2))
                g2 += g.reduce(0) { $0 + $1 * $1 }
            }
        }
        m["grad_norm2"] = g2 / Double(c.gradientNetworks * c.gradientPoints)

        // One layer: Zaslavsky's count in a box holding every vertex.
        if depth == 1 && total <= c.zaslavskyMaxTotal {
            let zbox = try r.intersectionBox()
            m["zaslavsky_count"] = Double(try r.plane(zbox).regionCount)
            m["zaslavsky_expected"] = Double(try LinearRegions.zaslavskyCount(hyperplanes: total, dimension: 2))
        }

        // The picture: cells colored by the direction of the output gradient, and the output's zero set.
        if key.seed == 0 && total == c.pictureTotal {
            let pic = try r.plane(.square(halfWidth: c.pictureHalfWidth))
            series["pic_n"] = pic.cells.map { Double($0.vertices.count) }
            series["pic_x"] = pic.cells.flatMap { $0.vertices.map(\.x) }
            series["pic_y"] = pic.cells.flatMap { $0.vertices.map(\.y) }
            series["pic_angle"] = pic.cells.map { Foundation.atan2($0.outputGradient.y, $0.outputGradient.x) }
            let z = pic.outputNodalSet.segments
            series["zero_x0"] = z.map(\.a.x); series["zero_y0"] = z.map(\.a.y)
            series["zero_x1"] = z.map(\.b.x); series["zero_y1"] = z.map(\.b.y)
            m["picture_regions"] = Double(pic.regionCount)
        }
        return RunOutput(metrics: m, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        typealias S = LinearRegionSupport
        var a = Analysis()
        let depths = c.depths.sorted()
        let boxText = "[-\(sig(c.boxHalfWidth)), \(sig(c.boxHalfWidth))]^2"

        // 1. Zaslavsky (one layer): exact.
        let zr = runs.filter { $0.output.metrics["zaslavsky_count"] != nil }
        if !zr.isEmpty {
            let bad = zr.filter { $0.output.metrics["zaslavsky_count"] != $0.output.metrics["zaslavsky_expected"] }
            let worst = zr.map { abs(($0.output.metrics["zaslavsky_count"] ?? 0) - ($0.output.metrics["zaslavsky_expected"] ?? 0)) }.max() ?? .nan
            let ts = Set(zr.map { S.parse($0.key).total }).sorted()
            a.claims.append(Claim("One hidden layer: the exact region count in a box holding every vertex of the arrangement equals Zaslavsky's 1 + N_1 + C(N_1, 2) (\(zr.count) networks, N_1 in \(ts))",
                                  measured: worst, expected: "0 (largest |count - Zaslavsky| over the networks)", tolerance: "exact (integer equality in every network)",
                                  passed: bad.isEmpty))
        }

        // 2. Euler's formula N_A = 1 + B/2 + V, with V counted independently from the cell corners.
        let eulerGap = runs.map { r -> Double in
            let v = r.output.metrics["vertices"] ?? .nan, inc = r.output.metrics["corner_incidences"] ?? .nan
            return abs(v - inc / 4)
        }.max() ?? .nan
        a.claims.append(Claim("Euler's formula for the exact partition of the box: regions = 1 + B/2 + V in every network, with B the boundary crossings (counted along the edges) and V the interior crossings counted as cell corners / 4",
                              measured: eulerGap, expected: "0 (largest |regions - 1 - B/2 - corners/4|)", tolerance: "exact (integer identity in each of \(runs.count) networks)",
                              passed: eulerGap == 0))

        // 3. Regions per unit area ~ T^2: interior crossings per neuron pair vs T, per depth.
        var driftNotes = [String]()
        var pairLayers = [PlotLayer](), regionLayers = [PlotLayer](), rows = [[String]]()
        for (i, d) in depths.enumerated() {
            let (ts, vs) = S.byTotal(runs, depth: d, "vertices")
            let perPair = zip(ts, vs).map { t, g in g.map { $0 / (t * (t - 1) / 2) } }
            let fit = S.powerFit(ts, perPair)
            let widths = S.widths(depth: d, total: Int(ts.first ?? 0))
            let recip = ts.map { t in S.widths(depth: d, total: Int(t)).reduce(0.0) { $0 + 1 / Double($1) } }
            let means = perPair.map { meanAndStandardError($0).mean }
            if let f = means.first, let l = means.last, let r0 = recip.first, let r1 = recip.last {
                driftNotes.append("depth \(d): \(sig(f, 3)) at T = \(Int(ts.first!)) (sum 1/N_l = \(sig(r0, 2))) -> \(sig(l, 3)) at T = \(Int(ts.last!)) (sum 1/N_l = \(sig(r1, 2)))")
            }
            a.claims.append(Claim("Depth \(d): interior crossings of nodal sets in the box per neuron pair, V / C(T, 2), does not change with T (regions per unit area ~ T^2; T = \(ts.map { Int($0) }), smallest widths \(widths), sum 1/N_l from \(sig(recip.first ?? .nan, 2)) to \(sig(recip.last ?? .nan, 2)))",
                                  measured: fit?.slope ?? .nan, expected: "exponent 0 in T",
                                  tolerance: "3 SE of the slope weighted by seed standard errors (SE \(sig(fit?.slopeStandardError ?? .nan, 2)), \(c.seeds) seeds)",
                                  passed: fit.map { abs($0.slope) <= 3 * $0.slopeStandardError } ?? false))
            pairLayers += PlotLayer.meanWithErrorBars(ts, perPair, label: "depth \(d)", color: i)
            let (_, rg) = S.byTotal(runs, depth: d, "regions")
            regionLayers += PlotLayer.meanWithErrorBars(ts, rg, label: "depth \(d)", color: i)
            let (_, bg) = S.byTotal(runs, depth: d, "boundary_crossings")
            let (_, lg) = S.byTotal(runs, depth: d, "line_breakpoints")
            let (_, pg) = S.byTotal(runs, depth: d, "line_pieces")
            let (_, zg) = S.byTotal(runs, depth: d, "nodal_length")
            for (k, t) in ts.enumerated() {
                let rs = meanAndStandardError(rg[k]), vv = meanAndStandardError(vs[k]), bb = meanAndStandardError(bg[k])
                let ll = meanAndStandardError(lg[k]), pp = meanAndStandardError(pg[k]), zz = meanAndStandardError(zg[k])
                rows.append(["\(d)", "\(Int(t))", S.widths(depth: d, total: Int(t)).map(String.init).joined(separator: " "),
                             sig(rs.mean, 6), sig(rs.se, 3), sig(rs.mean / (t * t), 4), sig(vv.mean, 6), sig(bb.mean / 2, 5),
                             sig(zz.mean, 5), sig(ll.mean, 5), sig(ll.se, 3), sig(pp.mean, 5)])
            }
        }
        a.tables.append(DataTable("counts", header: ["depth", "T", "widths", "regions in box (mean)", "SE", "regions / T^2", "interior crossings V",
                                                    "B/2 (arcs)", "nodal length Z_A", "line breakpoints (mean)", "SE", "line output pieces (mean)"], rows: rows))
        // The raw count's local exponent is below 2 by the perimeter term B/2 ~ T: reported, not claimed.
        var rawNotes = [String]()
        for d in depths {
            let (ts, rg) = S.byTotal(runs, depth: d, "regions")
            if let f = S.powerFit(ts, rg) { rawNotes.append("depth \(d): \(sig(f.slope, 3)) +- \(sig(f.slopeStandardError, 2))") }
        }
        a.notes.append("Box \(boxText) (area \(sig(4 * c.boxHalfWidth * c.boxHalfWidth))). Exponents of the raw region count in T (not claimed): \(rawNotes.joined(separator: "; ")). They sit below 2 because regions = 1 + B/2 + V exactly and the perimeter term B/2 grows like T (Theorem 4.2.1 applied to the box edges): the local exponent is (B/2 + 2V) / (1 + B/2 + V) < 2. The claims therefore test the bulk term V (crossings of two nodal sets, a sum over neuron pairs, so E V = C(T, 2) x the mean crossings per pair; for one layer this is exact since each pair of lines meets in the box with the same probability).")

        a.notes.append("Crossings per neuron pair V / C(T, 2), smallest -> largest T: " + driftNotes.joined(separator: "; ") + ". Theorem 4.2.2's constant depends on sum 1/N_l, which at fixed depth L and T = L x width falls like L^2 / T; so at fixed depth the T^2 law is asymptotic, and a drift of the per-pair rate over the range (largest at depth 4, whose widths start at 16) is the finite-width dependence of that constant, not a different power.")

        // 4. Weak depth dependence: ratio of region counts to depth 1 at equal T.
        if let d1 = depths.first, d1 == 1 {
            let (ts1, g1) = S.byTotal(runs, depth: 1, "regions")
            var ratioLayers = [PlotLayer](), ratioText = [String]()
            for (i, d) in depths.dropFirst().enumerated() {
                let (ts, gd) = S.byTotal(runs, depth: d, "regions")
                guard ts == ts1 else { continue }
                // Ratio of seed means with a delta-method SE (independent networks).
                let st = zip(gd, g1).map { (x, y) -> (Double, Double) in
                    let sx = meanAndStandardError(x), sy = meanAndStandardError(y)
                    let r = sx.mean / sy.mean
                    return (r, r * ((sx.se / sx.mean) * (sx.se / sx.mean) + (sy.se / sy.mean) * (sy.se / sy.mean)).squareRoot())
                }
                let fit = LinearFit.powerLaw(x: ts, y: st.map { $0.0 }, standardErrors: st.map { max($0.1, 1e-12) })
                let last = st.last ?? (.nan, .nan)
                a.claims.append(Claim("Depth \(d) vs depth 1 at equal T: the ratio of mean region counts in the box neither grows nor shrinks with T (depth changes the constant, not the power T^2; ratio at T = \(Int(ts.last ?? 0)): \(sig(last.0, 3)) +- \(sig(last.1, 2)))",
                                      measured: fit?.slope ?? .nan, expected: "exponent 0 in T",
                                      tolerance: "3 SE of the slope weighted by delta-method SEs of the ratios (SE \(sig(fit?.slopeStandardError ?? .nan, 2)))",
                                      passed: fit.map { abs($0.slope) <= 3 * $0.slopeStandardError } ?? false))
                ratioLayers.append(.errorBars(x: ts, y: st.map { $0.0 }, err: st.map { $0.1 }, label: "depth \(d) / depth 1", color: i + 1))
                ratioLayers.append(.line(x: ts, y: st.map { $0.0 }, label: nil, color: i + 1))
                ratioText.append("depth \(d): \(sig(last.0, 3))")
            }
            if !ratioLayers.isEmpty {
                a.notes.append("Region count in the box relative to one layer at T = \(Int(ts1.last ?? 0)): " + ratioText.joined(separator: ", ") + ". Theorem 4.2.2 bounds the count by C (sum N)^2 area / 2 with C depending only on sum 1/N_l; it gives an upper bound, not the ratio, so the claim tested is that the ratio is T-independent.")
                a.figures.append(NamedFigure("depth-ratio", "Mean region count in the box at depth L over the count at depth 1, at equal total neurons T (delta-method SE).",
                                             Figure(title: "Depth dependence at equal total neurons", x: Axis("total neurons T", scale: .log), y: Axis("regions(L) / regions(1)"), layers: ratioLayers)))
            }
        }

        // 5. Along the line: breakpoints ~ T (O(1) per neuron per unit length).
        var lineLayers = [PlotLayer]()
        let length = 2 * c.segmentHalfLength
        for (i, d) in depths.enumerated() {
            let (ts, lg) = S.byTotal(runs, depth: d, "line_breakpoints")
            let (claim, _) = exponentClaim("Depth \(d): activation breakpoints on the segment s in [-\(sig(c.segmentHalfLength)), \(sig(c.segmentHalfLength))] grow like T (O(1) per neuron, Theorem 4.2.1 / eq. 4.2.2)",
                                           widths: ts, groups: lg, expected: 1)
            a.claims.append(claim)
            lineLayers += PlotLayer.meanWithErrorBars(ts, zip(ts, lg).map { t, g in g.map { $0 / (t * length) } }, label: "depth \(d)", color: i)
        }
        let (ts1, l1) = S.byTotal(runs, depth: 1, "line_breakpoints")
        if !ts1.isEmpty {
            let perNeuron = zip(ts1, l1).flatMap { t, g in g.map { $0 / t } }
            let st = meanAndStandardError(perNeuron)
            let exact = 2 / Double.pi * Foundation.atan(c.segmentHalfLength)
            a.claims.append(Claim("Depth 1: mean breakpoints per neuron on the segment = P(|Cauchy| < a) = (2 / pi) arctan(a) (each zero is at -b / (W_1 / sqrt 2), a ratio of standard normals)",
                                  measured: st.mean, expected: sig(exact, 6), tolerance: "5 SE over \(perNeuron.count) networks (SE \(sig(st.se, 2)))",
                                  passed: abs(st.mean - exact) <= 5 * st.se))
            lineLayers.append(.line(x: [ts1.first!, ts1.last!], y: [exact / length, exact / length], label: "depth 1 exact", color: 7, dashed: true, markers: false))
        }
        a.figures.append(NamedFigure("line-breakpoints", "Activation breakpoints per neuron per unit length along the segment (s, 0), s in [-\(sig(c.segmentHalfLength)), \(sig(c.segmentHalfLength))] (mean +- SE over seeds).",
                                     Figure(title: "Breakpoints per neuron along a line", x: Axis("total neurons T", scale: .log), y: Axis("breakpoints / (T length)"), layers: lineLayers)))
        let pieceRatio = runs.compactMap { r -> Double? in
            guard let p = r.output.metrics["line_pieces"], let q = r.output.metrics["line_regions"], q > 0 else { return nil }
            return p / q
        }
        if !pieceRatio.isEmpty {
            let grads = runs.compactMap { r -> Double? in
                guard let g = r.output.metrics["distinct_output_gradients"], let q = r.output.metrics["regions"], q > 0 else { return nil }
                return g / q
            }
            a.notes.append("Output linear pieces vs activation regions along the segment: pieces / regions ranges over [\(sig(pieceRatio.min()!, 3)), \(sig(pieceRatio.max()!, 3))] (mean \(sig(meanAndStandardError(pieceRatio).mean, 3))); in the box, distinct output gradients / regions has mean \(sig(meanAndStandardError(grads).mean, 3)). Theorems 4.2.1-4.2.2 bound activation regions (the partition by all neurons); the output's pieces are unions of them.")
        }

        // 6. E ||grad_x z||^2 = 2.
        let exactGrad = LinearRegions.expectedSquaredInputGradientNorm(weightVariance: 2, depth: 1)
        var gradLayers = [PlotLayer](), gradRows = [[String]]()
        for (i, d) in depths.enumerated() {
            let (ts, gg) = S.byTotal(runs, depth: d, "grad_norm2")
            let all = gg.flatMap { $0 }
            let st = meanAndStandardError(all)
            a.claims.append(Claim("Depth \(d): E ||grad_x z^(L+1)||^2 = C_W^out (C_W / 2)^L = 2 with eq. 4.0.1's conventions (SEED-NOTES; the seed prints 1), Monte Carlo over \(all.count * c.gradientNetworks) networks x \(c.gradientPoints) inputs x ~ N(0, I_2) (all T pooled: the value is width-independent); printed 1 is \(sig((st.mean - 1) / st.se, 3)) SE away",
                                  measured: st.mean, expected: sig(exactGrad), tolerance: "5 SE over \(all.count) runs of \(c.gradientNetworks) networks each (SE \(sig(st.se, 2)))",
                                  passed: abs(st.mean - exactGrad) <= 5 * st.se))
            gradRows.append(["\(d)", sig(st.mean, 5), sig(st.se, 2), sig((st.mean - 1) / st.se, 3), "\(all.count * c.gradientNetworks)"])
            gradLayers += PlotLayer.meanWithErrorBars(ts.map { $0 * (1 + 0.02 * Double(i)) }, gg, label: "depth \(d)", color: i)
        }
        a.tables.append(DataTable("grad-norm", header: ["depth", "mean ||grad_x z||^2", "SE", "(mean - 1) / SE", "networks"], rows: gradRows))
        if let t0 = c.totals.min(), let t1 = c.totals.max() {
            gradLayers.append(.line(x: [Double(t0), Double(t1)], y: [2, 2], label: "2 (derived)", color: 7, dashed: true, markers: false))
            gradLayers.append(.line(x: [Double(t0), Double(t1)], y: [1, 1], label: "1 (printed)", color: 5, dashed: true, markers: false))
        }
        a.figures.append(NamedFigure("grad-norm", "Mean over networks of ||grad_x z^(L+1)(x)||^2 at x ~ N(0, I_2) (+- SE), with the derived value 2 and the seed's printed 1.",
                                     Figure(title: "Input-gradient norm at initialization", x: Axis("total neurons T", scale: .log), y: Axis("E ||grad_x z||^2"), layers: gradLayers)))

        // 7. Variance vs depth (the seed's conjecture): reported.
        var varRows = [[String]](), varLayers = [PlotLayer]()
        let metrics = [("regions", "regions in box"), ("nodal_length", "nodal length Z_A"), ("line_breakpoints", "line breakpoints")]
        for (mi, (metric, label)) in metrics.enumerated() {
            var xs = [Double](), ys = [Double]()
            for d in depths {
                let (ts, gs) = S.byTotal(runs, depth: d, metric)
                for (t, g) in zip(ts, gs) {
                    let mean = g.reduce(0, +) / Double(max(g.count, 1)), v = S.variance(g)
                    varRows.append([label, "\(d)", "\(Int(t))", sig(mean, 5), sig(v, 4), sig(v / (mean * mean), 4), "\(g.count)"])
                }
                // Squared coefficient of variation, averaged over T (comparable across T).
                let cv2 = zip(ts, gs).map { _, g -> Double in let mean = g.reduce(0, +) / Double(max(g.count, 1)); return S.variance(g) / (mean * mean) }
                xs.append(Double(d)); ys.append(cv2.reduce(0, +) / Double(max(cv2.count, 1)))
            }
            varLayers.append(.line(x: xs, y: ys, label: label, color: mi))
        }
        a.tables.append(DataTable("variance", header: ["quantity", "depth", "T", "mean", "variance", "variance / mean^2", "networks"], rows: varRows))
        a.figures.append(NamedFigure("variance-vs-depth", "Squared coefficient of variation Var / mean^2 of the counts over networks, averaged over T, vs depth (the seed conjectures that the variance grows with depth; \(c.seeds) networks per point, so each variance has a relative SE of about sqrt(2 / \(max(c.seeds - 1, 1))) = \(sig((2 / Double(max(c.seeds - 1, 1))).squareRoot(), 2))).",
                                     Figure(title: "Variance of the counts vs depth", x: Axis("depth L"), y: Axis("Var / mean^2", scale: .log), layers: varLayers)))
        let cvNote = varLayers.compactMap { layer -> String? in
            if case let .line(_, ys, label, _, _, _) = layer { return "\(label ?? ""): " + ys.map { sig($0, 3) }.joined(separator: ", ") }
            return nil
        }
        a.notes.append("Var / mean^2 by depth \(depths) (averaged over T; descriptive, for the seed's conjecture that the variance grows with depth): " + cvNote.joined(separator: "; ") + ".")

        // Figures: counts vs T and the pictures.
        if let t0 = c.totals.min(), let t1 = c.totals.max(), let ref = S.byTotal(runs, depth: depths.first ?? 1, "regions").groups.first.map({ meanAndStandardError($0).mean }) {
            regionLayers.append(.line(x: [Double(t0), Double(t1)], y: [ref, ref * Double(t1 * t1) / Double(t0 * t0)], label: "~ T^2", color: 7, dashed: true, markers: false))
        }
        a.figures.append(NamedFigure("regions-vs-total", "Exact activation regions in the box \(boxText) vs total neurons T at depths \(depths) (mean +- SE over \(c.seeds) networks), with a T^2 guide.",
                                     Figure(title: "Regions in a fixed box", x: Axis("total neurons T", scale: .log), y: Axis("regions", scale: .log), layers: regionLayers)))
        a.figures.append(NamedFigure("crossings-per-pair", "Interior crossings of two nodal sets in the box per neuron pair, V / C(T, 2) (V = regions - 1 - B/2): flat in T means regions per unit area ~ T^2.",
                                     Figure(title: "Crossings per neuron pair", x: Axis("total neurons T", scale: .log), y: Axis("V / C(T, 2)"), layers: pairLayers)))
        for d in depths {
            guard let r = runs.first(where: { S.parse($0.key) == (d, c.pictureTotal) && $0.key.seed == 0 }),
                  let n = r.output.series["pic_n"], let xs = r.output.series["pic_x"], let ys = r.output.series["pic_y"], let ang = r.output.series["pic_angle"] else { continue }
            var polys = [[(Double, Double)]](), k = 0
            for cnt in n {
                let c = Int(cnt)
                polys.append((k..<(k + c)).map { (xs[$0], ys[$0]) })
                k += c
            }
            var fig = Figure(title: "Depth \(d), widths \(S.widths(depth: d, total: c.pictureTotal)): \(n.count) regions",
                             x: Axis("x_1", range: -c.pictureHalfWidth...c.pictureHalfWidth), y: Axis("x_2", range: -c.pictureHalfWidth...c.pictureHalfWidth),
                             layers: [.polygons(polys, values: ang.map { ($0 + Double.pi) / (2 * Double.pi) }, label: nil)])
            if let x0 = r.output.series["zero_x0"], let y0 = r.output.series["zero_y0"], let x1 = r.output.series["zero_x1"], let y1 = r.output.series["zero_y1"] {
                fig.layers.append(.segments(x0: x0, y0: y0, x1: x1, y1: y1, color: 3))
            }
            fig.colorLabel = "angle of grad z / 2 pi"
            fig.width = 560; fig.height = 520
            a.figures.append(NamedFigure("partition-depth\(d)", "The exact activation regions of one eq. 4.0.1 network (depth \(d), T = \(c.pictureTotal)) in [-\(sig(c.pictureHalfWidth)), \(sig(c.pictureHalfWidth))]^2, colored by the direction of the output's gradient on each region; red: the output's zero set.", fig))
        }
        return a
    }
}

// MARK: - init.hat-function

/// `init.hat-function` (seed 004 sec. 1.1.2): the two-neuron network ReLU(2 ReLU(x) - 4 ReLU(x - 1/2)) computes the hat
/// function (2x on [0, 1/2], 2 - 2x on [1/2, 1], 0 elsewhere; SEED-NOTES: the seed prints 1 - 2x), and Lemma 1.1.2's
/// construction (``PiecewiseLinearFunction/network(width:)``) turns every continuous piecewise-linear function with m
/// breakpoints into a one-hidden-layer ReLU network with m + 1 neurons that computes it exactly; conversely a random
/// one-layer network with N_1 neurons has exactly N_1 breakpoints (at most N_1 always).
///
/// Exactness is checked against floating-point error bounds, with u = 2^-53 the unit roundoff and references computed
/// in 64-bit-mantissa `Float80`: the hat network's output has error at most 5u on [-1/2, 3/2] (x - 1/2 rounds once, the
/// factors 2 and 4 are exact, the final difference rounds once, |values| <= 1), and none on dyadic points k / 1024;
/// Lemma 1.1.2's network sums m + 2 terms t_k (each a rounded difference x - b_k times a coefficient), so its error is
/// at most gamma_{m+3} sum |t_k| ~ (m + 3) u S(x), S(x) = |f(b_1)| + sum_k |c_k| |x - b_k| (the standard
/// summation bound; the test uses (m + 4) u S).
public struct HatFunctionExperiment: Experiment {
    public struct Config: Codable, Sendable {
        /// Numbers of breakpoints m of the random piecewise-linear functions.
        public var breakpointCounts: [Int]
        public var seeds: Int
        /// Grid points per function (plus every breakpoint and every midpoint between breakpoints).
        public var gridPoints: Int
        /// m of the reproduced function in the figure.
        public var pictureBreakpoints: Int
    }
    public init() {}
    public var id: String { "init.hat-function" }
    public var source: String { "seed 004 sec. 1.1.2: the hat function and Lemma 1.1.2 (SEED-NOTES: 2 - 2x, not 1 - 2x)" }
    public var summary: String { "The two-neuron hat network and Lemma 1.1.2's exact construction of piecewise-linear functions" }
    public var claimText: String {
        "x -> ReLU(2 ReLU(x) - 4 ReLU(x - 1/2)) is the hat function (2x on [0, 1/2], 2 - 2x on [1/2, 1], 0 elsewhere). One hidden layer of N_1 ReLU neurons computes every continuous piecewise-linear function with at most N_1 - 1 breakpoints, and only functions with at most N_1 breakpoints (Lemma 1.1.2)."
    }
    public var estimates: (quick: String, full: String) { ("2 s", "30 s") }
    public var quickNote: String { "m in {1, 2, 4, ..., 64} breakpoints, 6 seeds, 2,001 grid points (full: m to 1024, 20 seeds, 20,001 points)" }
    public func configuration(_ p: Preset) -> Config {
        p == .quick ? Config(breakpointCounts: [1, 2, 4, 8, 16, 32, 64], seeds: 6, gridPoints: 2001, pictureBreakpoints: 8)
                    : Config(breakpointCounts: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], seeds: 20, gridPoints: 20001, pictureBreakpoints: 8)
    }
    public func runs(_ c: Config) -> [RunKey] {
        [RunKey("hat")] + c.breakpointCounts.flatMap { m in (0..<c.seeds).map { RunKey("m=\(String(format: "%05d", m))", seed: $0) } }
    }

    static let u = 0x1p-53

    /// The corrected hat (SEED-NOTES) in Float80: 2x on [0, 1/2], 2 - 2x on [1/2, 1], 0 elsewhere (`clipped`), or
    /// continuing as 2 - 2x beyond 1 (the network without the seed's outer ReLU).
    static func hatReference(_ x: Double, clipped: Bool) -> Float80 {
        let t = Float80(x)
        if t < 0 { return 0 }
        if t <= 0.5 { return 2 * t }
        if clipped && t > 1 { return 0 }
        return 2 - 2 * t
    }

    /// The seed's network with its outer ReLU as a ReLU network: layer 1 (ReLU(x), ReLU(x - 1/2)), layer 2
    /// g = ReLU(2 h_1 - 4 h_2), readout z = g.
    static func seedHatNetwork() throws -> Network {
        let arch = Architecture(inputDimension: 1, hiddenWidths: [2, 1], activation: .relu, outputDimension: 1, weightVariance: 1, biasVariance: 1,
                                hasBias: true, parameterization: .standard)
        return try Network(arch, parameters: [1, 1, 0, -0.5, 2, -4, 0, 1, 0])
    }

    public func run(_ key: RunKey, config c: Config, seed: UInt64) throws -> RunOutput {
        var m = [String: Double](), series = [String: [Double]]()
        if key.setting == "hat" {
            let inner = PiecewiseLinearFunction.hatNetwork(), outer = try Self.seedHatNetwork()
            let dyadic = (-512...1536).map { Double($0) / 1024 }
            var rng = Xoshiro256StarStar(seed: seed)
            let random = (0..<20_000).map { _ in -0.5 + 2 * rng.uniform() }
            for (name, xs) in [("dyadic", dyadic), ("random", random)] {
                let yi = try inner(Matrix(column: xs)).storage, yo = try outer(Matrix(column: xs)).storage
                m["\(name)_error_inner"] = zip(xs, yi).map { Double(abs(Float80($1) - Self.hatReference($0, clipped: false))) }.max() ?? .nan
                m["\(name)_error_seed"] = zip(xs, yo).map { Double(abs(Float80($1) - Self.hatReference($0, clipped: true))) }.max() ?? .nan
                // The printed formula (1 - 2x on [1/2, 1]) against the network.
                m["\(name)_deviation_printed"] = zip(xs, yo).map { x, y in abs(y - (x < 0 || x > 1 ? 0 : (x <= 0.5 ? 2 * x : 1 - 2 * x))) }.max() ?? .nan
            }
            let segInner = try LinearRegions(inner).segment(from: [-1], to: [2])
            let segOuter = try LinearRegions(outer).segment(from: [-1], to: [2])
            m["pieces_inner"] = Double(segInner.pieceCount)
            m["pieces_seed"] = Double(segOuter.pieceCount)
            let kinksInner = segInner.outputBreakpoints.map { segInner.point($0)[0] }, kinksOuter = segOuter.outputBreakpoints.map { segOuter.point($0)[0] }
            series["kinks_inner"] = kinksInner
            series["kinks_seed"] = kinksOuter
            m["kink_error"] = zip(kinksOuter, [0, 0.5, 1]).map { abs($0 - $1) }.max() ?? .nan
            m["kink_count_seed"] = Double(kinksOuter.count)
            let xs = (0...400).map { -0.5 + 2 * Double($0) / 400 }
            series["x"] = xs
            series["y_inner"] = try inner(Matrix(column: xs)).storage
            series["y_seed"] = try outer(Matrix(column: xs)).storage
            return RunOutput(metrics: m, series: series)
        }

        // Lemma 1.1.2: a random continuous piecewise-linear function with mb breakpoints.
        let mb = Int(key.setting.split(separator: "=").last ?? "") ?? 1
        var rng = Xoshiro256StarStar(seed: seed)
        let b = (0..<mb).map { _ in -5 + 10 * rng.uniform() }.sorted()
        guard Set(b).count == mb else { throw OverparamError.invalidArgument(name: "breakpoints", problem: "two random breakpoints coincide (seed \(seed))") }
        let slopes = rng.normals(mb + 1, std: 2), value = rng.normal()
        let f = try PiecewiseLinearFunction(breakpoints: b, slopes: slopes, anchorValue: value)
        let net = try f.network()
        m["width"] = Double(net.architecture.hiddenWidths[0])
        // Grid over [b_1 - 1, b_m + 1], every breakpoint and every midpoint.
        let lo = b[0] - 1, hi = b[mb - 1] + 1
        var xs = (0..<c.gridPoints).map { lo + (hi - lo) * Double($0) / Double(c.gridPoints - 1) } + b
        if mb >= 2 { xs += (1..<mb).map { 0.5 * (b[$0 - 1] + b[$0]) } }
        let y = try net(Matrix(column: xs)).storage
        // Float80 reference from the definition (values at the breakpoints by cumulative sums).
        var vb = [Float80(value)]
        if mb >= 2 { for k in 1..<mb { vb.append(vb[k - 1] + Float80(slopes[k]) * (Float80(b[k]) - Float80(b[k - 1]))) } }
        func reference(_ x: Double) -> Float80 {
            let t = Float80(x)
            if x <= b[0] { return Float80(value) + Float80(slopes[0]) * (t - Float80(b[0])) }
            var k = 0
            while k + 1 < mb && x > b[k + 1] { k += 1 }
            return vb[k] + Float80(slopes[k + 1]) * (t - Float80(b[k]))
        }
        // The construction's coefficients: -s_0 on ReLU(b_1 - x), s_1 on ReLU(x - b_1), s_k - s_{k-1} on ReLU(x - b_k).
        let coef = [abs(slopes[0]), abs(slopes[1])] + (mb >= 2 ? (2...mb).map { abs(slopes[$0] - slopes[$0 - 1]) } : [])
        var worst = 0.0, worstRatio = 0.0
        for (x, yx) in zip(xs, y) {
            let err = Double(abs(Float80(yx) - reference(x)))
            var s = abs(value) + coef[0] * abs(x - b[0]) + coef[1] * abs(x - b[0])
            if mb >= 2 { for k in 2...mb { s += coef[k] * abs(x - b[k - 1]) } }
            worst = max(worst, err)
            worstRatio = max(worstRatio, err / (Double(mb + 4) * Self.u * s))
        }
        m["max_error"] = worst
        m["max_error_over_bound"] = worstRatio
        // The exact partition of a segment covering every breakpoint: m + 1 pieces, kinks at the breakpoints.
        let seg = try LinearRegions(net).segment(from: [lo], to: [hi])
        m["pieces"] = Double(seg.pieceCount)
        let kinks = seg.outputBreakpoints.map { seg.point($0)[0] }
        let scale = abs(lo) + abs(hi)
        m["kink_error_over_bound"] = kinks.count == mb ? zip(kinks, b).map { abs($0 - $1) / (16 * Self.u * scale) }.max() ?? 0 : .infinity
        // Converse: a random one-layer network with N_1 = m + 1 neurons has N_1 breakpoints (generically; at most N_1).
        let n1 = mb + 1
        let w1 = rng.normals(n1), b1 = rng.normals(n1), w2 = rng.normals(n1)
        let random = try Network(PiecewiseLinearFunction.architecture(width: n1), parameters: w1 + b1 + w2 + [rng.normal()])
        let zeros = zip(w1, b1).map { -$1 / $0 }
        let rseg = try LinearRegions(random).segment(from: [zeros.min()! - 1], to: [zeros.max()! + 1])
        m["converse_width"] = Double(n1)
        m["converse_kinks"] = Double(rseg.outputBreakpoints.count)
        if key.seed == 0 && mb == c.pictureBreakpoints {
            let px = (0...200).map { lo + (hi - lo) * Double($0) / 200 }
            series["x"] = px
            series["y_network"] = try net(Matrix(column: px)).storage
            series["breakpoints"] = b
            series["breakpoint_values"] = b.map { Double(reference($0)) }
            series["ends"] = [lo, Double(reference(lo)), hi, Double(reference(hi))]
        }
        return RunOutput(metrics: m, series: series)
    }

    public func analyze(_ c: Config, runs: [RunRecord]) throws -> Analysis {
        var a = Analysis()
        let u = Self.u
        if let hat = runs.first(where: { $0.key.setting == "hat" })?.output {
            let mt = hat.metrics
            a.claims.append(Claim("The two-neuron network 2 ReLU(x) - 4 ReLU(x - 1/2) and the seed's ReLU of it equal the (corrected) hat exactly on the 2,049 dyadic points k / 1024 in [-1/2, 3/2]",
                                  measured: max(mt["dyadic_error_inner"] ?? .nan, mt["dyadic_error_seed"] ?? .nan), expected: "0",
                                  tolerance: "exact (every operation on these points is exact in binary floating point)",
                                  passed: mt["dyadic_error_inner"] == 0 && mt["dyadic_error_seed"] == 0))
            let re = max(mt["random_error_inner"] ?? .nan, mt["random_error_seed"] ?? .nan)
            a.claims.append(Claim("... and to rounding on 20,000 uniform random points of [-1/2, 3/2]", measured: re, expected: "<= 5u = \(sig(5 * u, 3))",
                                  tolerance: "a priori rounding bound: x - 1/2 and the final difference each round once, the factors 2 and 4 are exact (u = 2^-53; reference in Float80)",
                                  passed: re <= 5 * u))
            a.claims.append(Claim("The seed's network (outer ReLU included) has exactly 4 linear pieces on [-1, 2], with kinks at 0, 1/2 and 1 (exact segment partition)",
                                  measured: mt["kink_error"] ?? .nan, expected: "4 pieces, largest |kink - {0, 1/2, 1}| <= 16u (3 - point rounding)",
                                  tolerance: "rounding of t = -c/s and x = x0 + t (x1 - x0) on a segment of length 3: 16u x 3",
                                  passed: mt["pieces_seed"] == 4 && mt["kink_count_seed"] == 3 && (mt["kink_error"] ?? .infinity) <= 48 * u))
            a.notes.append("The seed prints 1 - 2x on [1/2, 1]; the network gives 2 - 2x (SEED-NOTES): largest |network - printed formula| on the random points = \(sig(mt["random_deviation_printed"] ?? .nan, 4)) (1 just right of x = 1/2, where the printed formula jumps from 1 to 0).")
            if let x = hat.series["x"], let yi = hat.series["y_inner"], let ys = hat.series["y_seed"] {
                let printed = x.map { $0 < 0 || $0 > 1 ? 0 : ($0 <= 0.5 ? 2 * $0 : 1 - 2 * $0) }
                a.figures.append(NamedFigure("hat", "The two-neuron network of sec. 1.1.2 with and without its outer ReLU, and the formula as printed (1 - 2x on [1/2, 1]).",
                                             Figure(title: "The hat network", x: Axis("x"), y: Axis("output"), layers: [
                                                 .line(x: x, y: yi, label: "2 ReLU(x) - 4 ReLU(x - 1/2)", color: 0, markers: false),
                                                 .line(x: x, y: ys, label: "seed's network (outer ReLU)", color: 1, markers: false),
                                                 .line(x: x, y: printed, label: "printed formula", color: 3, dashed: true, markers: false)])))
            }
        }

        let lemma = runs.filter { $0.key.setting.hasPrefix("m=") }
        if !lemma.isEmpty {
            let ratios = lemma.compactMap { $0.output.metrics["max_error_over_bound"] }
            let errors = lemma.compactMap { $0.output.metrics["max_error"] }
            let ms = Set(lemma.compactMap { $0.output.metrics["width"] }.map { Int($0) - 1 }).sorted()
            a.claims.append(Claim("Lemma 1.1.2: the (m + 1)-neuron network computes each random continuous piecewise-linear function with m breakpoints exactly, up to rounding, on a grid including every breakpoint and midpoint (\(lemma.count) functions, m in \(ms); largest absolute error \(sig(errors.max() ?? .nan, 3)))",
                                  measured: ratios.max() ?? .nan, expected: "<= 1 (largest error / ((m + 4) u S(x)))",
                                  tolerance: "a priori summation bound gamma_{m+3} S(x), S(x) = |f(b_1)| + sum_k |c_k| |x - b_k|, u = 2^-53; reference in Float80",
                                  passed: ratios.count == lemma.count && ratios.allSatisfy { $0 <= 1 }))
            let pieceOK = lemma.filter { r in r.output.metrics["pieces"] == (r.output.metrics["width"] ?? .nan) }
            a.claims.append(Claim("The exact segment partition of each constructed network has m + 1 linear pieces with its kinks at the m breakpoints",
                                  measured: Double(lemma.count - pieceOK.count), expected: "0 networks with a wrong piece count; kinks within 16u (|x0| + |x1|)",
                                  tolerance: "exact count; kink positions to the rounding of t = -c/s and x0 + t (x1 - x0)",
                                  passed: pieceOK.count == lemma.count && lemma.allSatisfy { ($0.output.metrics["kink_error_over_bound"] ?? .infinity) <= 1 }))
            let conv = lemma.filter { $0.output.metrics["converse_kinks"] == $0.output.metrics["converse_width"] }
            let over = lemma.filter { ($0.output.metrics["converse_kinks"] ?? .infinity) > ($0.output.metrics["converse_width"] ?? -1) }
            a.claims.append(Claim("Converse half of Lemma 1.1.2: a random one-layer network with N_1 neurons (Gaussian W^(1), b^(1), W^(2)) has at most N_1 breakpoints, and exactly N_1 (generic)",
                                  measured: Double(lemma.count - conv.count), expected: "0 networks with other than N_1 breakpoints",
                                  tolerance: "exact (counted on a segment covering every -b_i / W_i)", passed: over.isEmpty && conv.count == lemma.count))
            let byM = Dictionary(grouping: lemma) { Int($0.output.metrics["width"] ?? 1) - 1 }
            let mx = byM.keys.sorted()
            a.figures.append(NamedFigure("lemma-error", "Largest error of the constructed network over the grid, relative to the rounding bound (m + 4) u S(x), per function, vs m.",
                                         Figure(title: "Lemma 1.1.2: error / rounding bound", x: Axis("breakpoints m", scale: .log), y: Axis("max error / bound"),
                                                layers: [.scatter(x: mx.flatMap { m in byM[m]!.map { _ in Double(m) } }, y: mx.flatMap { m in byM[m]!.map { $0.output.metrics["max_error_over_bound"] ?? .nan } }, values: nil, label: "functions", color: 0),
                                                         .line(x: [Double(mx.first ?? 1), Double(mx.last ?? 1)], y: [1, 1], label: "bound", color: 3, dashed: true, markers: false)])))
            a.tables.append(DataTable("lemma", header: ["m", "functions", "largest |error|", "largest error / bound", "pieces all m + 1"],
                                      rows: mx.map { m in
                                          let g = byM[m]!
                                          return ["\(m)", "\(g.count)", sig(g.compactMap { $0.output.metrics["max_error"] }.max() ?? .nan, 3),
                                                  sig(g.compactMap { $0.output.metrics["max_error_over_bound"] }.max() ?? .nan, 3),
                                                  g.allSatisfy { $0.output.metrics["pieces"] == Double(m + 1) } ? "yes" : "no"] }))
            if let r = lemma.first(where: { $0.key.seed == 0 && $0.output.series["breakpoints"] != nil }), let x = r.output.series["x"], let y = r.output.series["y_network"],
               let b = r.output.series["breakpoints"], let bv = r.output.series["breakpoint_values"], let e = r.output.series["ends"], e.count == 4 {
                a.figures.append(NamedFigure("lemma-example", "A random continuous piecewise-linear function with \(b.count) breakpoints (its exact graph through the breakpoints) and the \(b.count + 1)-neuron network of Lemma 1.1.2 evaluated on a grid.",
                                             Figure(title: "Lemma 1.1.2: a reproduced function", x: Axis("x"), y: Axis("f(x)"), layers: [
                                                 .line(x: [e[0]] + b + [e[2]], y: [e[1]] + bv + [e[3]], label: "f (breakpoints)", color: 0, markers: true),
                                                 .scatter(x: x, y: y, values: nil, label: "network", color: 1, radius: 1.5)])))
            }
        }
        return a
    }
}
