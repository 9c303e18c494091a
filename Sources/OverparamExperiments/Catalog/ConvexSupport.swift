import Foundation
import Overparam

/// Which member of the l_{a,b} family (seed 002 eq. 10, fig. 4) regularizes the hidden layers.
public enum ConvexRegularizerKind: String, Sendable, Codable, CaseIterable {
    /// l_{1,2}, the seed's regularizer (eqs. 10-12, eq. 11 corrected in SEED-NOTES sec. 2).
    case l12
    /// l_{2,1}: ordinary weight decay.
    case l21
    /// l_{1/2,4}.
    case lHalf4

    /// lambda^(l) = lambda for every layer and lambda^(u) = lambda for the readout (one tuned weight).
    public func regularizer(depth: Int, lambda: Double) throws -> MixedNormRegularizer {
        let w = [Double](repeating: lambda, count: depth)
        switch self {
        case .l12: return try .l12(layerWeights: w, readoutWeight: lambda)
        case .l21: return try .weightDecay(layerWeights: w, readoutWeight: lambda)
        case .lHalf4: return try .lHalf4(layerWeights: w, readoutWeight: lambda)
        }
    }

    public var label: String {
        switch self { case .l12: return "l_{1,2}"; case .l21: return "l_{2,1}"; case .lHalf4: return "l_{1/2,4}" }
    }
}

/// The settings of seed 002's synthetic 1-D task (sec. VII-A; SEED-NOTES sec. 3), shared by the `convex.*`
/// experiments: x ~ U[-2 pi, 2 pi], y = cos 4x (the seed's f = h(h(cos x)) with h(u) = 2u^2 - 1, SEED-NOTES
/// correction), widths m^(l) = base 2^(L-l), tanh, input bias 1, Adam on Q, and one regularizer weight lambda
/// (all lambda^(l) = lambda^(u)) tuned so that the final train RMSE equals `targetRMSE`.
public struct ConvexTaskConfig: Codable, Sendable {
    public var trainSamples: Int
    public var testSamples: Int
    /// m^(l) = base 2^(L-l) (the seed: 1000).
    public var base: Int
    /// Adam's learning rate on the standard-parameterization weights (the seed: 1e-4); see ``ConvexSupport/adamScales(_:)``.
    public var learningRate: Double
    /// Adam steps per training run.
    public var steps: Int
    /// Minibatch size (0: full batch).
    public var batchSize: Int
    /// The train RMSE every tuned network must reach (the seed: 1e-4) and the relative tolerance of the tuning.
    public var targetRMSE: Double
    public var rmseTolerance: Double
    /// The bracket [lambdaMin, lambdaMax] searched by the tuning and the number of bisection steps in log lambda.
    public var lambdaMin: Double
    public var lambdaMax: Double
    public var tuneIterations: Int
    /// E_x of V(w, u) is the mean over the first `varianceSamples` training inputs.
    public var varianceSamples: Int
    /// Record Q, V and the RMSE every `recordEvery` steps.
    public var recordEvery: Int

    public init(trainSamples: Int, testSamples: Int, base: Int, learningRate: Double, steps: Int, batchSize: Int, targetRMSE: Double,
                rmseTolerance: Double, lambdaMin: Double, lambdaMax: Double, tuneIterations: Int, varianceSamples: Int, recordEvery: Int) {
        self.trainSamples = trainSamples; self.testSamples = testSamples; self.base = base; self.learningRate = learningRate
        self.steps = steps; self.batchSize = batchSize; self.targetRMSE = targetRMSE; self.rmseTolerance = rmseTolerance
        self.lambdaMin = lambdaMin; self.lambdaMax = lambdaMax; self.tuneIterations = tuneIterations
        self.varianceSamples = varianceSamples; self.recordEvery = recordEvery
    }

    /// The seed's settings (sec. VII-A): 60k/60k samples, base 1000, Adam 1e-4, train RMSE 1e-4. The seed gives
    /// neither the batch size nor the number of epochs: batch 128 and 2000 epochs (about 940k steps) are our choice.
    public static let seed002 = ConvexTaskConfig(trainSamples: 60_000, testSamples: 60_000, base: 1000, learningRate: 1e-4,
                                                 steps: 2000 * 469, batchSize: 128, targetRMSE: 1e-4, rmseTolerance: 0.1,
                                                 lambdaMin: 1e-9, lambdaMax: 1e-1, tuneIterations: 8, varianceSamples: 2000, recordEvery: 469 * 20)

    /// The quick setting: base 8 (widths 8...64), 256 samples, full-batch Adam 3e-3 for 3000 steps, target RMSE 0.05.
    public static let quick = ConvexTaskConfig(trainSamples: 256, testSamples: 2048, base: 8, learningRate: 3e-3,
                                               steps: 3000, batchSize: 0, targetRMSE: 0.05, rmseTolerance: 0.15,
                                               lambdaMin: 1e-6, lambdaMax: 1e-1, tuneIterations: 6, varianceSamples: 256, recordEvery: 100)

