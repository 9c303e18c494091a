import Foundation
import CBLAS

/// What a trainer records every `recordEvery` steps (and at the end).
public struct TrainingRecord: Sendable, Codable {
    public var step: Int
    /// Gradient-flow time eta * step for discrete optimizers; the integration time for flows.
    public var time: Double
    public var trainLoss: Double
    public var trainAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// ||theta_l - theta_l^0|| / ||theta_l^0|| per layer l = 1...L+1.
    public var relativeDistance: [Double]
    /// Seed 000's plotted distances (two-layer nets): mean_j ||theta_j - theta_j^0|| (first-layer rows) and
    /// mean_j ||u_j - u_j^0|| (readout columns).
    public var meanNeuronDistance: Double?
    public var meanOutputWeightDistance: Double?
    /// ||K_t - K_0||_F / ||K_0||_F of the empirical NTK on the probe points.
    public var ntkChange: Double?
    /// RMS of f(theta_t) - f_lin(theta_t) over the test (else train) points, relative to the RMS of f(theta_t): the
    /// Taylor linearization at theta_0 evaluated along the network's own trajectory (seed 000 fig. 4).
    public var linearizationGap: Double?
    /// With a linearized twin (the linearization trained by the same optimizer on the same batches):
    /// RMS gap ||f(theta_t) - f_lin(theta_t^lin)|| / ||f(theta_t)|| on the test (else train) points, and ||theta_t - theta_t^lin||.
    public var twinGap: Double?
    public var twinParameterDistance: Double?
    public var twinTestLoss: Double?
    public var twinTestAccuracy: Double?
    /// RMS change of the first-layer pre-activations and of the outputs since initialization on the probe points
    /// (seed 004 sec. 2.4: O(1/sqrt(N_1)) vs O(1) in the NTK parameterization).
    public var preactivationMovement: Double?
    public var outputMovement: Double?
}

/// Options of a training run.
public struct TrainingOptions: Sendable {
    public var loss: any Loss = MeanSquaredError()
    public var steps: Int = 100
    /// Minibatch size (nil: full batch).
    public var batchSize: Int? = nil
    public var recordEvery: Int = 10
    public var seed: UInt64 = 0
    /// Train the linearization f_lin(x; theta) = f(x; theta_0) + J(x; theta_0)(theta - theta_0) instead.
    public var linearized = false
    public var regularizers: [any Regularizer] = []
    public var trackNTK = false
    public var trackLinearizationGap = false
    /// Points used for the NTK change and movements (the first ones of the training set).
    public var ntkProbePoints = 32
    /// Train the linearization alongside with the same optimizer and batches and record the gap (seed 004 Thm 2.2.1).
    public var trackLinearizedTwin = false
    /// Record the movement of first-layer pre-activations and outputs.
    public var trackMovement = false
    public init() {}
}

/// Trains a ``Network`` (or its linearization) with any ``Optimizer`` or by gradient flow, recording
/// ``TrainingRecord``s; stops with ``OverparamError/diverged(_:)`` on NaN/Inf losses or exploding parameters.
public final class Trainer {
    public private(set) var network: Network
    public let initial: Network
    public let trainInputs: Matrix, trainTargets: Matrix
    public let testInputs: Matrix?, testTargets: Matrix?
    public let options: TrainingOptions
    let initialNorms: [Double]
    var k0: Matrix?
    var rng: Xoshiro256StarStar
    /// The forward pass of the initial network on the training inputs (the linearization's features), computed once.
    lazy var initialTrainPass: ForwardPass? = try? initial.forward(trainInputs)

