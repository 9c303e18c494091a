import Foundation
import Testing
@testable import Overparam

// MARK: - Helpers

/// A fresh, empty directory under the system temporary directory.

private func removeIOTempDir(_ dir: String) {
    try? FileManager.default.removeItem(atPath: dir)
}

/// The `OverparamError` thrown by `body`, or nil when it succeeds or throws something else.

private func writeFile(_ data: Data, _ path: String) throws {
    try data.write(to: URL(fileURLWithPath: path))
}

/// Hand-built `.npy` bytes: magic, version, header length (2 bytes for v1, 4 for v2/v3), the header
/// dictionary padded with spaces + `\n` to a multiple of 64 bytes, then `body`.
private func npyBytes(major: UInt8 = 1, header dict: String, body: [UInt8]) -> Data {
    let prefix = major == 1 ? 10 : 12
    var header = dict
    header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
    let n = header.utf8.count
    var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
    if major == 1 {
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
    } else {
        out += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
    }
    return Data(out + Array(header.utf8) + body)
}

private func littleEndianBytes(_ values: [Double]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

private func littleEndianFloat32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

// MARK: - NPY

@Suite("NPY files")
struct IONPYTests {
    @Test func roundTrip2D() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let m = Matrix([[1, -2.5, 3e-300], [Double.pi, 0.1, 1e10]])
        let path = dir + "/m.npy"
        try NPY.write(m, to: path)
        let back = try NPY.read(path)
        #expect(back == m)
        #expect(back.rows == 2 && back.cols == 3)
    }

    @Test func roundTrip1DBecomesColumn() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let m = Matrix([[1, 2, 3], [4, 5, 6]])
        let path = dir + "/v.npy"
        try NPY.write(m, to: path, asVector: true)
        let back = try NPY.read(path)
        #expect(back.rows == 6 && back.cols == 1)
        #expect(back.storage == m.storage)
    }

    @Test func encodedHeaderMatchesNumPy() {
        // np.save(f, np.zeros((2, 3))) writes a 128-byte header (length field 0x76 = 118).
        let data = NPY.encode(Matrix(rows: 2, cols: 3))
        let bytes = [UInt8](data)
        #expect(bytes.count == 128 + 6 * 8)
        #expect(Array(bytes[0..<10]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0x76, 0])
        let header = String(decoding: bytes[10..<128], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }   "))
        #expect(header.hasSuffix(" \n"))

        let vector = [UInt8](NPY.encode(Matrix(column: [1, 2, 3]), asVector: true))
        #expect((vector.count - 3 * 8) % 64 == 0)
        #expect(String(decoding: vector[10..<(vector.count - 24)], as: UTF8.self).contains("'shape': (3,), }"))
    }

    @Test func decodesFloat32() throws {
        let values: [Float] = [1.5, -2.25, 1e-3, 3.4e38]
        let data = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                            body: littleEndianFloat32Bytes(values))
        let m = try NPY.decode(data, path: "f32.npy")
        #expect(m.rows == 2 && m.cols == 2)
        #expect(m.storage == values.map { Double($0) })
    }

    @Test func decodesVersion2Header() throws {
        let values: [Double] = [1, 2, 3, 4, 5, 6]
        let data = npyBytes(major: 2, header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
                            body: littleEndianBytes(values))
        let m = try NPY.decode(data, path: "v2.npy")
        #expect(m == Matrix(rows: 3, cols: 2, storage: values))
    }

    @Test func decodesVersion3AndIntegerDtypes() throws {
        let int64 = npyBytes(major: 3, header: "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                             body: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0, 0, 0, 0, 0])
        #expect(try NPY.decode(int64, path: "i8.npy").storage == [-1, 7])

        let int32 = npyBytes(header: "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }",
                             body: [0xFE, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00])
        #expect(try NPY.decode(int32, path: "i4.npy") == Matrix([[-2, 256]]))

        let uint8 = npyBytes(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", body: [0, 128, 255])
        #expect(try NPY.decode(uint8, path: "u1.npy").storage == [0, 128, 255])

        let scalar = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                              body: littleEndianBytes([42.0]))
        #expect(try NPY.decode(scalar, path: "0d.npy") == Matrix([[42]]))
    }

    @Test func rejectsFortranOrder() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/fortran.npy"
        try writeFile(npyBytes(header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                               body: littleEndianBytes([1, 2, 3, 4, 5, 6])), path)
        let error = thrownError { _ = try NPY.read(path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("ascontiguousarray") == true)
    }

    @Test func rejectsBigEndian() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/big.npy"
        try writeFile(npyBytes(header: "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
                               body: [UInt8](repeating: 0, count: 16)), path)
        let error = thrownError { _ = try NPY.read(path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("big-endian") == true)
    }

    @Test func rejectsTruncatedData() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/short.npy"
        try writeFile(npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }",
                               body: [UInt8](repeating: 0, count: 10)), path)
        let error = thrownError { _ = try NPY.read(path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("truncated") == true)
    }

    @Test func rejectsWrongMagic() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/text.npy"
        try writeFile(Data("1,2,3\n4,5,6\n".utf8), path)
        let error = thrownError { _ = try NPY.read(path) }
        guard case .format? = error else {
            Issue.record("expected a format error, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("not a .npy file") == true)
    }

    @Test func rejectsObjectAnd3DArrays() {
        let object = npyBytes(header: "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", body: [UInt8](repeating: 0, count: 8))
        #expect(thrownError { _ = try NPY.decode(object, path: "obj.npy") }?.description.contains("object") == true)

        let cube = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2), }", body: littleEndianBytes([1, 2]))
        #expect(thrownError { _ = try NPY.decode(cube, path: "cube.npy") }?.description.contains("(1, 1, 2)") == true)
    }

    @Test func missingFileNamesPath() {
        let path = "/nonexistent-\(UUID().uuidString)/x.npy"
        let error = thrownError { _ = try NPY.read(path) }
        guard case .file? = error else {
            Issue.record("expected a file error, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains(path) == true)
    }
}

// MARK: - CSV

@Suite("CSV matrices")
struct IOCSVTests {
    @Test func roundTripWithHeader() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let m = Matrix([[0.1, 1e-5, -3], [1.0 / 3.0, 123456789.125, 2e300]])
        let header = ["a", "b,c", "d"]
        let path = dir + "/m.csv"
        try CSVMatrix.write(m, header: header, to: path)
        let (readHeader, back) = try CSVMatrix.read(path)
        #expect(readHeader == header)
        #expect(back == m)
    }

    @Test func roundTripWithoutHeader() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let m = Matrix([[1, 2], [3, 4], [5, 6]])
        let path = dir + "/plain.csv"
        try CSVMatrix.write(m, header: nil, to: path)
        let (header, back) = try CSVMatrix.read(path)
        #expect(header == nil)
        #expect(back == m)
    }

    @Test func detectsHeader() throws {
        let (header, m) = try CSVMatrix.decode(Data("x, y\r\n1, 2\r\n\r\n3,4\r\n".utf8), path: "h.csv")
        #expect(header == ["x", "y"])
        #expect(m == Matrix([[1, 2], [3, 4]]))

        let (noHeader, n) = try CSVMatrix.decode(Data("1,2\n3,4".utf8), path: "n.csv")
        #expect(noHeader == nil)
        #expect(n == Matrix([[1, 2], [3, 4]]))

        let (commented, c) = try CSVMatrix.decode(Data("# p q\n1 2\n3 4\n".utf8), path: "s.txt")
        #expect(commented == ["p", "q"])
        #expect(c == Matrix([[1, 2], [3, 4]]))

        let (forced, f) = try CSVMatrix.decode(Data("1,2\n3,4\n".utf8), path: "f.csv", hasHeader: true)
        #expect(forced == ["1", "2"])
        #expect(f == Matrix([[3, 4]]))
    }

    @Test func raggedRowsNameFileAndLine() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/ragged.csv"
        try writeFile(Data("1,2,3\n4,5\n".utf8), path)
        let error = thrownError { _ = try CSVMatrix.read(path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("line 2") == true)
    }

    @Test func badFieldNamesLineAndColumn() {
        let error = thrownError { _ = try CSVMatrix.decode(Data("1,2\n3,abc\n".utf8), path: "bad.csv") }
        #expect(error?.description.contains("bad.csv") == true)
        #expect(error?.description.contains("line 2, column 2") == true)

        let forced = thrownError { _ = try CSVMatrix.decode(Data("x,y\n1,2\n".utf8), path: "nohdr.csv", hasHeader: false) }
        #expect(forced?.description.contains("line 1, column 1") == true)
    }

    @Test func emptyFileIsAnError() {
        let error = thrownError { _ = try CSVMatrix.decode(Data("\n  \n".utf8), path: "empty.csv") }
        #expect(error?.description.contains("empty.csv") == true)
        #expect(error?.description.contains("empty") == true)
    }

    @Test func readsGzippedCSV() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/m.csv.gz"
        try writeFile(Gzip.compress(Data("a,b\n1.5,2\n".utf8)), path)
        let (header, m) = try CSVMatrix.read(path)
        #expect(header == ["a", "b"])
        #expect(m == Matrix([[1.5, 2]]))
    }
}

