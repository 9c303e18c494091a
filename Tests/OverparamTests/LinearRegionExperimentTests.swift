import Foundation
import Testing
@testable import Overparam
@testable import OverparamExperiments

// The exact input gradient (InputGradient.swift) and the experiments init.linear-regions and init.hat-function
// (seed 004 ch. 4 and sec. 1.1.2): references are hand-made networks, the plane and segment partitions, the forward pass
// on dense grids, and Monte Carlo against the derived E ||grad_x z||^2 = C_W^out (C_W / 2)^L.

private func haninNet(_ n0: Int, _ widths: [Int], cw: Double = 2, readout: Double? = nil, seed: UInt64) throws -> Network {
    try Network(Architecture(inputDimension: n0, hiddenWidths: widths, activation: .relu, weightVariance: cw, biasVariance: 1,
                             readoutWeightVariance: readout, parameterization: .hanin), seed: seed)
}

/// Run every run of an experiment's configuration (seeds as `overparam reproduce --seed 0` derives them) and analyze.
private func runAll<E: Experiment>(_ e: E, _ c: E.Config) throws -> Analysis {
    let records = try e.runs(c).map { key in
        RunRecord(key: key, output: try e.run(key, config: c, seed: runSeed(global: 0, experiment: e.id, key: key)), seconds: 0)
    }
    return try e.analyze(c, runs: records)
}

@Suite("Input gradient of ReLU networks")
struct InputGradientTests {
    @Test("hand-made net: the gradient of ReLU(x1) - 1 is (1, 0) where x1 > 0 and 0 elsewhere; value and pattern")
    func handMade() throws {
        let arch = Architecture(inputDimension: 2, hiddenWidths: [3], activation: .relu, outputDimension: 1, weightVariance: 1, biasVariance: 1,
                                hasBias: true, parameterization: .standard)
        // Lines x1 = 0, x2 = 0, x1 + x2 = 1; output ReLU(x1) - 1.
        let net = try Network(arch, parameters: [1, 0, 0, 1, 1, 1, 0, 0, -1, 1, 0, 0, -1])
        let r = try LinearRegions(net)
        let a = try r.affineMap(at: [0.5, 2])
        #expect(a.gradient == [1, 0])
        #expect(a.value == -0.5)
        #expect(a.pattern.description == "111")
        #expect(try r.inputGradient(at: [-0.5, 2]) == [0, 0])
        // On the line x1 = 0 the neuron counts as off: the one-sided gradient of the "off" side.
        #expect(try r.inputGradient(at: [0, 1]) == [0, 0])
        #expect(errorKind { _ = try r.inputGradient(at: [1]) } == "shapeMismatch")
        #expect(errorKind { _ = try r.inputGradient(at: [.nan, 1]) } == "nonFinite")
    }

