// One zstd frame written and read in pieces, for a source that is sent while it is still being produced
// (distcc protocol 5, Docs/protocol.md). Each piece is flushed, so the receiver can decode all of it at
// once; the window carries over between pieces, so the ratio stays that of one frame. The reader treats
// its input as hostile like `Zstd.decompress`: output capped, a bounded window, exactly one frame.

import CZstd

/// Compresses a source piece by piece into one frame with a content checksum.
public final class ZstdStreamCompressor {
    private let context: OpaquePointer
    /// Nothing has been compressed yet: an empty source ends as zero bytes (protocol rule).
    private var untouched = true

    public init() {
        context = ZSTD_createCCtx()
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Zstd.level)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    }

    deinit { ZSTD_freeCCtx(context) }

    /// `piece` compressed and flushed; with `last`, the frame's end follows it.
    public func compress(_ piece: [UInt8], last: Bool) -> [UInt8] {
        if untouched && piece.isEmpty && last { return [] }
        untouched = false
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(ZSTD_CStreamOutSize(), ZSTD_compressBound(piece.count)))
        piece.withUnsafeBytes { source in
            var input = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
            while true {
                let remaining = chunk.withUnsafeMutableBytes { out in
                    var buffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let result = ZSTD_compressStream2(context, &buffer, &input, last ? ZSTD_e_end : ZSTD_e_flush)
                    precondition(ZSTD_isError(result) == 0, "zstd: \(String(cString: ZSTD_getErrorName(result)))")
                    output.append(contentsOf: out[0..<buffer.pos])
                    return result
                }
                if remaining == 0 { break }
            }
        }
        return output
    }
}

/// Decompresses one frame fed in pieces, at most `limit` bytes in all.
public final class ZstdStreamDecompressor {
    /// A window of 2^23 bytes (8 MiB) is far above what level 1 uses (2^19 for large inputs) and bounds
    /// the memory a hostile frame can make a server allocate (zstd's own default allows 128 MiB).
    public static let windowLogMax: Int32 = 23

    private let context: OpaquePointer
    private let limit: Int
    private var produced = 0
    private var consumed = 0
    /// The frame's last block and checksum have been read (and checked).
    public private(set) var finished = false

    public init(limit: Int) {
        self.limit = limit
        context = ZSTD_createDCtx()
        _ = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
    }

    deinit { ZSTD_freeDCtx(context) }

    /// The text `piece` decodes to; throws on damage, bytes after the frame or more than `limit` bytes.
    public func decompress(_ piece: [UInt8]) throws(DecompressionError) -> [UInt8] {
        guard !piece.isEmpty else { return [] }
        if finished { throw .corrupt("\(piece.count) bytes after the zstd frame") }
        consumed += piece.count
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        var failure: DecompressionError?
        piece.withUnsafeBytes { source in
            var input = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
            while failure == nil {
                let (result, filled) = chunk.withUnsafeMutableBytes { out in
                    var buffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let result = ZSTD_decompressStream(context, &buffer, &input)
                    if ZSTD_isError(result) == 0 { output.append(contentsOf: out[0..<buffer.pos]) }
                    return (result, buffer.pos)
                }
                if ZSTD_isError(result) != 0 {
                    failure = .corrupt("zstd: " + String(cString: ZSTD_getErrorName(result)))
                } else if produced + output.count > limit {
                    failure = .overLimit(size: nil, limit: limit)
                } else if result == 0 {
                    finished = true
                    if input.pos < input.size {
                        failure = .corrupt("\(input.size - input.pos) bytes after the zstd frame")
                    }
                    break
                } else if input.pos == input.size && filled < chunk.count {
                    break  // everything given is decoded; the frame goes on in the next piece
                }
            }
        }
        if let failure { throw failure }
        produced += output.count
        return output
    }

    /// Call after the last piece: throws unless exactly one whole frame came (or nothing at all).
    public func finish() throws(DecompressionError) {
        guard finished || consumed == 0 else { throw .corrupt("the zstd frame is cut short") }
    }
}
