import ArgumentParser
import Foundation
import Overparam
import OverparamExperiments

/// `overparam convex`: seed 002's deep network (eqs. 1-2) trained on Q = loss + l_{a,b} regularizer (eq. 9), and its
/// diagnostics (eqs. 28-29, V(w, u), sparsity curves, 1-D features), on the user's data.
struct ConvexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convex",
        abstract: "Seed 002's convex formulation: train a deep network on Q = loss + l_{a,b} regularizer and diagnose it (u-v optimality, approximation variance, sparsity, 1-D features).",
        subcommands: [ConvexTrain.self, ConvexDiagnose.self])
}

/// The data flags shared by `convex train` and `convex diagnose`.
struct ConvexDataOptions: ParsableArguments {
    @Option(help: "Inputs (n x d .npy or .csv; rows are samples).") var x: String?
    @Option(help: "Targets (n x K .npy or .csv).") var y: String?
    @Option(help: "Built-in data instead of --x/--y: cos4x (seed 002 sec. VII-A: x ~ U[-2 pi, 2 pi], y = cos 4x).") var task: String?
    @Option(help: "Samples of --task.") var samples: Int = 256
    @Option(help: "Seed of the --task samples.") var dataSeed: UInt64 = 0

    /// (x, y, a one-line description of the data).
    func load() throws -> (x: Matrix, y: Matrix, source: String) {
        if let task {
            guard x == nil, y == nil else { throw OverparamError.invalidArgument(name: "--task", problem: "pass either --task or --x/--y, not both") }
            guard task == "cos4x" else { throw OverparamError.invalidArgument(name: "--task", problem: "unknown task '\(task)'; use cos4x or pass --x FILE --y FILE") }
            guard samples >= 1 else { throw OverparamError.invalidArgument(name: "--samples", problem: "must be >= 1 (got \(samples))") }
            let d = try ConvexSupport.data(samples, seed: dataSeed)
            return (d.x, d.y, "cos4x, \(samples) samples, data seed \(dataSeed)")
        }
        guard let xp = x, let yp = y else {
            throw OverparamError.invalidArgument(name: x == nil ? "--x" : "--y", problem: "missing; pass --x FILE --y FILE (or --task cos4x)")
        }
        let xm = try loadInputs(xp, flag: "--x"), ym = try loadInputs(yp, flag: "--y")
        guard ym.rows == xm.rows else {
            throw OverparamError.invalidArgument(name: "--y", problem: "\(yp) has \(ym.rows) rows but --x has \(xm.rows); rows are samples, pass matching files")
        }
        return (xm, ym, "\(xp) (\(xm.rows) x \(xm.cols)), \(yp) (\(ym.rows) x \(ym.cols))")
    }
}

