import Foundation
import Testing
@testable import Overparam

// Seed 002 sec. VII-D (fig. 7): the layerwise convex fit of the feature-distribution interpolation.
//
// Known answers and bounds. MixtureRidgeFit on orthogonal features (mean f_k f_k' = delta_kk') decouples into
// scalars: w_k = (mean f_k g) / (q_k + lambda), so a hand-built 4-point case has closed-form weights. For any exact
// representation w_ref of a target, the ridge optimum obeys (1/n)||g~ - g||^2 <= lambda sum q_k w_ref(k)^2 (the
// objective at the optimum is at most its value at w_ref); with L = 2 the first layer is copied exactly, so at a
// mixture pi the own-network weights w_{s,j} / pi_s are such a w_ref on the fitting data: every neuron's residual
// must obey lambda (1/(pi_s m)) sum_k w_{s,jk}^2 (plus rounding ~ 1e-12 relative). The output bound of
// FeatureDistributionMixture is a triangle/Cauchy-Schwarz inequality and must hold exactly.

fileprivate func fdNetworks(_ widths: [Int], count: Int = 3) throws -> [DeepFeatureNetwork] {
    try (0..<count).map { try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: widths, seed: 100 + UInt64($0)) }
}
fileprivate func fdInputs(_ n: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256StarStar(seed: seed, stream: 9)
    return Matrix(rows: n, cols: 1, storage: (0..<n).map { _ in 4 * rng.uniform() - 2 })
}
fileprivate func rms(_ a: Matrix, _ b: Matrix) -> Double {
    (zip(a.storage, b.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(a.rows)).squareRoot()
}

@Suite struct FeatureDistributionInterpolationTests {
    @Test func ridgeFitOnOrthogonalFeaturesHasTheClosedForm() throws {
        // Columns: 1, (+-1 alternating), (++--), (+--+): orthonormal in the mean over 4 points. The last has mass 0.
        let f = Matrix([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])
        let q = [0.5, 0.25, 0.25, 0]
        var g = Matrix(rows: 4, cols: 1)
        for i in 0..<4 { g[i, 0] = 2 * f[i, 0] + 3 * f[i, 1] + 5 * f[i, 3] }   // the f_4 part cannot be represented
        let exact = try MixtureRidgeFit(features: f, masses: q, targets: g, relativeRidge: 0)
        for (k, w) in [4.0, 12, 0, 0].enumerated() { #expect(abs(exact.weights[k, 0] - w) < 1e-12) }
        #expect(abs(exact.meanSquaredResiduals[0] - 25) < 1e-12)
        // tr(A^T A / n) = sum q_k = 1, so lambda = 0.1: w = (2/0.6, 3/0.35, 0, 0), residual (2 - 1/0.6)^2 + (3 - 0.75/0.35)^2 + 25.
        let ridge = try MixtureRidgeFit(features: f, masses: q, targets: g, relativeRidge: 0.1)
        #expect(abs(ridge.ridge - 0.1) < 1e-14)
        for (k, w) in [2 / 0.6, 3 / 0.35, 0, 0].enumerated() { #expect(abs(ridge.weights[k, 0] - w) < 1e-12) }
        let r = (2 - 1 / 0.6) * (2 - 1 / 0.6) + (3 - 0.75 / 0.35) * (3 - 0.75 / 0.35) + 25
        #expect(abs(ridge.meanSquaredResiduals[0] - r) < 1e-12)
    }

    @Test func ridgeFitRejectsBadInput() {
        let f = Matrix(rows: 3, cols: 2, repeating: 1), g = Matrix(rows: 3, cols: 1)
        #expect(throws: OverparamError.self) { try MixtureRidgeFit(features: f, masses: [0.5, 0.6], targets: g, relativeRidge: 0) }
        #expect(throws: OverparamError.self) { try MixtureRidgeFit(features: f, masses: [1], targets: g, relativeRidge: 0) }
        #expect(throws: OverparamError.self) { try MixtureRidgeFit(features: f, masses: [0.5, 0.5], targets: Matrix(rows: 2, cols: 1), relativeRidge: 0) }
        // All-zero features at zero ridge: the Gram matrix is 0, reported as singular, not a crash.
        #expect(throws: OverparamError.self) { try MixtureRidgeFit(features: Matrix(rows: 3, cols: 2), masses: [0.5, 0.5], targets: g, relativeRidge: 0) }
    }

    @Test func twoLayerResidualsObeyTheRidgeBoundAndVerticesRecoverTheNetworks() throws {
        let widths = [12, 6]
        let nets = try fdNetworks(widths)
        let x = fdInputs(80, seed: 1)
        let interp = try FeatureDistributionInterpolation(networks: nets, fitInputs: x, relativeRidge: 1e-9)
        let m0 = Double(widths[0])
        for pi in [[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.5, 0.3], [0.05, 0.05, 0.9]] {
            let mix = try interp.mixture(pi)
            #expect(mix.network.widths == [2, 36, 18])
            let lambda = mix.ridges[1]
            for s in 0..<3 where pi[s] > 0 {
                let w2 = nets[s].weight(layer: 2)
                for j in 0..<widths[1] {
                    let ref = (0..<widths[0]).reduce(0) { $0 + w2[j, $1] * w2[j, $1] } / (pi[s] * m0)
                    #expect(mix.fitResiduals[1][s * widths[1] + j] <= lambda * ref * (1 + 1e-6) + 1e-24)
                }
            }
            // The output stays within the Cauchy-Schwarz bound of sum_s pi_s f_s, and the bound is small.
            let lin = try mix.linearLimit(x), f = try mix.network(x)
            let eps = try mix.outputDeviationBound(inputs: x)
            #expect(rms(f, lin) <= eps * (1 + 1e-9) + 1e-14)
            let scale = rms(lin, Matrix(rows: x.rows, cols: 1))
            #expect(eps < 1e-3 * scale)
            if let s = pi.firstIndex(of: 1) { #expect(rms(f, try nets[s](x)) <= eps * (1 + 1e-9) + 1e-14) }
            // lossTolerance's one forward pass: its outputs are f itself and its epsilon is the bound above.
            let y = Matrix(column: (0..<x.rows).map { Double($0 % 3) - 1 })
            let lt = try mix.lossTolerance(inputs: x, targets: y)
            #expect(lt.outputs.storage == f.storage && lt.outputBound == eps)
            #expect(lt.loss == (try MeanSquaredError(.halfMean).evaluate(outputs: f, targets: y).value))
        }
    }

    @Test func threeLayerVerticesRecoverTheNetworks() throws {
        let nets = try fdNetworks([16, 8, 4])
        let x = fdInputs(100, seed: 2), tx = fdInputs(60, seed: 3)
        let interp = try FeatureDistributionInterpolation(networks: nets, fitInputs: x)
        for s in 0..<3 {
            var pi = [0.0, 0, 0]; pi[s] = 1
            let mix = try interp.mixture(pi)
            let f = try nets[s](x)
            let eps = try mix.outputDeviationBound(inputs: x)
            #expect(rms(try mix.network(x), f) <= eps * (1 + 1e-9) + 1e-14)
            #expect(eps < 1e-3 * rms(f, Matrix(rows: x.rows, cols: 1)))
            // Off the fitting data the smooth 1-D features still match closely.
            #expect(rms(try mix.network(tx), try nets[s](tx)) < 1e-3 * rms(try nets[s](tx), Matrix(rows: tx.rows, cols: 1)))
        }
    }

    @Test func parameterMixtureIsTheAverageOfTheParameters() throws {
        let nets = try fdNetworks([5, 3])
        let interp = try FeatureDistributionInterpolation(networks: nets, fitInputs: fdInputs(10, seed: 4))
        #expect(try interp.parameterMixture([0, 1, 0]).parameters == nets[1].parameters)
        let p = try interp.parameterMixture([0.25, 0.25, 0.5]).parameters
        for i in p.indices { #expect(abs(p[i] - (0.25 * nets[0].parameters[i] + 0.25 * nets[1].parameters[i] + 0.5 * nets[2].parameters[i])) < 1e-12) }
    }

    @Test func rejectsMismatchedNetworksAndWeights() throws {
        let a = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [4, 2], seed: 1)
        let b = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [4, 3], seed: 2)
        let x = fdInputs(5, seed: 5)
        #expect(throws: OverparamError.self) { try FeatureDistributionInterpolation(networks: [a, b], fitInputs: x) }
        #expect(throws: OverparamError.self) { try FeatureDistributionInterpolation(networks: [], fitInputs: x) }
        let ok = try FeatureDistributionInterpolation(networks: [a, a], fitInputs: x)
        #expect(throws: OverparamError.self) { try ok.mixture([0.7, 0.7]) }
        #expect(throws: OverparamError.self) { try ok.mixture([1]) }
        #expect(throws: OverparamError.self) { try ok.parameterMixture([-0.5, 1.5]) }
    }

    @Test func simplexGridTriplesAndConvexityTest() throws {
        let g = try SimplexGrid(resolution: 2)
        #expect(g.indices.count == 6)
        for (n, ij) in g.indices.enumerated() { #expect(g.index(i: ij.i, j: ij.j) == n) }
        #expect(g.weights(g.index(i: 1, j: 1)!) == [0.5, 0.5, 0])
        // k = 2: the three edge midpoints are the only triples.
        #expect(g.midpointTriples.count == 3)
        #expect((0..<6).filter { g.isVertex($0) }.count == 3)
        let big = try SimplexGrid(resolution: 6)
        #expect(big.indices.count == 28)
        let convex = big.indices.map { Double($0.i * $0.i + $0.j * $0.j + $0.i * $0.j) }
        let zero = [Double](repeating: 0, count: 28)
        let c = try big.convexityCheck(convex, tolerances: zero)
        #expect(c.violations == 0 && c.largestViolation <= 0 && c.triples == big.midpointTriples.count)
        let concave = convex.map { -$0 }
        let v = try big.convexityCheck(concave, tolerances: zero)
        // A strictly concave quadratic violates every triple; q(d) = (d_i^2 + d_j^2 + d_i d_j)/4 >= 1 for even d != 0.
        #expect(v.violations == v.triples && v.largestViolation > 0)
        #expect(try big.convexityCheck(concave, tolerances: [Double](repeating: 1e9, count: 28)).violations == 0)
        #expect(throws: OverparamError.self) { try big.convexityCheck([1], tolerances: [1]) }
        #expect(throws: OverparamError.self) { try SimplexGrid(resolution: 0) }
    }
}
