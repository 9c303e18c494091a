import Foundation
import Testing
@testable import Overparam

/// A small sweep (d = 6, m0 = 2) that runs in well under a second.
private func tinySweep(widths: [Int] = [1, 3, 8], steps: Int = 300, repetitions: Int = 3) -> TeacherStudentSweep {
    TeacherStudentSweep(inputDimension: 6, teacherNeurons: 2, widths: widths, steps: steps, batchSize: 20, stepSize: 0.01,
                        repetitions: repetitions, testSamples: 200, successThreshold: 1e-3)
}

@Suite("TeacherStudentSweep: seed 003 fig. 3's sweep", .serialized)
struct TeacherStudentSweepTests {
    @Test("fig. 3 settings: d = 100, m0 = 10, 34 widths, 10^4 steps, batch 100, gamma 0.005, 30 repetitions, authors' convention")
    func figure3Settings() throws {
        let s = TeacherStudentSweep.seed003Figure3
        #expect(s.inputDimension == 100 && s.teacherNeurons == 10 && s.steps == 10_000 && s.batchSize == 100)
        #expect(s.stepSize == 0.005 && s.repetitions == 30 && s.testSamples == 1000 && s.successThreshold == 1e-3)
        #expect(s.convention == .sumForInputWeights)
        #expect(s.widths == Array(1...30) + [40, 50, 70, 100])
        try s.validate()
    }

    @Test("seeds: distinct per (m, r); width 0 is repetition r's teacher, shared by every width")
    func seeds() throws {
        var seen = Set<UInt64>()
        for m in 0...40 { for r in 0..<30 { seen.insert(TeacherStudentSweep.runSeed(seed: 7, width: m, repetition: r)) } }
        #expect(seen.count == 41 * 30)
        #expect(TeacherStudentSweep.runSeed(seed: 7, width: 3, repetition: 1) != TeacherStudentSweep.runSeed(seed: 8, width: 3, repetition: 1))
        let s = tinySweep()
        let t = try s.teacher(repetition: 1, seed: 7)
        #expect(t == (try GaussianTeacher.reluTeacher(neurons: 2, inputDimension: 6, seed: TeacherStudentSweep.runSeed(seed: 7, width: 0, repetition: 1))))
        #expect(t != (try s.teacher(repetition: 2, seed: 7)))
        let student = try s.initialStudent(width: 3, repetition: 1, seed: 7)
        #expect(student.width == 3 && student.theta2.allSatisfy { Swift.abs($0) == 1 } && !student.hasInputBias)
        for j in 0..<3 {
            let row = student.theta1.row(j)
            #expect(Swift.abs(row.reduce(0) { $0 + $1 * $1 } - 1) <= 1e-12)
        }
    }

    @Test("SGD with caller-only threading equals the parallel blocks bit for bit")
    func callerOnlyThreading() throws {
        let teacher = try GaussianTeacher.reluTeacher(neurons: 3, inputDimension: 119, seed: 61)
        let net = try MeanFieldNetwork.random(width: 1200, inputDimension: 119, seed: 62)
        #expect(ParticleBlocking(rows: 128, width: 1200, featureDimension: 119).blocks >= 2)
        func run(_ threading: ParticleSGD.Threading) throws -> [Double] {
            var sgd = try ParticleSGD(network: net, stepSize: 0.005, batchSize: 128, convention: .sumForInputWeights, seed: 63)
            sgd.threading = threading
            try sgd.train(teacher, steps: 6)
            return sgd.network.flattened
        }
        let (a, b) = try withThreadCountLock { (try run(.parallel), try run(.callerOnly)) }
        #expect(a == b)
    }