struct ConvexTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Train seed 002's network on Q = (1/2N) sum ||f(x_i) - y_i||^2 + R(w, u) and save it (w1.npy ... wL.npy, u.npy, network.json) with log.csv.")

    @OptionGroup var data: ConvexDataOptions
    @Option(help: "Number of hidden layers L (default 3, or the length of --widths).") var depth: Int?
    @Option(help: "Hidden widths m^(1),...,m^(L), comma-separated (instead of --base-width).") var widths: String?
    @Option(help: "Seed widths m^(l) = B 2^(L-l) (default 16; the seed uses 1000).") var baseWidth: Int?
    @Option(help: "tanh (the seed's), or relu, erf, sigmoid, softplus[:a], gelu, sin, identity, ...") var activation: String = "tanh"
    @Option(help: "l12 (the seed's l_{1,2}), l21 (weight decay) or l-half-4 (l_{1/2,4}).") var regularizer: String = "l12"
    @Option(help: "Regularizer weight: one lambda for every layer and the readout, or L + 1 comma-separated values (lambda^(1),...,lambda^(L), lambda^(u)).") var lambda: String = "1e-5"
    @Option(help: "adam (rates scaled by m^(l-1) per layer, as the seed's Adam on standard weights) or subgradient (Algorithm 1: steps eta m^(l-1) m^(l)).") var optimizer: String = "adam"
    @Option(help: "Learning rate eta (default 3e-3 for adam; 1 for subgradient, a unit step of the mean-field time).") var learningRate: Double?
    @Option(help: "Steps.") var steps: Int = 3000
    @Option(help: "Minibatch size of the loss (0: full batch).") var batchSize: Int = 0
    @Option(help: "Record Q on the full data every k steps.") var recordEvery: Int = 10
    @Option(help: "Seed of the initialization and the minibatches.") var seed: UInt64 = 0
    @Option(help: "Output folder (written atomically; an existing one is replaced only if it holds a saved network).") var out: String

    func run() throws {
        let (x, y, source) = try data.load()
        let hidden = try hiddenWidths()
        let act = try Activation(parsing: activation)
        guard let kind = ConvexRegularizerKind.allCases.first(where: { $0.cliName == regularizer }) else {
            throw OverparamError.invalidArgument(name: "--regularizer", problem: "unknown regularizer '\(regularizer)'; use l12, l21 or l-half-4")
        }
        let lam = try lambdas(depth: hidden.count)
        let reg = try kind.regularizer(layerWeights: lam.layers, readoutWeight: lam.readout)
        guard ["adam", "subgradient"].contains(optimizer) else {
            throw OverparamError.invalidArgument(name: "--optimizer", problem: "unknown optimizer '\(optimizer)'; use adam or subgradient")
        }
        let eta = learningRate ?? (optimizer == "adam" ? ConvexTaskConfig.quick.learningRate : 1)
        guard eta > 0, eta.isFinite else { throw OverparamError.invalidArgument(name: "--learning-rate", problem: "must be > 0 (got \(eta))") }
        guard steps >= 1 else { throw OverparamError.invalidArgument(name: "--steps", problem: "must be >= 1 (got \(steps))") }
        guard (0...x.rows).contains(batchSize) else { throw OverparamError.invalidArgument(name: "--batch-size", problem: "must be in 0...\(x.rows) (0: full batch)") }
        guard recordEvery >= 1 else { throw OverparamError.invalidArgument(name: "--record-every", problem: "must be >= 1 (got \(recordEvery))") }
        do { try AtomicDirectory.checkReplaceable(out, replacing: DeepFeatureNetworkArchive.isArchive) }
        catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--out", problem: e.description) }

        var net = try DeepFeatureNetwork(inputDimension: x.cols, hiddenWidths: hidden, outputs: y.cols, activation: act, inputBias: 1, seed: seed)
        let objective = ConvexObjective(regularizer: reg)
        var opts = ConvexTrainingOptions()
        opts.steps = steps; opts.batchSize = batchSize == 0 ? nil : batchSize; opts.recordEvery = recordEvery; opts.seed = seed
        let records: [ConvexTrainingRecord]
        do {
            if optimizer == "adam" {
                var o = Adam(learningRate: eta, scales: ConvexSupport.adamScales(net.layout))
                records = try ConvexTrainer.train(&net, inputs: x, targets: y, objective: objective, optimizer: &o, options: opts)
            } else {
                var o = try ScaledSubgradientDescent(learningRate: eta, layout: net.layout, regularizer: reg)
                records = try ConvexTrainer.train(&net, inputs: x, targets: y, objective: objective, optimizer: &o, options: opts)
            }
        } catch OverparamError.diverged(let what) {
            throw OverparamError.invalidArgument(name: "--learning-rate", problem: "training diverged (\(what)); lower the learning rate")
        }

        var log = ["step,loss,regularizer,Q,train_rmse,dissipation,zero_weight_fraction"]
        for r in records {
            log.append("\(r.step),\(r.loss),\(r.regularization),\(r.objective),\(rootMeanSquare(loss: r.loss, outputs: y.cols)),\(r.dissipation),\(r.zeroWeightFraction)")
        }
        let metadata = ["data": source, "optimizer": optimizer, "learning_rate": "\(eta)", "steps": "\(steps)",
                        "batch_size": "\(batchSize)", "seed": "\(seed)", "regularizer": kind.cliName]
        let archive = DeepFeatureNetworkArchive(network: net, regularizer: reg, metadata: metadata)
        do { try archive.write(to: out, extraFiles: [(name: "log.csv", data: Data((log.joined(separator: "\n") + "\n").utf8))]) }
        catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--out", problem: e.description) }

        print("trained L = \(hidden.count) (widths \(hidden.map(String.init).joined(separator: ", "))), \(act), \(kind.label) lambda = \(lambda), \(optimizer) eta = \(fmt(eta, 3)) for \(steps) steps on \(source)")
        if let first = records.first { print("Q \(fmt(first.objective)) -> \(fmt(records.last!.objective))") }
        try ConvexDiagnosis(archive, inputs: x, targets: y).printSummary()
        print("saved \(out)/{\(((1...hidden.count).map { "w\($0).npy" } + ["u.npy", "network.json", "log.csv"]).joined(separator: ","))}")
    }

    /// m^(1), ..., m^(L) from --widths, or --base-width and --depth.
    func hiddenWidths() throws -> [Int] {
        if let depth, depth < 1 { throw OverparamError.invalidArgument(name: "--depth", problem: "must be >= 1 (got \(depth))") }
        if let text = widths {
            guard baseWidth == nil else { throw OverparamError.invalidArgument(name: "--widths", problem: "pass either --widths or --base-width, not both") }
            let w = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !w.isEmpty, w.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw OverparamError.invalidArgument(name: "--widths", problem: "'\(text)' must be comma-separated integers >= 1, e.g. 32,16")
            }
            if let depth, depth != w.count {
                throw OverparamError.invalidArgument(name: "--widths", problem: "has \(w.count) widths but --depth is \(depth); pass one width per hidden layer")
            }
            return w.map { $0! }
        }
        let base = baseWidth ?? 16
        guard base >= 1 else { throw OverparamError.invalidArgument(name: "--base-width", problem: "must be >= 1 (got \(base))") }
        return try DeepFeatureNetwork.seedWidths(depth: depth ?? 3, base: base)
    }

    /// lambda^(1...L) and lambda^(u) from --lambda.
    func lambdas(depth: Int) throws -> (layers: [Double], readout: Double) {
        let v = lambda.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard v.allSatisfy({ $0 != nil }) else {
            throw OverparamError.invalidArgument(name: "--lambda", problem: "'\(lambda)' must be one number or \(depth + 1) comma-separated numbers")
        }
        let values = v.map { $0! }
        guard values.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw OverparamError.invalidArgument(name: "--lambda", problem: "must be finite and >= 0 (got \(lambda))")
        }
        if values.count == 1 { return ([Double](repeating: values[0], count: depth), values[0]) }
        guard values.count == depth + 1 else {
            throw OverparamError.invalidArgument(name: "--lambda", problem: "has \(values.count) values; pass 1, or L + 1 = \(depth + 1) (one per hidden layer, then the readout)")
        }
        return (Array(values.dropLast()), values.last!)
    }
}

