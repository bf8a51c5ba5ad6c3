// Bodies as the protocol version carries them: as they are (1), LZO1X (2) or zstd (4, 5). An empty body is
// always sent as zero bytes, never as a compressed empty stream (distcc's rule: compression would grow it).

import WireCompression

enum BodyPacking {
    static func pack(_ body: [UInt8], version: UInt32) -> [UInt8] {
        guard !body.isEmpty else { return body }
        switch version {
        case ProtocolVersion.lzo: return LZO.compress(body)
        case ProtocolVersion.zstd, ProtocolVersion.zstdStreamed: return Zstd.compress(body)
        default: return body
        }
    }

    /// The body as it was before packing, at most `limit` bytes.
    static func unpack(_ body: [UInt8], version: UInt32, token: Token, limit: Int) throws(WireError) -> [UInt8] {
        guard !body.isEmpty else { return body }
        do {
            switch version {
            case ProtocolVersion.lzo: return try LZO.decompress(body, limit: limit)
            case ProtocolVersion.zstd, ProtocolVersion.zstdStreamed: return try Zstd.decompress(body, limit: limit)
            default: return body
            }
        } catch {
            throw .badBody(token: token, reason: error.description)
        }
    }
}
