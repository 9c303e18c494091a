import Foundation

/// A ``DeepFeatureNetwork`` (seed 002 eqs. 1-2) saved as a folder of NumPy files plus a JSON manifest, with the
/// regularizer it was trained with (eq. 10) so that Q (eq. 9) and the optimality quantities (eqs. 28-29) can be
/// recomputed after loading:
///
///     w1.npy ... wL.npy   w^(l), m^(l) x m^(l-1) float64, C order (entry (j, k) from neuron k of layer l-1 to
///                         neuron j of layer l; column m^(0) - 1 holds the input-bias weights when there is a bias)
///     u.npy               u, m^(L) x K (row j is u_j)
///     network.json        format, version, inputDimension, inputBias, hiddenWidths, outputs, activation
///                         (``Activation/description``, read back with ``Activation/init(parsing:)``), the regularizer
///                         (a, b, layerWeights = lambda^(1...L), readoutWeight = lambda^(u)) and free-form metadata.
///
/// The `.npy` files store the parameters' bits exactly, so ``read(_:)`` of a ``write(to:extraFiles:)`` gives back the
/// same parameter vector bit for bit.
public struct DeepFeatureNetworkArchive: Sendable {
    public var network: DeepFeatureNetwork
    /// The regularizer of the training objective (nil: none recorded).
    public var regularizer: MixedNormRegularizer?
    /// Free-form notes (how the network was trained), stored in the manifest.
    public var metadata: [String: String]

    /// The manifest's file name.
    public static let manifestName = "network.json"
    static let formatName = "overparam.deep-feature-network"

    public init(network: DeepFeatureNetwork, regularizer: MixedNormRegularizer? = nil, metadata: [String: String] = [:]) {
        self.network = network; self.regularizer = regularizer; self.metadata = metadata
    }

    struct Regularizer: Codable { var a: Double, b: Double, layerWeights: [Double], readoutWeight: Double }
    struct Manifest: Codable {
        var format: String, version: Int
        var inputDimension: Int, inputBias: Double?, hiddenWidths: [Int], outputs: Int, activation: String
        var regularizer: Regularizer?
        var metadata: [String: String]
    }

    /// The names and bytes of the archive's files (w1.npy ... wL.npy, u.npy, network.json).
    public func files() throws -> [(name: String, data: Data)] {
        let n = network
        if let r = regularizer, r.layerWeights.count != n.depth {
            throw OverparamError.shapeMismatch("regularizer has \(r.layerWeights.count) layer weights, the network has L = \(n.depth) layers")
        }
        let manifest = Manifest(format: Self.formatName, version: 1, inputDimension: n.inputDimension, inputBias: n.inputBias,
                                hiddenWidths: Array(n.widths.dropFirst()), outputs: n.outputs, activation: n.activation.description,
                                regularizer: regularizer.map { Regularizer(a: $0.a, b: $0.b, layerWeights: $0.layerWeights, readoutWeight: $0.readoutWeight) },
                                metadata: metadata)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var out = (1...n.depth).map { (name: "w\($0).npy", data: NPY.encode(n.weight(layer: $0))) }
        out.append((name: "u.npy", data: NPY.encode(n.readout)))
        out.append((name: Self.manifestName, data: try encoder.encode(manifest) + Data("\n".utf8)))
        return out
    }

    /// True when `entries` (a folder's listing) hold a manifest: the folder is a saved network (and may be replaced).
    public static func isArchive(_ entries: [String]) -> Bool { entries.contains(manifestName) }

    /// Atomically write the archive, together with `extraFiles` (e.g. a training log), as the folder `directory`
    /// (see ``AtomicDirectory``); an existing folder is replaced only when it is a saved network itself.
    public func write(to directory: String, extraFiles: [(name: String, data: Data)] = []) throws {
        try AtomicDirectory.write(try files() + extraFiles, to: directory, replacing: Self.isArchive)
    }

    /// Load the archive in `directory`.
    /// - Throws: ``OverparamError/file(path:problem:)`` when the folder or a file is missing,
    ///   ``OverparamError/format(path:problem:)`` for a manifest that is not an archive's or arrays whose shapes do not
    ///   match it, or non-finite weights.
    public static func read(_ directory: String) throws -> DeepFeatureNetworkArchive {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OverparamError.file(path: directory, problem: "no such folder; pass the --out folder of overparam convex train")
        }
        let path = directory + "/" + manifestName
        guard FileManager.default.fileExists(atPath: path) else {
            throw OverparamError.file(path: directory, problem: "is not a saved network (no \(manifestName)); pass the --out folder of overparam convex train")
        }
        let m: Manifest
        do { m = try JSONDecoder().decode(Manifest.self, from: try AtomicFile.read(path)) } catch let e as OverparamError { throw e } catch {
            throw OverparamError.format(path: path, problem: "not a network manifest (\(error.localizedDescription)); re-save the network")
        }
        guard m.format == formatName, m.version == 1 else {
            throw OverparamError.format(path: path, problem: "format '\(m.format)' version \(m.version) is not \(formatName) version 1")
        }
        let activation: Activation
        do { activation = try Activation(parsing: m.activation) } catch {
            throw OverparamError.format(path: path, problem: "unknown activation '\(m.activation)'")
        }
        var shell: DeepFeatureNetwork
        do {
            shell = try DeepFeatureNetwork(inputDimension: m.inputDimension, hiddenWidths: m.hiddenWidths, outputs: m.outputs,
                                           activation: activation, inputBias: m.inputBias, parameters: nil)
        } catch let e as OverparamError { throw OverparamError.format(path: path, problem: e.description) }
        let layout = shell.layout
        var p = [Double]()
        p.reserveCapacity(layout.count)
        for l in 1...layout.depth + 1 {
            let name = l <= layout.depth ? "w\(l).npy" : "u.npy"
            let rows = layout.widths[min(l, layout.depth)], cols = l <= layout.depth ? layout.widths[l - 1] : layout.outputs
            let file = directory + "/" + name
            let a = try NPY.read(file)
            guard a.rows == rows, a.cols == cols else {
                throw OverparamError.format(path: file, problem: "is \(a.rows) x \(a.cols), the manifest needs \(rows) x \(cols)")
            }
            guard a.isFinite else { throw OverparamError.format(path: file, problem: "contains NaN or Inf weights") }
            p += a.storage
        }
        shell.parameters = p
        var regularizer: MixedNormRegularizer? = nil
        if let r = m.regularizer {
            do { regularizer = try MixedNormRegularizer(a: r.a, b: r.b, layerWeights: r.layerWeights, readoutWeight: r.readoutWeight) }
            catch let e as OverparamError { throw OverparamError.format(path: path, problem: "regularizer: \(e.description)") }
            guard r.layerWeights.count == layout.depth else {
                throw OverparamError.format(path: path, problem: "regularizer has \(r.layerWeights.count) layer weights, the network has L = \(layout.depth) layers")
            }
        }
        return DeepFeatureNetworkArchive(network: shell, regularizer: regularizer, metadata: m.metadata)
    }
}