    @Test("StudentStack at fig. 3's sizes: a student's result is bit-identical alone and in any stack, and agrees with ParticleSGD to rounding")
    func studentStack() throws {
        // Bit-identity across stacks relies on OpenBLAS computing each entry of Z = X Theta1 and X^T P the same way
        // wherever its column sits. Measured with OpenBLAS 0.3.21 (Haswell kernels) on one thread: true with Theta1 as
        // d x W (the stack's layout), false with W x d (the edge kernels of the other orientation round differently),
        // and false whenever OpenBLAS runs a GEMM on 2 threads (the split moves). runAll and run(width:) set one thread,
        // but other tests in this process step ParticleSGD with `.parallel` threading, which flips OpenBLAS's
        // process-wide count; so the bit-for-bit check uses stacks of W <= 26 (B d W <= 262144, which OpenBLAS 0.3.21
        // always runs on one thread). ParticleSGD keeps Theta1 as m x d: versus it, agreement to rounding.
        let d = 100, b = 100, steps = 20
        let teacher = try GaussianTeacher.reluTeacher(neurons: 10, inputDimension: d, seed: 5)
        let widths = [1, 7, 30, 100, 13], small = [0, 1, 4]  // small: W = 1 + 7 + 13 <= 26
        let nets = try widths.map { try MeanFieldNetwork.random(width: $0, inputDimension: d, seed: UInt64($0)) }
        func train(_ group: [Int]) throws -> [MeanFieldNetwork] {
            let stack = StudentStack(group.map { nets[$0] }, batchSize: b, stepSize: 0.005, convention: .sumForInputWeights)
            var rng = Xoshiro256StarStar(seed: 9, stream: 1)
            var x = Matrix(rows: b, cols: d), y = [Double](repeating: 0, count: b)
            for _ in 0..<steps {
                teacher.sample(count: b, into: &x, targets: &y, using: &rng)
                x.storage.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { stack.step(inputs: xp.baseAddress!, targets: $0.baseAddress!) } }
            }
            #expect(!stack.diverged.contains(true) && stack.lastBatchRisk.allSatisfy(\.isFinite))
            return group.indices.map { stack.network($0) }
        }
        let (all, reversed, alone) = try withThreadCountLock { try StudentStack.withSingleThreadedBLAS {
            (try train(small), try train(small.reversed()), try widths.indices.map { try train([$0])[0] })
        } }
        #expect(all == small.map { alone[$0] })
        #expect(Array(reversed.reversed()) == small.map { alone[$0] })
        for (i, net) in nets.enumerated() {
            var sgd = try ParticleSGD(network: net, stepSize: 0.005, batchSize: b, convention: .sumForInputWeights, seed: 0)
            var rng = Xoshiro256StarStar(seed: 9, stream: 1)
            var x = Matrix(rows: b, cols: d), y = [Double](repeating: 0, count: b)
            for _ in 0..<steps {
                teacher.sample(count: b, into: &x, targets: &y, using: &rng)
                try sgd.step(inputs: x, targets: y)
            }
            let u = sgd.network.flattened, v = alone[i].flattened
            let scale = u.map(Swift.abs).max()!
            let err = zip(u, v).map { Swift.abs($0 - $1) }.max()!
            #expect(err <= 1e-10 * scale, "m = \(widths[i]): max |difference| \(err)")
            #expect(net != alone[i])
        }
    }

    @Test("runAll is bit-identical for 1 and 2 threads and equals single runs; traces end at the final risk")
    func determinism() throws {
        let s = tinySweep()
        let (one, two) = try withThreadCountLock {
            (try s.runAll(seed: 11, threads: 1, traceEvery: 100), try s.runAll(seed: 11, threads: 2, traceEvery: 100))
        }
        #expect(one.runs == two.runs)
        #expect(one.threads == 1 && two.threads == 2)
        #expect(one.runs.map(\.width) == [1, 1, 1, 3, 3, 3, 8, 8, 8])
        #expect(one.runs.map(\.repetition) == [0, 1, 2, 0, 1, 2, 0, 1, 2])
        let single = try s.run(width: 3, repetition: 2, seed: 11, traceEvery: 100)
        #expect(single == one.runs[5])
        for r in one.runs {
            #expect(r.trace.map(\.step) == [0, 100, 200, 300])
            #expect(r.trace.first?.testRisk == r.initialTestRisk && r.trace.last?.testRisk == r.testRisk)
            #expect(r.succeeded == (r.testRisk < s.successThreshold) && !r.diverged)
        }
        // Another seed gives other runs; no trace unless asked.
        let other = try withThreadCountLock { try s.runAll(seed: 12, threads: 2) }
        #expect(other.runs[0].testRisk != one.runs[0].testRisk && other.runs[0].trace.isEmpty)
    }

    @Test("students with m >= m0 reach a far lower test risk than m = 1, and succeed more often")
    func widthHelps() throws {
        let s = tinySweep(widths: [1, 10], steps: 3000, repetitions: 4)
        let result = try withThreadCountLock { try s.runAll(seed: 3) }
        let narrow = result.testRisks(width: 1), wide = result.testRisks(width: 10)
        let mean = { (v: [Double]) in v.reduce(0, +) / Double(v.count) }
        #expect(mean(wide) < 0.1 * mean(narrow), "m = 10: \(wide), m = 1: \(narrow)")
        for r in result.runs { #expect(r.testRisk < r.initialTestRisk) }
        #expect(result.successRate(width: 10) >= result.successRate(width: 1))
        #expect(result.successRates == [result.successRate(width: 1), result.successRate(width: 10)])
        #expect(result.successRate(width: 5).isNaN)
    }

    @Test("bad settings and arguments throw invalidArgument")
    func badInput() throws {
        func kind(_ change: (inout TeacherStudentSweep) -> Void) -> String {
            var s = tinySweep(steps: 1, repetitions: 1)
            change(&s)
            return errorKind { _ = try s.runAll(seed: 0, threads: 1) }
        }
        #expect(kind { _ in } == "none")
        #expect(kind { $0.inputDimension = 0 } == "invalidArgument")
        #expect(kind { $0.teacherNeurons = 0 } == "invalidArgument")
        #expect(kind { $0.widths = [] } == "invalidArgument")
        #expect(kind { $0.widths = [2, 0] } == "invalidArgument")
        #expect(kind { $0.widths = [2, 2] } == "invalidArgument")
        #expect(kind { $0.steps = -1 } == "invalidArgument")
        #expect(kind { $0.batchSize = 0 } == "invalidArgument")
        #expect(kind { $0.stepSize = 0 } == "invalidArgument")
        #expect(kind { $0.stepSize = .nan } == "invalidArgument")
        #expect(kind { $0.repetitions = 0 } == "invalidArgument")
        #expect(kind { $0.testSamples = 0 } == "invalidArgument")
        #expect(kind { $0.successThreshold = -1 } == "invalidArgument")
        let s = tinySweep(steps: 1, repetitions: 2)
        #expect(errorKind { _ = try s.runAll(seed: 0, threads: 0) } == "invalidArgument")
        #expect(errorKind { _ = try s.runAll(seed: 0, traceEvery: -1) } == "invalidArgument")
        #expect(errorKind { _ = try s.run(width: 0, repetition: 0, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try s.run(width: 2, repetition: 2, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try s.run(width: 2, repetition: -1, seed: 0) } == "invalidArgument")
        #expect(errorKind { _ = try MeanFieldBenchmarks.run("sweep", repetitions: 0) } == "invalidArgument")
        #expect(errorKind { _ = try MeanFieldBenchmarks.run("nope") } == "invalidArgument")
    }
}
