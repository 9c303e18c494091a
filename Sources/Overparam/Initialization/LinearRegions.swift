import Foundation

// Exact linear regions of ReLU networks (seed 004 ch. 4, eq. 4.0.1 with the SEED-NOTES correction: layer l + 1
// uses W^(l+1), z^(l+1) = b^(l+1) + W^(l+1) ReLU(z^(l)) / sqrt(N_l), z^(1) = b^(1) + W^(1) x / sqrt(N_0)).
//
// This file: the network's affine layers, neuron names, activation patterns, and the exact partition of a segment.
// `LinearRegionsPlane.swift`: the exact partition of a 2-D box (or a 2-D affine slice) into convex cells, nodal sets,
// Zaslavsky's count. `PiecewiseLinearNetworks.swift`: Lemma 1.1.2's construction and the hat function (sec. 1.1.2).

/// A neuron of a network: `layer` is 1-based as in ``Network/weight(layer:)`` (layer L + 1 is the readout, whose
/// "neurons" are the outputs), `index` is 0-based within the layer.
public struct NeuronID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var layer: Int
    public var index: Int

    public init(layer: Int, index: Int) {
        self.layer = layer
        self.index = index
    }

    public static func < (a: NeuronID, b: NeuronID) -> Bool {
        a.layer != b.layer ? a.layer < b.layer : a.index < b.index
    }

    public var description: String { "z^(\(layer))_\(index)" }
}

/// The on/off state of every hidden neuron of a ReLU network: bit `k` is neuron `k` in layer-major order
/// (layer 1's neurons first; see ``LinearRegions/flatIndex(_:)``). A neuron is on where its pre-activation is > 0.
///
/// The set of inputs sharing one pattern is an intersection of half-spaces (given the pattern every pre-activation is
/// affine in x), hence convex: activation regions and patterns are in one-to-one correspondence.
public struct ActivationPattern: Sendable, Hashable, CustomStringConvertible {
    /// The bits, 64 per word.
    public private(set) var words: [UInt64]
    /// Number of neurons (bits).
    public let count: Int

    /// All neurons off.
    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// Whether neuron `k` (flat index) is on.
    public subscript(k: Int) -> Bool {
        get { words[k >> 6] & (1 << UInt64(k & 63)) != 0 }
        set {
            let mask: UInt64 = 1 << UInt64(k & 63)
            if newValue { words[k >> 6] |= mask } else { words[k >> 6] &= ~mask }
        }
    }

    /// Number of neurons that are on.
    public var onCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// "0110..." (neuron 0 first).
    public var description: String { String((0..<count).map { self[$0] ? "1" : "0" }) }
}

/// Exact linear regions of a ReLU ``Network`` (seed 004 ch. 4, eq. 4.0.1 as corrected in SEED-NOTES).
///
/// Layer l computes z^(l) = a_l W^(l) x^(l-1) + beta_l b^(l) with the network's own scale factors
/// (``Network/scales``), x^(0) = x and x^(l) = ReLU(z^(l)); for `Parameterization.hanin` with C_W = 2, C_b = 1 this is
/// exactly eq. 4.0.1: z^(l+1) = b^(l+1) + W^(l+1) ReLU(z^(l)) / sqrt(N_l), W ~ N(0, 2), b ~ N(0, 1).
/// On a set where every hidden neuron's sign is fixed (an activation region) every pre-activation and the output
/// z^(L+1) are affine; the regions are found exactly (up to floating-point rounding) by propagating affine maps layer
/// by layer and splitting where a neuron's affine pre-activation crosses zero:
/// - ``segment(from:to:)``: along x(t) = x0 + t (x1 - x0), t in [0, 1] (breakpoints, regions, linear pieces);
/// - ``plane(_:slice:nodalNeurons:sliverTolerance:)``: in a 2-D box, by recursive convex-polygon splitting (cells, nodal sets).
public struct LinearRegions: Sendable {
    /// Widths N_0, N_1, ..., N_L, N_{L+1}.
    public let widths: [Int]
    /// The output (readout row) whose affine maps, pieces and zero set are reported.
    public let output: Int
    /// Effective weights a_l W^(l) (N_l x N_{l-1}, row-major), index l - 1.
    let weights: [[Double]]
    /// Effective biases beta_l b^(l), index l - 1.
    let biases: [[Double]]
    /// Flat index of layer l's first neuron (index l - 1, l = 1...L).
    let offsets: [Int]

    /// The affine layers of `network`, whose activation must be ReLU; `output` picks the readout row that is reported
    /// (0 for the one-output networks of seed 004).
    public init(_ network: Network, output: Int = 0) throws {
        let arch = network.architecture
        guard arch.activation == .relu else {
            throw OverparamError.invalidArgument(name: "network", problem: "linear regions need a ReLU network (got \(arch.activation))")
        }
        guard output >= 0 && output < arch.outputDimension else {
            throw OverparamError.invalidArgument(name: "output", problem: "must be in 0..<\(arch.outputDimension) (got \(output))")
        }
        guard network.parameters.allSatisfy({ $0.isFinite }) else {
            throw OverparamError.nonFinite("network parameters")
        }
        widths = network.layout.widths
        self.output = output
        var w = [[Double]](), b = [[Double]]()
        for l in 1...network.layout.layerCount {
            let s = network.scales[l - 1]
            w.append(network.weight(layer: l).storage.map { s.a * $0 })
            b.append(network.bias(layer: l).map { s.beta * $0 })
        }
        weights = w
        biases = b
        var o = [Int](), k = 0
        for l in 1..<(widths.count - 1) { o.append(k); k += widths[l] }
        offsets = o
        hiddenNeuronCount = k
    }

