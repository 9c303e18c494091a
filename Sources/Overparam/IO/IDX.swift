import Foundation

/// The IDX format of the MNIST files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, ...).
///
/// Layout: two zero bytes, a type code, the number of dimensions `ndim`, then `ndim` big-endian
/// `UInt32` sizes and the big-endian values in row-major order. Supported type codes: `0x08` ubyte,
/// `0x09` sbyte, `0x0B` int16, `0x0C` int32, `0x0D` float32, `0x0E` float64. Gzipped files
/// (`.gz`, as distributed) are decompressed transparently.
public enum IDX {
    /// Read an image file (3-D, `count x height x width`) as a `count x (height * width)` matrix of
    /// raw pixel values (0...255 for MNIST), one flattened image per row.
    ///
    /// - Throws: ``OverparamError`` naming the file when it is missing, malformed or not 3-D.
    public static func readImages(_ path: String) throws -> Matrix {
        let (shape, values) = try decode(Gzip.readMaybeGzipped(path), path: path)
        guard shape.count == 3 else {
            throw OverparamError.format(path: path, problem:
                "expected IDX images with 3 dimensions (count x height x width) but found \(shape.count) (shape \(shape)); for a labels file (1-D) use readLabels")
        }
        return Matrix(rows: shape[0], cols: shape[1] * shape[2], storage: values)
    }

    /// Read a label file (1-D) as integers.
    ///
    /// - Throws: ``OverparamError`` naming the file when it is missing, malformed, not 1-D,
    ///   or holds non-integer values.
    public static func readLabels(_ path: String) throws -> [Int] {
        let (shape, values) = try decode(Gzip.readMaybeGzipped(path), path: path)
        guard shape.count == 1 else {
            throw OverparamError.format(path: path, problem:
                "expected IDX labels with 1 dimension but found \(shape.count) (shape \(shape)); for an images file (3-D) use readImages")
        }
        var labels: [Int] = []
        labels.reserveCapacity(values.count)
        for (k, v) in values.enumerated() {
            guard v.rounded() == v, abs(v) < 1e15 else {
                throw OverparamError.format(path: path, problem: "label \(k) is \(v), not an integer; pass an integer-valued labels file")
            }
            labels.append(Int(v))
        }
        return labels
    }

    /// Parse IDX bytes into their shape and row-major values.
    ///
    /// - Parameter path: Only used to name the culprit in error messages.
    /// - Throws: ``OverparamError/format(path:problem:)`` for bad magic, unknown type codes or truncation.
    public static func decode(_ data: Data, path: String) throws -> (shape: [Int], values: [Double]) {
        try data.withUnsafeBytes { raw in
            func fail(_ problem: String) -> OverparamError { .format(path: path, problem: problem) }
            guard raw.count >= 4, raw[0] == 0, raw[1] == 0 else {
                let head = raw.prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
                throw fail("not an IDX file (bad magic '\(head)', expected 00 00 <type> <ndim>); pass an MNIST-style file such as train-images-idx3-ubyte(.gz)")
            }
            let typeCode = raw[2]
            let ndim = Int(raw[3])
            let size: Int
            switch typeCode {
            case 0x08, 0x09: size = 1
            case 0x0B: size = 2
            case 0x0C, 0x0D: size = 4
            case 0x0E: size = 8
            default:
                throw fail("unknown IDX type code 0x\(String(typeCode, radix: 16)) (expected 08, 09, 0b, 0c, 0d or 0e); is this an IDX file?")
            }
            guard ndim >= 1 else { throw fail("IDX header declares 0 dimensions; the file is malformed, download it again") }
            let dataStart = 4 + 4 * ndim
            guard raw.count >= dataStart else {
                throw fail("file is truncated inside the IDX header (\(raw.count) bytes); download it again")
            }
            var shape: [Int] = []
            var count = 1
            var overflow = false
            for d in 0..<ndim {
                let n = Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 + 4 * d, as: UInt32.self)))
                shape.append(n)
                if !overflow { (count, overflow) = count.multipliedReportingOverflow(by: n) }
            }
            let available = raw.count - dataStart
            guard !overflow, count <= available / size else {
                throw fail("file is truncated: shape \(shape) needs \(count) values of \(size) byte(s) but only \(available) data bytes follow; download it again")
            }
            let body = UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + count * size)])
            let values: [Double] = switch typeCode {
            case 0x08: BinaryValues.decode(body, count, UInt8.self, bigEndian: true) { Double($0) }
            case 0x09: BinaryValues.decode(body, count, Int8.self, bigEndian: true) { Double($0) }
            case 0x0B: BinaryValues.decode(body, count, Int16.self, bigEndian: true) { Double($0) }
            case 0x0C: BinaryValues.decode(body, count, Int32.self, bigEndian: true) { Double($0) }
            case 0x0D: BinaryValues.decode(body, count, UInt32.self, bigEndian: true) { Double(Float(bitPattern: $0)) }
            default: BinaryValues.decode(body, count, UInt64.self, bigEndian: true) { Double(bitPattern: $0) }
            }
            return (shape, values)
        }
    }

    /// The bytes of an unsigned-byte (type `0x08`) IDX file; `bytes.count` must equal the product of `shape`.
    public static func encode(shape: [Int], bytes: [UInt8]) -> Data {
        precondition((1...255).contains(shape.count), "IDX.encode: 1 to 255 dimensions")
        precondition(shape.allSatisfy { (0...Int(UInt32.max)).contains($0) }, "IDX.encode: dimension out of range")
        precondition(shape.reduce(1, *) == bytes.count, "IDX.encode: bytes.count must equal the product of shape")
        var out = Data(capacity: 4 + 4 * shape.count + bytes.count)
        out.append(contentsOf: [0, 0, 0x08, UInt8(shape.count)])
        for n in shape { withUnsafeBytes(of: UInt32(n).bigEndian) { out.append(contentsOf: $0) } }
        out.append(contentsOf: bytes)
        return out
    }

}
