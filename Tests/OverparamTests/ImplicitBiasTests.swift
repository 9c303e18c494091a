import Foundation
import Testing
@testable import Overparam

// The implicit-bias references of seed 003 sec. 5 (Theorems 4-5): the arc-cosine sphere kernel against Monte Carlo,
// the hard-margin kernel SVM (hand-computable cases, KKT conditions, the random-feature network), the interior-point LP
// (textbook optima, infeasible and unbounded problems), the F1 max margin (known answers, LP duality, the network
// form), normalized-margin invariances and the cluster data of sec. 5.5.

// MARK: - Helpers

private func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256StarStar(seed: seed)
    return Matrix.randomNormal(rows: rows, cols: cols, using: &rng)
}

private func clusterSample(n: Int, dimension: Int = 2, seed: UInt64) throws -> ClusterClassificationSample {
    try ClusterClassificationData(dimension: dimension, seed: seed).sample(n, seed: seed &+ 1000)
}

// MARK: - Arc-cosine kernel on the sphere

@Test func arcCosineSphereKernelMatchesMonteCarloWithin5StandardErrors() throws {
    let pairs: [([Double], [Double])] = [
        ([1, 0.3, -0.2], [1, -0.1, 0.4]),
        ([1, 0.5, 0.5], [-0.2, 1, -0.7]),      // obtuse angle
        ([0.3, -1.2, 0.8], [0.3, -1.2, 0.8]),  // diagonal
        ([1, 0.2, -0.3, 0.4, 0.1, -0.5], [1, -0.4, 0.1, 0.2, -0.3, 0.3]),
    ]
    for (s, (x, y)) in pairs.enumerated() {
        let k = try ArcCosineSphereKernel(inputDimension: x.count)
        let exact = try k(x, y)
        let mc = try k.monteCarlo(x, y, samples: 100_000, seed: UInt64(11 + s))
        #expect(abs(mc.mean - exact) < 5 * mc.standardError, "pair \(s): closed form \(exact), Monte Carlo \(mc.mean) +- \(mc.standardError)")
        // The Gaussian-eta kernel is D times larger (E|g|^2 = D).
        let gaussian = DualActivation.abRelu(dot(x, x), dot(y, y), dot(x, y), a: 0, b: 1).x
        #expect(abs(gaussian - Double(x.count) * exact) <= 1e-14 * gaussian)
    }
    // Diagonal: k(x, x) = |x|^2 / (2 D) exactly.
    let k5 = try ArcCosineSphereKernel(inputDimension: 5)
    let x: [Double] = [0.4, -1, 2, 0.1, 0.3]
    #expect(abs(try k5(x, x) - dot(x, x) / 10) <= 1e-15)
}