    /// Number of hidden layers L.
    public var depth: Int { widths.count - 2 }
    /// N_1 + ... + N_L: the length of every ``ActivationPattern``.
    public let hiddenNeuronCount: Int

    /// The position of hidden neuron `n` (layer 1...L) in an ``ActivationPattern``.
    public func flatIndex(_ n: NeuronID) -> Int {
        precondition(n.layer >= 1 && n.layer <= depth && n.index >= 0 && n.index < widths[n.layer], "flatIndex: \(n) is not a hidden neuron")
        return offsets[n.layer - 1] + n.index
    }

    /// The hidden neuron at flat index `k`.
    public func neuron(atFlatIndex k: Int) -> NeuronID {
        precondition(k >= 0 && k < hiddenNeuronCount, "neuron(atFlatIndex:): out of range")
        var l = depth
        while offsets[l - 1] > k { l -= 1 }
        return NeuronID(layer: l, index: k - offsets[l - 1])
    }

    func checkNeuron(_ n: NeuronID) throws {
        guard n.layer >= 1 && n.layer < widths.count && n.index >= 0 && n.index < widths[n.layer] else {
            throw OverparamError.invalidArgument(name: "neuron", problem: "\(n) does not exist (layers 1...\(widths.count - 1), widths \(widths.dropFirst()))")
        }
    }

    /// Given the affine maps (slopes `s`, intercepts `c`, each a list of per-neuron coefficient arrays) of layer l's
    /// post-activations, those of layer l + 1's pre-activations: z^(l+1) = A_{l+1} x^(l) + c_{l+1}, with the
    /// intercept getting the bias. `coefficients[0]` is the intercept, the others are slopes.
    @inline(__always)
    func propagate(layer l: Int, _ post: [[Double]]) -> [[Double]] {
        let a = weights[l - 1], c = biases[l - 1]
        let rows = widths[l], cols = widths[l - 1]
        var out = [[Double]]()
        out.reserveCapacity(post.count)
        for (q, p) in post.enumerated() {
            var z = [Double](repeating: 0, count: rows)
            for j in 0..<rows {
                var acc = q == 0 ? c[j] : 0
                let base = j * cols
                for i in 0..<cols where p[i] != 0 { acc += a[base + i] * p[i] }
                z[j] = acc
            }
            out.append(z)
        }
        return out
    }
}

// MARK: - Segments

extension LinearRegions {
    /// A point t of [0, 1] where hidden neuron `neuron`'s pre-activation crosses zero along the segment.
    public struct Breakpoint: Sendable, Hashable {
        public var t: Double
        public var neuron: NeuronID
    }

    /// A maximal interval [lower, upper] of t on which every hidden neuron's sign is fixed (an activation region met
    /// by the segment), with its pattern and the output there: z^(L+1)(x(t)) = outputIntercept + outputSlope t.
    public struct SegmentInterval: Sendable, Hashable {
        public var lower: Double
        public var upper: Double
        public var pattern: ActivationPattern
        public var outputIntercept: Double
        public var outputSlope: Double
    }

    /// A maximal interval of t on which the output is one affine function intercept + slope t (adjacent activation
    /// intervals merged when their output slopes agree within a relative 1e-12).
    public struct SegmentPiece: Sendable, Hashable {
        public var lower: Double
        public var upper: Double
        public var intercept: Double
        public var slope: Double
    }

    /// The exact partition of a segment x(t) = x0 + t (x1 - x0), t in [0, 1], by a ReLU network.
    public struct SegmentPartition: Sendable {
        /// Start and end of the segment.
        public var start: [Double]
        public var end: [Double]
        /// ||x1 - x0||: divide counts by it for densities per unit input length.
        public var length: Double
        /// Every zero crossing of every hidden neuron, sorted by t.
        public var breakpoints: [Breakpoint]
        /// The activation regions met by the segment, in order; they tile [0, 1].
        public var intervals: [SegmentInterval]
        /// The output's linear pieces, in order; they tile [0, 1].
        public var pieces: [SegmentPiece]
        /// breakpointCounts[l - 1][i]: number of zero crossings of hidden neuron (l, i) along the segment.
        public var breakpointCounts: [[Int]]

