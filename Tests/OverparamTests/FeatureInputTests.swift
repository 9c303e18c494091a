import Foundation
import Testing
@testable import Overparam

// The small library pieces behind `overparam features`: the held-out split of density models and integer class labels
// read from arrays.

@Suite("HeldOutSplit: the seeded held-out share of a density fit")
struct HeldOutSplitTests {
    @Test("a partition of 0..<n with round(fraction n) held out, fixed by the seed")
    func partition() throws {
        for (n, f) in [(10, 0.2), (101, 0.25), (7, 0.5), (1000, 0.01)] {
            let s = try HeldOutSplit(count: n, fraction: f, seed: 3)
            #expect(s.heldOut.count == Int((f * Double(n)).rounded()))
            #expect((s.heldOut + s.training).sorted() == Array(0..<n))
            #expect(try HeldOutSplit(count: n, fraction: f, seed: 3) == s)
        }
        // Another seed gives another split (the chance of the same 20 of 100 rows is 1 / C(100, 20)).
        #expect(try HeldOutSplit(count: 100, fraction: 0.2, seed: 1).heldOut != HeldOutSplit(count: 100, fraction: 0.2, seed: 2).heldOut)
    }

    @Test("GaussianMixture.select's held-out scores are fits on .training scored on .heldOut, bit for bit")
    func matchesSelect() throws {
        let truth = try GaussianMixture(weights: [0.4, 0.6], means: Matrix([[-2, 0], [2, 1]]),
                                        covariances: [Matrix([[1, 0.3], [0.3, 0.5]]), Matrix([[0.6, 0], [0, 1]])])
        let x = try truth.sample(count: 200, seed: 1)
        let (_, scores) = try GaussianMixture.select(x, candidates: [1, 2, 3], criterion: .heldOut(fraction: 0.25), seed: 7)
        let split = try HeldOutSplit(count: x.rows, fraction: 0.25, seed: 7)
        for (k, score) in scores {
            let direct = try GaussianMixture.fit(x.rows(at: split.training), components: k, seed: 7).meanLogLikelihood(x.rows(at: split.heldOut))
            #expect(direct == score, "k = \(k): \(direct) vs \(score)")
        }
    }

    @Test("fractions outside (0, 1) or an empty part throw invalidArgument(fraction)")
    func errors() {
        for (n, f) in [(10, 0.0), (10, 1.0), (10, -0.1), (10, .nan), (1, 0.5), (10, 0.01), (10, 0.99)] {
            if case let .invalidArgument(name, _)? = thrownError({ _ = try HeldOutSplit(count: n, fraction: f, seed: 0) }) { #expect(name == "fraction") }
            else { Issue.record("n = \(n), fraction = \(f): expected invalidArgument(fraction)") }
        }
    }
}

@Suite("ClassLabels: integer labels from a .npy/.csv column")
struct ClassLabelsTests {
    @Test("columns and rows of integers decode; NumPy int64 files round trip")
    func decode() throws {
        #expect(try ClassLabels.decode(Matrix(column: [2, 0, 1, 1])) == [2, 0, 1, 1])
        #expect(try ClassLabels.decode(Matrix(rows: 1, cols: 3, storage: [0, 4, 4]), classCount: 5) == [0, 4, 4])
        // '<i8' (NumPy's default integer array), shape (5,).
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0]) + Data(header.utf8)
        for v: Int64 in [3, 0, 2, 1, 3] { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        #expect(try ClassLabels.decode(NPY.decode(data, path: "labels.npy"), classCount: 4) == [3, 0, 2, 1, 3])
    }

    @Test("non-integers, negatives, labels >= k, NaN and matrices throw one line naming the entry")
    func errors() {
        func problem(_ m: Matrix, _ k: Int? = nil) -> String? {
            if case let .invalidArgument(name, p)? = thrownError({ _ = try ClassLabels.decode(m, classCount: k) }), name == "labels" { return p }
            return nil
        }
        #expect(problem(Matrix(column: [0, 1.5]))?.contains("entry 1 is 1.5") == true)
        #expect(problem(Matrix(column: [0, -1]))?.contains("entry 1 is -1") == true)
        #expect(problem(Matrix(column: [0, 1, 3]), 3)?.contains("entry 2 is 3, outside 0..<3") == true)
        #expect(problem(Matrix(column: [.nan]))?.contains("entry 0") == true)
        #expect(problem(Matrix(column: [1e300]))?.contains("entry 0") == true)
        #expect(problem(Matrix(rows: 2, cols: 2, storage: [0, 1, 1, 0]))?.contains("2x2") == true)
        #expect(problem(Matrix(rows: 0, cols: 1)) != nil)
        #expect(errorKind { _ = try ClassLabels.decode(Matrix(column: [0]), classCount: 0) } == "invalidArgument")
    }
}
