import Foundation
import Testing
@testable import Overparam

// Exact linear regions of ReLU networks (seed 004 ch. 4, eq. 4.0.1 corrected): segments, 2-D cells and nodal sets,
// Zaslavsky's count, and Lemma 1.1.2's construction. Reference values come from hand-made networks with known
// regions and from the network's own forward pass (signs of pre-activations on dense grids).

// MARK: - Helpers

/// Seed 004's random network: W ~ N(0, 2), b ~ N(0, 1), z^(l+1) = b + W ReLU(z^(l)) / sqrt(N_l).
private func haninNetwork(_ n0: Int, _ widths: [Int], seed: UInt64) throws -> Network {
    try Network(Architecture(inputDimension: n0, hiddenWidths: widths, activation: .relu, weightVariance: 2,
                             biasVariance: 1, parameterization: .hanin), seed: seed)
}

/// A ReLU network with explicit raw parameters (`.standard`: z = W x + b), layers given as (W rows, b); the last layer
/// is the readout.
private func handNetwork(_ n0: Int, _ layers: [(w: [[Double]], b: [Double])]) throws -> Network {
    let arch = Architecture(inputDimension: n0, hiddenWidths: layers.dropLast().map { $0.b.count }, activation: .relu,
                            outputDimension: layers[layers.count - 1].b.count, weightVariance: 1, biasVariance: 1,
                            hasBias: true, parameterization: .standard)
    return try Network(arch, parameters: layers.flatMap { $0.w.flatMap { $0 } + $0.b })
}

/// The network's hidden pre-activations at each row of x: hidden[l - 1] is Z_l (n x N_l).
private func hiddenPreactivations(_ net: Network, _ x: Matrix) throws -> [Matrix] {
    Array(try net.forward(x).preactivations.dropLast())
}

/// The pattern of row r (on iff z > 0) and the smallest |z| (how close the point is to a boundary).
private func patternAt(_ z: [Matrix], row r: Int, count: Int) -> (pattern: ActivationPattern, margin: Double) {
    var p = ActivationPattern(count: count)
    var k = 0, margin = Double.infinity
    for m in z {
        for j in 0..<m.cols {
            let v = m[r, j]
            if v > 0 { p[k] = true }
            margin = Swift.min(margin, abs(v))
            k += 1
        }
    }
    return (p, margin)
}

private func gridPoints(_ box: LinearRegions.PlaneBox, _ n: Int) -> [SIMD2<Double>] {
    var pts = [SIMD2<Double>]()
    pts.reserveCapacity(n * n)
    for i in 0..<n {
        for j in 0..<n {
            // Cell centers of an n x n grid: never on the box boundary.
            let s = box.lower.x + (Double(i) + 0.5) / Double(n) * box.width
            let t = box.lower.y + (Double(j) + 0.5) / Double(n) * box.height
            pts.append(SIMD2(s, t))
        }
    }
    return pts
}

private func inputs(_ pts: [SIMD2<Double>], _ slice: LinearRegions.PlaneSlice) -> Matrix {
    Matrix(pts.map { slice.point($0) })
}

/// Walks a nodal set as a graph (segments joined where endpoints are within 1e-9 of the box diagonal): a generic
/// nodal set is a 1-manifold whose ends lie on the box boundary, so every interior endpoint has exactly one partner and
/// every boundary endpoint none. Returns the number of connected components (depth-first search) and the number of
/// endpoints breaking that rule.
private func walkNodalSet(_ set: LinearRegions.NodalSet, _ box: LinearRegions.PlaneBox) -> (components: Int, bad: Int) {
    let tol = 1e-9 * box.diagonal
    let ends = set.segments.flatMap { [$0.a, $0.b] }
    var neighbors = [[Int]](repeating: [], count: set.segments.count)
    var bad = 0
    for (k, p) in ends.enumerated() {
        let toBoundary = Swift.min(abs(p.x - box.lower.x), abs(p.x - box.upper.x), abs(p.y - box.lower.y), abs(p.y - box.upper.y))
        var partners = 0
        for (q, r) in ends.enumerated() where q / 2 != k / 2 {
            let d = r - p
            if (d.x * d.x + d.y * d.y).squareRoot() <= tol {
                partners += 1
                neighbors[k / 2].append(q / 2)
            }
        }
        if partners != (toBoundary <= tol ? 0 : 1) { bad += 1 }
    }
    var seen = [Bool](repeating: false, count: set.segments.count), components = 0
    for start in 0..<set.segments.count where !seen[start] {
        components += 1
        var stack = [start]
        seen[start] = true
        while let v = stack.popLast() {
            for w in neighbors[v] where !seen[w] {
                seen[w] = true
                stack.append(w)
            }
        }
    }
    return (components, bad)
}

