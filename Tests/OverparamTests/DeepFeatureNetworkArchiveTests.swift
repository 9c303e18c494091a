import Foundation
import Testing
@testable import Overparam

// Saving and loading seed 002's network (DeepFeatureNetworkArchive), the folder writes under it (AtomicDirectory),
// and the per-layer sparsity thresholds. The .npy files carry float64 bits and the manifest's JSON numbers
// round-trip exactly, so the checks are bit-for-bit equality, not tolerances.

@Suite("DeepFeatureNetworkArchive")
struct DeepFeatureNetworkArchiveTests {
    /// A 2-input, 2-output, L = 3 network with unequal widths and a per-layer l_{1,2} regularizer.
    func sample() throws -> DeepFeatureNetworkArchive {
        let net = try DeepFeatureNetwork(inputDimension: 2, hiddenWidths: [5, 3, 4], outputs: 2, activation: .softplus(a: 0.7), seed: 11)
        let reg = try MixedNormRegularizer.l12(layerWeights: [1e-5, 3.3e-4, 0.1], readoutWeight: 2.5e-7)
        return DeepFeatureNetworkArchive(network: net, regularizer: reg, metadata: ["data": "test"])
    }

    @Test("save/load round trip is bit-exact and gives the same outputs")
    func roundTrip() throws {
        let dir = try makeTempDir("archive") + "/net"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let a = try sample()
        try a.write(to: dir, extraFiles: [(name: "log.csv", data: Data("step\n0\n".utf8))])
        let b = try DeepFeatureNetworkArchive.read(dir)
        #expect(b.network.parameters.map(\.bitPattern) == a.network.parameters.map(\.bitPattern))
        #expect(b.network.layout == a.network.layout)
        #expect(b.network.activation == a.network.activation)
        #expect(b.network.inputBias == a.network.inputBias)
        #expect(b.regularizer == a.regularizer)
        #expect(b.metadata == a.metadata)
        let x = Matrix([[0.3, -1.2], [2.0, 0.5]])
        #expect(try b.network(x).storage.map(\.bitPattern) == a.network(x).storage.map(\.bitPattern))
        #expect(try String(contentsOfFile: dir + "/log.csv", encoding: .utf8) == "step\n0\n")
        // w^(2) is stored as an m^(2) x m^(1) array.
        let w2 = try NPY.read(dir + "/w2.npy")
        #expect(w2.rows == 3 && w2.cols == 5 && w2.storage == a.network.weight(layer: 2).storage)
    }

    @Test("a saved network is replaced in place; a folder with other files is refused and left alone")
    func replacement() throws {
        let root = try makeTempDir("archive-replace")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let a = try sample()
        try a.write(to: root + "/net")
        let small = try DeepFeatureNetwork(inputDimension: 1, hiddenWidths: [2], seed: 1)
        try DeepFeatureNetworkArchive(network: small).write(to: root + "/net")
        let back = try DeepFeatureNetworkArchive.read(root + "/net")
        #expect(back.network.parameters == small.parameters && back.regularizer == nil)
        #expect(!FileManager.default.fileExists(atPath: root + "/net/w3.npy"))   // the old L = 3 files are gone
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/mine.txt"))
        guard case .file? = thrownError({ try a.write(to: root) }) else { Issue.record("writing over a foreign folder did not fail"); return }
        #expect(try String(contentsOfFile: root + "/mine.txt", encoding: .utf8) == "keep")
        // No staging or aside folders are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).sorted() == ["mine.txt", "net"])
    }

    @Test("folders that are not archives give one clear error")
    func badFolders() throws {
        let root = try makeTempDir("archive-bad")
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard case .file(_, let p1)? = thrownError({ _ = try DeepFeatureNetworkArchive.read(root) }) else { Issue.record("empty folder read"); return }
        #expect(p1.contains("not a saved network"))
        guard case .file? = thrownError({ _ = try DeepFeatureNetworkArchive.read(root + "/missing") }) else { Issue.record("missing folder read"); return }
        try sample().write(to: root + "/net")
        try NPY.write(Matrix(rows: 2, cols: 2), to: root + "/net/w2.npy")
        guard case .format(let path, _)? = thrownError({ _ = try DeepFeatureNetworkArchive.read(root + "/net") }) else { Issue.record("wrong shape read"); return }
        #expect(path.hasSuffix("w2.npy"))
        try Data("{\"format\": \"something-else\"}".utf8).write(to: URL(fileURLWithPath: root + "/net/network.json"))
        guard case .format? = thrownError({ _ = try DeepFeatureNetworkArchive.read(root + "/net") }) else { Issue.record("foreign manifest read"); return }
    }

    @Test("per-layer sparsity thresholds scale with sqrt(m^(l-1))")
    func initializationScaleGrid() throws {
        let net = try DeepFeatureNetwork(inputDimension: 3, hiddenWidths: [16, 4], seed: 2)   // m^(0) = 4 with the bias
        let g1 = try SparsityCurve.initializationScaleGrid(net.layout, layer: 1, from: 1e-2, to: 1, count: 3)
        let g3 = try SparsityCurve.initializationScaleGrid(net.layout, layer: 3, from: 1e-2, to: 1, count: 3)
        // exp(log x) is x to a few ulp: 1e-14 relative.
        #expect(abs(g1[0] / 0.02 - 1) < 1e-14 && abs(g1[1] / 0.2 - 1) < 1e-14 && abs(g1[2] / 2 - 1) < 1e-14)   // s = sqrt(4) = 2
        #expect(abs(g3[2] / 2 - 1) < 1e-14)                                                                      // readout: sqrt(m^(2)) = 2
        let curves = try SparsityCurve.layers(net, from: 1e-2, to: 1, count: 3)
        #expect(curves.map(\.layer) == [1, 2, 3] && curves.map(\.count) == [64, 64, 4])
        #expect(abs(curves[1].thresholds.last! / 4 - 1) < 1e-14)                                      // layer 2: sqrt(16)
        #expect(thrownError({ _ = try SparsityCurve.initializationScaleGrid(net.layout, layer: 4, from: 1e-2, to: 1, count: 3) }) != nil)
    }
}
