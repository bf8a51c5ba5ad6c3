// Encoding of requests and replies into distcc frames. The writers mirror the decoders in
// RequestDecoder.swift and ReplyDecoder.swift (distcc's dcc_x_* / dcc_r_* pairs).

import WireCompression

/// Appends distcc frames to a byte array.
public enum WireEncoder {
    /// Appends a 12-byte header: the token and `value` as 8 lowercase hex digits.
    public static func appendHeader(_ token: Token, _ value: UInt32, to out: inout [UInt8]) {
        FrameHeader.append(token.bytes, value, to: &out)
    }

    /// Appends a header whose value is the body length, then the body.
    public static func appendString(_ token: Token, _ body: some Collection<UInt8>, to out: inout [UInt8]) {
        appendHeader(token, UInt32(body.count), to: &out)
        out.append(contentsOf: body)
    }

    /// Everything of a request before its DOTI frame (its source is not looked at).
    public static func requestFields(_ request: Request) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + request.arguments.reduce(0) { $0 + $1.utf8.count + FrameHeader.size })
        appendHeader(.dist, request.version.rawValue, to: &out)
        appendHeader(.argc, UInt32(request.arguments.count), to: &out)
        for argument in request.arguments { appendString(.argv, argument.utf8, to: &out) }
        return out
    }

    /// Everything of a version 1 request up to and including the DOTI header, so a large source can be
    /// written from its own buffer without another copy.
    public static func requestHead(_ request: Request) -> [UInt8] {
        precondition(request.version == DistccVersion.plain, "a compressed body's length is known only once packed")
        var out = requestFields(request)
        appendHeader(.doti, UInt32(request.source.count), to: &out)
        return out
    }

    /// The DOTI frame of a request of `version`: its source packed as the version says.
    public static func sourceFrame(_ source: [UInt8], version: DistccVersion) -> [UInt8] {
        var out: [UInt8] = []
        appendString(.doti, BodyPacking.pack(source, version: version), to: &out)
        return out
    }

    /// A version 5 source piece: a DOTC frame, or the DOTI frame that ends the source when `last`. All pieces of
    /// one source go through one compressor; nothing is written for an empty piece that is not the last.
    public static func sourcePiece(_ piece: [UInt8], last: Bool, compressor: ZstdStreamCompressor) -> [UInt8] {
        if piece.isEmpty && !last { return [] }
        var out: [UInt8] = []
        appendString(last ? .doti : .dotc, compressor.compress(piece, last: last), to: &out)
        return out
    }

    /// Version 7: the question that stands for the source, a DOTH frame with the source's SHA-256.
    public static func sourceQuestion(digest: [UInt8]) -> [UInt8] {
        precondition(digest.count == Request.digestLength, "a source digest is a SHA-256")
        var out: [UInt8] = []
        appendString(.doth, digest, to: &out)
        return out
    }

    /// Version 7: the server's answer to a question when it has no result for it.
    public static let sourceNeeded: [UInt8] = {
        var out: [UInt8] = []
        appendHeader(.need, 0, to: &out)
        return out
    }()

    public static func encode(_ request: Request) -> [UInt8] {
        requestFields(request)
            + (request.sourceDigest.map(sourceQuestion) ?? sourceFrame(request.source, version: request.version))
    }

    public static func encode(_ reply: Reply) -> [UInt8] {
        let bodies = [reply.stderr, reply.stdout, reply.object].map { BodyPacking.pack($0, version: reply.version) }
        var out: [UInt8] = []
        out.reserveCapacity(5 * FrameHeader.size + bodies.reduce(0) { $0 + $1.count })
        appendHeader(.done, reply.version.rawValue, to: &out)
        appendHeader(.stat, reply.status, to: &out)
        for (token, body) in zip([Token.serr, .sout, .doto], bodies) { appendString(token, body, to: &out) }
        if reply.version.reportsLoad { appendString(.load, reply.load, to: &out) }
        return out
    }
}