    public init(network: Network, trainInputs: Matrix, trainTargets: Matrix, testInputs: Matrix? = nil, testTargets: Matrix? = nil,
                options: TrainingOptions) throws {
        guard trainInputs.rows == trainTargets.rows, trainInputs.rows > 0 else {
            throw OverparamError.shapeMismatch("\(trainInputs.rows) training inputs but \(trainTargets.rows) targets")
        }
        guard trainTargets.cols == network.architecture.outputDimension else {
            throw OverparamError.shapeMismatch("targets have \(trainTargets.cols) columns, the network has \(network.architecture.outputDimension) outputs")
        }
        if let ti = testInputs, let tt = testTargets, ti.rows != tt.rows { throw OverparamError.shapeMismatch("\(ti.rows) test inputs but \(tt.rows) test targets") }
        self.network = network
        self.initial = network
        self.trainInputs = trainInputs; self.trainTargets = trainTargets
        self.testInputs = testInputs; self.testTargets = testTargets
        self.options = options
        initialNorms = (1...network.layout.layerCount).map { l in
            network.layout.layerRange(l).reduce(0) { $0 + network.parameters[$1] * network.parameters[$1] }.squareRoot()
        }
        rng = Xoshiro256StarStar(seed: options.seed, stream: 0x42415443)
    }

    /// Model outputs at `x` for parameters `theta` (the network, or its linearization at theta_0).
    public func outputs(_ x: Matrix, parameters theta: [Double]) throws -> Matrix {
        try outputs(x, parameters: theta, linearized: options.linearized)
    }

    func outputs(_ x: Matrix, parameters theta: [Double], linearized: Bool) throws -> Matrix {
        if linearized {
            let f0 = try initial(x)
            let delta = zip(theta, initial.parameters).map { $0 - $1 }
            return f0 + (try initial.jvp(x, direction: delta))
        }
        return try Network(network.architecture, parameters: theta)(x)
    }

    /// Objective value and gradient on the rows `batch` (nil: all) at parameters theta.
    public func objective(_ theta: [Double], batch: [Int]? = nil) throws -> (value: Double, gradient: [Double]) {
        try objective(theta, batch: batch, linearized: options.linearized)
    }

    func objective(_ theta: [Double], batch: [Int]?, linearized: Bool) throws -> (value: Double, gradient: [Double]) {
        let x = batch.map { trainInputs.rows(at: $0) } ?? trainInputs
        let y = batch.map { trainTargets.rows(at: $0) } ?? trainTargets
        var value: Double, grad: [Double]
        if linearized {
            // f_lin = f(x; theta_0) + J(x; theta_0)(theta - theta_0); the pass at theta_0 is cached and sliced for batches.
            guard let full = initialTrainPass else { throw OverparamError.nonFinite("the initial network's forward pass failed on the training inputs") }
            let pass0 = batch.map { full.rows(at: $0) } ?? full
            let delta = zip(theta, initial.parameters).map { $0 - $1 }
            let f = pass0.outputs + (try initial.jvp(x, direction: delta))
            let (v, g) = try options.loss.evaluate(outputs: f, targets: y)
            value = v
            grad = initial.gradient(pass0, outputCotangent: g)   // J(theta_0)^T dL/df
        } else {
            let net = try Network(network.architecture, parameters: theta)
            let pass = try net.forward(x)
            let (v, g) = try options.loss.evaluate(outputs: pass.outputs, targets: y)
            value = v
            grad = net.gradient(pass, outputCotangent: g)
        }
        for r in options.regularizers {
            let (rv, rg) = r.evaluate(theta, layout: network.layout)
            value += rv
            for i in 0..<grad.count { grad[i] += rg[i] }
        }
        return (value, grad)
    }

    func checkFinite(_ value: Double, _ theta: [Double], step: Int, advice: String) throws {
        // Fast path (vectorized): sum theta_i^2 <= 1e24 implies max |theta_i| <= 1e12 and every entry finite.
        Parallel.configureBLAS()
        let squares = theta.withUnsafeBufferPointer { p in cblas_ddot(Int32(p.count), p.baseAddress, 1, p.baseAddress, 1) }
        let big = squares <= 1e24 ? 0 : theta.withUnsafeBufferPointer { p in
            var m = 0.0, finite = true
            for v in p { m = Swift.max(m, Swift.abs(v)); finite = finite && v.isFinite }
            return finite ? m : .infinity
        }
        if !value.isFinite || !big.isFinite || big > 1e12 {
            throw OverparamError.diverged("step \(step): \(value.isFinite ? "parameters exploded (max |theta| = \(big))" : "the loss became \(value)"); \(advice)")
        }
    }

