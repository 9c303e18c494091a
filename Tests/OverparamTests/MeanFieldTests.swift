import Foundation
import Dispatch
import Testing
@testable import Overparam

// Mean-field two-layer networks (seed 003 secs. 3-4, seed 000 sec. V): gradients against finite differences, the
// closed-form Gaussian ReLU population against Monte Carlo, the fast SGD kernel against the reference gradient, gradient
// descent against the gradient flow (first order in gamma), the corrected sphere form (SEED-NOTES) against the
// (theta2, theta1) flow and its mass identity, dF/dt = -integral |grad J|^2 (seed 000 eq. 22), Theorem 3's optimality
// conditions at a hand-solvable stationary point, teacher recovery, the Gibbs law of the Langevin dynamics, random
// features, data generators, thread-count independence and input validation.
//
// Finite differences: central, h = 1e-6 on O(1) smooth functions: truncation ~1e-12, roundoff ~1e-10; relative
// tolerance 1e-6. ReLU objectives are piecewise smooth; random data keep every kink away from the points tested.

fileprivate func mfMaxAbs(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

fileprivate func mfNorm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// m grad G by central differences of the objective over the flat particle vector.
fileprivate func mfFDGradient(_ net: MeanFieldNetwork, _ objective: MeanFieldObjective, h: Double = 1e-6) throws -> [Double] {
    let w = net.flattened
    var g = [Double](repeating: 0, count: w.count)
    var p = w
    for q in w.indices {
        let up = w[q] + h, down = w[q] - h
        p[q] = up
        let fp = try objective.value(net.with(flattened: p))
        p[q] = down
        let fm = try objective.value(net.with(flattened: p))
        p[q] = w[q]
        g[q] = Double(net.width) * (fp - fm) / (up - down)
    }
    return g
}

fileprivate func mfData(_ n: Int, _ d: Int, seed: UInt64) -> (Matrix, [Double]) {
    var rng = Xoshiro256StarStar(seed: seed, stream: 99)
    let x = Matrix.randomNormal(rows: n, cols: d, using: &rng)
    let y = (0..<n).map { _ in rng.normal() }
    return (x, y)
}

@Suite("MeanField: gradients and the potential")
struct MeanFieldGradientTests {
    @Test("m grad G equals grad J(w_j | mu) (finite differences): tanh with bias and penalty, ReLU, and the Gaussian population")
    func gradients() throws {
        let (x, y) = mfData(9, 3, seed: 1)
        let pen = try ConfiningPenalty(theta2: 0.3, theta1: 0.2)
        let tanhNet = try MeanFieldNetwork.random(width: 5, inputDimension: 3, activation: .tanh, inputBias: true,
                                                  theta2: .gaussian(std: 1), theta1: .gaussian(std: 1), seed: 3)
        let obj = try MeanFieldObjective(inputs: x, targets: y, penalty: pen)
        let g = try obj.particleGradients(tanhNet).storage
        let fd = try mfFDGradient(tanhNet, obj)
        #expect(mfMaxAbs(g, fd) <= 1e-6 * Swift.max(1, mfNorm(fd)))

        let reluNet = try MeanFieldNetwork.random(width: 4, inputDimension: 3, activation: .relu, theta2: .gaussian(std: 1),
                                                  theta1: .gaussian(std: 1), seed: 4)
        let obj2 = try MeanFieldObjective(inputs: x, targets: y)
        #expect(mfMaxAbs(try obj2.particleGradients(reluNet).storage, try mfFDGradient(reluNet, obj2)) <= 1e-6)

        let teacher = try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 3, seed: 5)
        let pop = try MeanFieldObjective(population: teacher, penalty: try .uniform(0.1))
        let gp = try pop.particleGradients(reluNet).storage
        let fdp = try mfFDGradient(reluNet, pop)
        #expect(mfMaxAbs(gp, fdp) <= 1e-6 * Swift.max(1, mfNorm(fdp)))
        // The potential at an arbitrary point: J(w) = theta2 c(theta1) + r(w); its gradient by finite differences.
        let pot = try pop.potential(reluNet)
        let w0 = [0.7, -0.4, 1.1, 0.3]
        let gj = try pot.gradients(at: Matrix(rows: 1, cols: 4, storage: w0)).storage
        for q in 0..<4 {
            var a = w0, b = w0
            a[q] += 1e-6; b[q] -= 1e-6
            let fdq = (try pot.values(at: Matrix(rows: 1, cols: 4, storage: a))[0] - pot.values(at: Matrix(rows: 1, cols: 4, storage: b))[0]) / 2e-6
            #expect(Swift.abs(fdq - gj[q]) <= 1e-7)
        }
        // Euler's identity for the 2-homogeneous J: w . grad J(w) = 2 J(w).
        let jw = try pot.values(at: Matrix(rows: 1, cols: 4, storage: w0))[0]
        #expect(Swift.abs(zip(w0, gj).reduce(0) { $0 + $1.0 * $1.1 } - 2 * jw) <= 1e-12)
    }

    @Test("closed-form Gaussian ReLU population (arc-cosine kernel) agrees with Monte Carlo: risk and correlation c(u)")
    func populationAgainstMonteCarlo() throws {
        let teacher = try GaussianTeacher(outputWeights: [1, -1, 0.5], inputWeights: Matrix([[1, 0, 0.2], [0.3, 0.9, -0.4], [-0.5, 0.5, 0.7]]),
                                          inputScale: 1.5, noise: 0.2)
        let net = try MeanFieldNetwork.random(width: 6, inputDimension: 3, theta2: .gaussian(std: 1), theta1: .gaussian(std: 1), seed: 8)
        let (x, y) = try teacher.sample(100_000, seed: 9)
        let pop = try MeanFieldObjective(population: teacher)
        let emp = try MeanFieldObjective(inputs: x, targets: y)
        let rp = try pop.risk(net), re = try emp.risk(net)
        #expect(Swift.abs(rp - re) <= 0.02 * rp)
        let u = Matrix([[0.2, -1.0, 0.5], [1.0, 1.0, 1.0]])
        let cp = try pop.potential(net).correlation(u), ce = try emp.potential(net).correlation(u)
        for j in 0..<2 { #expect(Swift.abs(cp.values[j] - ce.values[j]) <= 0.03 * Swift.max(0.1, Swift.abs(cp.values[j]))) }
        #expect(relativeError(ce.gradients, cp.gradients) <= 0.03)
        // The teacher's noiseless target: the sample noise has variance noise^2.
        let f = try teacher.target(x)
        let resid = zip(f, y).map { $1 - $0 }
        let v = resid.reduce(0) { $0 + $1 * $1 } / Double(resid.count)
        #expect(Swift.abs(v - 0.04) <= 0.002)
    }
}

@Suite("MeanField: SGD kernel, gradient descent and the flow", .serialized)
struct MeanFieldDynamicsTests {
    @Test("one full-batch SGD step equals the reference particle GD step (ReLU with bias and penalty, tanh; sum convention scales theta1 by B)")
    func sgdKernelMatchesReference() throws {
        let (x, y) = mfData(13, 4, seed: 2)
        let pen = try ConfiningPenalty(theta2: 0.05, theta1: 0.02)
        for act in [Activation.relu, .tanh] {
            let net = try MeanFieldNetwork.random(width: 37, inputDimension: 4, activation: act, inputBias: true,
                                                  theta2: .gaussian(std: 1), theta1: .gaussian(std: 1), seed: 6)
            let obj = try MeanFieldObjective(inputs: x, targets: y, penalty: pen)
            var ref = net
            try ParticleGradientDescent(objective: obj, stepSize: 0.1).step(&ref)
            var sgd = try ParticleSGD(network: net, stepSize: 0.1, batchSize: 13, penalty: pen, seed: 1)
            let risk = try sgd.step(inputs: x, targets: y)
            #expect(Swift.abs(risk - (try obj.risk(net))) <= 1e-12)
            #expect(mfMaxAbs(sgd.network.flattened, ref.flattened) <= 1e-12)
            // Authors' convention: theta2 identical, theta1's displacement B times larger (no penalty on theta1 here).
            let pen2 = try ConfiningPenalty(theta2: 0.05)
            var mean = try ParticleSGD(network: net, stepSize: 0.01, batchSize: 13, penalty: pen2, seed: 1)
            var sum = try ParticleSGD(network: net, stepSize: 0.01, batchSize: 13, penalty: pen2, convention: .sumForInputWeights, seed: 1)
            try mean.step(inputs: x, targets: y)
            try sum.step(inputs: x, targets: y)
            #expect(mfMaxAbs(mean.network.theta2, sum.network.theta2) <= 1e-15)
            let dMean = (mean.network.theta1 - net.theta1), dSum = (sum.network.theta1 - net.theta1)
            #expect(relativeError(dSum, 13 * dMean) <= 1e-10)
        }
    }

    @Test("gradient descent with step gamma m tracks the flow W' = -m grad G with error O(gamma)")
    func gradientDescentVersusFlow() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 2, seed: 11)
        let obj = try MeanFieldObjective(population: teacher, penalty: try .uniform(0.05))
        let net = try MeanFieldNetwork.random(width: 6, inputDimension: 2, seed: 12)
        let flow = try ParticleGradientFlow(objective: obj).run(net, until: 0.5).flattened
        var errors = [Double]()
        for steps in [50, 100] {
            let gd = try ParticleGradientDescent(objective: obj, stepSize: 0.5 / Double(steps)).run(net, steps: steps).flattened
            errors.append(mfMaxAbs(gd, flow))
        }
        #expect(errors[1] < 1e-2)
        let ratio = errors[0] / errors[1]
        #expect(ratio > 1.7 && ratio < 2.3, "halving gamma should halve the error, got ratio \(ratio)")
    }

    @Test("sphere form (corrected sign) reproduces the particle flow; the mass identity d/dt (1/m) sum r^2 = -(4/m) sum r^2 J(eta) holds")
    func sphereFormAndMassIdentity() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 3, inputDimension: 2, seed: 21)
        let obj = try MeanFieldObjective(population: teacher, penalty: try .uniform(0.05))
        let net = try MeanFieldNetwork.random(width: 5, inputDimension: 2, theta2: .gaussian(std: 1), theta1: .gaussian(std: 1), seed: 22)
        let tight = DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
        let a = try ParticleGradientFlow(objective: obj, solver: tight).run(net, until: 1)
        let sphere = try SphereParticleFlow(objective: obj, solver: tight)
        var states = [Double: SphereParticleFlow.State]()
        let t0 = 0.5, h = 1e-3
        let b = try sphere.run(net, until: 1, observationTimes: [t0 - h, t0, t0 + h]) { s, t in states[t] = s }
        #expect(mfMaxAbs(a.flattened, b.flattened) <= 1e-7)
        let s0 = try #require(states[t0]), sm = try #require(states[t0 - h]), sp = try #require(states[t0 + h])
        let fdRate = (sp.mass - sm.mass) / (2 * h)
        let rate = try sphere.massRate(s0, like: net)
        #expect(Swift.abs(fdRate - rate) <= 1e-5 * Swift.max(1e-3, Swift.abs(rate)))
        #expect(Swift.abs(rate) > 1e-3)
        // Directions stay on the unit sphere.
        for j in 0..<5 { #expect(Swift.abs(mfNorm(s0.directions.row(j)) - 1) <= 1e-8) }
        // The seed's printed sign (eta' = +(I - eta eta^T) grad J) would move the particles elsewhere: one Euler step of
        // each sign against the particle velocity.
        let st = SphereParticleFlow.polar(net)
        let v = try sphere.velocity(st, like: net)
        let wv = try ParticleGradientFlow(objective: obj).velocity(net)
        for j in 0..<5 {
            let r = st.radii[j]
            for q in 0..<3 {
                let polarVel = v.radii[j] * st.directions[j, q] + r * v.directions[j, q]
                #expect(Swift.abs(polarVel - wv[j, q]) <= 1e-10)
            }
        }
    }

    @Test("dF/dt = -(1/m) sum_j |grad J(w_j)|^2 along the flow (seed 000 eq. 22): tanh sample with penalty, ReLU population")
    func dissipation() throws {
        let (x, y) = mfData(20, 2, seed: 31)
        let cases: [(MeanFieldObjective, MeanFieldNetwork)] = [
            (try MeanFieldObjective(inputs: x, targets: y, penalty: try ConfiningPenalty(theta2: 0.1, theta1: 0.05)),
             try MeanFieldNetwork.random(width: 7, inputDimension: 2, activation: .tanh, inputBias: true, theta2: .gaussian(std: 1),
                                         theta1: .gaussian(std: 1), seed: 32)),
            (try MeanFieldObjective(population: try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 2, seed: 33)),
             try MeanFieldNetwork.random(width: 7, inputDimension: 2, seed: 34)),
        ]
        for (obj, net) in cases {
            let t0 = 0.3, h = 1e-3
            var f = [Double: Double](), diss = 0.0
            let flow = ParticleGradientFlow(objective: obj, solver: DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-13))
            _ = try flow.run(net, until: 0.4, observationTimes: [t0 - h, t0, t0 + h]) { w, t in
                f[t] = try obj.value(w)
                if t == t0 { diss = try obj.dissipation(w) }
            }
            let fd = (f[t0 + h]! - f[t0 - h]!) / (2 * h)
            #expect(diss > 1e-3)
            #expect(Swift.abs(fd + diss) <= 1e-5 * diss)
        }
    }

    @Test("Theorem 3 at a hand-solvable optimum: one ReLU teacher neuron, penalty lambda; theta2 theta1 -> (1 - 2 lambda) b, J = 0 on the support, J >= 0 on the sphere")
    func stationaryPoint() throws {
        let lambda = 0.1
        let b = [0.6, 0.8]
        let teacher = try GaussianTeacher(outputWeights: [1], inputWeights: Matrix(rows: 1, cols: 2, storage: b))
        let obj = try MeanFieldObjective(population: teacher, penalty: try .uniform(lambda))
        let dirs = try MeanFieldDiagnostics.unitDirections(dimension: 2, count: 720)
        // m = 1: the stationary point solves (p - 1)/2 + lambda = 0 with p = theta2 |theta1| and theta2 = |theta1|.
        let one = try MeanFieldNetwork(theta2: [0.5], theta1: Matrix([[0.4, 0.1]]))
        let flow = ParticleGradientFlow(objective: obj, solver: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
        let end = try flow.run(one, until: 150)
        let p = end.theta2[0] * mfNorm(end.theta1.row(0))
        #expect(Swift.abs(p - (1 - 2 * lambda)) <= 1e-6)
        #expect(Swift.abs(end.theta2[0] - (1 - 2 * lambda).squareRoot()) <= 1e-6)
        let opt = try MeanFieldDiagnostics.optimality(end, objective: obj, directions: dirs)
        #expect(opt.supportViolation <= 1e-7)
        #expect(opt.sphereMinimum >= -1e-7 && opt.sphereMinimum <= 1e-3)
        // m = 8 from a spread initialization: the J violation (negative sphere minimum) shrinks along the flow.
        let many = try MeanFieldNetwork.random(width: 8, inputDimension: 2, seed: 41)
        var minima = [Double]()
        let last = try flow.run(many, until: 200, observationTimes: [0, 5, 50]) { w, _ in
            minima.append(try MeanFieldDiagnostics.optimality(w, objective: obj, directions: dirs).sphereMinimum)
        }
        #expect(minima.count == 4)
        #expect(minima[0] < -0.05)
        #expect(minima[1] > minima[0] && minima[3] > minima[1])
        #expect(minima[3] >= -1e-4)
        #expect(try MeanFieldDiagnostics.optimality(last, objective: obj, directions: dirs, massFloor: 1e-2).supportViolation <= 1e-3)
    }

    @Test("teacher recovery: d = 2, m0 = 2, m = 20, SGD on fresh batches reaches population risk < 1e-3")
    func teacherRecovery() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 2, seed: 51)
        let pop = try MeanFieldObjective(population: teacher)
        let net = try MeanFieldNetwork.random(width: 20, inputDimension: 2, seed: 52)
        let r0 = try pop.risk(net)
        var sgd = try ParticleSGD(network: net, stepSize: 0.05, batchSize: 100, seed: 53)
        try sgd.train(teacher, steps: 2000)
        var fine = try ParticleSGD(network: sgd.network, stepSize: 0.01, batchSize: 100, seed: 54)
        try fine.train(teacher, steps: 1000)
        let r = try pop.risk(fine.network)
        #expect(r0 > 0.05)
        #expect(r < 1e-3, "population risk after SGD: \(r)")
    }

    @Test("Theorem 1 (seed 003): risk curves of width m approach those of a much wider network as m grows")
    func meanFieldLimit() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 2, seed: 91)
        let (x, y) = try teacher.sample(400, seed: 92)
        let obj = try MeanFieldObjective(inputs: x, targets: y)
        func curve(_ m: Int, seed: UInt64) throws -> [Double] {
            let net = try MeanFieldNetwork.random(width: m, inputDimension: 2, seed: seed)
            var risks = [Double]()
            _ = try ParticleGradientDescent(objective: obj, stepSize: 0.1).run(net, steps: 100, observeEvery: 10) { w, _ in
                risks.append(try obj.risk(w))
            }
            return risks
        }
        let reference = try curve(1024, seed: 93)
        // Average over four independent initializations per width: the distance falls like m^{-1/2}.
        var mean = [Double]()
        for m in [8, 128] {
            var s = 0.0
            for r in 0..<4 { s += try MeanFieldDiagnostics.curveDistance(try curve(m, seed: 100 + UInt64(m) + UInt64(r)), reference).sup }
            mean.append(s / 4)
        }
        #expect(reference.count == 11 && reference.last! < 0.5 * reference.first!)
        #expect(mean[1] < 0.5 * mean[0], "sup distances to the width-1024 curve: \(mean)")
    }

    @Test("results do not depend on the thread count (fixed particle blocks, block-ordered sums)")
    func threadCountIndependence() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 3, inputDimension: 119, seed: 61)
        for act in [Activation.relu, .tanh] {
            let net = try MeanFieldNetwork.random(width: 1200, inputDimension: 119, activation: act, inputBias: true, seed: 62)
            func run(_ threads: Int) throws -> [Double] {
                let before = Parallel.threadCount
                Parallel.setThreadCount(threads)
                defer { Parallel.setThreadCount(before) }
                var sgd = try NoisyParticleDynamics.sgd(network: net, temperature: 1e-4, stepSize: 0.01, batchSize: 128,
                                                        penalty: try .uniform(0.01), seed: 63)
                try sgd.train(teacher, steps: 8)
                return sgd.network.flattened
            }
            #expect(ParticleBlocking(rows: 128, width: 1200, featureDimension: 120).blocks == 4)
            let (a, b, c) = try withThreadCountLock { (try run(1), try run(2), try run(3)) }
            let same = a == b && b == c
            #expect(same, "max difference \(mfMaxAbs(a, b)), \(mfMaxAbs(b, c))")
        }
    }

    @Test("spinning workers run every block exactly once per job, with the caller seeing all writes")
    func spinningWorkers() {
        final class Slots: @unchecked Sendable { var v = [Int](repeating: 0, count: 13) }
        let slots = Slots()
        // (No Parallel.setThreadCount here: it is global and would race with the thread-count test of another suite.)
        var ok = true
        for job in 1...3000 {
            let count = 1 + job % 13
            slots.v.withUnsafeMutableBufferPointer { p in
                nonisolated(unsafe) let base = p.baseAddress!
                SpinningWorkers.shared.run(count) { b in base[b] += job }
            }
            if job % 500 == 0 {
                // Every slot b received the sum of the jobs with count > b.
                for b in 0..<13 {
                    let expected = (1...job).filter { 1 + $0 % 13 > b }.reduce(0, +)
                    if slots.v[b] != expected { ok = false }
                }
            }
        }
        #expect(ok)
    }

    @Test("the ziggurat sampler draws N(0, 1): moments, tail mass, a CDF point")
    func ziggurat() {
        var rng = Xoshiro256StarStar(seed: 5, stream: 1)
        let n = 1_000_000
        var s1 = 0.0, s2 = 0.0, s4 = 0.0, tail = 0, below = 0
        for _ in 0..<n {
            let z = rng.zigguratNormal()
            s1 += z; s2 += z * z; s4 += z * z * z * z
            if Swift.abs(z) > 3.442619855899 { tail += 1 }
            if z < -1 { below += 1 }
        }
        let nn = Double(n)
        #expect(Swift.abs(s1 / nn) <= 5 / nn.squareRoot())
        #expect(Swift.abs(s2 / nn - 1) <= 5 * 2.0.squareRoot() / nn.squareRoot())
        #expect(Swift.abs(s4 / nn - 3) <= 5 * 96.0.squareRoot() / nn.squareRoot())
        // P(|Z| > R) = 5.7611e-4 and P(Z < -1) = 0.158655.
        let pt = 5.7611e-4
        #expect(Swift.abs(Double(tail) / nn - pt) <= 5 * (pt / nn).squareRoot())
        #expect(Swift.abs(Double(below) / nn - 0.158655) <= 5 * (0.158655 * 0.841345 / nn).squareRoot())
    }

    @Test("SGD throughput at d = 100, m = 1000, batch 100 of fresh Gaussian inputs (printed; no timing assertion)")
    func throughput() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 10, inputDimension: 100, seed: 71)
        let net = try MeanFieldNetwork.random(width: 1000, inputDimension: 100, seed: 72)
        var sgd = try ParticleSGD(network: net, stepSize: 0.005, batchSize: 100, seed: 73)
        try sgd.train(teacher, steps: 50)
        // Best of three rounds (shared machines are noisy).
        var rates = [Int]()
        for _ in 0..<3 {
            let steps = 300
            let t0 = DispatchTime.now().uptimeNanoseconds
            try sgd.train(teacher, steps: steps)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            rates.append(Int(Double(steps) / dt))
        }
        print("MeanField SGD d=100 m=1000 batch=100: \(rates.max()!) steps/s (best of \(rates); threads \(Parallel.threadCount))")
        #expect(sgd.lastBatchRisk.isFinite)
    }
}