// MARK: - Hand-made networks

@Suite("LinearRegion: hand-made networks")
struct LinearRegionHandMadeTests {
    /// Lines x1 = 0, x2 = 0, x1 + x2 = 1 in [-2, 2]^2: 7 regions (all sign patterns but (off, off, on)).
    @Test("three lines make 7 regions; a line outside the box adds none, one inside adds its crossings")
    func threeLines() throws {
        let net = try handNetwork(2, [(w: [[1, 0], [0, 1], [1, 1]], b: [0, 0, -1]), (w: [[1, 0, 0]], b: [-1])])
        let r = try LinearRegions(net)
        let box = LinearRegions.PlaneBox.square(halfWidth: 2)
        let part = try r.plane(box, nodalNeurons: [NeuronID(layer: 1, index: 2)])
        #expect(part.regionCount == 7)
        #expect(Set(part.cells.map { $0.pattern.description }) == ["000", "100", "010", "110", "101", "011", "111"])
        #expect(abs(part.totalArea - 16) <= 1e-12)
        // Neuron 3's zero line runs from (-1, 2) to (2, -1): one chord of the box (layer 1 sees no earlier cells).
        let nodal = part.nodalSets[0]
        #expect(abs(nodal.length - 3 * 2.0.squareRoot()) <= 1e-12)
        #expect(nodal.segments.count == 1)
        #expect(nodal.componentCount == 1)
        // Output ReLU(x1) - 1: zero set x1 = 1 (length 4). It passes through the vertex (1, 0) where x2 = 0 and
        // x1 + x2 = 1 meet, so it is two chords (cells 100 and 111; cells 101 and 110 touch it at one point only),
        // joined at (1, 0).
        #expect(abs(part.outputNodalSet.length - 4) <= 1e-12)
        #expect(part.outputNodalSet.segments.count == 2)
        #expect(part.outputNodalSet.componentCount == 1)
        for c in part.cells {
            let p = c.centroid
            #expect(abs(c.output(at: p) - (Swift.max(p.x, 0) - 1)) <= 1e-12)
        }

        // x1 = 5 misses the box: still 7 regions. x1 = 1.5 crosses x2 = 0 and x1 + x2 = 1 inside: 3 more.
        let outside = try handNetwork(2, [(w: [[1, 0], [0, 1], [1, 1], [1, 0]], b: [0, 0, -1, -5]), (w: [[1, 0, 0, 1]], b: [0])])
        #expect(try LinearRegions(outside).plane(box).regionCount == 7)
        let inside = try handNetwork(2, [(w: [[1, 0], [0, 1], [1, 1], [1, 0]], b: [0, 0, -1, -1.5]), (w: [[1, 0, 0, 1]], b: [0])])
        let pin = try LinearRegions(inside).plane(box)
        #expect(pin.regionCount == 10)
        #expect(pin.regionCountsByLayer == [10])
        // The same box shrunk to [-0.5, 0.5]^2 sees only x1 = 0 and x2 = 0.
        #expect(try LinearRegions(inside).plane(.square(halfWidth: 0.5)).regionCount == 4)
    }

    /// Layer 2 neurons |x1| + |x2| - 1 (a diamond: one closed curve) and |x1| + |x2| - 3 (four corner arcs in the box).
    @Test("deeper hand-made net: diamond nodal sets, lengths and component counts")
    func diamonds() throws {
        let net = try handNetwork(2, [
            (w: [[1, 0], [-1, 0], [0, 1], [0, -1]], b: [0, 0, 0, 0]),
            (w: [[1, 1, 1, 1], [1, 1, 1, 1]], b: [-1, -3]),
            (w: [[1, -1]], b: [-0.5]),
        ])
        let r = try LinearRegions(net)
        let part = try r.plane(.square(halfWidth: 2), nodalNeurons: [NeuronID(layer: 2, index: 0), NeuronID(layer: 2, index: 1), NeuronID(layer: 1, index: 1)])
        // Quadrants (x1 and -x1 share a line), each cut by the diamond and by the corner arc.
        #expect(part.regionCountsByLayer == [4, 12])
        #expect(part.regionCount == 12)
        #expect(abs(part.totalArea - 16) <= 1e-12)
        let d1 = part.nodalSets[0], d3 = part.nodalSets[1], line = part.nodalSets[2]
        #expect(abs(d1.length - 4 * 2.0.squareRoot()) <= 1e-12)
        #expect(d1.componentCount == 1)
        #expect(abs(d3.length - 4 * 2.0.squareRoot()) <= 1e-12)
        #expect(d3.componentCount == 4)
        #expect(abs(line.length - 4) <= 1e-12)
        #expect(line.componentCount == 1)
        // Output ReLU(|x|_1 - 1) - ReLU(|x|_1 - 3) - 0.5 vanishes on the diamond |x|_1 = 1.5.
        #expect(abs(part.outputNodalSet.length - 4 * 1.5 * 2.0.squareRoot()) <= 1e-12)
        #expect(part.outputNodalSet.componentCount == 1)
    }

