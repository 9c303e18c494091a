import Foundation

/// Options of ``ConvexTrainer/train(_:inputs:targets:objective:optimizer:options:)``.
public struct ConvexTrainingOptions: Sendable {
    public var steps: Int = 100
    /// Minibatch size for the loss part (nil: full batch); batches are drawn without replacement per epoch from `seed`.
    public var batchSize: Int? = nil
    /// Record Q every `recordEvery` steps (and at steps 0 and `steps`) on the full data.
    public var recordEvery: Int = 10
    public var seed: UInt64 = 0
    /// The ``Xoshiro256StarStar`` stream of the batch order, drawn from (`seed`, `batchStream`).
    public var batchStream: UInt64 = 0xBA7C4
    /// Apply ``ScaledSubgradientDescent/clampSignCrossings(from:to:mask:)`` after each step of any optimizer (Adam,
    /// ...) too. ``ScaledSubgradientDescent`` clamps by itself.
    public var clampSignCrossings = false
    public init() {}
}

/// A snapshot of the objective during training (on the full data set).
public struct ConvexTrainingRecord: Sendable, Codable {
    public var step: Int
    public var objective: Double
    public var loss: Double
    public var regularization: Double
    /// sum_l m^(l-1) m^(l) ||G_w^(l)||^2 + m^(L) ||G_u||^2 (the flow's dissipation rate -dQ/dt).
    public var dissipation: Double
    /// Fraction of hidden-layer weights exactly 0.
    public var zeroWeightFraction: Double
}

/// Trains a ``DeepFeatureNetwork`` on Q (``ConvexObjective``) with any ``Optimizer`` fed the mini-norm subgradient:
/// ``ScaledSubgradientDescent`` is seed 002's Algorithm 1; ``Adam`` is what the seed's experiments use (lr 1e-4).
public enum ConvexTrainer {
    /// Run `options.steps` updates; returns the records.
    /// - Throws: ``OverparamError/diverged(_:)`` when Q or a parameter becomes non-finite; shape errors from the objective.
    public static func train(_ network: inout DeepFeatureNetwork, inputs x: Matrix, targets y: Matrix,
                             objective: ConvexObjective, optimizer: inout some Optimizer,
                             options: ConvexTrainingOptions = ConvexTrainingOptions()) throws -> [ConvexTrainingRecord] {
        guard options.steps >= 0, options.recordEvery >= 1 else {
            throw OverparamError.invalidArgument(name: "steps", problem: "need steps >= 0 and recordEvery >= 1")
        }
        if let b = options.batchSize, b < 1 || b > x.rows {
            throw OverparamError.invalidArgument(name: "batchSize", problem: "\(b) must be in 1...\(x.rows)")
        }
        let layout = network.layout
        let scales = ScaledSubgradientDescent.stepScales(layout)
        let mask = options.clampSignCrossings ? try ScaledSubgradientDescent.clampMask(layout, objective.regularizer) : nil
        let hiddenCount = layout.readoutOffset
        var records = [ConvexTrainingRecord]()
        func record(_ step: Int, _ v: ConvexObjectiveValue) throws {
            guard v.value.isFinite else { throw OverparamError.diverged("Q = \(v.value) at step \(step)") }
            var e = 0.0
            for i in 0..<scales.count { e += scales[i] * v.subgradient[i] * v.subgradient[i] }
            let zeros = network.parameters[0..<hiddenCount].reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            records.append(ConvexTrainingRecord(step: step, objective: v.value, loss: v.loss, regularization: v.regularization,
                                                dissipation: e, zeroWeightFraction: hiddenCount == 0 ? 0 : Double(zeros) / Double(hiddenCount)))
        }
        var rng = Xoshiro256StarStar(seed: options.seed, stream: options.batchStream)
        var order = Array(0..<x.rows), cursor = x.rows
        let minibatch = options.batchSize.map { $0 < x.rows } ?? false
        for step in 0..<options.steps {
            // The full-data objective is needed for the step only in full-batch mode; with minibatches it is
            // evaluated only at record steps (a full pass per minibatch step would dominate the cost).
            var g = [Double]()
            if !minibatch || step % options.recordEvery == 0 {
                let full = try objective.evaluate(network, inputs: x, targets: y)
                if step % options.recordEvery == 0 { try record(step, full) }
                g = full.subgradient
            }
            if minibatch, let b = options.batchSize {
                if cursor + b > x.rows { order.shuffle(using: &rng); cursor = 0 }
                let idx = Array(order[cursor..<(cursor + b)]); cursor += b
                g = try objective.evaluate(network, inputs: x.rows(at: idx), targets: y.rows(at: idx)).subgradient
            }
            let old = network.parameters
            optimizer.step(&network.parameters, gradient: g)
            if let m = mask { ScaledSubgradientDescent.clampSignCrossings(from: old, to: &network.parameters, mask: m) }
            guard network.parameters.allSatisfy({ $0.isFinite }) else { throw OverparamError.diverged("non-finite weights after step \(step + 1)") }
        }
        try record(options.steps, try objective.evaluate(network, inputs: x, targets: y))
        return records
    }
}
