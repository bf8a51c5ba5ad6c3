// Bodies as the protocol version carries them: as they are (1), LZO1X (2) or zstd (4, 5). An empty body is
// always sent as zero bytes, never as a compressed empty stream (distcc's rule: compression would grow it).

import CompileCore
import WireCompression

enum BodyPacking {
    static func pack(_ body: [UInt8], version: DistccVersion) -> [UInt8] {
        guard !body.isEmpty else { return body }
        switch version.compression {
        case .lzo: return LZO.compress(body)
        case .zstd: return Zstd.compress(body)
        case .plain: return body
        }
    }

    /// The body as it was before packing, at most `limit` bytes.
    static func unpack(_ body: [UInt8], version: DistccVersion, token: Token, limit: Int) throws(WireError) -> [UInt8] {
        guard !body.isEmpty else { return body }
        do {
            switch version.compression {
            case .lzo: return try LZO.decompress(body, limit: limit)
            case .zstd: return try Zstd.decompress(body, limit: limit)
            case .plain: return body
            }
        } catch {
            throw .badBody(token: token, reason: error.description)
        }
    }
}
