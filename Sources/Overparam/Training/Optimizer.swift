import Foundation

/// A first-order update rule on a flat parameter vector. Optimizers are general (networks, linearized networks,
/// particle systems, convex programs): they see only parameters and gradients. `scales` multiplies the learning
/// rate per parameter (per-layer learning rates, seed 000 eqs. 11-13; ``LearningRateScales``).
public protocol Optimizer: Sendable {
    /// One update theta <- theta - step(gradient).
    mutating func step(_ theta: inout [Double], gradient g: [Double])
    var learningRate: Double { get set }
}

/// Per-parameter learning-rate multipliers.
public enum LearningRateScales {
    /// Layer l's parameters get `perLayer[l - 1]` (missing entries: 1).
    public static func perLayer(_ perLayer: [Double], layout: ParameterLayout) -> [Double] {
        var s = [Double](repeating: 1, count: layout.count)
        for l in 1...layout.layerCount where l - 1 < perLayer.count {
            for i in layout.layerRange(l) { s[i] = perLayer[l - 1] }
        }
        return s
    }
}

/// Gradient descent theta <- theta - eta s o g (full batch, or SGD when the trainer feeds minibatch gradients).
public struct GradientDescent: Optimizer {
    public var learningRate: Double
    public var scales: [Double]?
    public init(learningRate: Double, scales: [Double]? = nil) { self.learningRate = learningRate; self.scales = scales }
    public mutating func step(_ theta: inout [Double], gradient g: [Double]) {
        let eta = learningRate
        theta.withUnsafeMutableBufferPointer { t in g.withUnsafeBufferPointer { gp in
            if let s = scales { s.withUnsafeBufferPointer { sp in for i in 0..<t.count { t[i] -= eta * sp[i] * gp[i] } } }
            else { for i in 0..<t.count { t[i] -= eta * gp[i] } }
        } }
    }
}

/// Heavy-ball momentum: v <- beta v + g, theta <- theta - eta s o v (PyTorch's SGD momentum).
public struct HeavyBall: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var scales: [Double]?
    var velocity: [Double] = []
    public init(learningRate: Double, momentum: Double = 0.9, scales: [Double]? = nil) {
        self.learningRate = learningRate; self.momentum = momentum; self.scales = scales
    }
    public mutating func step(_ theta: inout [Double], gradient g: [Double]) {
        if velocity.count != theta.count { velocity = [Double](repeating: 0, count: theta.count) }
        for i in 0..<theta.count {
            velocity[i] = momentum * velocity[i] + g[i]
            theta[i] -= learningRate * (scales?[i] ?? 1) * velocity[i]
        }
    }
}

/// Adam (Kingma-Ba) with bias correction.
public struct Adam: Optimizer {
    public var learningRate: Double
    public var beta1: Double, beta2: Double, epsilon: Double
    public var scales: [Double]?
    var m: [Double] = [], v: [Double] = [], t = 0
    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, scales: [Double]? = nil) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.scales = scales
    }
    public mutating func step(_ theta: inout [Double], gradient g: [Double]) {
        if m.count != theta.count { m = [Double](repeating: 0, count: theta.count); v = m }
        t += 1
        let c1 = 1 - Foundation.pow(beta1, Double(t)), c2 = 1 - Foundation.pow(beta2, Double(t))
        for i in 0..<theta.count {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            theta[i] -= learningRate * (scales?[i] ?? 1) * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}

/// Noisy gradient descent (Langevin, seed 000 sec. V): theta <- theta - eta s o g + sqrt(2 lambda eta s) xi,
/// xi ~ N(0, I). It samples exp(-F / lambda) only together with a confining term in F (the L2 regularizer of seed
/// 000 eq. 16, SEED-NOTES sec. 2): give the trainer an L2 regularizer.
public struct NoisyGradientDescent: Optimizer {
    public var learningRate: Double
    /// lambda, the temperature (entropy weight).
    public var temperature: Double
    public var scales: [Double]?
    var rng: Xoshiro256StarStar
    public init(learningRate: Double, temperature: Double, seed: UInt64, scales: [Double]? = nil) {
        self.learningRate = learningRate; self.temperature = temperature; self.scales = scales
        rng = Xoshiro256StarStar(seed: seed, stream: 0x4C414E47)
    }
    public mutating func step(_ theta: inout [Double], gradient g: [Double]) {
        for i in 0..<theta.count {
            let eta = learningRate * (scales?[i] ?? 1)
            theta[i] += -eta * g[i] + (2 * temperature * eta).squareRoot() * rng.normal()
        }
    }
}
