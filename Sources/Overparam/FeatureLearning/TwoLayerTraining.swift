import Foundation
import Dispatch
import Synchronization
import CBLAS

/// A trained two-layer network and its parts in this folder's conventions.
public struct TrainedTwoLayerNetwork: Sendable {
    /// The trained ``Network`` (one hidden layer with biases).
    public let network: Network
    /// Its effective first layer (``FeatureSet/init(network:)``): theta = a_1 W^(1), b = beta_1 b^(1).
    public let features: FeatureSet
    /// Its effective readout (``OutputLayer/init(network:)``): U = a_2 W^(2)^T, c = beta_2 b^(2).
    public let output: OutputLayer
    /// The full-training-set cross-entropy after each epoch.
    public let trainLoss: [Double]
}

/// Training the two-layer classifiers whose neurons are the samples of rho* (seed 000 sec. VI, fig. 8: 1,000 tanh nets
/// with m = 100 trained on MNIST from different initializations; fig. 11: one net with m = 10^4 and weight decay 1e-3):
///
///     f(x) = a_2 W^(2) h(a_1 W^(1) x + beta_1 b^(1)) + beta_2 b^(2)      (``Network`` with ``Architecture/hasBias``)
///
/// trained by ``Trainer`` on the softmax cross-entropy (``SoftmaxCrossEntropy``, one-hot targets) plus weight decay
/// (``LayerL2`` with lambda = `weightDecay` on W^(1) and W^(2): the gradient gains lambda W, PyTorch's Adam weight_decay
/// except that biases are not decayed). Each epoch is floor(n / B) minibatches of exactly B rows drawn without
/// replacement (the ``Trainer``'s sampling; full batch when B >= n), so `epochs` epochs are epochs floor(n / B) steps.
/// The network's initialization and batch order both come from `seed` (``Network/init(_:seed:)``, ``TrainingOptions/seed``).
public struct TwoLayerTraining: Sendable {
    /// m, the hidden width.
    public var width: Int
    /// h.
    public var activation: Activation
    /// How the weights are scaled and initialized (``Parameterization``; default standard: a = 1, W ~ N(0, C_W / fan-in)).
    public var parameterization: Parameterization
    /// C_W of the hidden layer.
    public var weightVariance: Double
    /// C_b of the hidden and readout biases (0: biases start at zero but are trained).
    public var biasVariance: Double
    /// C_W of the readout (nil: `weightVariance`).
    public var readoutWeightVariance: Double?
    /// lambda of the weight decay on W^(1) and W^(2).
    public var weightDecay: Double
    /// The optimizer (its state starts fresh for every net).
    public var optimizer: Adam
    /// Passes over the training set (each floor(n / B) steps).
    public var epochs: Int
    /// B, the minibatch size (128 in seed 000's figs. 8-11).
    public var batchSize: Int

    /// Settings; the defaults are tanh, standard parameterization with C_W = 1, zero-initialized biases, no weight
    /// decay, Adam 1e-3, 10 epochs of batch 128.
    public init(width: Int, activation: Activation = .tanh, parameterization: Parameterization = .standard, weightVariance: Double = 1,
                biasVariance: Double = 0, readoutWeightVariance: Double? = nil, weightDecay: Double = 0,
                optimizer: Adam = Adam(learningRate: 1e-3), epochs: Int = 10, batchSize: Int = 128) {
        self.width = width
        self.activation = activation
        self.parameterization = parameterization
        self.weightVariance = weightVariance
        self.biasVariance = biasVariance
        self.readoutWeightVariance = readoutWeightVariance
        self.weightDecay = weightDecay
        self.optimizer = optimizer
        self.epochs = epochs
        self.batchSize = batchSize
    }

    /// The network's description: d -> m -> k with biases.
    public func architecture(inputDimension d: Int, classCount k: Int) -> Architecture {
        Architecture(inputDimension: d, hiddenWidths: [width], activation: activation, outputDimension: k, weightVariance: weightVariance,
                     biasVariance: biasVariance, readoutWeightVariance: readoutWeightVariance, hasBias: true, parameterization: parameterization)
    }

    func validate(inputs x: Matrix, labels: [Int], classCount k: Int) throws {
        try Check.data(x, "inputs")
        try Check.labels(labels, classCount: k, rows: x.rows)
        try Check.atLeast(width, 1, "width")
        try Check.penalty(weightDecay, "weightDecay")
        try Check.schedule(epochs: epochs, batchSize: batchSize)
        try architecture(inputDimension: x.cols, classCount: k).validate()
    }

    /// Train one classifier from `seed` (see the type's discussion).
    public func trainClassifier(inputs x: Matrix, labels: [Int], classCount k: Int, seed: UInt64) throws -> TrainedTwoLayerNetwork {
        try validate(inputs: x, labels: labels, classCount: k)
        return try train(inputs: x, targets: Self.oneHot(labels, k), seed: seed)
    }

