import Foundation

/// A penalty R(theta) on a network's parameters with its gradient.
public protocol Regularizer: Sendable {
    func evaluate(_ parameters: [Double], layout: ParameterLayout) -> (value: Double, gradient: [Double])
}

/// Per-layer L2: R = sum_l (lambda_l / 2) ||W^(l)||^2 (biases unpenalized). With `perNeuron` the seed-000 form
/// (1/2m) sum_j [lambda_u ||u_j||^2 + lambda_theta ||theta_j||^2] of a two-layer net: lambda_l / (2 n_L) with n_L
/// the hidden width.
public struct LayerL2: Regularizer {
    /// lambda_l for l = 1...L+1.
    public var lambdas: [Double]
    public var perNeuron: Bool
    public init(lambdas: [Double], perNeuron: Bool = false) { self.lambdas = lambdas; self.perNeuron = perNeuron }

    public func evaluate(_ p: [Double], layout: ParameterLayout) -> (value: Double, gradient: [Double]) {
        var g = [Double](repeating: 0, count: p.count)
        var v = 0.0
        let m = perNeuron ? Double(layout.widths[layout.layerCount - 1]) : 1
        for l in 1...layout.layerCount {
            let lam = (l - 1 < lambdas.count ? lambdas[l - 1] : lambdas.last ?? 0) / m
            guard lam != 0 else { continue }
            for i in layout.weightRange(l) { v += 0.5 * lam * p[i] * p[i]; g[i] = lam * p[i] }
        }
        return (v, g)
    }
}

/// L2 toward the initialization: R = lambda ||theta - theta_0||^2 (seed 000 footnote 1).
public struct L2TowardInitialization: Regularizer {
    public var lambda: Double
    public var initial: [Double]
    public init(lambda: Double, initial: [Double]) { self.lambda = lambda; self.initial = initial }
    public func evaluate(_ p: [Double], layout: ParameterLayout) -> (value: Double, gradient: [Double]) {
        var v = 0.0
        var g = [Double](repeating: 0, count: p.count)
        for i in 0..<p.count { let d = p[i] - initial[i]; v += lambda * d * d; g[i] = 2 * lambda * d }
        return (v, g)
    }
}
