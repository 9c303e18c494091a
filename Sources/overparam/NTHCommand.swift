import ArgumentParser
import Foundation
import Overparam

struct NTHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nth",
        abstract: "The neural tangent hierarchy of a finite network (seed 001): exact K^(3), K^(4) and truncated dynamics.",
        subcommands: [NTHKernels.self, NTHEvolve.self])
}

/// Seed 001's network: x^(l) = sigma(W^(l) x^(l-1)) / sqrt(m), f = a^T x^(H), no biases.
struct NTHNetworkOptions: ParsableArguments {
    @Option(help: "Hidden width m.") var width: Int = 512
    @Option(help: "Number of hidden layers H.") var depth: Int = 2
    @Option(help: "tanh, sigmoid, softplus[:a], erf, gelu (smooth, seed 001 Assumption 2.1); relu runs outside the theorems.") var activation: String = "tanh"
    @Option(help: "s_w^2, the variance of the hidden weights.") var weightVariance: Double = 1
    @Option(help: "s_a^2, the variance of the output weights.") var readoutVariance: Double = 1
    @Option(help: "Seed of the network's initialization.") var seed: UInt64 = 0

    func network(inputDimension d: Int) throws -> Network {
        guard width >= 1 else { throw OverparamError.invalidArgument(name: "--width", problem: "must be >= 1") }
        guard depth >= 1 else { throw OverparamError.invalidArgument(name: "--depth", problem: "must be >= 1") }
        let act = try Activation(parsing: activation)
        if act == .relu || act.isPositivelyHomogeneous {
            FileHandle.standardError.write(Data("overparam: note: \(activation) is not smooth (outside seed 001's Assumption 2.1): K^(3) and K^(4) omit the kinks' contributions\n".utf8))
        }
        let arch = Architecture(inputDimension: d, hiddenWidths: [Int](repeating: width, count: depth), activation: act, weightVariance: weightVariance,
                                readoutWeightVariance: readoutVariance, hasBias: false, parameterization: .huangYau)
        return try Network(arch, seed: seed)
    }
}

struct NTHKernels: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels",
        abstract: "K^(2), K^(3) (n x n x n) or K^(4) (n^4) of a sampled network at the points X, exactly (no finite differences).")

    @Option(help: "Points (n x d .npy or .csv); seed 001 puts them on the unit sphere.") var x: String
    @Option(help: "Hierarchy order: 2 (the NTK), 3 or 4.") var order: Int = 3
    @OptionGroup var net: NTHNetworkOptions
    @Option(help: "Output .npy: n x n (order 2), n x n x n with [a1, a2, b] (order 3), n^4 with [a1, a2, b1, b2] (order 4).") var out: String
    @Option(help: "Also write K^(2) (n x n .npy).") var k2Out: String?

    func run() throws {
        let points = try loadInputs(x, flag: "--x")
        guard (2...4).contains(order) else { throw OverparamError.invalidArgument(name: "--order", problem: "must be 2, 3 or 4 (got \(order))") }
        if order == 4 && points.rows > 64 {
            throw OverparamError.invalidArgument(name: "--x", problem: "K^(4) of \(points.rows) points has \(points.rows)^4 entries; use at most 64 points")
        }
        let nth = try NeuralTangentHierarchy(try net.network(inputDimension: points.cols))
        let start = Date()
        let k = try nth.kernels(points, order: order)
        let secs = Date().timeIntervalSince(start)
        let n = points.rows
        switch order {
        case 2: try NPY.write(k.k2, to: out)
        case 3: try NPY.write(k.k3!, shape: [n, n, n], to: out)
        default: try NPY.write(k.k4!, shape: [n, n, n, n], to: out)
        }
        if let k2Out { try NPY.write(k.k2, to: k2Out) }
        let values = order == 2 ? k.k2.storage : order == 3 ? k.k3! : k.k4!
        let sup = values.reduce(0) { max($0, abs($1)) }
        let rms = (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
        print("K^(\(order)) of \(n) points, width \(net.width), depth \(net.depth), \(net.activation): \(values.count) entries in \(String(format: "%.3f", secs)) s")
        print("sup |K| = \(fmt(sup)), rms = \(fmt(rms)); m^(\(order)/2-1) sup = \(fmt(sup * pow(Double(net.width), Double(order) / 2 - 1)))")
        print("wrote \(out)")
    }
}

