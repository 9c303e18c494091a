import Foundation

/// One evaluation of the objective Q of a ``DeepFeatureNetwork`` on a data set.
public struct ConvexObjectiveValue: Sendable {
    /// Q = loss + regularization.
    public var value: Double { loss + regularization }
    /// (1/N) sum_i phi(f(x_i), y_i).
    public var loss: Double
    /// R(w, u).
    public var regularization: Double
    /// dLoss/d(w, u) (flat, laid out by ``DeepFeatureLayout``).
    public var lossGradient: [Double]
    /// The minimum-norm subgradient G of Q (seed 002 eq. 25; ``MixedNormRegularizer/miniNormSubgradient(_:lossGradient:layout:)``).
    public var subgradient: [Double]
    /// The network's outputs f(x_i) (N x K).
    public var outputs: Matrix
}

/// Seed 002's training objective (eq. 9):
///
///     Q(w, u) = (1/N) sum_{i=1}^N phi(f(x_i), y_i) + R(w, u),
///
/// with R from ``MixedNormRegularizer`` (eq. 10: the l_{1,2} regularizer, eq. 11 as corrected in SEED-NOTES sec. 2).
/// phi is any project ``Loss`` whose value is a mean over examples: the default ``MeanSquaredError`` `.halfMean` is
/// phi(f, y) = ||f - y||^2 / 2; ``SoftmaxCrossEntropy`` serves K-class classification.
public struct ConvexObjective: Sendable {
    public var loss: any Loss
    public var regularizer: MixedNormRegularizer

    public init(loss: any Loss = MeanSquaredError(.halfMean), regularizer: MixedNormRegularizer) {
        self.loss = loss; self.regularizer = regularizer
    }

    /// Q, its parts, the loss gradient and the mini-norm subgradient at the network's current weights.
    /// - Throws: ``OverparamError/shapeMismatch(_:)`` for inputs/targets that do not fit the network or regularizer,
    ///   ``OverparamError/nonFinite(_:)`` for non-finite targets.
    public func evaluate(_ network: DeepFeatureNetwork, inputs x: Matrix, targets y: Matrix) throws -> ConvexObjectiveValue {
        guard x.rows == y.rows, x.rows > 0 else { throw OverparamError.shapeMismatch("\(x.rows) inputs vs \(y.rows) targets (need N >= 1)") }
        guard y.isFinite else { throw OverparamError.nonFinite("training targets") }
        let pass = try network.forward(x)
        let (lv, cot) = try loss.evaluate(outputs: pass.outputs, targets: y)
        let lg = try network.gradient(pass, outputCotangent: cot)
        let r = try regularizer.value(network.parameters, layout: network.layout)
        let g = try regularizer.miniNormSubgradient(network.parameters, lossGradient: lg, layout: network.layout)
        return ConvexObjectiveValue(loss: lv, regularization: r, lossGradient: lg, subgradient: g, outputs: pass.outputs)
    }

    /// Q alone (one forward pass, no gradients).
    public func value(_ network: DeepFeatureNetwork, inputs x: Matrix, targets y: Matrix) throws -> Double {
        let f = try network(x)
        return try loss.evaluate(outputs: f, targets: y).value + regularizer.value(network.parameters, layout: network.layout)
    }
}
