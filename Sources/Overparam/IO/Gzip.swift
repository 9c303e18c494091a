import CZlib
import Foundation

/// gzip compression and decompression through zlib, for `.gz` data files.
public enum Gzip {
    /// Output grows in chunks of this many bytes.
    private static let chunkSize = 1 << 16
    /// zlib's `avail_in` / `avail_out` are 32-bit; larger buffers are fed in pieces.
    private static let maxPiece = Int(UInt32.max)

    /// True when `data` starts with the gzip magic bytes `1f 8b`.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Read the file at `path`, decompressing it when it is gzip-compressed (starts with `1f 8b`).
    ///
    /// - Throws: ``OverparamError/file(path:problem:)`` when the file is missing or unreadable,
    ///   ``OverparamError/format(path:problem:)`` when the gzip stream is corrupt or truncated.
    public static func readMaybeGzipped(_ path: String) throws -> Data {
        let data = try AtomicFile.read(path)
        return isGzip(data) ? try decompress(data, path: path) : data
    }

    /// Decompress a gzip (or zlib) stream; concatenated gzip members are joined, as `gunzip` does.
    ///
    /// - Parameter path: Only used to name the culprit in error messages.
    /// - Throws: ``OverparamError/format(path:problem:)`` for corrupt or truncated input.
    public static func decompress(_ data: Data, path: String) throws -> Data {
        func fail(_ problem: String) -> OverparamError { .format(path: path, problem: problem) }
        guard !data.isEmpty else { throw fail("empty input, not a gzip stream; check the file") }

        var stream = z_stream()
        // 15 + 32: maximum window, automatic gzip/zlib header detection.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start decompressing (out of memory?)")
        }
        defer { inflateEnd(&stream) }

        var output = Data()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            let base = input.bindMemory(to: Bytef.self).baseAddress!
            var fed = 0  // bytes of `input` handed to zlib so far
            while true {
                if stream.avail_in == 0, fed < input.count {
                    let piece = Swift.min(input.count - fed, maxPiece)
                    stream.next_in = UnsafeMutablePointer(mutating: base + fed)
                    stream.avail_in = uInt(piece)
                    fed += piece
                }
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    output.append(out.baseAddress!, count: out.count - Int(stream.avail_out))
                    stream.next_out = nil
                    return status
                }
                let unread = Int(stream.avail_in) + (input.count - fed)
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    // Another gzip member follows (as written by `cat a.gz b.gz`)? Otherwise ignore trailing bytes.
                    let next = input.count - unread
                    guard unread >= 2, input[next] == 0x1f, input[next + 1] == 0x8b else { return }
                    guard inflateReset(&stream) == Z_OK else { throw fail("zlib could not restart for the next gzip member") }
                case Z_BUF_ERROR where unread == 0:
                    throw fail("gzip data is truncated (ends before the end of the compressed stream); download or copy the file again")
                case Z_NEED_DICT, Z_DATA_ERROR:
                    let detail = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw fail("gzip data is corrupt (\(detail)); download or copy the file again")
                case Z_MEM_ERROR:
                    throw fail("out of memory while decompressing")
                default:
                    throw fail("zlib inflate failed with status \(status)")
                }
            }
        }
        return output
    }

    /// Compress `data` into a single gzip member (default compression level).
    ///
    /// - Throws: ``OverparamError/format(path:problem:)`` (path `"<gzip>"`) only if zlib itself fails (out of memory).
    public static func compress(_ data: Data) throws -> Data {
        func fail(_ problem: String) -> OverparamError { .format(path: "<gzip>", problem: problem) }
        var stream = z_stream()
        // 15 + 16: maximum window, gzip wrapper; memLevel 8 is zlib's default.
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                             ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start compressing (out of memory?)")
        }
        defer { deflateEnd(&stream) }

        var output = Data()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            // Empty input leaves next_in == NULL with avail_in == 0, which zlib accepts.
            let base = input.bindMemory(to: Bytef.self).baseAddress
            var fed = 0
            while true {
                if stream.avail_in == 0, fed < input.count, let base {
                    let piece = Swift.min(input.count - fed, maxPiece)
                    stream.next_in = UnsafeMutablePointer(mutating: base + fed)
                    stream.avail_in = uInt(piece)
                    fed += piece
                }
                let flush = fed == input.count ? Z_FINISH : Z_NO_FLUSH
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let status = deflate(&stream, flush)
                    output.append(out.baseAddress!, count: out.count - Int(stream.avail_out))
                    stream.next_out = nil
                    return status
                }
                switch status {
                case Z_STREAM_END: return
                case Z_OK, Z_BUF_ERROR: continue
                default: throw fail("zlib deflate failed with status \(status)")
                }
            }
        }
        return output
    }
}