    /// Train with a discrete optimizer for `options.steps` steps (minibatches drawn without replacement per epoch).
    public func train<O: Optimizer>(_ optimizer: inout O) throws -> [TrainingRecord] {
        var theta = network.parameters
        let useTwin = options.trackLinearizedTwin && !options.linearized
        var twin = optimizer            // same rule and state (and noise stream) for the linearized twin
        var thetaLin = theta
        var records = [try record(step: 0, time: 0, theta: theta, twin: useTwin ? thetaLin : nil)]
        guard options.steps >= 1 else { return records }
        var order = [Int](), cursor = 0
        let n = trainInputs.rows
        for step in 1...options.steps {
            var batch: [Int]? = nil
            if let b = options.batchSize, b < n {
                if cursor + b > order.count {
                    order = Array(0..<n)
                    for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
                    cursor = 0
                }
                batch = Array(order[cursor..<(cursor + b)]); cursor += b
            }
            let (v, g) = try objective(theta, batch: batch)
            try checkFinite(v, theta, step: step, advice: "lower --learning-rate (now \(optimizer.learningRate))")
            optimizer.step(&theta, gradient: g)
            if useTwin {
                let (_, gl) = try objective(thetaLin, batch: batch, linearized: true)
                twin.step(&thetaLin, gradient: gl)
            }
            if step % max(1, options.recordEvery) == 0 || step == options.steps {
                try checkFinite(0, theta, step: step, advice: "lower --learning-rate (now \(optimizer.learningRate))")
                records.append(try record(step: step, time: optimizer.learningRate * Double(step), theta: theta, twin: useTwin ? thetaLin : nil))
            }
        }
        network.parameters = theta
        return records
    }

    /// Continuous-time gradient flow theta' = -eta grad L(theta) (full batch) up to time T with the adaptive
    /// Dormand-Prince integrator; records at `recordTimes` (and 0, T).
    public func trainByFlow(time: Double, learningRate eta: Double = 1, integrator: DormandPrince = DormandPrince(),
                            recordTimes: [Double] = []) throws -> [TrainingRecord] {
        var records = [TrainingRecord]()
        var count = 0
        let (y, _) = try integrator.integrate(network.parameters, from: 0, to: time, outputTimes: recordTimes, { theta, _ in
            let (v, g) = try self.objective(theta)
            try self.checkFinite(v, theta, step: count, advice: "lower the learning rate or the time")
            return g.map { -eta * $0 }
        }, observe: { theta, t in
            records.append(try self.record(step: count, time: t, theta: theta)); count += 1
        })
        network.parameters = y
        return records
    }

