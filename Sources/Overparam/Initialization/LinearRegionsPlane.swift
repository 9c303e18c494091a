import Foundation

// The exact partition of a 2-D box by a ReLU network (seed 004 sec. 4.1-4.2: nodal sets H_i^(l) = {z_i^(l) = 0}, the
// nodal partition, Figure 4.1), and Zaslavsky's count for one hidden layer.

extension LinearRegions {
    /// An axis-parallel box [lower.x, upper.x] x [lower.y, upper.y] in the plane coordinates (s, t).
    public struct PlaneBox: Sendable, Hashable {
        public var lower: SIMD2<Double>
        public var upper: SIMD2<Double>

        public init(lower: SIMD2<Double>, upper: SIMD2<Double>) {
            self.lower = lower
            self.upper = upper
        }

        /// The square center + [-halfWidth, halfWidth]^2.
        public static func square(halfWidth h: Double, center: SIMD2<Double> = .zero) -> PlaneBox {
            PlaneBox(lower: center - SIMD2(h, h), upper: center + SIMD2(h, h))
        }

        public var width: Double { upper.x - lower.x }
        public var height: Double { upper.y - lower.y }
        public var area: Double { width * height }
        /// The length of the diagonal (the box's size for tolerances).
        public var diagonal: Double { (width * width + height * height).squareRoot() }
        /// The four corners, counter-clockwise from `lower`.
        public var corners: [SIMD2<Double>] { [lower, SIMD2(upper.x, lower.y), upper, SIMD2(lower.x, upper.y)] }
    }

    /// A 2-D affine slice of the input space: x = origin + s u + t v (N_0 entries each). For N_0 = 2 the default slice
    /// is the identity (origin 0, u = e_1, v = e_2). Lengths and areas are measured in (s, t); they are Euclidean
    /// lengths and areas in R^{N_0} when u and v are orthonormal.
    public struct PlaneSlice: Sendable, Hashable {
        public var origin: [Double]
        public var u: [Double]
        public var v: [Double]

        public init(origin: [Double], u: [Double], v: [Double]) {
            self.origin = origin
            self.u = u
            self.v = v
        }

        /// The identity slice of R^2.
        public static let identity = PlaneSlice(origin: [0, 0], u: [1, 0], v: [0, 1])

        /// The input x = origin + s u + t v at p = (s, t).
        public func point(_ p: SIMD2<Double>) -> [Double] {
            (0..<origin.count).map { origin[$0] + p.x * u[$0] + p.y * v[$0] }
        }
    }

    /// One activation region met by the box: a convex polygon (vertices counter-clockwise, in (s, t)), its activation
    /// pattern, and the output on it, z^(L+1) = outputConstant + outputGradient . (s, t).
    public struct Cell: Sendable, Hashable {
        public var vertices: [SIMD2<Double>]
        public var pattern: ActivationPattern
        public var outputConstant: Double
        public var outputGradient: SIMD2<Double>
        /// Area (shoelace formula).
        public var area: Double

        /// The output's affine map at p.
        public func output(at p: SIMD2<Double>) -> Double {
            outputConstant + outputGradient.x * p.x + outputGradient.y * p.y
        }

        /// The vertex average (an interior point of the convex polygon).
        public var centroid: SIMD2<Double> {
            vertices.reduce(SIMD2<Double>.zero, +) / Double(Swift.max(vertices.count, 1))
        }

        /// Whether p lies in the polygon or within `tolerance` (distance) of it.
        public func contains(_ p: SIMD2<Double>, tolerance: Double = 0) -> Bool {
            let n = vertices.count
            for k in 0..<n {
                let a = vertices[k], b = vertices[(k + 1) % n]
                let e = b - a
                let len = (e.x * e.x + e.y * e.y).squareRoot()
                if len == 0 { continue }
                // Signed distance of p to the left of edge a -> b (inside is to the left, vertices counter-clockwise).
                let cross = e.x * (p.y - a.y) - e.y * (p.x - a.x)
                if cross / len < -tolerance { return false }
            }
            return true
        }
    }