    @Test("random deep nets: equals the plane partition's cell gradient (N0 = 2) and the segment slopes (N0 = 5); value = forward pass")
    func againstPartitions() throws {
        let net = try haninNet(2, [16, 16, 16], seed: 5)
        let r = try LinearRegions(net)
        let part = try r.plane(.square(halfWidth: 1.5))
        var checked = 0
        for cell in part.cells.prefix(300) {
            let p = cell.centroid
            let a = try r.affineMap(at: [p.x, p.y])
            #expect(a.pattern == cell.pattern)
            let scale = 1 + abs(cell.outputGradient.x) + abs(cell.outputGradient.y)
            #expect(abs(a.gradient[0] - cell.outputGradient.x) <= 1e-12 * scale && abs(a.gradient[1] - cell.outputGradient.y) <= 1e-12 * scale)
            let f = try net(Matrix([[p.x, p.y]]))[0, 0]
            #expect(abs(a.value - f) <= 1e-12 * (1 + abs(f)))
            checked += 1
        }
        #expect(checked >= 100)

        let net5 = try haninNet(5, [12, 20, 8, 16], seed: 6)
        let r5 = try LinearRegions(net5)
        var rng = Xoshiro256StarStar(seed: 6)
        let x0 = rng.normals(5), x1 = rng.normals(5)
        let seg = try r5.segment(from: x0, to: x1)
        #expect(seg.pieceCount >= 5)
        let dir = zip(x1, x0).map { $0 - $1 }
        for p in seg.pieces {
            let t = 0.5 * (p.lower + p.upper)
            let g = try r5.inputGradient(at: seg.point(t))
            let directional = zip(g, dir).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(directional - p.slope) <= 1e-11 * (1 + abs(p.slope)))
        }
    }

    /// E ||grad_x z||^2 = C_W^out (C_W / 2)^L at every x: eq. 4.0.1 gives 2 at all depths; C_W = 1.5, C_W^out = 3 and
    /// L = 3 gives 3 (3/4)^3 = 1.265625. Monte Carlo over 4,000 networks, one input each, within 5 SE.
    @Test("Monte Carlo: E ||grad_x z||^2 = C_W^out (C_W / 2)^L (2 for eq. 4.0.1, not 1)")
    func expectation() throws {
        #expect(LinearRegions.expectedSquaredInputGradientNorm(weightVariance: 2, depth: 4) == 2)
        #expect(LinearRegions.expectedSquaredInputGradientNorm(weightVariance: 1.5, readoutWeightVariance: 3, depth: 3) == 1.265625)
        for (n0, widths, cw, cOut, x) in [(3, [16, 16], 2.0, 2.0, [0.3, -1.2, 0.5]), (1, [16, 16, 16], 2.0, 2.0, [0.0]),
                                          (2, [24, 16, 20], 1.5, 3.0, [1.0, 1.0])] {
            var values = [Double]()
            for s in 0..<4000 {
                let r = try LinearRegions(try haninNet(n0, widths, cw: cw, readout: cOut, seed: UInt64(10_000 + s)))
                values.append(try r.inputGradient(at: x).reduce(0) { $0 + $1 * $1 })
            }
            let st = meanAndStandardError(values)
            let want = LinearRegions.expectedSquaredInputGradientNorm(weightVariance: cw, readoutWeightVariance: cOut, depth: widths.count)
            #expect(abs(st.mean - want) <= 5 * st.se, "N0 = \(n0), widths \(widths): \(st.mean) +- \(st.se) vs \(want)")
            if cw == 2 { #expect(abs(st.mean - 1) > 5 * st.se) }
        }
    }
}

@Suite("Linear-region experiments (seed 004 ch. 4, sec. 1.1.2)")
struct LinearRegionExperimentTests {
    /// The acceptance check on the experiment's own networks: every activation pattern the forward pass sees on a
    /// 400 x 400 grid of the box belongs to an enumerated cell that contains the point (no region missed at the grid
    /// resolution), and the cells tile the box.
    @Test("eq. 4.0.1 nets at T = 64, depths 1 and 4 (widths 16): no region missed on a 400 x 400 grid", arguments: [1, 4])
    func gridAgreement(depth: Int) throws {
        let net = try LinearRegionSupport.network(depth: depth, total: 64, seed: 40 + UInt64(depth))
        let r = try LinearRegions(net)
        let box = LinearRegions.PlaneBox.square(halfWidth: 1)
        let part = try r.plane(box)
        #expect(abs(part.totalArea - box.area) <= 1e-9 * box.area)
        var byPattern = [ActivationPattern: Int]()
        for (k, c) in part.cells.enumerated() { byPattern[c.pattern] = k }
        #expect(byPattern.count == part.regionCount)
        let n = 400
        var pts = [[Double]]()
        for i in 0..<n { for j in 0..<n { pts.append([-1 + (Double(i) + 0.5) * 2 / Double(n), -1 + (Double(j) + 0.5) * 2 / Double(n)]) } }
        let z = Array(try net.forward(Matrix(pts)).preactivations.dropLast())
        var missed = 0, ambiguous = 0, seen = Set<Int>()
        for (k, p) in pts.enumerated() {
            var pattern = ActivationPattern(count: r.hiddenNeuronCount)
            var idx = 0, margin = Double.infinity
            for m in z {
                for j in 0..<m.cols {
                    if m[k, j] > 0 { pattern[idx] = true }
                    margin = min(margin, abs(m[k, j]))
                    idx += 1
                }
            }
            if let c = byPattern[pattern], part.cells[c].contains(SIMD2(p[0], p[1]), tolerance: 1e-9) {
                seen.insert(c)
            } else if margin < 1e-9 {
                ambiguous += 1
            } else {
                missed += 1
            }
        }
        #expect(missed == 0)
        #expect(ambiguous <= 10)
        #expect(seen.count >= part.regionCount / 2, "the grid resolves most cells (\(seen.count) of \(part.regionCount))")
    }

