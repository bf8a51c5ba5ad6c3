// Incremental frame reading over a growing byte buffer: headers and bodies, nil for "need more bytes".
// It knows the frame layout but not which token comes when; the request/reply decoders hold that order.

/// A byte buffer that hands out distcc headers and bodies as soon as they are complete.
struct FrameReader {
    private var buffer: [UInt8] = []
    private var start = 0

    /// Bytes received and not yet consumed.
    var bufferedCount: Int { buffer.count - start }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// Reads a 12-byte header that must carry `expected`; nil until 12 bytes are buffered.
    mutating func readHeader(expecting expected: Token) throws(WireError) -> UInt32? {
        try readHeader(expectingOneOf: [expected])?.value
    }

    /// Reads a 12-byte header carrying one of `tokens` (the first is named in errors); nil until 12 bytes
    /// are buffered.
    mutating func readHeader(expectingOneOf tokens: [Token]) throws(WireError) -> (token: Token, value: UInt32)? {
        let expected = tokens[0]
        guard bufferedCount >= FrameHeader.size else {
            // Fail early on a wrong token prefix: garbage is reported without waiting for 12 bytes.
            let have = Array(buffer[start..<buffer.count])
            if !tokens.contains(where: { $0.bytes.starts(with: have.prefix(4)) }) {
                throw .unexpectedToken(expected: expected, got: have)
            }
            return nil
        }
        let tokenBytes = Array(buffer[start..<start + 4])
        guard let token = tokens.first(where: { $0.bytes == tokenBytes }) else {
            throw .unexpectedToken(expected: expected, got: Array(buffer[start..<start + FrameHeader.size]))
        }
        let digits = buffer[start + 4..<start + FrameHeader.size]
        guard let value = FrameHeader.value(digits) else { throw .badParameter(token: token, got: Array(digits)) }
        start += FrameHeader.size
        return (token, value)
    }

    /// Takes `count` body bytes once they are all buffered.
    mutating func readBody(count: Int) -> [UInt8]? {
        guard bufferedCount >= count else { return nil }
        let body = Array(buffer[start..<start + count])
        start += count
        return body
    }

    /// Drops consumed bytes once they dominate the buffer, so appends stay amortised O(n).
    private mutating func compactIfWorthIt() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
