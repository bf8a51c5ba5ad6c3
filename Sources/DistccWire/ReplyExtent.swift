// Where a reply ends, found by walking its five frame headers (six in version 6; or the one `NEED` header that
// answers a version 7 question) and skipping the bodies: the mux daemon reads
// a reply in many small pieces and must know when it is whole without decompressing it on every read. The
// whole reply is then decoded once (ReplyDecoder), which checks everything this walk does not.

/// Follows one reply's frames as its bytes arrive; `consume` says when the reply is complete.
public struct ReplyExtent {
    public enum Progress: Equatable, Sendable {
        case needMore
        /// The reply ended `trailing` bytes before the end of the chunk just consumed (sshccd never sends
        /// more than the reply, so trailing bytes mean it is out of step).
        case complete(trailing: Int)
    }

    private static let order: [Token] = [.done, .stat, .serr, .sout, .doto, .load]
    /// Frames in this reply: five, six in version 6 (LOAD).
    private var frames = 5
    private var header: [UInt8] = []
    private var field = 0
    private var skip = 0
    public private(set) var total = 0
    /// The answer was `NEED` (version 7: the server has no result for the source's digest; send the source),
    /// a complete answer of one header.
    public private(set) var sourceNeeded = false
    public let limits: WireLimits

    public init(limits: WireLimits = .default) {
        self.limits = limits
        header.reserveCapacity(FrameHeader.size)
    }

    /// True before any byte of the reply arrived.
    public var isEmpty: Bool { total == 0 }

    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> Progress {
        var index = 0
        while index < bytes.count {
            guard field < frames else { return .complete(trailing: bytes.count - index) }
            if skip > 0 {
                let step = min(skip, bytes.count - index)
                skip -= step
                index += step
                total += step
                if skip == 0 { field += 1 }
                continue
            }
            header.append(bytes[index])
            index += 1
            total += 1
            if header.count == FrameHeader.size { try endHeader() }
        }
        return field == frames ? .complete(trailing: 0) : .needMore
    }

    public mutating func consume(_ bytes: [UInt8]) throws(WireError) -> Progress {
        let result: Result<Progress, WireError> = bytes.withUnsafeBytes { raw in
            do throws(WireError) { return .success(try consume(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private mutating func endHeader() throws(WireError) {
        if field == 0, header.starts(with: Token.need.bytes) {
            guard FrameHeader.value(header[4...]) == 0 else {
                throw .badParameter(token: .need, got: Array(header[4...]))
            }
            header.removeAll(keepingCapacity: true)
            (sourceNeeded, frames, field) = (true, 1, 1)
            return
        }
        let token = Self.order[field]
        guard header.starts(with: token.bytes) else { throw .unexpectedToken(expected: token, got: header) }
        guard let value = FrameHeader.value(header[4...]) else {
            throw .badParameter(token: token, got: Array(header[4...]))
        }
        header.removeAll(keepingCapacity: true)
        switch token {
        case .done:
            let version = DistccVersion(rawValue: value)
            guard limits.versions.contains(version) else {
                throw .unsupportedVersion(token: token, version: value, speaks: limits.versions)
            }
            frames = version.reportsLoad ? 6 : 5
            field += 1
        case .stat: field += 1
        default:
            let limit =
                token == .doto
                ? limits.maxObjectLength : token == .load ? limits.maxLoadLength : limits.maxMessageLength
            guard Int(value) <= limit else {
                throw .overLimit(what: "\(token.rawValue) length", value: Int(value), limit: limit)
            }
            skip = Int(value)
            if skip == 0 { field += 1 }
        }
    }
}
