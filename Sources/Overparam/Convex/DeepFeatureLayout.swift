/// Where the weights of a ``DeepFeatureNetwork`` sit in its flat parameter vector.
///
/// Layer l = 1...L stores w^(l) (m^(l) x m^(l-1), row-major: entry (j, k) connects neuron k of layer l-1 to neuron j
/// of layer l, seed 002 eq. 1) at `weightOffsets[l - 1]`; the readout u (m^(L) x K, row j is u_j in R^K, eq. 2)
/// follows at `readoutOffset`. `widths[0]` = m^(0) counts the input bias coordinate when the network has one.
public struct DeepFeatureLayout: Sendable, Hashable {
    /// m^(0), m^(1), ..., m^(L).
    public let widths: [Int]
    /// K, the output dimension.
    public let outputs: Int
    public let weightOffsets: [Int]
    public let readoutOffset: Int
    /// Total number of parameters.
    public let count: Int

    public init(widths: [Int], outputs: Int) {
        self.widths = widths
        self.outputs = outputs
        var offsets = [Int](), o = 0
        for l in 1..<widths.count { offsets.append(o); o += widths[l] * widths[l - 1] }
        weightOffsets = offsets
        readoutOffset = o
        count = o + (widths.last ?? 0) * outputs
    }

    /// L, the number of hidden layers.
    public var depth: Int { widths.count - 1 }
    /// Index range of w^(l) (l = 1...L).
    public func weightRange(_ l: Int) -> Range<Int> { weightOffsets[l - 1]..<(weightOffsets[l - 1] + widths[l] * widths[l - 1]) }
    /// Index range of u.
    public var readoutRange: Range<Int> { readoutOffset..<count }
}
