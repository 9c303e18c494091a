/// Fixed-width numbers read from raw bytes (NPY is little-endian, IDX big-endian).
enum BinaryValues {
    /// Load `count` values of type `T` in the given byte order from `body` and map them to `Double`.
    @inline(__always)
    static func decode<T: FixedWidthInteger & BitwiseCopyable>(
        _ body: UnsafeRawBufferPointer, _ count: Int, _: T.Type, bigEndian: Bool, _ transform: (T) -> Double
    ) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { out, initialized in
            for k in 0..<count {
                let raw = body.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self)
                out[k] = transform(bigEndian ? T(bigEndian: raw) : T(littleEndian: raw))
            }
            initialized = count
        }
    }
}