    /// A straight piece of a nodal set, from `a` to `b` (in (s, t)).
    public struct NodalSegment: Sendable, Hashable {
        public var a: SIMD2<Double>
        public var b: SIMD2<Double>
        public var length: Double { let d = b - a; return (d.x * d.x + d.y * d.y).squareRoot() }
    }

    /// The zero set H = {z_i^(l) = 0} of one neuron inside the box: the union of its zero segments in the cells where
    /// its pre-activation is affine (the regions of layers 1...l-1), its total length and its number of connected
    /// components (segments joined at endpoints closer than 1e-9 times the box diagonal).
    public struct NodalSet: Sendable, Hashable {
        public var neuron: NeuronID
        public var segments: [NodalSegment]
        public var length: Double
        public var componentCount: Int
    }

    /// The exact partition of a box by a ReLU network.
    public struct PlanePartition: Sendable {
        public var box: PlaneBox
        public var slice: PlaneSlice
        /// The activation regions met by the box; their polygons tile it.
        public var cells: [Cell]
        /// regionCountsByLayer[l - 1]: number of regions of the partition by the neurons of layers 1...l (l = 1...L);
        /// the last entry is ``regionCount``.
        public var regionCountsByLayer: [Int]
        /// The nodal sets of the requested neurons, in the order asked.
        public var nodalSets: [NodalSet]
        /// The zero set of the output z^(L+1) (row ``LinearRegions/output``).
        public var outputNodalSet: NodalSet

        /// Number of activation regions met by the box.
        public var regionCount: Int { cells.count }
        /// Sum of the cells' areas (the box area up to rounding).
        public var totalArea: Double { cells.reduce(0) { $0 + $1.area } }
    }

