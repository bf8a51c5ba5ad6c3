// The two compressors distcc bodies travel with: LZO1X-1 (distcc protocol 2, every stock distccd) and
// zstd (protocol 4, sshccd). Pure byte-to-byte functions over liblzo2 and libzstd. Decompression treats
// its input as hostile: the output is capped, and anything but exactly one well-formed stream is refused.
// LZO1X has no checksum: a damaged literal decodes to different bytes (found by the tests). Over SSH the
// transport's MAC rules that out; over distcc's plain TCP nothing does.

import CLZO
import CZstd

/// Why a compressed body was refused.
public enum DecompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a valid stream of this method (garbage, cut short, trailing bytes).
    case corrupt(String)
    /// It would decompress to more than the caller allows (`size` when the stream says how much).
    case overLimit(size: Int?, limit: Int)

    public var description: String {
        switch self {
        case .corrupt(let why): "corrupt compressed data: \(why)"
        case .overLimit(let size?, let limit): "decompresses to \(size) bytes, over the limit of \(limit)"
        case .overLimit(nil, let limit): "decompresses to more than the limit of \(limit) bytes"
        }
    }
}

public enum Zstd {
    /// Level 1: on preprocessed C it gives 9–16 % of the raw size at several hundred MB/s (Docs/performance.md);
    /// higher levels save a few percent more for twice the time.
    public static let level: Int32 = 1

    /// One frame with its size and a checksum of the content: LZO has no check at all, zstd alone would
    /// catch most but not all damage; this way a damaged body is always refused, never compiled.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        let capacity = ZSTD_compressBound(input.count)
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        return [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
            let written = input.withUnsafeBytes {
                ZSTD_compress2(context, out.baseAddress, capacity, $0.baseAddress, $0.count)
            }
            // Compressing into compressBound() bytes cannot fail short of a broken library.
            precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
            count = written
        }
    }

    /// One zstd frame that records its size (as `compress` writes), at most `limit` bytes when decompressed.
    public static func decompress(_ input: [UInt8], limit: Int) throws(DecompressionError) -> [UInt8] {
        let (declared, frameLength) = input.withUnsafeBytes {
            (ZSTD_getFrameContentSize($0.baseAddress, $0.count), ZSTD_findFrameCompressedSize($0.baseAddress, $0.count))
        }
        if declared == ZSTD_CONTENTSIZE_ERROR { throw .corrupt("not a zstd frame") }
        if declared == ZSTD_CONTENTSIZE_UNKNOWN { throw .corrupt("the zstd frame does not record its size") }
        guard declared <= UInt64(limit) else { throw .overLimit(size: Int(clamping: declared), limit: limit) }
        if ZSTD_isError(frameLength) != 0 { throw .corrupt(errorName(frameLength)) }
        guard frameLength == input.count else {
            throw .corrupt("\(input.count - frameLength) bytes after the zstd frame")
        }
        let size = Int(declared)
        var failure: DecompressionError?
        let output = [UInt8](unsafeUninitializedCapacity: size) { out, count in
            let result = input.withUnsafeBytes { ZSTD_decompress(out.baseAddress, size, $0.baseAddress, $0.count) }
            if ZSTD_isError(result) != 0 {
                failure = .corrupt(errorName(result))
            } else if result != size {
                failure = .corrupt("the frame holds \(result) bytes, its header says \(size)")
            }
            count = failure == nil ? result : 0
        }
        if let failure { throw failure }
        return output
    }

    private static func errorName(_ code: Int) -> String { "zstd: " + String(cString: ZSTD_getErrorName(code)) }
}

public enum LZO {
    /// lzo_init checks that the library was built with this program's type sizes; once per process.
    private static let ready: Bool = sshcc_lzo_init() == LZO_E_OK

    public static func compress(_ input: [UInt8]) -> [UInt8] {
        precondition(ready, "liblzo2 does not match its header (lzo_init failed)")
        // LZO1X's documented worst case: incompressible input grows by 1/16 plus 67 bytes.
        let capacity = input.count + input.count / 16 + 64 + 3
        let work = UnsafeMutableRawPointer.allocate(byteCount: Int(sshcc_lzo1x_1_work_size()), alignment: 16)
        defer { work.deallocate() }
        return [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
            var written = lzo_uint(capacity)
            let status = input.withUnsafeBytes {
                lzo1x_1_compress(
                    $0.baseAddress?.assumingMemoryBound(to: UInt8.self), lzo_uint($0.count),
                    out.baseAddress, &written, work)
            }
            precondition(status == LZO_E_OK, "lzo1x_1_compress failed: \(status)")
            count = Int(written)
        }
    }

    /// An LZO1X stream, at most `limit` bytes when decompressed. LZO does not record the size, so the output
    /// buffer starts at 8× the input and doubles while the stream overruns it, up to the limit.
    public static func decompress(_ input: [UInt8], limit: Int) throws(DecompressionError) -> [UInt8] {
        precondition(ready, "liblzo2 does not match its header (lzo_init failed)")
        var capacity = min(limit, max(64 * 1024, input.count * 8))
        while true {
            var status: Int32 = LZO_E_OK
            let output = [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
                var written = lzo_uint(capacity)
                status = input.withUnsafeBytes {
                    lzo1x_decompress_safe(
                        $0.baseAddress?.assumingMemoryBound(to: UInt8.self), lzo_uint($0.count),
                        out.baseAddress, &written, nil)
                }
                count = status == LZO_E_OK ? Int(written) : 0
            }
            switch status {
            case LZO_E_OK: return output
            case LZO_E_OUTPUT_OVERRUN:
                guard capacity < limit else { throw .overLimit(size: nil, limit: limit) }
                capacity = capacity > limit / 2 ? limit : capacity * 2
            case LZO_E_INPUT_OVERRUN: throw .corrupt("the LZO stream is cut short")
            case LZO_E_INPUT_NOT_CONSUMED: throw .corrupt("bytes after the end of the LZO stream")
            default: throw .corrupt("not an LZO1X stream (liblzo2 error \(status))")
            }
        }
    }
}