// MARK: - Gzip

@Suite("Gzip")
struct IOGzipTests {
    @Test func roundTripMultiChunk() throws {
        // Compressible (output of inflate spans several 64 KiB chunks) and incompressible (so does deflate's).
        let patterned = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) })
        let random = Data((0..<200_000).map { _ in UInt8.random(in: 0...255) })
        for original in [patterned, random, Data(), Data("hello".utf8)] {
            let compressed = try Gzip.compress(original)
            #expect(Gzip.isGzip(compressed))
            #expect(try Gzip.decompress(compressed, path: "mem.gz") == original)
        }
        #expect(!Gzip.isGzip(Data("plain".utf8)))
    }

    @Test func concatenatedMembers() throws {
        let joined = try Gzip.compress(Data("abc".utf8)) + Gzip.compress(Data("def".utf8))
        #expect(try Gzip.decompress(joined, path: "cat.gz") == Data("abcdef".utf8))
    }

    @Test func truncatedStreamIsAnError() throws {
        let compressed = try Gzip.compress(Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0) }))
        let error = thrownError { _ = try Gzip.decompress(compressed.prefix(compressed.count / 2), path: "cut.gz") }
        #expect(error?.description.contains("cut.gz") == true)
        #expect(error?.description.contains("truncated") == true)
    }

    @Test func readMaybeGzipped() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let payload = Data("payload".utf8)
        try writeFile(payload, dir + "/plain.bin")
        try writeFile(Gzip.compress(payload), dir + "/packed.bin.gz")
        #expect(try Gzip.readMaybeGzipped(dir + "/plain.bin") == payload)
        #expect(try Gzip.readMaybeGzipped(dir + "/packed.bin.gz") == payload)
    }
}

