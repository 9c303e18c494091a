import ArgumentParser
import Foundation
import Overparam

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Train a finite network (or its linearization) and log losses, distances from initialization, NTK change and linearization gap.")

    @Option(help: "Training inputs (n x d .npy).") var data: String
    @Option(help: "Training targets (n x k .npy; one-hot for classification).") var targets: String
    @Option(help: "Test inputs.") var testData: String?
    @Option(help: "Test targets.") var testTargets: String?
    @OptionGroup var arch: ArchitectureOptions
    @Option(help: "gd, sgd, momentum, adam, noisy, flow.") var optimizer: String = "gd"
    @Option(help: "Learning rate eta.") var learningRate: Double = 0.1
    @Option(help: "Steps (for flow: the time horizon is steps x learning rate).") var steps: Int = 100
    @Option(help: "Minibatch size (sgd, momentum, adam, noisy).") var batch: Int?
    @Option(help: "Momentum coefficient (momentum).") var momentum: Double = 0.9
    @Option(help: "Langevin temperature lambda (noisy); pair it with --l2.") var temperature: Double = 0
    @Option(help: "L2 penalty lambda/2 ||W||^2 on every layer's weights.") var l2: Double = 0
    @Option(help: "Per-layer learning-rate multipliers, comma-separated (layer 1 first).") var layerRates: String?
    @Option(help: "mse (1/2n sum), mse-mean, logistic, cross-entropy.") var loss: String = "mse"
    @Flag(help: "Train the linearization f(x; theta0) + J(x; theta0)(theta - theta0).") var linearized = false
    @Flag(help: "Record the relative change of the empirical NTK.") var trackNtk = false
    @Flag(help: "Record the gap to the Taylor linearization along the trajectory.") var trackGap = false
    @Option(help: "Record every k steps.") var recordEvery: Int = 10
    @Option(help: "Seed of the initialization and the minibatches.") var seed: UInt64 = 0
    @Option(help: "Per-step log (CSV).") var log: String
    @Option(help: "Folder for the trained parameters (.npy): W<l>.npy and b<l>.npy per layer (W^(l) is n_l x n_(l-1), raw, before the parameterization's scale factors); with one hidden layer also theta.npy (m x (d+1): effective a_1 W^(1) with the bias beta_1 b^(1) as last column), u.npy (m x k: a_2 W^(2)^T) and c.npy (k x 1), the inputs of 'features prune'.") var saveParams: String?

    func run() throws {
        let x = try loadInputs(data, flag: "--data")
        let y = try loadInputs(targets, flag: "--targets")
        guard y.rows == x.rows else { throw OverparamError.invalidArgument(name: "--targets", problem: "has \(y.rows) rows but --data has \(x.rows)") }
        let tx = try testData.map { try loadInputs($0, flag: "--test-data") }
        let ty = try testTargets.map { try loadInputs($0, flag: "--test-targets") }
        if (tx == nil) != (ty == nil) { throw OverparamError.invalidArgument(name: "--test-data/--test-targets", problem: "pass both or neither") }
        if let tx, tx.cols != x.cols { throw OverparamError.invalidArgument(name: "--test-data", problem: "has \(tx.cols) columns, --data has \(x.cols)") }
        if let ty, ty.cols != y.cols { throw OverparamError.invalidArgument(name: "--test-targets", problem: "has \(ty.cols) columns, --targets has \(y.cols)") }
        guard learningRate > 0 else { throw OverparamError.invalidArgument(name: "--learning-rate", problem: "must be > 0") }
        guard steps >= 1 else { throw OverparamError.invalidArgument(name: "--steps", problem: "must be >= 1") }
        if let batch, batch < 1 || batch > x.rows { throw OverparamError.invalidArgument(name: "--batch", problem: "must be in 1...\(x.rows)") }
        let a = try arch.architecture(inputDimension: x.cols, outputs: y.cols)
        if let saveParams {   // before training, so a bad folder fails fast
            do { try AtomicDirectory.checkReplaceable(saveParams, replacing: Self.isSavedParameters) }
            catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--save-params", problem: e.description) }
        }
        let net = try Network(a, seed: seed)
        var opts = TrainingOptions()
        opts.loss = try lossNamed(loss)
        opts.steps = steps; opts.batchSize = optimizer == "gd" || optimizer == "flow" ? nil : batch
        opts.recordEvery = recordEvery; opts.seed = seed; opts.linearized = linearized
        opts.trackNTK = trackNtk; opts.trackLinearizationGap = trackGap
        if l2 > 0 { opts.regularizers = [LayerL2(lambdas: [l2])] }
        let scales = try layerRates.map { text -> [Double] in
            let v = text.split(separator: ",").compactMap { Double($0) }
            guard v.count == a.layerCount else { throw OverparamError.invalidArgument(name: "--layer-rates", problem: "needs \(a.layerCount) comma-separated numbers (one per layer)") }
            return LearningRateScales.perLayer(v, layout: net.layout)
        }
        let trainer = try Trainer(network: net, trainInputs: x, trainTargets: y, testInputs: tx, testTargets: ty, options: opts)
        let records: [TrainingRecord]
        switch optimizer {
        case "gd", "sgd": var o = GradientDescent(learningRate: learningRate, scales: scales); records = try trainer.train(&o)
        case "momentum": var o = HeavyBall(learningRate: learningRate, momentum: momentum, scales: scales); records = try trainer.train(&o)
        case "adam": var o = Adam(learningRate: learningRate, scales: scales); records = try trainer.train(&o)
        case "noisy":
            guard temperature >= 0 else { throw OverparamError.invalidArgument(name: "--temperature", problem: "must be >= 0") }
            var o = NoisyGradientDescent(learningRate: learningRate, temperature: temperature, seed: seed, scales: scales); records = try trainer.train(&o)
        case "flow":
            let horizon = learningRate * Double(steps)
            let times = stride(from: 0.0, through: horizon, by: learningRate * Double(max(1, recordEvery))).map { $0 }
            records = try trainer.trainByFlow(time: horizon, learningRate: 1, recordTimes: times)
        default: throw OverparamError.invalidArgument(name: "--optimizer", problem: "unknown optimizer '\(optimizer)'; use gd, sgd, momentum, adam, noisy or flow")
        }
        try writeLog(records, layers: a.layerCount)
        if let last = records.last {
            print("trained \(a.description) with \(optimizer) for \(steps) steps: train loss \(fmt(records.first!.trainLoss)) -> \(fmt(last.trainLoss))" +
                  (last.testLoss.map { ", test loss \(fmt($0))" } ?? "") + (last.testAccuracy.map { ", test accuracy \(String(format: "%.2f %%", 100 * $0))" } ?? ""))
            print("relative distance from initialization per layer: \(last.relativeDistance.map { fmt($0, 3) }.joined(separator: ", ")); log: \(log)")
        }
        if let saveParams { try saveParameters(trainer.network, to: saveParams) }
    }

    /// The folder of --save-params, written atomically (``AtomicDirectory``) after training succeeded.
    func saveParameters(_ net: Network, to dir: String) throws {
        var files = [(name: String, data: Data)]()
        func add(_ name: String, _ m: Matrix) { files.append((name + ".npy", NPY.encode(m))) }
        for l in 1...net.layout.layerCount {
            add("W\(l)", net.weight(layer: l))
            if net.layout.hasBias { add("b\(l)", Matrix(column: net.bias(layer: l))) }
        }
        if net.layout.layerCount == 2 {
            let readout = try OutputLayer(network: net)
            add("theta", try FeatureSet(network: net).vectors)
            add("u", readout.weights)
            add("c", Matrix(column: readout.bias))
        }
        do { try AtomicDirectory.write(files, to: dir, replacing: Self.isSavedParameters) }
        catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--save-params", problem: e.description) }
        print("parameters (\(files.map { String($0.name.dropLast(4)) }.joined(separator: ", ")) .npy): \(dir)")
    }

    /// A folder that --save-params may replace: only files it writes.
    static func isSavedParameters(_ entries: [String]) -> Bool {
        entries.allSatisfy { $0.hasSuffix(".npy") && ($0.first == "W" || $0.first == "b" || ["theta.npy", "u.npy", "c.npy"].contains($0)) }
    }

    func writeLog(_ rs: [TrainingRecord], layers: Int) throws {
        var header = ["step", "time", "train_loss", "train_accuracy", "test_loss", "test_accuracy"]
        header += (1...layers).map { "relative_distance_layer\($0)" }
        header += ["mean_neuron_distance", "mean_output_weight_distance", "ntk_change", "linearization_gap"]
        func o(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        var lines = [header.joined(separator: ",")]
        for r in rs {
            var f = ["\(r.step)", "\(r.time)", "\(r.trainLoss)", o(r.trainAccuracy), o(r.testLoss), o(r.testAccuracy)]
            f += r.relativeDistance.map { "\($0)" }
            f += [o(r.meanNeuronDistance), o(r.meanOutputWeightDistance), o(r.ntkChange), o(r.linearizationGap)]
            lines.append(f.joined(separator: ","))
        }
        do { try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: log) }
        catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--log", problem: e.description) }
    }
}