    /// The quick setting of the depth comparisons (L = 1...4): base 16, Adam 5e-3, target RMSE 0.1.
    public static var quickDepth: ConvexTaskConfig {
        var t = quick
        t.base = 16; t.learningRate = 5e-3; t.targetRMSE = 0.1
        return t
    }

    /// One line for the experiment notes.
    public var note: String {
        "1-D task x ~ U[-2 pi, 2 pi], y = cos 4x, \(trainSamples) train / \(testSamples) test samples, widths m^(l) = \(base) 2^(L-l), tanh, input bias 1, "
            + "Adam \(sig(learningRate, 2)) (standard-parameterization scale) for \(steps) steps, " + (batchSize == 0 ? "full batch" : "batch \(batchSize)")
            + ", lambda tuned in [\(sig(lambdaMin, 2)), \(sig(lambdaMax, 2))] (\(tuneIterations) log-bisection steps) to train RMSE \(sig(targetRMSE, 2)) +- \(Int((rmseTolerance * 100).rounded())) %"
            + "; V(w, u) averaged over \(varianceSamples) training inputs"
    }
}

/// One trained network of the 1-D task, with its training curves.
public struct ConvexRun: Sendable {
    public var depth: Int
    public var kind: ConvexRegularizerKind
    public var lambda: Double
    public var network: DeepFeatureNetwork
    public var regularizer: MixedNormRegularizer
    /// Q and its parts at the record steps.
    public var records: [ConvexTrainingRecord]
    /// V(w, u) at the same steps.
    public var variance: [ApproximationVariance]
    public var trainRMSE: Double
    public var testRMSE: Double
}

/// The result of ``ConvexSupport/tune(depth:kind:task:seed:)``.
public struct ConvexTuning: Sendable {
    /// The run whose train RMSE is closest to the target (in log ratio).
    public var run: ConvexRun
    /// Every (lambda, train RMSE) tried, in order.
    public var trials: [(lambda: Double, rmse: Double)]
    /// Whether the chosen run is within the relative tolerance of the target.
    public var reached: Bool
}

/// Data, training and lambda tuning for seed 002's 1-D task (sec. VII-A).
public enum ConvexSupport {
    /// x_i ~ U[-2 pi, 2 pi], y_i = cos 4 x_i (n x 1 each).
    public static func data(_ n: Int, seed: UInt64) throws -> (x: Matrix, y: Matrix) {
        guard n >= 1 else { throw OverparamError.invalidArgument(name: "samples", problem: "need at least one sample (got \(n))") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0xC05_4)
        let x = (0..<n).map { _ in -2 * Double.pi + 4 * Double.pi * rng.uniform() }
        return (Matrix(column: x), Matrix(column: x.map { Foundation.cos(4 * $0) }))
    }

    /// Adam's per-parameter learning-rate factors m^(l-1) for w^(l) and m^(L) for u. Adam's step is invariant to a
    /// rescaling of the gradient (up to epsilon), so Adam with rate eta and these factors on the mean-field weights w
    /// (g = (1/m^(l-1)) sum_k w_jk f_k) moves w / m^(l-1) exactly as Adam with rate eta moves standard-parameterization
    /// weights (g = sum_k W_jk f_k, W = w / m^(l-1)), which is what a framework implementation of the seed steps
    /// with its Adam 1e-4.
    public static func adamScales(_ layout: DeepFeatureLayout) -> [Double] {
        var s = [Double](repeating: Double(layout.widths[layout.depth]), count: layout.count)
        for l in 1...layout.depth { for i in layout.weightRange(l) { s[i] = Double(layout.widths[l - 1]) } }
        return s
    }

    /// sqrt(mean (f - y)^2) of a 1-output network.
    public static func rmse(_ network: DeepFeatureNetwork, _ x: Matrix, _ y: Matrix) throws -> Double {
        let f = try network(x)
        var s = 0.0
        for i in 0..<f.rows { let e = f[i, 0] - y[i, 0]; s += e * e }
        return (s / Double(f.rows)).squareRoot()
    }

