import CBLAS

/// S ReLU students without input bias (widths m_1 ... m_S, W = sum_s m_s particles in all), trained in lockstep by
/// ``ParticleSGD``'s step (no penalty, no noise, both layers) on shared batches, with their particles stacked so that
/// one step is two GEMMs for the whole stack instead of two per student. For ``TeacherStudentSweep``.
///
/// Layout: student s owns the columns J_s = o_s ..< o_s + m_s (o_s = m_1 + ... + m_{s-1}) of
///
///     Theta1   d x W  (column j = theta1_j; row-major, leading dimension W)
///     theta2   W
///     Z, P     B x W  (row-major)
///
/// One step on the batch X (B x d, rows x_i) with targets y, per student s (j in J_s, delta_i^s = h_s(x_i) - y_i):
///
///     Z = X Theta1                                                    (one GEMM, B x d x W)
///     h_s(x_i) = (1/m_s) sum_{j in J_s} theta2_j (z_ij)_+,   R_s = (1/2B) sum_i (delta_i^s)^2,   g_i^s = delta_i^s / B
///     grad2_j = sum_i g_i^s (z_ij)_+,   P_ij = g_i^s theta2_j 1(z_ij > 0)
///     Theta1 <- Theta1 - gamma c X^T P                                (one GEMM, d x B x W; c = 1 or B, the convention)
///     theta2_j <- theta2_j - gamma grad2_j
///
/// which is ``ParticleSGD/kernelStep(rows:inputs:targets:)`` for each student (theta1's gradient uses theta2 before its
/// update). Every output entry of both GEMMs is a dot product of length d or B over one column of the stack, so student
/// s's arithmetic does not involve the other students' columns; with this machine's OpenBLAS (0.3.21, Haswell kernels)
/// on one thread the result is also bit-identical for any position of J_s in any stack, including a stack of one
/// (checked in `TeacherStudentSweepTests`). On more OpenBLAS threads it is not (the split of a GEMM over threads moves
/// its edge kernels), hence ``withSingleThreadedBLAS(_:)`` around every use. Versus ``ParticleSGD`` the layout of Theta1 is transposed (d x m instead of m x d),
/// which changes OpenBLAS's summation order in some entries: the two agree to rounding, not bit for bit.
///
/// A student whose batch risk R_s is not finite is frozen at that step (its g^s set to 0 from then on, theta2 no longer
/// updated), as ``ParticleSGD`` stops with `diverged`; its columns never reach the others'.
final class StudentStack {
    /// The students as initialized (templates for ``network(_:)``).
    let students: [MeanFieldNetwork]
    /// m_s.
    let widths: [Int]
    /// o_s, with o_S = W.
    let offsets: [Int]
    /// d.
    let inputDimension: Int
    /// B.
    let rows: Int
    /// W.
    var totalWidth: Int { offsets[widths.count] }
    let stepSize: Double
    let convention: BatchGradientConvention
    /// Theta1 (d x W), theta2 (W), Z and P (B x W), grad2 (W), g (B x S, row i holds g_i^1 ... g_i^S).
    private let theta1: UnsafeMutablePointer<Double>, theta2: UnsafeMutablePointer<Double>
    private let z: UnsafeMutablePointer<Double>, grad2: UnsafeMutablePointer<Double>, g: UnsafeMutablePointer<Double>
    /// Student s stopped on a non-finite batch risk.
    private(set) var diverged: [Bool]
    /// R_s of the last batch on which student s stepped, before its update (NaN before the first step).
    private(set) var lastBatchRisk: [Double]
    /// Per-student batch risk accumulators (scratch).
    private var risks: [Double]