@Test func arcCosineSphereKernelGramAndCrossAgreeWithPairwise() throws {
    let x1 = randomMatrix(7, 4, seed: 3), x2 = randomMatrix(5, 4, seed: 4)
    let k = try ArcCosineSphereKernel(inputDimension: 4)
    let g = try k.gram(x1), c = try k.cross(x1, x2)
    for i in 0..<7 {
        for j in 0..<7 { #expect(abs(g[i, j] - (try k(x1.row(i), x1.row(j)))) <= 1e-14) }
        for j in 0..<5 { #expect(abs(c[i, j] - (try k(x1.row(i), x2.row(j)))) <= 1e-14) }
    }
    #expect(errorKind { _ = try k.gram(randomMatrix(3, 5, seed: 1)) } == "shapeMismatch")
    var bad = x1
    bad[0, 0] = .nan
    #expect(errorKind { _ = try k.gram(bad) } == "nonFinite")
    #expect(errorKind { _ = try ArcCosineSphereKernel(inputDimension: 0) } == "invalidArgument")
}

// MARK: - Kernel max margin (hard-margin SVM without bias)

@Test func kernelMaxMarginTwoPointsMatchesHandSolution() throws {
    // Two points of opposite labels: both are support vectors, Q alpha = 1 gives
    // alpha = (k22 + k12, k11 + k12) / (k11 k22 - k12^2) and ||f||^2 = sum alpha.
    let x = Matrix([[1, 0.3, -0.2], [1, -0.25, 0.35]])
    let k = try ArcCosineSphereKernel(inputDimension: 3)
    let k11 = try k(x.row(0), x.row(0)), k22 = try k(x.row(1), x.row(1)), k12 = try k(x.row(0), x.row(1))
    let det = k11 * k22 - k12 * k12
    let svm = try KernelMaxMargin(inputs: x, labels: [1, -1])
    #expect(abs(svm.alpha[0] - (k22 + k12) / det) <= 1e-9 * svm.alpha[0])
    #expect(abs(svm.alpha[1] - (k11 + k12) / det) <= 1e-9 * svm.alpha[1])
    let margin = (det / (k11 + k22 + 2 * k12)).squareRoot()
    #expect(abs(svm.margin - margin) <= 1e-9 * margin)
    #expect(svm.relativeDualityGap <= 1e-8)
    // One point: f = k(x1, .) / k11, margin sqrt(k11).
    let one = try KernelMaxMargin(inputs: Matrix([x.row(0)]), labels: [-1])
    #expect(abs(one.margin - k11.squareRoot()) <= 1e-12 * k11.squareRoot())
    #expect(abs(one.alpha[0] - 1 / k11) <= 1e-12 / k11)
}

@Test func kernelMaxMarginSatisfiesKKTOnClusterData() throws {
    let data = try clusterSample(n: 96, seed: 5)
    let svm = try KernelMaxMargin(inputs: data.inputs, labels: data.labels)
    let f = svm.trainingOutputs
    let sumAlpha = svm.alpha.reduce(0, +)
    #expect(svm.relativeDualityGap <= 1e-8)
    #expect(svm.alpha.allSatisfy { $0 >= 0 })
    // Primal feasibility with min_i y_i f(x_i) = 1, complementary slackness, and ||f||_H^2 = sum alpha.
    let yf = (0..<96).map { data.labels[$0] * f[$0] }
    #expect(abs(yf.min()! - 1) <= 1e-12)
    let slackness = (0..<96).reduce(0.0) { $0 + svm.alpha[$1] * (yf[$1] - 1) }
    #expect(slackness <= 1e-7 * sumAlpha)
    #expect(abs(sumAlpha - svm.rkhsNorm * svm.rkhsNorm) <= 1e-7 * sumAlpha)
    #expect(svm.margin <= svm.marginUpperBound && svm.marginUpperBound <= svm.margin * (1 + 1e-8))
    // The stored outputs are the predictor's; the normalized predictor's margin is the margin.
    let again = try svm.predict(data.inputs)
    #expect(relativeError(again, f) <= 1e-12)
    let normalized = try svm.normalizedPredict(data.inputs)
    let normalizedMargin = (0..<96).map { data.labels[$0] * normalized[$0] }.min()!
    #expect(abs(normalizedMargin - svm.margin) <= 1e-12 * svm.margin)
    // No feasible ascent: moving alpha along random directions (projected on alpha >= 0) never raises the dual objective.
    let q = { (a: [Double]) -> Double in
        let c = zip(a, data.labels).map { $0 * $1 }
        let kc = (try? ArcCosineSphereKernel(inputDimension: 3).gram(data.inputs).apply(c)) ?? []
        return a.reduce(0, +) - 0.5 * dot(c, kc)
    }
    let best = q(svm.alpha)
    var rng = Xoshiro256StarStar(seed: 9)
    for _ in 0..<5 {
        let moved = svm.alpha.map { max(0, $0 + 1e-3 * sumAlpha / 96 * rng.normal()) }
        #expect(q(moved) <= best + 1e-9 * abs(best))
    }
}

@Test func kernelMaxMarginOfRandomFeatureKernelIsTheOutputLayerNormalizedMargin() throws {
    // Output-layer training: f = theta2^T Phi with Phi_j = (1/sqrt m)(theta1_j . x)_+; the SVM for k-hat = Phi Phi^T gives
    // theta2 = Phi^T (alpha y), whose normalized margin min y f / ||theta2|| is the SVM margin.
    let data = try clusterSample(n: 24, seed: 8)
    let m = 200
    let theta1 = try SphereDirections.random(count: m, dimension: 3, seed: 21)
    var phi = Matrix.product(data.inputs, .none, theta1, .transposed)
    for k in 0..<phi.count { phi.storage[k] = max(0, phi.storage[k]) / Double(m).squareRoot() }
    let svm = try KernelMaxMargin(gram: phi.gram(), labels: data.labels)
    let theta2 = phi.apply(svm.dualCoefficients, .transposed)
    let gamma2 = try NormalizedMargins.outputLayer(outputWeights: theta2, inputWeights: theta1, inputs: data.inputs, labels: data.labels)
    #expect(abs(gamma2 - svm.margin) <= 1e-8 * svm.margin)
    #expect(abs(dot(theta2, theta2).squareRoot() - svm.rkhsNorm) <= 1e-8 * svm.rkhsNorm)
}

@Test func kernelMaxMarginRejectsBadInput() throws {
    let x = Matrix([[1, 0.2, 0.1], [1, 0.2, 0.1], [1, -0.3, 0.2]])
    // A repeated input with both labels cannot be separated.
    let e = thrownError { _ = try KernelMaxMargin(inputs: x, labels: [1, -1, 1]) }
    #expect(errorKind { _ = try KernelMaxMargin(inputs: x, labels: [1, -1, 1]) } == "invalidArgument")
    #expect(e?.description.contains("not separable") == true)
    #expect(errorKind { _ = try KernelMaxMargin(inputs: x, labels: [1, 0, 1]) } == "invalidArgument")
    #expect(errorKind { _ = try KernelMaxMargin(inputs: x, labels: [1, -1]) } == "shapeMismatch")
    var bad = x
    bad[1, 2] = .infinity
    #expect(errorKind { _ = try KernelMaxMargin(inputs: bad, labels: [1, -1, 1]) } == "nonFinite")
    #expect(errorKind { _ = try KernelMaxMargin(gram: Matrix([[1, 0.5], [0.2, 1]]), labels: [1, -1]) } == "invalidArgument")
}

// MARK: - Linear programs

@Test func linearProgramSolvesTextbookProblems() throws {
    // Wyndor glass (Hillier-Lieberman): max 3x + 5y s.t. x <= 4, 2y <= 12, 3x + 2y <= 18 -> (2, 6), 36.
    let wyndor = try LinearProgram(minimize: [-3, -5], subjectTo: Matrix([[-1, 0], [0, -2], [-3, -2]]), atLeast: [-4, -12, -18]).solve()
    #expect(abs(wyndor.objectiveValue + 36) <= 1e-6)
    #expect(relativeError(wyndor.x, [2, 6]) <= 1e-6)
    #expect(wyndor.relativeGap <= 1e-8)
    // Diet: min 2x + 3y s.t. x + y >= 4, x + 3y >= 6 -> (3, 1), 9; duals (1.5, 0.5).
    let diet = try LinearProgram(minimize: [2, 3], subjectTo: Matrix([[1, 1], [1, 3]]), atLeast: [4, 6]).solve()
    #expect(abs(diet.objectiveValue - 9) <= 1e-6)
    #expect(relativeError(diet.x, [3, 1]) <= 1e-6)
    #expect(relativeError(diet.y, [1.5, 0.5]) <= 1e-6)
    // Standard form on the simplex: min x1 + 2 x2 + 3 x3 s.t. x1 + x2 + x3 = 1 -> e1.
    let simplex = try LinearProgram(minimize: [1, 2, 3], subjectTo: Matrix([[1, 1, 1]]), equals: [1]).solve()
    #expect(abs(simplex.objectiveValue - 1) <= 1e-7)
    #expect(relativeError(simplex.x, [1, 0, 0]) <= 1e-6)
    // Klee-Minty cube (n = 3): max 100 x1 + 10 x2 + x3 -> (0, 0, 10^4).
    let klee = try LinearProgram(minimize: [-100, -10, -1],
                                 subjectTo: Matrix([[-1, 0, 0], [-20, -1, 0], [-200, -20, -1]]), atLeast: [-1, -100, -10_000]).solve()
    #expect(abs(klee.objectiveValue + 10_000) <= 1e-8 * 10_000 * 10)
    #expect(abs(klee.x[2] - 10_000) <= 1e-3)
}

@Test func linearProgramDetectsInfeasibleAndUnbounded() throws {
    // x1 + x2 >= 2 and x1 + x2 <= 1.
    let infeasible = try LinearProgram(minimize: [1, 1], subjectTo: Matrix([[1, 1], [-1, -1]]), atLeast: [2, -1])
    let e1 = thrownError { _ = try infeasible.solve() }
    #expect(e1?.description.contains("primal infeasible") == true, "\(String(describing: e1))")
    // min -x1 s.t. x1 - x2 >= 0: unbounded.
    let unbounded = try LinearProgram(minimize: [-1, 0], subjectTo: Matrix([[1, -1]]), atLeast: [0])
    let e2 = thrownError { _ = try unbounded.solve() }
    #expect(e2?.description.contains("unbounded") == true, "\(String(describing: e2))")
    #expect(errorKind { _ = try LinearProgram(minimize: [1, 1], subjectTo: Matrix([[1, 1, 1]]), equals: [1]) } == "shapeMismatch")
    #expect(errorKind { _ = try LinearProgram(minimize: [1, .nan], subjectTo: Matrix([[1, 1]]), equals: [1]) } == "nonFinite")
}

// MARK: - Variation-norm (F1) max margin

@Test func variationNormMaxMarginKnownAnswers() throws {
    let circle = try SphereDirections.circle(count: 8)  // includes (1, 1)/sqrt 2 (j = 1) and (1, -1)/sqrt 2 (j = 7)
    // One point: the best neuron points at x, Omega = 1/|x|.
    let one = try VariationNormMaxMargin(inputs: Matrix([[1, 1]]), labels: [1], directions: circle)
    #expect(abs(one.variationNorm - 1 / 2.0.squareRoot()) <= 1e-7)
    #expect(abs(one.weights[1] - 1 / 2.0.squareRoot()) <= 1e-6)
    // Two orthogonal points of opposite labels: f = (eta1 . x)_+ / sqrt 2 - (eta7 . x)_+ / sqrt 2, Omega = sqrt 2
    // (dual certificate lambda = (1, 1)/sqrt 2).
    let two = try VariationNormMaxMargin(inputs: Matrix([[1, 1], [1, -1]]), labels: [1, -1], directions: circle)
    #expect(abs(two.variationNorm - 2.0.squareRoot()) <= 1e-7)
    #expect(abs(two.weights[1] - 1 / 2.0.squareRoot()) <= 1e-6 && abs(two.weights[7] + 1 / 2.0.squareRoot()) <= 1e-6)
    #expect(two.activeDirections.count <= 2)
    #expect(abs(two.margin - 1 / 2.0.squareRoot()) <= 1e-7)
    #expect(two.marginUpperBound >= two.margin * (1 - 1e-12) && two.marginUpperBound <= two.margin * (1 + 1e-7))
}

@Test func variationNormMaxMarginOnClusterData() throws {
    let data = try clusterSample(n: 40, seed: 12)
    let grid = try SphereDirections.fibonacci(count: 600)
    let f1 = try VariationNormMaxMargin(inputs: data.inputs, labels: data.labels, directions: grid)
    #expect(f1.relativeDualityGap <= 1e-8)
    let yf = (0..<40).map { data.labels[$0] * f1.trainingOutputs[$0] }
    #expect(yf.min()! >= 1 - 1e-7)
    #expect(abs(f1.variationNorm * f1.margin - yf.min()!) <= 1e-12)
    #expect(f1.margin <= f1.marginUpperBound * (1 + 1e-12) && f1.marginUpperBound <= f1.margin * (1 + 1e-6))
    // LP duality by the same solver on the dual LP of a coarser grid: max 1^T lambda s.t. |G^T lambda| <= 1, lambda >= 0.
    let coarse = try SphereDirections.fibonacci(count: 150)
    let f1Coarse = try VariationNormMaxMargin(inputs: data.inputs, labels: data.labels, directions: coarse)
    var g = VariationNormMaxMargin.features(data.inputs, coarse)
    for i in 0..<40 { for j in 0..<150 { g[i, j] *= data.labels[i] } }
    var dualConstraints = Matrix(rows: 300, cols: 40)
    for j in 0..<150 { for i in 0..<40 { dualConstraints[j, i] = -g[i, j]; dualConstraints[150 + j, i] = g[i, j] } }
    let dual = try LinearProgram(minimize: [Double](repeating: -1, count: 40), subjectTo: dualConstraints,
                                 atLeast: [Double](repeating: -1, count: 300)).solve()
    #expect(abs(-dual.objectiveValue - f1Coarse.variationNorm) <= 1e-7 * f1Coarse.variationNorm)
    #expect(f1Coarse.variationNorm >= f1.variationNorm * (1 - 1e-7))  // a coarser grid can only do worse
    // The same function as a mean-field network: its both-layer normalized margin is the F1 margin.
    let net = f1.network
    let gamma1 = try NormalizedMargins.bothLayers(outputWeights: net.outputWeights, inputWeights: net.inputWeights,
                                                  inputs: data.inputs, labels: data.labels)
    #expect(abs(gamma1 - f1.margin) <= 1e-10 * f1.margin)
    // Omega <= ||.||_H (tau a probability measure), so the F1 max margin is at least the RKHS max margin; the grid
    // optimum is within a few per cent of the continuous one here.
    let svm = try KernelMaxMargin(inputs: data.inputs, labels: data.labels)
    #expect(f1.margin >= svm.margin)
    // Predictions at the training inputs reproduce the stored outputs.
    #expect(relativeError(try f1.predict(data.inputs), f1.trainingOutputs) <= 1e-12)
}

@Test func variationNormMaxMarginRejectsBadInput() throws {
    let circle = try SphereDirections.circle(count: 8)
    let e = thrownError { _ = try VariationNormMaxMargin(inputs: Matrix([[1, 0.5], [1, 0.5]]), labels: [1, -1], directions: circle) }
    #expect(e?.description.contains("not separable") == true, "\(String(describing: e))")
    #expect(errorKind { _ = try VariationNormMaxMargin(inputs: Matrix([[1, 0.5, 0]]), labels: [1], directions: circle) } == "shapeMismatch")
    #expect(errorKind { _ = try VariationNormMaxMargin(inputs: Matrix([[1, 0.5]]), labels: [2], directions: circle) } == "invalidArgument")
    #expect(errorKind { _ = try VariationNormMaxMargin(inputs: Matrix([[1, .nan]]), labels: [1], directions: circle) } == "nonFinite")
}

// MARK: - Normalized margins

@Test func normalizedMarginInvariances() throws {
    let data = try clusterSample(n: 30, seed: 4)
    let m = 12
    var rng = Xoshiro256StarStar(seed: 77)
    let theta1 = Matrix.randomNormal(rows: m, cols: 3, using: &rng)
    let theta2 = rng.normals(m)
    let c = (0..<m).map { _ in 0.2 + 3 * rng.uniform() }
    func both(_ t2: [Double], _ t1: Matrix) throws -> Double {
        try NormalizedMargins.bothLayers(outputWeights: t2, inputWeights: t1, inputs: data.inputs, labels: data.labels)
    }
    func output(_ t2: [Double], _ t1: Matrix) throws -> Double {
        try NormalizedMargins.outputLayer(outputWeights: t2, inputWeights: t1, inputs: data.inputs, labels: data.labels)
    }
    var rescaled1 = theta1
    for j in 0..<m { for k in 0..<3 { rescaled1[j, k] /= c[j] } }
    let rescaled2 = (0..<m).map { theta2[$0] * c[$0] }
    let duplicated1 = Matrix(rows: 2 * m, cols: 3, storage: theta1.storage + theta1.storage)
    let duplicated2 = theta2 + theta2
    let g1 = try both(theta2, theta1), g2 = try output(theta2, theta1)
    // Both layers: per-neuron 2-homogeneous rescaling, theta2 -> 2.5 theta2, theta1 -> 0.3 theta1, duplication.
    #expect(abs(try both(rescaled2, rescaled1) - g1) <= 1e-12 * abs(g1))
    #expect(abs(try both(theta2.map { 2.5 * $0 }, theta1) - g1) <= 1e-12 * abs(g1))
    #expect(abs(try both(theta2, 0.3 * theta1) - g1) <= 1e-12 * abs(g1))
    #expect(abs(try both(duplicated2, duplicated1) - g1) <= 1e-12 * abs(g1))
    // Output layer: theta2 -> 2.5 theta2 and duplication only; the 2-homogeneous rescaling and theta1 -> 0.3 theta1 change it.
    #expect(abs(try output(theta2.map { 2.5 * $0 }, theta1) - g2) <= 1e-12 * abs(g2))
    #expect(abs(try output(duplicated2, duplicated1) - g2) <= 1e-12 * abs(g2))
    #expect(abs(try output(rescaled2, rescaled1) - g2) > 1e-3 * abs(g2))
    #expect(abs(try output(theta2, 0.3 * theta1) - g2) > 1e-3 * abs(g2))
    // The outputs follow the stated scalings.
    let h = try NormalizedMargins.outputs(outputWeights: theta2, inputWeights: theta1, inputs: data.inputs, scaling: .meanField)
    let f = try NormalizedMargins.outputs(outputWeights: theta2, inputWeights: theta1, inputs: data.inputs, scaling: .randomFeatures)
    var direct = 0.0
    for j in 0..<m { direct += theta2[j] * max(0, dot(theta1.row(j), data.inputs.row(0))) }
    #expect(abs(h[0] - direct / Double(m)) <= 1e-14 && abs(f[0] - direct / Double(m).squareRoot()) <= 1e-14)
    #expect(errorKind { _ = try both([Double](repeating: 0, count: m), theta1) } == "invalidArgument")
    #expect(errorKind { _ = try both(theta2, Matrix(rows: m, cols: 4)) } == "shapeMismatch")
    #expect(errorKind { _ = try NormalizedMargins.bothLayers(outputWeights: theta2, inputWeights: theta1, inputs: data.inputs,
                                                             labels: data.labels.map { -2 * $0 }) } == "invalidArgument")
}