// MARK: - IDX

@Suite("IDX files")
struct IOIDXTests {
    static let pixels: [UInt8] = [0, 1, 2, 3, 10, 20, 30, 40, 252, 253, 254, 255]
    static let labels: [UInt8] = [7, 0, 9]

    @Test(arguments: [false, true])
    func imagesAndLabelsRoundTrip(gzipped: Bool) throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        var images = IDX.encode(shape: [3, 2, 2], bytes: Self.pixels)
        var labelData = IDX.encode(shape: [3], bytes: Self.labels)
        if gzipped {
            images = try Gzip.compress(images)
            labelData = try Gzip.compress(labelData)
        }
        let suffix = gzipped ? ".gz" : ""
        try writeFile(images, dir + "/images-idx3-ubyte" + suffix)
        try writeFile(labelData, dir + "/labels-idx1-ubyte" + suffix)

        let x = try IDX.readImages(dir + "/images-idx3-ubyte" + suffix)
        #expect(x.rows == 3 && x.cols == 4)
        #expect(x.storage == Self.pixels.map { Double($0) })
        #expect(try IDX.readLabels(dir + "/labels-idx1-ubyte" + suffix) == [7, 0, 9])
    }

    @Test func encodeLayout() {
        let data = [UInt8](IDX.encode(shape: [2, 1], bytes: [5, 6]))
        #expect(data == [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 1, 5, 6])
    }

    @Test func decodesBigEndianTypes() throws {
        let int16 = Data([0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x00])
        #expect(try IDX.decode(int16, path: "i16").values == [-2, 256])
        let float32 = Data([0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0])
        #expect(try IDX.decode(float32, path: "f32").values == [1.5])
        let sbyte = Data([0, 0, 0x09, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0xFF, 0x05])
        let decoded = try IDX.decode(sbyte, path: "i8")
        #expect(decoded.shape == [1, 2])
        #expect(decoded.values == [-1, 5])
    }

    @Test func badMagicNamesPath() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/bogus-idx3-ubyte"
        try writeFile(Data("<html>not mnist</html>".utf8), path)
        let error = thrownError { _ = try IDX.readImages(path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("magic") == true)
    }

    @Test func wrongDimensionsAndTruncation() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let labelsPath = dir + "/labels"
        try writeFile(IDX.encode(shape: [3], bytes: Self.labels), labelsPath)
        #expect(thrownError { _ = try IDX.readImages(labelsPath) }?.description.contains("3 dimensions") == true)

        let imagesPath = dir + "/images"
        try writeFile(IDX.encode(shape: [3, 2, 2], bytes: Self.pixels), imagesPath)
        #expect(thrownError { _ = try IDX.readLabels(imagesPath) }?.description.contains("1 dimension") == true)

        let cut = IDX.encode(shape: [3, 2, 2], bytes: Self.pixels).dropLast()
        let error = thrownError { _ = try IDX.decode(Data(cut), path: "cut-idx3") }
        #expect(error?.description.contains("cut-idx3") == true)
        #expect(error?.description.contains("truncated") == true)
    }
}

// MARK: - Atomic writes

@Suite("Atomic file writes")
struct IOAtomicFileTests {
    @Test func writesAndReplacesWithoutLeftovers() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/out.bin"
        try AtomicFile.write(Data("first".utf8), to: path)
        try AtomicFile.write(Data("second".utf8), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("second".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])
    }

    @Test func missingDirectoryFailsCleanly() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/missing/out.bin"
        let error = thrownError { try AtomicFile.write(Data("x".utf8), to: path) }
        guard case .file? = error else {
            Issue.record("expected a file error, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("does not exist") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func createsDirectoriesWhenAsked() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let path = dir + "/a/b/out.bin"
        try AtomicFile.write(Data("x".utf8), to: path, createDirectories: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("x".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a/b") == ["out.bin"])
    }

    @Test func writingOverADirectoryFails() throws {
        let dir = try makeTempDir("io")
        defer { removeIOTempDir(dir) }
        let error = thrownError { try AtomicFile.write(Data("x".utf8), to: dir) }
        #expect(error?.description.contains("directory") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func splitsPaths() {
        #expect(AtomicFile.split("out.npy") == (".", "out.npy"))
        #expect(AtomicFile.split("/out.npy") == ("/", "out.npy"))
        #expect(AtomicFile.split("a/b/c.csv") == ("a/b", "c.csv"))
    }
}
