import Foundation
import Testing
@testable import Overparam

// Seed 002 Theorems 1-2 on a small random network taken as rho: i.i.d. sub-networks, the 1/m law and eq. 5's
// constant (with and without the h'(g^(l+1)) factor of SEED-NOTES sec. 2). Tolerances: standard errors of the draws.

@Suite("Sub-network sampling (seed 002 Theorems 1-2)")
struct SubnetworkSamplingTests {
    static let grid = Matrix(column: (0..<48).map { -2 * Double.pi + 4 * Double.pi * (Double($0) + 0.5) / 48 })

    @Test("Keeping every layer whole reproduces the network; sampled sub-networks have the requested widths")
    func identity() throws {
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [10, 6], outputs: 2, seed: 1)
        let s = SubnetworkSampler(network: net)
        #expect(try s.subnetwork(indices: [nil, nil])(Self.grid) == net(Self.grid))
        var rng = Xoshiro256StarStar(seed: 2)
        #expect(try s.sample(widths: [25, nil], using: &rng).widths == [2, 25, 6])
        #expect(throws: OverparamError.self) { try s.subnetwork(indices: [[10], nil]) }
        #expect(throws: OverparamError.self) { try s.sample(widths: [3], using: &rng) }
    }

    @Test("One hidden layer: E||f_m - f||^2 = C_L / m exactly (an i.i.d. mean), within 4 SE")
    func oneLayerExact() throws {
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [40], outputs: 2, seed: 3)
        let s = SubnetworkSampler(network: net)
        let c = try s.constants(inputs: Self.grid)
        #expect(c.printed == c.corrected)
        for m in [4, 32] {
            let r = try s.meanSquaredError(widths: [m], inputs: Self.grid, repetitions: 400, seed: UInt64(m))
            #expect(abs(r.mean - c.corrected[0] / Double(m)) <= 4 * r.standardError, "m = \(m): \(r.mean) +- \(r.standardError) vs \(c.corrected[0] / Double(m))")
        }
    }

    @Test("Two layers, layer 1 sampled alone: the constant matches eq. 5 with h'(g^(2)) within 4 SE and rejects the printed one")
    func hPrimeFactor() throws {
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [64, 32], seed: 5)
        let s = SubnetworkSampler(network: net)
        let c = try s.constants(inputs: Self.grid)
        var sw = 0.0, swy = 0.0
        for m in [256, 512] {
            let r = try s.meanSquaredError(widths: [m, nil], inputs: Self.grid, repetitions: 300, seed: UInt64(7 + m))
            let w = 1 / pow(Double(m) * r.standardError, 2); sw += w; swy += w * Double(m) * r.mean
        }
        let est = swy / sw, se = (1 / sw).squareRoot()
        #expect(abs(est - c.corrected[0]) <= 4 * se, "measured \(est) +- \(se), corrected \(c.corrected[0])")
        #expect(abs(est - c.printed[0]) > 4 * se, "measured \(est) +- \(se), printed \(c.printed[0])")
    }

    @Test("All layers scaled together (m^(l) = m 2^(L-l)): the fitted exponent of E||f_m - f||^2 is -1 within 3 SE")
    func exponent() throws {
        let net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [64, 32], seed: 6)
        let s = SubnetworkSampler(network: net)
        var lx = [Double](), ly = [Double](), sig = [Double]()
        for m in [16, 32, 64, 128] {
            let r = try s.meanSquaredError(widths: [2 * m, m], inputs: Self.grid, repetitions: 200, seed: UInt64(100 + m))
            lx.append(log(Double(m))); ly.append(log(r.mean)); sig.append(r.standardError / r.mean)
        }
        // Weighted least squares slope and its SE from the draws' errors.
        let w = sig.map { 1 / ($0 * $0) }, sw = w.reduce(0, +)
        let mx = zip(w, lx).reduce(0) { $0 + $1.0 * $1.1 } / sw, my = zip(w, ly).reduce(0) { $0 + $1.0 * $1.1 } / sw
        let sxx = (0..<4).reduce(0) { $0 + w[$1] * (lx[$1] - mx) * (lx[$1] - mx) }
        let slope = (0..<4).reduce(0) { $0 + w[$1] * (lx[$1] - mx) * (ly[$1] - my) } / sxx, se = (1 / sxx).squareRoot()
        #expect(abs(slope + 1) <= 3 * se, "slope \(slope) +- \(se)")
    }
}