struct ConvexDiagnose: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diagnose",
        abstract: "Load a network saved by `convex train` and write its diagnostics: optimality.csv, optimality-summary.csv, variance.csv, sparsity.csv, features.csv (1-D inputs), objective.csv.")

    @Argument(help: "Folder written by `overparam convex train --out`.") var dir: String
    @OptionGroup var data: ConvexDataOptions
    @Option(help: "Output folder (default: DIR/diagnostics; written atomically).") var out: String?
    @Option(help: "Points of the feature grid over [min x, max x] (features.csv, 1-D inputs only).") var gridPoints: Int = 201
    @Option(help: "Thresholds per sparsity curve, log-spaced over [1e-4, 10] x the layer's initialization scale sqrt(m^(l-1)).") var sparsityPoints: Int = 41

    static let outputs: Set<String> = ["optimality.csv", "optimality-summary.csv", "variance.csv", "sparsity.csv", "features.csv", "objective.csv"]

    func run() throws {
        let archive = try DeepFeatureNetworkArchive.read(dir)
        let net = archive.network
        let (x, y, source) = try data.load()
        let flag = data.task == nil ? "--x" : "--task"
        guard x.cols == net.inputDimension else {
            throw OverparamError.invalidArgument(name: flag, problem: "the data have d = \(x.cols) input column(s), the network in \(dir) takes d = \(net.inputDimension); pass the kind of data it was trained on")
        }
        guard y.cols == net.outputs else {
            throw OverparamError.invalidArgument(name: data.task == nil ? "--y" : "--task", problem: "the data have K = \(y.cols) target column(s), the network in \(dir) has K = \(net.outputs) outputs; pass the kind of data it was trained on")
        }
        guard gridPoints >= 2 else { throw OverparamError.invalidArgument(name: "--grid-points", problem: "must be >= 2 (got \(gridPoints))") }
        guard sparsityPoints >= 2 else { throw OverparamError.invalidArgument(name: "--sparsity-points", problem: "must be >= 2 (got \(sparsityPoints))") }
        let target = out ?? dir + "/diagnostics"
        let replaceable: ([String]) -> Bool = { $0.allSatisfy(Self.outputs.contains) }
        do { try AtomicDirectory.checkReplaceable(target, replacing: replaceable) }
        catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--out", problem: e.description) }

        let d = try ConvexDiagnosis(archive, inputs: x, targets: y)
        var files = [(name: String, data: Data)]()
        if let layers = d.optimality {
            files.append(("optimality.csv", csv("layer,neuron,u,v", layers.flatMap { o in o.u.indices.map { "\(o.layer),\($0),\(o.u[$0]),\(o.v[$0])" } })))
            files.append(("optimality-summary.csv", csv("layer,r,slope,intercept", layers.map { "\($0.layer),\($0.correlation),\($0.slope),\($0.intercept)" })))
        }
        let v = d.variance
        files.append(("variance.csv", csv("term,value", v.layerTerms.enumerated().map { "layer\($0.offset + 2),\($0.element)" } + ["readout,\(v.readoutTerm)", "total,\(v.total)"])))
        let curves = try SparsityCurve.layers(net, from: 1e-4, to: 10, count: sparsityPoints)
        files.append(("sparsity.csv", csv("layer,threshold,fraction", curves.flatMap { c in c.thresholds.indices.map { "\(c.layer),\(c.thresholds[$0]),\(c.fractions[$0])" } })))
        if net.inputDimension == 1 {
            let column = x.column(0)
            var lo = column.min()!, hi = column.max()!
            if lo == hi { lo -= 1; hi += 1 }
            let features = try NeuronFeatures(net, grid: try NeuronFeatures.uniformGrid(from: lo, to: hi, count: gridPoints))
            var rows = [String]()
            for (l, m) in features.values.enumerated() {
                for j in 0..<m.cols { for t in features.grid.indices { rows.append("\(l + 1),\(j),\(features.grid[t]),\(m[t, j])") } }
            }
            files.append(("features.csv", csv("layer,neuron,x,feature", rows)))
        }
        let q = d.value
        files.append(("objective.csv", csv("loss,regularizer,Q,train_rmse", ["\(q.loss),\(q.regularization),\(q.value),\(d.rmse)"])))
        do { try AtomicDirectory.write(files, to: target, replacing: replaceable) }
        catch let e as OverparamError { throw OverparamError.invalidArgument(name: "--out", problem: e.description) }

        print("network \(dir): L = \(net.depth) (widths \(net.widths.dropFirst().map(String.init).joined(separator: ", "))), d = \(net.inputDimension), K = \(net.outputs), \(net.activation)"
              + (archive.regularizer.map { r in
                    let all = r.layerWeights + [r.readoutWeight]
                    return ", \(d.label) lambda = " + (Set(all).count == 1 ? fmt(r.readoutWeight, 3) : r.layerWeights.map { fmt($0, 3) }.joined(separator: ", ") + " (readout \(fmt(r.readoutWeight, 3)))")
                } ?? "")
              + "; data: \(source)")
        d.printSummary()
        print("wrote \(target)/{\(files.map(\.name).joined(separator: ","))}")
    }

    func csv(_ header: String, _ rows: [String]) -> Data { Data((([header] + rows).joined(separator: "\n") + "\n").utf8) }
}