    /// Neurons ReLU(x), ReLU(x - 1), ReLU(2 - x), then ReLU(h_0 - 1/2), ReLU(h_2 - 5/2), output g_0 - g_1, on
    /// x in [-1, 3] (t = (x + 1) / 4): breakpoints x = -1/2, 0, 1/2, 1, 2; output slopes 1, 0, 0, 1, 1, 1 in x.
    @Test("1-D hand-made net: exact breakpoints, regions and merged pieces")
    func segmentHandMade() throws {
        let net = try handNetwork(1, [
            (w: [[1], [1], [-1]], b: [0, -1, 2]),
            (w: [[1, 0, 0], [0, 0, 1]], b: [-0.5, -2.5]),
            (w: [[1, -1]], b: [0]),
        ])
        let seg = try LinearRegions(net).segment(from: [-1], to: [3])
        let expected: [(Double, NeuronID)] = [(0.125, NeuronID(layer: 2, index: 1)), (0.25, NeuronID(layer: 1, index: 0)),
                                              (0.375, NeuronID(layer: 2, index: 0)), (0.5, NeuronID(layer: 1, index: 1)),
                                              (0.75, NeuronID(layer: 1, index: 2))]
        #expect(seg.breakpoints.count == expected.count)
        for (b, e) in zip(seg.breakpoints, expected) {
            #expect(abs(b.t - e.0) <= 1e-15)
            #expect(b.neuron == e.1)
        }
        #expect(seg.regionCount == 6)
        #expect(seg.breakpointCounts == [[1, 1, 1], [1, 1]])
        #expect(seg.pieceCount == 3)
        #expect(seg.outputBreakpoints.count == 2)
        #expect(abs(seg.outputBreakpoints[0] - 0.125) <= 1e-15 && abs(seg.outputBreakpoints[1] - 0.375) <= 1e-15)
        // Output in t: 0.5 + x = 4t - 0.5, then 0, then x - 0.5 = 4t - 1.5.
        let want: [(Double, Double)] = [(-0.5, 4), (0, 0), (-1.5, 4)]
        for (p, w) in zip(seg.pieces, want) {
            #expect(abs(p.intercept - w.0) <= 1e-14 && abs(p.slope - w.1) <= 1e-14)
        }
        #expect(abs(seg.length - 4) <= 1e-15)
    }

