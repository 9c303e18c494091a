import ArgumentParser
import Foundation
import Overparam

struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernel",
        abstract: "NNGP and NTK between input sets: infinite-width (default) or of a sampled network (--empirical).")

    @Option(help: "Inputs X (n x d float64 .npy).") var x: String
    @Option(help: "Second inputs Z (m x d .npy); default X.") var x2: String?
    @OptionGroup var arch: ArchitectureOptions
    @Flag(help: "Empirical kernels of one sampled network (uses --width and --seed).") var empirical = false
    @Option(help: "Seed of the sampled network.") var seed: UInt64 = 0
    @Option(help: "Output path for the NNGP kernel (.npy).") var nngpOut: String?
    @Option(help: "Output path for the NTK (.npy).") var ntkOut: String?

    func run() throws {
        guard nngpOut != nil || ntkOut != nil else {
            throw OverparamError.invalidArgument(name: "--nngp-out/--ntk-out", problem: "nothing to write; pass --nngp-out K.npy and/or --ntk-out T.npy")
        }
        let x1 = try loadInputs(x, flag: "--x")
        let z = try x2.map { try loadInputs($0, flag: "--x2") }
        if let z, z.cols != x1.cols { throw OverparamError.invalidArgument(name: "--x2", problem: "has \(z.cols) columns but --x has \(x1.cols); both must be n x d with the same d") }
        let a = try arch.architecture(inputDimension: x1.cols)
        let clock = ContinuousClock()
        var nngp = Matrix(rows: 0, cols: 0), ntk = nngp
        let t = try clock.measure {
            if empirical {
                let k = try EmpiricalNTK.compute(try Network(a, seed: seed), x1, z)
                nngp = k.nngp; ntk = k.ntk
            } else {
                let k = try InfiniteWidthKernel(a, forceQuadrature: arch.quadrature)(x1, z)
                nngp = k.nngp; ntk = k.ntk
            }
        }
        guard nngp.isFinite, ntk.isFinite else { throw OverparamError.nonFinite("the kernel overflowed; lower --weight-variance or --depth") }
        if let p = nngpOut { try save(nngp, p, flag: "--nngp-out") }
        if let p = ntkOut { try save(ntk, p, flag: "--ntk-out") }
        let kind = empirical ? "empirical (width \(arch.width), seed \(seed))" : "infinite-width"
        print("\(kind) kernels \(nngp.rows)x\(nngp.cols) for \(a.description) in \(fmt(Double(t.components.attoseconds) * 1e-18 + Double(t.components.seconds), 3)) s")
    }
}