/// sqrt(2 loss / K): the RMSE over all N x K target entries of the half-mean squared loss (1/2N) sum ||f - y||^2.
func rootMeanSquare(loss: Double, outputs k: Int) -> Double { (2 * loss / Double(k)).squareRoot() }

/// The diagnostics both subcommands print: Q and its parts on the data, the per-layer u-v fit (eqs. 28-29,
/// l_{1,2} only) and V(w, u) with E_x over the data's inputs.
struct ConvexDiagnosis {
    let value: ConvexObjectiveValue
    let rmse: Double
    /// nil unless the regularizer is l_{1,2} (Proposition 1 is stated for it).
    let optimality: [LayerOptimality]?
    let variance: ApproximationVariance
    let label: String

    init(_ archive: DeepFeatureNetworkArchive, inputs x: Matrix, targets y: Matrix) throws {
        let net = archive.network
        let reg = try archive.regularizer ?? .l12(layerWeights: [Double](repeating: 0, count: net.depth), readoutWeight: 0)
        value = try ConvexObjective(regularizer: reg).evaluate(net, inputs: x, targets: y)
        rmse = rootMeanSquare(loss: value.loss, outputs: y.cols)
        let isL12 = archive.regularizer.map { $0.a == 1 && $0.b == 2 } ?? false
        optimality = isL12 ? try OptimalityDiagnostics.layers(net, regularizer: reg) : nil
        variance = try ApproximationVariance(net, inputs: x)
        label = archive.regularizer.map { ConvexRegularizerKind($0)?.label ?? "l_{\($0.a),\($0.b)}" } ?? "no regularizer"
    }

    func printSummary() {
        print("loss \(fmt(value.loss))  regularizer \(fmt(value.regularization))  Q \(fmt(value.value))  train RMSE \(fmt(rmse))")
        if let layers = optimality {
            print("layer  u-v r     slope      intercept   (Proposition 1: v = 2u + Lambda)")
            for o in layers {
                print(lpad("\(o.layer)", 5) + "  " + pad(fmt(o.correlation, 3), 8) + "  " + pad(fmt(o.slope, 3), 9) + "  " + fmt(o.intercept, 3))
            }
        } else {
            print("u-v relation: not computed (Proposition 1 is stated for l_{1,2}; this network has \(label))")
        }
        let terms = variance.layerTerms.enumerated().map { "layer \($0.offset + 2) \(fmt($0.element))" }
        print("V(w, u) = \(fmt(variance.total))  (readout \(fmt(variance.readoutTerm))\(terms.isEmpty ? "" : "; " + terms.joined(separator: ", ")))")
    }
}