    /// Breakpoints 1e-7 from the segment's start and 5e-7 from an earlier layer's breakpoint are found; slopes that
    /// differ by a relative 1e-6 are separate pieces; a neuron that is identically 0 on an interval adds nothing.
    /// h = (ReLU(x), ReLU(x - 1/2), ReLU(x + 1 - 2e-7)), g = (ReLU(h_0 - 1e-6), ReLU(h_2 + 1e-6 h_1)), output
    /// g_0 + g_1 on x in [-1, 1] (t = (x + 1) / 2): output slopes in x are 0, 1, 2, 2 + 1e-6.
    @Test("1-D hand-made net: close breakpoints and nearly equal slopes")
    func segmentCloseCalls() throws {
        let net = try handNetwork(1, [
            (w: [[1], [1], [1]], b: [0, -0.5, 1 - 2e-7]),
            (w: [[1, 0, 0], [0, 1e-6, 1]], b: [-1e-6, 0]),
            (w: [[1, 1]], b: [0]),
        ])
        let seg = try LinearRegions(net).segment(from: [-1], to: [1])
        let want: [(Double, NeuronID)] = [(1e-7, NeuronID(layer: 1, index: 2)), (0.5, NeuronID(layer: 1, index: 0)),
                                          (0.5 + 5e-7, NeuronID(layer: 2, index: 0)), (0.75, NeuronID(layer: 1, index: 1))]
        #expect(seg.breakpoints.count == want.count)
        for (b, w) in zip(seg.breakpoints, want) {
            #expect(abs(b.t - w.0) <= 1e-14 && b.neuron == w.1, "\(b)")
        }
        #expect(seg.regionCount == 5)
        #expect(seg.pieceCount == 4)
        let slopes: [Double] = [0, 2, 4, 4 + 2e-6]
        for (p, s) in zip(seg.pieces, slopes) { #expect(abs(p.slope - s) <= 1e-13, "\(p)") }
        #expect(abs(seg.outputBreakpoints[0] - 1e-7) <= 1e-14 && abs(seg.outputBreakpoints[1] - (0.5 + 5e-7)) <= 1e-14)
    }
}

// MARK: - One hidden layer: Zaslavsky

@Suite("LinearRegion: one hidden layer and Zaslavsky's count")
struct LinearRegionZaslavskyTests {
    @Test("sum_{k<=d} C(n, k): small cases, 2^n, n = 1000 and overflow")
    func counts() throws {
        #expect(try LinearRegions.zaslavskyCount(hyperplanes: 3, dimension: 2) == 7)
        #expect(try LinearRegions.zaslavskyCount(hyperplanes: 0, dimension: 2) == 1)
        #expect(try LinearRegions.zaslavskyCount(hyperplanes: 5, dimension: 1) == 6)
        #expect(try LinearRegions.zaslavskyCount(hyperplanes: 10, dimension: 12) == 1024)
        #expect(try LinearRegions.zaslavskyCount(hyperplanes: 1000, dimension: 2) == 500_501)
        #expect(try LinearRegions.zaslavskyCount(hyperplanes: 63, dimension: 63) == UInt64(1) << 63)
        // Pascal's triangle (independent of the multiplicative formula) for n <= 60.
        var row: [UInt64] = [1]
        for n in 1...60 {
            row = (0...n).map { (k: Int) -> UInt64 in (k == 0 || k == n) ? 1 : row[k - 1] + row[k] }
            for d in [2, 3, 7, 30] {
                let sum = row.prefix(d + 1).reduce(0, +)
                #expect(try LinearRegions.zaslavskyCount(hyperplanes: n, dimension: d) == sum, "n = \(n), d = \(d)")
            }
        }
        #expect(errorKind { _ = try LinearRegions.zaslavskyCount(hyperplanes: 64, dimension: 64) } == "invalidArgument")
        #expect(errorKind { _ = try LinearRegions.zaslavskyCount(hyperplanes: 200, dimension: 100) } == "invalidArgument")
        #expect(errorKind { _ = try LinearRegions.zaslavskyCount(hyperplanes: -1, dimension: 2) } == "invalidArgument")
    }