@Suite("MeanField: Langevin dynamics, random features, data, validation")
struct MeanFieldMiscTests {
    @Test("noisy dynamics samples exp(-m G / lambda): output layer with frozen features, Gaussian mean and covariance")
    func gibbsLaw() throws {
        let (x, y) = mfData(5, 2, seed: 81)
        let rf = try RandomFeatures(width: 2, inputDimension: 2, activation: .tanh, seed: 82)
        let lam2 = 1.0, temp = 0.05
        // Exact: m G is quadratic in theta2 with Hessian H = Phi^T Phi / (n m) + lambda2 I; mean = the ridge fit.
        let phi = try rf.features(x)
        var hess = Matrix.product(phi, .transposed, phi, .none, alpha: 1 / 10.0)
        hess.addToDiagonal(lam2)
        let mean = try rf.fitOutputLayer(inputs: x, targets: y, penalty: lam2).theta2
        let cov = try CholeskyFactorization(hess).solve(Matrix.identity(2))
        var sgd = try NoisyParticleDynamics.sgd(network: rf.network, temperature: temp, stepSize: 0.02, batchSize: 5,
                                                penalty: try ConfiningPenalty(theta2: lam2), trainedLayers: .outputOnly, seed: 83)
        try sgd.train(inputs: x, targets: y, epochs: 500)
        var s1 = [0.0, 0.0], s2 = [0.0, 0.0, 0.0]
        var count = 0.0
        try sgd.train(inputs: x, targets: y, epochs: 200_000, observeEvery: 5) { w, _ in
            let a = w.theta2[0], b = w.theta2[1]
            s1[0] += a; s1[1] += b; s2[0] += a * a; s2[1] += a * b; s2[2] += b * b; count += 1
        }
        let m0 = s1[0] / count, m1 = s1[1] / count
        let c00 = s2[0] / count - m0 * m0, c01 = s2[1] / count - m0 * m1, c11 = s2[2] / count - m1 * m1
        // About 4000 independent draws (relaxation time <= 1, t = 4000): standard errors ~0.03 sd; allow 5 of them.
        #expect(Swift.abs(m0 - mean[0]) <= 0.15 * (temp * cov[0, 0]).squareRoot())
        #expect(Swift.abs(m1 - mean[1]) <= 0.15 * (temp * cov[1, 1]).squareRoot())
        #expect(Swift.abs(c00 - temp * cov[0, 0]) <= 0.1 * temp * cov[0, 0])
        #expect(Swift.abs(c11 - temp * cov[1, 1]) <= 0.1 * temp * cov[1, 1])
        #expect(Swift.abs(c01 - temp * cov[0, 1]) <= 0.1 * temp * (cov[0, 0] * cov[1, 1]).squareRoot())
        // The first layer never moved.
        #expect(sgd.network.theta1 == rf.network.theta1)
    }