    func record(step: Int, time: Double, theta: [Double], twin: [Double]? = nil) throws -> TrainingRecord {
        let fTrain = try outputs(trainInputs, parameters: theta)
        let loss = try options.loss.evaluate(outputs: fTrain, targets: trainTargets).value
        let layout = network.layout
        let rel = (1...layout.layerCount).map { l -> Double in
            let d = layout.layerRange(l).reduce(0) { $0 + (theta[$1] - initial.parameters[$1]) * (theta[$1] - initial.parameters[$1]) }.squareRoot()
            return initialNorms[l - 1] > 0 ? d / initialNorms[l - 1] : d
        }
        var rec = TrainingRecord(step: step, time: time, trainLoss: loss, trainAccuracy: accuracy(fTrain, trainTargets), relativeDistance: rel)
        if let tx = testInputs, let ty = testTargets {
            let fTest = try outputs(tx, parameters: theta)
            rec.testLoss = try options.loss.evaluate(outputs: fTest, targets: ty).value
            rec.testAccuracy = accuracy(fTest, ty)
        }
        if layout.layerCount == 2 {
            let w = layout.widths, m = w[1], d = w[0], k = w[2]
            var dTheta = 0.0, dU = 0.0
            for j in 0..<m {
                var s = 0.0
                for c in 0..<d { let i = layout.weightOffsets[0] + j * d + c; s += (theta[i] - initial.parameters[i]) * (theta[i] - initial.parameters[i]) }
                dTheta += s.squareRoot()
                var u = 0.0
                for o in 0..<k { let i = layout.weightOffsets[1] + o * m + j; u += (theta[i] - initial.parameters[i]) * (theta[i] - initial.parameters[i]) }
                dU += u.squareRoot()
            }
            rec.meanNeuronDistance = dTheta / Double(m)
            rec.meanOutputWeightDistance = dU / Double(m)
        }
        if options.trackNTK && !options.linearized {
            let probe = trainInputs.rows(at: Array(0..<min(options.ntkProbePoints, trainInputs.rows)))
            if k0 == nil { k0 = try EmpiricalNTK.compute(initial, probe).ntk }
            let kt = try EmpiricalNTK.compute(try Network(network.architecture, parameters: theta), probe).ntk
            rec.ntkChange = (kt - k0!).frobeniusNorm / k0!.frobeniusNorm
        }
        if let twin {
            let x = testInputs ?? trainInputs
            let f = try outputs(x, parameters: theta, linearized: false)
            let fl = try outputs(x, parameters: twin, linearized: true)
            rec.twinGap = (f - fl).frobeniusNorm / max(f.frobeniusNorm, 1e-300)
            rec.twinParameterDistance = zip(theta, twin).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            if let ty = testTargets {
                rec.twinTestLoss = try options.loss.evaluate(outputs: fl, targets: ty).value
                rec.twinTestAccuracy = accuracy(fl, ty)
            }
        }
        if options.trackMovement {
            let probe = trainInputs.rows(at: Array(0..<min(options.ntkProbePoints, trainInputs.rows)))
            let now = try Network(network.architecture, parameters: theta).forward(probe)
            let start = try initial.forward(probe)
            let dz = now.preactivations[0] - start.preactivations[0], df = now.outputs - start.outputs
            rec.preactivationMovement = dz.frobeniusNorm / Double(max(1, dz.count)).squareRoot()
            rec.outputMovement = df.frobeniusNorm / Double(max(1, df.count)).squareRoot()
        }
        if options.trackLinearizationGap && !options.linearized {
            let x = testInputs ?? trainInputs
            let f = try Network(network.architecture, parameters: theta)(x)
            let delta = zip(theta, initial.parameters).map { $0 - $1 }
            let lin = (try initial(x)) + (try initial.jvp(x, direction: delta))
            rec.linearizationGap = (f - lin).frobeniusNorm / max(f.frobeniusNorm, 1e-300)
        }
        return rec
    }

    /// Accuracy: argmax for several outputs (one-hot targets), sign agreement for one output with +-1 / 0-1 labels.
    func accuracy(_ f: Matrix, _ y: Matrix) -> Double? {
        if f.cols > 1 { return argmaxAccuracy(f, labels: (0..<y.rows).map { i in (0..<y.cols).max { y[i, $0] < y[i, $1] } ?? 0 }) }
        let labels = Set(y.storage)
        guard labels.count <= 2, labels.isSubset(of: [-1, 0, 1]) else { return nil }
        var ok = 0
        // Logits (logistic loss) or +-1 regression targets: threshold 0; 0/1 regression targets: 1/2.
        let threshold = options.loss is BinaryLogistic || labels.contains(-1) ? 0 : 0.5
        for i in 0..<f.rows { let pos = y[i, 0] > 0; if (f[i, 0] > threshold) == pos { ok += 1 } }
        return Double(ok) / Double(max(1, f.rows))
    }
}
