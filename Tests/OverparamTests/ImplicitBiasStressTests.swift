import Foundation
import Testing
@testable import Overparam

// Stress runs of the max-margin solvers over many seeds and sizes (OVERPARAM_IMPLICIT_BIAS_STRESS=1; not part of the suite).
@Test(.enabled(if: ProcessInfo.processInfo.environment["OVERPARAM_IMPLICIT_BIAS_STRESS"] != nil))
func implicitBiasSolverStress() throws {
    var worstSVMGap = 0.0, worstLPGap = 0.0, maxSVMIt = 0, maxLPIt = 0, violations = 0
    for law in [ClusterClassificationData.RadialLaw.uniformOnDisk, .uniformRadius] {
        for d in [2, 5, 15] {
            for n in [16, 128, 512] {
                for seed in UInt64(1)...6 {
                    let dist = try ClusterClassificationData(dimension: d, radialLaw: law, seed: seed)
                    let s = try dist.sample(n, seed: seed &+ 99)
                    let svm = try KernelMaxMargin(inputs: s.inputs, labels: s.labels)
                    worstSVMGap = max(worstSVMGap, svm.relativeDualityGap); maxSVMIt = max(maxSVMIt, svm.iterations)
                    if n <= 128 {
                        let dirs = d == 2 ? try SphereDirections.fibonacci(count: 1000) : try SphereDirections.random(count: 1000, dimension: d + 1, seed: seed)
                        let f1 = try VariationNormMaxMargin(inputs: s.inputs, labels: s.labels, directions: dirs)
                        worstLPGap = max(worstLPGap, f1.relativeDualityGap); maxLPIt = max(maxLPIt, f1.iterations)
                        if (0..<n).contains(where: { s.labels[$0] * f1.trainingOutputs[$0] < 1 - 1e-7 }) { violations += 1 }
                        if d == 2 && f1.margin < svm.margin { print("F1 < RKHS margin: d \(d) n \(n) seed \(seed): \(f1.margin) < \(svm.margin)") }
                    }
                }
            }
        }
    }
    print("stress: worst SVM gap \(worstSVMGap), max SVM iterations \(maxSVMIt); worst LP gap \(worstLPGap), max LP iterations \(maxLPIt), violations \(violations)")
    // Rank-deficient random-feature kernels: m = 10 features, n = 60 random labels -> not separable.
    var rng = Xoshiro256StarStar(seed: 4)
    for trial in 0..<5 {
        let x = Matrix.randomNormal(rows: 60, cols: 3, using: &rng)
        let theta1 = Matrix.randomOnSphere(rows: 10, dimension: 3, using: &rng)
        var phi = Matrix.product(x, .none, theta1, .transposed)
        for k in 0..<phi.count { phi.storage[k] = max(0, phi.storage[k]) }
        let labels = (0..<60).map { _ in rng.uniform() < 0.5 ? -1.0 : 1.0 }
        do {
            let svm = try KernelMaxMargin(gram: phi.gram(), labels: labels)
            print("trial \(trial): separable?? margin \(svm.margin) gap \(svm.relativeDualityGap)")
        } catch { print("trial \(trial): \(error)") }
        // Separable by construction: labels = sign of a feature combination.
        let w = rng.normals(10)
        let sep = phi.apply(w).map { $0 >= 0 ? 1.0 : -1.0 }
        do {
            let svm = try KernelMaxMargin(gram: phi.gram(), labels: sep)
            print("trial \(trial) separable: margin \(svm.margin) gap \(svm.relativeDualityGap) it \(svm.iterations) polished \(svm.polished)")
        } catch { print("trial \(trial) separable FAILED: \(error)") }
    }
}