    /// Exact enumeration of the activation regions of the network in a 2-D box (N_0 = 2; for other N_0 pass a slice
    /// x = c + s u + t v), by recursive convex-polygon splitting.
    ///
    /// Start from the box polygon. For layer l = 1...L, every current polygon carries the affine maps of layer l's
    /// pre-activations on it, z_i = alpha_i + beta_{s,i} s + beta_{t,i} t; split it by each neuron's zero line in turn
    /// (Sutherland-Hodgman clipping of a convex polygon by the half-planes z_i >= 0 and z_i <= 0; a piece thinner than
    /// `sliverTolerance` times the box's scale is a rounding sliver and stays with the other side), set the neuron's
    /// bit, then compose with ReLU and layer l + 1's affine map to get the next maps on each piece. Every final polygon is then the full set
    /// of box points with its pattern (a convex set), so cells and patterns correspond one to one.
    /// The nodal set of neuron (l, i) is the union of its zero chords in the polygons of layers 1...l-1; the output's
    /// in the final cells. Source: seed 004 sec. 4.1-4.2 (eq. 4.0.1 corrected per SEED-NOTES; Figure 4.1).
    ///
    /// - Parameters:
    ///   - box: the box in (s, t); must have positive finite width and height.
    ///   - slice: required unless N_0 = 2 (then nil means the identity slice).
    ///   - nodalNeurons: neurons (hidden, or the readout layer L + 1) whose zero sets are measured.
    ///   - sliverTolerance: a piece is a sliver when its area is below sliverTolerance * scale * d, where d is the
    ///     diagonal of the piece's bounding box and scale = max(box diagonal, largest |corner coordinate|): i.e. when
    ///     it is thinner than sliverTolerance * scale (about 2 area / d is its width). For a piece as large as the box
    ///     this is about 1e-14 of the box area; unlike a fixed area cut it keeps genuine tiny regions far smaller than
    ///     the box (a box holding every vertex of 40 random lines can be 10^4 wide while some regions near the origin
    ///     have area 1e-9; a cut at 1e-14 of the box area loses up to 14 of 821 regions there).
    public func plane(_ box: PlaneBox, slice: PlaneSlice? = nil, nodalNeurons: [NeuronID] = [],
                      sliverTolerance: Double = 1e-14) throws -> PlanePartition {
        let sl = try checkedSlice(slice)
        guard box.lower.x.isFinite && box.lower.y.isFinite && box.upper.x.isFinite && box.upper.y.isFinite else {
            throw OverparamError.nonFinite("box corners")
        }
        guard box.width > 0 && box.height > 0 else {
            throw OverparamError.invalidArgument(name: "box", problem: "needs positive width and height (got \(box.width) x \(box.height))")
        }
        for n in nodalNeurons { try checkNeuron(n) }
        guard sliverTolerance >= 0 && sliverTolerance.isFinite else {
            throw OverparamError.invalidArgument(name: "sliverTolerance", problem: "must be a finite number >= 0 (got \(sliverTolerance))")
        }
        let corners = [box.lower.x, box.lower.y, box.upper.x, box.upper.y].map { abs($0) }.max()!
        let minWidth = sliverTolerance * Swift.max(box.diagonal, corners)
        let joinTolerance = 1e-9 * box.diagonal
        let L = depth

        // Layer 1's maps in (s, t): intercept A1 c + b1, slopes A1 u and A1 v.
        let first = propagate(layer: 1, [sl.origin, sl.u, sl.v])
        var cells = [PlaneWork(polygon: box.corners, area: box.area, pattern: ActivationPattern(count: hiddenNeuronCount),
                               alpha: first[0], bs: first[1], bt: first[2])]
        var nodal = [[NodalSegment]](repeating: [], count: nodalNeurons.count)
        var counts = [Int]()
        for l in 1...(L + 1) {
            for (q, n) in nodalNeurons.enumerated() where n.layer == l {
                for c in cells {
                    if let seg = Self.chord(c.polygon, c.alpha[n.index], SIMD2(c.bs[n.index], c.bt[n.index]), minLength: joinTolerance) {
                        nodal[q].append(seg)
                    }
                }
            }
            if l == L + 1 { break }
            var next = [PlaneWork]()
            next.reserveCapacity(cells.count * 2)
            let n = widths[l], off = offsets[l - 1]
            for c in cells {
                var pieces = [(polygon: c.polygon, area: c.area, pattern: c.pattern)]
                for i in 0..<n {
                    let a0 = c.alpha[i], g = SIMD2(c.bs[i], c.bt[i])
                    var out = [(polygon: [SIMD2<Double>], area: Double, pattern: ActivationPattern)]()
                    out.reserveCapacity(pieces.count + 2)
                    for p in pieces {
                        let r = Self.split(p.polygon, area: p.area, a0, g, minWidth: minWidth)
                        if let pos = r.positive {
                            var pat = p.pattern
                            pat[off + i] = true
                            out.append((pos.polygon, pos.area, pat))
                        }
                        if let neg = r.negative { out.append((neg.polygon, neg.area, p.pattern)) }
                    }
                    pieces = out
                }
                for p in pieces {
                    var post = [[Double]](repeating: [Double](repeating: 0, count: n), count: 3)
                    for i in 0..<n where p.pattern[off + i] {
                        post[0][i] = c.alpha[i]
                        post[1][i] = c.bs[i]
                        post[2][i] = c.bt[i]
                    }
                    let z = propagate(layer: l + 1, post)
                    next.append(PlaneWork(polygon: p.polygon, area: p.area, pattern: p.pattern, alpha: z[0], bs: z[1], bt: z[2]))
                }
            }
            cells = next
            counts.append(cells.count)
        }
        var outputSegments = [NodalSegment]()
        var result = [Cell]()
        result.reserveCapacity(cells.count)
        for c in cells {
            let g = SIMD2(c.bs[output], c.bt[output])
            if let seg = Self.chord(c.polygon, c.alpha[output], g, minLength: joinTolerance) { outputSegments.append(seg) }
            result.append(Cell(vertices: c.polygon, pattern: c.pattern, outputConstant: c.alpha[output], outputGradient: g, area: c.area))
        }
        func nodalSet(_ n: NeuronID, _ segs: [NodalSegment]) -> NodalSet {
            NodalSet(neuron: n, segments: segs, length: segs.reduce(0) { $0 + $1.length },
                     componentCount: Self.componentCount(segs, tolerance: joinTolerance))
        }
        return PlanePartition(box: box, slice: sl, cells: result, regionCountsByLayer: counts,
                              nodalSets: zip(nodalNeurons, nodal).map { nodalSet($0, $1) },
                              outputNodalSet: nodalSet(NeuronID(layer: L + 1, index: output), outputSegments))
    }

