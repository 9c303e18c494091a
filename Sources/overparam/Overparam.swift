import ArgumentParser
import Foundation
import Overparam
import OverparamExperiments

@main
struct OverparamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overparam",
        abstract: "Infinite-width kernels, empirical NTKs and kernel predictions of overparameterized networks.",
        subcommands: [KernelCommand.self, PredictCommand.self, TrainCommand.self, ConvexCommand.self, DigitsCommand.self, ReproduceCommand.self, ReportCommand.self, RunsCommand.self, BenchCommand.self, NTHCommand.self, InitCommand.self])

    /// Parse, run, and turn every failure into one line on stderr and a non-zero exit status.
    static func main() {
        // Keep large temporaries in the heap instead of a fresh mmap (and page faults) per allocation: training loops
        // allocate many megabyte-sized matrices per step.
        Parallel.keepLargeAllocationsInHeap()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as OverparamError {
            FileHandle.standardError.write(Data("overparam: error: \(error.description)\n".utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }   // --help, --version
            let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("overparam: \(message.hasPrefix("Error: ") ? "error: " + message.dropFirst(7) : message)\n".utf8))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// Flags that describe an ``Architecture``.
struct ArchitectureOptions: ParsableArguments {
    @Option(help: "Number of hidden layers L (>= 1).") var depth: Int = 3
    @Option(help: "Hidden width of sampled networks (empirical kernels); ignored by analytic kernels except for non-ntk parameterizations.") var width: Int = 512
    @Option(help: "relu, leaky-relu[:alpha], abs, ab-relu:a,b, erf, tanh, sigmoid, softplus[:a], gelu, sin, identity, shaped-cubic:psi,L.") var activation: String = "relu"
    @Option(help: "Weight variance C_W.") var weightVariance: Double = 2
    @Option(help: "Bias variance C_b (0 with --no-bias for no biases).") var biasVariance: Double = 0
    @Option(help: "Readout weight variance (default: C_W).") var readoutVariance: Double?
    @Option(help: "ntk, standard, mean-field, scaled:ALPHA, huang-yau, fang-gu-zhang, hanin, hanin:GAMMA.") var parameterization: String = "ntk"
    @Flag(help: "Force 2-D quadrature even where a closed form exists.") var quadrature = false

    func architecture(inputDimension: Int, outputs: Int = 1) throws -> Architecture {
        guard depth >= 1 else { throw OverparamError.invalidArgument(name: "--depth", problem: "must be >= 1 (got \(depth))") }
        guard width >= 1 else { throw OverparamError.invalidArgument(name: "--width", problem: "must be >= 1 (got \(width))") }
        guard weightVariance >= 0 else { throw OverparamError.invalidArgument(name: "--weight-variance", problem: "must be >= 0 (got \(weightVariance))") }
        guard biasVariance >= 0 else { throw OverparamError.invalidArgument(name: "--bias-variance", problem: "must be >= 0 (got \(biasVariance))") }
        let a = Architecture(inputDimension: inputDimension, hiddenWidths: [Int](repeating: width, count: depth),
                             activation: try Activation(parsing: activation), outputDimension: outputs,
                             weightVariance: weightVariance, biasVariance: biasVariance, readoutWeightVariance: readoutVariance,
                             parameterization: try Parameterization(parsing: parameterization))
        try a.validate()
        return a
    }
}

/// Read an n x d float64/float32 `.npy` (or a numeric `.csv`/`.txt`, optionally gzipped, with or without a header),
/// naming the flag in errors, and reject NaN/Inf.
func loadInputs(_ path: String, flag: String) throws -> Matrix {
    let m: Matrix
    let lower = path.lowercased()
    let csv = lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") || lower.hasSuffix(".txt")
    do { m = csv ? try CSVMatrix.read(path).matrix : try NPY.read(path) } catch let e as OverparamError {
        throw OverparamError.invalidArgument(name: flag, problem: e.description)
    }
    guard m.rows > 0, m.cols > 0 else { throw OverparamError.invalidArgument(name: flag, problem: "\(path) is empty; pass an n x d array") }
    guard m.isFinite else { throw OverparamError.invalidArgument(name: flag, problem: "\(path) contains NaN or Inf; clean the data first") }
    return m
}

/// Write a matrix atomically, naming the flag in errors.
func save(_ m: Matrix, _ path: String, flag: String) throws {
    do { try NPY.write(m, to: path) } catch let e as OverparamError { throw OverparamError.invalidArgument(name: flag, problem: e.description) }
}

func fmt(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
