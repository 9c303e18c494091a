import Foundation

/// How a two-layer ReLU network sum_j theta2_j (theta1_j . x)_+ is scaled with its width m.
public enum TwoLayerScaling: String, Sendable, Equatable {
    /// h(x) = (1/m) sum_j theta2_j (theta1_j . x)_+: seed 003 eq. 3.1 and sec. 5.2 (both layers trained).
    case meanField
    /// f(x) = (1/sqrt m) sum_j theta2_j (theta1_j . x)_+ = theta2^T Phi(x): the random-feature model of seed 003 sec. 5.3
    /// (only the output layer trained), Phi(x)_j = (1/sqrt m)(theta1_j . x)_+.
    case randomFeatures
}

/// The normalized margins whose maximizers are the implicit biases of seed 003 section 5 (SEED-NOTES sec. 2, seed 003),
/// for a two-layer ReLU network given as arrays: theta2 (m output weights), theta1 (m x D input weights, one row per
/// neuron) and inputs (n x D, the bias coordinate already included).
///
/// - Output layer only (sec. 5.3, Theorem 4): f = theta2^T Phi(x) with Phi(x)_j = (1/sqrt m)(theta1_j . x)_+ and
///
///       gamma_2(theta) = min_i y_i f(x_i) / ||theta2||_2.
///
///   For fixed theta1 this is the margin of a linear model in theta2; its maximum over theta2 is the hard-margin SVM margin
///   for the kernel k-hat(x, x') = Phi(x) . Phi(x'), which tends to ``ArcCosineSphereKernel`` as m -> infinity with theta1_j
///   uniform on the sphere. Invariant under theta2 -> c theta2 (c > 0) and under duplicating every neuron; NOT under the
///   2-homogeneous rescaling theta2_j -> c theta2_j, theta1_j -> theta1_j / c (f is unchanged but ||theta2|| is not), nor
///   under theta1 -> c theta1 (theta1 is fixed in this regime).
///
/// - Both layers (sec. 5.4, Theorem 5): h(x) = (1/m) sum_j theta2_j (theta1_j . x)_+ and
///
///       gamma_1(theta) = min_i y_i h(x_i) / ((1/m) sum_j |theta2_j| ||theta1_j||_2).
///
///   Writing theta1_j = ||theta1_j|| eta_j gives h = sum_j a_j (eta_j . x)_+ with a_j = theta2_j ||theta1_j|| / m and the
///   denominator = ||a||_1 >= Omega(h), so gamma_1 <= the F1 max margin (``VariationNormMaxMargin``), with equality for the
///   F1 separator. Invariant under per-neuron rescaling theta2_j -> c_j theta2_j, theta1_j -> theta1_j / c_j (c_j > 0), under
///   theta2 -> c theta2 and theta1 -> c theta1 separately (c > 0), under permutations and under duplicating every neuron.
///   (The authors' code instead divides by (1/m) sum_j (theta2_j^2 + ||theta1_j||^2), which is >= 2x this denominator by
///   AM-GM, with equality for balanced neurons.)
public enum NormalizedMargins {
    /// sum_j theta2_j (theta1_j . x_i)_+ times 1/m or 1/sqrt m, for every row x_i of `inputs` (activations by BLAS `dgemm`).
    public static func outputs(outputWeights theta2: [Double], inputWeights theta1: Matrix, inputs: Matrix,
                               scaling: TwoLayerScaling) throws -> [Double] {
        try validate(theta2, theta1, inputs, labels: nil)
        var activations = Matrix.product(inputs, .none, theta1, .transposed)
        for k in 0..<activations.count where activations.storage[k] < 0 { activations.storage[k] = 0 }
        let m = Double(theta2.count)
        return activations.apply(theta2, alpha: scaling == .meanField ? 1 / m : 1 / m.squareRoot())
    }

    /// gamma_2 = min_i y_i f(x_i) / ||theta2||_2 with f = (1/sqrt m) sum_j theta2_j (theta1_j . x)_+ (output layer only).
    public static func outputLayer(outputWeights theta2: [Double], inputWeights theta1: Matrix, inputs: Matrix,
                                   labels: [Double]) throws -> Double {
        try validate(theta2, theta1, inputs, labels: labels)
        let norm = dot(theta2, theta2).squareRoot()
        guard norm > 0 else { throw OverparamError.invalidArgument(name: "outputWeights", problem: "theta2 = 0: the normalized margin is undefined") }
        let f = try outputs(outputWeights: theta2, inputWeights: theta1, inputs: inputs, scaling: .randomFeatures)
        return zip(labels, f).map { $0 * $1 }.min()! / norm
    }

    /// gamma_1 = min_i y_i h(x_i) / ((1/m) sum_j |theta2_j| ||theta1_j||) with h = (1/m) sum_j theta2_j (theta1_j . x)_+ (both layers).
    public static func bothLayers(outputWeights theta2: [Double], inputWeights theta1: Matrix, inputs: Matrix,
                                  labels: [Double]) throws -> Double {
        try validate(theta2, theta1, inputs, labels: labels)
        let m = Double(theta2.count)
        var norm = 0.0
        for j in 0..<theta2.count { norm += abs(theta2[j]) * dot(theta1.row(j), theta1.row(j)).squareRoot() }
        norm /= m
        guard norm > 0 else { throw OverparamError.invalidArgument(name: "outputWeights", problem: "(1/m) sum |theta2_j| ||theta1_j|| = 0: the normalized margin is undefined") }
        let h = try outputs(outputWeights: theta2, inputWeights: theta1, inputs: inputs, scaling: .meanField)
        return zip(labels, h).map { $0 * $1 }.min()! / norm
    }

    private static func validate(_ theta2: [Double], _ theta1: Matrix, _ inputs: Matrix, labels: [Double]?) throws {
        guard !theta2.isEmpty else { throw OverparamError.invalidArgument(name: "outputWeights", problem: "network has no neurons") }
        guard theta1.rows == theta2.count else {
            throw OverparamError.shapeMismatch("theta1 has \(theta1.rows) rows (neurons) but theta2 has \(theta2.count) entries")
        }
        guard inputs.cols == theta1.cols else {
            throw OverparamError.shapeMismatch("inputs have \(inputs.cols) columns but theta1 has \(theta1.cols) (include the bias coordinate in both)")
        }
        guard theta2.allSatisfy({ $0.isFinite }), theta1.isFinite, inputs.isFinite else {
            throw OverparamError.nonFinite("network weights or inputs contain NaN or Inf")
        }
        if let labels {
            guard labels.count == inputs.rows else { throw OverparamError.shapeMismatch("\(inputs.rows) inputs but \(labels.count) labels") }
            guard !labels.isEmpty else { throw OverparamError.invalidArgument(name: "labels", problem: "no data points") }
            guard labels.allSatisfy({ $0 == 1 || $0 == -1 }) else {
                throw OverparamError.invalidArgument(name: "labels", problem: "labels must be +1 or -1")
            }
        }
    }
}