    /// Train the depth-L network of the task with the regularizer `kind` and weight lambda from the initialization of
    /// `seed` (the same initialization for every lambda), recording Q, V(w, u) and the RMSE every `recordEvery` steps.
    public static func train(depth: Int, kind: ConvexRegularizerKind, lambda: Double, task c: ConvexTaskConfig, seed: UInt64) throws -> ConvexRun {
        guard c.steps >= 1, c.recordEvery >= 1, c.varianceSamples >= 1 else {
            throw OverparamError.invalidArgument(name: "steps", problem: "need steps, recordEvery and varianceSamples >= 1")
        }
        let (x, y) = try data(c.trainSamples, seed: seed)
        let (tx, ty) = try data(c.testSamples, seed: seed ^ 0x7E57)
        let vx = x.rows(at: Array(0..<Swift.min(c.varianceSamples, x.rows)))
        var net = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: try DeepFeatureNetwork.seedWidths(depth: depth, base: c.base),
                                         activation: .tanh, inputBias: 1, seed: seed ^ 0x1E7)
        let reg = try kind.regularizer(depth: depth, lambda: lambda)
        let objective = ConvexObjective(regularizer: reg)
        var adam = Adam(learningRate: c.learningRate, scales: adamScales(net.layout))
        var records = [ConvexTrainingRecord](), variance = [ApproximationVariance]()
        var done = 0, chunk = 0
        variance.append(try ApproximationVariance(net, inputs: vx))
        while done < c.steps {
            var o = ConvexTrainingOptions()
            o.steps = Swift.min(c.recordEvery, c.steps - done)
            o.recordEvery = o.steps
            o.batchSize = c.batchSize == 0 ? nil : c.batchSize
            o.seed = seed &+ UInt64(chunk)
            let r = try ConvexTrainer.train(&net, inputs: x, targets: y, objective: objective, optimizer: &adam, options: o)
            if records.isEmpty, var first = r.first { first.step = 0; records.append(first) }
            done += o.steps; chunk += 1
            if var last = r.last { last.step = done; records.append(last) }
            variance.append(try ApproximationVariance(net, inputs: vx))
        }
        return ConvexRun(depth: depth, kind: kind, lambda: lambda, network: net, regularizer: reg, records: records, variance: variance,
                         trainRMSE: try rmse(net, x, y), testRMSE: try rmse(net, tx, ty))
    }

    /// Tune lambda so that the final train RMSE is `targetRMSE` (within `rmseTolerance`, relative): the train RMSE
    /// grows with lambda, so bisect in log lambda over [lambdaMin, lambdaMax] (each trial a full training run from the
    /// same initialization), interpolating log RMSE linearly in log lambda (clamped to the inner 80 % of the current
    /// bracket). When even lambdaMin leaves the RMSE above the target (the budget cannot fit that well) or lambdaMax
    /// leaves it below, the end point is returned with `reached = false`.
    public static func tune(depth: Int, kind: ConvexRegularizerKind, task c: ConvexTaskConfig, seed: UInt64) throws -> ConvexTuning {
        guard c.lambdaMin > 0, c.lambdaMax > c.lambdaMin, c.targetRMSE > 0, c.rmseTolerance > 0, c.tuneIterations >= 0 else {
            throw OverparamError.invalidArgument(name: "tuning", problem: "need 0 < lambdaMin < lambdaMax, targetRMSE > 0, rmseTolerance > 0, tuneIterations >= 0")
        }
        let target = c.targetRMSE, logT = Foundation.log(target)
        var trials = [(lambda: Double, rmse: Double)]()
        var best: ConvexRun? = nil
        func attempt(_ lam: Double) throws -> ConvexRun {
            let r = try train(depth: depth, kind: kind, lambda: lam, task: c, seed: seed)
            trials.append((lam, r.trainRMSE))
            if best == nil || abs(Foundation.log(r.trainRMSE) - logT) < abs(Foundation.log(best!.trainRMSE) - logT) { best = r }
            return r
        }
        func within(_ r: ConvexRun) -> Bool { abs(r.trainRMSE / target - 1) <= c.rmseTolerance }
        let lo = try attempt(c.lambdaMin)
        if within(lo) || lo.trainRMSE > target { return ConvexTuning(run: best!, trials: trials, reached: within(best!)) }
        let hi = try attempt(c.lambdaMax)
        if within(hi) || hi.trainRMSE < target { return ConvexTuning(run: best!, trials: trials, reached: within(best!)) }
        var a = (Foundation.log(c.lambdaMin), Foundation.log(lo.trainRMSE)), b = (Foundation.log(c.lambdaMax), Foundation.log(hi.trainRMSE))
        for _ in 0..<c.tuneIterations {
            var t = b.1 > a.1 ? (logT - a.1) / (b.1 - a.1) : 0.5
            t = Swift.min(0.9, Swift.max(0.1, t))
            let mid = a.0 + t * (b.0 - a.0)
            let r = try attempt(Foundation.exp(mid))
            if within(r) { break }
            if r.trainRMSE < target { a = (mid, Foundation.log(r.trainRMSE)) } else { b = (mid, Foundation.log(r.trainRMSE)) }
        }
        return ConvexTuning(run: best!, trials: trials, reached: within(best!))
    }

    /// "lambda = ... (RMSE ...)" for the trials of a tuning.
    public static func trialsNote(_ t: ConvexTuning) -> String {
        t.trials.map { "\(sig($0.lambda, 3)) -> \(sig($0.rmse, 3))" }.joined(separator: ", ")
    }
}
