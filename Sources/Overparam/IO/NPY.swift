import Foundation

/// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0) as ``Matrix`` values.
///
/// Reading accepts little-endian `float64`, `float32`, signed/unsigned integers and `bool`, all
/// converted to `Double`; 0-D arrays become 1 x 1, 1-D arrays of length n become n x 1 columns.
/// Writing produces version 1.0, `'<f8'`, C order, exactly as `np.save` does. Gzipped files are
/// decompressed transparently.
public enum NPY {
    /// `\x93NUMPY`.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Read a `.npy` file (optionally gzipped) as a matrix.
    ///
    /// - Throws: ``OverparamError/file(path:problem:)`` if the file cannot be read,
    ///   ``OverparamError/format(path:problem:)`` for anything NumPy-specific that is not supported
    ///   (big-endian or non-numeric dtypes, Fortran order, more than 2 dimensions, truncation).
    public static func read(_ path: String) throws -> Matrix {
        try decode(Gzip.readMaybeGzipped(path), path: path)
    }

    /// Write `m` as a `.npy` file, atomically (see ``AtomicFile``).
    ///
    /// - Parameter asVector: Store a 1-D array of length `rows * cols` (row-major) instead of a 2-D one.
    public static func write(_ m: Matrix, to path: String, asVector: Bool = false) throws {
        try AtomicFile.write(encode(m, asVector: asVector), to: path)
    }

    /// The bytes of a version 1.0 `.npy` file holding `m` as little-endian `float64` in C order.
    ///
    /// The header is padded with spaces and ends in `\n` so the data starts at a multiple of 64 bytes.
    /// - Parameter asVector: Use shape `(rows * cols,)` instead of `(rows, cols)`.
    public static func encode(_ m: Matrix, asVector: Bool = false) -> Data {
        encode(m, shape: asVector ? [m.count] : [m.rows, m.cols])
    }

    /// Write row-major `values` as an array of any `shape` (e.g. an n x n x n kernel tensor), atomically.
    public static func write(_ values: [Double], shape: [Int], to path: String) throws {
        guard shape.reduce(1, *) == values.count else {
            throw OverparamError.shapeMismatch("\(values.count) values do not fill the shape \(shape)")
        }
        try AtomicFile.write(encode(Matrix(rows: 1, cols: values.count, storage: values), shape: shape), to: path)
    }

    static func encode(_ m: Matrix, shape dims: [Int]) -> Data {
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let headerBytes = Array(header.utf8)

        var out = Data(capacity: magic.count + 4 + headerBytes.count + 8 * m.count)
        out.append(contentsOf: magic)
        out.append(contentsOf: [1, 0, UInt8(headerBytes.count & 0xFF), UInt8(headerBytes.count >> 8)])
        out.append(contentsOf: headerBytes)
        m.storage.withUnsafeBufferPointer { values in
            #if _endian(little)
            out.append(values)
            #else
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Parse the bytes of a `.npy` file.
    ///
    /// - Parameter path: Only used to name the culprit in error messages.
    /// - Throws: ``OverparamError/format(path:problem:)`` with a one-line reason and fix.
    public static func decode(_ data: Data, path: String) throws -> Matrix {
        try data.withUnsafeBytes { try decode(raw: $0, path: path) }
    }

    // MARK: - Decoding

    private static func decode(raw: UnsafeRawBufferPointer, path: String) throws -> Matrix {
        func fail(_ problem: String) -> OverparamError { .format(path: path, problem: problem) }

        guard raw.count >= 10, raw.prefix(6).elementsEqual(magic) else {
            if raw.count >= 4, raw.prefix(4).elementsEqual([0x50, 0x4B, 0x03, 0x04]) {
                throw fail("is a .npz archive, not a .npy file; save one array with np.save(path, arr)")
            }
            throw fail("not a .npy file (missing the \\x93NUMPY magic); save the array with np.save(path, arr)")
        }
        let (major, minor) = (raw[6], raw[7])
        let headerStart: Int
        let headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(raw[8]) | Int(raw[9]) << 8
        case 2, 3:
            guard raw.count >= 12 else { throw fail("file is truncated inside the .npy header; save it again") }
            headerStart = 12
            headerLength = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
        default:
            throw fail("unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0); save it with np.save")
        }
        guard headerLength <= raw.count - headerStart else {
            throw fail("file is truncated inside the .npy header; save it again")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[headerStart..<(headerStart + headerLength)])
        let headerText = major == 3
            ? String(decoding: headerBytes, as: UTF8.self)
            : String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))  // latin-1
        let header = try Header(parsing: headerText, fail: fail)
        let element = try Element(descr: header.descr, fail: fail)