    @Test("Euler's formula on a hand-made arrangement: 7 regions = 1 + B/2 + V with B = 6, V = 3")
    func euler() throws {
        let arch = Architecture(inputDimension: 2, hiddenWidths: [3], activation: .relu, outputDimension: 1, weightVariance: 1, biasVariance: 1,
                                hasBias: true, parameterization: .standard)
        let r = try LinearRegions(try Network(arch, parameters: [1, 0, 0, 1, 1, 1, 0, 0, -1, 1, 0, 0, -1]))
        let box = LinearRegions.PlaneBox.square(halfWidth: 2)
        let c = box.corners.map { [$0.x, $0.y] }
        let b = try (0..<4).reduce(0) { $0 + (try r.segment(from: c[$1], to: c[($1 + 1) % 4]).breakpoints.count) }
        #expect(b == 6)
        #expect(try r.plane(box).regionCount == 1 + b / 2 + 3)
    }

    @Test("init.linear-regions on a small configuration: exact claims pass, every claim is measured, figures drawn")
    func linearRegions() throws {
        let e = LinearRegionsExperiment()
        var c = e.configuration(.quick)
        c.depths = [1, 2]; c.totals = [32, 48, 64]; c.seeds = 4; c.gradientNetworks = 8; c.gradientPoints = 4
        c.zaslavskyMaxTotal = 64; c.pictureTotal = 32
        let a = try runAll(e, c)
        let exact = a.claims.filter { $0.tolerance.hasPrefix("exact") }
        #expect(exact.count == 2)
        #expect(exact.allSatisfy { $0.passed }, "\(exact.filter { !$0.passed }.map(\.statement))")
        #expect(a.claims.count == 2 + 2 + 1 + 2 + 1 + 2)
        #expect(a.claims.allSatisfy { $0.measured.isFinite })
        #expect(a.figures.contains { $0.name == "partition-depth2" } && a.figures.contains { $0.name == "regions-vs-total" })
        #expect(a.tables.contains { $0.name == "variance" })
        let gradClaims = a.claims.filter { $0.statement.contains("grad_x") }
        #expect(gradClaims.count == 2 && gradClaims.allSatisfy { $0.passed })
    }

    @Test("init.hat-function (quick preset, under a second): every claim passes")
    func hatFunction() throws {
        let e = HatFunctionExperiment()
        let a = try runAll(e, e.configuration(.quick))
        #expect(a.claims.count == 6)
        #expect(a.claims.allSatisfy { $0.passed }, "\(a.claims.filter { !$0.passed }.map(\.statement))")
        #expect(a.figures.map(\.name).sorted() == ["hat", "lemma-error", "lemma-example"])
    }

    @Test("both experiments are registered; quick plans no more runs than full")
    func registered() throws {
        let reg = ExperimentRegistry.standard
        for id in ["init.linear-regions", "init.hat-function"] {
            let e = try reg.experiment(id)
            let quick = try e.runs(try e.configuration(.quick)), full = try e.runs(try e.configuration(.full))
            #expect(!quick.isEmpty && quick.count <= full.count)
        }
        #expect(LinearRegionSupport.widths(depth: 3, total: 64) == [22, 21, 21])
        #expect(LinearRegionSupport.parse(LinearRegionSupport.key(depth: 3, total: 192, seed: 2)) == (3, 192))
    }
}