    /// A box (in (s, t)) containing every pairwise intersection of layer 1's zero lines and the point of each line
    /// nearest the origin, padded by `margin` times its size (at least `margin`). For a one-hidden-layer network whose
    /// lines are in general position, the regions met by this box are all the regions of the arrangement, so
    /// ``plane(_:slice:nodalNeurons:sliverTolerance:)`` counts exactly ``zaslavskyCount(hyperplanes:dimension:)`` with dimension 2.
    /// Lines with a zero normal (constant neurons) are ignored; parallel pairs have no intersection.
    public func intersectionBox(slice: PlaneSlice? = nil, margin: Double = 0.05) throws -> PlaneBox {
        let sl = try checkedSlice(slice)
        guard margin > 0 && margin.isFinite else {
            throw OverparamError.invalidArgument(name: "margin", problem: "must be a positive finite number (got \(margin))")
        }
        let m = propagate(layer: 1, [sl.origin, sl.u, sl.v])
        let alpha = m[0], bs = m[1], bt = m[2]
        var points = [SIMD2<Double>]()
        let n = widths[1]
        for i in 0..<n {
            let nn = bs[i] * bs[i] + bt[i] * bt[i]
            if nn == 0 { continue }
            points.append(SIMD2(bs[i], bt[i]) * (-alpha[i] / nn))
            for j in (i + 1)..<n {
                let det = bs[i] * bt[j] - bt[i] * bs[j]
                let scale = nn.squareRoot() * (bs[j] * bs[j] + bt[j] * bt[j]).squareRoot()
                if abs(det) <= 1e-14 * scale { continue }
                // Solve bs_i s + bt_i t = -alpha_i, bs_j s + bt_j t = -alpha_j (Cramer).
                let s = (-alpha[i] * bt[j] + alpha[j] * bt[i]) / det
                let t = (-alpha[j] * bs[i] + alpha[i] * bs[j]) / det
                points.append(SIMD2(s, t))
            }
        }
        guard var lo = points.first else { return PlaneBox.square(halfWidth: margin) }
        var hi = lo
        for p in points {
            lo = pointwiseMin(lo, p)
            hi = pointwiseMax(hi, p)
        }
        let size = Swift.max(hi.x - lo.x, hi.y - lo.y, 1)
        let pad = margin * size
        return PlaneBox(lower: lo - SIMD2(pad, pad), upper: hi + SIMD2(pad, pad))
    }

