// Incremental decoding of requests, as a server reads them: append bytes as they arrive, then ask for the
// next complete request. Many requests may follow each other on one stream (one channel, many jobs).
// A version 5 source comes in pieces (DOTC… DOTI) that are decompressed as they arrive.

import WireCompression

/// Decodes a stream of requests. `next()` returns nil while more bytes are needed.
public struct RequestDecoder {
    private enum Step {
        case dist
        case argc(version: DistccVersion)
        case argvHeader(version: DistccVersion, count: Int, arguments: [String])
        case argvBody(version: DistccVersion, count: Int, arguments: [String], length: Int)
        case dotiHeader(version: DistccVersion, arguments: [String])
        case dotiBody(version: DistccVersion, arguments: [String], length: Int)
        /// Version 5: a piece of the source (DOTC), or its last piece (DOTI).
        case pieceBody(version: DistccVersion, arguments: [String], length: Int, last: Bool)
        /// Version 7: the source's digest (DOTH) in place of the source.
        case digestBody(version: DistccVersion, arguments: [String])
        /// Version 7: the question was returned; nothing more is read until the server has answered it.
        case asked(version: DistccVersion, arguments: [String])
    }

    /// A version 5 source so far: its decompressor and the text decoded from the pieces already read.
    private struct StreamedSource {
        let decompressor: ZstdStreamDecompressor
        var text: [UInt8] = []
        var compressedBytes = 0
    }

    private var reader = FrameReader()
    private var step = Step.dist
    private var streamed: StreamedSource?
    /// This request's question was answered with `NEED`: its source must follow, and no second question.
    private var sourceNeeded = false
    public let limits: WireLimits

    public init(limits: WireLimits = .default) { self.limits = limits }

    public mutating func append(_ bytes: some Sequence<UInt8>) { reader.append(bytes) }

    /// Bytes received and not yet decoded.
    public var bufferedCount: Int { reader.bufferedCount }

    /// True between requests with nothing buffered: the place where a peer may close cleanly.
    public var isAtBoundary: Bool {
        if case .dist = step { return reader.bufferedCount == 0 }
        return false
    }

    /// The command line of the request being read, once all of it has arrived and while its source has not:
    /// a server can get the compiler ready meanwhile.
    public var pendingArguments: [String]? {
        switch step {
        case .dotiHeader(_, let arguments), .dotiBody(_, let arguments, _), .pieceBody(_, let arguments, _, _),
            .digestBody(_, let arguments), .asked(_, let arguments):
            arguments
        default: nil
        }
    }

    /// What the decoder waits for, in words, for logs and truncation errors.
    public var expecting: String {
        switch step {
        case .dist: "a request (DIST)"
        case .argc: "the argument count (ARGC)"
        case .argvHeader(_, let count, let arguments), .argvBody(_, let count, let arguments, _):
            "argument \(arguments.count + 1) of \(count) (ARGV)"
        case .dotiHeader: "the preprocessed source (DOTI)"
        case .dotiBody(_, _, let length): "\(length) bytes of preprocessed source (DOTI)"
        case .pieceBody(_, _, let length, let last):
            "\(length) bytes of preprocessed source (\(last ? "DOTI" : "DOTC"), after \(streamed?.compressedBytes ?? 0))"
        case .digestBody: "the source's digest (DOTH)"
        case .asked: "the server's answer to the source's digest"
        }
    }

    /// Call when the stream has ended: throws `.truncated` unless the decoder is between requests.
    public func finish() throws(WireError) {
        guard isAtBoundary else { throw .truncated(expecting: expecting, bufferedBytes: reader.bufferedCount) }
    }

    /// The server answered a question (a request with `sourceDigest`): with a reply (`needSource` false: the
    /// request is over), or with `NEED` (its source follows, as in version 5).
    public mutating func answered(needSource: Bool) {
        guard case .asked(let version, let arguments) = step else {
            preconditionFailure("answered(needSource:) without a question")
        }
        sourceNeeded = needSource
        step = needSource ? .dotiHeader(version: version, arguments: arguments) : .dist
    }