    /// The stack of `students` (each ReLU, no input bias, input dimension d), for batches of `batchSize` rows.
    init(_ students: [MeanFieldNetwork], batchSize: Int, stepSize: Double, convention: BatchGradientConvention) {
        precondition(!students.isEmpty && batchSize >= 1, "StudentStack: need students and B >= 1")
        let d = students[0].inputDimension
        precondition(students.allSatisfy { $0.activation == .relu && !$0.hasInputBias && $0.inputDimension == d },
                     "StudentStack: ReLU students without input bias, one input dimension")
        self.students = students
        widths = students.map(\.width)
        var o = [0]
        for m in widths { o.append(o.last! + m) }
        offsets = o
        inputDimension = d
        rows = batchSize
        self.stepSize = stepSize
        self.convention = convention
        let w = o.last!
        func alloc(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        theta1 = alloc(d * w); theta2 = alloc(w); z = alloc(batchSize * w); grad2 = alloc(w)
        g = alloc(batchSize * students.count)
        for (s, net) in students.enumerated() {
            for j in 0..<net.width {
                theta2[o[s] + j] = net.theta2[j]
                for k in 0..<d { theta1[k * w + o[s] + j] = net.theta1[j, k] }
            }
        }
        diverged = [Bool](repeating: false, count: students.count)
        lastBatchRisk = [Double](repeating: .nan, count: students.count)
        risks = [Double](repeating: 0, count: students.count)
    }

    /// `body` with OpenBLAS set to one thread (process-wide; restored after), as ``step(inputs:targets:)`` expects.
    static func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
        let blasThreads = openblas_get_num_threads()
        if blasThreads != 1 { openblas_set_num_threads(1) }
        defer { if blasThreads != 1 { openblas_set_num_threads(blasThreads) } }
        return try body()
    }

    deinit { theta1.deallocate(); theta2.deallocate(); z.deallocate(); grad2.deallocate(); g.deallocate() }

    /// Student s's current network (its weights as they are, finite or not, like ``ParticleSGD/network``).
    func network(_ s: Int) -> MeanFieldNetwork {
        let m = widths[s], o = offsets[s], w = totalWidth, d = inputDimension
        var net = students[s]
        for j in 0..<m {
            net.theta2[j] = theta2[o + j]
            for k in 0..<d { net.theta1[j, k] = theta1[k * w + o + j] }
        }
        return net
    }

    /// One step of every student that has not diverged, on the batch x (``rows`` x d, leading dimension d; finite)
    /// and targets y. OpenBLAS runs on the calling thread's setting (the sweep sets one thread).
    func step(inputs x: UnsafePointer<Double>, targets y: UnsafePointer<Double>) {
        let n = rows, d = inputDimension, w = totalWidth, count = widths.count
        let gamma = stepSize
        let inputScale = convention == .sumForInputWeights ? Double(n) : 1
        let invN = 1 / Double(n)
        let t1 = theta1, t2 = theta2, z = z, g = g, gb = grad2
        // Z = X Theta1.
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(w), Int32(d), 1, x, Int32(d), t1, Int32(w),
                    0, z, Int32(w))
        // Z <- (Z)_+; h_s(x_i), delta_i^s, R_s, g_i^s (``reluReadoutInPlace``, the sums of ParticleSGD's single block).
        risks.withUnsafeMutableBufferPointer { risk in
            for s in 0..<count { risk[s] = 0 }
            for i in 0..<n {
                let zi = z + i * w, gi = g + i * count
                for s in 0..<count {
                    let j0 = offsets[s], j1 = offsets[s + 1]
                    let e = reluReadoutInPlace(zi + j0, weights: t2 + j0, count: j1 - j0) * (1 / Double(j1 - j0)) - y[i]
                    risk[s] += e * e
                    gi[s] = e * invN
                }
            }
            for s in 0..<count where !diverged[s] {
                let r = risk[s] * (0.5 * invN)
                if r.isFinite { lastBatchRisk[s] = r } else { diverged[s] = true }
            }
        }
        for s in 0..<count where diverged[s] { for i in 0..<n { g[i * count + s] = 0 } }
        // grad2_j = sum_i g_i^s (z_ij)_+; Z <- P.
        for j in 0..<w { gb[j] = 0 }
        for i in 0..<n {
            let zi = z + i * w, gi = g + i * count
            for s in 0..<count {
                let c = gi[s]
                // Branch-free 1(z > 0) from v = (z)_+ >= 0, as in ParticleSGD: v > 0 iff bits - 1 < bits(+inf).
                for j in offsets[s]..<offsets[s + 1] {
                    let v = zi[j]
                    gb[j] += c * v
                    let on: UInt64 = (v.bitPattern &- 1) < 0x7FF0_0000_0000_0000 ? ~0 : 0
                    zi[j] = Double(bitPattern: (c * t2[j]).bitPattern & on)
                }
            }
        }
        // Theta1 <- Theta1 - gamma c X^T P; theta2 <- theta2 - gamma grad2 (frozen students: P = 0, theta2 kept).
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(w), Int32(n), -gamma * inputScale,
                    x, Int32(d), z, Int32(w), 1, t1, Int32(w))
        for s in 0..<count where !diverged[s] {
            for j in offsets[s]..<offsets[s + 1] { t2[j] -= gamma * gb[j] }
        }
    }
}
