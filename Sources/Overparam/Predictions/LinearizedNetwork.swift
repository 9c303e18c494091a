import Foundation

/// The exact function-space trajectory of a finite network's linearization
/// f_lin(x; theta) = f(x; theta_0) + J(x; theta_0)(theta - theta_0) trained on (1/2n) sum_i ||f(x_i) - y_i||^2
/// (seed 004 Theorem 2.2.1's kernel-regime model):
///
///     f_t(X) = f_0(X) + (I - e^{-eta Theta-hat t / n})(Y - f_0(X))          (gradient flow),
///     f_k(X) = f_0(X) + (I - (I - eta Theta-hat / n)^k)(Y - f_0(X))         (k steps of gradient descent),
///
/// and at test points f_0(x*) + Theta-hat(x*, X) Theta-hat^{-1}(...)(Y - f_0(X)), with Theta-hat the empirical NTK at
/// theta_0 over all n k outputs (outputs couple through Theta-hat; ordering i k + c, as `Y.storage`).
public struct LinearizedNetwork: Sendable {
    public let network: Network
    public let trainInputs: Matrix
    public let flow: KernelGradientFlow
    public let f0Train: Matrix

    public init(network: Network, trainInputs: Matrix, learningRate: Double = 1, diagonalRegularizer: Double = 0) throws {
        self.network = network
        self.trainInputs = trainInputs
        let k = try EmpiricalNTK.compute(network, trainInputs, outputs: .full)
        flow = try KernelGradientFlow(trainKernel: k.ntk, learningRate: learningRate, diagonalRegularizer: diagonalRegularizer,
                                      normalization: Double(trainInputs.rows))
        f0Train = try network(trainInputs)
    }

    /// Predictions (n x k or m x k) at `testInputs` (nil: the training inputs) after training to `time`.
    public func predict(_ time: TrainingTime, targets y: Matrix, testInputs: Matrix? = nil) throws -> Matrix {
        let k = network.architecture.outputDimension
        guard y.rows == trainInputs.rows, y.cols == k else {
            throw OverparamError.shapeMismatch("targets are \(y.rows)x\(y.cols), expected \(trainInputs.rows)x\(k)")
        }
        let flatY = Matrix(column: y.storage), flat0 = Matrix(column: f0Train.storage)
        if let xs = testInputs {
            let kx = try EmpiricalNTK.compute(network, xs, trainInputs, outputs: .full).ntk
            let f0s = try network(xs)
            let out = try flow.predict(time, targets: flatY, testTrainKernel: kx, f0Train: flat0, f0Test: Matrix(column: f0s.storage))
            return out.reshaped(rows: xs.rows, cols: k)
        }
        let out = try flow.predict(time, targets: flatY, f0Train: flat0)
        return out.reshaped(rows: trainInputs.rows, cols: k)
    }
}