    func train(inputs x: Matrix, targets y: Matrix, seed: UInt64) throws -> TrainedTwoLayerNetwork {
        let n = x.rows
        let stepsPerEpoch = batchSize >= n ? 1 : n / batchSize
        var options = TrainingOptions()
        options.loss = SoftmaxCrossEntropy()
        options.steps = epochs * stepsPerEpoch
        options.batchSize = batchSize >= n ? nil : batchSize
        options.recordEvery = stepsPerEpoch
        options.seed = seed
        if weightDecay > 0 { options.regularizers = [LayerL2(lambdas: [weightDecay, weightDecay])] }
        let net = try Network(architecture(inputDimension: x.cols, classCount: y.cols), seed: seed)
        let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, options: options)
        var opt = optimizer
        let records = try trainer.train(&opt)
        let trained = trainer.network
        return TrainedTwoLayerNetwork(network: trained, features: try FeatureSet(network: trained), output: try OutputLayer(network: trained),
                                      trainLoss: records.dropFirst().map(\.trainLoss))
    }

    static func oneHot(_ labels: [Int], _ k: Int) -> Matrix {
        var y = Matrix(rows: labels.count, cols: k)
        for (i, c) in labels.enumerated() { y[i, c] = 1 }
        return y
    }

    /// The seed of member `member` of an ensemble: F(F(seed) xor member) with F one SplitMix64 output.
    public static func memberSeed(_ seed: UInt64, member: Int) -> UInt64 {
        func mix(_ x: UInt64) -> UInt64 { var s = SplitMix64(state: x); return s.next() }
        return mix(mix(seed) ^ UInt64(truncatingIfNeeded: member))
    }

    /// `count` classifiers with seeds ``memberSeed(_:member:)`` (fig. 8's nets from different initializations), trained
    /// concurrently on `threads` threads (default ``Parallel/threadCount``), each net on one thread and claimed
    /// dynamically. OpenBLAS is set to one thread for the duration (process-wide, restored at the end), so results are
    /// bit-identical for any thread count; do not run other BLAS-heavy work concurrently. Returned in member order.
    public func ensemble(count: Int, inputs x: Matrix, labels: [Int], classCount k: Int, seed: UInt64,
                         threads: Int? = nil) throws -> [TrainedTwoLayerNetwork] {
        try Check.atLeast(count, 1, "count")
        if let t = threads { try Check.atLeast(t, 1, "threads") }
        try validate(inputs: x, labels: labels, classCount: k)
        let y = Self.oneHot(labels, k)
        let workers = Swift.max(1, Swift.min(threads ?? Parallel.threadCount, count))
        let box = EnsembleBox(count: count)
        let next = Atomic<Int>(0)
        let blasThreads = openblas_get_num_threads()
        if blasThreads != 1 { openblas_set_num_threads(1) }
        defer { if blasThreads != 1 { openblas_set_num_threads(blasThreads) } }
        let settings = self
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while !box.failed {
                let member = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard member < count else { return }
                do { box.store(member, try settings.train(inputs: x, targets: y, seed: Self.memberSeed(seed, member: member))) }
                catch { box.fail(error) }
            }
        }
        if let e = box.error { throw e }
        return box.results.map { $0! }
    }

    /// Seed 000 sec. VI's one-call form: train one classifier and return its effective features, output layer and
    /// per-epoch training loss.
    public static func trainClassifier(inputs x: Matrix, labels: [Int], classCount k: Int, width m: Int, activation: Activation = .tanh,
                                       parameterization: Parameterization = .standard, weightVariance: Double = 1, biasVariance: Double = 0,
                                       weightDecay: Double, optimizer: Adam, epochs: Int, batchSize: Int,
                                       seed: UInt64) throws -> (features: FeatureSet, output: OutputLayer, trainLoss: [Double]) {
        let t = try TwoLayerTraining(width: m, activation: activation, parameterization: parameterization, weightVariance: weightVariance,
                                     biasVariance: biasVariance, weightDecay: weightDecay, optimizer: optimizer, epochs: epochs,
                                     batchSize: batchSize).trainClassifier(inputs: x, labels: labels, classCount: k, seed: seed)
        return (t.features, t.output, t.trainLoss)
    }
}

/// Results of concurrent trainings by member index, and the first error.
private final class EnsembleBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [TrainedTwoLayerNetwork?]
    private(set) var error: Error?
    init(count: Int) { results = [TrainedTwoLayerNetwork?](repeating: nil, count: count) }
    var failed: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }
    func store(_ i: Int, _ r: TrainedTwoLayerNetwork) { lock.lock(); results[i] = r; lock.unlock() }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}
