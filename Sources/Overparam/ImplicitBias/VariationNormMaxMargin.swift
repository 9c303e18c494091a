import Foundation

/// The variation-norm (F1) max-margin separator of seed 003 section 5.4, Theorem 5 (the limit of training both layers
/// with the logistic loss, up to normalization), restricted to a finite grid of directions eta_1..eta_p on the sphere:
///
///     min_a sum_j |a_j|   s.t.   y_i f(x_i) >= 1,   f(x) = sum_j a_j (eta_j . x)_+.
///
/// With tau the uniform probability measure on the sphere, the measure sum_j a_j delta_{eta_j} represents f in
/// f(x) = int (eta . x)_+ dmu(eta) and has total variation sum_j |a_j|, so the optimum is the variation norm Omega(f)
/// of the best separator supported on the grid: an upper bound on the continuous optimum Omega*, which it approaches as
/// the grid is refined. The margin 1/||a||_1 is therefore a lower bound on the continuous F1 max margin.
///
/// Linear program: split a = a+ - a- (a+-, >= 0) and solve min 1^T (a+ + a-) s.t. [G, -G] (a+, a-) >= 1 with
/// G_ij = y_i (eta_j . x_i)_+ (features by BLAS `dgemm`) using ``LinearProgram`` (homogeneous self-dual interior point,
/// relative gap and residuals <= `tolerance`, default 1e-8). The LP multipliers lambda >= 0 give the dual bound
/// Omega_grid >= 1^T lambda / max_j |(G^T lambda)_j|, reported as ``marginUpperBound`` (grid problem).
///
/// The rows of `directions` are normalized to unit length (zero rows are rejected). In 3-D with the bias coordinate use
/// ``SphereDirections/fibonacci(count:)``; in general dimension ``SphereDirections/random(count:dimension:seed:)``
/// (random directions cover S^{D-1} poorly for D >~ 6: the grid optimum can then be far from Omega*).
/// Labels that no combination of the grid's neurons separates make the LP infeasible: an `invalidArgument` error.
public struct VariationNormMaxMargin: Sendable {
    /// eta_j (p x D, unit rows).
    public let directions: Matrix
    /// a_j (interior-point solutions are dense: off-support weights are tiny, not exactly zero).
    public let weights: [Double]
    /// Omega = sum_j |a_j|.
    public let variationNorm: Double
    /// min_i y_i f(x_i) / Omega: the margin of f / Omega (a lower bound on the grid max margin; = 1/Omega up to the LP tolerance).
    public let margin: Double
    /// max_j |(G^T lambda)_j| / 1^T lambda from the LP multipliers: an upper bound on the grid max margin.
    public let marginUpperBound: Double
    /// f(x_i) on the training inputs.
    public let trainingOutputs: [Double]
    /// The LP's relative duality gap and iteration count.
    public let relativeDualityGap: Double
    public let iterations: Int

    public init(inputs: Matrix, labels: [Double], directions: Matrix, tolerance: Double = 1e-8, maxIterations: Int = 200) throws {
        let n = inputs.rows, p = directions.rows
        guard labels.count == n else { throw OverparamError.shapeMismatch("\(n) inputs but \(labels.count) labels") }
        guard n >= 1 else { throw OverparamError.invalidArgument(name: "labels", problem: "no training points") }
        guard p >= 1 else { throw OverparamError.invalidArgument(name: "directions", problem: "needs at least one direction") }
        guard directions.cols == inputs.cols else {
            throw OverparamError.shapeMismatch("directions have \(directions.cols) coordinates but inputs have \(inputs.cols)")
        }
        guard inputs.isFinite, directions.isFinite else { throw OverparamError.nonFinite("inputs or directions of the F1 max-margin contain NaN or Inf") }
        guard labels.allSatisfy({ $0 == 1 || $0 == -1 }) else {
            throw OverparamError.invalidArgument(name: "labels", problem: "labels must be +1 or -1")
        }
        var eta = directions
        for j in 0..<p {
            let norm = dot(eta.row(j), eta.row(j)).squareRoot()
            guard norm > 0 else { throw OverparamError.invalidArgument(name: "directions", problem: "direction \(j) is the zero vector") }
            for k in 0..<eta.cols { eta[j, k] /= norm }
        }
        let phi = Self.features(inputs, eta)
        var constraint = Matrix(rows: n, cols: 2 * p)
        for i in 0..<n {
            for j in 0..<p {
                let g = labels[i] * phi[i, j]
                constraint[i, j] = g
                constraint[i, p + j] = -g
            }
        }
        let lp = try LinearProgram(minimize: [Double](repeating: 1, count: 2 * p), subjectTo: constraint,
                                   atLeast: [Double](repeating: 1, count: n))
        let solution: LinearProgramSolution
        do {
            solution = try lp.solve(tolerance: tolerance, maxIterations: maxIterations)
        } catch let OverparamError.invalidArgument(_, problem) {
            throw OverparamError.invalidArgument(name: "labels", problem: "not separable by ReLU features on the \(p) given directions (F1 max-margin LP: \(problem))")
        }
        let a = (0..<p).map { solution.x[$0] - solution.x[p + $0] }
        let outputs = phi.apply(a)
        let omega = a.reduce(0) { $0 + abs($1) }
        let lambda = solution.y.map { max(0, $0) }
        let gtl = constraint.apply(lambda, .transposed)
        self.directions = eta
        weights = a
        variationNorm = omega
        margin = (0..<n).map { labels[$0] * outputs[$0] }.min()! / omega
        marginUpperBound = (gtl.map { abs($0) }.max() ?? 0) / lambda.reduce(0, +)
        trainingOutputs = outputs
        relativeDualityGap = solution.relativeGap
        iterations = solution.iterations
    }

    /// Phi_ij = (eta_j . x_i)_+ (n x p).
    static func features(_ x: Matrix, _ eta: Matrix) -> Matrix {
        var phi = Matrix.product(x, .none, eta, .transposed)
        for k in 0..<phi.count where phi.storage[k] < 0 { phi.storage[k] = 0 }
        return phi
    }

    /// Indices j with |a_j| > 1e-6 max |a|: the neurons the separator uses.
    public var activeDirections: [Int] {
        let threshold = 1e-6 * (weights.map { abs($0) }.max() ?? 0)
        return weights.indices.filter { abs(weights[$0]) > threshold }
    }

    /// f(x) = sum_j a_j (eta_j . x)_+ at the rows of `x`.
    public func predict(_ x: Matrix) throws -> [Double] {
        guard x.cols == directions.cols else { throw OverparamError.shapeMismatch("inputs have \(x.cols) columns, the directions \(directions.cols)") }
        guard x.isFinite else { throw OverparamError.nonFinite("inputs contain NaN or Inf") }
        return Self.features(x, directions).apply(weights)
    }

    /// f(x) / Omega: the normalized predictor (its margin on the training set is ``margin``).
    public func normalizedPredict(_ x: Matrix) throws -> [Double] {
        try predict(x).map { $0 / variationNorm }
    }

    /// The same function as a mean-field two-layer network h(x) = (1/m) sum_j theta2_j (theta1_j . x)_+ with m = p,
    /// theta1_j = eta_j and theta2_j = m a_j; its both-layer normalized margin (``NormalizedMargins/bothLayers``) is
    /// ``margin``.
    public var network: (outputWeights: [Double], inputWeights: Matrix) {
        let m = Double(weights.count)
        return (weights.map { m * $0 }, directions)
    }
}
