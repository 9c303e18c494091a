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
        try regularizer(layerWeights: [Double](repeating: lambda, count: depth), readoutWeight: lambda)
    }

    /// lambda^(1), ..., lambda^(L) = `layerWeights` and lambda^(u) = `readoutWeight`.
    public func regularizer(layerWeights w: [Double], readoutWeight: Double) throws -> MixedNormRegularizer {
        switch self {
        case .l12: return try .l12(layerWeights: w, readoutWeight: readoutWeight)
        case .l21: return try .weightDecay(layerWeights: w, readoutWeight: readoutWeight)
        case .lHalf4: return try .lHalf4(layerWeights: w, readoutWeight: readoutWeight)
        }
    }

    /// The member with exponents (a, b), if it is one of the three.
    public init?(_ r: MixedNormRegularizer) {
        guard let k = Self.allCases.first(where: { (try? $0.regularizer(depth: 1, lambda: 0)).map { $0.a == r.a && $0.b == r.b } ?? false }) else { return nil }
        self = k
    }

    /// The command-line name: l12, l21, l-half-4.
    public var cliName: String { self == .lHalf4 ? "l-half-4" : rawValue }

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
    /// Adam's rate per depth: entry L - 1 for depth L (empty, or shorter than L: `learningRate`). The quick depth
    /// comparisons need a larger rate at L = 1, whose single layer must grow first-layer weights of order 4 to make
    /// the 8 periods of cos 4x (a slow direction at the rate that keeps L = 2...4 stable).
    public var depthLearningRates: [Double] = []
    /// Adam's rate for depth L.
    public func learningRate(depth: Int) -> Double { depth >= 1 && depth <= depthLearningRates.count ? depthLearningRates[depth - 1] : learningRate }
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
    /// The continuation of ``ConvexSupport/tune(depth:kind:task:seed:)``: lambda grows by `lambdaFactor` per stage
    /// and each stage (and each bisection trial) continues `continuationSteps` Adam steps; the first stage (at
    /// lambdaMin, from the initialization) runs `steps` steps.
    public var lambdaFactor: Double
    public var continuationSteps: Int
    /// The first stage (from the initialization) runs at Adam's rate; every continuation stage at `annealFactor`
    /// times it (1: the same rate). So the network at the end of a stage is a settled point of that lambda rather
    /// than a snapshot of Adam's oscillation, and a stage does not kick the network out of the previous stage's
    /// minimum: RMSE(lambda) along the path is smooth enough to land in the window.
    public var annealFactor: Double = 0.2
    /// E_x of V(w, u) is the mean over the first `varianceSamples` training inputs.
    public var varianceSamples: Int
    /// Record Q, V and the RMSE every `recordEvery` steps.
    public var recordEvery: Int

    public init(trainSamples: Int, testSamples: Int, base: Int, learningRate: Double, steps: Int, batchSize: Int, targetRMSE: Double,
                rmseTolerance: Double, lambdaMin: Double, lambdaMax: Double, tuneIterations: Int, lambdaFactor: Double, continuationSteps: Int,
                varianceSamples: Int, recordEvery: Int) {
        self.trainSamples = trainSamples; self.testSamples = testSamples; self.base = base; self.learningRate = learningRate
        self.steps = steps; self.batchSize = batchSize; self.targetRMSE = targetRMSE; self.rmseTolerance = rmseTolerance
        self.lambdaMin = lambdaMin; self.lambdaMax = lambdaMax; self.tuneIterations = tuneIterations
        self.lambdaFactor = lambdaFactor; self.continuationSteps = continuationSteps
        self.varianceSamples = varianceSamples; self.recordEvery = recordEvery
    }

    /// The seed's settings (sec. VII-A): 60k/60k samples, base 1000, Adam 1e-4, train RMSE 1e-4. The seed gives
    /// neither the batch size nor the number of epochs: batch 128 and 2000 epochs (about 940k steps) are our choice.
    public static let seed002 = ConvexTaskConfig(trainSamples: 60_000, testSamples: 60_000, base: 1000, learningRate: 1e-4,
                                                 steps: 2000 * 469, batchSize: 128, targetRMSE: 1e-4, rmseTolerance: 0.1,
                                                 lambdaMin: 1e-9, lambdaMax: 1e-1, tuneIterations: 8, lambdaFactor: 2, continuationSteps: 200 * 469, varianceSamples: 2000, recordEvery: 469 * 20)

    /// The quick setting: base 8 (widths 8...64), 256 samples, full-batch Adam 3e-3 for 3000 steps, target RMSE 0.05.
    public static let quick = ConvexTaskConfig(trainSamples: 256, testSamples: 2048, base: 8, learningRate: 3e-3,
                                               steps: 3000, batchSize: 0, targetRMSE: 0.05, rmseTolerance: 0.15,
                                               lambdaMin: 1e-6, lambdaMax: 1e-1, tuneIterations: 6, lambdaFactor: 2, continuationSteps: 300, varianceSamples: 256, recordEvery: 100)

    /// The quick setting of the depth comparisons (L = 1...4): base 32, Adam 5e-3 (3e-2 at L = 1), target RMSE 0.15
    /// and 4000 first-stage steps (every depth fits below the window at lambdaMin, so lambda, not the step budget, sets the RMSE; at 0.1 the
    /// L = 1 and L = 3 networks land at lambdaMin), continuation from lambda = 1e-5 in stages of 200 steps.
    public static var quickDepth: ConvexTaskConfig {
        var t = quick
        t.base = 32; t.learningRate = 5e-3; t.depthLearningRates = [3e-2, 5e-3, 5e-3, 5e-3]; t.targetRMSE = 0.15
        t.steps = 4000; t.lambdaMin = 1e-5; t.continuationSteps = 200
        return t
    }

    /// One line for the experiment notes.
    public var note: String {
        "1-D task x ~ U[-2 pi, 2 pi], y = cos 4x, \(trainSamples) train / \(testSamples) test samples, widths m^(l) = \(base) 2^(L-l), tanh, input bias 1, "
            + "Adam \(annealFactor == 1 ? "" : "(continuation stages at \(sig(annealFactor, 2)) x the rate) ")\(depthLearningRates.isEmpty ? sig(learningRate, 2) : depthLearningRates.map { sig($0, 2) }.joined(separator: " / ") + " for L = 1, 2, ...") (standard-parameterization scale) for \(steps) steps, " + (batchSize == 0 ? "full batch" : "batch \(batchSize)")
            + ", lambda tuned to train RMSE \(sig(targetRMSE, 2)) +- \(Int((rmseTolerance * 100).rounded())) % by continuation (first \(steps) steps at lambda = \(sig(lambdaMin, 2)) from the initialization, then lambda x \(sig(lambdaFactor, 2)) per stage of \(continuationSteps) steps continuing from the current weights and Adam state, up to \(sig(lambdaMax, 2)); on overshoot up to \(tuneIterations) log-bisection trials continuing from the last network below the window)"
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
    /// x_i ~ U[-2 pi, 2 pi], y_i = cos 4 x_i (n x 1 each), from u_i ~ U[0, 1) of the stream (seed, 0xC054):
    /// x_i = -2 pi + 4 pi u_i, or with `symmetricForm` x_i = 2 pi (2 u_i - 1), the same draws up to the last bit
    /// (the form of `convex.program` and `convex.discretization`, kept so that their results do not change).
    public static func data(_ n: Int, seed: UInt64, symmetricForm: Bool = false) throws -> (x: Matrix, y: Matrix) {
        guard n >= 1 else { throw OverparamError.invalidArgument(name: "samples", problem: "need at least one sample (got \(n))") }
        var rng = Xoshiro256StarStar(seed: seed, stream: 0xC05_4)
        let x = (0..<n).map { _ in
            symmetricForm ? (rng.uniform() * 2 - 1) * 2 * Double.pi : -2 * Double.pi + 4 * Double.pi * rng.uniform()
        }
        return (Matrix(column: x), Matrix(column: x.map { Foundation.cos(4 * $0) }))
    }

    /// n evenly spaced points on [-2 pi, 2 pi], the midpoints of n equal cells (n x 1).
    static func midpointGrid(_ n: Int) -> Matrix {
        Matrix(column: (0..<n).map { -2 * Double.pi + 4 * Double.pi * (Double($0) + 0.5) / Double(n) })
    }

    /// Seed 002's network of the 1-D task (eqs. 1-2: tanh, input bias 1, 1/fan-in scaling) with hidden widths
    /// `widths`, initialized from `seed`.
    static func network(widths: [Int], seed: UInt64) throws -> DeepFeatureNetwork {
        try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: widths, activation: .tanh, inputBias: 1, seed: seed)
    }

    /// Adam at `learningRate` for `network`: with `standardScales`, per-parameter factors ``adamScales(_:)`` (Adam on
    /// the standard-parameterization weights); without, plain Adam on the mean-field weights.
    static func adam(for network: DeepFeatureNetwork, learningRate: Double, standardScales: Bool = true) -> Adam {
        Adam(learningRate: learningRate, scales: standardScales ? adamScales(network.layout) : nil)
    }

    /// `steps` Adam steps on Q (``ConvexTrainer``, mini-norm subgradient) from the network's current weights and
    /// Adam's state; minibatches of `batchSize` drawn without replacement from (seed, batchStream), full batch when
    /// `batchSize` is 0 or at least n. Q is recorded at the first and the last step only.
    @discardableResult
    static func adamSteps(_ network: inout DeepFeatureNetwork, _ adam: inout Adam, inputs x: Matrix, targets y: Matrix,
                          objective: ConvexObjective, steps: Int, batchSize: Int, seed: UInt64,
                          batchStream: UInt64 = ConvexTrainingOptions().batchStream) throws -> [ConvexTrainingRecord] {
        var o = ConvexTrainingOptions()
        o.steps = steps
        o.recordEvery = Swift.max(steps, 1)
        o.batchSize = batchSize > 0 && batchSize < x.rows ? batchSize : nil
        o.seed = seed
        o.batchStream = batchStream
        return try ConvexTrainer.train(&network, inputs: x, targets: y, objective: objective, optimizer: &adam, options: o)
    }

    /// Train seed 002's network (``network(widths:seed:)``, initialization `networkSeed`) on the 1-D task by `steps`
    /// Adam steps on Q (``adamSteps(_:_:inputs:targets:objective:steps:batchSize:seed:batchStream:)``, batches from
    /// `batchSeed`).
    static func trainAdam(widths: [Int], inputs x: Matrix, targets y: Matrix, objective: ConvexObjective, learningRate: Double,
                          standardScales: Bool = true, steps: Int, batchSize: Int, networkSeed: UInt64, batchSeed: UInt64,
                          batchStream: UInt64 = ConvexTrainingOptions().batchStream) throws -> DeepFeatureNetwork {
        var net = try network(widths: widths, seed: networkSeed)
        var adam = adam(for: net, learningRate: learningRate, standardScales: standardScales)
        try adamSteps(&net, &adam, inputs: x, targets: y, objective: objective, steps: steps, batchSize: batchSize, seed: batchSeed,
                      batchStream: batchStream)
        return net
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

    /// The task's data: train (x, y), test (x, y) and the inputs over which V(w, u) is averaged.
    struct Data {
        var x: Matrix, y: Matrix, testX: Matrix, testY: Matrix, varianceX: Matrix
        init(_ c: ConvexTaskConfig, seed: UInt64) throws {
            (x, y) = try ConvexSupport.data(c.trainSamples, seed: seed)
            (testX, testY) = try ConvexSupport.data(c.testSamples, seed: seed ^ 0x7E57)
            varianceX = x.rows(at: Array(0..<Swift.min(c.varianceSamples, x.rows)))
        }
    }

    /// A point on a training path: the network, Adam's state and the records so far (a value: copying it keeps a
    /// point to continue from).
    struct PathState {
        var network: DeepFeatureNetwork
        var adam: Adam
        var records = [ConvexTrainingRecord]()
        var variance = [ApproximationVariance]()
        var steps = 0, chunks = 0
        var lambda = Double.nan
        var trainRMSE = Double.nan

        /// The initialization of `seed` (the same for every lambda and every path).
        init(depth: Int, task c: ConvexTaskConfig, data: Data, seed: UInt64) throws {
            network = try ConvexSupport.network(widths: try DeepFeatureNetwork.seedWidths(depth: depth, base: c.base), seed: seed ^ 0x1E7)
            adam = ConvexSupport.adam(for: network, learningRate: c.learningRate(depth: depth))
            variance.append(try ApproximationVariance(network, inputs: data.varianceX))
        }

        /// Continue `count` Adam steps with the regularizer `kind` at weight lambda, recording Q, V(w, u) and the
        /// RMSE every `recordEvery` steps (and at the end of the stage).
        mutating func advance(_ count: Int, kind: ConvexRegularizerKind, lambda: Double, task c: ConvexTaskConfig, data: Data, seed: UInt64) throws {
            let objective = ConvexObjective(regularizer: try kind.regularizer(depth: network.depth, lambda: lambda))
            // The first stage (no steps yet) at Adam's rate, every continuation stage at annealFactor times it.
            let rate = c.learningRate(depth: network.depth) * (steps > 0 ? c.annealFactor : 1)
            var done = 0
            while done < count {
                adam.learningRate = rate
                let chunk = Swift.min(c.recordEvery, count - done)
                let r = try ConvexSupport.adamSteps(&network, &adam, inputs: data.x, targets: data.y, objective: objective, steps: chunk,
                                                    batchSize: c.batchSize, seed: seed &+ UInt64(chunks))
                if records.isEmpty, var first = r.first { first.step = 0; records.append(first) }
                done += chunk; steps += chunk; chunks += 1
                if var last = r.last { last.step = steps; records.append(last) }
                variance.append(try ApproximationVariance(network, inputs: data.varianceX))
            }
            self.lambda = lambda
            trainRMSE = try ConvexSupport.rmse(network, data.x, data.y)
        }

        func run(kind: ConvexRegularizerKind, data: Data) throws -> ConvexRun {
            ConvexRun(depth: network.depth, kind: kind, lambda: lambda, network: network,
                      regularizer: try kind.regularizer(depth: network.depth, lambda: lambda), records: records, variance: variance,
                      trainRMSE: trainRMSE, testRMSE: try ConvexSupport.rmse(network, data.testX, data.testY))
        }
    }

    /// Train the depth-L network of the task with the regularizer `kind` and weight lambda for `steps` Adam steps from
    /// the initialization of `seed` (the same initialization for every lambda), recording Q, V(w, u) and the RMSE
    /// every `recordEvery` steps.
    public static func train(depth: Int, kind: ConvexRegularizerKind, lambda: Double, task c: ConvexTaskConfig, seed: UInt64) throws -> ConvexRun {
        try validate(c)
        let d = try Data(c, seed: seed)
        var s = try PathState(depth: depth, task: c, data: d, seed: seed)
        try s.advance(c.steps, kind: kind, lambda: lambda, task: c, data: d, seed: seed)
        return try s.run(kind: kind, data: d)
    }

    static func validate(_ c: ConvexTaskConfig) throws {
        guard c.steps >= 1, c.continuationSteps >= 1, c.recordEvery >= 1, c.varianceSamples >= 1 else {
            throw OverparamError.invalidArgument(name: "steps", problem: "need steps, continuationSteps, recordEvery and varianceSamples >= 1")
        }
        guard c.lambdaMin > 0, c.lambdaMax > c.lambdaMin, c.lambdaFactor > 1, c.annealFactor > 0, c.annealFactor <= 1, c.targetRMSE > 0, c.rmseTolerance > 0, c.tuneIterations >= 0 else {
            throw OverparamError.invalidArgument(name: "tuning", problem: "need 0 < lambdaMin < lambdaMax, lambdaFactor > 1, 0 < annealFactor <= 1, targetRMSE > 0, rmseTolerance > 0, tuneIterations >= 0")
        }
    }

    /// Tune lambda so that the final train RMSE is `targetRMSE` within `rmseTolerance` (relative) by continuation
    /// along one training path (the train RMSE grows with lambda):
    /// 1. train `steps` Adam steps from the initialization at lambda = lambdaMin (the near-interpolating fit);
    /// 2. multiply lambda by `lambdaFactor` and continue `continuationSteps` steps from the current weights and Adam
    ///    state, until the train RMSE is within the tolerance (done) or above it (overshoot), or lambda would pass
    ///    lambdaMax;
    /// 3. on overshoot, bisect log lambda between the last point below the window and the overshoot (at most
    ///    `tuneIterations` times), each trial continuing `continuationSteps` steps from the last point below the
    ///    window; a trial that is still below the window becomes that point.
    /// Each stage changes lambda by a small factor from a network already near the optimum of the previous lambda,
    /// so RMSE(lambda) along the path is smooth and the window is found in a few short stages, where bisection with
    /// retraining from scratch at a fixed budget saw a noisy RMSE(lambda). The returned network is the one that
    /// landed (its records are the whole path: Q is evaluated at the lambda in use at each record step); when none
    /// landed, the point closest to the target in log RMSE, with `reached = false` (lambdaMin already above the
    /// window: the budget cannot fit that well; lambdaMax still below it).
    public static func tune(depth: Int, kind: ConvexRegularizerKind, task c: ConvexTaskConfig, seed: UInt64) throws -> ConvexTuning {
        try validate(c)
        let d = try Data(c, seed: seed)
        let lo = c.targetRMSE * (1 - c.rmseTolerance), hi = c.targetRMSE * (1 + c.rmseTolerance), logT = Foundation.log(c.targetRMSE)
        var trials = [(lambda: Double, rmse: Double)]()
        var best: PathState? = nil
        func note(_ s: PathState) {
            trials.append((s.lambda, s.trainRMSE))
            if best == nil || abs(Foundation.log(s.trainRMSE) - logT) < abs(Foundation.log(best!.trainRMSE) - logT) { best = s }
        }
        func finish(_ s: PathState, _ reached: Bool) throws -> ConvexTuning {
            ConvexTuning(run: try s.run(kind: kind, data: d), trials: trials, reached: reached)
        }
        var below = try PathState(depth: depth, task: c, data: d, seed: seed)
        try below.advance(c.steps, kind: kind, lambda: c.lambdaMin, task: c, data: d, seed: seed)
        note(below)
        if below.trainRMSE >= lo { return try finish(best!, best!.trainRMSE <= hi) }
        // 2. Geometric continuation upwards in lambda.
        var over: PathState? = nil
        while over == nil {
            let lam = below.lambda * c.lambdaFactor
            guard lam <= c.lambdaMax * (1 + 1e-12) else { return try finish(best!, false) }
            var s = below
            try s.advance(c.continuationSteps, kind: kind, lambda: lam, task: c, data: d, seed: seed)
            note(s)
            if s.trainRMSE > hi { over = s } else if s.trainRMSE >= lo { return try finish(s, true) } else { below = s }
        }
        // 3. Bisection in log lambda between `below` and the overshoot, continuing from `below`.
        var overLambda = over!.lambda
        for _ in 0..<c.tuneIterations {
            let lam = (below.lambda * overLambda).squareRoot()
            var s = below
            try s.advance(c.continuationSteps, kind: kind, lambda: lam, task: c, data: d, seed: seed)
            note(s)
            if s.trainRMSE > hi { overLambda = lam } else if s.trainRMSE >= lo { return try finish(s, true) } else { below = s }
        }
        return try finish(best!, false)
    }

    /// "lambda = ... (RMSE ...)" for the trials of a tuning.
    public static func trialsNote(_ t: ConvexTuning) -> String {
        t.trials.map { "\(sig($0.lambda, 3)) -> \(sig($0.rmse, 3))" }.joined(separator: ", ")
    }
}