        /// Number of activation regions met by the segment (= breakpoints + 1 when no two coincide).
        public var regionCount: Int { intervals.count }
        /// Number of linear pieces of the output along the segment (<= regionCount).
        public var pieceCount: Int { pieces.count }
        /// The interior points of t where the output's slope changes.
        public var outputBreakpoints: [Double] { pieces.dropFirst().map(\.lower) }
        /// The input x(t).
        public func point(_ t: Double) -> [Double] { zip(start, end).map { $0 + t * ($1 - $0) } }
    }

    /// The exact activation regions and output pieces along x(t) = x0 + t (x1 - x0), t in [0, 1].
    ///
    /// Layer by layer: keep the partition of [0, 1] into intervals on which every earlier neuron's sign is fixed; on
    /// each interval every neuron of the next layer is affine in t, z = c + s t (slopes and intercepts tracked
    /// exactly, x^(l) = (z > 0) z composed with the next layer's affine map), and its zero -c / s splits the interval
    /// when it lies inside (more than 1e-13 from its ends: a crossing exactly at an earlier breakpoint is not a new
    /// one). Signs on a sub-interval are read at its midpoint; a neuron that is identically 0 there counts as off.
    /// Source: seed 004 ch. 4 (eq. 4.0.1, corrected) and the N_0 = 1 picture after Theorem 4.2.1.
    /// Throws `shapeMismatch` for endpoints of the wrong length, `nonFinite`, and `invalidArgument` when x0 == x1.
    public func segment(from x0: [Double], to x1: [Double]) throws -> SegmentPartition {
        let n0 = widths[0]
        guard x0.count == n0 && x1.count == n0 else {
            throw OverparamError.shapeMismatch("segment endpoints have \(x0.count) and \(x1.count) entries, the network expects \(n0)")
        }
        guard x0.allSatisfy({ $0.isFinite }) && x1.allSatisfy({ $0.isFinite }) else {
            throw OverparamError.nonFinite("segment endpoints")
        }
        let dir = zip(x1, x0).map { $0 - $1 }
        guard dir.contains(where: { $0 != 0 }) else {
            throw OverparamError.invalidArgument(name: "segment", problem: "x0 == x1: a segment needs two distinct endpoints")
        }
        let eps = 1e-13
        struct Work { var lower: Double; var upper: Double; var pattern: ActivationPattern; var maps: [[Double]] }
        // maps[0] = intercepts, maps[1] = slopes of the current layer's pre-activations.
        var work = [Work(lower: 0, upper: 1, pattern: ActivationPattern(count: hiddenNeuronCount), maps: propagate(layer: 1, [x0, dir]))]
        var breakpoints = [Breakpoint]()
        var counts = (1...depth).map { [Int](repeating: 0, count: widths[$0]) }
        for l in 1...depth {
            let n = widths[l], off = offsets[l - 1]
            var next = [Work]()
            next.reserveCapacity(work.count * 2)
            for w in work {
                let c = w.maps[0], s = w.maps[1]
                var cuts = [(t: Double, i: Int)]()
                for i in 0..<n where s[i] != 0 {
                    let t = -c[i] / s[i]
                    if t > w.lower + eps && t < w.upper - eps { cuts.append((t, i)) }
                }
                cuts.sort { $0.t < $1.t }
                for cut in cuts {
                    breakpoints.append(Breakpoint(t: cut.t, neuron: NeuronID(layer: l, index: cut.i)))
                    counts[l - 1][cut.i] += 1
                }
                var bounds = [w.lower]
                for cut in cuts where cut.t > bounds[bounds.count - 1] { bounds.append(cut.t) }
                bounds.append(w.upper)
                for k in 0..<(bounds.count - 1) {
                    let lo = bounds[k], hi = bounds[k + 1]
                    let tm = 0.5 * (lo + hi)
                    var pattern = w.pattern
                    var pc = [Double](repeating: 0, count: n), ps = [Double](repeating: 0, count: n)
                    for i in 0..<n {
                        let z = c[i] + s[i] * tm
                        if z > 0 {
                            pattern[off + i] = true
                            pc[i] = c[i]
                            ps[i] = s[i]
                        }
                    }
                    next.append(Work(lower: lo, upper: hi, pattern: pattern, maps: propagate(layer: l + 1, [pc, ps])))
                }
            }
            work = next
        }
        breakpoints.sort { $0.t < $1.t }
        let intervals = work.map {
            SegmentInterval(lower: $0.lower, upper: $0.upper, pattern: $0.pattern, outputIntercept: $0.maps[0][output], outputSlope: $0.maps[1][output])
        }
        var pieces = [SegmentPiece]()
        for iv in intervals {
            if let last = pieces.last {
                let scale = Swift.max(abs(last.slope), abs(iv.outputSlope))
                if abs(last.slope - iv.outputSlope) <= 1e-12 * scale {
                    pieces[pieces.count - 1].upper = iv.upper
                    continue
                }
            }
            pieces.append(SegmentPiece(lower: iv.lower, upper: iv.upper, intercept: iv.outputIntercept, slope: iv.outputSlope))
        }
        let length = dir.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return SegmentPartition(start: x0, end: x1, length: length, breakpoints: breakpoints, intervals: intervals,
                                pieces: pieces, breakpointCounts: counts)
    }
}