    /// Zaslavsky's count of the regions of a generic arrangement of n hyperplanes in R^d: sum_{k=0}^{d} C(n, k)
    /// (= 2^n when d >= n). For one hidden layer this is the number of activation regions of the network on R^{N_0}
    /// (seed 004 sec. 4.1: the partition of a one-layer ReLU network is an arrangement of N_1 hyperplanes).
    /// Exact in UInt64; throws `invalidArgument` for negative arguments or when the count does not fit in 64 bits
    /// (n = 1000, d = 2 gives 500,501).
    public static func zaslavskyCount(hyperplanes n: Int, dimension d: Int) throws -> UInt64 {
        guard n >= 0 && d >= 0 else {
            throw OverparamError.invalidArgument(name: "zaslavskyCount", problem: "needs n >= 0 and d >= 0 (got n = \(n), d = \(d))")
        }
        var total: UInt64 = 1, binom: UInt64 = 1
        for k in stride(from: 1, through: Swift.min(n, d), by: 1) {
            // C(n, k) = C(n, k - 1) (n - k + 1) / k, exact in 128-bit intermediate arithmetic.
            let product = binom.multipliedFullWidth(by: UInt64(n - k + 1))
            guard product.high < UInt64(k) else {
                throw OverparamError.invalidArgument(name: "zaslavskyCount", problem: "C(\(n), \(k)) does not fit in 64 bits")
            }
            binom = UInt64(k).dividingFullWidth(product).quotient
            let (sum, overflow) = total.addingReportingOverflow(binom)
            guard !overflow else {
                throw OverparamError.invalidArgument(name: "zaslavskyCount", problem: "the count for n = \(n), d = \(d) does not fit in 64 bits")
            }
            total = sum
        }
        return total
    }

    // MARK: Geometry helpers

    func checkedSlice(_ slice: PlaneSlice?) throws -> PlaneSlice {
        let n0 = widths[0]
        guard let sl = slice ?? (n0 == 2 ? PlaneSlice.identity : nil) else {
            throw OverparamError.invalidArgument(name: "slice", problem: "the input dimension is \(n0): pass a 2-D slice x = c + s u + t v")
        }
        guard sl.origin.count == n0 && sl.u.count == n0 && sl.v.count == n0 else {
            throw OverparamError.shapeMismatch("slice vectors have \(sl.origin.count), \(sl.u.count), \(sl.v.count) entries, the network expects \(n0)")
        }
        guard (sl.origin + sl.u + sl.v).allSatisfy({ $0.isFinite }) else { throw OverparamError.nonFinite("slice vectors") }
        return sl
    }

    /// Twice the signed area (shoelace); positive for counter-clockwise polygons.
    static func area(_ p: [SIMD2<Double>]) -> Double {
        var s = 0.0
        let n = p.count
        for k in 0..<n {
            let a = p[k], b = p[k + 1 == n ? 0 : k + 1]
            s += a.x * b.y - a.y * b.x
        }
        return 0.5 * s
    }