    /// The next complete request, or nil when more bytes are needed. After an error the decoder is unusable:
    /// the stream has lost its framing and must be closed.
    public mutating func next() throws(WireError) -> Request? {
        while true {
            switch step {
            case .dist:
                guard let raw = try reader.readHeader(expecting: .dist) else { return nil }
                let version = DistccVersion(rawValue: raw)
                guard limits.versions.contains(version) else {
                    throw .unsupportedVersion(token: .dist, version: raw, speaks: limits.versions)
                }
                step = .argc(version: version)
            case .argc(let version):
                guard let count = try reader.readHeader(expecting: .argc) else { return nil }
                guard Int(count) <= limits.maxArgumentCount else {
                    throw .overLimit(what: "argument count (ARGC)", value: Int(count), limit: limits.maxArgumentCount)
                }
                guard count > 0 else { throw .overLimit(what: "argument count (ARGC, at least 1)", value: 0, limit: 1) }
                step = .argvHeader(version: version, count: Int(count), arguments: [])
            case .argvHeader(let version, let count, let arguments):
                if arguments.count == count {
                    step = .dotiHeader(version: version, arguments: arguments)
                    continue
                }
                guard let length = try reader.readHeader(expecting: .argv) else { return nil }
                guard Int(length) <= limits.maxArgumentLength else {
                    throw .overLimit(
                        what: "length of argument \(arguments.count + 1) (ARGV)", value: Int(length),
                        limit: limits.maxArgumentLength)
                }
                step = .argvBody(version: version, count: count, arguments: arguments, length: Int(length))
            case .argvBody(let version, let count, var arguments, let length):
                guard let body = reader.readBody(count: length) else { return nil }
                arguments.append(try Self.argument(body, index: arguments.count + 1))
                step = .argvHeader(version: version, count: count, arguments: arguments)
            case .dotiHeader(let version, let arguments):
                if version.streamsSource {
                    let tokens: [Token] = version.asksFirst && !sourceNeeded ? [.doti, .dotc, .doth] : [.doti, .dotc]
                    guard let (token, length) = try reader.readHeader(expectingOneOf: tokens) else { return nil }
                    if token == .doth {
                        // Only before any piece of the source: a question is asked instead of sending it.
                        guard streamed == nil, Int(length) == Request.digestLength else {
                            throw .badBody(
                                token: .doth,
                                reason: streamed == nil
                                    ? "\(length) bytes where a SHA-256 digest (32) belongs"
                                    : "after pieces of the source")
                        }
                        step = .digestBody(version: version, arguments: arguments)
                        continue
                    }
                    let source =
                        streamed ?? StreamedSource(decompressor: ZstdStreamDecompressor(limit: limits.maxSourceLength))
                    guard source.compressedBytes + Int(length) <= limits.maxSourceLength else {
                        throw .overLimit(
                            what: "preprocessed source length (DOTC and DOTI)",
                            value: source.compressedBytes + Int(length),
                            limit: limits.maxSourceLength)
                    }
                    if token == .dotc && length == 0 { throw .badBody(token: .dotc, reason: "an empty piece") }
                    streamed = source
                    step = .pieceBody(version: version, arguments: arguments, length: Int(length), last: token == .doti)
                    continue
                }
                guard let length = try reader.readHeader(expecting: .doti) else { return nil }
                guard Int(length) <= limits.maxSourceLength else {
                    throw .overLimit(
                        what: "preprocessed source length (DOTI)", value: Int(length), limit: limits.maxSourceLength)
                }
                step = .dotiBody(version: version, arguments: arguments, length: Int(length))
            case .pieceBody(let version, let arguments, let length, let last):
                guard let body = reader.readBody(count: length), var source = streamed else { return nil }
                streamed = nil  // the text is appended to in place, not copied
                let token = last ? Token.doti : .dotc
                do {
                    source.text += try source.decompressor.decompress(body)
                    if last { try source.decompressor.finish() }
                } catch {
                    throw .badBody(token: token, reason: error.description)
                }
                source.compressedBytes += length
                guard last else {
                    streamed = source
                    step = .dotiHeader(version: version, arguments: arguments)
                    continue
                }
                step = .dist
                sourceNeeded = false
                return Request(version: version, arguments: arguments, source: source.text)
            case .digestBody(let version, let arguments):
                guard let digest = reader.readBody(count: Request.digestLength) else { return nil }
                step = .asked(version: version, arguments: arguments)
                return Request(version: version, arguments: arguments, source: [], sourceDigest: digest)
            case .asked: return nil
            case .dotiBody(let version, let arguments, let length):
                guard let body = reader.readBody(count: length) else { return nil }
                step = .dist
                let source = try BodyPacking.unpack(
                    body, version: version, token: .doti, limit: limits.maxSourceLength)
                return Request(version: version, arguments: arguments, source: source)
            }
        }
    }

    /// Arguments become exec() arguments on the server: they must be text without NUL bytes.
    private static func argument(_ body: [UInt8], index: Int) throws(WireError) -> String {
        if body.contains(0) { throw .badArgument(index: index, reason: "contains a NUL byte") }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw .badArgument(index: index, reason: "is not valid UTF-8")
        }
        return text
    }
}