struct NTHEvolve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evolve",
        abstract: "Train a network by gradient flow and compare its outputs with the truncated hierarchy (p = 2, 3, 4) over time.")

    @Option(help: "Training inputs (n x d .npy or .csv).") var xTrain: String
    @Option(help: "Training targets (n x 1).") var yTrain: String
    @Option(help: "Test inputs (m x d).") var xTest: String?
    @Option(help: "Truncation orders p, comma-separated (2 = frozen NTK, 3, 4, 3r = the reduced p = 3 system).") var truncation: String = "2,3,4"
    @Option(help: "Final time T of the flow (loss (1/2n) sum (f - y)^2).") var time: Double = 10
    @Option(help: "Number of equally spaced output times in (0, T].") var points: Int = 20
    @OptionGroup var net: NTHNetworkOptions
    @Option(help: "Relative tolerance of the adaptive integrator.") var tolerance: Double = 1e-8
    @Option(help: "Per-time, per-point log (CSV): t, point, split, target, flow, each truncation and its error.") var log: String

    func run() throws {
        let x = try loadInputs(xTrain, flag: "--x-train")
        let yMatrix = try loadInputs(yTrain, flag: "--y-train")
        guard yMatrix.cols == 1, yMatrix.rows == x.rows else {
            throw OverparamError.invalidArgument(name: "--y-train", problem: "must be \(x.rows) x 1 (one target per training input), got \(yMatrix.rows) x \(yMatrix.cols)")
        }
        let test = try xTest.map { try loadInputs($0, flag: "--x-test") }
        if let test, test.cols != x.cols { throw OverparamError.invalidArgument(name: "--x-test", problem: "has \(test.cols) columns, --x-train has \(x.cols)") }
        guard time > 0, time.isFinite else { throw OverparamError.invalidArgument(name: "--time", problem: "must be a finite number > 0") }
        guard points >= 1 else { throw OverparamError.invalidArgument(name: "--points", problem: "must be >= 1") }
        guard tolerance > 0, tolerance < 1 else { throw OverparamError.invalidArgument(name: "--tolerance", problem: "must be in (0, 1)") }
        let truncations = try truncation.split(separator: ",").map { p -> TruncatedHierarchy.Truncation in
            switch p.trimmingCharacters(in: .whitespaces) {
            case "2": return .order(2)
            case "3": return .order(3)
            case "4": return .order(4)
            case "3r": return .reducedThird
            default: throw OverparamError.invalidArgument(name: "--truncation", problem: "'\(p)' is not a truncation; use 2, 3, 4 or 3r, comma-separated")
            }
        }
        let all = test.map { Matrix(rows: x.rows + $0.rows, cols: x.cols, storage: x.storage + $0.storage) } ?? x
        if truncations.contains(.order(4)) && all.rows > 48 {
            throw OverparamError.invalidArgument(name: "--x-train/--x-test", problem: "p = 4 holds K^(4) over all \(all.rows) points (\(all.rows)^4 entries); use at most 48 points")
        }
        let network = try net.network(inputDimension: x.cols)
        let n = x.rows, y = yMatrix.storage
        let times = (1...points).map { time * Double($0) / Double(points) }
        let integrator = DormandPrince(relativeTolerance: tolerance, absoluteTolerance: tolerance * 1e-2)
        var flowOutputs = [[Double]]()
        try NetworkGradientFlow(network: network, trainInputs: x, targets: y).run(times: times, integrator: integrator) { netT, _ in
            flowOutputs.append(try netT(all).storage)
        }
        let order = truncations.map { if case .order(let p) = $0 { return p } else { return 3 } }.max() ?? 2
        let kernels = try NeuralTangentHierarchy(network).kernels(all, order: order)
        let f0 = try network(all).storage
        let predicted = try truncations.map { tr in
            try TruncatedHierarchy(kernels: kernels, trainCount: n, targets: y, truncation: tr).outputs(initial: f0, at: times, integrator: integrator)
        }
        var lines = ["t,point,split,target,flow" + truncations.map { ",\(label($0))" }.joined() + truncations.map { ",error_\(label($0))" }.joined()]
        for (ti, t) in times.enumerated() {
            for a in 0..<all.rows {
                let f = flowOutputs[ti][a]
                var line = "\(t),\(a),\(a < n ? "train" : "test"),\(a < n ? String(y[a]) : ""),\(f)"
                for p in predicted { line += ",\(p[ti][a])" }
                for p in predicted { line += ",\(p[ti][a] - f)" }
                lines.append(line)
            }
        }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: log)
        let last = times.count - 1
        func rms(_ v: [Double]) -> Double { v.isEmpty ? .nan : (v.reduce(0) { $0 + $1 * $1 } / Double(v.count)).squareRoot() }
        let residuals: [Double] = (0..<n).map { flowOutputs[last][$0] - y[$0] }
        let trainLoss = residuals.reduce(0.0) { $0 + $1 * $1 } / Double(2 * n)   // (1/2n) sum r^2
        print("gradient flow to t = \(fmt(time)): \(n) training points\(test.map { ", \($0.rows) test points" } ?? ""), width \(net.width), depth \(net.depth); train loss \(fmt(trainLoss))")
        print(pad("truncation", 16) + lpad("rms error (train)", 20) + lpad("rms error (test)", 20))
        for (i, tr) in truncations.enumerated() {
            let errTrain = rms((0..<n).map { predicted[i][last][$0] - flowOutputs[last][$0] })
            let errTest = rms((n..<all.rows).map { predicted[i][last][$0] - flowOutputs[last][$0] })
            print(pad(tr.description, 16) + lpad(fmt(errTrain), 20) + lpad(test == nil ? "-" : fmt(errTest), 20))
        }
        print("wrote \(log)")
    }

    func label(_ t: TruncatedHierarchy.Truncation) -> String {
        if case .order(let p) = t { return "p\(p)" } else { return "p3r" }
    }
}