        let shape = header.shape
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        let (rows, cols): (Int, Int)
        switch shape.count {
        case 0: (rows, cols) = (1, 1)
        case 1: (rows, cols) = (shape[0], 1)
        case 2: (rows, cols) = (shape[0], shape[1])
        default:
            throw fail("array has shape \(shapeText) with \(shape.count) dimensions; only 0-, 1- and 2-D arrays are supported, reshape it first (e.g. arr.reshape(len(arr), -1))")
        }
        // Fortran order only changes the layout when both dimensions exceed 1.
        if header.fortranOrder, rows > 1, cols > 1 {
            throw fail("array of shape \(shapeText) is stored in Fortran (column-major) order; save it with np.save(path, np.ascontiguousarray(arr))")
        }
        let (count, countOverflow) = rows.multipliedReportingOverflow(by: cols)
        let (byteCount, bytesOverflow) = count.multipliedReportingOverflow(by: element.size)
        let dataStart = headerStart + headerLength
        guard !countOverflow, !bytesOverflow, byteCount <= raw.count - dataStart else {
            throw fail("file is truncated: shape \(shapeText) of '\(header.descr)' needs \(byteCount) data bytes but only \(raw.count - dataStart) follow the header; copy or save the file again")
        }
        let body = UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + byteCount)])
        return Matrix(rows: rows, cols: cols, storage: element.values(body, count: count))
    }

    /// The parsed `{'descr': ..., 'fortran_order': ..., 'shape': ...}` header dictionary.
    private struct Header {
        var descr: String
        var fortranOrder: Bool
        var shape: [Int]

        init(parsing text: String, fail: (String) -> OverparamError) throws {
            var parser = PyLiteralParser(text)
            guard case let .dict(entries)? = parser.parseValue() else {
                throw fail("malformed .npy header \(text.trimmingCharacters(in: .whitespacesAndNewlines)); save the file again with np.save")
            }
            let fields = Dictionary(entries, uniquingKeysWith: { _, last in last })
            switch fields["descr"] {
            case let .string(descr)?: self.descr = descr
            case .sequence?: throw fail("structured (record) arrays are not supported; save a plain numeric array, e.g. np.save(path, arr.astype(np.float64))")
            default: throw fail("the .npy header has no 'descr' string; save the file again with np.save")
            }
            guard case let .bool(fortranOrder)? = fields["fortran_order"] else {
                throw fail("the .npy header has no 'fortran_order' flag; save the file again with np.save")
            }
            self.fortranOrder = fortranOrder
            guard case let .sequence(items)? = fields["shape"] else {
                throw fail("the .npy header has no 'shape' tuple; save the file again with np.save")
            }
            var shape: [Int] = []
            for item in items {
                guard case let .int(n) = item, n >= 0 else {
                    throw fail("the .npy header has an invalid 'shape'; save the file again with np.save")
                }
                shape.append(n)
            }
            self.shape = shape
        }
    }

    /// The supported element types, named after their NumPy dtype kinds.
    private enum Element {
        case float64, float32, int64, int32, int16, int8, uint64, uint32, uint16, uint8, bool

        var size: Int {
            switch self {
            case .float64, .int64, .uint64: 8
            case .float32, .int32, .uint32: 4
            case .int16, .uint16: 2
            case .int8, .uint8, .bool: 1
            }
        }

        init(descr: String, fail: (String) -> OverparamError) throws {
            var rest = Substring(descr)
            var order: Character = "="
            if let first = rest.first, "<>|=".contains(first) { order = first; rest = rest.dropFirst() }
            if rest.first == "O" {
                throw fail("object arrays (dtype '\(descr)') cannot be read; save a numeric array, e.g. np.save(path, arr.astype(np.float64))")
            }
            guard let kind = rest.first, let size = Int(rest.dropFirst()) else {
                throw fail("unsupported dtype '\(descr)'; save a numeric array, e.g. np.save(path, arr.astype(np.float64))")
            }
            if order == ">", size > 1 {
                throw fail("big-endian dtype '\(descr)' is not supported; save it with np.save(path, arr.astype('<\(kind)\(size)'))")
            }
            switch (kind, size) {
            case ("f", 8): self = .float64
            case ("f", 4): self = .float32
            case ("i", 8): self = .int64
            case ("i", 4): self = .int32
            case ("i", 2): self = .int16
            case ("i", 1): self = .int8
            case ("u", 8): self = .uint64
            case ("u", 4): self = .uint32
            case ("u", 2): self = .uint16
            case ("u", 1): self = .uint8
            case ("b", 1): self = .bool
            case ("c", _):
                throw fail("complex dtype '\(descr)' is not supported; save the real part, e.g. np.save(path, arr.real)")
            default:
                throw fail("unsupported dtype '\(descr)'; save it as float64, e.g. np.save(path, arr.astype(np.float64))")
            }
        }

        /// `count` little-endian elements from `body`, converted to `Double`.
        func values(_ body: UnsafeRawBufferPointer, count: Int) -> [Double] {
            switch self {
            case .float64: BinaryValues.decode(body, count, UInt64.self, bigEndian: false) { Double(bitPattern: $0) }
            case .float32: BinaryValues.decode(body, count, UInt32.self, bigEndian: false) { Double(Float(bitPattern: $0)) }
            case .int64: BinaryValues.decode(body, count, Int64.self, bigEndian: false) { Double($0) }
            case .int32: BinaryValues.decode(body, count, Int32.self, bigEndian: false) { Double($0) }
            case .int16: BinaryValues.decode(body, count, Int16.self, bigEndian: false) { Double($0) }
            case .int8: BinaryValues.decode(body, count, Int8.self, bigEndian: false) { Double($0) }
            case .uint64: BinaryValues.decode(body, count, UInt64.self, bigEndian: false) { Double($0) }
            case .uint32: BinaryValues.decode(body, count, UInt32.self, bigEndian: false) { Double($0) }
            case .uint16: BinaryValues.decode(body, count, UInt16.self, bigEndian: false) { Double($0) }
            case .uint8: BinaryValues.decode(body, count, UInt8.self, bigEndian: false) { Double($0) }
            case .bool: BinaryValues.decode(body, count, UInt8.self, bigEndian: false) { $0 == 0 ? 0 : 1 }
            }
        }
    }

}

