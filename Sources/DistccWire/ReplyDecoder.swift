// Incremental decoding of replies, as a client reads them after sending a request.

/// Decodes one reply at a time; `next()` returns nil while more bytes are needed.
public struct ReplyDecoder {
    private enum Step {
        case done
        case stat(version: DistccVersion)
        case stringHeader(Reply, field: Field)
        case stringBody(Reply, field: Field, length: Int)
    }

    /// The string fields, in wire order (LOAD in version 6 only).
    private enum Field: CaseIterable {
        case serr, sout, doto, load
        var token: Token {
            switch self {
            case .serr: .serr
            case .sout: .sout
            case .doto: .doto
            case .load: .load
            }
        }
        func next(in version: DistccVersion) -> Field? {
            switch self {
            case .serr: .sout
            case .sout: .doto
            case .doto: version.reportsLoad ? .load : nil
            case .load: nil
            }
        }
    }

    private var reader = FrameReader()
    private var step = Step.done
    public let limits: WireLimits

    public init(limits: WireLimits = .default) { self.limits = limits }

    public mutating func append(_ bytes: some Sequence<UInt8>) { reader.append(bytes) }

    /// True before any byte of a reply has arrived.
    public var isAtBoundary: Bool {
        if case .done = step { return reader.bufferedCount == 0 }
        return false
    }

    public var expecting: String {
        switch step {
        case .done: "a reply (DONE)"
        case .stat: "the compiler status (STAT)"
        case .stringHeader(_, let field), .stringBody(_, let field, _): "the \(field.token.rawValue) frame"
        }
    }

    public func finish() throws(WireError) {
        guard isAtBoundary else { throw .truncated(expecting: expecting, bufferedBytes: reader.bufferedCount) }
    }

    private func limit(_ field: Field) -> Int {
        switch field {
        case .doto: limits.maxObjectLength
        case .load: limits.maxLoadLength
        case .serr, .sout: limits.maxMessageLength
        }
    }

    public mutating func next() throws(WireError) -> Reply? {
        while true {
            switch step {
            case .done:
                guard let raw = try reader.readHeader(expecting: .done) else { return nil }
                let version = DistccVersion(rawValue: raw)
                guard limits.versions.contains(version) else {
                    throw .unsupportedVersion(token: .done, version: raw, speaks: limits.versions)
                }
                step = .stat(version: version)
            case .stat(let version):
                guard let status = try reader.readHeader(expecting: .stat) else { return nil }
                step = .stringHeader(Reply(version: version, status: status), field: .serr)
            case .stringHeader(let reply, let field):
                guard let length = try reader.readHeader(expecting: field.token) else { return nil }
                let limit = limit(field)
                guard Int(length) <= limit else {
                    throw .overLimit(what: "\(field.token.rawValue) length", value: Int(length), limit: limit)
                }
                step = .stringBody(reply, field: field, length: Int(length))
            case .stringBody(var reply, let field, let length):
                guard let packed = reader.readBody(count: length) else { return nil }
                // LOAD is short text, never compressed.
                let body =
                    field == .load
                    ? Array(packed)
                    : try BodyPacking.unpack(packed, version: reply.version, token: field.token, limit: limit(field))
                switch field {
                case .serr: reply.stderr = body
                case .sout: reply.stdout = body
                case .doto: reply.object = body
                case .load: reply.load = body
                }
                guard let nextField = field.next(in: reply.version) else {
                    step = .done
                    return reply
                }
                step = .stringHeader(reply, field: nextField)
            }
        }
    }
}