    @Test("random features: gradient descent on theta2 converges to the closed-form penalized fit; theta1 stays frozen")
    func randomFeatures() throws {
        let (x, y) = mfData(30, 3, seed: 91)
        let rf = try RandomFeatures(width: 12, inputDimension: 3, inputBias: true, seed: 92)
        for j in 0..<12 { #expect(Swift.abs(mfNorm(rf.network.theta1.row(j)) - 1) <= 1e-12) }
        let lam = 0.05
        let fit = try rf.fitOutputLayer(inputs: x, targets: y, penalty: lam)
        let obj = try MeanFieldObjective(inputs: x, targets: y, penalty: try ConfiningPenalty(theta2: lam))
        // At the fit the theta2-gradient vanishes.
        let g = try obj.particleGradients(fit)
        for j in 0..<12 { #expect(Swift.abs(g[j, 0]) <= 1e-10) }
        let gd = try ParticleGradientDescent(objective: obj, stepSize: 0.5, trainedLayers: .outputOnly).run(rf.network, steps: 3000)
        #expect(mfMaxAbs(gd.theta2, fit.theta2) <= 1e-6)
        #expect(gd.theta1 == rf.network.theta1)
        let flowEnd = try rf.gradientFlow(obj).run(rf.network, until: 5)
        #expect(flowEnd.theta1 == rf.network.theta1)
        let k = try rf.kernel(x, x)
        #expect(k.rows == 30 && Swift.abs(k[0, 1] - k[1, 0]) <= 1e-14)
    }

    @Test("data generators: seed 000's F4 target and seed 003's random ReLU teacher")
    func generators() throws {
        let f4 = GaussianTeacher.sigmoidF4
        // sigmoid(a) + sigmoid(-a) = 1: at x = (1, -1) the four arguments are 2, -1, 1, -2, so F4 = 1/2.
        #expect(Swift.abs(try f4.target(Matrix([[1, -1]]))[0] - 0.5) <= 1e-15)
        let (x, _) = try f4.sample(4000, seed: 1)
        let sx = x.storage.reduce(0) { $0 + $1 * $1 } / Double(x.count)
        #expect(Swift.abs(sx.squareRoot() - 100) <= 3)
        let t = try GaussianTeacher.reluTeacher(neurons: 4, inputDimension: 2, seed: 2)
        #expect(t.outputWeights.allSatisfy { $0 == 1 || $0 == -1 })
        for k in 0..<4 { #expect(Swift.abs(mfNorm(t.inputWeights.row(k)) - 1) <= 1e-12) }
        let (xs, ys) = try t.sample(10, seed: 3)
        let direct = (0..<10).map { i in (0..<4).reduce(0.0) { acc, k in
            acc + t.outputWeights[k] * Swift.max(0, t.inputWeights[k, 0] * xs[i, 0] + t.inputWeights[k, 1] * xs[i, 1]) } }
        #expect(mfMaxAbs(ys, direct) <= 1e-14)
        // Positions and census.
        let net = try MeanFieldNetwork(theta2: [2, -0.01, 0.5], theta1: Matrix([[1, 0], [0, 1], [0.6, 0.8]]))
        let pos = net.particlePositions
        #expect(pos.positions.storage == [2, 0, 0, 0.01, 0.3, 0.4] && pos.signs == [1, -1, 1])
        let c = try MeanFieldDiagnostics.census(net)
        #expect(c.wasted == 1 && c.effective == 1)
        let dist = try MeanFieldDiagnostics.curveDistance([1, 2, 3], [1, 2.5, 3])
        #expect(dist.sup == 0.5 && Swift.abs(dist.rms - 0.5 / 3.0.squareRoot()) <= 1e-15)
    }

    @Test("bad input throws OverparamError, never crashes")
    func validation() throws {
        let good = try MeanFieldNetwork.random(width: 3, inputDimension: 2, seed: 1)
        #expect(errorKind { _ = try MeanFieldNetwork(theta2: [], theta1: Matrix(rows: 0, cols: 2)) } == "invalidArgument")
        #expect(errorKind { _ = try MeanFieldNetwork.random(width: 0, inputDimension: 2, seed: 1) } == "invalidArgument")
        #expect(errorKind { _ = try MeanFieldNetwork(theta2: [1, 2], theta1: Matrix([[1, 0]])) } == "shapeMismatch")
        #expect(errorKind { _ = try MeanFieldNetwork(theta2: [.nan], theta1: Matrix([[1, 0]])) } == "nonFinite")
        #expect(errorKind { _ = try good(Matrix([[1, 2, 3]])) } == "shapeMismatch")
        #expect(errorKind { _ = try good(Matrix([[1, .infinity]])) } == "nonFinite")
        #expect(errorKind { _ = try ConfiningPenalty(theta2: -1) } == "invalidArgument")
        #expect(errorKind { _ = try ParticleSGD(network: good, stepSize: -0.1, batchSize: 10, seed: 1) } == "invalidArgument")
        #expect(errorKind { _ = try ParticleSGD(network: good, stepSize: 0.1, batchSize: 0, seed: 1) } == "invalidArgument")
        #expect(errorKind { _ = try ParticleSGD(network: good, stepSize: 0.1, batchSize: 4, temperature: -1, seed: 1) } == "invalidArgument")
        var sgd = try ParticleSGD(network: good, stepSize: 0.1, batchSize: 4, seed: 1)
        #expect(errorKind { try sgd.step(inputs: Matrix([[1, 2]]), targets: [1, 2]) } == "shapeMismatch")
        #expect(errorKind { try sgd.step(inputs: Matrix([[1, .nan]]), targets: [1]) } == "nonFinite")
        #expect(errorKind { try sgd.train(try GaussianTeacher.reluTeacher(neurons: 1, inputDimension: 3, seed: 1), steps: 1) } == "shapeMismatch")
        #expect(errorKind { _ = try MeanFieldObjective(inputs: Matrix([[1, 2]]), targets: [1, 2]) } == "shapeMismatch")
        let obj = try MeanFieldObjective(inputs: Matrix([[1, 2, 3]]), targets: [1])
        #expect(errorKind { _ = try obj.value(good) } == "shapeMismatch")
        let tanhNet = try MeanFieldNetwork.random(width: 3, inputDimension: 2, activation: .tanh, seed: 1)
        let pop = try MeanFieldObjective(population: try GaussianTeacher.reluTeacher(neurons: 1, inputDimension: 2, seed: 1))
        #expect(errorKind { _ = try pop.value(tanhNet) } == "invalidArgument")
        #expect(errorKind { _ = try MeanFieldObjective(population: GaussianTeacher.sigmoidF4) } == "invalidArgument")
        #expect(errorKind { _ = try SphereParticleFlow(objective: pop).run(tanhNet, until: 1) } == "invalidArgument")
        #expect(errorKind { _ = try SphereParticleFlow(objective: try MeanFieldObjective(population: try GaussianTeacher.reluTeacher(neurons: 1, inputDimension: 2, seed: 1),
                                                                                          penalty: try ConfiningPenalty(theta2: 1))) } == "invalidArgument")
        #expect(errorKind { _ = try NoisyParticleDynamics(objective: pop, temperature: 0.1, stepSize: 0.1, seed: 1) } == "invalidArgument")
        #expect(errorKind { _ = try ParticleGradientDescent(objective: pop, stepSize: .nan) } == "invalidArgument")
        #expect(errorKind { _ = try ParticleGradientFlow(objective: pop).run(good, until: -1) } == "invalidArgument")
        #expect(errorKind { _ = try MeanFieldDiagnostics.curveDistance([1], [1, 2]) } == "shapeMismatch")
        #expect(errorKind { _ = try GaussianTeacher(outputWeights: [1], inputWeights: Matrix([[1, 0]]), inputScale: 0) } == "invalidArgument")
        // Divergence is reported, not a crash.
        var wild = try ParticleSGD(network: good, stepSize: 1e150, batchSize: 8, seed: 2)
        #expect(thrownError { try wild.train(try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 2, seed: 3), steps: 20) } != nil)
    }
}