    @Test("random one-layer nets: cells in a box holding every vertex = 1 + N1 + C(N1, 2)", arguments: [5, 16, 40])
    func oneLayerMatchesZaslavsky(n1: Int) throws {
        for seed in [UInt64(1), 2, 3] {
            let r = try LinearRegions(try haninNetwork(2, [n1], seed: seed + UInt64(100 * n1)))
            let box = try r.intersectionBox()
            let part = try r.plane(box)
            #expect(part.regionCount == Int(try LinearRegions.zaslavskyCount(hyperplanes: n1, dimension: 2)), "N1 = \(n1), seed \(seed)")
            #expect(abs(part.totalArea - box.area) <= 1e-9 * box.area)
            // A box well inside misses some vertices, hence regions.
            let small = try r.plane(.square(halfWidth: 0.05))
            #expect(small.regionCount < part.regionCount)
        }
    }
}

// MARK: - Random deep networks on the plane

@Suite("LinearRegion: random deep nets in 2-D")
struct LinearRegionPlaneTests {
    /// Every pattern the forward pass sees on an n x n grid belongs to an enumerated cell containing the point, every
    /// cell's centroid has the cell's pattern and output, and the cells tile the box.
    private func checkAgainstGrid(_ net: Network, _ box: LinearRegions.PlaneBox, slice: LinearRegions.PlaneSlice? = nil, grid n: Int) throws {
        let r = try LinearRegions(net)
        let part = try r.plane(box, slice: slice)
        let sl = part.slice
        #expect(abs(part.totalArea - box.area) <= 1e-9 * box.area)
        #expect(part.cells.allSatisfy { $0.area > 0 && $0.vertices.count >= 3 })
        var byPattern = [ActivationPattern: Int]()
        for (k, c) in part.cells.enumerated() { byPattern[c.pattern] = k }
        #expect(byPattern.count == part.regionCount, "two cells share a pattern")

        let pts = gridPoints(box, n)
        let z = try hiddenPreactivations(net, inputs(pts, sl))
        let tol = 1e-9 * box.diagonal
        var missed = 0, ambiguous = 0, seen = Set<ActivationPattern>()
        for (k, p) in pts.enumerated() {
            let (pattern, margin) = patternAt(z, row: k, count: r.hiddenNeuronCount)
            if let c = byPattern[pattern], part.cells[c].contains(p, tolerance: tol) {
                seen.insert(pattern)
            } else if margin < 1e-9 {
                ambiguous += 1
            } else {
                missed += 1
            }
        }
        #expect(missed == 0, "grid points whose pattern has no enumerated cell containing them")
        #expect(ambiguous <= n / 10)
        // The grid resolves most cells (so the check above is not vacuous).
        #expect(Double(seen.count) >= 0.5 * Double(part.regionCount))

        let centroids = part.cells.map(\.centroid)
        let pass = try net.forward(inputs(centroids, sl))
        let zc = Array(pass.preactivations.dropLast())
        for (k, c) in part.cells.enumerated() {
            let (pattern, margin) = patternAt(zc, row: k, count: r.hiddenNeuronCount)
            if margin > 1e-9 { #expect(pattern == c.pattern, "cell \(k)") }
            let f = pass.outputs[k, 0]
            #expect(abs(c.output(at: centroids[k]) - f) <= 1e-10 * (1 + abs(f)), "output on cell \(k)")
        }
    }

    @Test("depth 2 and 3, widths 8-16: no region missed on a 400 x 400 grid, areas tile the box")
    func gridCoverage() throws {
        try checkAgainstGrid(try haninNetwork(2, [12, 10], seed: 7), .square(halfWidth: 2), grid: 400)
        try checkAgainstGrid(try haninNetwork(2, [8, 16, 12], seed: 8), LinearRegions.PlaneBox(lower: [-1, -2], upper: [3, 1]), grid: 400)
        try checkAgainstGrid(try haninNetwork(2, [16, 16, 16], seed: 9), .square(halfWidth: 1), grid: 400)
    }

    @Test("a 2-D slice of a 5-input net: same checks")
    func slice() throws {
        let slice = LinearRegions.PlaneSlice(origin: [0.3, -0.2, 0.1, 0.5, -0.4], u: [1, 0, 0.5, 0, -0.3], v: [0, 1, -0.2, 0.7, 0.1])
        try checkAgainstGrid(try haninNetwork(5, [10, 12], seed: 11), .square(halfWidth: 2), slice: slice, grid: 250)
        #expect(errorKind { _ = try LinearRegions(try haninNetwork(5, [10, 12], seed: 11)).plane(.square(halfWidth: 1)) } == "invalidArgument")
    }

    /// Along horizontal lines t = t_k, the number of nodal segments crossing the line equals the number of sign changes
    /// of the neuron's pre-activation (from the forward pass) on a fine grid of s.
    @Test("nodal sets cross horizontal lines where the neuron changes sign")
    func nodalCrossings() throws {
        let net = try haninNetwork(2, [12, 12, 12], seed: 21)
        let r = try LinearRegions(net)
        let box = LinearRegions.PlaneBox.square(halfWidth: 3)
        let neurons = [NeuronID(layer: 1, index: 0)] + (2...3).flatMap { l in (0..<12).map { NeuronID(layer: l, index: $0) } }
        let part = try r.plane(box, nodalNeurons: neurons)
        let sets = part.nodalSets + [part.outputNodalSet]
        #expect(sets.allSatisfy { ($0.length > 0) == ($0.componentCount > 0) && $0.componentCount <= $0.segments.count })
        // A straight layer-1 line is one component; the bent ones are 1-manifolds ending on the box boundary, and the
        // union-find count agrees with a walk along them.
        #expect(part.nodalSets[0].componentCount == 1)
        for set in sets {
            let walk = walkNodalSet(set, box)
            #expect(walk.bad == 0, "\(set.neuron)")
            #expect(walk.components == set.componentCount, "\(set.neuron)")
        }
        #expect(sets.map(\.componentCount).reduce(0, +) >= 20)
        #expect(sets.contains { $0.componentCount >= 2 })
        let lines = 41, samples = 4000
        var pts = [SIMD2<Double>]()
        for k in 0..<lines {
            let t = box.lower.y + (Double(k) + 0.37) / Double(lines) * box.height
            for j in 0...samples { pts.append(SIMD2(box.lower.x + Double(j) / Double(samples) * box.width, t)) }
        }
        let pass = try net.forward(Matrix(pts.map { [$0.x, $0.y] }))
        var totalCrossings = 0
        for (q, set) in sets.enumerated() {
            let n = q < neurons.count ? neurons[q] : NeuronID(layer: r.depth + 1, index: 0)
            let z = pass.preactivations[n.layer - 1]
            for k in 0..<lines {
                let t = pts[k * (samples + 1)].y
                var changes = 0
                for j in 0..<samples {
                    let a = z[k * (samples + 1) + j, n.index], b = z[k * (samples + 1) + j + 1, n.index]
                    if (a > 0) != (b > 0) { changes += 1 }
                }
                let crossings = set.segments.filter { ($0.a.y - t) * ($0.b.y - t) < 0 }.count
                #expect(crossings == changes, "\(n) on t = \(t)")
                totalCrossings += crossings
            }
        }
        #expect(totalCrossings >= 200)
    }
}

// MARK: - Segments

@Suite("LinearRegion: segments")
struct LinearRegionSegmentTests {
    @Test("breakpoints are the sign changes of the pre-activations; the output is affine on each piece")
    func randomSegment() throws {
        for (n0, widths, seed) in [(5, [16, 16, 16], UInt64(31)), (1, [8, 12], UInt64(32)), (3, [10, 10, 10, 10], UInt64(33)),
                                   (4, [64, 64, 64], UInt64(34))] {
            let net = try haninNetwork(n0, widths, seed: seed)
            let r = try LinearRegions(net)
            var rng = Xoshiro256StarStar(seed: seed)
            let x0 = rng.normals(n0), u = rng.onSphere(dimension: n0)
            let x1 = zip(x0, u).map { $0 + 10 * $1 }
            let seg = try r.segment(from: x0, to: x1)
            #expect(seg.breakpoints.count >= 10)
            #expect(seg.regionCount == seg.breakpoints.count + 1)
            #expect(seg.intervals.first?.lower == 0 && seg.intervals.last?.upper == 1)
            for k in 1..<seg.intervals.count { #expect(seg.intervals[k].lower == seg.intervals[k - 1].upper) }
            #expect(seg.breakpointCounts.flatMap { $0 }.reduce(0, +) == seg.breakpoints.count)

            // (1) Sign changes on a fine grid of t: in every grid cell each neuron changes sign iff it has an odd number
            // of breakpoints there.
            let m = 20_000
            let ts = (0...m).map { Double($0) / Double(m) }
            let z = try hiddenPreactivations(net, Matrix(ts.map { seg.point($0) }))
            var byNeuron = [NeuronID: [Double]]()
            for b in seg.breakpoints { byNeuron[b.neuron, default: []].append(b.t) }
            var mismatches = 0
            for l in 1...widths.count {
                for i in 0..<widths[l - 1] {
                    var counts = [Int](repeating: 0, count: m)
                    for t in byNeuron[NeuronID(layer: l, index: i)] ?? [] { counts[Swift.min(Int(t * Double(m)), m - 1)] += 1 }
                    for j in 0..<m where ((z[l - 1][j, i] > 0) != (z[l - 1][j + 1, i] > 0)) != (counts[j] % 2 == 1) {
                        mismatches += 1
                    }
                }
            }
            #expect(mismatches == 0, "n0 = \(n0)")

            // (2) Each breakpoint's neuron vanishes there.
            let zb = try hiddenPreactivations(net, Matrix(seg.breakpoints.map { seg.point($0.t) }))
            let scale = 1 + z.map(\.maxAbs).max()!
            for (k, b) in seg.breakpoints.enumerated() {
                #expect(abs(zb[b.neuron.layer - 1][k, b.neuron.index]) <= 1e-11 * scale, "\(b.neuron) at t = \(b.t)")
            }

            // (3) The output is affine on each piece: interior points match the chord between the piece's ends and the
            // piece's own affine map; adjacent pieces have visibly different slopes (finite differences).
            var probes = [Double]()
            for p in seg.pieces {
                let w = p.upper - p.lower
                probes += [p.lower, p.lower + 0.25 * w, p.lower + 0.5 * w, p.lower + 0.75 * w, p.upper]
            }
            let f = try net(Matrix(probes.map { seg.point($0) })).storage
            let fScale = 1 + f.map { abs($0) }.max()!
            for (k, p) in seg.pieces.enumerated() {
                let v = Array(f[(5 * k)..<(5 * k + 5)])
                for (q, frac) in [(1, 0.25), (2, 0.5), (3, 0.75)] {
                    let chord = v[0] + frac * (v[4] - v[0])
                    #expect(abs(v[q] - chord) <= 1e-10 * fScale, "piece \(k)")
                    #expect(abs(v[q] - (p.intercept + p.slope * probes[5 * k + q])) <= 1e-10 * fScale, "piece \(k) map")
                }
            }
            for t in seg.outputBreakpoints {
                let h = 1e-7
                let g = try net(Matrix([seg.point(t - 2 * h), seg.point(t - h), seg.point(t + h), seg.point(t + 2 * h)])).storage
                let left = (g[1] - g[0]) / h, right = (g[3] - g[2]) / h
                #expect(abs(left - right) > 1e-6 * (1 + abs(left) + abs(right)), "kink at t = \(t)")
            }
            #expect(seg.pieceCount <= seg.regionCount)
        }
    }
}

// MARK: - Lemma 1.1.2 and the hat function

@Suite("LinearRegion: Lemma 1.1.2 and the hat function")
struct PiecewiseLinearNetworkTests {
    @Test("random piecewise-linear functions with 5-20 breakpoints are reproduced exactly")
    func lemma112() throws {
        var rng = Xoshiro256StarStar(seed: 112)
        for trial in 0..<12 {
            let m = 5 + rng.index(below: 16)
            var b = [rng.normal() * 3]
            for _ in 1..<m { b.append(b[b.count - 1] + 0.05 + rng.uniform()) }
            let slopes = rng.normals(m + 1, std: 2), value = rng.normal()
            let f = try PiecewiseLinearFunction(breakpoints: b, slopes: slopes, anchorValue: value)
            let net = try f.network()
            #expect(net.architecture.hiddenWidths == [m + 1])
            // Independent evaluation: values at the breakpoints by cumulative sums.
            var vb = [value]
            for k in 1..<m { vb.append(vb[k - 1] + slopes[k] * (b[k] - b[k - 1])) }
            func reference(_ x: Double) -> Double {
                if x <= b[0] { return value + slopes[0] * (x - b[0]) }
                var k = 0
                while k + 1 < m && x > b[k + 1] { k += 1 }
                return vb[k] + slopes[k + 1] * (x - b[k])
            }
            let xs = (0...1000).map { b[0] - 2 + Double($0) / 1000 * (b[m - 1] - b[0] + 4) } + b
            let out = try net(Matrix(column: xs)).storage
            let padded = try f.network(width: m + 4)(Matrix(column: xs)).storage
            for (k, x) in xs.enumerated() {
                let want = reference(x)
                #expect(abs(out[k] - want) <= 1e-12 * (1 + abs(want)), "trial \(trial), x = \(x)")
                #expect(abs(f(x) - want) <= 1e-12 * (1 + abs(want)))
                #expect(abs(padded[k] - out[k]) <= 1e-13 * (1 + abs(want)))
            }
            // The network's exact partition of a segment covering all breakpoints finds them as output kinks.
            let seg = try LinearRegions(net).segment(from: [b[0] - 1], to: [b[m - 1] + 1])
            let kinks = seg.outputBreakpoints.map { seg.point($0)[0] }
            #expect(kinks.count == m)
            for (k, x) in zip(kinks, b) { #expect(abs(k - x) <= 1e-12 * (1 + abs(x))) }
        }
        // Affine f needs two neurons; fewer than m + 1 neurons is refused.
        let affine = try PiecewiseLinearFunction(breakpoints: [], slopes: [-1.5], anchorValue: 2)
        let an = try affine.network()
        #expect(an.architecture.hiddenWidths == [2])
        let ya = try an(Matrix(column: [-3, 0, 4.5])).storage
        #expect(ya == [6.5, 2, -4.75])
        let three = try PiecewiseLinearFunction(breakpoints: [0, 1, 2], slopes: [1, 0, 1, 0], anchorValue: 0)
        #expect(errorKind { _ = try three.network(width: 3) } == "invalidArgument")
    }

    @Test("the hat network: 2x on [0, 1/2], 2 - 2x on [1/2, 1], 0 left of 0, 2 - 2x right of 1")
    func hat() throws {
        let net = PiecewiseLinearFunction.hatNetwork()
        #expect(net.architecture.hiddenWidths == [2])
        // Dyadic points: every operation is exact, so equality is exact.
        let xs = (-512...1536).map { Double($0) / 1024 }
        let y = try net(Matrix(column: xs)).storage
        for (x, v) in zip(xs, y) {
            let want = x < 0 ? 0 : (x <= 0.5 ? 2 * x : 2 - 2 * x)
            #expect(v == want, "x = \(x)")
            #expect(PiecewiseLinearFunction.hat(x) == want)
            if x >= 0 && x <= 1 { #expect(v == 1 - abs(2 * x - 1), "hat at \(x)") }
        }
        let general = try PiecewiseLinearFunction.hat.network()(Matrix(column: xs)).storage
        #expect(general == y)
        let seg = try LinearRegions(net).segment(from: [-1], to: [2])
        #expect(seg.pieceCount == 3)
        #expect(seg.outputBreakpoints.map { seg.point($0)[0] }.map { ($0 * 1e12).rounded() / 1e12 } == [0, 0.5])
    }
}

// MARK: - Bad input

@Suite("LinearRegion: bad input")
struct LinearRegionErrorTests {
    @Test("non-ReLU nets, degenerate segments and boxes, wrong shapes, unknown neurons: typed errors")
    func errors() throws {
        let tanhNet = try Network(Architecture(inputDimension: 2, hiddenWidths: [4], activation: .tanh, weightVariance: 1,
                                               biasVariance: 1, parameterization: .hanin), seed: 1)
        #expect(errorKind { _ = try LinearRegions(tanhNet) } == "invalidArgument")
        let net = try haninNetwork(2, [4, 4], seed: 1)
        let r = try LinearRegions(net)
        #expect(errorKind { _ = try LinearRegions(net, output: 1) } == "invalidArgument")
        #expect(errorKind { _ = try r.segment(from: [0.5, 1], to: [0.5, 1]) } == "invalidArgument")
        #expect(errorKind { _ = try r.segment(from: [0.5], to: [0.5, 1]) } == "shapeMismatch")
        #expect(errorKind { _ = try r.segment(from: [.nan, 0], to: [0.5, 1]) } == "nonFinite")
        #expect(errorKind { _ = try r.plane(LinearRegions.PlaneBox(lower: [0, 0], upper: [1, 0])) } == "invalidArgument")
        #expect(errorKind { _ = try r.plane(LinearRegions.PlaneBox(lower: [1, 0], upper: [0, 1])) } == "invalidArgument")
        #expect(errorKind { _ = try r.plane(LinearRegions.PlaneBox(lower: [0, 0], upper: [.infinity, 1])) } == "nonFinite")
        #expect(errorKind { _ = try r.plane(.square(halfWidth: 1), nodalNeurons: [NeuronID(layer: 2, index: 4)]) } == "invalidArgument")
        #expect(errorKind { _ = try r.plane(.square(halfWidth: 1), nodalNeurons: [NeuronID(layer: 4, index: 0)]) } == "invalidArgument")
        let badSlice = LinearRegions.PlaneSlice(origin: [0, 0, 0], u: [1, 0, 0], v: [0, 1, 0])
        #expect(errorKind { _ = try r.plane(.square(halfWidth: 1), slice: badSlice) } == "shapeMismatch")
        #expect(errorKind { _ = try r.intersectionBox(margin: 0) } == "invalidArgument")
        #expect(errorKind { _ = try r.plane(.square(halfWidth: 1), sliverTolerance: -1) } == "invalidArgument")
        #expect(errorKind { _ = try PiecewiseLinearFunction(breakpoints: [0, 0], slopes: [1, 2, 3], anchorValue: 0) } == "invalidArgument")
        #expect(errorKind { _ = try PiecewiseLinearFunction(breakpoints: [0, 1], slopes: [1, 2], anchorValue: 0) } == "shapeMismatch")
    }

    @Test("neuron indexing round-trips; patterns print neuron 0 first")
    func indexing() throws {
        let r = try LinearRegions(try haninNetwork(3, [5, 7, 2], seed: 2))
        #expect(r.hiddenNeuronCount == 14)
        for k in 0..<14 { #expect(r.flatIndex(r.neuron(atFlatIndex: k)) == k) }
        #expect(r.neuron(atFlatIndex: 5) == NeuronID(layer: 2, index: 0))
        #expect(r.neuron(atFlatIndex: 13) == NeuronID(layer: 3, index: 1))
        var p = ActivationPattern(count: 70)
        p[0] = true; p[66] = true
        #expect(p.onCount == 2 && p[66] && !p[65])
        #expect(p.description.prefix(3) == "100")
    }
}