// MARK: - Cluster data of seed 003 sec. 5.5

@Test func clusterClassificationDataProperties() throws {
    let dist = try ClusterClassificationData(dimension: 5, seed: 31)
    #expect(dist.radius == 1.0 / 8 && abs(dist.spacing - 3.0 / 8) <= 1e-15)
    #expect(dist.clusterLabels.filter { $0 == -1 }.count == 4 && dist.clusterLabels.filter { $0 == 1 }.count == 5)
    // Centres: a 3 x 3 grid with step 3 Delta, the outer disks touching the faces of [-1/2, 1/2]^2.
    let centres = (0..<9).map { dist.centre($0) }
    #expect(abs(centres[0].0 + 3.0 / 8) <= 1e-15 && abs(centres[8].1 - 3.0 / 8) <= 1e-15)
    #expect(abs(centres[1].0 - centres[0].0 - dist.spacing) <= 1e-15 && abs(centres[3].1 - centres[0].1 - dist.spacing) <= 1e-15)
    let n = 20_000
    let s = try dist.sample(n, seed: 5)
    #expect(s.inputs.rows == n && s.inputs.cols == 6)
    var r2 = [Double]()
    for i in 0..<n {
        #expect(s.inputs[i, 0] == 1)
        for j in 1..<6 { #expect(abs(s.inputs[i, j]) <= 0.5) }
        let (c1, c2) = dist.centre(s.clusters[i])
        let d2 = (s.inputs[i, 1] - c1) * (s.inputs[i, 1] - c1) + (s.inputs[i, 2] - c2) * (s.inputs[i, 2] - c2)
        #expect(d2 <= dist.radius * dist.radius * (1 + 1e-12))
        #expect(s.labels[i] == dist.clusterLabels[s.clusters[i]])
        r2.append(d2 / (dist.radius * dist.radius))
    }
    // Uniform on the disk: E[r^2 / Delta^2] = 1/2; the other coordinates U[-1/2, 1/2]: mean 0, variance 1/12.
    let mean = r2.reduce(0, +) / Double(n)
    let se = (1.0 / 12 / Double(n)).squareRoot()  // r^2/Delta^2 is U[0, 1]
    #expect(abs(mean - 0.5) < 5 * se)
    let extra = (0..<n).map { s.inputs[$0, 4] }
    #expect(abs(extra.reduce(0, +) / Double(n)) < 5 * (1.0 / 12 / Double(n)).squareRoot())
    // Clusters are equally likely: 9 counts within 5 SE of n/9.
    for c in 0..<9 {
        let count = Double(s.clusters.filter { $0 == c }.count)
        #expect(abs(count - Double(n) / 9) < 5 * (Double(n) * (1.0 / 9) * (8.0 / 9)).squareRoot())
    }
    // Seeded: same seed same sample, other seed another; the authors' radial law puts E[r^2] at Delta^2 / 3.
    #expect(try dist.sample(50, seed: 5) == (try dist.sample(50, seed: 5)))
    #expect(try dist.sample(50, seed: 5) != (try dist.sample(50, seed: 6)))
    let authors = try ClusterClassificationData(dimension: 2, gridSize: 3, clusterLabels: dist.clusterLabels, radialLaw: .uniformRadius)
    let sa = try authors.sample(n, seed: 2)
    var meanA = 0.0
    for i in 0..<n {
        let (c1, c2) = authors.centre(sa.clusters[i])
        meanA += ((sa.inputs[i, 1] - c1) * (sa.inputs[i, 1] - c1) + (sa.inputs[i, 2] - c2) * (sa.inputs[i, 2] - c2)) / (authors.radius * authors.radius)
    }
    meanA /= Double(n)
    #expect(abs(meanA - 1.0 / 3) < 5 * (4.0 / 45 / Double(n)).squareRoot())  // Var(U^2) = 1/5 - 1/9
    #expect(errorKind { _ = try ClusterClassificationData(dimension: 1, seed: 1) } == "invalidArgument")
    #expect(errorKind { _ = try ClusterClassificationData(dimension: 2, gridSize: 3, clusterLabels: [1, -1]) } == "shapeMismatch")
}

// MARK: - Timings (OVERPARAM_IMPLICIT_BIAS_TIMING=1)

@Test(.enabled(if: ProcessInfo.processInfo.environment["OVERPARAM_IMPLICIT_BIAS_TIMING"] != nil))
func implicitBiasSolverTimings() throws {
    let svmData = try clusterSample(n: 512, seed: 1)
    var start = Date()
    let svm = try KernelMaxMargin(inputs: svmData.inputs, labels: svmData.labels)
    print("SVM n = 512 (d = 2): \(Date().timeIntervalSince(start)) s, \(svm.iterations) iterations, gap \(svm.relativeDualityGap), polished \(svm.polished), margin \(svm.margin), support vectors \(svm.supportVectors.count)")
    let svm15Data = try clusterSample(n: 512, dimension: 15, seed: 1)
    start = Date()
    let svm15 = try KernelMaxMargin(inputs: svm15Data.inputs, labels: svm15Data.labels)
    print("SVM n = 512 (d = 15): \(Date().timeIntervalSince(start)) s, \(svm15.iterations) iterations, gap \(svm15.relativeDualityGap), polished \(svm15.polished), margin \(svm15.margin), support vectors \(svm15.supportVectors.count)")
    let lpData = try clusterSample(n: 256, seed: 2)
    start = Date()
    let f1 = try VariationNormMaxMargin(inputs: lpData.inputs, labels: lpData.labels, directions: try SphereDirections.fibonacci(count: 2000))
    print("F1 LP n = 256, 2000 Fibonacci directions (d = 2): \(Date().timeIntervalSince(start)) s, \(f1.iterations) iterations, gap \(f1.relativeDualityGap), margin \(f1.margin) <= \(f1.marginUpperBound), active \(f1.activeDirections.count)")
    let svm2 = try KernelMaxMargin(inputs: lpData.inputs, labels: lpData.labels)
    print("  RKHS margin on the same data: \(svm2.margin)")
    let lp15 = try clusterSample(n: 256, dimension: 15, seed: 2)
    start = Date()
    let f15 = try VariationNormMaxMargin(inputs: lp15.inputs, labels: lp15.labels, directions: try SphereDirections.random(count: 2000, dimension: 16, seed: 3))
    print("F1 LP n = 256, 2000 random directions (d = 15): \(Date().timeIntervalSince(start)) s, \(f15.iterations) iterations, gap \(f15.relativeDualityGap), margin \(f15.margin)")
}
