import Foundation

/// Numeric CSV files as ``Matrix`` values, with an optional header row.
///
/// Reading: fields are separated by commas (or tabs, or runs of spaces when the first line has no
/// comma or tab), blank lines are skipped, `\r\n` line ends and a UTF-8 BOM are accepted, and gzipped
/// files are decompressed transparently. A header line may start with `#` (as `np.savetxt` writes it).
/// Writing uses commas and the shortest representation of each `Double` that reads back exactly.
public enum CSVMatrix {
    /// Read a numeric CSV file (optionally gzipped).
    ///
    /// - Parameter hasHeader: `true`/`false` to force; `nil` treats the first line as a header when any
    ///   of its fields is not a number.
    /// - Returns: The header names (if any) and the rows as a matrix (0 rows for a header-only file).
    /// - Throws: ``OverparamError`` naming the file (and the line and column) for a missing or empty
    ///   file, ragged rows, or a field that is not a number.
    public static func read(_ path: String, hasHeader: Bool? = nil) throws -> (header: [String]?, matrix: Matrix) {
        try decode(Gzip.readMaybeGzipped(path), path: path, hasHeader: hasHeader)
    }

    /// Parse CSV bytes; see ``read(_:hasHeader:)``. `path` is only used in error messages.
    public static func decode(_ data: Data, path: String, hasHeader: Bool? = nil) throws -> (header: [String]?, matrix: Matrix) {
        func fail(_ problem: String) -> OverparamError { .format(path: path, problem: problem) }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte order mark

        var header: [String]?
        var delimiter: UInt8?          // nil: runs of spaces/tabs
        var decided = false            // delimiter and header settled by the first non-blank line
        var columns = 0
        var referenceLine = 0          // the line that fixed `columns`
        var rows = 0
        var storage: [Double] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var line = bytes[start..<end]
            start = end + 1
            line = trimmed(line)
            if line.isEmpty { continue }

            if !decided {
                decided = true
                delimiter = line.contains(0x2C) ? 0x2C : (line.contains(0x09) ? 0x09 : nil)
                let fields = split(line, by: delimiter)
                if hasHeader ?? fields.contains(where: { parse($0) == nil }) {
                    var headerLine = line
                    if headerLine.first == 0x23 { headerLine = trimmed(headerLine.dropFirst()) }  // "# a,b"
                    header = split(headerLine, by: delimiter).map(unquote)
                    columns = header!.count
                    referenceLine = lineNumber
                    continue
                }
                columns = fields.count
                referenceLine = lineNumber
            }

            let fields = split(line, by: delimiter)
            guard fields.count == columns else {
                let reference = header == nil ? "line \(referenceLine) has \(columns)" : "the header (line \(referenceLine)) has \(columns)"
                throw fail("line \(lineNumber) has \(fields.count) fields but \(reference); every row needs the same number of values")
            }
            for (j, field) in fields.enumerated() {
                guard let value = parse(field) else {
                    let text = String(decoding: field, as: UTF8.self)
                    let what = text.isEmpty ? "is empty" : "'\(text)' is not a number"
                    throw fail("line \(lineNumber), column \(j + 1): \(what); fix the value (write nan for a missing one)")
                }
                storage.append(value)
            }
            rows += 1
        }
        guard decided else { throw fail("file is empty; expected rows of comma-separated numbers") }
        return (header, Matrix(rows: rows, cols: columns, storage: storage))
    }

    /// The CSV text of `m`: an optional header line, then one comma-separated line per row.
    ///
    /// Numbers use Swift's shortest round-trip form (`"\(x)"`, e.g. `0.1`, `1e-05`, `nan`, `inf`);
    /// header names containing commas, quotes or line breaks are quoted. `header`, when given, must have
    /// `m.cols` names.
    public static func encode(_ m: Matrix, header: [String]?) -> String {
        precondition(header == nil || header!.count == m.cols, "CSVMatrix.encode: header needs one name per column")
        var text = ""
        if let header { text += header.map(quoted).joined(separator: ",") + "\n" }
        for i in 0..<m.rows {
            for j in 0..<m.cols {
                if j > 0 { text += "," }
                text += "\(m[i, j])"
            }
            text += "\n"
        }
        return text
    }

    /// Write `m` as CSV, atomically (see ``AtomicFile``).
    ///
    /// - Throws: ``OverparamError/invalidArgument(name:problem:)`` when `header` does not have one name
    ///   per column, ``OverparamError/file(path:problem:)`` when the file cannot be written.
    public static func write(_ m: Matrix, header: [String]? = nil, to path: String) throws {
        if let header, header.count != m.cols {
            throw OverparamError.invalidArgument(name: "header", problem:
                "has \(header.count) names but the matrix has \(m.cols) columns; pass one name per column")
        }
        try AtomicFile.write(Data(encode(m, header: header).utf8), to: path)
    }

    // MARK: - Helpers

    /// `line` without leading/trailing spaces, tabs and carriage returns.
    private static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        guard let first = line.firstIndex(where: { !isSpace($0) }), let last = line.lastIndex(where: { !isSpace($0) }) else {
            return line[line.startIndex..<line.startIndex]
        }
        return line[first...last]
    }

    /// Trimmed fields of `line`: split on `delimiter` outside double quotes, or on runs of blanks when nil.
    private static func split(_ line: ArraySlice<UInt8>, by delimiter: UInt8?) -> [ArraySlice<UInt8>] {
        guard let delimiter else {
            return line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
        }
        var fields: [ArraySlice<UInt8>] = []
        var fieldStart = line.startIndex
        var inQuotes = false
        for k in line.indices {
            if line[k] == 0x22 { inQuotes.toggle() }
            else if line[k] == delimiter, !inQuotes {
                fields.append(trimmed(line[fieldStart..<k]))
                fieldStart = k + 1
            }
        }
        fields.append(trimmed(line[fieldStart..<line.endIndex]))
        return fields
    }

    /// The number in `field` (optionally in double quotes), or nil.
    private static func parse(_ field: ArraySlice<UInt8>) -> Double? {
        var field = field
        if field.count >= 2, field.first == 0x22, field.last == 0x22 { field = trimmed(field.dropFirst().dropLast()) }
        return field.isEmpty ? nil : Double(String(decoding: field, as: UTF8.self))
    }

    /// A header name with surrounding double quotes removed and `""` unescaped.
    private static func unquote(_ field: ArraySlice<UInt8>) -> String {
        let text = String(decoding: field, as: UTF8.self)
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
    }

    /// A header name, quoted when it contains a comma, quote or line break.
    private static func quoted(_ name: String) -> String {
        guard name.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) || name.hasPrefix(" ") || name.hasSuffix(" ") else {
            return name
        }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