/// The subset of Python literals found in `.npy` headers: strings, integers, booleans, `None`,
/// tuples/lists and dictionaries with string keys.
private enum PyLiteral {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case sequence([PyLiteral])
    case dict([(String, PyLiteral)])
}

/// A tiny recursive-descent parser for ``PyLiteral``; `nil` means malformed input.
private struct PyLiteralParser {
    private let chars: [Character]
    private var i = 0

    init(_ text: String) { chars = Array(text) }

    mutating func parseValue() -> PyLiteral? {
        skipSpace()
        guard i < chars.count else { return nil }
        switch chars[i] {
        case "{": return parseDict()
        case "(": return parseSequence(closing: ")")
        case "[": return parseSequence(closing: "]")
        case "'", "\"": return parseString().map(PyLiteral.string)
        case "-", "0"..."9": return parseInt()
        default:
            var word = ""
            while i < chars.count, chars[i].isLetter || chars[i] == "_" { word.append(chars[i]); i += 1 }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return PyLiteral.none
            default: return nil
            }
        }
    }

    private mutating func skipSpace() {
        while i < chars.count, chars[i].isWhitespace { i += 1 }
    }

    /// Consume `c` (after spaces) if it is next.
    private mutating func accept(_ c: Character) -> Bool {
        skipSpace()
        guard i < chars.count, chars[i] == c else { return false }
        i += 1
        return true
    }

    private mutating func parseString() -> String? {
        let quote = chars[i]
        i += 1
        var s = ""
        while i < chars.count, chars[i] != quote {
            if chars[i] == "\\" { i += 1; guard i < chars.count else { return nil } }
            s.append(chars[i])
            i += 1
        }
        guard i < chars.count else { return nil }
        i += 1
        return s
    }

    private mutating func parseInt() -> PyLiteral? {
        var digits = ""
        if chars[i] == "-" { digits = "-"; i += 1 }
        while i < chars.count, ("0"..."9").contains(chars[i]) { digits.append(chars[i]); i += 1 }
        if i < chars.count, chars[i] == "L" || chars[i] == "l" { i += 1 }  // Python 2 long suffix
        return Int(digits).map(PyLiteral.int)
    }

    /// `( a, b, )` or `[ a, b ]`, trailing comma allowed.
    private mutating func parseSequence(closing: Character) -> PyLiteral? {
        i += 1
        var items: [PyLiteral] = []
        while true {
            if accept(closing) { return .sequence(items) }
            guard let item = parseValue() else { return nil }
            items.append(item)
            if accept(closing) { return .sequence(items) }
            guard accept(",") else { return nil }
        }
    }

    /// `{ 'key': value, ... }`, trailing comma allowed.
    private mutating func parseDict() -> PyLiteral? {
        i += 1
        var entries: [(String, PyLiteral)] = []
        while true {
            if accept("}") { return .dict(entries) }
            guard case let .string(key)? = parseValue(), accept(":"), let value = parseValue() else { return nil }
            entries.append((key, value))
            if accept("}") { return .dict(entries) }
            guard accept(",") else { return nil }
        }
    }
}