    /// Split a convex polygon by the line a0 + g . p = 0 into its parts with value >= 0 and <= 0 (Sutherland-Hodgman
    /// for both half-planes at once). A part with area below minWidth * (its bounding-box diagonal), i.e. thinner than
    /// about minWidth, is a sliver: it is dropped and the whole polygon goes to the other side.
    static func split(_ poly: [SIMD2<Double>], area: Double, _ a0: Double, _ g: SIMD2<Double>, minWidth: Double)
        -> (positive: (polygon: [SIMD2<Double>], area: Double)?, negative: (polygon: [SIMD2<Double>], area: Double)?)
    {
        let n = poly.count
        var f = [Double](repeating: 0, count: n)
        var lo = Double.infinity, hi = -Double.infinity
        for k in 0..<n {
            let v = a0 + g.x * poly[k].x + g.y * poly[k].y
            f[k] = v
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        if hi <= 0 { return (nil, (poly, area)) }
        if lo >= 0 { return ((poly, area), nil) }
        var pos = [SIMD2<Double>](), neg = [SIMD2<Double>]()
        pos.reserveCapacity(n + 1)
        neg.reserveCapacity(n + 1)
        for k in 0..<n {
            let k1 = k + 1 == n ? 0 : k + 1
            let fa = f[k], fb = f[k1]
            let pa = poly[k]
            if fa >= 0 { pos.append(pa) }
            if fa <= 0 { neg.append(pa) }
            if (fa > 0 && fb < 0) || (fa < 0 && fb > 0) {
                let w = fa / (fa - fb)
                let q = pa + w * (poly[k1] - pa)
                pos.append(q)
                neg.append(q)
            }
        }
        let ap = pos.count >= 3 ? Self.area(pos) : 0
        let an = neg.count >= 3 ? Self.area(neg) : 0
        if ap <= minWidth * Self.extent(pos) || an <= minWidth * Self.extent(neg) {
            return ap >= an ? ((poly, area), nil) : (nil, (poly, area))
        }
        return ((pos, ap), (neg, an))
    }

    /// The diagonal of a polygon's bounding box (its diameter within a factor sqrt 2).
    static func extent(_ p: [SIMD2<Double>]) -> Double {
        guard var lo = p.first else { return 0 }
        var hi = lo
        for q in p {
            lo = pointwiseMin(lo, q)
            hi = pointwiseMax(hi, q)
        }
        let d = hi - lo
        return (d.x * d.x + d.y * d.y).squareRoot()
    }

    /// The chord {a0 + g . p = 0} of a convex polygon, if longer than `minLength`.
    static func chord(_ poly: [SIMD2<Double>], _ a0: Double, _ g: SIMD2<Double>, minLength: Double) -> NodalSegment? {
        if g.x == 0 && g.y == 0 { return nil }
        let n = poly.count
        var pts = [SIMD2<Double>]()
        var fa = a0 + g.x * poly[0].x + g.y * poly[0].y
        for k in 0..<n {
            let k1 = k + 1 == n ? 0 : k + 1
            let fb = a0 + g.x * poly[k1].x + g.y * poly[k1].y
            if fa == 0 { pts.append(poly[k]) }
            if (fa > 0 && fb < 0) || (fa < 0 && fb > 0) {
                let w = fa / (fa - fb)
                pts.append(poly[k] + w * (poly[k1] - poly[k]))
            }
            fa = fb
        }
        guard pts.count >= 2 else { return nil }
        // The points are collinear: the chord joins the two farthest apart.
        var best = NodalSegment(a: pts[0], b: pts[1])
        for i in 0..<pts.count {
            for j in (i + 1)..<pts.count where NodalSegment(a: pts[i], b: pts[j]).length > best.length {
                best = NodalSegment(a: pts[i], b: pts[j])
            }
        }
        return best.length > minLength ? best : nil
    }

    /// Connected components of a union of segments joined where endpoints are within `tolerance` (union-find over a
    /// sweep of the endpoints sorted by s).
    static func componentCount(_ segs: [NodalSegment], tolerance: Double) -> Int {
        let n = segs.count
        if n == 0 { return 0 }
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int {
            var r = x
            while parent[r] != r { r = parent[r] }
            var y = x
            while parent[y] != r { let nx = parent[y]; parent[y] = r; y = nx }
            return r
        }
        var ends = [(p: SIMD2<Double>, owner: Int)]()
        ends.reserveCapacity(2 * n)
        for (k, s) in segs.enumerated() {
            ends.append((s.a, k))
            ends.append((s.b, k))
        }
        ends.sort { $0.p.x < $1.p.x }
        let tol2 = tolerance * tolerance
        for i in 0..<ends.count {
            var j = i + 1
            while j < ends.count && ends[j].p.x - ends[i].p.x <= tolerance {
                let d = ends[j].p - ends[i].p
                if d.x * d.x + d.y * d.y <= tol2 {
                    let a = find(ends[i].owner), b = find(ends[j].owner)
                    if a != b { parent[a] = b }
                }
                j += 1
            }
        }
        var roots = 0
        for k in 0..<n where find(k) == k { roots += 1 }
        return roots
    }
}

/// A polygon of the plane enumeration with the affine maps of the current layer's pre-activations on it.
struct PlaneWork {
    var polygon: [SIMD2<Double>]
    var area: Double
    var pattern: ActivationPattern
    var alpha: [Double]
    var bs: [Double]
    var bt: [Double]
}
